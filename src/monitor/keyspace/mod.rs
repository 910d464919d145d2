//! The overview of every stream, at a cost that does not grow with the
//! keyspace: a budget of Redis time per second ([`budget`]), not a period.
//! Streams are found with `SCAN ... TYPE stream` in steps per node whose
//! COUNT follows the time a step takes ([`scan`]); each known stream is
//! refreshed with one `XINFO STREAM key FULL COUNT 1` ([`stats`]), plus
//! one XRANGE per group whose last delivered id moved (for the time lag).
//! A poll refreshes the rows on screen, then as much of a round-robin
//! queue over all the others as the budget allows ([`paced`]); the
//! period within which every row is read again follows from the
//! keyspace's size and is published ([`Keyspace::refresh_within`]).
//! Scanning is per node, so a cluster's masters are a list where a single
//! server is one entry.

pub mod budget;
pub mod glob;
pub mod logical;
mod paced;
pub mod poller;
mod refresh;
pub mod rows;
pub mod scan;
pub mod stats;

/// Read commands sent as a batch: one pipeline on a single server, one
/// by one on a cluster; each answer in order (the exporter's probes use it).
pub use refresh::{Answer, send as send_reads};

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::monitor::keyspace::budget::{Bucket, Costs};
use crate::monitor::keyspace::logical::Layouts;
use crate::monitor::keyspace::rows::Row;
use crate::monitor::keyspace::scan::{NodeScan, SCAN_COUNT};
use crate::redis::topology::NodeAddr;
use crate::redis::{Conn, RedisFailure};

/// Polls whose lap estimates the published period is the median of
/// (about a minute).
const LAPS_KEPT: usize = 60;

#[derive(Debug, Clone)]
pub struct KeyspaceConfig {
    /// `--match`: only keys matching this glob (SCAN MATCH).
    pub pattern: Option<String>,
    /// The rotation reads each stream no more often than this; a bigger
    /// keyspace than the budget can read in a cycle takes longer (see
    /// [`Keyspace::refresh_within`]).
    pub cycle: Duration,
    /// Time between polls (the rotation's share per poll follows from it).
    pub interval: Duration,
    /// SCAN's first COUNT; later steps adapt it to the time a step takes.
    pub scan_count: usize,
    /// Redis time per second (µs) once the first pass is done, and during
    /// it ([`budget::STEADY_US_PER_S`], [`budget::WARMUP_US_PER_S`]).
    pub steady_us_per_s: f64,
    pub warmup_us_per_s: f64,
}

impl KeyspaceConfig {
    pub fn new(pattern: Option<String>, interval: Duration) -> Self {
        Self {
            pattern,
            // Under a minute, with room for slow polls.
            cycle: Duration::from_secs(50),
            interval,
            scan_count: SCAN_COUNT,
            steady_us_per_s: budget::STEADY_US_PER_S,
            warmup_us_per_s: budget::WARMUP_US_PER_S,
        }
    }
}

/// What one poll cost and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollCost {
    pub commands: u64,
    /// Streams refreshed (on screen and in rotation).
    pub refreshed: usize,
    /// The poll's wall time.
    pub round_trip_us: u64,
    /// Its Redis time as the client estimates it (an upper bound: round
    /// trips less the latency floor, see [`budget`]).
    pub redis_us: u64,
    /// Of `refreshed`, those on screen.
    pub visible: usize,
    /// SCAN steps.
    pub scan_steps: usize,
}

/// The overview's memory between polls.
pub struct Keyspace {
    config: KeyspaceConfig,
    /// Every master's address and its walk through its keyspace; `None`
    /// until the first poll asked the server.
    nodes: Option<Vec<(NodeAddr, NodeScan)>>,
    /// A node finished a pass: ask for the masters again before scanning on.
    ask_nodes: bool,
    /// A cluster: refreshes go one key at a time (each to its slot's
    /// owner); a single server takes them in pipelines.
    cluster: bool,
    known: HashMap<Arc<str>, Row>,
    /// Round-robin order of refreshes; never-refreshed keys go first.
    queue: VecDeque<Arc<str>>,
    /// Logical streams whose partition keys were found.
    layouts: Layouts,
    /// Redis time left to spend on SCAN steps, and on refreshes.
    scan_bucket: Bucket,
    refresh_bucket: Bucket,
    /// What commands were measured to cost.
    costs: Costs,
    /// When the last poll started (the buckets fill with wall time).
    last_poll: Option<Instant>,
    /// The lap estimates of recent polls: the published period is their
    /// median, so it does not jump with every measurement.
    laps: VecDeque<Duration>,
    /// Every stream found in the first pass was read once. Kept once
    /// true: streams created later (a stream per user) are read at the
    /// steady budget, not by going back to the first pass's.
    first_pass_read: bool,
}

impl Keyspace {
    pub fn new(config: KeyspaceConfig) -> Self {
        Self {
            config,
            nodes: None,
            ask_nodes: true,
            cluster: false,
            known: HashMap::new(),
            queue: VecDeque::new(),
            layouts: Layouts::default(),
            scan_bucket: Bucket::default(),
            refresh_bucket: Bucket::default(),
            costs: Costs::default(),
            last_poll: None,
            laps: VecDeque::new(),
            first_pass_read: false,
        }
    }

    /// Whether every node's keyspace has been walked once.
    pub fn scan_complete(&self) -> bool {
        self.nodes
            .as_ref()
            .is_some_and(|n| n.iter().all(|(_, s)| s.complete()))
    }

    /// Whether every stream found has been refreshed once.
    pub fn all_refreshed(&self) -> bool {
        self.known
            .values()
            .all(|r| r.stats.is_some() || r.problem.is_some())
    }

    /// Whether the first pass is done: every node walked and every stream
    /// it found read once (streams found since do not undo it).
    pub fn first_pass_done(&self) -> bool {
        self.first_pass_read && self.scan_complete()
    }

    /// Note the end of the first pass once it comes ([`Self::first_pass_done`]);
    /// checks every row until then only.
    fn settle(&mut self) -> bool {
        if !self.first_pass_read && self.scan_complete() && self.all_refreshed() {
            self.first_pass_read = true;
        }
        self.first_pass_done()
    }

    /// Streams known, dead-letter streams included.
    pub fn known(&self) -> usize {
        self.known.len()
    }

    /// The rows as of now (see [`rows::rows`]), a partitioned stream's
    /// partitions folded into its one row (see [`logical`]).
    pub fn rows(&self) -> Vec<Row> {
        self.layouts.fold(rows::rows(&self.known))
    }

    /// One poll: SCAN steps and refreshes, the rows on screen always,
    /// the rest as the budget allows for the wall time since the last
    /// poll (see [`paced`]).
    pub async fn poll(
        &mut self,
        conn: &mut Conn,
        visible: &[Arc<str>],
    ) -> Result<PollCost, RedisFailure> {
        let now = Instant::now();
        let elapsed = self
            .last_poll
            .map_or(self.config.interval, |t| now.duration_since(t));
        self.last_poll = Some(now);
        self.poll_after(conn, visible, elapsed).await
    }

    /// One poll as if `elapsed` had passed since the last one: the budget
    /// it may spend is that much time's worth. [`Keyspace::poll`] passes
    /// the wall time; a test passes the time it simulates.
    pub async fn poll_after(
        &mut self,
        conn: &mut Conn,
        visible: &[Arc<str>],
        elapsed: Duration,
    ) -> Result<PollCost, RedisFailure> {
        let started = Instant::now();
        let mut cost = self.paced_poll(conn, visible, elapsed).await?;
        self.note_lap();
        cost.round_trip_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        Ok(cost)
    }

    /// Scan every node to the end, then refresh every stream: the
    /// complete overview (`monitor --all --once`), as fast as it goes but
    /// in short commands (COUNT and batches follow their measured time).
    pub async fn complete(&mut self, conn: &mut Conn) -> Result<u64, RedisFailure> {
        let mut cost = PollCost::default();
        self.probe(conn, &mut cost).await?;
        while !self.scan_complete() {
            self.scan(conn, usize::MAX, false, &mut cost).await?;
        }
        cost.commands += self.layouts.look_up(conn, usize::MAX).await?;
        let all: Vec<Arc<str>> = self.known.keys().cloned().collect();
        self.refresh(conn, &all, &mut cost).await?;
        Ok(cost.commands)
    }

    /// The period within which every row is read again, once the first
    /// pass is done (`None` before): the rotation's lap at the measured
    /// cost of a refresh and the budget left after the rows on screen,
    /// never shorter than the cycle. It grows with the keyspace.
    pub fn refresh_within(&self) -> Option<Duration> {
        if !self.first_pass_done() {
            return None;
        }
        let mut laps: Vec<Duration> = self.laps.iter().copied().collect();
        if laps.is_empty() {
            return Some(self.lap());
        }
        laps.sort_unstable();
        Some(laps[laps.len() / 2])
    }

    /// Note this poll's lap estimate (once the first pass is done).
    fn note_lap(&mut self) {
        if !self.settle() {
            self.laps.clear();
            return;
        }
        if self.laps.len() == LAPS_KEPT {
            self.laps.pop_front();
        }
        self.laps.push_back(self.lap());
    }

    /// The rotation's lap as estimated now.
    /// The longer of the model's (cost per key x streams / the budget
    /// left after the rows on screen) and the pace the rotation keeps:
    /// stalls the model clips still slow the rotation down.
    fn lap(&self) -> Duration {
        let (_, refresh_rate) = self.rates(true, true);
        let rotation = refresh_rate - self.costs.visible_us_per_s.0;
        let keys = self.known.len();
        let modelled = budget::revisit(
            keys,
            self.costs.refresh_us(),
            rotation.max(refresh_rate * 0.1),
            self.config.cycle,
        );
        let measured = self.costs.measured_lap(keys).map(budget::round_up);
        measured.map_or(modelled, |m| m.max(modelled))
    }

    /// The budget (Redis time per second, µs) of the phase the overview
    /// is in: the warm-up's until the first pass is done, then the steady one.
    pub fn budget_us_per_s(&self) -> f64 {
        let (scan, refresh) = self.rates(self.scan_complete(), self.first_pass_done());
        scan + refresh
    }

    /// The fill rates (SCAN, refreshes) for a phase, at the configured budgets.
    fn rates(&self, scan_complete: bool, all_read: bool) -> (f64, f64) {
        let c = &self.config;
        budget::rates(
            scan_complete,
            all_read,
            c.steady_us_per_s,
            c.warmup_us_per_s,
        )
    }

    /// The masters to scan: asked first, and again whenever a node has
    /// finished a pass (a cluster may have gained or lost one). A node
    /// still there keeps its cursor.
    async fn nodes(&mut self, conn: &mut Conn) -> Result<(), RedisFailure> {
        if !self.ask_nodes {
            return Ok(());
        }
        self.cluster = conn.connector().is_cluster().await?;
        let masters = conn.masters().await?;
        let mut old = self.nodes.take().unwrap_or_default();
        let nodes = masters
            .into_iter()
            .map(|m| {
                let scan = old
                    .iter()
                    .position(|(addr, _)| *addr == m.addr)
                    .map(|i| old.swap_remove(i).1)
                    .unwrap_or_default();
                (m.addr, scan)
            })
            .collect();
        self.nodes = Some(nodes);
        self.ask_nodes = false;
        Ok(())
    }

    fn learn(&mut self, keys: Vec<String>) {
        for key in keys {
            if self.known.contains_key(key.as_str()) {
                continue;
            }
            self.layouts.saw(&key);
            let key: Arc<str> = key.into();
            self.queue.push_front(key.clone());
            let row = Row {
                key: key.clone(),
                ..Row::default()
            };
            self.known.insert(key, row);
        }
    }
}
