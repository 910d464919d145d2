//! Faults on a real local Redis Cluster (three masters and a replica of
//! the first), each proved with a ledger: tasks are produced while
//! `streamlab worker --events json` processes drain them, a fault hits,
//! and at the end every id the server acknowledged (and every entry in the
//! stream) is processed or dead-lettered, the PEL is empty, and lost = 0.
//!
//! - a slot migration of the stream's slot by hand (SETSLOT IMPORTING and
//!   MIGRATING, MIGRATE, SETSLOT NODE on every master) under load;
//! - a manual failover (CLUSTER FAILOVER on the replica) under load;
//! - kill -9 of a worker: another one claims its entries (XAUTOCLAIM);
//! - all three in turn on a stream of 3 partitions, one per master, the
//!   ledger kept by partition.
//!
//! Of each test's two workers one reads on streamlab's RESP2 link, the
//! other on the crate's connection (`STREAMLAB_RESP=crate`, what TLS
//! uses). The faults change the cluster for every test of this binary, so
//! they run one at a time.

#[path = "common/cluster.rs"]
mod cluster;
mod common;
#[path = "common/drain.rs"]
mod drain;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use streamlab::engine::dead_key;
use streamlab::engine::registry;
use streamlab::engine::task::Task;
use streamlab::redis::topology::{Master, key_slot};
use streamlab::redis::{Conn, Connector, EntryId, xadd_batch, xpending_summary};

use common::{BinProcess, unique};

const GROUP: &str = "workers";
const WAIT: Duration = Duration::from_secs(60);

fn cluster() -> &'static cluster::LocalCluster {
    cluster::shared(3, 1)
}

/// One fault at a time: each changes the cluster under every test here.
/// (A tokio mutex: each test has its own runtime, and the guard is held
/// across awaits.)
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

fn worker(url: &str, stream: &str, name: &str, extra: &str) -> BinProcess {
    worker_with(url, stream, name, extra, &[])
}

fn worker_with(
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
type Id = (String, EntryId);

/// Ids the server acknowledged to the in-test producer, by partition.
#[derive(Default)]
struct Produced {
    acked: Vec<Id>,
    resent_batches: u64,
}

/// Produce batches of 20 tasks every 40 ms until `stop`, each batch to the
/// next partition in turn, re-sending a batch after any error (its first
/// attempt may have landed too).
async fn produce(mut conn: Conn, keys: Vec<String>, stop: Arc<AtomicBool>) -> Produced {
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
struct Load {
    connector: Connector,
    /// The logical stream the workers are given.
    stream: String,
    /// Its partitions (the stream itself when it has none).
    keys: Vec<String>,
    stop: Arc<AtomicBool>,
    producer: tokio::task::JoinHandle<Produced>,
    workers: Vec<BinProcess>,
    retired: Vec<BinProcess>,
}

impl Load {
    async fn start(url: &str, stream: &str, workers: usize) -> Self {
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
    async fn start_partitioned(url: &str, stream: &str, partitions: usize, workers: usize) -> Self {
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

    async fn run(
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

    fn processed(&self) -> usize {
        self.workers
            .iter()
            .chain(&self.retired)
            .flat_map(BinProcess::stdout_lines)
            .filter(|l| l.contains("\"event\":\"processed\""))
            .count()
    }

    async fn wait_processed(&self, at_least: usize) {
        let deadline = common::Deadline::new(format!("{at_least} processed"), WAIT);
        while self.processed() < at_least {
            deadline.tick().await;
        }
    }

    /// Stop producing, let the workers drain, stop them; then compare the
    /// server with the ledgers.
    async fn finish(mut self) -> Report {
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
struct Report {
    partitions: usize,
    produced: usize,
    resent_batches: u64,
    processed: usize,
    dead: usize,
    duplicates: usize,
    lost: Vec<Id>,
    failed_events: usize,
    reconnecting_events: usize,
    problems: Vec<String>,
}

async fn verify(conn: &mut Conn, load: &Load, produced: &Produced) -> Report {
    let mut in_stream: HashSet<Id> = HashSet::new();
    let mut dead: HashSet<Id> = HashSet::new();
    let mut problems = Vec::new();
    for key in &load.keys {
        for e in drain::all_entries(conn, key).await {
            in_stream.insert((key.clone(), e.id));
        }
        for d in drain::all_entries(conn, &dead_key(key)).await {
            if let Some(id) = d.field_str("original_id").and_then(|s| s.parse().ok()) {
                dead.insert((key.clone(), id));
            }
        }
        let pending = xpending_summary(conn, key, GROUP).await.expect("XPENDING");
        if pending.count != 0 {
            problems.push(format!("{key}: PEL not empty: {pending:?}"));
        }
    }
    let mut processed: HashMap<Id, usize> = HashMap::new();
    let (mut failed_events, mut reconnecting_events) = (0, 0);
    for (n, w) in load.workers.iter().chain(&load.retired).enumerate() {
        let mine = w
            .stdout_lines()
            .iter()
            .filter(|l| l.contains("\"event\":\"processed\""))
            .count();
        if mine == 0 && n < load.workers.len() {
            problems.push(format!(
                "worker {n} (RESP link or crate's) processed nothing"
            ));
        }
        for line in w.stdout_lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue; // a worker killed mid-line
            };
            match v["event"].as_str() {
                Some("processed") => {
                    let key = v["stream"].as_str().expect("stream").to_owned();
                    let id: EntryId = v["id"].as_str().and_then(|s| s.parse().ok()).expect("id");
                    *processed.entry((key, id)).or_default() += 1;
                }
                Some("failed" | "error") => failed_events += 1,
                Some("reconnecting") => reconnecting_events += 1,
                _ => {}
            }
        }
        let err = w.stderr_lines().join("\n");
        if err.contains("panicked") {
            problems.push(format!("a worker panicked: {err}"));
        }
    }
    for id in &produced.acked {
        if !in_stream.contains(id) {
            problems.push(format!("{id:?} was acknowledged by XADD but is gone"));
        }
    }
    let mut lost: Vec<Id> = produced
        .acked
        .iter()
        .chain(&in_stream)
        .filter(|id| !processed.contains_key(*id) && !dead.contains(*id))
        .cloned()
        .collect();
    lost.sort();
    lost.dedup();
    let report = Report {
        partitions: load.keys.len(),
        produced: produced.acked.len(),
        resent_batches: produced.resent_batches,
        processed: processed.len(),
        dead: dead.len(),
        duplicates: processed.values().map(|n| n - 1).sum(),
        lost,
        failed_events,
        reconnecting_events,
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

impl Report {
    fn summary(&self) -> String {
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

fn assert_nothing_lost(report: &Report) {
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

/// The masters as every node sees them now (earlier tests moved things).
async fn current_masters(url: &str) -> Vec<Master> {
    common::connector(url).masters().await.expect("masters")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_migrated_under_load_loses_nothing() {
    let _serial = one_at_a_time().await;
    let c = cluster();
    let masters = current_masters(&c.url()).await;
    let (from, to) = (&masters[1], &masters[2]);
    let stream = cluster::stream_on(from, &unique("migrate"), false);
    let slot = key_slot(&stream);
    let load = Load::start(&c.url(), &stream, 2).await;
    let asking_before = command_calls(c, to.addr.port, "asking");

    c.begin_migration(slot, from.addr.port, to.addr.port);
    // Clients now meet ASK for the moved keys: let them, under load.
    let before = load.processed();
    load.wait_processed(before + 50).await;
    c.end_migration(slot, to.addr.port);
    let before = load.processed();
    load.wait_processed(before + 100).await;

    let report = load.finish().await;
    assert_nothing_lost(&report);
    assert!(
        command_calls(c, to.addr.port, "asking") > asking_before,
        "the ASK path was never taken"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_failover_under_load_loses_nothing() {
    let _serial = one_at_a_time().await;
    let c = cluster();
    // CLUSTER SLOTS lists a replica only once its replication offset has
    // moved, so ask the replica whom it follows.
    let replica = c.replica_ports()[0];
    let primary_port = primary_of(c, replica);
    let masters = current_masters(&c.url()).await;
    let primary = masters
        .iter()
        .find(|m| m.addr.port == primary_port)
        .unwrap_or_else(|| panic!("no master {primary_port}: {masters:?}"))
        .clone();
    let stream = cluster::stream_on(&primary, &unique("failover"), false);
    // The URL names the master that is about to become a replica.
    let load = Load::start(&c.url_of(primary.addr.port), &stream, 2).await;
    let redirected_before = redirects_met(c, primary.addr.port);
    assert_eq!(c.failover(replica), primary.addr.port);
    let before = load.processed();
    load.wait_processed(before + 100).await;
    let report = load.finish().await;
    assert_nothing_lost(&report);
    // The old master sent the clients on (MOVED, UNBLOCKED): they followed.
    assert!(
        redirects_met(c, primary.addr.port) > redirected_before,
        "no client was redirected by the old master"
    );
}

/// MOVED and UNBLOCKED replies the node at `port` has given (INFO errorstats).
fn redirects_met(c: &cluster::LocalCluster, port: u16) -> u64 {
    let stats = c.cli_line(port, "INFO errorstats");
    ["MOVED", "UNBLOCKED"]
        .iter()
        .filter_map(|code| {
            stats
                .lines()
                .find_map(|l| l.trim().strip_prefix(&format!("errorstat_{code}:count=")))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_s_entries_are_claimed_by_another() {
    let _serial = one_at_a_time().await;
    let c = cluster();
    let masters = current_masters(&c.url()).await;
    let m = masters.last().expect("a master");
    let stream = cluster::stream_on(m, &unique("kill"), false);
    let mut load = Load::start(&c.url(), &stream, 2).await;
    // A slow worker (200 ms a task) holding entries in its PEL is killed
    // with -9: they stay pending under its name until another claims them.
    let mut victim = worker(&c.url(), &stream, "slow", "--work-ms 200");
    let mut conn = load.connector.conn("kill-check");
    let deadline = common::Deadline::new("the slow worker to hold entries", WAIT);
    loop {
        let pel = xpending_summary(&mut conn, &stream, GROUP)
            .await
            .expect("XPENDING");
        if pel
            .consumers
            .iter()
            .any(|(name, n)| name == "slow" && *n > 0)
        {
            break;
        }
        deadline.tick().await;
    }
    victim.kill9().await;
    load.retired.push(victim);
    let reclaimed = |load: &Load| {
        load.workers
            .iter()
            .flat_map(BinProcess::stdout_lines)
            .filter(|l| l.contains("\"event\":\"reclaimed\"") && l.contains("\"slow\""))
            .count()
    };
    let deadline = common::Deadline::new("another worker to claim the slow one's entries", WAIT);
    while reclaimed(&load) == 0 {
        deadline.tick().await;
    }
    let report = load.finish().await;
    assert_nothing_lost(&report);
}

/// Calls of `command` on the node at `port` since it started.
fn command_calls(c: &cluster::LocalCluster, port: u16, command: &str) -> u64 {
    let stats = c.cli_line(port, "INFO commandstats");
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{command}:calls=")))
        .and_then(|rest| rest.split(',').next()?.trim().parse().ok())
        .unwrap_or(0)
}

/// The same three faults on a stream of 3 partitions, one per master, with
/// the ledger kept by partition: one partition's slot migrated under load,
/// a failover of the master serving another, kill -9 of a worker holding
/// entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_stream_loses_nothing_through_migration_failover_and_kill() {
    let _serial = one_at_a_time().await;
    let c = cluster();
    let url = c.url();
    let mut load = Load::start_partitioned(&url, &unique("parted"), 3, 2).await;
    let replica = c.replica_ports()[0];
    let replicated = primary_of(c, replica);
    let owners: Vec<u16> = load
        .keys
        .iter()
        .map(|k| c.owner_port(replicated, key_slot(k)))
        .collect();
    assert_eq!(owners.iter().collect::<HashSet<_>>().len(), 3, "{owners:?}");

    // Migrate a partition not on the replicated master to the third master,
    // so the failover below still hits a partition.
    let i = owners
        .iter()
        .position(|o| *o != replicated)
        .expect("a partition elsewhere");
    let to = *owners
        .iter()
        .find(|o| **o != replicated && **o != owners[i])
        .expect("a third master");
    let slot = key_slot(&load.keys[i]);
    c.begin_migration(slot, owners[i], to);
    load.wait_processed(load.processed() + 50).await;
    c.end_migration(slot, to);
    load.wait_processed(load.processed() + 100).await;

    assert_eq!(c.failover(replica), replicated);
    load.wait_processed(load.processed() + 100).await;

    let mut victim = worker(&url, &load.stream, "slow", "--work-ms 200");
    let mut conn = load.connector.conn("kill-check");
    let deadline = common::Deadline::new("the slow worker to hold entries", WAIT);
    'held: loop {
        for key in &load.keys {
            let pel = xpending_summary(&mut conn, key, GROUP)
                .await
                .expect("XPENDING");
            if pel
                .consumers
                .iter()
                .any(|(name, n)| name == "slow" && *n > 0)
            {
                break 'held;
            }
        }
        deadline.tick().await;
    }
    victim.kill9().await;
    load.retired.push(victim);
    let deadline = common::Deadline::new("another worker to claim the slow one's entries", WAIT);
    while !load
        .workers
        .iter()
        .flat_map(BinProcess::stdout_lines)
        .any(|l| l.contains("\"event\":\"reclaimed\"") && l.contains("\"slow\""))
    {
        deadline.tick().await;
    }
    let report = load.finish().await;
    assert_eq!(report.partitions, 3);
    assert_nothing_lost(&report);
}

/// Without load: a command, a pipeline and a MULTI/EXEC each follow ASK
/// during a migration, a two-key MULTI waits out TRYAGAIN, then MOVED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_request_follows_a_migration() {
    let _serial = one_at_a_time().await;
    let c = cluster();
    cluster::migration_is_followed(c, &common::connector(&c.url())).await;
}

/// The master `replica` follows.
fn primary_of(c: &cluster::LocalCluster, replica: u16) -> u16 {
    let info = c.cli_line(replica, "INFO replication");
    info.lines()
        .find_map(|l| l.trim().strip_prefix("master_port:")?.parse().ok())
        .unwrap_or_else(|| panic!("{replica} is not a replica: {info}"))
}
