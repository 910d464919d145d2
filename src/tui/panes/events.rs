//! The event log pane: newest first, coloured by kind (reclaims, dead
//! letters, failures, lifecycle), scrollable when focused.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::output::fmt;
use crate::tui::panes::{block, dim, log_style};
use crate::tui::state::{Pane, State};

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let scrolled = if state.view.log_scroll > 0 {
        format!(", {} newer above", state.view.log_scroll)
    } else {
        String::new()
    };
    let b = block(
        format!(" Events (newest first{scrolled}) "),
        Some(Pane::Events),
        state,
    );
    let height = usize::from(area.height.saturating_sub(2));
    let lines: Vec<Line> = state
        .log
        .iter()
        .skip(state.view.log_scroll)
        .take(height)
        .map(|l| {
            Line::from(vec![
                Span::styled(format!("{} ", fmt::clock(l.at_ms)), dim()),
                Span::styled(l.text.clone(), log_style(l.kind)),
                if l.repeats > 0 {
                    Span::styled(format!("  (×{} more like it)", l.repeats), dim())
                } else {
                    Span::raw("")
                },
            ])
        })
        .collect();
    let p = if lines.is_empty() {
        Paragraph::new("nothing yet").style(dim())
    } else {
        Paragraph::new(lines)
    };
    frame.render_widget(p.block(b), area);
}
