//! The consumer-group worker: drain own PEL, read `>`, process, XACK in
//! batches, XAUTOCLAIM stuck entries, dead-letter entries that keep failing.
//!
//! Ordering that makes the output an at-least-once ledger: every
//! `processed` event of a batch is emitted and the sink flushed *before*
//! the XACK for that batch is sent. A crash between the two re-delivers
//! the entries (duplicates), never loses them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::engine::event::{Event, SharedSink};
use crate::redis::{AckHow, AckReply, Conn, EntryId, RedisFailure, xack_and_readgroup};

mod batch;
mod claim;
mod recover;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub stream: String,
    pub group: String,
    pub consumer: String,
    /// Entries per XREADGROUP.
    pub count: usize,
    pub block: Duration,
    pub claim_every: Duration,
    pub min_idle: Duration,
    /// Entries per XAUTOCLAIM call.
    pub claim_count: usize,
    pub max_deliveries: u64,
    /// Ack with XACKDEL ... ACKED (Redis 8.2): an entry leaves the stream
    /// once every group has acked it.
    pub ack_delete: bool,
}

impl WorkerConfig {
    pub fn ack_how(&self) -> AckHow {
        if self.ack_delete {
            AckHow::AckDelete
        } else {
            AckHow::Ack
        }
    }
}

/// The simulated work, changeable while the worker runs (the dashboard's
/// normal / slow / failing cycle). Rates are in parts per million.
#[derive(Debug, Default)]
pub struct Behaviour {
    pub work_ms: AtomicU64,
    pub fail_ppm: AtomicU64,
    pub crash_ppm: AtomicU64,
    /// Tasks of kind [`crate::engine::task::POISON_KIND`] always fail (the
    /// `poison` scenario: one kind of task that can never succeed).
    pub poison_fails: std::sync::atomic::AtomicBool,
}

impl Behaviour {
    pub fn new(work_ms: u64, fail_rate: f64, crash_rate: f64) -> Self {
        let b = Self::default();
        b.set(work_ms, fail_rate, crash_rate);
        b
    }

    pub fn set(&self, work_ms: u64, fail_rate: f64, crash_rate: f64) {
        self.work_ms.store(work_ms, Ordering::Relaxed);
        self.fail_ppm.store(to_ppm(fail_rate), Ordering::Relaxed);
        self.crash_ppm.store(to_ppm(crash_rate), Ordering::Relaxed);
    }

    /// Whether `entry` fails whatever the dice say: a poison task.
    fn always_fails(&self, entry: &crate::redis::reply::Entry) -> bool {
        self.poison_fails.load(Ordering::Relaxed)
            && entry.field("kind") == Some(crate::engine::task::POISON_KIND.as_bytes())
    }

    fn roll(ppm: &AtomicU64) -> bool {
        let p = ppm.load(Ordering::Relaxed);
        p > 0 && fastrand::u64(0..1_000_000) < p
    }
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "rate is clamped to 0..=1"
)]
fn to_ppm(rate: f64) -> u64 {
    (rate.clamp(0.0, 1.0) * 1_000_000.0).round() as u64
}

/// Running totals, read by the dashboard for rates.
#[derive(Debug, Default)]
pub struct WorkerStats {
    pub processed: AtomicU64,
    pub acked: AtomicU64,
    pub failed: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub reclaimed: AtomicU64,
    /// `--ack-delete`: acked entries that left the stream, and those kept
    /// because another group still needs them.
    pub deleted: AtomicU64,
    pub kept: AtomicU64,
}

/// Why a worker's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerExit {
    /// Cancelled: in-flight work finished and acked.
    Stopped,
    /// Simulated crash: entries in hand stay pending.
    Crashed,
    /// An error retrying cannot fix (auth, wrong type).
    Fatal(RedisFailure),
    /// The events' reader went away (stdout closed): stopped before acking
    /// the batch it could not report, which stays pending.
    OutputClosed,
}

pub struct Worker {
    conn: Conn,
    config: WorkerConfig,
    behaviour: Arc<Behaviour>,
    pub stats: Arc<WorkerStats>,
    sink: SharedSink,
    claim_cursor: EntryId,
    /// Processed ids whose XACK goes out with the next XREADGROUP.
    deferred_ack: Vec<EntryId>,
    attempt: u32,
    /// Set by an OOM refusal, cleared (with an event) by the next success.
    waiting_for_memory: bool,
}

/// Outcome of handling one batch.
enum BatchEnd {
    Done,
    Crashed,
}

impl Worker {
    pub fn new(
        conn: Conn,
        config: WorkerConfig,
        behaviour: Arc<Behaviour>,
        sink: SharedSink,
    ) -> Self {
        Self {
            conn,
            config,
            behaviour,
            stats: Arc::default(),
            sink,
            claim_cursor: EntryId::ZERO,
            deferred_ack: Vec::new(),
            attempt: 0,
            waiting_for_memory: false,
        }
    }

    pub fn name(&self) -> &str {
        &self.config.consumer
    }

    /// Run until cancelled, crashed, or a fatal error.
    pub async fn run(mut self, cancel: CancellationToken) -> WorkerExit {
        let exit = self
            .run_inner(&cancel)
            .await
            .err()
            .unwrap_or(WorkerExit::Stopped);
        let reason = match &exit {
            WorkerExit::Stopped => "stopped on request".to_owned(),
            WorkerExit::Crashed | WorkerExit::OutputClosed => String::new(),
            WorkerExit::Fatal(e) => e.to_string(),
        };
        if !matches!(exit, WorkerExit::Crashed | WorkerExit::OutputClosed) {
            self.sink.emit(Event::WorkerStopped {
                stream: self.config.stream.clone(),
                consumer: self.config.consumer.clone(),
                reason,
            });
        }
        self.sink.flush();
        exit
    }

    async fn run_inner(&mut self, cancel: &CancellationToken) -> Result<(), WorkerExit> {
        self.ensure_group(cancel).await?;
        self.sink.emit(Event::WorkerStarted {
            stream: self.config.stream.clone(),
            consumer: self.config.consumer.clone(),
        });
        self.drain_own_pending(cancel).await?;
        let mut next_claim = Instant::now();
        while !cancel.is_cancelled() {
            if Instant::now() >= next_claim {
                let deferred = std::mem::take(&mut self.deferred_ack);
                self.ack(&deferred, cancel).await?;
                self.claim_round(cancel).await?;
                next_claim = Instant::now() + self.config.claim_every;
            }
            // Never block past the next claim, so reclaims stay on schedule.
            let block = self
                .config
                .block
                .min(next_claim.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(1));
            let block_ms = u64::try_from(block.as_millis()).unwrap_or(1);
            // The previous batch's XACK rides in the same round trip.
            let read = xack_and_readgroup(
                &mut self.conn,
                &self.config.stream,
                &self.config.group,
                &self.config.consumer,
                &self.deferred_ack,
                self.config.ack_how(),
                self.config.count,
                block_ms,
            )
            .await;
            match read {
                Ok((acked, batch)) => {
                    self.note_success();
                    self.report_deferred_ack(acked);
                    let deliveries = HashMap::new();
                    // A full batch means more is waiting: its XACK can ride
                    // with the next read. A partial one means the stream is
                    // drained and the next read will block, so ack now
                    // rather than a BLOCK late.
                    let defer = batch.len() >= self.config.count;
                    if let BatchEnd::Crashed =
                        self.handle_batch(batch, &deliveries, defer, cancel).await?
                    {
                        return Err(WorkerExit::Crashed);
                    }
                }
                Err(e) => self.recover(e, cancel).await?,
            }
        }
        let deferred = std::mem::take(&mut self.deferred_ack);
        self.ack(&deferred, cancel).await
    }

    fn report_deferred_ack(&mut self, acked: AckReply) {
        let ids = std::mem::take(&mut self.deferred_ack);
        if ids.is_empty() {
            return;
        }
        self.report_ack(ids, acked);
    }

    /// Count an ack and say what it did (what XACKDEL deleted and kept).
    fn report_ack(&self, ids: Vec<EntryId>, reply: AckReply) {
        self.stats.acked.fetch_add(reply.acked, Ordering::Relaxed);
        if let Some(deleted) = reply.deleted {
            self.stats.deleted.fetch_add(deleted, Ordering::Relaxed);
            self.stats
                .kept
                .fetch_add(reply.kept.len() as u64, Ordering::Relaxed);
        }
        let kept = reply.deleted.is_some().then_some(reply.kept);
        self.sink.emit(Event::Acked {
            stream: self.config.stream.clone(),
            ids,
            consumer: self.config.consumer.clone(),
            count: reply.acked,
            deleted: reply.deleted,
            kept,
        });
    }
}
