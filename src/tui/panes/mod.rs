//! One file per pane; each draws from `&State` only, never computes rates
//! nor touches Redis.

pub mod access;
pub mod basic;
pub mod confirm;
pub mod consumers;
pub mod entries;
pub mod events;
pub mod groups;
pub mod header;
pub mod overlay;
pub mod overview;
pub mod partitions;
pub mod pending;
pub mod server;
pub mod stream;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType};

use crate::tui::state::{LogKind, Pane, State};

/// A pane's frame; the focused one stands out.
pub fn block<'a>(title: impl Into<Line<'a>>, pane: Option<Pane>, state: &State) -> Block<'a> {
    let focused = pane.is_some_and(|p| p == state.view.focus);
    let block = Block::bordered()
        .title(title)
        .title_style(Style::new().fg(Color::White).add_modifier(Modifier::BOLD));
    if focused {
        block
            .border_type(BorderType::Thick)
            .border_style(Style::new().fg(Color::Cyan))
    } else {
        block.border_style(Style::new().fg(Color::DarkGray))
    }
}

/// The highlight of a selected row: reversed when its pane has focus.
pub fn selected(state: &State, pane: Pane) -> Style {
    if state.view.focus == pane {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    }
}

/// A selected row where there is only one pane.
pub fn selected_style() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

pub fn header_style() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn log_style(kind: LogKind) -> Style {
    match kind {
        LogKind::Info => Style::new(),
        LogKind::Lifecycle => Style::new().fg(Color::Cyan),
        LogKind::Reclaim => Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
        LogKind::Dead => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        LogKind::Failure => Style::new().fg(Color::Red),
    }
}

#[cfg(test)]
mod confirm_tests;
#[cfg(test)]
mod entries_tests;
#[cfg(test)]
mod snapshot_tests;
