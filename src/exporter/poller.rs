//! The exporter's background poll: every interval, one poll of the
//! keyspace engine (its SCAN step and refresh share) and one step of the
//! poison probe, bounded by [`POLL_TIMEOUT`]; what it learnt is published
//! whole, so a scrape reads one consistent state.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::exporter::clears::ClearsTracker;
use crate::exporter::poison::PoisonProbe;
use crate::exporter::{ExporterConfig, GroupKey};
use crate::monitor::POLL_TIMEOUT;
use crate::monitor::keyspace::Keyspace;
use crate::monitor::keyspace::rows::Row;
use crate::redis::{Conn, Connector, RedisFailure};

/// What the last poll left for the scrapes.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// The overview's rows (partitioned streams folded, dead letters too);
    /// empty while Redis does not answer.
    pub rows: Arc<Vec<Row>>,
    /// Entries delivered at least `--poison-after` times, per group probed.
    pub poison: Arc<HashMap<GroupKey, u64>>,
    /// Seconds until each group's backlog clears, where known.
    pub clears: Arc<HashMap<GroupKey, f64>>,
    /// The last poll got its answers.
    pub up: bool,
    /// Polls that succeeded.
    pub polls: u64,
    /// How long the last poll took, in seconds.
    pub poll_seconds: f64,
    /// Commands the last poll sent.
    pub poll_commands: u64,
    /// Commands sent since the start.
    pub commands_total: u64,
    /// Every node's keyspace walked once.
    pub scan_complete: bool,
    /// Stream keys known (partitions and dead-letter streams included).
    pub streams_known: usize,
    /// Every stream is read again within this many seconds (the overview's
    /// budget makes it grow with the keyspace); `None` until the first
    /// pass is done.
    pub refresh_within_seconds: Option<f64>,
}

/// Start the poll; its state is on the returned receiver.
pub fn spawn(
    connector: &Connector,
    config: &ExporterConfig,
    cancel: CancellationToken,
) -> watch::Receiver<Published> {
    let (tx, rx) = watch::channel(Published::default());
    let conn = connector.conn("exporter");
    let poll = Poll {
        keyspace: Keyspace::new(config.keyspace.clone()),
        poison: PoisonProbe::default(),
        clears: ClearsTracker::default(),
        poison_after: config.thresholds.poison_after,
    };
    tokio::spawn(run(conn, poll, config.keyspace.interval, tx, cancel));
    rx
}

/// The memory kept between polls.
struct Poll {
    keyspace: Keyspace,
    poison: PoisonProbe,
    clears: ClearsTracker,
    poison_after: u64,
}

impl Poll {
    /// One poll: the commands it sent, and the rows as of its refreshes
    /// (built once: a poll of 10,000 streams should not fold them twice).
    async fn once(&mut self, conn: &mut Conn) -> Result<(u64, Vec<Row>), RedisFailure> {
        let cost = self.keyspace.poll(conn, &[]).await?;
        let rows = self.keyspace.rows();
        let probes = self.poison.step(conn, &rows, self.poison_after).await?;
        self.clears.update(&rows);
        Ok((cost.commands + probes, rows))
    }
}

async fn run(
    mut conn: Conn,
    mut poll: Poll,
    interval: std::time::Duration,
    tx: watch::Sender<Published>,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = tick.tick() => {}
        }
        let started = Instant::now();
        let polled = tokio::time::timeout(POLL_TIMEOUT, poll.once(&mut conn)).await;
        let seconds = started.elapsed().as_secs_f64();
        match polled {
            Ok(Ok((commands, rows))) => publish(&tx, &poll, rows, commands, seconds),
            Ok(Err(e)) => {
                tracing::warn!("exporter poll failed: {e}");
                down(&tx, seconds);
            }
            Err(_) => {
                // A stalled link: dial again next poll.
                conn.disconnect();
                tracing::warn!("exporter poll: Redis did not answer within {POLL_TIMEOUT:?}");
                down(&tx, seconds);
            }
        }
    }
}

fn publish(
    tx: &watch::Sender<Published>,
    poll: &Poll,
    rows: Vec<Row>,
    commands: u64,
    seconds: f64,
) {
    let rows = Arc::new(rows);
    let poison = Arc::new(poll.poison.counts().clone());
    let clears = Arc::new(poll.clears.figures());
    let scan_complete = poll.keyspace.scan_complete();
    let streams_known = poll.keyspace.known();
    let refresh_within = poll.keyspace.refresh_within().map(|d| d.as_secs_f64());
    tx.send_modify(|p| {
        p.rows = rows;
        p.poison = poison;
        p.clears = clears;
        p.up = true;
        p.polls += 1;
        p.poll_seconds = seconds;
        p.poll_commands = commands;
        p.commands_total += commands;
        p.scan_complete = scan_complete;
        p.streams_known = streams_known;
        p.refresh_within_seconds = refresh_within;
    });
}

/// Redis did not answer: no stale figures are served as current.
fn down(tx: &watch::Sender<Published>, seconds: f64) {
    tx.send_modify(|p| {
        p.rows = Arc::default();
        p.poison = Arc::default();
        p.clears = Arc::default();
        p.up = false;
        p.poll_seconds = seconds;
        p.poll_commands = 0;
    });
}
