//! In a watch, the box the lab gives its basic consumer says instead what
//! this console does and does not do to the server.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::access::{Access, Needs};
use crate::tui::hints::keys_needing;
use crate::tui::keymap::Scope;
use crate::tui::panes::{block, dim};
use crate::tui::state::State;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let b = block(format!(" {} ", state.access.label()), None, state);
    frame.render_widget(
        Paragraph::new(lines(state.access, state.watch_reason.as_deref()))
            .wrap(Wrap { trim: true })
            .block(b),
        area,
    );
}

fn lines(access: Access, reason: Option<&str>) -> Vec<Line<'static>> {
    let runs = Line::raw("no producer or worker runs, no offset is saved");
    if let (Access::Watch, Some(why)) = (access, reason) {
        // The dashboard fell back to a watch: why, in full (the header may cut it).
        return vec![
            Line::styled(format!("watch: {why}"), Style::new().fg(Color::Green)),
            Line::styled(
                "every writing command is refused before it is sent",
                Style::new().fg(Color::Green),
            ),
        ];
    }
    let writes = keys_needing(Needs::Writes, Scope::Normal);
    match access {
        Access::Lab => Vec::new(),
        Access::Watch => vec![
            runs,
            Line::styled(
                "every writing command is refused before it is sent",
                Style::new().fg(Color::Green),
            ),
            Line::styled(format!("{writes} need --allow-writes"), dim()),
        ],
        Access::WatchWrites => vec![
            runs,
            Line::styled(
                format!("{writes} act on Redis, each after a confirmation"),
                Style::new().fg(Color::Yellow),
            ),
        ],
    }
}
