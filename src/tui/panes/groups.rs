//! The groups pane: one row per consumer group with what XINFO GROUPS and
//! the XPENDING summary report, plus lags read from entry ids.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table};

use crate::monitor::GroupSnapshot;
use crate::monitor::snapshot::lag_unknown_reason;
use crate::tui::access::Needs;
use crate::tui::fmt;
use crate::tui::panes::{block, dim, header_style, selected};
use crate::tui::state::{Pane, State};

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let omitted = state.snapshot.as_ref().map_or(0, |s| s.groups_omitted);
    let title = if omitted > 0 {
        format!(" Groups (+{omitted} more not polled) ")
    } else {
        " Groups ".to_owned()
    };
    let mut b = block(title, Some(Pane::Groups), state);
    let groups = state
        .snapshot
        .as_ref()
        .map(|s| s.groups.as_slice())
        .unwrap_or_default();
    if groups.is_empty() {
        let text = if state.can(Needs::Lab) {
            format!(
                "no consumer groups yet: w spawns a worker, which creates '{}'",
                state.lab.group
            )
        } else {
            "no consumer groups on this stream".to_owned()
        };
        frame.render_widget(Paragraph::new(text).style(dim()).block(b), area);
        return;
    }
    if groups
        .iter()
        .any(|g| g.info.lag.is_none() || g.info.entries_read.is_none())
    {
        // Why it can be unknown, on the pane's bottom border.
        let why = format!(" * unknown: {} ", lag_unknown_reason(state.server.as_ref()));
        b = b.title_bottom(Line::styled(why, Style::new().fg(Color::Yellow)));
    }
    frame.render_widget(table(groups, state).block(b), area);
}

fn table<'a>(groups: &'a [GroupSnapshot], state: &'a State) -> Table<'a> {
    let rows = groups.iter().map(|g| {
        let style = if g.info.name == state.view.group {
            selected(state, Pane::Groups)
        } else {
            Style::new()
        };
        row(g, state.now_ms).style(style)
    });
    let widths = [
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(17),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Fill(1),
    ];
    let header = Row::new([
        "group",
        "consumers",
        "pending",
        "last delivered",
        "read",
        "lag",
        "time lag",
        "oldest pending",
    ])
    .style(header_style());
    Table::new(rows, widths).header(header)
}

fn row(g: &GroupSnapshot, now_ms: u64) -> Row<'static> {
    let lag = g.info.lag.map_or_else(|| "unknown*".to_owned(), fmt::count);
    let read = g
        .info
        .entries_read
        .map_or_else(|| "unknown*".to_owned(), fmt::count);
    let time_lag = g
        .time_lag_ms(now_ms)
        .map_or_else(|| "none".to_owned(), fmt::age);
    let oldest = match (g.oldest_pending_age_ms(now_ms), &g.oldest_pending) {
        (Some(age), Some(p)) => format!(
            "{} old, idle {} ({})",
            fmt::age(age),
            fmt::age(p.idle_ms),
            p.consumer
        ),
        (Some(age), None) => format!("{} old", fmt::age(age)),
        _ => "none".to_owned(),
    };
    Row::new(vec![
        g.info.name.clone(),
        g.consumers.len().to_string(),
        fmt::count(g.pending.count.max(g.info.pending)),
        fmt::id(g.info.last_delivered_id),
        read,
        lag,
        time_lag,
        oldest,
    ])
}
