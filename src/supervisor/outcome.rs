//! What the supervisor reports back after a request, as data: what was
//! done or why it was not, with the exact command sent where there was
//! one. The dashboard words these (`tui/outcomes.rs`); nothing here is a
//! sentence, so another front end can say them its own way.

use std::time::Duration;

use crate::engine::browse::Fetched;
use crate::engine::browse::page::Page;
use crate::engine::browse::search::SearchStep;
use crate::engine::retention::{self, AckedPlan, Plan};
use crate::redis::{EntryId, PendingEntry};
use crate::supervisor::workers::{WorkerMode, WorkerStatus};

/// What the supervisor reports back, besides the engine's own events.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Something done on request.
    Done(Done),
    /// A request that could not be done, with the reason.
    Refused(Refusal),
    /// An entry's fields, byte-exact, or word that it is gone.
    Entry { id: EntryId, fields: Fetched },
    /// A page of entries the entries view asked for (request `seq`), with
    /// the page's pending entries in the group asked about.
    Page {
        seq: u64,
        page: Page,
        pending: Vec<(usize, PendingEntry)>,
        /// Commands it took (the header counts them).
        commands: u32,
    },
    /// A search step's result (request `seq`).
    Searched { seq: u64, step: SearchStep },
    /// A planned trim, to confirm before it is sent.
    TrimPlan(Box<Plan>),
    /// The entries of `group` matching a filter, over the whole PEL;
    /// `complete` is false when there were more than the mark limit.
    Marked {
        group: String,
        entries: Vec<PendingEntry>,
        complete: bool,
    },
    /// A planned `XTRIM MAXLEN = 0 ACKED`, to confirm before it is sent.
    AckedPlan(Box<AckedPlan>),
}

/// A request carried out. `command` is the command line as it was sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    Spawned {
        name: String,
        group: String,
        partitions: usize,
    },
    /// Killed like a crash: its pending entries wait for XAUTOCLAIM.
    Killed {
        name: String,
        min_idle: Duration,
        claim_every: Duration,
    },
    Stopping {
        name: String,
    },
    ModeSet {
        name: String,
        mode: WorkerMode,
        work_ms: u64,
        fail_rate: f64,
    },
    Trimmed {
        command: String,
        removed: u64,
    },
    IdSet {
        command: String,
        group: String,
        id: String,
    },
    GroupDestroyed {
        command: String,
        group: String,
    },
    ConsumerDeleted {
        command: String,
        consumer: String,
        /// Where its pending entries went first, and how many.
        claimed_to: Option<(String, u64)>,
        /// Pending entries that left the PEL with it.
        dropped: u64,
    },
    Acked {
        id: EntryId,
        group: String,
    },
    Claimed {
        id: EntryId,
        to: String,
    },
    DeadLettered {
        id: EntryId,
        dead_key: String,
        dead_id: EntryId,
    },
    /// A lab scenario set up (its workers start once its group exists).
    ScenarioStarted {
        scenario: crate::supervisor::Scenario,
        group: String,
        /// The production rate it set, if it set one.
        production: Option<f64>,
    },
    /// A bulk action on marked entries (`engine::repair`).
    Repaired {
        /// `acked`, `claimed`, `requeued`, `dead-lettered`.
        what: &'static str,
        group: String,
        /// Where the entries went: the consumer (claim) or key.
        to: Option<String>,
        done: u64,
        not_pending: u64,
        gone: u64,
    },
}

/// Why a request was not carried out.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// A lab part asked for where no lab runs.
    NoLab,
    /// The worker is not running (already stopped, killed, failed).
    NotAlive {
        name: String,
        status: WorkerStatus,
    },
    /// No worker of this dashboard has that name.
    NotOurs {
        name: String,
    },
    /// The retention planner refused: nothing says what is safe.
    NoSafeTrim {
        key: String,
        why: retention::Refusal,
    },
    NoSuchGroup {
        command: String,
        group: String,
    },
    /// A consumer to delete without claiming holds entries by now.
    ConsumerHoldsEntries {
        consumer: String,
    },
    /// Its entries could not all be claimed first, so it was not deleted.
    ClaimStopped(ClaimStop),
    /// The entry left the PEL before the ack or claim.
    NoLongerPending {
        action: &'static str,
        id: EntryId,
    },
    /// Scenarios run on a plain stream: a partitioned lab has none.
    ScenarioNeedsPlainStream {
        scenario: &'static str,
    },
    /// Redis answered with an error; `what` names the request.
    Redis {
        what: String,
        error: String,
    },
    /// Redis did not answer in time; `what` names the request.
    TimedOut {
        what: String,
        after: Duration,
    },
}

/// Why moving a consumer's pending entries stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimStop {
    /// An entry stayed with its owner after the XCLAIM.
    WouldNotMove { id: EntryId, to: String },
    /// More entries than the pages allowed: a worker's XAUTOCLAIM fits.
    TooMany { from: String, limit: usize },
}
