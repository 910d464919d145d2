//! Chaos suite: tasks are produced while three `streamlab worker --events
//! json` processes consume, and real faults hit at random moments: kill -9
//! of a worker (a replacement starts), CLIENT KILL of every client, CLIENT
//! PAUSE, and kill -9 + restart of a redis-server running with appendonly
//! yes / appendfsync always. At the end every task the server acknowledged
//! must appear as processed (or dead-lettered after max deliveries) in the
//! workers' ledgers, the PEL must be empty, and duplicates are counted and
//! printed. (A restart *without* persistence, which loses the stream on
//! the server, is `amnesia.rs`.)
//!
//! A cluster round does the same on a local Redis Cluster (three masters,
//! a replica each), with cluster faults: kill -9 of a worker, CLIENT KILL
//! on every master, a migration of the stream's slot to another master by
//! hand (under load, so clients meet ASK), and a manual failover of the
//! stream's master (CLUSTER FAILOVER on its replica).
//!
//! Knobs (scripts/chaos.sh sets them for long runs): CHAOS_TASKS (default
//! 20000), CHAOS_MINUTES (how long production and faults last; default
//! 0.5), CHAOS_SEED (replays a fault schedule), CHAOS_SUMMARY (also write
//! the summary table to this file); for the cluster round
//! CHAOS_CLUSTER_TASKS (default 4000) and CHAOS_CLUSTER_MINUTES (0.25).

#[path = "common/cluster.rs"]
mod cluster;
mod common;
#[path = "common/drain.rs"]
mod drain;
#[path = "common/procs.rs"]
mod procs;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::standalone::{ServerOptions, TestServer};
use common::{connector, server_with, unique, wait_for};
use procs::{GROUP, Proc, count_events, events, ledger, ledger_id, worker};
use streamlab::engine::dead_key;
use streamlab::engine::task::Task;
use streamlab::redis::{Conn, Connector, EntryId, RedisFailure, xadd_batch, xpending_summary};

/// Low on purpose, so that failures (`--fail-rate`) and fault-induced
/// redeliveries reach it and the dead-letter path is exercised too.
const MAX_DELIVERIES: u64 = 3;
const FAIL_RATE: &str = "0.1";

/// The chaos workers: failures on purpose so the dead-letter path runs.
fn chaos_worker(dir: &Path, url: &str, stream: &str, name: &str) -> Proc {
    let max = MAX_DELIVERIES.to_string();
    worker(
        dir,
        url,
        stream,
        name,
        &[
            "--read-count",
            "50",
            "--max-deliveries",
            &max,
            "--fail-rate",
            FAIL_RATE,
            // A little work per task widens the window between a
            // `processed` line and its XACK, where faults make duplicates.
            "--work-ms",
            "1",
        ],
    )
}

async fn try_cmd(conn: &mut Conn, args: &[&str]) -> Result<redis::Value, RedisFailure> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    conn.run(&c, "TEST", false).await
}

/// Answers PING (not LOADING, not paused).
async fn server_ready(conn: &mut Conn) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(2), try_cmd(conn, &["PING"])).await,
        Ok(Ok(_))
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    KillWorker,
    ClientKill,
    ClientPause,
    ServerCrash,
    Migrate,
    Failover,
}

impl Fault {
    /// The faults of the single-server round.
    const SINGLE: [Fault; 4] = [
        Fault::KillWorker,
        Fault::ClientKill,
        Fault::ClientPause,
        Fault::ServerCrash,
    ];
    /// The faults of the cluster round.
    const CLUSTER: [Fault; 4] = [
        Fault::KillWorker,
        Fault::ClientKill,
        Fault::Migrate,
        Fault::Failover,
    ];

    fn label(self) -> &'static str {
        match self {
            Fault::KillWorker => "kill -9 worker + replacement",
            Fault::ClientKill => "CLIENT KILL (every client)",
            Fault::ClientPause => "CLIENT PAUSE ALL (1.5-4 s)",
            Fault::ServerCrash => "kill -9 redis-server + restart (AOF)",
            Fault::Migrate => "migrate the stream's slot (ASK, then MOVED)",
            Fault::Failover => "CLUSTER FAILOVER of the stream's master",
        }
    }
}

/// What the chaos runs against.
enum Target {
    Single(TestServer),
    Cluster(&'static cluster::LocalCluster),
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// What the in-test producer knows: the ids the server acknowledged, and how
/// many batches had to be re-sent after an error (their first attempt may
/// also have landed: those entries are in the stream without an ack).
#[derive(Default)]
struct Produced {
    acked: Vec<EntryId>,
    resent_batches: u64,
}

/// Produce `total` tasks (seq 1..=total) at `rate` per second in small
/// pipelined batches, re-sending a batch after any error. An XADD the
/// server acknowledged under appendfsync always is on disk: it must survive.
async fn produce(mut conn: Conn, stream: String, total: u64, rate: f64) -> Produced {
    const BATCH: u64 = 25;
    let started = Instant::now();
    let mut out = Produced::default();
    let mut seq = 1;
    while seq <= total {
        let n = BATCH.min(total - seq + 1);
        let due = started + Duration::from_secs_f64((seq - 1) as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let tasks: Vec<Task> = (seq..seq + n)
            .map(|s| Task::generate(s, 16, streamlab::redis::id::now_ms()))
            .collect();
        let fields: Vec<_> = tasks.iter().map(Task::to_fields).collect();
        loop {
            match xadd_batch(&mut conn, &stream, None, &fields).await {
                Ok(ids) => {
                    out.acked.extend(ids);
                    break;
                }
                Err(_) => {
                    // Refused, killed, paused or loading: wait and re-send.
                    out.resent_batches += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        seq += n;
    }
    out
}

struct Chaos {
    target: Target,
    /// The kinds of fault this round injects.
    kinds: &'static [Fault],
    connector: Connector,
    admin: Conn,
    url: String,
    stream: String,
    dir: tempfile::TempDir,
    workers: Vec<Proc>,
    /// Killed workers: kept for their ledgers.
    retired: Vec<Proc>,
    spawned: usize,
    rng: fastrand::Rng,
    faults: BTreeMap<Fault, u64>,
}

impl Drop for Chaos {
    /// A failed run keeps its ledgers (one `.out` per worker process) and
    /// their stderr, to read what happened with the seed printed above.
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dir.disable_cleanup(true);
            eprintln!("chaos: ledgers kept in {}", self.dir.path().display());
        }
    }
}

impl Chaos {
    fn cluster(&self) -> &'static cluster::LocalCluster {
        match self.target {
            Target::Cluster(c) => c,
            Target::Single(_) => unreachable!("a cluster fault on a single server"),
        }
    }

    /// Move the stream's slot to another master, by hand, under load: a
    /// moment of ASK between the MIGRATE and SETSLOT NODE.
    async fn migrate(&mut self) {
        let c = self.cluster();
        let slot = streamlab::redis::topology::key_slot(&self.stream);
        let from = c.owner_port(c.ports()[0], slot);
        let others: Vec<u16> = c
            .master_ports()
            .into_iter()
            .filter(|p| *p != from)
            .collect();
        let to = others[self.rng.usize(..others.len())];
        c.begin_migration(slot, from, to);
        tokio::time::sleep(Duration::from_millis(self.rng.u64(200..800))).await;
        c.end_migration(slot, to);
    }

    fn spawn_worker(&mut self) {
        self.spawned += 1;
        let name = format!("w{}", self.spawned);
        let w = chaos_worker(self.dir.path(), &self.url, &self.stream, &name);
        self.workers.push(w);
    }

    async fn wait_ready(&mut self, what: &str) {
        let admin = &mut self.admin;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !server_ready(admin).await {
            assert!(Instant::now() < deadline, "server not ready after {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn inject(&mut self, fault: Fault) {
        match fault {
            Fault::KillWorker => {
                let i = self.rng.usize(..self.workers.len());
                let mut victim = self.workers.swap_remove(i);
                victim.kill9();
                self.retired.push(victim);
                self.spawn_worker();
            }
            Fault::ClientKill => match &self.target {
                Target::Single(_) => {
                    try_cmd(
                        &mut self.admin,
                        &["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"],
                    )
                    .await
                    .expect("admin command");
                }
                Target::Cluster(c) => {
                    for port in c.master_ports() {
                        c.cli_line(port, "CLIENT KILL TYPE normal SKIPME yes");
                    }
                }
            },
            Fault::ClientPause => {
                let ms = self.rng.u64(1500..4000);
                try_cmd(
                    &mut self.admin,
                    &["CLIENT", "PAUSE", &ms.to_string(), "ALL"],
                )
                .await
                .expect("admin command");
                // The pause is the fault: it lasts `ms` by design.
                tokio::time::sleep(Duration::from_millis(ms)).await;
                self.wait_ready("CLIENT PAUSE").await;
            }
            Fault::ServerCrash => {
                let Target::Single(server) = &mut self.target else {
                    unreachable!("not a cluster fault")
                };
                server.kill();
                // Stay down a moment so clients see refused connections.
                let down = self.rng.u64(100..1500);
                tokio::time::sleep(Duration::from_millis(down)).await;
                server.restart().expect("redis-server restarts");
                self.wait_ready("restart").await;
            }
            Fault::Migrate => self.migrate().await,
            Fault::Failover => {
                let c = self.cluster();
                let slot = streamlab::redis::topology::key_slot(&self.stream);
                let owner = c.owner_port(c.ports()[0], slot);
                let replica = c
                    .replica_ports()
                    .into_iter()
                    .find(|r| {
                        c.cli_line(*r, "INFO replication")
                            .contains(&format!("master_port:{owner}"))
                    })
                    .expect("every master has a replica");
                c.failover(replica);
            }
        }
        *self.faults.entry(fault).or_default() += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_loses_no_acknowledged_task() {
    let tasks: u64 = env_or("CHAOS_TASKS", 20_000);
    let minutes: f64 = env_or("CHAOS_MINUTES", 0.5);
    let server = server_with(ServerOptions {
        durable: true,
        ..ServerOptions::default()
    });
    let url = server.url();
    chaos_round(Target::Single(server), &url, &Fault::SINGLE, tasks, minutes).await;
}

/// The cluster round: short in CI (4,000 tasks over 15 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_on_a_cluster_loses_no_acknowledged_task() {
    let tasks: u64 = env_or("CHAOS_CLUSTER_TASKS", 4_000);
    let minutes: f64 = env_or("CHAOS_CLUSTER_MINUTES", 0.25);
    let c = cluster::shared(3, 3);
    chaos_round(
        Target::Cluster(c),
        &c.url(),
        &Fault::CLUSTER,
        tasks,
        minutes,
    )
    .await;
}

async fn chaos_round(target: Target, url: &str, kinds: &'static [Fault], tasks: u64, minutes: f64) {
    let seed: u64 = env_or("CHAOS_SEED", fastrand::u64(..));
    let window = Duration::from_secs_f64((minutes * 60.0).max(5.0));
    eprintln!("chaos: {tasks} tasks over {window:?}, seed {seed} (CHAOS_SEED={seed} replays it)");

    let url = url.to_owned();
    let connector = connector(&url);
    let stream = unique("chaos");
    let mut chaos = Chaos {
        admin: connector.conn("chaos-admin"),
        connector,
        target,
        kinds,
        url,
        stream: stream.clone(),
        dir: tempfile::tempdir().expect("a temp dir"),
        workers: Vec::new(),
        retired: Vec::new(),
        spawned: 0,
        rng: fastrand::Rng::with_seed(seed),
        faults: BTreeMap::new(),
    };
    for _ in 0..3 {
        chaos.spawn_worker();
    }
    let started = Instant::now();
    let producing = Arc::new(AtomicBool::new(true));
    let producer = {
        let conn = chaos.connector.conn("chaos-producer");
        let stream = stream.clone();
        let rate = tasks as f64 / window.as_secs_f64();
        let flag = producing.clone();
        tokio::spawn(async move {
            let p = produce(conn, stream, tasks, rate).await;
            flag.store(false, Ordering::Relaxed);
            p
        })
    };

    // Faults at random moments until production ends and the window is
    // over. The first four are one of each kind, in random order.
    let mut plan = chaos.kinds.to_vec();
    chaos.rng.shuffle(&mut plan);
    let hard_stop = started + window + Duration::from_secs(180);
    while producing.load(Ordering::Relaxed) || started.elapsed() < window {
        assert!(Instant::now() < hard_stop, "production did not finish");
        let gap = chaos.rng.u64(1000..3500);
        tokio::time::sleep(Duration::from_millis(gap)).await;
        let fault = plan
            .pop()
            .unwrap_or_else(|| chaos.kinds[chaos.rng.usize(..chaos.kinds.len())]);
        chaos.inject(fault).await;
    }
    let produced = producer.await.expect("the producer ran");
    let fault_secs = started.elapsed().as_secs_f64();

    // Recovery: every entry delivered and acked (or dead-lettered).
    let mut watch = chaos.connector.conn("chaos-watch");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !drain::settled(&mut watch, &stream, GROUP).await {
        assert!(
            Instant::now() < deadline,
            "the PEL did not empty within 120 s after the faults"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let settle_secs = started.elapsed().as_secs_f64() - fault_secs;

    // Clean stop: SIGTERM finishes in-flight work and exits 0. A worker
    // still connecting has no signal handler yet: wait until it started.
    for w in &chaos.workers {
        wait_for(
            &format!("{} to start", w.name),
            Duration::from_secs(30),
            || {
                let started = count_events(w, "worker_started") > 0;
                async move { started }
            },
        )
        .await;
    }
    for w in &mut chaos.workers {
        let status = w.terminate(Duration::from_secs(15));
        assert!(
            status.is_some_and(|s| s.success()),
            "{} did not stop cleanly on SIGTERM: {status:?}\n{}",
            w.name,
            w.stderr_text()
        );
    }

    let report = verify(&mut chaos, &produced, tasks).await;
    let mut table = String::new();
    let faults_total: u64 = chaos.faults.values().sum();
    table.push_str(&format!(
        "\nchaos summary: seed {seed}, {tasks} tasks, faults for {fault_secs:.0} s, settled {settle_secs:.1} s later\n"
    ));
    table.push_str("| figure | value |\n| --- | --- |\n");
    for (fault, n) in &chaos.faults {
        table.push_str(&format!("| fault: {} | {n} |\n", fault.label()));
    }
    table.push_str(&format!("| faults injected (total) | {faults_total} |\n"));
    table.push_str(&format!(
        "| tasks produced (XADD acknowledged) | {} |\n",
        produced.acked.len()
    ));
    table.push_str(&format!(
        "| stream entries (incl. {} unacknowledged re-sends that landed) | {} |\n",
        report.stream_len as i64 - produced.acked.len() as i64,
        report.stream_len
    ));
    table.push_str(&format!(
        "| processed (distinct ids) | {} |\n",
        report.processed
    ));
    table.push_str(&format!(
        "| dead-lettered (>= {MAX_DELIVERIES} deliveries) | {} |\n",
        report.dead
    ));
    table.push_str(&format!(
        "| dead-letter copies (same id twice) | {} |\n",
        report.dead_copies
    ));
    table.push_str(&format!("| lost | {} |\n", report.lost.len()));
    table.push_str(&format!(
        "| duplicates (extra processed lines) | {} |\n",
        report.duplicates
    ));
    table.push_str(&format!(
        "| worker processes (3 + replacements) | {} |\n",
        chaos.spawned
    ));
    // Written to the real stderr, past the test harness's capture, so the
    // figures show in CI logs even when the test passes.
    let _ = std::io::stderr().write_all(table.as_bytes());
    if let Ok(path) = std::env::var("CHAOS_SUMMARY") {
        std::fs::write(path, &table).expect("CHAOS_SUMMARY is writable");
    }

    for &fault in chaos.kinds {
        assert!(
            chaos.faults.contains_key(&fault),
            "{fault:?} never injected"
        );
    }
    assert_eq!(produced.acked.len() as u64, tasks);
    assert!(
        report.lost.is_empty(),
        "lost {} tasks, e.g. {:?}",
        report.lost.len(),
        report.lost.iter().take(10).collect::<Vec<_>>()
    );
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
}

struct Report {
    stream_len: usize,
    processed: usize,
    dead: usize,
    duplicates: u64,
    /// Extra dead letters for an id already dead-lettered.
    dead_copies: u64,
    lost: Vec<EntryId>,
    problems: Vec<String>,
}

/// Compare the server's stream, PEL and dead letters with the ledgers.
async fn verify(chaos: &mut Chaos, produced: &Produced, tasks: u64) -> Report {
    let mut problems = Vec::new();
    let mut conn = chaos.connector.conn("chaos-verify");
    let stream = chaos.stream.clone();
    let entries = drain::all_entries(&mut conn, &stream).await;
    let in_stream: HashSet<EntryId> = entries.iter().map(|e| e.id).collect();

    // Every seq 1..=tasks is in the stream (re-sends may add a second copy).
    let seqs: HashSet<u64> = entries
        .iter()
        .filter_map(|e| Task::from_entry(e).and_then(|t| t.seq))
        .collect();
    let missing_seqs = (1..=tasks).filter(|s| !seqs.contains(s)).count();
    if missing_seqs > 0 {
        problems.push(format!("{missing_seqs} task seqs missing from the stream"));
    }

    let mut processed: HashMap<EntryId, u64> = HashMap::new();
    // Every dead_lettered event, by id and worker: one id can be
    // dead-lettered twice, by two workers, with different delivery counts
    // (see below).
    let mut ledger_dead: HashMap<(EntryId, String), Vec<u64>> = HashMap::new();
    let killed: HashSet<&str> = chaos.retired.iter().map(|w| w.name.as_str()).collect();
    for w in chaos.workers.iter().chain(&chaos.retired) {
        let lines = ledger(&w.stdout_text());
        for l in events(&lines, "processed") {
            let id: EntryId = ledger_id(l);
            *processed.entry(id).or_default() += 1;
        }
        for l in events(&lines, "dead_lettered") {
            let id: EntryId = ledger_id(l);
            ledger_dead
                .entry((id, w.name.clone()))
                .or_default()
                .push(l["deliveries"].as_u64().unwrap_or(0));
        }
        let err = w.stderr_text();
        if err.contains("panicked") {
            problems.push(format!("{} panicked: {err}", w.name));
        }
    }

    // The dead-letter stream: only entries that really reached max deliveries.
    let dead_entries = drain::all_entries(&mut conn, &dead_key(&stream)).await;
    let mut dead: HashSet<EntryId> = HashSet::new();
    let mut dead_copies = 0;
    for d in &dead_entries {
        let original: Option<EntryId> = d.field_str("original_id").and_then(|s| s.parse().ok());
        let writer = d.field_str("consumer").unwrap_or_default();
        let deliveries: u64 = d
            .field_str("deliveries")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        match original {
            Some(id) if in_stream.contains(&id) => {
                if deliveries < MAX_DELIVERIES {
                    problems.push(format!(
                        "{id} dead-lettered after only {deliveries} deliveries"
                    ));
                }
                // Each dead letter was reported, with its own count. Two
                // can differ: worker A fails the entry at the last delivery
                // and its MULTI (XADD dead + XACK) is held up (CLIENT PAUSE
                // of up to 4 s, a killed socket, a restart) past min-idle
                // (1 s); worker B's XAUTOCLAIM runs first, delivery
                // max + 1, and B dead-letters it as over the limit; then
                // A's MULTI runs too. Two dead letters, 3 and 4: an
                // at-least-once copy, counted below.
                // Its writer's ledger has the line with the same count,
                // unless the writer was killed between EXEC and the line.
                let reported = ledger_dead
                    .get(&(id, writer.clone()))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                if !reported.contains(&deliveries) && !killed.contains(writer.as_str()) {
                    problems.push(format!(
                        "{id}: {writer}'s dead letter says {deliveries} deliveries, its ledger says {reported:?}"
                    ));
                }
                if !dead.insert(id) {
                    // An EXEC whose reply was lost is sent again: the copy
                    // is at-least-once, like a duplicate `processed` line.
                    dead_copies += 1;
                }
            }
            other => problems.push(format!("dead letter {} for unknown id {other:?}", d.id)),
        }
    }

    // Nothing acknowledged vanished from the server; nothing in the stream
    // was left unprocessed.
    let mut lost: Vec<EntryId> = produced
        .acked
        .iter()
        .chain(in_stream.iter())
        .filter(|id| !processed.contains_key(id) && !dead.contains(id))
        .copied()
        .collect();
    lost.sort();
    lost.dedup();
    for id in &produced.acked {
        if !in_stream.contains(id) {
            problems.push(format!(
                "{id} was acknowledged by XADD but is gone from the server"
            ));
        }
    }
    for id in processed.keys() {
        if !in_stream.contains(id) {
            problems.push(format!("{id} processed but never in the stream"));
        }
    }
    let pending = xpending_summary(&mut conn, &stream, GROUP)
        .await
        .expect("XPENDING");
    if pending.count != 0 {
        problems.push(format!("PEL not empty: {pending:?}"));
    }
    Report {
        stream_len: entries.len(),
        processed: processed.len(),
        dead: dead.len(),
        duplicates: processed.values().map(|n| n - 1).sum(),
        dead_copies,
        lost,
        problems,
    }
}
