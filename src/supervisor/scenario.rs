//! Lab scenarios (`streamlab --scenario NAME`, or `z` in the lab): a
//! pathology set up on the lab's own stream, with lab-sized thresholds so
//! it shows within seconds. Each but `backlog` runs in a group of its own
//! created at `$` (it sees only the tasks it adds and what is produced
//! after), so the lab's workers never retry what it shows:
//!
//! - `crash`: `crash-1` reads 10 tasks and crashes before acking any;
//!   `crash-2`'s XAUTOCLAIM takes them after 3 s of idle.
//! - `poison`: one task of kind `poison` fails on every delivery; the two
//!   workers reclaim it after 2 s until the dead-letter limit.
//! - `stall`: `stall-1` hangs on its first task while holding 10; it is
//!   diagnosed stalled (after 3 s), then `stall-2` reclaims them (8 s).
//! - `leak`: `leak-1` fails 30% of its tasks and never runs XAUTOCLAIM;
//!   production runs, so it keeps reading while failures pile up: leaking.
//! - `backlog`: production above the lab workers' capacity; `w` adds
//!   workers until it clears.

use std::time::Duration;

use super::{Done, Outcome, Refusal, Supervisor};
use crate::engine::task::{POISON_KIND, Task};
use crate::engine::worker::{Behaviour, WorkerConfig};
use crate::redis::id::now_ms;
use crate::redis::{Conn, RedisFailure, create_group, xadd_batch};

/// The `--stuck-after` a scenario's screen uses.
pub const STUCK_AFTER: Duration = Duration::from_secs(3);
/// A lab worker's pace at the lab's defaults: 10 tasks of 50 ms a batch.
const PER_WORKER: f64 = 20.0;

/// A pathology the lab can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Crash,
    Poison,
    Stall,
    Leak,
    Backlog,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Self::Crash,
        Self::Poison,
        Self::Stall,
        Self::Leak,
        Self::Backlog,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Crash => "crash",
            Self::Poison => "poison",
            Self::Stall => "stall",
            Self::Leak => "leak",
            Self::Backlog => "backlog",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name.trim())
    }

    /// The group it shows: its own, the lab's for `backlog` (where `w`
    /// adds workers).
    pub fn group(self, lab_group: &str) -> String {
        match self {
            Self::Backlog => lab_group.to_owned(),
            other => format!("scenario-{}", other.name()),
        }
    }
}

/// One scenario worker: its name, settings and behaviour.
struct Part {
    name: &'static str,
    count: usize,
    min_idle: Duration,
    claim_every: Duration,
    behaviour: Behaviour,
}

impl Part {
    fn new(name: &'static str, work_ms: u64) -> Self {
        Self {
            name,
            count: 10,
            min_idle: Duration::from_secs(3),
            claim_every: Duration::from_millis(500),
            behaviour: Behaviour::new(work_ms, 0.0, 0.0),
        }
    }
}

/// The workers and tasks of `scenario` (none for `backlog`).
fn plan(scenario: Scenario) -> (Vec<Part>, u64, u64) {
    let hour = Duration::from_secs(3600);
    match scenario {
        Scenario::Crash => {
            let crashing = Part::new("crash-1", 50);
            crashing.behaviour.set(50, 0.0, 1.0);
            // One task a read: whoever reads first, crash-1 gets (and
            // holds) nearly all of them.
            let mut reclaimer = Part::new("crash-2", 50);
            reclaimer.count = 1;
            (vec![crashing, reclaimer], 12, 0)
        }
        Scenario::Poison => {
            let parts: Vec<Part> = ["poison-1", "poison-2"]
                .into_iter()
                .map(|name| {
                    let mut p = Part::new(name, 50);
                    p.min_idle = Duration::from_secs(2);
                    p.behaviour
                        .poison_fails
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                    p
                })
                .collect();
            (parts, 9, 1)
        }
        Scenario::Stall => {
            let hung = Part::new("stall-1", 3_600_000);
            let mut reclaimer = Part::new("stall-2", 50);
            reclaimer.min_idle = Duration::from_secs(8);
            (vec![hung, reclaimer], 20, 0)
        }
        Scenario::Leak => {
            let mut leaky = Part::new("leak-1", 50);
            leaky.behaviour.set(50, 0.3, 0.0);
            (leaky.claim_every, leaky.min_idle) = (hour, hour);
            (vec![leaky], 0, 0)
        }
        Scenario::Backlog => (Vec::new(), 0, 0),
    }
}

impl Supervisor {
    /// Start `scenario`: production now, its group, tasks and workers in a
    /// task (the group must exist at `$` before its workers start).
    pub(super) fn scenario(&mut self, scenario: Scenario) -> Option<Outcome> {
        if self.config.layout.is_partitioned() {
            return Some(Outcome::Refused(Refusal::ScenarioNeedsPlainStream {
                scenario: scenario.name(),
            }));
        }
        let production = self.scenario_production(scenario);
        if let (Some(rate), Some(f)) = (production, &self.feeders) {
            f.producer.set_rate(Some(rate));
        }
        let group = scenario.group(&self.config.worker.group);
        let started = Outcome::Done(Done::ScenarioStarted {
            scenario,
            group: group.clone(),
            production,
        });
        if scenario == Scenario::Backlog {
            return Some(started);
        }
        let (parts, tasks, poison) = plan(scenario);
        let setup = Setup {
            conn: self.connector.conn("scenario"),
            key: self.config.worker.stream.clone(),
            group,
            tasks,
            poison,
        };
        let (connector, sink, workers) = (
            self.connector.clone(),
            self.sink.clone(),
            self.workers.clone(),
        );
        let (template, layout, outcomes) = (
            self.config.worker.clone(),
            self.config.layout.clone(),
            self.outcomes.clone(),
        );
        tokio::spawn(async move {
            if let Err(e) = setup.run().await {
                let what = format!("scenario {}", scenario.name());
                let _ = outcomes
                    .send(Outcome::Refused(Refusal::Redis {
                        what,
                        error: e.to_string(),
                    }))
                    .await;
                return;
            }
            let mut w = workers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for part in parts {
                let wc = WorkerConfig {
                    consumer: part.name.to_owned(),
                    group: setup_group(scenario, &template.group),
                    count: part.count,
                    min_idle: part.min_idle,
                    claim_every: part.claim_every,
                    ..template.clone()
                };
                w.spawn_as(&connector, &layout, wc, part.behaviour, &sink);
            }
        });
        Some(started)
    }

    /// The production rate a scenario needs (leak: some; backlog: more
    /// than the running lab workers can take).
    fn scenario_production(&self, scenario: Scenario) -> Option<f64> {
        match scenario {
            Scenario::Leak => Some(10.0),
            Scenario::Backlog => {
                let alive = self
                    .workers()
                    .reports()
                    .iter()
                    .filter(|w| w.status.is_alive())
                    .count();
                #[expect(clippy::cast_precision_loss, reason = "a handful of workers")]
                let capacity = PER_WORKER * alive as f64;
                Some((capacity + 30.0).max(60.0))
            }
            _ => None,
        }
    }
}

fn setup_group(scenario: Scenario, lab_group: &str) -> String {
    scenario.group(lab_group)
}

/// What a scenario prepares in Redis before its workers start.
struct Setup {
    conn: Conn,
    key: String,
    group: String,
    tasks: u64,
    poison: u64,
}

impl Setup {
    /// Its group at `$` (it sees only what comes next), then its tasks.
    async fn run(mut self) -> Result<(), RedisFailure> {
        create_group(&mut self.conn, &self.key, &self.group, "$").await?;
        let now = now_ms();
        let mut tasks: Vec<Task> = (0..self.tasks + self.poison)
            .map(|seq| Task::generate(seq, 16, now))
            .collect();
        for t in tasks
            .iter_mut()
            .skip(usize::try_from(self.tasks).unwrap_or(0))
        {
            POISON_KIND.clone_into(&mut t.kind);
        }
        if tasks.is_empty() {
            return Ok(());
        }
        let fields: Vec<_> = tasks.iter().map(Task::to_fields).collect();
        xadd_batch(&mut self.conn, &self.key, None, &fields).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_groups_are_their_own_but_backlogs() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::from_name(s.name()), Some(s));
        }
        assert_eq!(Scenario::from_name("nope"), None);
        assert_eq!(Scenario::Crash.group("workers"), "scenario-crash");
        assert_eq!(Scenario::Backlog.group("workers"), "workers");
    }

    #[test]
    fn each_scenario_has_what_it_needs_to_show() {
        let (crash, tasks, _) = plan(Scenario::Crash);
        assert_eq!(crash.len(), 2);
        assert!(tasks >= 11, "crash-1 holds 10 whoever reads first");
        let (_, _, poison) = plan(Scenario::Poison);
        assert_eq!(poison, 1);
        let (leak, _, _) = plan(Scenario::Leak);
        assert_eq!(
            leak[0].claim_every,
            Duration::from_secs(3600),
            "no XAUTOCLAIM"
        );
    }
}
