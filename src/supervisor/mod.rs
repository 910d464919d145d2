//! The supervisor: starts, kills, stops and re-tunes the dashboard's
//! embedded engine parts (group workers, the producer, the basic consumer)
//! and runs the one-shot commands the user triggers (enqueue, trim, ack,
//! claim, dead-letter, fetch an entry, pages and search steps of the
//! entries view).
//!
//! Every method is synchronous and only spawns tasks, so the dashboard's
//! loop never waits on Redis. Results come back as engine [`Event`]s (from
//! the tasks themselves) and as [`Outcome`]s (from the supervisor): data,
//! which the dashboard words (`tui/outcomes.rs`).

mod admin;
mod bulk;
mod feeders;
mod group_admin;
mod outcome;
mod scenario;
mod workers;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::Sender;
use tokio_util::sync::CancellationToken;

use crate::engine::browse::page::PageQuery;
use crate::engine::browse::search::SearchQuery;
use crate::engine::event::{ChannelSink, Event, SharedSink};
use crate::engine::partition::Layout;
use crate::engine::partition::spread::Spread;
use crate::engine::repair::Repair;
use crate::engine::retention::Target;
use crate::engine::worker::WorkerConfig;
use crate::monitor::pel_walk::PendingFilter;
use crate::redis::{Connector, EntryId, PendingEntry, Retention, TrimMode};

/// Entries `*` marks at most (the bulk actions' batch bound).
pub const MARK_LIMIT: usize = 10_000;

pub use admin::ADMIN_TIMEOUT;
pub use outcome::{ClaimStop, Done, Outcome, Refusal};
pub use scenario::Scenario;

/// The `--stuck-after` a scenario's screen uses.
pub fn scenario_stuck_after() -> Duration {
    scenario::STUCK_AFTER
}
pub use workers::{WorkerMode, WorkerReport, WorkerStatus};

/// What the user asked the engine to do.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineCommand {
    /// XADD this many tasks now.
    Enqueue(u64),
    /// Continuous production at this rate, or off.
    SetProduction(Option<f64>),
    SpawnWorker,
    /// Crash the worker: abort its task, leaving its entries pending.
    Kill(String),
    /// Stop the worker gracefully (finish and ack in-flight work).
    Stop(String),
    SetMode(String, WorkerMode),
    /// XTRIM MAXLEN = n or MINID id (exact).
    Trim(Retention),
    /// Plan a MINID trim (the safe one, or a chosen id) for a confirmation:
    /// answered with [`Outcome::TrimPlan`].
    PlanTrim(Target),
    /// The same, to be trimmed with a Redis 8.2 trim mode.
    PlanModeTrim(Target, TrimMode),
    /// Plan `XTRIM MAXLEN = 0 ACKED` (Redis 8.2): answered with
    /// [`Outcome::AckedPlan`].
    PlanAckedTrim,
    /// XGROUP DELCONSUMER, after dealing with its pending entries.
    DeleteConsumer {
        group: String,
        consumer: String,
        pending: PendingOfDeleted,
    },
    /// XGROUP SETID to an id, `$` or `0`.
    SetId {
        group: String,
        id: String,
    },
    /// XGROUP DESTROY.
    DestroyGroup {
        group: String,
    },
    Ack {
        group: String,
        id: EntryId,
    },
    /// XCLAIM the entry to consumer `to`.
    Claim {
        group: String,
        id: EntryId,
        to: String,
    },
    DeadLetter {
        group: String,
        id: EntryId,
        owner: String,
        deliveries: u64,
    },
    /// XRANGE id id: the entry's fields, for the detail view.
    FetchEntry(EntryId),
    /// Walk the PEL for every entry matching `filter` (all pages, at most
    /// [`MARK_LIMIT`]): answered with [`Outcome::Marked`].
    MarkMatching {
        group: String,
        filter: PendingFilter,
    },
    /// Ack, claim, requeue or dead-letter these pending entries.
    Repair {
        group: String,
        repair: Repair,
        entries: Vec<PendingEntry>,
    },
    /// A page of a logical stream's entries (and, with a group, the
    /// page's pending entries in it), for the entries view: answered with
    /// [`Outcome::Page`]. Read on the read-only connection.
    Browse(BrowseRequest),
    /// One bounded search step: answered with [`Outcome::Searched`].
    Search(SearchRequest),
    /// The stream on screen changed: the one-shot commands (trim, group
    /// and PEL actions, entry fetches) act on this stream from now on.
    Focus(String),
    /// Set up a pathology on the lab's stream (lab only).
    Scenario(Scenario),
}

/// A page the entries view asks for; `seq` pairs the answer with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowseRequest {
    pub seq: u64,
    /// The logical stream's partition keys (one for a plain stream).
    pub keys: Vec<String>,
    pub query: PageQuery,
    /// The group whose pending entries on the page are read, if any.
    pub group: Option<String>,
}

/// A search step the entries view asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    pub seq: u64,
    pub keys: Vec<String>,
    pub query: SearchQuery,
}

/// What deleting a consumer does with the entries it still has pending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingOfDeleted {
    /// It had none when asked: refuse if it has some by now.
    MustBeNone,
    /// XCLAIM them to this consumer first, then delete.
    ClaimTo(String),
    /// Delete it with them: they leave the PEL and are never redelivered.
    Drop,
}

/// The basic consumer's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasicReport {
    pub name: String,
    /// The last id it has read (its offset), once started.
    pub offset: Option<EntryId>,
    pub read: u64,
}

/// What the supervisor runs right now, read by the dashboard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Roster {
    pub workers: Vec<WorkerReport>,
    pub produced: u64,
    pub basic: Option<BasicReport>,
    /// Engine events the screen fell too far behind to receive.
    pub events_dropped: u64,
    /// `--ack-delete`: entries the workers' XACKDEL removed from the
    /// stream, and those it kept because another group still needs them.
    pub ack_deleted: u64,
    pub ack_kept: u64,
}

#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// Template for every worker; `consumer` is replaced by its name.
    pub worker: WorkerConfig,
    /// The lab stream's partitions (workers read all, the producer spreads).
    pub layout: Layout,
    pub spread: Spread,
    /// Simulated work per task in normal mode.
    pub work_ms: u64,
    /// Name of the basic consumer (its offset key derives from it).
    pub basic_name: String,
    /// What the lab's producer trims with (`--maxlen`, `--trim-mode`).
    pub retention: Option<Retention>,
}

pub struct Supervisor {
    connector: Connector,
    config: SupervisorConfig,
    sink: SharedSink,
    outcomes: Sender<Outcome>,
    /// Events the dashboard's channel had no room for.
    events_dropped: Arc<AtomicU64>,
    /// Shared with the scenarios' tasks, which start their workers late.
    workers: Arc<std::sync::Mutex<workers::Workers>>,
    /// The lab's producer and basic consumer; `None` in a watch.
    feeders: Option<Feeders>,
    admin: admin::Admin,
    root: CancellationToken,
}

struct Feeders {
    producer: feeders::ProducerHandle,
    basic: feeders::BasicHandle,
}

impl Supervisor {
    /// The lab: start the producer (idle) and the basic consumer. Must run
    /// inside a tokio runtime.
    pub fn new(
        connector: Connector,
        config: SupervisorConfig,
        events: Sender<Event>,
        outcomes: Sender<Outcome>,
    ) -> Self {
        let mut sup = Self::watch(connector, config, events, outcomes);
        let token = || sup.root.child_token();
        let producer = feeders::spawn_producer(
            sup.connector.conn("producer"),
            &sup.config,
            sup.sink.clone(),
            token(),
        );
        let basic = feeders::spawn_basic(&sup.connector, &sup.config, &sup.sink, token());
        sup.feeders = Some(Feeders { producer, basic });
        sup
    }

    /// A watch: no embedded part runs, only the one-shot commands the user
    /// triggers (on a read-only connector they can only read).
    pub fn watch(
        connector: Connector,
        config: SupervisorConfig,
        events: Sender<Event>,
        outcomes: Sender<Outcome>,
    ) -> Self {
        let root = CancellationToken::new();
        let channel = ChannelSink::new(events);
        let events_dropped = channel.dropped();
        let sink: SharedSink = Arc::new(channel);
        let stream = config.worker.stream.clone();
        // Looking at entries never needs more than reading, whatever the
        // actions may do: those reads go through a read-only connection.
        let browse = connector.read_only().conn("browse");
        let admin = admin::Admin::new(connector.conn("admin"), browse, stream, outcomes.clone());
        Self {
            connector,
            workers: Arc::new(std::sync::Mutex::new(workers::Workers::new(root.clone()))),
            config,
            sink,
            outcomes,
            events_dropped,
            feeders: None,
            admin,
            root,
        }
    }

    /// Do what the user asked. Never waits on Redis.
    pub fn apply(&mut self, command: EngineCommand) {
        tracing::info!(?command, "dashboard command");
        let lab_part = matches!(
            command,
            EngineCommand::Enqueue(_)
                | EngineCommand::SetProduction(_)
                | EngineCommand::SpawnWorker
                | EngineCommand::Scenario(_)
        );
        if lab_part && self.feeders.is_none() {
            self.report(Outcome::Refused(Refusal::NoLab));
            return;
        }
        let outcome = match command {
            EngineCommand::Enqueue(n) => {
                if let Some(f) = &self.feeders {
                    f.producer.burst(n);
                }
                None
            }
            EngineCommand::SetProduction(rate) => {
                if let Some(f) = &self.feeders {
                    f.producer.set_rate(rate);
                }
                None
            }
            EngineCommand::SpawnWorker => Some(self.workers().spawn(
                &self.connector,
                &self.config,
                &self.sink,
            )),
            EngineCommand::Kill(name) => Some(self.workers().kill(&name, &self.config.worker)),
            EngineCommand::Stop(name) => Some(self.workers().stop(&name)),
            EngineCommand::SetMode(name, mode) => {
                Some(self.workers().set_mode(&name, mode, self.config.work_ms))
            }
            EngineCommand::Scenario(scenario) => self.scenario(scenario),
            other => {
                self.admin.run(other);
                None
            }
        };
        if let Some(o) = outcome {
            tracing::info!(outcome = ?o, "dashboard command done");
            self.report(o);
        }
    }

    /// The workers, locked for a moment (never across an await).
    fn workers(&self) -> std::sync::MutexGuard<'_, workers::Workers> {
        self.workers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Send an outcome without waiting: one comes per key press, so a full
    /// channel means the screen has stopped reading, and the log says so.
    fn report(&self, outcome: Outcome) {
        if self.outcomes.try_send(outcome).is_err() {
            tracing::warn!("outcome not shown: the dashboard is not reading");
        }
    }

    /// Start `workers` workers, and production at `rate` when given.
    pub fn start(&mut self, workers: u64, rate: Option<f64>) {
        for _ in 0..workers {
            self.apply(EngineCommand::SpawnWorker);
        }
        if rate.is_some() {
            self.apply(EngineCommand::SetProduction(rate));
        }
    }

    /// What runs now; also notices workers whose task ended.
    pub fn roster(&mut self) -> Roster {
        // One lock for all three: a guard lives to the end of the
        // statement, so locking again in the same expression would wait
        // for itself.
        let (workers, ack_deleted, ack_kept) = {
            let mut w = self.workers();
            (w.reports(), w.total(|s| &s.deleted), w.total(|s| &s.kept))
        };
        Roster {
            workers,
            produced: self.feeders.as_ref().map_or(0, |f| f.producer.produced()),
            basic: self
                .feeders
                .as_ref()
                .map(|f| f.basic.report(&self.config.basic_name)),
            events_dropped: self.events_dropped.load(Ordering::Relaxed),
            ack_deleted,
            ack_kept,
        }
    }

    /// Cancel everything, give workers `grace` to finish in-flight work,
    /// then abort what is left (its entries stay pending, as in a crash).
    pub async fn shutdown(self, grace: Duration) {
        self.root.cancel();
        let handles = self.workers().take_handles();
        workers::Workers::join_all(handles, grace).await;
        if let Some(f) = &self.feeders {
            f.producer.abort();
            f.basic.abort();
        }
    }
}
