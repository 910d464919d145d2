//! Shared helpers for the integration tests: private redis-server
//! processes on free ports, connections, raw commands, and waiting on a
//! condition with a deadline (never sleep-and-hope).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::future::Future;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use streamlab::engine::Event;
use streamlab::engine::event::{SharedSink, VecSink};
use streamlab::engine::task::Task;
use streamlab::engine::worker::{Behaviour, Worker, WorkerConfig, WorkerExit};
use streamlab::redis::config::{RedisInputs, RedisSettings};
use streamlab::redis::{Conn, Connector, EntryId, GroupRead};
use tokio_util::sync::CancellationToken;

pub mod standalone;

use standalone::{ServerOptions, TestServer};

/// Start a plain private server.
pub fn server() -> TestServer {
    server_with(ServerOptions::default())
}

/// Start a private server with `options`, of the binary the run tests
/// (see [`server_binary`]) unless `options` names one.
pub fn server_with(mut options: ServerOptions) -> TestServer {
    if options.binary.is_none() {
        options.binary = server_binary();
    }
    TestServer::start(options).unwrap_or_else(|e| {
        panic!(
            "cannot start {} (it must be installed to run the integration tests): {e}",
            server_binary_name()
        )
    })
}

/// The server binary every test runs against: `STREAMLAB_TEST_SERVER`
/// (a path, e.g. a Valkey or an older Redis fetched by scripts/servers.sh),
/// else `redis-server` from PATH. The one place the matrix chooses it.
pub fn server_binary() -> Option<std::path::PathBuf> {
    std::env::var_os("STREAMLAB_TEST_SERVER")
        .filter(|v| !v.is_empty())
        .map(Into::into)
}

/// The binary [`server_with`] starts, for messages.
pub fn server_binary_name() -> String {
    server_binary().map_or_else(|| "redis-server".into(), |p| p.display().to_string())
}

/// A stream key unique to this test run.
pub fn unique(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "t{}:{name}:{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn connector(url: &str) -> Connector {
    let settings = RedisSettings::from_inputs(&RedisInputs {
        url: Some(url.to_owned()),
        ..RedisInputs::default()
    })
    .expect("valid url");
    Connector::new(settings).expect("connector")
}

/// Run a raw command for test set-up and inspection.
pub async fn raw(conn: &mut Conn, args: &[&str]) -> redis::Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    conn.run(&c, "TEST", false)
        .await
        .unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// Run a raw command written as one line (arguments without spaces).
pub async fn raw_line(conn: &mut Conn, line: &str) -> redis::Value {
    raw(conn, &line.split_whitespace().collect::<Vec<_>>()).await
}

/// Poll `check` until it returns true or `within` passes; panics naming `what`.
pub async fn wait_for<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Path of the built binary, for tests that run it as a process.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_streamlab")
}

/// The command line of a dashboard or watch run in tmux: the binary,
/// `args`, then a 200 ms refresh so the screen shows a change soon.
pub fn screen_line(args: &[&str]) -> Vec<String> {
    std::iter::once(bin())
        .chain(args.iter().copied())
        .chain(["--refresh", "200ms"])
        .map(ToString::to_string)
        .collect()
}

// ---------------------------------------------------------------------------
// Waiting inside loops that need `&mut` access (a connection) between checks.

/// A deadline for a hand-written wait loop: `while !done { deadline.tick().await }`.
/// Each tick sleeps one poll interval, or panics naming `what` once time is up.
pub struct Deadline {
    what: String,
    within: Duration,
    until: Instant,
}

impl Deadline {
    pub fn new(what: impl Into<String>, within: Duration) -> Self {
        Self {
            what: what.into(),
            within,
            until: Instant::now() + within,
        }
    }

    pub async fn tick(&self) {
        assert!(
            Instant::now() < self.until,
            "timed out after {:?} waiting for: {}",
            self.within,
            self.what
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

// ---------------------------------------------------------------------------
// Stream set-up and inspection.

/// XADD `n` generated tasks; returns their ids in order.
pub async fn add_tasks(conn: &mut Conn, stream: &str, n: u64) -> Vec<EntryId> {
    let now = streamlab::redis::id::now_ms();
    let tasks: Vec<Task> = (0..n).map(|seq| Task::generate(seq, 16, now)).collect();
    let fields: Vec<_> = tasks.iter().map(Task::to_fields).collect();
    streamlab::redis::xadd_batch(conn, stream, None, &fields)
        .await
        .expect("XADD")
}

/// How many entries the group's PEL holds (XPENDING summary).
pub async fn pending_count(conn: &mut Conn, stream: &str, group: &str) -> u64 {
    streamlab::redis::xpending_summary(conn, stream, group)
        .await
        .expect("XPENDING")
        .count
}

/// Wait until the group's PEL is empty. A worker reports an entry
/// processed before it sends the XACK, so the PEL empties a moment later.
pub async fn wait_pel_empty(conn: &mut Conn, stream: &str, group: &str, within: Duration) {
    let deadline = Deadline::new(format!("{group}'s PEL on {stream} empty"), within);
    while pending_count(conn, stream, group).await > 0 {
        deadline.tick().await;
    }
}

/// Read up to `count` new entries for `consumer` without acking them, so
/// they sit in its PEL (a consumer that read and then died).
pub async fn read_without_ack(
    conn: &mut Conn,
    stream: &str,
    group: &str,
    consumer: &str,
    count: usize,
) -> Vec<EntryId> {
    streamlab::redis::xreadgroup(conn, stream, group, consumer, GroupRead::New, count, None)
        .await
        .expect("XREADGROUP")
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// The `id=` of the client named `name` in CLIENT LIST, if connected.
pub async fn client_id(conn: &mut Conn, name: &str) -> Option<String> {
    client_fields(conn, name)
        .await
        .and_then(|f| f.get("id").cloned())
}

/// All `key=value` fields of the client named `name` in CLIENT LIST.
pub async fn client_fields(
    conn: &mut Conn,
    name: &str,
) -> Option<std::collections::HashMap<String, String>> {
    let list = raw(conn, &["CLIENT", "LIST"]).await;
    let text = streamlab::redis::reply::text(&list).unwrap_or_default();
    text.lines()
        .map(|line| {
            line.split(' ')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<std::collections::HashMap<_, _>>()
        })
        .find(|fields| fields.get("name").is_some_and(|n| n == name))
}

// ---------------------------------------------------------------------------
// Group workers run in-process, reporting into a VecSink.

/// Worker settings scaled for tests: short BLOCK so stopping is quick,
/// reclaims effectively off unless a test turns them on.
pub fn test_worker_config(stream: &str, group: &str, consumer: &str) -> WorkerConfig {
    WorkerConfig {
        stream: stream.to_owned(),
        group: group.to_owned(),
        consumer: consumer.to_owned(),
        count: 10,
        block: Duration::from_millis(300),
        claim_every: Duration::from_secs(600),
        min_idle: Duration::from_secs(600),
        claim_count: 10,
        max_deliveries: 5,
        ack_delete: false,
    }
}

/// A worker running on the test's runtime.
pub struct RunningWorker {
    pub events: Arc<VecSink>,
    pub behaviour: Arc<Behaviour>,
    cancel: CancellationToken,
    handle: Option<tokio::task::JoinHandle<WorkerExit>>,
}

impl RunningWorker {
    /// Start `config` on its own blocking connection (as the commands do).
    pub fn spawn(connector: &Connector, config: WorkerConfig, behaviour: Behaviour) -> Self {
        let conn = connector.blocking_conn(format!("worker:{}", config.consumer), config.block);
        let events = Arc::new(VecSink::default());
        let behaviour = Arc::new(behaviour);
        let sink: SharedSink = events.clone();
        let worker = Worker::new(conn, config, behaviour.clone(), sink);
        let cancel = CancellationToken::new();
        let handle = tokio::spawn(worker.run(cancel.clone()));
        Self {
            events,
            behaviour,
            cancel,
            handle: Some(handle),
        }
    }

    /// The events so far, in order (a copy; the worker keeps appending).
    pub fn events(&self) -> Vec<Event> {
        self.events
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Ids of `processed` events so far, in order.
    pub fn processed(&self) -> Vec<EntryId> {
        self.events()
            .iter()
            .filter_map(|e| match e {
                Event::Processed { id, .. } => Some(*id),
                _ => None,
            })
            .collect()
    }

    /// Wait until every id in `ids` has a `processed` event.
    pub async fn wait_processed(&self, what: &str, ids: &[EntryId], within: Duration) {
        let deadline = Deadline::new(what, within);
        while !ids.iter().all(|id| self.processed().contains(id)) {
            deadline.tick().await;
        }
    }

    /// Abort the task mid-flight, as if the process died: nothing is acked.
    pub async fn abort(mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
            let _ = h.await;
        }
    }

    /// Cancel and wait for the worker to finish its in-flight work.
    pub async fn stop(mut self) -> WorkerExit {
        self.cancel.cancel();
        let handle = self.handle.take().expect("worker still running");
        tokio::time::timeout(Duration::from_secs(10), handle)
            .await
            .expect("worker stops within 10 s of cancel")
            .expect("worker task did not panic")
    }
}

impl Drop for RunningWorker {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

// ---------------------------------------------------------------------------
// The streamlab binary as a child process, killed when dropped.

/// A `streamlab` child process whose output lines are collected as they
/// come. Dropping it (panics included) sends SIGKILL.
pub struct BinProcess {
    child: tokio::process::Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
    _cwd: tempfile::TempDir,
}

/// A `streamlab` command with a clean environment (no REDIS_* or
/// STREAMLAB_* leaking in from the developer's shell) and an empty working
/// directory (no stray `.env`). `line` is split on whitespace, so tests
/// read like the shell commands they stand for.
fn bin_command(line: &str, env: &[(&str, &str)]) -> (tokio::process::Command, tempfile::TempDir) {
    let cwd = tempfile::tempdir().expect("temp dir");
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(line.split_whitespace())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .current_dir(cwd.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    (cmd, cwd)
}

fn collect_lines<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    from: R,
    into: Arc<Mutex<Vec<String>>>,
) -> tokio::task::JoinHandle<()> {
    use tokio::io::AsyncBufReadExt;
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(from).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            into.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(line);
        }
    })
}

impl BinProcess {
    /// Start `streamlab <line>`.
    pub fn spawn(line: &str, env: &[(&str, &str)]) -> Self {
        let (mut cmd, cwd) = bin_command(line, env);
        let mut child = cmd.spawn().expect("spawn streamlab");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect_lines(child.stdout.take().expect("piped stdout"), stdout.clone()),
            collect_lines(child.stderr.take().expect("piped stderr"), stderr.clone()),
        ];
        Self {
            child,
            stdout,
            stderr,
            readers,
            _cwd: cwd,
        }
    }

    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("process still running")
    }

    /// SIGKILL: the process dies mid-work, acking nothing more.
    pub async fn kill9(&mut self) {
        self.child.kill().await.expect("kill -9 streamlab");
    }

    /// SIGTERM: ask for a graceful stop.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Wait for the process to exit and its output to be fully read.
    pub async fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "streamlab did not exit within {within:?}; stderr: {:?}",
                    self.stderr_lines()
                )
            })
            .expect("wait for streamlab");
        for reader in self.readers.drain(..) {
            let _ = reader.await;
        }
        status
    }
}

/// What a finished `streamlab` run printed.
#[derive(Debug)]
pub struct BinOutput {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl BinOutput {
    pub fn success(&self) -> bool {
        self.status.success()
    }
}

/// Run `streamlab <line>` to completion (killed if it takes over `within`).
pub async fn run_bin(line: &str, env: &[(&str, &str)], within: Duration) -> BinOutput {
    let (mut cmd, _cwd) = bin_command(line, env);
    let out = tokio::time::timeout(within, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("streamlab {line} did not finish within {within:?}"))
        .expect("run streamlab");
    BinOutput {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// No panic, and stderr holds exactly one `error: ` line, one line
/// long, naming every fragment in `says`, with the expected exit code.
pub fn assert_error(out: &BinOutput, code: i32, says: &[&str]) -> String {
    assert!(!out.stderr.contains("panicked"), "panic: {}", out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit code; stderr: {}",
        out.stderr
    );
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line: {}", out.stderr);
    let line = errors[0].to_owned();
    assert!(line.len() < 600, "a short line, not a dump: {line}");
    for fragment in says {
        assert!(line.contains(fragment), "'{fragment}' missing from: {line}");
    }
    line
}
