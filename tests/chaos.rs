//! Chaos suite: tasks are produced while three `streamlab worker --events
//! json` processes consume, and real faults hit at random moments: kill -9
//! of a worker (a replacement starts), CLIENT KILL of every client, CLIENT
//! PAUSE, and kill -9 + restart of a redis-server running with appendonly
//! yes / appendfsync always. At the end every task the server acknowledged
//! must appear as processed (or dead-lettered after max deliveries) in the
//! workers' ledgers, the PEL must be empty, and duplicates are counted and
//! printed. Also here: a restart *without* persistence, which loses the
//! stream on the server, must be noticed and survived without spinning.
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
#[path = "common/tmux.rs"]
mod tmux;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{bin, connector, server_with, unique, wait_for};
use streamlab::engine::dead_key;
use streamlab::engine::task::Task;
use streamlab::redis::embedded::{EmbeddedServer, ServerOptions};
use streamlab::redis::{Conn, Connector, EntryId, RedisFailure, xadd_batch, xpending_summary};

const GROUP: &str = "workers";
/// Low on purpose, so that failures (`--fail-rate`) and fault-induced
/// redeliveries reach it and the dead-letter path is exercised too.
const MAX_DELIVERIES: u64 = 3;
const FAIL_RATE: &str = "0.1";

/// A child process killed (SIGKILL) and reaped when dropped, so a failing
/// test never leaves workers behind.
struct Proc {
    name: String,
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Proc {
    fn spawn(dir: &Path, name: &str, args: &[&str]) -> Self {
        let stdout = dir.join(format!("{name}.out"));
        let stderr = dir.join(format!("{name}.err"));
        let child = Command::new(bin())
            .args(args)
            // A clean environment and a directory without `.env`: only the
            // flags given here configure the process.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).expect("ledger file"))
            .stderr(File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("the streamlab binary starts");
        Self {
            name: name.to_owned(),
            child,
            stdout,
            stderr,
        }
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for the exit (a clean stop) within `within`.
    fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A `worker --events json` with quick recovery (short min-idle and claim
/// period) plus `extra` flags.
fn worker(dir: &Path, url: &str, stream: &str, name: &str, extra: &[&str]) -> Proc {
    let mut args = vec![
        "--url",
        url,
        "--stream",
        stream,
        "--group",
        GROUP,
        "worker",
        "--name",
        name,
        "--events",
        "json",
        "--min-idle",
        "1s",
        "--claim-every",
        "500ms",
        "--block",
        "1s",
    ];
    args.extend_from_slice(extra);
    Proc::spawn(dir, name, &args)
}

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

/// Every JSON line of a ledger. A worker killed with -9 may leave a cut
/// last line; it is skipped (its XACK was never sent, so the entry comes
/// back to another worker).
fn ledger(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn ledger_id(line: &serde_json::Value) -> EntryId {
    line["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a ledger line with an id")
}

fn events<'a>(
    lines: &'a [serde_json::Value],
    kind: &'a str,
) -> impl Iterator<Item = &'a serde_json::Value> + 'a {
    lines.iter().filter(move |l| l["event"] == kind)
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
    Single(EmbeddedServer),
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

fn count_events(p: &Proc, kind: &str) -> usize {
    events(&ledger(&p.stdout_text()), kind).count()
}

/// Total calls per command since the server started (INFO commandstats).
async fn command_calls(conn: &mut Conn) -> BTreeMap<String, u64> {
    let info = try_cmd(conn, &["INFO", "commandstats"])
        .await
        .expect("INFO commandstats");
    let text = streamlab::redis::reply::text(&info).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

fn produce_with_binary(dir: &Path, url: &str, stream: &str, count: u64) {
    let mut p = Proc::spawn(
        dir,
        &format!("produce-{count}"),
        &[
            "--url",
            url,
            "--stream",
            stream,
            "produce",
            "--count",
            &count.to_string(),
        ],
    );
    let status = p.child.wait().expect("produce runs");
    assert!(status.success(), "produce failed: {}", p.stderr_text());
}

/// The server restarts with nothing on disk: the stream, its group and the
/// PEL are gone. The worker and `monitor` must notice, the worker must
/// re-create the group and say why in plain words, both must keep running
/// (no crash), and neither may spin (bounded command counts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_without_persistence_is_noticed_and_survived() {
    let mut server = common::server();
    let url = server.url();
    let stream = unique("amnesia");
    let dir = tempfile::tempdir().unwrap();
    let mut w = worker(dir.path(), &url, &stream, "w1", &[]);
    let mut monitor = Proc::spawn(
        dir.path(),
        "monitor",
        &[
            "--url",
            &url,
            "--stream",
            &stream,
            "--group",
            GROUP,
            "monitor",
            "--json",
            "--interval",
            "200ms",
        ],
    );
    produce_with_binary(dir.path(), &url, &stream, 30);
    let processed = |p: &Proc| count_events(p, "processed");
    wait_for(
        "30 processed before the restart",
        Duration::from_secs(20),
        || {
            let n = processed(&w);
            async move { n == 30 }
        },
    )
    .await;
    wait_for(
        "the monitor to see 30 entries",
        Duration::from_secs(10),
        || {
            let out = monitor.stdout_text();
            async move { out.contains("\"length\":30") }
        },
    )
    .await;

    server.restart_empty().expect("restart without persistence");
    let restarted = Instant::now();
    wait_for(
        "the worker to re-create the group",
        Duration::from_secs(20),
        || {
            let n = count_events(&w, "group_recreated");
            async move { n >= 1 }
        },
    )
    .await;
    let lines = ledger(&w.stdout_text());
    let reason = events(&lines, "group_recreated")
        .next()
        .and_then(|l| l["reason"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("lost its data"), "reason: {reason}");
    wait_for(
        "the monitor to report the loss",
        Duration::from_secs(20),
        || {
            let err = monitor.stderr_text();
            async move {
                err.contains("warning: stream") && err.contains("restarted without persistence")
            }
        },
    )
    .await;

    // Work goes on after the loss.
    produce_with_binary(dir.path(), &url, &stream, 20);
    wait_for(
        "20 more processed after the restart",
        Duration::from_secs(20),
        || {
            let n = processed(&w);
            async move { n == 50 }
        },
    )
    .await;

    // A measuring window: the rate of commands while idle after recovery.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut admin = common::connector(&url).conn("admin");
    let calls = command_calls(&mut admin).await;
    let secs = restarted.elapsed().as_secs_f64();
    let total: u64 = calls.values().sum();
    // Expected: the worker's ~6 commands/s (XREADGROUP, XAUTOCLAIM,
    // XPENDING) and the monitor's 6 per 200 ms poll, ~40/s; a retry loop
    // without backoff would be thousands per second.
    let bound = (120.0 * secs) as u64 + 200;
    assert!(
        total <= bound,
        "{total} commands in {secs:.1} s (bound {bound}): {calls:?}"
    );
    eprintln!(
        "{total} commands in {secs:.1} s: {calls:?}\nmonitor: {}",
        monitor.stderr_text()
    );
    let creates = calls.get("xgroup|create").copied().unwrap_or(0);
    assert!(
        creates <= 2,
        "XGROUP CREATE sent {creates} times: {calls:?}"
    );
    assert_eq!(count_events(&w, "group_recreated"), 1);
    assert!(
        count_events(&w, "reconnecting") <= 10,
        "{}",
        w.stdout_text()
    );
    let poll_failures = monitor.stderr_text().matches("poll failed").count();
    assert!(poll_failures <= 10, "{}", monitor.stderr_text());

    for p in [&mut w, &mut monitor] {
        let status = p.terminate(Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "{} exit: {status:?}: {}",
            p.name,
            p.stderr_text()
        );
        assert!(!p.stderr_text().contains("panicked"), "{}", p.stderr_text());
    }
}

/// The same loss under the dashboard (in tmux): its event log says in plain
/// words that the server lost the stream, its worker re-creates the group,
/// it stays up and keeps working, and it does not spin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_notices_a_restart_without_persistence() {
    let mut server = common::server();
    let url = server.url();
    let stream = unique("dash-amnesia");
    let args = common::screen_line(&["--url", &url, "--stream", &stream, "--workers", "1"]);
    let t = tmux::Tmux::start(&args, 160, 45);
    let within = Duration::from_secs(20);
    t.wait("the dashboard is up", within, |s| s.contains("● connected"));
    t.keys("P");
    // The poller must have seen the entries, or there is no loss to notice.
    t.wait("100 entries read and polled", within, |s| {
        s.contains("read 100") && s.contains("length 100")
    });

    server.restart_empty().expect("restart without persistence");
    let restarted = Instant::now();
    t.wait("the loss reported in the event log", within, |s| {
        s.contains("lost data on the server") || s.contains("is gone from the server")
    });
    t.wait("the worker to re-create the group", within, |s| {
        s.contains("group workers re-created")
    });

    // Still up, still working: a new burst is read from the new stream.
    t.wait("reconnected", within, |s| s.contains("● connected"));
    t.keys("P");
    t.wait("100 entries read again", within, |s| s.contains("read 200"));
    // A measuring window while idle, then the command count since restart.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut admin = common::connector(&url).conn("admin");
    let calls = command_calls(&mut admin).await;
    let secs = restarted.elapsed().as_secs_f64();
    let total: u64 = calls.values().sum();
    // Expected ~45/s: the poller's 7 commands per 200 ms, the worker's
    // XREADGROUP/XAUTOCLAIM/XPENDING, the basic consumer's XREAD.
    let bound = (150.0 * secs) as u64 + 300;
    assert!(
        total <= bound,
        "{total} commands in {secs:.1} s (bound {bound}): {calls:?}"
    );
    assert!(
        calls.get("xgroup|create").copied().unwrap_or(0) <= 2,
        "{calls:?}"
    );
    t.keys("q");
    let end = t.wait("a clean exit", within, |s| s.contains("EXITED"));
    assert!(end.contains("EXITED 0"), "{end}");
}
