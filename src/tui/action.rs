//! Everything that can change the dashboard's state, as one enum: what the
//! user meant by a key ([`Intent`]), and what arrived from the engine, the
//! supervisor, the poller and the clock.

use crate::engine::Event;
use crate::monitor::keyspace::poller::KeyspaceState;
use crate::monitor::poller::PollState;
use crate::supervisor::{Outcome, Roster};

/// What a key means, independent of which key it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Quit,
    Help,
    /// The server overlay: version, features, memory, advice.
    ServerInfo,
    /// Close an overlay (or, with none open, clear the PEL filter).
    Close,
    EnqueueOne,
    EnqueueBurst,
    ToggleProduction,
    RateUp,
    RateDown,
    Spawn,
    Kill,
    Stop,
    CycleMode,
    Trim,
    /// Plan and confirm the safe trim (what every group has acked).
    TrimSafe,
    DeleteConsumer,
    SetId,
    DestroyGroup,
    Ack,
    Claim,
    DeadLetter,
    /// Requeue: a copy of the entry added, the original acked.
    Requeue,
    /// Mark or unmark the selected pending entry for a bulk action.
    Mark,
    /// Mark every pending entry matching the filter, over the whole PEL.
    MarkAll,
    /// Start a lab scenario (asks which).
    Scenario,
    View,
    FocusNext,
    FocusPrev,
    /// On a partitioned stream, select the next / previous partition (its
    /// PEL page is shown, and one-shot commands act on it).
    NextPartition,
    PrevPartition,
    Up,
    Down,
    PageUp,
    PageDown,
    Filter,
    /// The overview: expand a partitioned stream into its partitions, or
    /// fold it again.
    Expand,
    /// The overview's sort column: the next one, the previous one.
    SortNext,
    SortPrev,
    Yes,
    No,
    Submit,
    Backspace,
    /// The stream's entries (the entries screen).
    Entries,
    /// The entries: the oldest / the newest (following); in the entry
    /// view, its top / bottom.
    Oldest,
    Newest,
    /// The entries: go to an id, a time or an age.
    GoTo,
    /// The entries: the search's next match (older) / previous (newer).
    NextMatch,
    PrevMatch,
    /// The entry view: values raw, or JSON pretty-printed.
    Raw,
}

#[derive(Debug, Clone)]
pub enum Action {
    Key(Intent),
    /// A character typed into a prompt.
    Char(char),
    /// The poller published (a new snapshot, or a link change), with the
    /// supervisor's roster read at the same moment.
    Poll {
        poll: PollState,
        roster: Roster,
        now_ms: u64,
    },
    /// The overview poller published.
    Overview {
        poll: KeyspaceState,
        now_ms: u64,
    },
    Engine {
        event: Event,
        at_ms: u64,
    },
    Outcome {
        outcome: Outcome,
        at_ms: u64,
    },
    /// The clock moved (ages on screen), and the roster may have changed.
    Tick {
        now_ms: u64,
        roster: Roster,
    },
    Resize {
        width: u16,
        height: u16,
    },
}
