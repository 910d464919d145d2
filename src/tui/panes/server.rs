//! The server overlay (`i`): which server this is, which stream features
//! it lacks and what streamlab does instead, its memory, and the
//! queue-safety advice from INFO, warnings first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::monitor::advice::Level;
use crate::redis::Feature;
use crate::tui::panes::dim;
use crate::tui::state::State;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let lines = lines(state);
    let height = u16::try_from(lines.len()).unwrap_or(30).saturating_add(6);
    let inner = super::overlay::framed(
        frame,
        area,
        (96, height),
        "Server (Esc closes)",
        Color::Cyan,
    );
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn lines(state: &State) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    match &state.server {
        Some(server) => {
            out.push(Line::raw(format!("{server} ({})", server.mode.as_str())));
            for why in Feature::ALL.iter().filter_map(|f| server.missing(*f)) {
                out.push(Line::styled(format!("  {why}"), dim()));
            }
        }
        None => out.push(Line::styled("server not probed yet", dim())),
    }
    let Some(health) = &state.health else {
        out.push(Line::styled(
            "no INFO yet (or the ACL refuses INFO): no memory figures or advice",
            dim(),
        ));
        return out;
    };
    if let Some(memory) = &health.memory {
        out.push(Line::raw(format!("memory: {}", memory.describe())));
    }
    if health.advice.is_empty() {
        out.push(Line::raw(
            "advice: none, nothing INFO shows puts a queue at risk",
        ));
    }
    for a in &health.advice {
        let (word, color) = match a.level {
            Level::Warn => ("warn", Color::Yellow),
            Level::Info => ("info", Color::Gray),
        };
        out.push(Line::from(vec![
            Span::styled(format!("{word} {:<12}", a.topic), Style::new().fg(color)),
            Span::raw(a.message.clone()),
        ]));
    }
    out
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
