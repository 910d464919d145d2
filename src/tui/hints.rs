//! What the keymap table says about keys, for the screen: the `?` help's
//! lines, the footer's hints (per screen and access level), which keys
//! need writes or the lab, and what an intent needs. All of it comes from
//! [`BINDINGS`], so the help, the footer and key handling cannot disagree.

use crate::tui::access::{Access, Needs};
use crate::tui::action::Intent;
use crate::tui::keymap::{BINDINGS, Binding, Scope, applies, label};
use crate::tui::state::Screen;

/// One line of the help overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpLine {
    pub keys: String,
    pub what: &'static str,
    pub needs: Needs,
}

/// Every binding usable in `scope`, in table order.
pub fn help(scope: Scope) -> Vec<HelpLine> {
    BINDINGS
        .iter()
        .filter(|b| applies(b, scope))
        .map(|b| {
            let keys: Vec<String> = b.keys.iter().map(|k| label(*k)).collect();
            HelpLine {
                keys: keys.join("/"),
                what: b.help,
                needs: b.needs,
            }
        })
        .collect()
}

/// The binding behind `intent` in `scope` (a mode's own binding before
/// the ones that apply everywhere, so Quit is `q`, not Ctrl-c).
pub fn binding(intent: Intent, scope: Scope) -> Option<&'static Binding> {
    let mut usable = BINDINGS
        .iter()
        .filter(|b| b.intent == intent && applies(b, scope));
    let first = usable.next()?;
    Some(if first.scope == Scope::Any {
        usable.next().unwrap_or(first)
    } else {
        first
    })
}

/// What `intent` needs, whichever key sent it.
pub fn needs(intent: Intent) -> Needs {
    BINDINGS
        .iter()
        .find(|b| b.intent == intent)
        .map_or(Needs::Nothing, |b| b.needs)
}

/// The keys in `scope` that need `needs` (`t/a/c/d` for writes).
pub fn keys_needing(needs: Needs, scope: Scope) -> String {
    BINDINGS
        .iter()
        .filter(|b| b.needs == needs && applies(b, scope))
        .filter_map(|b| b.keys.first())
        .map(|k| label(*k))
        .collect::<Vec<_>>()
        .join("/")
}

/// The footer's hints: intents that share one hint, and its word.
pub type Hint = (&'static [Intent], &'static str);

/// The lab's footer: what a lab is for.
const LAB_FOOTER: &[Hint] = &[
    (&[Intent::EnqueueOne, Intent::EnqueueBurst], "enqueue"),
    (&[Intent::ToggleProduction], "produce"),
    (&[Intent::Spawn], "spawn"),
    (&[Intent::Kill], "kill"),
    (&[Intent::FocusNext], "pane"),
    (&[Intent::Help], "keys"),
    (&[Intent::Quit], "quit"),
];

/// A watch's footer: looking around, and the admin actions.
const WATCH_FOOTER: &[Hint] = &[
    (&[Intent::FocusNext], "pane"),
    (&[Intent::View], "view"),
    (&[Intent::Filter], "filter"),
    (&[Intent::Mark, Intent::MarkAll], "mark"),
    (
        &[
            Intent::Ack,
            Intent::Claim,
            Intent::Requeue,
            Intent::DeadLetter,
        ],
        "ack/claim/requeue/dead",
    ),
    (&[Intent::Trim], "trim"),
    (&[Intent::Help], "keys"),
    (&[Intent::Quit], "quit"),
];

/// The overview's footer.
const OVERVIEW_FOOTER: &[Hint] = &[
    (&[Intent::View], "open"),
    (&[Intent::Filter], "filter"),
    (&[Intent::SortNext, Intent::SortPrev], "sort"),
    (&[Intent::Help], "keys"),
    (&[Intent::Quit], "quit"),
];

/// The entries screen's footer.
const ENTRIES_FOOTER: &[Hint] = &[
    (&[Intent::GoTo], "go to"),
    (&[Intent::Filter], "search"),
    (&[Intent::NextMatch, Intent::PrevMatch], "next/prev"),
    (&[Intent::View], "open"),
    (&[Intent::Newest], "newest"),
    (&[Intent::Close], "back"),
    (&[Intent::Help], "keys"),
    (&[Intent::Quit], "quit"),
];

pub fn footer(access: Access, screen: Screen) -> &'static [Hint] {
    match (screen, access) {
        (Screen::Overview, _) => OVERVIEW_FOOTER,
        (Screen::Entries, _) => ENTRIES_FOOTER,
        (Screen::Stream, Access::Lab) => LAB_FOOTER,
        (Screen::Stream, Access::Watch | Access::WatchWrites) => WATCH_FOOTER,
    }
}

/// The keys of a hint, as the help writes them (`p/P`).
pub fn hint_keys(intents: &[Intent], scope: Scope) -> String {
    intents
        .iter()
        .filter_map(|i| binding(*i, scope).and_then(|b| b.keys.first()))
        .map(|k| label(*k))
        .collect::<Vec<_>>()
        .join("/")
}
