//! The basic consumer pane: its offset (saved under `<stream>:offset:<name>`)
//! and how far behind the end of the stream it is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::engine::offset_key;
use crate::output::fmt;
use crate::tui::panes::{block, dim};
use crate::tui::state::State;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let b = block(" Basic consumer (XREAD) ", None, state);
    frame.render_widget(Paragraph::new(lines(state)).block(b), area);
}

fn lines(state: &State) -> Vec<Line<'static>> {
    let Some(basic) = &state.roster.basic else {
        return vec![Line::styled("not running", dim())];
    };
    let key = match state.partitions.len() {
        0 => offset_key(&state.lab.stream, &basic.name),
        _ => offset_key("<partition>", &basic.name),
    };
    let Some(offset) = basic.offset else {
        return vec![Line::raw(format!(
            "{} starting (resumes from {key})",
            basic.name
        ))];
    };
    vec![
        Line::from(vec![
            Span::raw(format!("{} ", basic.name)),
            Span::styled(format!("saves to {key}"), dim()),
        ]),
        Line::raw(format!("offset {offset}")),
        behind(state, offset),
        Line::raw(format!(
            "read {} ({})",
            fmt::count(basic.read),
            fmt::rate(state.rates.basic_per_s)
        )),
    ]
}

/// Behind the end by id time: the ids carry their timestamps, so this
/// costs no command (an entry count would need a range scan).
fn behind(state: &State, offset: crate::redis::EntryId) -> Line<'static> {
    let last = state
        .snapshot
        .as_ref()
        .and_then(|s| s.stream.as_ref())
        .and_then(|i| i.last_generated_id.or(i.last_id));
    match last {
        Some(last) if last > offset => Line::styled(
            format!(
                "behind {} (end {last})",
                fmt::age(last.ms.saturating_sub(offset.ms))
            ),
            Style::new().fg(Color::Yellow),
        ),
        Some(_) => Line::styled("caught up with the end", Style::new().fg(Color::Green)),
        None => Line::styled("the stream is empty", dim()),
    }
}
