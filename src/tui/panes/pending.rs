//! The pending-entries pane: one page of the selected group's PEL (the
//! only page fetched), filtered by consumer (server side) and minimum idle
//! (client side), with entries near max deliveries highlighted.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table};

use crate::output::fmt;
use crate::redis::PendingEntry;
use crate::tui::access::Needs;
use crate::tui::panes::{block, dim, header_style, selected};
use crate::tui::state::{Pane, State};

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let keys = if state.can(Needs::Writes) {
        " Enter view · a/c/d ack/claim/dead · ]/[ page · / filter "
    } else {
        " Enter view · ]/[ page · / filter "
    };
    let b = block(title(state), Some(Pane::Pending), state).title_bottom(Line::styled(keys, dim()));
    let Some(page) = state.group().and_then(|g| g.pel_page.as_ref()) else {
        let text = if state.group().is_some() {
            "loading…"
        } else {
            "no such group"
        };
        frame.render_widget(Paragraph::new(text).style(dim()).block(b), area);
        return;
    };
    let rows = state.pel_rows();
    if rows.is_empty() {
        let text = if page.is_empty() && state.view.pel_pages.is_empty() {
            "no pending entries: every delivered entry is acked"
        } else {
            "no entry on this page matches the filter"
        };
        frame.render_widget(Paragraph::new(text).style(dim()).block(b), area);
        return;
    }
    let chosen = state.view.pel_row.min(rows.len() - 1);
    let max = state.lab.max_deliveries;
    let deleted = state
        .group()
        .map_or(&[][..], |g| g.deleted_in_page.as_slice());
    let table_rows = rows.iter().enumerate().map(|(i, p)| {
        let r = row(p, max, deleted.contains(&p.id));
        if i == chosen {
            r.style(selected(state, Pane::Pending))
        } else {
            r
        }
    });
    let widths = [
        Constraint::Length(17),
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Length(6),
    ];
    let header = Row::new(["id", "consumer", "idle", "deliv"]).style(header_style());
    frame.render_widget(Table::new(table_rows, widths).header(header).block(b), area);
}

fn title(state: &State) -> String {
    let mut total = state.group().map_or(0, |g| g.pending.count);
    let mut of = state.view.group.clone();
    // A partitioned stream's page comes from the selected partition.
    if let Some(row) = state.partitions.get(state.view.partition) {
        let group = row.snapshot.group(&state.view.group);
        total = group.map_or(0, |g| g.pending.count);
        of = format!("{of} on {}", row.key);
    }
    let f = &state.view.filter;
    let mut filter = Vec::new();
    if let Some(c) = &f.consumer {
        filter.push(format!("consumer {c}"));
    }
    if let Some(ms) = f.min_idle_ms {
        filter.push(format!("idle ≥ {}", fmt::age(ms)));
    }
    let filter = if filter.is_empty() {
        String::new()
    } else {
        format!(", {}", filter.join(", "))
    };
    let deleted = match state.group().map_or(0, |g| g.deleted_in_page.len()) {
        0 => String::new(),
        n => format!(", {n} deleted on this page"),
    };
    format!(
        " Pending in {of}: {} total, page {}{filter}{deleted} ",
        fmt::count(total),
        state.view.pel_pages.len() + 1
    )
}

/// Entries one delivery from dead-lettering are yellow; at or past it, red.
/// One whose stream entry is gone (a dangling reference) says `deleted`.
fn row(p: &PendingEntry, max: u64, deleted: bool) -> Row<'static> {
    let style = if deleted {
        Style::new().fg(Color::DarkGray)
    } else if p.deliveries >= max {
        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
    } else if p.deliveries + 1 >= max {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new()
    };
    let marker = if p.deliveries + 1 >= max { " !" } else { "" };
    let consumer = if deleted {
        format!("{} · deleted", p.consumer)
    } else {
        p.consumer.clone()
    };
    Row::new(vec![
        p.id.to_string(),
        consumer,
        fmt::age(p.idle_ms),
        format!("{}{marker}", p.deliveries),
    ])
    .style(style)
}
