//! The one key table: which key means what in which mode. Key handling
//! and the `?` help overlay are both generated from it, so they cannot
//! disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::tui::access::Needs;
use crate::tui::action::{Action, Intent};
use crate::tui::state::{Mode, Screen};

/// Which modes a binding applies in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Any,
    /// No overlay open, on the stream screen.
    Normal,
    /// No overlay open, on the overview screen.
    Overview,
    Help,
    /// The server overlay (`i`).
    Server,
    Input,
    Confirm,
    Entry,
    /// No overlay open, on the entries screen.
    Entries,
}

impl Scope {
    /// The scope whose bindings take the keys in `mode` on `screen`.
    pub fn of(mode: &Mode, screen: Screen) -> Self {
        match mode {
            Mode::Normal if screen == Screen::Overview => Self::Overview,
            Mode::Normal if screen == Screen::Entries => Self::Entries,
            Mode::Normal => Self::Normal,
            Mode::Help => Self::Help,
            Mode::Server => Self::Server,
            Mode::Input { .. } => Self::Input,
            // A confirmation that needs the stream's name typed is a prompt.
            Mode::Confirm(c) if c.loses_data() => Self::Input,
            Mode::Confirm(_) => Self::Confirm,
            Mode::Entry(_) => Self::Entry,
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
    /// What the key needs to do anything (writes, the lab's parts).
    pub needs: Needs,
}

const fn bind(scope: Scope, keys: &'static [Key], intent: Intent, help: &'static str) -> Binding {
    Binding {
        scope,
        keys,
        intent,
        help,
        needs: Needs::Nothing,
    }
}

/// A binding that writes to Redis.
const fn writes(b: Binding) -> Binding {
    Binding {
        needs: Needs::Writes,
        ..b
    }
}

/// A binding that drives the lab's embedded parts.
const fn lab(b: Binding) -> Binding {
    Binding {
        needs: Needs::Lab,
        ..b
    }
}

use KeyCode::{BackTab, Backspace, Down, End, Enter, Esc, Home, PageDown, PageUp, Tab, Up};
use Scope::{Any, Confirm, Entries, Entry, Help, Input, Normal, Overview, Server};

/// Every binding. Order is the order of the help overlay.
pub const BINDINGS: &[Binding] = &[
    bind(Any, &[ctrl('c')], Intent::Quit, "quit"),
    bind(Normal, &[ch('q')], Intent::Quit, "quit"),
    bind(Normal, &[ch('?')], Intent::Help, "this help"),
    bind(
        Normal,
        &[ch('i')],
        Intent::ServerInfo,
        "the server: version, features, memory, advice",
    ),
    lab(bind(
        Normal,
        &[ch('p')],
        Intent::EnqueueOne,
        "enqueue one task (XADD)",
    )),
    lab(bind(
        Normal,
        &[ch('P')],
        Intent::EnqueueBurst,
        "enqueue a burst of 100",
    )),
    lab(bind(
        Normal,
        &[ch('r')],
        Intent::ToggleProduction,
        "start/stop continuous production",
    )),
    lab(bind(
        Normal,
        &[ch('+'), ch('=')],
        Intent::RateUp,
        "raise the production rate",
    )),
    lab(bind(
        Normal,
        &[ch('-')],
        Intent::RateDown,
        "lower the production rate",
    )),
    lab(bind(Normal, &[ch('w')], Intent::Spawn, "spawn a worker")),
    lab(bind(
        Normal,
        &[ch('x')],
        Intent::Kill,
        "kill the selected worker (crash: its entries stay pending)",
    )),
    lab(bind(
        Normal,
        &[ch('s')],
        Intent::Stop,
        "stop the selected worker gracefully",
    )),
    lab(bind(
        Normal,
        &[ch('f')],
        Intent::CycleMode,
        "cycle the selected worker: normal / slow / failing",
    )),
    lab(bind(
        Normal,
        &[ch('z')],
        Intent::Scenario,
        "start a scenario: crash, poison, stall, leak or backlog",
    )),
    writes(bind(
        Normal,
        &[ch('t')],
        Intent::Trim,
        "trim: MAXLEN, MINID, safe, acked (previewed, name typed)",
    )),
    writes(bind(
        Normal,
        &[ch('T')],
        Intent::TrimSafe,
        "trim what every group has delivered and acked (previewed)",
    )),
    writes(bind(
        Normal,
        &[ch('a')],
        Intent::Ack,
        "ack the selected pending entry, or the marked ones (confirms)",
    )),
    writes(bind(
        Normal,
        &[ch('c')],
        Intent::Claim,
        "claim it (or the marked) to a consumer you choose (confirms)",
    )),
    writes(bind(
        Normal,
        &[ch('R')],
        Intent::Requeue,
        "requeue it (or the marked): a copy added for readers of >, the original acked",
    )),
    writes(bind(
        Normal,
        &[ch(' ')],
        Intent::Mark,
        "mark / unmark the selected pending entry for a/c/R/d",
    )),
    writes(bind(
        Normal,
        &[ch('*')],
        Intent::MarkAll,
        "mark every pending entry matching the filter (all pages); again: unmark",
    )),
    writes(bind(
        Normal,
        &[ch('D')],
        Intent::DeleteConsumer,
        "delete the selected consumer (its pending claimed first)",
    )),
    writes(bind(
        Normal,
        &[ch('S')],
        Intent::SetId,
        "move the selected group's last-delivered id (XGROUP SETID)",
    )),
    writes(bind(
        Normal,
        &[ch('X')],
        Intent::DestroyGroup,
        "destroy the selected group (XGROUP DESTROY)",
    )),
    writes(bind(
        Normal,
        &[ch('d')],
        Intent::DeadLetter,
        "dead-letter it, or the marked ones (confirms)",
    )),
    bind(
        Normal,
        &[code(Enter)],
        Intent::View,
        "view the selected pending entry",
    ),
    bind(
        Normal,
        &[ch('e')],
        Intent::Entries,
        "the stream's entries: browse, go to a time, search",
    ),
    bind(Normal, &[code(Tab)], Intent::FocusNext, "next pane"),
    bind(Normal, &[code(BackTab)], Intent::FocusPrev, "previous pane"),
    bind(
        Normal,
        &[ch('>')],
        Intent::NextPartition,
        "next partition (its PEL; one-shot commands act on it)",
    ),
    bind(
        Normal,
        &[ch('<')],
        Intent::PrevPartition,
        "previous partition",
    ),
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
    bind(
        Normal,
        &[code(Esc)],
        Intent::Close,
        "clear the marks, else the PEL filter, else back to all streams",
    ),
    bind(Overview, &[ch('q')], Intent::Quit, "quit"),
    bind(Overview, &[ch('?')], Intent::Help, "this help"),
    bind(
        Overview,
        &[ch('i')],
        Intent::ServerInfo,
        "the server: version, features, memory, advice",
    ),
    bind(
        Overview,
        &[code(Enter)],
        Intent::View,
        "open the selected stream",
    ),
    bind(
        Overview,
        &[ch(' ')],
        Intent::Expand,
        "expand a partitioned stream into its partitions, or fold it",
    ),
    bind(Overview, &[ch('j'), code(Down)], Intent::Down, "move down"),
    bind(Overview, &[ch('k'), code(Up)], Intent::Up, "move up"),
    bind(
        Overview,
        &[code(PageDown), ch(']')],
        Intent::PageDown,
        "next page of streams",
    ),
    bind(
        Overview,
        &[code(PageUp), ch('[')],
        Intent::PageUp,
        "previous page of streams",
    ),
    bind(
        Overview,
        &[ch('o')],
        Intent::SortNext,
        "sort by the next column (pending, lag, time lag, ...)",
    ),
    bind(
        Overview,
        &[ch('O')],
        Intent::SortPrev,
        "sort by the previous column",
    ),
    bind(
        Overview,
        &[ch('/')],
        Intent::Filter,
        "filter streams by name, a glob (orders*, *:eu)",
    ),
    bind(Overview, &[code(Esc)], Intent::Close, "clear the filter"),
    bind(Help, &[code(Esc), ch('?'), ch('q')], Intent::Close, "close"),
    bind(
        Server,
        &[code(Esc), ch('i'), ch('q')],
        Intent::Close,
        "close",
    ),
    bind(Server, &[ch('?')], Intent::Help, "the keys"),
    bind(
        Input,
        &[code(Enter)],
        Intent::Submit,
        "accept (a typed confirmation: the stream's name)",
    ),
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
    bind(Entry, &[ch('j'), code(Down)], Intent::Down, "scroll down"),
    bind(Entry, &[ch('k'), code(Up)], Intent::Up, "scroll up"),
    bind(Entry, &[code(PageDown)], Intent::PageDown, "page down"),
    bind(Entry, &[code(PageUp)], Intent::PageUp, "page up"),
    bind(Entry, &[code(Home)], Intent::Oldest, "top"),
    bind(Entry, &[code(End)], Intent::Newest, "bottom"),
    bind(
        Entry,
        &[ch('r')],
        Intent::Raw,
        "values raw, or JSON pretty-printed",
    ),
    bind(Entries, &[ch('q')], Intent::Quit, "quit"),
    bind(Entries, &[ch('?')], Intent::Help, "this help"),
    bind(Entries, &[ch('j'), code(Down)], Intent::Down, "older entry"),
    bind(Entries, &[ch('k'), code(Up)], Intent::Up, "newer entry"),
    bind(
        Entries,
        &[code(PageDown), ch(']')],
        Intent::PageDown,
        "older page",
    ),
    bind(
        Entries,
        &[code(PageUp), ch('[')],
        Intent::PageUp,
        "newer page",
    ),
    bind(Entries, &[code(Home)], Intent::Oldest, "the oldest entry"),
    bind(
        Entries,
        &[code(End)],
        Intent::Newest,
        "the newest entry (new ones then show as they come)",
    ),
    bind(
        Entries,
        &[ch('g')],
        Intent::GoTo,
        "go to an id, a time (2026-12-05 07:58, RFC 3339) or an age (15m)",
    ),
    bind(
        Entries,
        &[ch('/')],
        Intent::Filter,
        "search: field=value, field~text (contains), or any text",
    ),
    bind(
        Entries,
        &[ch('n')],
        Intent::NextMatch,
        "next match (older; 10,000 entries a step)",
    ),
    bind(
        Entries,
        &[ch('N')],
        Intent::PrevMatch,
        "previous match (newer)",
    ),
    bind(
        Entries,
        &[code(Enter)],
        Intent::View,
        "the whole entry: every field, escaped, scrollable",
    ),
    bind(
        Entries,
        &[code(Esc)],
        Intent::Close,
        "stop a search, else back to the stream",
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

/// What a key press means in `mode` on `screen`; in a prompt, other
/// characters type.
pub fn lookup(mode: &Mode, screen: Screen, event: &KeyEvent) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let scope = Scope::of(mode, screen);
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
        Home => "Home".into(),
        End => "End".into(),
        other => format!("{other:?}"),
    };
    if key.ctrl {
        format!("Ctrl-{name}")
    } else {
        name
    }
}

pub(crate) fn applies(b: &Binding, scope: Scope) -> bool {
    b.scope == scope || b.scope == Scope::Any
}

#[cfg(test)]
#[path = "keymap_tests.rs"]
mod tests;
