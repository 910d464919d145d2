//! `update`: the only place the state changes. Pure and synchronous: it
//! never awaits and never talks to Redis; what should happen in the engine
//! is returned as [`EngineCommand`]s for the loop to hand to the supervisor.

use crate::supervisor::{EngineCommand, PendingOfDeleted};
use crate::tui::access::{Unmet, unmet};
use crate::tui::action::{Action, Intent};
use crate::tui::hints;
use crate::tui::keymap::{self, Scope};
use crate::tui::state::{Mode, Screen, State};
use crate::tui::{
    confirm, derive, engine_intents, entries, entry_view, layout, log, navigate, partitions,
    reclaims, screens,
};

pub fn update(state: &mut State, action: Action) -> Vec<EngineCommand> {
    match action {
        Action::Key(intent) => return on_intent(state, intent),
        Action::Char(c) => {
            if let Mode::Input { text, .. } = &mut state.view.mode
                && text.chars().count() < 64
            {
                text.push(c);
            } else {
                confirm::type_char(state, c);
            }
        }
        Action::Poll {
            poll,
            roster,
            now_ms,
        } => {
            log::on_roster(state, roster, now_ms);
            derive::on_poll(state, poll, now_ms);
            fit_page(state);
            let mut commands = partitions::focus_commands(state);
            commands.extend(entries::on_poll(state));
            return commands;
        }
        Action::Overview { poll, now_ms } => {
            state.now_ms = now_ms;
            state.overview.on_poll(poll, now_ms);
        }
        Action::Engine { event, at_ms } => log::on_event(state, &event, at_ms),
        Action::Outcome { outcome, at_ms } => return log::on_outcome(state, outcome, at_ms),
        Action::Tick { now_ms, roster } => {
            state.now_ms = now_ms;
            log::on_roster(state, roster, now_ms);
        }
        Action::Resize { width, height } => {
            state.view.size = (width, height);
            fit_page(state);
        }
    }
    Vec::new()
}

/// The PEL page size follows the pane's height (which also depends on how
/// many groups are shown).
fn fit_page(state: &mut State) {
    let (w, h) = state.view.size;
    if w > 0 && h > 0 {
        state.view.pel_rows = layout::pel_rows(w, h, state);
        state.overview.set_height(layout::overview_rows(h));
        state.entries.height = layout::entries_rows(h);
    }
}

fn on_intent(state: &mut State, intent: Intent) -> Vec<EngineCommand> {
    if let Some(why) = unmet(hints::needs(intent), state) {
        state.status = Some(refusal(state, intent, why));
        return Vec::new();
    }
    let global = matches!(intent, Intent::Quit | Intent::Help | Intent::ServerInfo);
    if state.screen == Screen::Overview && state.view.mode == Mode::Normal && !global {
        return screens::on_overview(state, intent);
    }
    if state.screen == Screen::Entries && state.view.mode == Mode::Normal && !global {
        return entries::on_intent(state, intent);
    }
    if matches!(state.view.mode, Mode::Entry(_)) && entry_view::on_intent(state, intent) {
        return Vec::new();
    }
    match intent {
        Intent::Quit => state.quit = true,
        Intent::Help => state.view.mode = Mode::Help,
        Intent::ServerInfo => state.view.mode = Mode::Server,
        Intent::Close => close(state),
        Intent::Yes => return confirm(state),
        Intent::No => {
            state.view.mode = Mode::Normal;
            state.status = Some("cancelled".into());
        }
        Intent::Submit => {
            let commands =
                confirm::submit_typed(state).unwrap_or_else(|| engine_intents::submit(state));
            for c in &commands {
                expect_own_moves(state, c);
            }
            return commands;
        }
        Intent::Backspace => {
            if let Mode::Input { text, .. } = &mut state.view.mode {
                text.pop();
            } else {
                confirm::backspace(state);
            }
        }
        Intent::FocusNext
        | Intent::FocusPrev
        | Intent::Up
        | Intent::Down
        | Intent::PageUp
        | Intent::PageDown => navigate::on_intent(state, intent),
        Intent::Entries => return entries::open(state),
        Intent::NextPartition => return partitions::step(state, 1),
        Intent::PrevPartition => return partitions::step(state, -1),
        other => return engine_intents::on_intent(state, other),
    }
    Vec::new()
}

/// What the status line says about a key that cannot act here.
fn refusal(state: &State, intent: Intent, why: Unmet) -> String {
    let scope = Scope::of(&state.view.mode, state.screen);
    let (keys, what) = hints::binding(intent, scope).map_or_else(
        || (format!("{intent:?}"), "this"),
        |b| {
            let keys: Vec<String> = b.keys.iter().map(|k| keymap::label(*k)).collect();
            (keys.join("/"), b.help)
        },
    );
    why.explain(&keys, what, state)
}

fn close(state: &mut State) {
    match state.view.mode {
        Mode::Normal => {
            if !state.marked().is_empty() {
                state.view.marks = crate::tui::state::Marks::default();
                state.status = Some("marks cleared".into());
            } else if state.view.filter != Default::default() {
                navigate::set_filter(state, Default::default());
                state.status = Some("PEL filter cleared".into());
            } else {
                screens::back(state);
            }
        }
        Mode::Confirm(_) => {
            state.view.mode = Mode::Normal;
            state.status = Some("cancelled".into());
        }
        _ => state.view.mode = Mode::Normal,
    }
}

fn confirm(state: &mut State) -> Vec<EngineCommand> {
    let command = match std::mem::take(&mut state.view.mode) {
        Mode::Confirm(c) if !c.loses_data() => c.command,
        // Only typing the stream's name confirms a data-losing action.
        other => {
            state.view.mode = other;
            return Vec::new();
        }
    };
    expect_own_moves(state, &command);
    vec![command]
}

/// Our own XCLAIMs must not come back as inferred reclaims.
fn expect_own_moves(state: &mut State, command: &EngineCommand) {
    match command {
        EngineCommand::Claim { id, to, .. } => {
            if state.claimed_by_hand.len() > 1000 {
                state.claimed_by_hand.clear();
            }
            state.claimed_by_hand.insert(*id);
            reclaims::expect(state, to, 1);
        }
        EngineCommand::DeleteConsumer {
            group,
            consumer,
            pending: PendingOfDeleted::ClaimTo(to),
        } => {
            let held = state
                .snapshot
                .as_ref()
                .and_then(|s| s.group(group))
                .and_then(|g| g.consumers.iter().find(|c| c.name == *consumer))
                .map_or(0, |c| c.pending);
            reclaims::expect(state, to, held);
        }
        EngineCommand::Repair {
            repair: crate::engine::repair::Repair::Claim { to, .. },
            entries,
            ..
        } => reclaims::expect(state, to, entries.len() as u64),
        _ => {}
    }
}

/// Keys and typed text as the tests of `update` and the admin actions send them.
#[cfg(test)]
pub(crate) mod press {
    use super::update;
    use crate::supervisor::EngineCommand;
    use crate::tui::action::{Action, Intent};
    use crate::tui::state::State;

    pub(crate) fn key(state: &mut State, intent: Intent) -> Vec<EngineCommand> {
        update(state, Action::Key(intent))
    }

    /// The status line, empty when there is none.
    pub(crate) fn status(state: &State) -> &str {
        state.status.as_deref().unwrap_or_default()
    }

    pub(crate) fn typed(state: &mut State, text: &str) {
        for c in text.chars() {
            update(state, Action::Char(c));
        }
    }
}

#[cfg(test)]
#[path = "update_tests.rs"]
mod tests;
