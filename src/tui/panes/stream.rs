//! The stream pane: length, first and last ids, entries added, retention,
//! and sparklines of produced per second and acked per second by the group
//! the figure is about (named, as it is not the stream's).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Sparkline};

use crate::output::fmt;
use crate::tui::access::Needs;
use crate::tui::panes::{block, dim};
use crate::tui::state::State;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let b = block(format!(" Stream {} ", state.view.stream), None, state);
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let [facts, produced, acked] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(facts_lines(state)), facts);
    let r = &state.rates;
    // The acks are one group's (the lab's, else the one selected): the
    // label names it, so they never read as the stream's.
    let group = fmt::fit_name(crate::tui::derive::ack_group(state), 14);
    let labels = [
        format!("produced {}", fmt::rate(r.produced_per_s)),
        format!("acked by {group} {}", fmt::rate(r.acked_per_s)),
    ];
    let width = labels
        .iter()
        .map(|l| l.chars().count() + 1)
        .max()
        .unwrap_or(16);
    let width = u16::try_from(width).unwrap_or(16).max(16);
    spark(
        frame,
        produced,
        &labels[0],
        width,
        &r.produced,
        Color::Green,
    );
    spark(frame, acked, &labels[1], width, &r.acked, Color::Cyan);
}

fn facts_lines(state: &State) -> Vec<Line<'static>> {
    let Some(snap) = &state.snapshot else {
        return vec![Line::styled("waiting for the first poll…", dim())];
    };
    let Some(info) = &snap.stream else {
        let hint = if state.can(Needs::Lab) {
            "p or P adds entries (XADD creates the key)"
        } else {
            "it appears when a producer adds entries"
        };
        return vec![
            Line::raw("the stream does not exist yet"),
            Line::styled(hint, dim()),
        ];
    };
    let added = info.entries_added.map_or_else(|| "?".into(), fmt::count);
    let deleted = info
        .max_deleted_id
        .filter(|d| *d != crate::redis::EntryId::ZERO)
        .map_or_else(String::new, |d| format!("  deleted up to {d}"));
    vec![
        Line::raw(format!(
            "length {}  first {}  last {}",
            fmt::count(info.length),
            fmt::id(info.first_id),
            fmt::id(info.last_id)
        )),
        Line::raw(format!(
            "added {added}  retention none{}{deleted}",
            if state.can(Needs::Writes) {
                " (t trims)"
            } else {
                ""
            }
        )),
    ]
}

/// A label and a sparkline of the most recent samples that fit.
fn spark(
    frame: &mut Frame,
    area: Rect,
    label: &str,
    label_width: u16,
    history: &std::collections::VecDeque<u64>,
    color: Color,
) {
    let [l, s] =
        Layout::horizontal([Constraint::Length(label_width), Constraint::Fill(1)]).areas(area);
    frame.render_widget(Paragraph::new(label.to_owned()), l);
    let width = usize::from(s.width);
    let data: Vec<u64> = history
        .iter()
        .skip(history.len().saturating_sub(width))
        .copied()
        .collect();
    frame.render_widget(
        Sparkline::default()
            .data(&data)
            .style(Style::new().fg(color)),
        s,
    );
}
