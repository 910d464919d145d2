//! Load under faults, and its ledger: an in-test producer task and
//! `streamlab worker --events json` processes on a stream (or on each
//! partition of one), and at the end a comparison of what the server
//! acknowledged and holds with what the workers reported: every id
//! processed or dead-lettered, every PEL empty, lost 0.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use streamlab::engine::dead_key;
use streamlab::engine::registry;
use streamlab::engine::task::Task;
use streamlab::redis::{Conn, Connector, EntryId, xadd_batch, xpending_summary};

use crate::common::{self, BinProcess};
use crate::drain;

pub const GROUP: &str = "workers";
pub const WAIT: Duration = Duration::from_secs(60);

pub fn worker(url: &str, stream: &str, name: &str, extra: &str) -> BinProcess {
    worker_with(url, stream, name, extra, &[])
}

pub fn worker_with(
    url: &str,
    stream: &str,
    name: &str,
    extra: &str,
    env: &[(&str, &str)],
) -> BinProcess {
    BinProcess::spawn(
        &format!(
            "--url {url} --stream {stream} --group {GROUP} worker --name {name} --events json \
             --read-count 20 --block 1s --min-idle 1s --claim-every 500ms {extra}"
        ),
        env,
    )
}

/// An entry of one partition (a plain stream is its own one partition).
pub type Id = (String, EntryId);

/// Ids the server acknowledged to the in-test producer, by partition.
#[derive(Default)]
pub struct Produced {
    pub acked: Vec<Id>,
    pub resent_batches: u64,
}

/// Produce batches of 20 tasks every 40 ms until `stop`, each batch to the
/// next partition in turn, re-sending a batch after any error (its first
/// attempt may have landed too).
pub async fn produce(mut conn: Conn, keys: Vec<String>, stop: Arc<AtomicBool>) -> Produced {
    let mut out = Produced::default();
    let mut seq = 0;
    for stream in keys.iter().cycle() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let tasks: Vec<Task> = (seq..seq + 20)
            .map(|s| Task::generate(s, 16, streamlab::redis::id::now_ms()))
            .collect();
        let fields: Vec<_> = tasks.iter().map(Task::to_fields).collect();
        loop {
            match xadd_batch(&mut conn, stream, None, &fields).await {
                Ok(ids) => {
                    out.acked
                        .extend(ids.into_iter().map(|id| (stream.clone(), id)));
                    break;
                }
                Err(_) => {
                    out.resent_batches += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        seq += 20;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    out
}

/// Load running against a stream: the producer task and the workers.
pub struct Load {
    pub connector: Connector,
    /// The logical stream the workers are given.
    pub stream: String,
    /// Its partitions (the stream itself when it has none).
    pub keys: Vec<String>,
    pub stop: Arc<AtomicBool>,
    pub producer: tokio::task::JoinHandle<Produced>,
    pub workers: Vec<BinProcess>,
    pub retired: Vec<BinProcess>,
}

impl Load {
    pub async fn start(url: &str, stream: &str, workers: usize) -> Self {
        let connector = common::connector(url);
        let mut admin = connector.conn("setup");
        common::raw(
            &mut admin,
            &["XGROUP", "CREATE", stream, GROUP, "0", "MKSTREAM"],
        )
        .await;
        Self::run(connector, url, stream, vec![stream.to_owned()], workers).await
    }

    /// A stream of `partitions` partitions (one per master), created by
    /// `produce --partitions`, its keys read from the registry.
    pub async fn start_partitioned(
        url: &str,
        stream: &str,
        partitions: usize,
        workers: usize,
    ) -> Self {
        let create = format!(
            "--url {url} --stream {stream} --group {GROUP} produce --partitions {partitions} --count 3"
        );
        let out = common::run_bin(&create, &[], WAIT).await;
        assert!(out.success(), "{}", out.stderr);
        let connector = common::connector(url);
        let keys = registry::resolve(&mut connector.conn("setup"), stream)
            .await
            .expect("the layout")
            .partitions;
        assert_eq!(keys.len(), partitions, "{keys:?}");
        Self::run(connector, url, stream, keys, workers).await
    }

    pub async fn run(
        connector: Connector,
        url: &str,
        stream: &str,
        keys: Vec<String>,
        workers: usize,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let producer = tokio::spawn(produce(
            connector.conn("producer"),
            keys.clone(),
            stop.clone(),
        ));
        let mut load = Self {
            connector,
            stream: stream.to_owned(),
            keys,
            stop,
            producer,
            workers: Vec::new(),
            retired: Vec::new(),
        };
        // Odd workers on streamlab's RESP2 link, even ones on the crate's
        // connection (what TLS uses): both kinds of socket meet the faults.
        for i in 1..=workers {
            let env: &[(&str, &str)] = if i % 2 == 0 {
                &[("STREAMLAB_RESP", "crate")]
            } else {
                &[]
            };
            load.workers
                .push(worker_with(url, stream, &format!("w{i}"), "", env));
        }
        load.wait_processed(100).await;
        load
    }

    pub fn processed(&self) -> usize {
        self.workers
            .iter()
            .chain(&self.retired)
            .flat_map(BinProcess::stdout_lines)
            .filter(|l| l.contains("\"event\":\"processed\""))
            .count()
    }

    pub async fn wait_processed(&self, at_least: usize) {
        let deadline = common::Deadline::new(format!("{at_least} processed"), WAIT);
        while self.processed() < at_least {
            deadline.tick().await;
        }
    }

    /// Stop producing, let the workers drain, stop them; then compare the
    /// server with the ledgers.
    pub async fn finish(mut self) -> Report {
        self.wait_processed(self.processed() + 100).await;
        self.stop.store(true, Ordering::Relaxed);
        let produced = (&mut self.producer).await.expect("the producer ran");
        let mut watch = self.connector.conn("watch");
        let deadline = common::Deadline::new("every PEL to empty after the faults", WAIT);
        for key in &self.keys {
            while !drain::settled(&mut watch, key, GROUP).await {
                deadline.tick().await;
            }
        }
        for w in &self.workers {
            w.terminate();
        }
        for w in &mut self.workers {
            assert!(w.wait_exit(WAIT).await.success(), "{:?}", w.stderr_lines());
        }
        verify(&mut watch, &self, &produced).await
    }
}

#[derive(Debug)]
pub struct Report {
    pub partitions: usize,
    pub produced: usize,
    pub resent_batches: u64,
    pub processed: usize,
    pub dead: usize,
    pub duplicates: usize,
    pub lost: Vec<Id>,
    pub failed_events: usize,
    pub reconnecting_events: usize,
    pub problems: Vec<String>,
}

pub async fn verify(conn: &mut Conn, load: &Load, produced: &Produced) -> Report {
    let held = read_server(conn, &load.keys).await;
    let told = read_ledgers(load);
    let mut problems = held.problems;
    problems.extend(told.problems);
    for id in &produced.acked {
        if !held.in_stream.contains(id) {
            problems.push(format!("{id:?} was acknowledged by XADD but is gone"));
        }
    }
    let mut lost: Vec<Id> = produced
        .acked
        .iter()
        .chain(&held.in_stream)
        .filter(|id| !told.processed.contains_key(*id) && !held.dead.contains(*id))
        .cloned()
        .collect();
    lost.sort();
    lost.dedup();
    let report = Report {
        partitions: load.keys.len(),
        produced: produced.acked.len(),
        resent_batches: produced.resent_batches,
        processed: told.processed.len(),
        dead: held.dead.len(),
        duplicates: told.processed.values().map(|n| n - 1).sum(),
        lost,
        failed_events: told.failed_events,
        reconnecting_events: told.reconnecting_events,
        problems,
    };
    // On the real stderr, past the harness's capture: the figures show in
    // CI logs even when the test passes.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("ledger of {}: {}\n", load.stream, report.summary()).as_bytes(),
    );
    report
}

/// What the server holds at the end, by partition.
struct Held {
    in_stream: HashSet<Id>,
    /// Original ids of the dead letters.
    dead: HashSet<Id>,
    problems: Vec<String>,
}

async fn read_server(conn: &mut Conn, keys: &[String]) -> Held {
    let mut held = Held {
        in_stream: HashSet::new(),
        dead: HashSet::new(),
        problems: Vec::new(),
    };
    for key in keys {
        for e in drain::all_entries(conn, key).await {
            held.in_stream.insert((key.clone(), e.id));
        }
        for d in drain::all_entries(conn, &dead_key(key)).await {
            if let Some(id) = d.field_str("original_id").and_then(|s| s.parse().ok()) {
                held.dead.insert((key.clone(), id));
            }
        }
        let pending = xpending_summary(conn, key, GROUP).await.expect("XPENDING");
        if pending.count != 0 {
            held.problems
                .push(format!("{key}: PEL not empty: {pending:?}"));
        }
    }
    held
}

/// What the workers' JSON events told.
#[derive(Default)]
struct Told {
    /// How many times each id was processed.
    processed: HashMap<Id, usize>,
    failed_events: usize,
    reconnecting_events: usize,
    problems: Vec<String>,
}

fn read_ledgers(load: &Load) -> Told {
    let mut told = Told::default();
    for (n, w) in load.workers.iter().chain(&load.retired).enumerate() {
        let lines = w.stdout_lines();
        let mine = lines
            .iter()
            .filter(|l| l.contains("\"event\":\"processed\""))
            .count();
        if mine == 0 && n < load.workers.len() {
            told.problems.push(format!(
                "worker {n} (RESP link or crate's) processed nothing"
            ));
        }
        for line in lines {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue; // a worker killed mid-line
            };
            match v["event"].as_str() {
                Some("processed") => {
                    let key = v["stream"].as_str().expect("stream").to_owned();
                    let id: EntryId = v["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
                    *told.processed.entry((key, id)).or_default() += 1;
                }
                Some("failed" | "error") => told.failed_events += 1,
                Some("reconnecting") => told.reconnecting_events += 1,
                _ => {}
            }
        }
        let err = w.stderr_lines().join("\n");
        if err.contains("panicked") {
            told.problems.push(format!("a worker panicked: {err}"));
        }
    }
    told
}

impl Report {
    pub fn summary(&self) -> String {
        format!(
            "{} partition(s), produced {} (re-sent batches {}), processed {} distinct, dead-lettered {}, duplicates {}, lost {}, failed events {}, reconnecting events {}",
            self.partitions,
            self.produced,
            self.resent_batches,
            self.processed,
            self.dead,
            self.duplicates,
            self.lost.len(),
            self.failed_events,
            self.reconnecting_events
        )
    }
}

pub fn assert_nothing_lost(report: &Report) {
    assert!(report.produced > 0);
    assert!(
        report.lost.is_empty(),
        "lost {} tasks, e.g. {:?}",
        report.lost.len(),
        &report.lost[..report.lost.len().min(10)]
    );
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    // A redirect is never a task failure.
    assert_eq!(report.failed_events, 0, "{}", report.summary());
}
