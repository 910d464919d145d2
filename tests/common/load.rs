//! Load under faults: an in-test producer task and `streamlab worker
//! --events json` processes on a stream (or on each partition of one),
//! drained at the end and handed to the ledger check (`ledger.rs`).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use streamlab::engine::registry;
use streamlab::engine::task::Task;
use streamlab::redis::{Conn, Connector, EntryId, xadd_batch, xpending_summary};

use crate::common::{self, BinProcess};
use crate::drain;
use crate::ledger::{Report, verify};

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
    /// The URL the workers are given.
    pub url: String,
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
            url: url.to_owned(),
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

    /// A slow worker (200 ms a task) is started, and once it holds
    /// entries in the PEL of some partition it is killed with -9: they
    /// stay pending under its name until another worker claims them,
    /// which this waits for.
    pub async fn kill_a_worker_holding_entries(&mut self) {
        let mut victim = worker(&self.url, &self.stream, "slow", "--work-ms 200");
        let mut conn = self.connector.conn("kill-check");
        let deadline = common::Deadline::new("the slow worker to hold entries", WAIT);
        'held: loop {
            for key in &self.keys {
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
        self.retired.push(victim);
        let deadline =
            common::Deadline::new("another worker to claim the slow one's entries", WAIT);
        while !self
            .workers
            .iter()
            .flat_map(BinProcess::stdout_lines)
            .any(|l| l.contains("\"event\":\"reclaimed\"") && l.contains("\"slow\""))
        {
            deadline.tick().await;
        }
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
