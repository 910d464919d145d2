//! The ledger check after a fault test's load: what the server
//! acknowledged and holds compared with what the workers reported, every
//! id processed or dead-lettered, every PEL empty, lost 0.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::collections::{HashMap, HashSet};

use streamlab::engine::dead_key;
use streamlab::redis::{Conn, EntryId, xpending_summary};

use crate::drain;
use crate::load::{GROUP, Id, Load, Produced};

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
