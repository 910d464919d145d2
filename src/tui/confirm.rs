//! A confirmation before an action writes to Redis: the exact commands it
//! will send, what they do in words, and how to confirm. Actions that lose
//! data (trims, XGROUP DESTROY and SETID, deleting a consumer with its
//! pending entries) are confirmed by typing the stream's name, not by `y`:
//! a key pressed by habit must not drop a group.

use crate::supervisor::EngineCommand;
use crate::tui::state::{Mode, State};

#[derive(Debug, Clone, PartialEq)]
pub struct Confirmation {
    pub title: String,
    /// The commands it sends, in order, exactly as sent.
    pub commands: Vec<String>,
    /// What they do, in words.
    pub effects: Vec<String>,
    pub command: EngineCommand,
    /// `Some(text typed so far)` when the stream's name must be typed.
    pub typed: Option<String>,
    /// Why the name must be typed, as the box says it.
    pub typed_why: &'static str,
}

/// What a typed confirmation says unless told otherwise.
pub const LOSES_DATA: &str = "this loses data: type the stream's name to confirm";

impl Confirmation {
    /// Confirmed with `y`.
    pub fn plain(
        title: impl Into<String>,
        commands: Vec<String>,
        effects: Vec<String>,
        command: EngineCommand,
    ) -> Self {
        Self {
            title: title.into(),
            commands,
            effects,
            command,
            typed: None,
            typed_why: LOSES_DATA,
        }
    }

    /// Confirmed by typing the stream's name: it loses data.
    pub fn losing(
        title: impl Into<String>,
        commands: Vec<String>,
        effects: Vec<String>,
        command: EngineCommand,
    ) -> Self {
        Self {
            typed: Some(String::new()),
            ..Self::plain(title, commands, effects, command)
        }
    }

    /// Confirmed by typing the stream's name, for the reason `why` (a bulk
    /// action on many entries).
    pub fn typed(
        title: impl Into<String>,
        commands: Vec<String>,
        effects: Vec<String>,
        command: EngineCommand,
        why: &'static str,
    ) -> Self {
        Self {
            typed: Some(String::new()),
            typed_why: why,
            ..Self::plain(title, commands, effects, command)
        }
    }

    /// Whether the stream's name must be typed (the keys then type).
    pub fn loses_data(&self) -> bool {
        self.typed.is_some()
    }
}

/// Open `c` over the screen.
pub fn ask(state: &mut State, c: Confirmation) {
    state.view.mode = Mode::Confirm(c);
}

/// A character typed into a typed confirmation; false when none is open.
pub fn type_char(state: &mut State, ch: char) -> bool {
    match &mut state.view.mode {
        Mode::Confirm(Confirmation {
            typed: Some(text), ..
        }) => {
            if text.chars().count() < 256 {
                text.push(ch);
            }
            true
        }
        _ => false,
    }
}

pub fn backspace(state: &mut State) -> bool {
    match &mut state.view.mode {
        Mode::Confirm(Confirmation {
            typed: Some(text), ..
        }) => {
            text.pop();
            true
        }
        _ => false,
    }
}

/// Enter on a typed confirmation: the command when the stream's name was
/// typed exactly; otherwise it stays open and the status says why.
pub fn submit_typed(state: &mut State) -> Option<Vec<EngineCommand>> {
    let Mode::Confirm(c) = &state.view.mode else {
        return None;
    };
    let typed = c.typed.as_ref()?;
    if *typed == state.view.stream {
        let Mode::Confirm(c) = std::mem::take(&mut state.view.mode) else {
            return None;
        };
        return Some(vec![c.command]);
    }
    state.status = Some(format!(
        "type the stream's name '{}' exactly to confirm, or Esc to cancel",
        state.view.stream
    ));
    Some(Vec::new())
}
