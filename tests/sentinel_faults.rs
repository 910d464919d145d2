//! Failovers under load behind Redis Sentinel, each proved with a ledger:
//! one master, one replica, three sentinels (tests/common/sentinel.rs); an
//! in-test producer (through the sentinels, re-sending a batch after any
//! error) and two `streamlab worker --events json` processes given only
//! the sentinels' addresses (one on streamlab's RESP2 link, one on the
//! crate's); a `streamlab produce --rate` process on a second stream.
//! Then the fault: `SENTINEL FAILOVER`, or kill -9 of the master (the
//! sentinels agree it is down and promote the replica).
//!
//! At the end, on the new master: every entry of the stream processed,
//! the PEL empty, each worker the same process from start to end (one
//! `worker_started`, exit 0 on SIGTERM), and each said `failover` with the
//! old and new addresses. What Redis itself lost, entries the old master
//! acknowledged that never reached the new one, is counted apart from
//! what streamlab lost (entries on the new master never processed), which
//! must be 0. The figures go to stderr (and the README).

mod common;
#[path = "common/drain.rs"]
mod drain;
#[path = "common/ledger.rs"]
mod ledger;
#[path = "common/load.rs"]
mod load;
#[path = "common/sentinel.rs"]
mod sentinel;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{BinProcess, Deadline, unique};
use sentinel::SentinelSet;
use streamlab::redis::EntryId;

const WAIT: Duration = Duration::from_secs(60);
const PRODUCE: u64 = 3000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    ManualFailover,
    KillMaster,
}

/// What one run came to.
#[derive(Debug, Default)]
struct Figures {
    produced: usize,
    resent_batches: u64,
    in_stream: usize,
    processed: usize,
    duplicates: usize,
    /// Acknowledged by the old master, on neither the new one nor in any
    /// worker's ledger: lost by Redis.
    redis_lost: usize,
    /// Acknowledged and processed, then gone with the old master.
    processed_then_lost: usize,
    /// On the new master, never processed: lost by streamlab.
    lost: Vec<EntryId>,
    /// From the fault to every worker saying `failover`.
    follow: Duration,
    /// `streamlab produce`: its own count of re-sent entries, the seqs it
    /// left twice and those Redis lost.
    produce_resent: u64,
    produce_restored: u64,
    produce_twice: usize,
    produce_missing: usize,
}

fn worker(set: &SentinelSet, stream: &str, name: &str, env: &[(&str, &str)]) -> BinProcess {
    BinProcess::spawn(
        &format!(
            "{} --stream {stream} --group {} worker --name {name} --events json \
             --read-count 20 --block 1s --min-idle 1s --claim-every 500ms",
            set.args(),
            load::GROUP
        ),
        env,
    )
}

fn events(w: &BinProcess, kind: &str) -> Vec<serde_json::Value> {
    w.stdout_lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == kind)
        .collect()
}

/// A worker's lines but the per-entry ones, and its stderr: what it went
/// through.
fn story(w: &BinProcess) -> Vec<String> {
    w.stdout_lines()
        .into_iter()
        .filter(|l| !l.contains("\"processed\"") && !l.contains("\"acked\""))
        .chain(w.stderr_lines())
        .collect()
}

fn processed(workers: &[BinProcess]) -> usize {
    workers.iter().map(|w| events(w, "processed").len()).sum()
}

async fn wait_processed(workers: &[BinProcess], at_least: usize) {
    let deadline = Deadline::new(format!("{at_least} processed"), WAIT);
    while processed(workers) < at_least {
        deadline.tick().await;
    }
}

async fn under_load(fault: Fault) -> Figures {
    let mut set = SentinelSet::start();
    let connector = set.connector();
    let stream = unique("failover");
    let side = unique("produced");
    let mut admin = connector.conn("setup");
    common::raw(
        &mut admin,
        &["XGROUP", "CREATE", &stream, load::GROUP, "0", "MKSTREAM"],
    )
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let producer = tokio::spawn(load::produce(
        connector.conn("producer"),
        vec![stream.clone()],
        stop.clone(),
    ));
    let mut workers = vec![
        worker(&set, &stream, "w1", &[]),
        worker(&set, &stream, "w2", &[("STREAMLAB_RESP", "crate")]),
    ];
    let mut produce = BinProcess::spawn(
        &format!(
            "{} --stream {side} produce --count {PRODUCE} --rate 300",
            set.args()
        ),
        &[],
    );
    wait_processed(&workers, 100).await;
    let deadline = Deadline::new("streamlab produce to be under way", WAIT);
    while streamlab::redis::xlen(&mut admin, &side).await.unwrap_or(0) < 100 {
        deadline.tick().await;
    }

    let (old, started) = (set.master.port, Instant::now());
    let new = tokio::task::block_in_place(|| match fault {
        Fault::ManualFailover => set.failover(),
        Fault::KillMaster => set.kill_master(),
    });
    let until = Instant::now() + WAIT;
    while !workers.iter().all(|w| !events(w, "failover").is_empty()) {
        assert!(
            Instant::now() < until,
            "every worker to say failover within {WAIT:?}: {:#?}",
            workers.iter().map(story).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let follow = started.elapsed();
    for w in &workers {
        let said = &events(w, "failover")[0];
        assert_eq!(said["old"], format!("127.0.0.1:{old}"), "{said}");
        assert_eq!(said["new"], format!("127.0.0.1:{new}"), "{said}");
    }
    wait_processed(&workers, processed(&workers) + 100).await;

    stop.store(true, Ordering::Relaxed);
    let produced = producer.await.expect("the producer ran");
    let produce_out = produce.wait_exit(WAIT).await;
    assert!(produce_out.success(), "{:?}", produce.stderr_lines());
    let mut conn = connector.conn("check");
    let deadline = Deadline::new("the PEL to empty on the new master", WAIT);
    while !drain::settled(&mut conn, &stream, load::GROUP).await {
        deadline.tick().await;
    }
    for w in &workers {
        w.terminate();
    }
    for w in &mut workers {
        assert!(w.wait_exit(WAIT).await.success(), "{:?}", w.stderr_lines());
        assert_eq!(events(w, "worker_started").len(), 1, "never restarted");
        assert_eq!(events(w, "failed").len(), 0);
    }
    let mut figures = ledger(&mut conn, &stream, &workers, &produced).await;
    figures.follow = follow;
    side_figures(&mut conn, &side, &produce, &mut figures).await;
    figures
}

/// The server's stream against the producer's acknowledgements and the
/// workers' ledgers.
async fn ledger(
    conn: &mut streamlab::redis::Conn,
    stream: &str,
    workers: &[BinProcess],
    produced: &load::Produced,
) -> Figures {
    let held: HashSet<EntryId> = drain::all_entries(conn, stream)
        .await
        .iter()
        .map(|e| e.id)
        .collect();
    let mut done: HashMap<EntryId, usize> = HashMap::new();
    for w in workers {
        for e in events(w, "processed") {
            let id = e["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
            *done.entry(id).or_default() += 1;
        }
    }
    let acked: HashSet<EntryId> = produced.acked.iter().map(|(_, id)| *id).collect();
    let gone: Vec<&EntryId> = acked.iter().filter(|id| !held.contains(id)).collect();
    let mut lost: Vec<EntryId> = held
        .iter()
        .filter(|id| !done.contains_key(id))
        .copied()
        .collect();
    lost.sort();
    Figures {
        produced: acked.len(),
        resent_batches: produced.resent_batches,
        in_stream: held.len(),
        processed: done.len(),
        duplicates: done.values().map(|n| n - 1).sum(),
        redis_lost: gone.iter().filter(|id| !done.contains_key(id)).count(),
        processed_then_lost: gone.iter().filter(|id| done.contains_key(id)).count(),
        lost,
        ..Figures::default()
    }
}

/// `streamlab produce` through the fault: every count acknowledged, and
/// the seqs in the stream twice no more than it says it re-sent.
async fn side_figures(
    conn: &mut streamlab::redis::Conn,
    side: &str,
    produce: &BinProcess,
    figures: &mut Figures,
) {
    let out = produce.stdout_lines().join("\n");
    assert!(out.contains(&format!("added {PRODUCE} tasks")), "{out}");
    figures.produce_resent = out
        .lines()
        .find(|l| l.contains("sent again after a connection error"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for e in drain::all_entries(conn, side).await {
        if let Some(seq) = e.field_str("seq").and_then(|s| s.parse().ok()) {
            *seen.entry(seq).or_default() += 1;
        }
    }
    figures.produce_restored = out
        .lines()
        .find(|l| l.contains("were missing on the new master"))
        .and_then(|l| l.split_whitespace().nth(4)?.parse().ok())
        .unwrap_or(0);
    figures.produce_twice = seen.values().filter(|n| **n > 1).count();
    figures.produce_missing = (1..=PRODUCE).filter(|s| !seen.contains_key(s)).count();
    // Every count lands: what the old master never passed on was added again.
    assert_eq!(figures.produce_missing, 0, "{figures:?}\n{out}");
    assert!(
        figures.produce_twice as u64 <= figures.produce_resent,
        "{} seqs twice but only {} re-sent: {figures:?}",
        figures.produce_twice,
        figures.produce_resent
    );
}

fn report(what: &str, f: &Figures) {
    let line = format!(
        "{what}: followed in {:.1} s; produced {} (re-sent batches {}), in the stream {}, processed {} distinct, duplicates {}; Redis lost {} (and {} more it lost after they were processed); streamlab lost {}; streamlab produce: re-sent {}, twice {}, lost by Redis and added again {}, missing {} of {PRODUCE}\n",
        f.follow.as_secs_f64(),
        f.produced,
        f.resent_batches,
        f.in_stream,
        f.processed,
        f.duplicates,
        f.redis_lost,
        f.processed_then_lost,
        f.lost.len(),
        f.produce_resent,
        f.produce_twice,
        f.produce_restored,
        f.produce_missing,
    );
    // Past the harness's capture: the figures show in CI logs.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

fn assert_streamlab_lost_nothing(f: &Figures) {
    assert!(f.produced > 0 && f.processed > 0, "{f:?}");
    assert!(
        f.lost.is_empty(),
        "streamlab lost {} entries on the new master, e.g. {:?}",
        f.lost.len(),
        &f.lost[..f.lost.len().min(10)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_under_load_is_followed_and_loses_nothing_streamlab_was_given() {
    let f = under_load(Fault::ManualFailover).await;
    report("SENTINEL FAILOVER", &f);
    assert_streamlab_lost_nothing(&f);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_master_is_replaced_and_every_entry_on_the_new_one_is_processed() {
    let f = under_load(Fault::KillMaster).await;
    report("kill -9 of the master", &f);
    assert_streamlab_lost_nothing(&f);
}
