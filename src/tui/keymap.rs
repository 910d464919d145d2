//! The one key table: which key means what in which mode. Key handling
//! and the `?` help overlay are both generated from it, so they cannot
//! disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::tui::action::{Action, Intent};
use crate::tui::state::Mode;

/// Which modes a binding applies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Any,
    Normal,
    Help,
    Input,
    Confirm,
    Entry,
}

impl Scope {
    fn of(mode: &Mode) -> Self {
        match mode {
            Mode::Normal => Self::Normal,
            Mode::Help => Self::Help,
            Mode::Input { .. } => Self::Input,
            Mode::Confirm { .. } => Self::Confirm,
            Mode::Entry { .. } => Self::Entry,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn ch(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

const fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [Key],
    pub intent: Intent,
    pub help: &'static str,
}

const fn bind(scope: Scope, keys: &'static [Key], intent: Intent, help: &'static str) -> Binding {
    Binding {
        scope,
        keys,
        intent,
        help,
    }
}

use KeyCode::{BackTab, Backspace, Down, Enter, Esc, PageDown, PageUp, Tab, Up};
use Scope::{Any, Confirm, Entry, Help, Input, Normal};

/// Every binding. Order is the order of the help overlay.
pub const BINDINGS: &[Binding] = &[
    bind(Any, &[ctrl('c')], Intent::Quit, "quit"),
    bind(Normal, &[ch('q')], Intent::Quit, "quit"),
    bind(Normal, &[ch('?')], Intent::Help, "this help"),
    bind(
        Normal,
        &[ch('p')],
        Intent::EnqueueOne,
        "enqueue one task (XADD)",
    ),
    bind(
        Normal,
        &[ch('P')],
        Intent::EnqueueBurst,
        "enqueue a burst of 100",
    ),
    bind(
        Normal,
        &[ch('r')],
        Intent::ToggleProduction,
        "start/stop continuous production",
    ),
    bind(
        Normal,
        &[ch('+'), ch('=')],
        Intent::RateUp,
        "raise the production rate",
    ),
    bind(
        Normal,
        &[ch('-')],
        Intent::RateDown,
        "lower the production rate",
    ),
    bind(Normal, &[ch('w')], Intent::Spawn, "spawn a worker"),
    bind(
        Normal,
        &[ch('x')],
        Intent::Kill,
        "kill the selected worker (crash: its entries stay pending)",
    ),
    bind(
        Normal,
        &[ch('s')],
        Intent::Stop,
        "stop the selected worker gracefully",
    ),
    bind(
        Normal,
        &[ch('f')],
        Intent::CycleMode,
        "cycle the selected worker: normal / slow / failing",
    ),
    bind(
        Normal,
        &[ch('t')],
        Intent::Trim,
        "trim the stream (asks MAXLEN, then confirms)",
    ),
    bind(
        Normal,
        &[ch('a')],
        Intent::Ack,
        "ack the selected pending entry (confirms)",
    ),
    bind(
        Normal,
        &[ch('c')],
        Intent::Claim,
        "claim it to another consumer (confirms)",
    ),
    bind(
        Normal,
        &[ch('d')],
        Intent::DeadLetter,
        "dead-letter it (confirms)",
    ),
    bind(
        Normal,
        &[code(Enter)],
        Intent::View,
        "view the selected pending entry",
    ),
    bind(Normal, &[code(Tab)], Intent::FocusNext, "next pane"),
    bind(Normal, &[code(BackTab)], Intent::FocusPrev, "previous pane"),
    bind(Normal, &[ch('j'), code(Down)], Intent::Down, "move down"),
    bind(Normal, &[ch('k'), code(Up)], Intent::Up, "move up"),
    bind(
        Normal,
        &[code(PageDown), ch(']')],
        Intent::PageDown,
        "next PEL page",
    ),
    bind(
        Normal,
        &[code(PageUp), ch('[')],
        Intent::PageUp,
        "previous PEL page",
    ),
    bind(
        Normal,
        &[ch('/')],
        Intent::Filter,
        "filter the PEL: consumer and/or min idle (w1 5s)",
    ),
    bind(Normal, &[code(Esc)], Intent::Close, "clear the PEL filter"),
    bind(Help, &[code(Esc), ch('?'), ch('q')], Intent::Close, "close"),
    bind(Input, &[code(Enter)], Intent::Submit, "accept"),
    bind(Input, &[code(Esc)], Intent::Close, "cancel"),
    bind(
        Input,
        &[code(Backspace)],
        Intent::Backspace,
        "delete a character",
    ),
    bind(Confirm, &[ch('y'), code(Enter)], Intent::Yes, "confirm"),
    bind(Confirm, &[ch('n'), code(Esc)], Intent::No, "cancel"),
    bind(
        Entry,
        &[code(Esc), code(Enter), ch('q')],
        Intent::Close,
        "close",
    ),
];

fn matches(key: Key, event: &KeyEvent) -> bool {
    // Shift is part of the character ('P', '?', '+') or of BackTab.
    let mods = event.modifiers - KeyModifiers::SHIFT;
    let wanted = if key.ctrl {
        KeyModifiers::CONTROL
    } else {
        KeyModifiers::NONE
    };
    key.code == event.code && mods == wanted
}

/// What a key press means in `mode`; in a prompt, other characters type.
pub fn lookup(mode: &Mode, event: &KeyEvent) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let scope = Scope::of(mode);
    let found = BINDINGS
        .iter()
        .filter(|b| b.scope == scope || b.scope == Scope::Any)
        .find(|b| b.keys.iter().any(|k| matches(*k, event)));
    match (found, scope, event.code) {
        (Some(b), _, _) => Some(Action::Key(b.intent)),
        (None, Scope::Input, KeyCode::Char(c))
            if !event.modifiers.contains(KeyModifiers::CONTROL) =>
        {
            Some(Action::Char(c))
        }
        _ => None,
    }
}

/// How a key is written in the help.
pub fn label(key: Key) -> String {
    let name = match key.code {
        KeyCode::Char(' ') => "Space".to_owned(),
        KeyCode::Char(c) => c.to_string(),
        Enter => "Enter".into(),
        Esc => "Esc".into(),
        Tab => "Tab".into(),
        BackTab => "Shift-Tab".into(),
        Up => "↑".into(),
        Down => "↓".into(),
        PageUp => "PgUp".into(),
        PageDown => "PgDn".into(),
        Backspace => "Backspace".into(),
        other => format!("{other:?}"),
    };
    if key.ctrl {
        format!("Ctrl-{name}")
    } else {
        name
    }
}

/// (keys, what they do) for every binding usable in `scope`.
pub fn help(scope: Scope) -> Vec<(String, &'static str)> {
    BINDINGS
        .iter()
        .filter(|b| b.scope == scope || b.scope == Scope::Any)
        .map(|b| {
            let keys: Vec<String> = b.keys.iter().map(|k| label(*k)).collect();
            (keys.join("/"), b.help)
        })
        .collect()
}

#[cfg(test)]
#[path = "keymap_tests.rs"]
mod tests;
