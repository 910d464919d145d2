//! What this dashboard may do, and what each key needs. The access level
//! is fixed at start; a key whose needs are unmet stays in the footer and
//! the help, marked unavailable, and pressing it says why and how to
//! enable it. This is the courtesy layer: the guarantee that a read-only
//! console writes nothing is the read-only connector underneath, which
//! refuses every writing command before it is sent.

use crate::tui::state::State;

/// The access level, fixed when the dashboard starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// The dashboard: its embedded producer, basic consumer and workers
    /// run on the lab's stream, and it may write to that stream.
    #[default]
    Lab,
    /// `streamlab watch`: read-only, nothing runs and nothing is written.
    Watch,
    /// `streamlab watch --allow-writes`: the admin actions are enabled
    /// (each still confirmed); no embedded parts run.
    WatchWrites,
}

impl Access {
    /// The word for the header.
    pub fn label(self) -> &'static str {
        match self {
            Self::Lab => "lab",
            Self::Watch => "watch (read-only)",
            Self::WatchWrites => "watch --allow-writes",
        }
    }
}

/// What a key binding needs to do anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Needs {
    #[default]
    Nothing,
    /// It writes to Redis (ack, claim, dead-letter, trim).
    Writes,
    /// It drives the lab's own embedded parts (producer, workers).
    Lab,
}

/// Why a key is unavailable here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unmet {
    /// A read-only watch: writes need `--allow-writes`.
    ReadOnly,
    /// No embedded parts run here (a watch, or another stream than the lab's).
    NoLab,
    /// The lab writes only to its own stream.
    NotOurs,
}

impl Unmet {
    /// Short words for the help, before what the key does.
    pub fn tag(self) -> &'static str {
        match self {
            Self::ReadOnly => "--allow-writes",
            Self::NoLab => "lab only",
            Self::NotOurs => "lab stream only",
        }
    }

    /// Words for the footer, after the keys.
    pub fn footer(self) -> &'static str {
        match self {
            Self::ReadOnly => "need --allow-writes",
            Self::NoLab => "lab only",
            Self::NotOurs => "lab stream only",
        }
    }

    /// The status line after pressing `key` (which does `what`) in
    /// `state`: how to enable it first, so a narrow footer still shows it.
    pub fn explain(self, key: &str, what: &str, state: &State) -> String {
        match self {
            Self::ReadOnly => format!(
                "{key}: this watch is read-only; `streamlab watch --allow-writes` enables it ({what} writes to Redis)"
            ),
            Self::NoLab => no_lab(key, what, state),
            Self::NotOurs => format!(
                "{key}: the lab writes only to its own stream; `streamlab watch --allow-writes` acts on this one ({what} writes)"
            ),
        }
    }
}

/// How to get a lab, from where the user is: the dashboard that fell back
/// to a watch needs `--lab` (it was started as a dashboard already), a lab
/// looking at another stream has its lab elsewhere, `streamlab watch` has
/// none.
fn no_lab(key: &str, what: &str, state: &State) -> String {
    let does = format!("{what} drives the lab's own producer and workers");
    match (state.access, &state.watch_reason) {
        (Access::Lab, _) => format!(
            "{key}: the lab runs on '{}', not on this stream: Esc, then Enter on it ({does})",
            state.lab.stream
        ),
        (_, Some(_)) => format!(
            "{key}: this dashboard only watches '{}' (not created by streamlab); `streamlab --lab --stream {}` runs the lab on it, whose workers ack its entries ({what})",
            state.view.stream, state.view.stream
        ),
        (_, None) => format!(
            "{key}: a watch runs no lab; `streamlab --stream NAME` (no subcommand) starts one ({does})"
        ),
    }
}

/// Why `needs` cannot be met in `state`, or `None` when it can. The lab
/// drives and writes only its own stream: another stream opened from the
/// overview is watched read-only.
pub fn unmet(needs: Needs, state: &State) -> Option<Unmet> {
    let own = state.on_lab_stream();
    match (needs, state.access) {
        (Needs::Nothing, _) | (Needs::Writes, Access::WatchWrites) => None,
        (_, Access::Lab) if own => None,
        (Needs::Writes, Access::Lab) => Some(Unmet::NotOurs),
        (Needs::Writes, Access::Watch) => Some(Unmet::ReadOnly),
        (Needs::Lab, _) => Some(Unmet::NoLab),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_meets_what_it_promises() {
        let mut s = State::default();
        for needs in [Needs::Nothing, Needs::Writes, Needs::Lab] {
            assert_eq!(unmet(needs, &s), None, "the lab can do everything");
        }
        s.access = Access::Watch;
        assert_eq!(unmet(Needs::Nothing, &s), None);
        assert_eq!(unmet(Needs::Writes, &s), Some(Unmet::ReadOnly));
        assert_eq!(unmet(Needs::Lab, &s), Some(Unmet::NoLab));
        s.access = Access::WatchWrites;
        assert_eq!(unmet(Needs::Writes, &s), None);
        assert_eq!(unmet(Needs::Lab, &s), Some(Unmet::NoLab));
    }

    #[test]
    fn refusals_say_how_to_enable_the_key() {
        // The fix comes first: a narrow footer cuts the end of the line.
        let mut s = State::default();
        let why = Unmet::ReadOnly.explain("X", "destroy the selected group (XGROUP DESTROY)", &s);
        assert!(why.starts_with("X: "), "{why}");
        assert!(why[..80].contains("--allow-writes"), "{why}");
        s.access = Access::Watch;
        assert!(
            Unmet::NoLab
                .explain("w", "spawn", &s)
                .contains("streamlab --stream NAME")
        );
    }

    /// `streamlab --stream orders` on a stream streamlab did not create
    /// opens a watch: the fix is `--lab`, not the command already running.
    #[test]
    fn a_dashboard_that_fell_back_to_a_watch_points_at_lab() {
        let mut s = State {
            access: Access::Watch,
            watch_reason: Some("not created by streamlab".into()),
            ..State::default()
        };
        s.view.stream = "orders".into();
        let why = Unmet::NoLab.explain("w", "spawn a worker", &s);
        assert!(why.contains("streamlab --lab --stream orders"), "{why}");
        assert!(!why.contains("--stream NAME"), "{why}");
    }
}
