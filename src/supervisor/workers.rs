//! The embedded group workers: spawn, crash (abort), stop, and switch
//! between normal / slow / failing behaviour while they run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Done, Outcome, Refusal, SupervisorConfig};
use crate::engine::event::SharedSink;
use crate::engine::partition::workers::run_on_partitions;
use crate::engine::worker::{Behaviour, WorkerConfig, WorkerExit, WorkerStats};
use crate::redis::Connector;

/// How an embedded worker behaves, cycled with `f` on the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkerMode {
    #[default]
    Normal,
    /// Ten times the normal work time (at least 1 s per task), so its
    /// entries sit idle long enough for other workers to steal them.
    Slow,
    /// Half the tasks fail and stay pending until retried or dead-lettered.
    Failing,
}

impl WorkerMode {
    pub fn next(self) -> Self {
        match self {
            Self::Normal => Self::Slow,
            Self::Slow => Self::Failing,
            Self::Failing => Self::Normal,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Slow => "slow",
            Self::Failing => "failing",
        }
    }

    /// (work ms per task, failure rate) given the normal work time.
    pub fn behaviour(self, work_ms: u64) -> (u64, f64) {
        match self {
            Self::Normal => (work_ms, 0.0),
            Self::Slow => (work_ms.saturating_mul(10).max(1000), 0.0),
            Self::Failing => (work_ms, 0.5),
        }
    }
}

/// Where an embedded worker is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerStatus {
    Running,
    /// Cancelled; finishing and acking the batch in hand.
    Stopping,
    Stopped,
    /// Aborted by the user: a crash, its entries stay pending.
    Killed,
    /// Ended on an error retrying cannot fix.
    Failed(String),
}

impl WorkerStatus {
    pub fn label(&self) -> &str {
        match self {
            Self::Running => "running",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::Killed => "killed",
            Self::Failed(_) => "failed",
        }
    }

    pub fn is_alive(&self) -> bool {
        matches!(self, Self::Running | Self::Stopping)
    }
}

/// One worker as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerReport {
    pub name: String,
    pub status: WorkerStatus,
    pub mode: WorkerMode,
    pub processed: u64,
    pub acked: u64,
}

struct Slot {
    name: String,
    cancel: CancellationToken,
    handle: Option<JoinHandle<WorkerExit>>,
    behaviour: Arc<Behaviour>,
    stats: Arc<WorkerStats>,
    mode: WorkerMode,
    status: WorkerStatus,
}

pub(super) struct Workers {
    slots: Vec<Slot>,
    spawned: u32,
    root: CancellationToken,
}

impl Workers {
    pub(super) fn new(root: CancellationToken) -> Self {
        Self {
            slots: Vec::new(),
            spawned: 0,
            root,
        }
    }

    /// Start worker `w<n>`. Names repeat across runs on purpose: a new
    /// `w1` first drains what an earlier `w1` left pending.
    pub(super) fn spawn(
        &mut self,
        connector: &Connector,
        config: &SupervisorConfig,
        sink: &SharedSink,
    ) -> Outcome {
        self.spawned += 1;
        let name = format!("w{}", self.spawned);
        let mut wc = config.worker.clone();
        wc.consumer.clone_from(&name);
        let behaviour = Behaviour::new(config.work_ms, 0.0, 0.0);
        self.spawn_as(connector, &config.layout, wc, behaviour, sink)
    }

    /// Start a worker with its own settings (`wc.consumer` names it) and
    /// behaviour: a scenario's.
    pub(super) fn spawn_as(
        &mut self,
        connector: &Connector,
        layout: &crate::engine::partition::Layout,
        wc: WorkerConfig,
        behaviour: Behaviour,
        sink: &SharedSink,
    ) -> Outcome {
        let name = wc.consumer.clone();
        let behaviour = Arc::new(behaviour);
        let layout = layout.clone();
        let done = Done::Spawned {
            name: name.clone(),
            group: wc.group.clone(),
            partitions: layout.partition_count(),
        };
        let stats = Arc::new(WorkerStats::default());
        let cancel = self.root.child_token();
        // Aborting this task (a kill) drops every partition's reader with it.
        let (connector, sink) = (connector.clone(), sink.clone());
        let (b, s, c) = (behaviour.clone(), stats.clone(), cancel.clone());
        let handle = tokio::spawn(async move {
            run_on_partitions(&connector, &layout, &wc, &b, &sink, &c, &s).await
        });
        self.slots.push(Slot {
            name,
            cancel,
            handle: Some(handle),
            behaviour,
            stats,
            mode: WorkerMode::Normal,
            status: WorkerStatus::Running,
        });
        Outcome::Done(done)
    }

    fn alive(&mut self, name: &str) -> Result<&mut Slot, Outcome> {
        match self.slots.iter_mut().find(|s| s.name == name) {
            Some(s) if s.status.is_alive() => Ok(s),
            Some(s) => Err(Outcome::Refused(Refusal::NotAlive {
                name: name.to_owned(),
                status: s.status.clone(),
            })),
            None => Err(Outcome::Refused(Refusal::NotOurs {
                name: name.to_owned(),
            })),
        }
    }

    pub(super) fn kill(&mut self, name: &str, config: &WorkerConfig) -> Outcome {
        let slot = match self.alive(name) {
            Ok(s) => s,
            Err(o) => return o,
        };
        // Aborting drops the task mid-work, like a process crash: nothing
        // is acked, so its entries stay in the PEL for XAUTOCLAIM.
        if let Some(h) = slot.handle.take() {
            h.abort();
        }
        slot.status = WorkerStatus::Killed;
        Outcome::Done(Done::Killed {
            name: name.to_owned(),
            min_idle: config.min_idle,
            claim_every: config.claim_every,
        })
    }

    pub(super) fn stop(&mut self, name: &str) -> Outcome {
        match self.alive(name) {
            Ok(slot) => {
                slot.cancel.cancel();
                slot.status = WorkerStatus::Stopping;
                Outcome::Done(Done::Stopping {
                    name: name.to_owned(),
                })
            }
            Err(o) => o,
        }
    }

    pub(super) fn set_mode(&mut self, name: &str, mode: WorkerMode, work_ms: u64) -> Outcome {
        match self.alive(name) {
            Ok(slot) => {
                let (ms, fail) = mode.behaviour(work_ms);
                slot.behaviour.set(ms, fail, 0.0);
                slot.mode = mode;
                Outcome::Done(Done::ModeSet {
                    name: name.to_owned(),
                    mode,
                    work_ms: ms,
                    fail_rate: fail,
                })
            }
            Err(o) => o,
        }
    }

    /// One counter summed over every worker, running or not.
    pub(super) fn total(&self, counter: impl Fn(&WorkerStats) -> &AtomicU64) -> u64 {
        self.slots
            .iter()
            .map(|s| counter(&s.stats).load(Ordering::Relaxed))
            .sum()
    }

    /// Reports of every worker, after noticing the ones whose task ended.
    pub(super) fn reports(&mut self) -> Vec<WorkerReport> {
        for slot in &mut self.slots {
            let finished = slot.handle.as_ref().is_some_and(JoinHandle::is_finished);
            if let Some(exit) = finished
                .then(|| slot.handle.take())
                .flatten()
                .and_then(FutureExt::now_or_never)
            {
                slot.status = match exit {
                    Ok(WorkerExit::Stopped) => WorkerStatus::Stopped,
                    Ok(WorkerExit::Crashed) => WorkerStatus::Killed,
                    Ok(WorkerExit::Fatal(e)) => WorkerStatus::Failed(e.to_string()),
                    // The dashboard's events go to a channel, never closed.
                    Ok(WorkerExit::OutputClosed) => {
                        WorkerStatus::Failed("its output closed".into())
                    }
                    Err(e) => WorkerStatus::Failed(e.to_string()),
                };
            }
        }
        self.slots
            .iter()
            .map(|s| WorkerReport {
                name: s.name.clone(),
                status: s.status.clone(),
                mode: s.mode,
                processed: s.stats.processed.load(Ordering::Relaxed),
                acked: s.stats.acked.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Every running worker's task, taken to be waited for.
    pub(super) fn take_handles(&mut self) -> Vec<JoinHandle<WorkerExit>> {
        self.slots
            .iter_mut()
            .filter_map(|s| s.handle.take())
            .collect()
    }

    /// Wait up to `grace` for cancelled workers, then abort the rest.
    pub(super) async fn join_all(handles: Vec<JoinHandle<WorkerExit>>, grace: Duration) {
        let aborts: Vec<_> = handles.iter().map(JoinHandle::abort_handle).collect();
        let all = futures_util::future::join_all(handles);
        if tokio::time::timeout(grace, all).await.is_err() {
            for a in aborts {
                a.abort();
            }
        }
    }
}
