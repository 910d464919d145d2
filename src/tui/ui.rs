//! `render(&State)`: lays the panes out and draws them, then any overlay.
//! Never awaits, never queries Redis; a terminal too small gets a message.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::access::{Access, Needs, Unmet, unmet};
use crate::tui::hints;
use crate::tui::keymap::Scope;
use crate::tui::layout::{
    MIN_HEIGHT, MIN_WIDTH, areas, entries_areas, group_rows, overview_areas, partition_rows,
    too_small,
};
use crate::tui::panes::{self, dim};
use crate::tui::state::{Mode, Screen, State};

pub fn render(frame: &mut Frame, state: &State) {
    let area = frame.area();
    if too_small(area) {
        let text = format!(
            "terminal too small: {}x{}, the dashboard needs at least {MIN_WIDTH}x{MIN_HEIGHT} (q quits)",
            area.width, area.height
        );
        let p = Paragraph::new(text).wrap(Wrap { trim: true });
        frame.render_widget(p, area.centered_vertically(Constraint::Length(3)));
        return;
    }
    if state.screen == Screen::Overview {
        let [header, table, footer_area] = overview_areas(area);
        panes::overview::header(frame, header, state);
        panes::overview::render(frame, table, state);
        footer(frame, footer_area, state);
        panes::overlay::render(frame, area, state);
        return;
    }
    if state.screen == Screen::Entries {
        let [header, table, footer_area] = entries_areas(area);
        panes::header::render(frame, header, state);
        panes::entries::render(frame, table, state);
        footer(frame, footer_area, state);
        panes::overlay::render(frame, area, state);
        return;
    }
    let a = areas(area, group_rows(state), partition_rows(state));
    panes::header::render(frame, a.header, state);
    panes::stream::render(frame, a.stream, state);
    if state.access == Access::Lab && state.on_lab_stream() {
        panes::basic::render(frame, a.basic, state);
    } else {
        panes::access::render(frame, a.basic, state);
    }
    panes::groups::render(frame, a.groups, state);
    if !state.partitions.is_empty() {
        panes::partitions::render(frame, a.partitions, state);
    }
    panes::consumers::render(frame, a.consumers, state);
    panes::pending::render(frame, a.pending, state);
    panes::events::render(frame, a.events, state);
    footer(frame, a.footer, state);
    panes::overlay::render(frame, area, state);
}

fn footer(frame: &mut Frame, area: Rect, state: &State) {
    let status = state.status.clone().unwrap_or_default();
    let room = usize::from(area.width).saturating_sub(1);
    // The last outcome matters more than the hints: they give way when
    // both do not fit, and only a status longer than the line is cut.
    let wide = if area.width >= 110 {
        footer_hints(state)
    } else {
        vec![Span::styled(" │ ? keys · q quit ", dim())]
    };
    let width = |spans: &[Span]| {
        spans
            .iter()
            .map(|s| s.content.chars().count())
            .sum::<usize>()
    };
    let hints = if status.chars().count() + width(&wide) <= room {
        wide
    } else {
        Vec::new()
    };
    let hints_width = u16::try_from(width(&hints)).unwrap_or(u16::MAX);
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(hints_width)]).areas(area);
    let shown = crate::output::fmt::cut(&status, usize::from(left.width).saturating_sub(1));
    frame.render_widget(
        Line::from(vec![
            Span::raw(" "),
            Span::styled(shown, Style::new().fg(Color::Cyan)),
        ]),
        left,
    );
    frame.render_widget(Line::from(hints), right);
}

/// The footer's key hints from the keymap: the ones that work here, then
/// the ones that do not, grouped by what they need.
fn footer_hints(state: &State) -> Vec<Span<'static>> {
    // The screen's own keys, whichever overlay is open.
    let scope = Scope::of(&Mode::Normal, state.screen);
    let mut usable = Vec::new();
    let mut unusable: BTreeMap<Unmet, Vec<String>> = BTreeMap::new();
    for (intents, word) in hints::footer(state.access, state.screen) {
        let keys = hints::hint_keys(intents, scope);
        let needs = intents.first().map_or(Needs::Nothing, |i| hints::needs(*i));
        match unmet(needs, state) {
            None => usable.push(format!("{keys} {word}")),
            Some(why) => unusable.entry(why).or_default().push(keys),
        }
    }
    let mut spans = vec![Span::styled(format!(" │ {} ", usable.join(" · ")), dim())];
    for (why, keys) in unusable {
        spans.push(Span::styled(
            format!("· {} {} ", keys.join("/"), why.footer()),
            Style::new().fg(Color::Red),
        ));
    }
    spans
}
