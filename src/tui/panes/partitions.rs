//! The partitions pane (a partitioned stream only): one row per partition
//! key with its node, length and the selected group's figures there; the
//! selected row is the partition whose PEL is shown (`<` `>` move it).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Row, Table};

use crate::monitor::partitioned::PartitionRow;
use crate::output::fmt;
use crate::tui::panes::{block, header_style, selected_style};
use crate::tui::state::State;

/// Rows shown at once; more scroll with the selection.
pub const VISIBLE: usize = 3;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let n = state.partitions.len();
    let title = format!(" Partitions ({n}, totals above; < > select) ");
    let selected = state.view.partition.min(n.saturating_sub(1));
    let top = selected.saturating_sub(VISIBLE - 1);
    let rows = state
        .partitions
        .iter()
        .enumerate()
        .skip(top)
        .take(VISIBLE)
        .map(|(i, p)| {
            let style = if i == selected {
                selected_style()
            } else {
                Style::new()
            };
            row(p, &state.view.group).style(style)
        });
    let widths = [
        Constraint::Fill(2),
        Constraint::Length(22),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(9),
    ];
    let header = Row::new(["partition", "node", "length", "pending", "lag", "consumers"])
        .style(header_style());
    let table = Table::new(rows, widths)
        .header(header)
        .block(block(title, None, state));
    frame.render_widget(table, area);
}

fn row(p: &PartitionRow, group: &str) -> Row<'static> {
    let snap = &p.snapshot;
    let length = snap
        .stream
        .as_ref()
        .map_or_else(|| "missing".to_owned(), |s| fmt::count(s.length));
    let g = snap.group(group);
    let pending = g.map_or_else(
        || "-".to_owned(),
        |g| fmt::count(g.pending.count.max(g.info.pending)),
    );
    let lag = match g {
        Some(g) => g.info.lag.map_or_else(|| "unknown".to_owned(), fmt::count),
        None => "-".to_owned(),
    };
    let consumers = g.map_or_else(|| "-".to_owned(), |g| g.consumers.len().to_string());
    Row::new(vec![
        p.key.clone(),
        p.node.clone().unwrap_or_else(|| "?".into()),
        length,
        pending,
        lag,
        consumers,
    ])
}

#[cfg(test)]
#[path = "partitions_tests.rs"]
mod tests;
