//! The pending-entries pane: one page of the selected group's PEL (the
//! only page fetched), filtered by consumer (server side) and minimum idle
//! (client side), with entries near max deliveries highlighted and poison
//! entries (delivered `--poison-after` times or more) marked; the title
//! counts the poison the PEL walk found in the whole PEL.

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
        " Enter view · Space/* mark · a/c/R/d ack/claim/requeue/dead · ]/[ page · / filter "
    } else {
        " Enter view · ]/[ page · / filter "
    };
    let b = block(title(state), Some(Pane::Pending), state).title_bottom(Line::styled(keys, dim()));
    let Some(page) = state.group().and_then(|g| g.pel_page.as_ref()) else {
        let text = if state.group().is_some() {
            "loading…"
        } else if state.view.group.is_empty() {
            "no consumer group on this stream: nothing is pending"
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
    let limits = Limits {
        max: state.lab.max_deliveries,
        poison: state.thresholds.poison_after,
    };
    let consumer_width = usize::from(area.width.saturating_sub(2 + 1 + 17 + 6 + 9 + 4)).max(6);
    let marked: std::collections::HashSet<crate::redis::EntryId> =
        state.marked().iter().map(|p| p.id).collect();
    let deleted = state
        .group()
        .map_or(&[][..], |g| g.deleted_in_page.as_slice());
    let table_rows = rows.iter().enumerate().map(|(i, p)| {
        let look = Look {
            consumer_width,
            marked: marked.contains(&p.id),
            deleted: deleted.contains(&p.id),
        };
        let r = row(p, limits, look);
        if i == chosen {
            r.style(selected(state, Pane::Pending))
        } else {
            r
        }
    });
    let widths = [
        Constraint::Length(1),
        Constraint::Length(17),
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Length(9),
    ];
    let header = Row::new(["", "id", "consumer", "idle", "deliv"]).style(header_style());
    frame.render_widget(Table::new(table_rows, widths).header(header).block(b), area);
}

fn title(state: &State) -> String {
    if state.view.group.is_empty() {
        return " Pending: no group ".to_owned();
    }
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
    let marked = match state.marked().len() {
        0 => String::new(),
        n if state.view.marks.truncated => format!(", {n} marked (more matched)"),
        n => format!(", {n} marked"),
    };
    let deleted = match state.group().map_or(0, |g| g.deleted_in_page.len()) {
        0 => String::new(),
        n => format!(", {n} deleted on this page"),
    };
    format!(
        " Pending in {of}: {} total, page {}{filter}{}{deleted}{marked} ",
        fmt::count(total),
        state.view.pel_pages.len() + 1,
        poison_summary(state)
    )
}

/// `, 3 poison` (`3+ poison` until the walk has been through the PEL).
fn poison_summary(state: &State) -> String {
    let Some(scan) = state.group().and_then(|g| g.poison.as_ref()) else {
        return String::new();
    };
    let n = scan.poison.len();
    match (n, scan.complete) {
        (0, _) => String::new(),
        (n, true) => format!(", {n} poison"),
        (n, false) => format!(", {n}+ poison"),
    }
}

/// The delivery counts a row is judged by.
#[derive(Clone, Copy)]
struct Limits {
    /// The lab's dead-letter limit (`u64::MAX` in a watch: not known).
    max: u64,
    /// `--poison-after`.
    poison: u64,
}

/// How one row is drawn besides its figures.
#[derive(Clone, Copy)]
struct Look {
    consumer_width: usize,
    /// Picked for a bulk action.
    marked: bool,
    /// Its stream entry is gone (a dangling reference).
    deleted: bool,
}

/// Entries one delivery from dead-lettering are yellow; at or past it,
/// red; poison entries are marked (magenta unless already red); one whose
/// stream entry is gone says `deleted`, greyed.
fn row(p: &PendingEntry, limits: Limits, look: Look) -> Row<'static> {
    let poison = p.deliveries >= limits.poison;
    let style = if look.deleted {
        Style::new().fg(Color::DarkGray)
    } else if p.deliveries >= limits.max {
        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
    } else if poison {
        Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD)
    } else if p.deliveries.saturating_add(1) >= limits.max {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new()
    };
    let marker = if poison {
        " poison"
    } else if p.deliveries.saturating_add(1) >= limits.max {
        " !"
    } else {
        ""
    };
    let consumer = fmt::fit_name(&p.consumer, look.consumer_width);
    let consumer = if look.deleted {
        format!("{consumer} · deleted")
    } else {
        consumer
    };
    Row::new(vec![
        if look.marked { "●" } else { " " }.to_owned(),
        p.id.to_string(),
        consumer,
        fmt::age(p.idle_ms),
        format!("{}{marker}", p.deliveries),
    ])
    .style(style)
}
