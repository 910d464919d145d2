//! The overview of every stream, at a cost that does not grow with the
//! keyspace. Streams are found with `SCAN ... TYPE stream` one bounded
//! step per poll and node ([`scan`]); each known stream is refreshed with
//! one `XINFO STREAM key FULL COUNT 1` ([`stats`]), plus one XRANGE per
//! group whose last delivered id moved (for the time lag). A poll
//! refreshes the rows on screen, then the next share of a round-robin
//! queue over all the others, sized so each is refreshed within
//! [`KeyspaceConfig::cycle`]. Scanning and refreshing are per node, so a
//! cluster's masters are a list where a single server is one entry.

pub mod glob;
pub mod logical;
pub mod poller;
mod refresh;
pub mod rows;
pub mod scan;
pub mod stats;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use crate::monitor::keyspace::logical::{LOOKUPS_PER_POLL, Layouts};
use crate::monitor::keyspace::rows::Row;
use crate::monitor::keyspace::scan::{NodeScan, SCAN_COUNT};
use crate::redis::topology::NodeAddr;
use crate::redis::{Conn, RedisFailure};
/// SCAN steps per poll and node until the first pass is complete, so the
/// overview fills within seconds; one step per poll after that.
const WARMUP_STEPS: usize = 20;
/// Never-refreshed streams refreshed per poll while the first pass fills in.
const WARMUP_REFRESH: usize = 1000;

#[derive(Debug, Clone)]
pub struct KeyspaceConfig {
    /// `--match`: only keys matching this glob (SCAN MATCH).
    pub pattern: Option<String>,
    /// Every stream is refreshed at least this often.
    pub cycle: Duration,
    /// Time between polls (the rotation's share per poll follows from it).
    pub interval: Duration,
    pub scan_count: usize,
}

impl KeyspaceConfig {
    pub fn new(pattern: Option<String>, interval: Duration) -> Self {
        Self {
            pattern,
            // Under a minute, with room for slow polls.
            cycle: Duration::from_secs(50),
            interval,
            scan_count: SCAN_COUNT,
        }
    }
}

/// What one poll cost and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollCost {
    pub commands: u64,
    pub refreshed: usize,
    pub round_trip_us: u64,
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

    /// Streams known, dead-letter streams included.
    pub fn known(&self) -> usize {
        self.known.len()
    }

    /// The rows as of now (see [`rows::rows`]), a partitioned stream's
    /// partitions folded into its one row (see [`logical`]).
    pub fn rows(&self) -> Vec<Row> {
        self.layouts.fold(rows::rows(&self.known))
    }

    /// One poll: SCAN steps, then refresh `visible` and the rotation's share.
    pub async fn poll(
        &mut self,
        conn: &mut Conn,
        visible: &[Arc<str>],
    ) -> Result<PollCost, RedisFailure> {
        let started = std::time::Instant::now();
        let mut cost = PollCost::default();
        let steps = if self.scan_complete() {
            1
        } else {
            WARMUP_STEPS
        };
        cost.commands += self.scan(conn, steps).await?;
        cost.commands += self.layouts.look_up(conn, LOOKUPS_PER_POLL).await?;
        let keys = self.due(visible);
        cost.refreshed = keys.len();
        cost.commands += self.refresh(conn, &keys).await?;
        cost.round_trip_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        Ok(cost)
    }

    /// Scan every node to the end, then refresh every stream: the
    /// complete overview (`monitor --all --once`).
    pub async fn complete(&mut self, conn: &mut Conn) -> Result<u64, RedisFailure> {
        let mut commands = 0;
        while !self.scan_complete() {
            commands += self.scan(conn, WARMUP_STEPS).await?;
        }
        commands += self.layouts.look_up(conn, usize::MAX).await?;
        let all: Vec<Arc<str>> = self.known.keys().cloned().collect();
        commands += self.refresh(conn, &all).await?;
        Ok(commands)
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

    /// Up to `steps` SCAN steps on each node (one pass per poll at most).
    async fn scan(&mut self, conn: &mut Conn, steps: usize) -> Result<u64, RedisFailure> {
        self.nodes(conn).await?;
        let mut commands = 0;
        let pattern = self.config.pattern.clone();
        let count = self.config.scan_count;
        let mut found = Vec::new();
        for (addr, scan) in self.nodes.iter_mut().flatten() {
            let before = scan.cycles;
            for _ in 0..steps {
                found.extend(scan.step(conn, addr, pattern.as_deref(), count).await?);
                commands += 1;
                if scan.cycles > before {
                    self.ask_nodes = true;
                    break;
                }
            }
        }
        self.learn(found);
        Ok(commands)
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

    /// The keys to refresh now: those on screen (and their dead-letter
    /// streams), then the rotation's share from the queue's front.
    fn due(&mut self, visible: &[Arc<str>]) -> Vec<Arc<str>> {
        let mut due: Vec<Arc<str>> = Vec::new();
        let now = crate::redis::id::now_ms();
        // A key the ACL refused is left alone for a while, on screen too.
        let mut seen: HashSet<Arc<str>> = self
            .known
            .iter()
            .filter(|(_, r)| r.refused_until_ms > now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in visible.iter().flat_map(|k| self.layouts.expand(k)) {
            let dead = format!("{key}:dead");
            for k in [key.as_ref(), dead.as_str()] {
                if let Some((k, _)) = self.known.get_key_value(k)
                    && seen.insert(k.clone())
                {
                    due.push(k.clone());
                }
            }
        }
        let share = self.share();
        let mut taken = 0;
        while taken < share {
            let Some(key) = self.queue.pop_front() else {
                break;
            };
            if !self.known.contains_key(&key) {
                continue; // deleted since it was queued
            }
            self.queue.push_back(key.clone());
            taken += 1;
            if seen.insert(key.clone()) {
                due.push(key);
            }
        }
        due
    }

    /// How many queued keys one poll refreshes: all of them within the
    /// cycle, faster while some have never been refreshed.
    fn share(&self) -> usize {
        let polls = (self.config.cycle.as_secs_f64() / self.config.interval.as_secs_f64()).max(1.0);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "a count of keys, rounded up"
        )]
        let steady = (self.known.len() as f64 / polls).ceil() as usize;
        if self.all_refreshed() {
            steady
        } else {
            steady.max(WARMUP_REFRESH)
        }
    }
}
