//! Moving between the screens: Enter on the overview opens a stream (the
//! stream screen starts afresh for it: no figures of another stream may
//! show), Esc on a stream goes back; and the overview's own keys (move,
//! page, sort, filter).

use std::sync::Arc;

use crate::supervisor::EngineCommand;
use crate::tui::action::Intent;
use crate::tui::state::{Mode, Prompt, Rates, Screen, State, View};

/// An intent on the overview screen (no overlay open); opening a stream
/// tells the engine which stream its one-shot commands now act on.
pub fn on_overview(state: &mut State, intent: Intent) -> Vec<EngineCommand> {
    let o = &mut state.overview;
    let page = isize::try_from(o.height.max(1)).unwrap_or(1);
    match intent {
        Intent::Up => o.step(-1),
        Intent::Down => o.step(1),
        Intent::PageUp => o.step(-page),
        Intent::PageDown => o.step(page),
        Intent::SortNext | Intent::SortPrev => {
            let by = if intent == Intent::SortNext {
                1
            } else {
                crate::tui::overview::SortBy::ORDER.len() - 1
            };
            o.sort = o.sort.step(by);
            o.arrange(state.now_ms);
            state.status = Some(format!("sorted by {}", state.overview.sort.label()));
        }
        Intent::Expand if !o.toggle(state.now_ms) => {
            state.status = Some("not a partitioned stream: nothing to expand".into());
        }
        Intent::Filter => {
            let text = o.filter.clone().unwrap_or_default();
            state.view.mode = Mode::Input {
                prompt: Prompt::StreamFilter,
                text,
            };
        }
        Intent::Close if o.filter.is_some() => set_filter(state, String::new()),
        Intent::View => match o.selected_row().map(|r| r.key.clone()) {
            Some(key) => {
                open(state, &key);
                return vec![EngineCommand::Focus(key.to_string())];
            }
            None => state.status = Some("no stream to open".into()),
        },
        _ => {}
    }
    Vec::new()
}

/// The `/` prompt's answer: a glob, or nothing to show every stream.
pub fn set_filter(state: &mut State, text: String) {
    let o = &mut state.overview;
    let text = text.trim().to_owned();
    o.filter = (!text.is_empty()).then_some(text);
    o.top = 0;
    o.arrange(state.now_ms);
    state.status = Some(match &state.overview.filter {
        Some(f) => format!("showing streams matching {f}"),
        None => "filter cleared: every stream".into(),
    });
}

/// Show `key` on the stream screen, starting from nothing.
pub fn open(state: &mut State, key: &Arc<str>) {
    let group = if *key.as_ref() == state.lab.stream {
        state.lab.group.clone()
    } else {
        // The first group the overview saw; the first poll corrects it.
        state
            .overview
            .selected_row()
            .and_then(|r| r.stats.as_ref())
            .and_then(|s| s.groups.first())
            .map(|g| g.name.clone())
            .unwrap_or_default()
    };
    state.view = View {
        stream: key.to_string(),
        group,
        mode: Mode::Normal,
        size: state.view.size,
        pel_rows: state.view.pel_rows,
        ..View::default()
    };
    state.snapshot = None;
    state.partitions.clear();
    state.previous = None;
    state.rates = Rates::default();
    state.trends.clear();
    state.claimed_by_hand.clear();
    state.screen = Screen::Stream;
    state.status = Some(format!("{key}: Esc goes back to all streams"));
}

/// Back to the overview from a stream.
pub fn back(state: &mut State) {
    state.screen = Screen::Overview;
    state.status = None;
}
