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

use crate::engine::dead_key;
use crate::engine::event::{Event, SharedSink};
use crate::engine::task::Task;
use crate::redis::reply::Entry;
use crate::redis::{
    Conn, EntryId, GroupRead, RedisFailure, create_group, dead_letter, xack, xack_and_readgroup,
    xautoclaim, xpending_range, xreadgroup,
};

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
}

/// The simulated work, changeable while the worker runs (the dashboard's
/// normal / slow / failing cycle). Rates are in parts per million.
#[derive(Debug, Default)]
pub struct Behaviour {
    pub work_ms: AtomicU64,
    pub fail_ppm: AtomicU64,
    pub crash_ppm: AtomicU64,
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
            WorkerExit::Crashed => "crashed".to_owned(),
            WorkerExit::Fatal(e) => e.to_string(),
        };
        if exit != WorkerExit::Crashed {
            self.sink.emit(Event::WorkerStopped {
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
                self.config.count,
                block_ms,
            )
            .await;
            match read {
                Ok((acked, batch)) => {
                    self.note_success();
                    self.report_deferred_ack(acked);
                    let deliveries = HashMap::new();
                    if let BatchEnd::Crashed =
                        self.handle_batch(batch, &deliveries, true, cancel).await?
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

    fn report_deferred_ack(&mut self, acked: u64) {
        let ids = std::mem::take(&mut self.deferred_ack);
        if ids.is_empty() {
            return;
        }
        self.stats.acked.fetch_add(acked, Ordering::Relaxed);
        self.sink.emit(Event::Acked {
            ids,
            consumer: self.config.consumer.clone(),
            count: acked,
        });
    }

    /// After a restart this consumer may still own entries: read them with
    /// id `0` (and onwards) before taking new work.
    async fn drain_own_pending(&mut self, cancel: &CancellationToken) -> Result<(), WorkerExit> {
        let mut cursor = EntryId::ZERO;
        let mut drained = 0;
        while !cancel.is_cancelled() {
            let read = xreadgroup(
                &mut self.conn,
                &self.config.stream,
                &self.config.group,
                &self.config.consumer,
                GroupRead::OwnPendingAfter(cursor),
                self.config.count,
                None,
            )
            .await;
            let batch = match read {
                Ok(b) => b,
                Err(e) => {
                    self.recover(e, cancel).await?;
                    continue;
                }
            };
            let Some(last) = batch.last() else { break };
            cursor = last.id;
            drained += batch.len() as u64;
            let deliveries = self
                .delivery_counts(&batch, Some(&self.config.consumer.clone()))
                .await;
            if let BatchEnd::Crashed = self.handle_batch(batch, &deliveries, false, cancel).await? {
                return Err(WorkerExit::Crashed);
            }
        }
        self.sink.emit(Event::PendingDrained {
            consumer: self.config.consumer.clone(),
            entries: drained,
        });
        Ok(())
    }

    /// One XAUTOCLAIM pass (repeated while it returns full pages).
    async fn claim_round(&mut self, cancel: &CancellationToken) -> Result<(), WorkerExit> {
        for _ in 0..10 {
            let owners = self.owners_before_claim().await;
            let min_idle = u64::try_from(self.config.min_idle.as_millis()).unwrap_or(u64::MAX);
            let claimed = xautoclaim(
                &mut self.conn,
                &self.config.stream,
                &self.config.group,
                &self.config.consumer,
                min_idle,
                self.claim_cursor,
                self.config.claim_count,
            )
            .await;
            let ac = match claimed {
                Ok(ac) => ac,
                Err(e) => return self.recover(e, cancel).await,
            };
            self.claim_cursor = ac.next;
            let full = ac.claimed.len() >= self.config.claim_count;
            self.ack_deleted(ac.deleted).await;
            self.report_reclaim(&ac.claimed, &owners);
            let deliveries = self
                .delivery_counts(&ac.claimed, Some(&self.config.consumer.clone()))
                .await;
            if let BatchEnd::Crashed = self
                .handle_batch(ac.claimed, &deliveries, false, cancel)
                .await?
            {
                return Err(WorkerExit::Crashed);
            }
            if !full || self.claim_cursor == EntryId::ZERO || cancel.is_cancelled() {
                break;
            }
        }
        Ok(())
    }

    /// Who owns the entries XAUTOCLAIM is about to scan, so a reclaim can
    /// say whom it took them from. Bounded: one page from the cursor.
    async fn owners_before_claim(&mut self) -> HashMap<EntryId, String> {
        let window = (self.config.claim_count * 10).min(1000);
        let start = self.claim_cursor.to_string();
        xpending_range(
            &mut self.conn,
            &self.config.stream,
            &self.config.group,
            &start,
            "+",
            window,
            None,
        )
        .await
        .map(|rows| rows.into_iter().map(|p| (p.id, p.consumer)).collect())
        .unwrap_or_default()
    }

    fn report_reclaim(&self, claimed: &[Entry], owners: &HashMap<EntryId, String>) {
        let me = &self.config.consumer;
        let taken: Vec<&Entry> = claimed
            .iter()
            .filter(|e| owners.get(&e.id) != Some(me))
            .collect();
        if taken.is_empty() {
            return;
        }
        let mut from: Vec<String> = taken
            .iter()
            .map(|e| {
                owners
                    .get(&e.id)
                    .cloned()
                    .unwrap_or_else(|| "unknown".into())
            })
            .collect();
        from.sort();
        from.dedup();
        self.stats
            .reclaimed
            .fetch_add(taken.len() as u64, Ordering::Relaxed);
        self.sink.emit(Event::Reclaimed {
            ids: taken.iter().map(|e| e.id).collect(),
            from,
            to: me.clone(),
            inferred: false,
        });
    }

    /// Current delivery counts of a batch this consumer owns (one bounded
    /// XPENDING over the batch's id range).
    async fn delivery_counts(
        &mut self,
        batch: &[Entry],
        consumer: Option<&str>,
    ) -> HashMap<EntryId, u64> {
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return HashMap::new();
        };
        xpending_range(
            &mut self.conn,
            &self.config.stream,
            &self.config.group,
            &first.id.to_string(),
            &last.id.to_string(),
            batch.len(),
            consumer,
        )
        .await
        .map(|rows| rows.into_iter().map(|p| (p.id, p.deliveries)).collect())
        .unwrap_or_default()
    }

    /// Process a batch. With `defer_ack` the XACK is left for the next
    /// read's round trip (the `>` loop); otherwise it is sent now.
    async fn handle_batch(
        &mut self,
        batch: Vec<Entry>,
        deliveries: &HashMap<EntryId, u64>,
        defer_ack: bool,
        cancel: &CancellationToken,
    ) -> Result<BatchEnd, WorkerExit> {
        let mut to_ack = Vec::with_capacity(batch.len());
        let mut deleted = Vec::new();
        for entry in batch {
            if entry.fields.is_none() {
                deleted.push(entry.id);
                continue;
            }
            let n = deliveries.get(&entry.id).copied().unwrap_or(1);
            if n > self.config.max_deliveries {
                let error =
                    format!("delivered {n} times without an ack (worker crashes or timeouts)");
                self.dead_letter(&entry, n, &error, cancel).await?;
                continue;
            }
            if Behaviour::roll(&self.behaviour.crash_ppm) {
                self.sink.emit(Event::Crashed {
                    consumer: self.config.consumer.clone(),
                    id: Some(entry.id),
                });
                self.sink.flush();
                return Ok(BatchEnd::Crashed);
            }
            let work_ms = self.behaviour.work_ms.load(Ordering::Relaxed);
            if work_ms > 0 {
                tokio::time::sleep(Duration::from_millis(work_ms)).await;
            }
            if Behaviour::roll(&self.behaviour.fail_ppm) {
                self.fail(&entry, n, cancel).await?;
                continue;
            }
            self.stats.processed.fetch_add(1, Ordering::Relaxed);
            if self.sink.enabled() {
                let task = Task::from_entry(&entry);
                self.sink.emit(Event::Processed {
                    id: entry.id,
                    consumer: self.config.consumer.clone(),
                    deliveries: n,
                    kind: task
                        .as_ref()
                        .map_or_else(|| "unknown".into(), |t| t.kind.clone()),
                    seq: task.and_then(|t| t.seq),
                });
            }
            to_ack.push(entry.id);
        }
        // The ledger rule: processed lines are out before any XACK is sent.
        self.sink.flush();
        if defer_ack {
            self.deferred_ack.extend(to_ack);
        } else {
            self.ack(&to_ack, cancel).await?;
        }
        self.ack_deleted(deleted).await;
        Ok(BatchEnd::Done)
    }

    async fn fail(
        &mut self,
        entry: &Entry,
        deliveries: u64,
        cancel: &CancellationToken,
    ) -> Result<(), WorkerExit> {
        let error = "simulated task failure".to_owned();
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
        self.sink.emit(Event::Failed {
            id: entry.id,
            consumer: self.config.consumer.clone(),
            deliveries,
            error: error.clone(),
        });
        if deliveries >= self.config.max_deliveries {
            self.dead_letter(entry, deliveries, &error, cancel).await?;
        }
        // Otherwise it stays pending; XAUTOCLAIM redelivers it after min-idle.
        Ok(())
    }

    async fn dead_letter(
        &mut self,
        entry: &Entry,
        deliveries: u64,
        error: &str,
        cancel: &CancellationToken,
    ) -> Result<(), WorkerExit> {
        let c = &self.config;
        let (id_s, n_s) = (entry.id.to_string(), deliveries.to_string());
        let mut fields: Vec<(String, Vec<u8>)> = vec![
            ("original_id".into(), id_s.into_bytes()),
            ("group".into(), c.group.clone().into_bytes()),
            ("consumer".into(), c.consumer.clone().into_bytes()),
            ("deliveries".into(), n_s.into_bytes()),
            ("error".into(), error.as_bytes().to_vec()),
        ];
        // The original fields follow, prefixed, so a replay can rebuild the task.
        for (k, v) in entry.fields.iter().flatten() {
            fields.push((format!("f:{k}"), v.clone()));
        }
        let borrowed: Vec<(&str, &[u8])> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        let dead = dead_key(&c.stream);
        loop {
            match dead_letter(
                &mut self.conn,
                &self.config.stream,
                &dead,
                &self.config.group,
                entry.id,
                &borrowed,
            )
            .await
            {
                Ok(dead_id) => {
                    self.note_success();
                    self.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                    self.sink.emit(Event::DeadLettered {
                        id: entry.id,
                        consumer: self.config.consumer.clone(),
                        deliveries,
                        error: error.to_owned(),
                        dead_id,
                    });
                    return Ok(());
                }
                Err(e) => self.recover(e, cancel).await?,
            }
            if cancel.is_cancelled() {
                return Ok(());
            }
        }
    }

    /// XACK the batch, retrying through reconnects. If we are cancelled
    /// while Redis is away the entries stay pending: redelivered, not lost.
    async fn ack(&mut self, ids: &[EntryId], cancel: &CancellationToken) -> Result<(), WorkerExit> {
        if ids.is_empty() {
            return Ok(());
        }
        loop {
            match xack(&mut self.conn, &self.config.stream, &self.config.group, ids).await {
                Ok(n) => {
                    self.note_success();
                    self.stats.acked.fetch_add(n, Ordering::Relaxed);
                    self.sink.emit(Event::Acked {
                        ids: ids.to_vec(),
                        consumer: self.config.consumer.clone(),
                        count: n,
                    });
                    return Ok(());
                }
                // A lost group means the PEL is gone too: nothing left to ack.
                Err(RedisFailure::NoGroup) => {
                    return self.recover(RedisFailure::NoGroup, cancel).await;
                }
                Err(e) => self.recover(e, cancel).await?,
            }
            if cancel.is_cancelled() {
                return Ok(());
            }
        }
    }

    async fn ack_deleted(&mut self, ids: Vec<EntryId>) {
        if ids.is_empty() {
            return;
        }
        // Redis 7 already dropped them from the PEL in XAUTOCLAIM; older
        // servers and XREADGROUP-from-0 need the XACK. Best effort.
        let _ = xack(
            &mut self.conn,
            &self.config.stream,
            &self.config.group,
            &ids,
        )
        .await;
        self.sink.emit(Event::DeletedWhilePending {
            ids,
            consumer: self.config.consumer.clone(),
        });
    }

    async fn ensure_group(&mut self, cancel: &CancellationToken) -> Result<(), WorkerExit> {
        loop {
            match create_group(&mut self.conn, &self.config.stream, &self.config.group, "0").await {
                Ok(created) => {
                    self.note_success();
                    self.sink.emit(Event::GroupCreated {
                        group: self.config.group.clone(),
                        created,
                    });
                    return Ok(());
                }
                Err(e) => self.recover(e, cancel).await?,
            }
            if cancel.is_cancelled() {
                return Err(WorkerExit::Stopped);
            }
        }
    }

    /// Decide what an error means: back off and reconnect, re-create a lost
    /// group, or give up. Returns Err only when the worker must stop.
    async fn recover(
        &mut self,
        error: RedisFailure,
        cancel: &CancellationToken,
    ) -> Result<(), WorkerExit> {
        match error {
            RedisFailure::NoGroup => {
                let group = self.config.group.clone();
                match create_group(&mut self.conn, &self.config.stream, &group, "0").await {
                    Ok(_) => {
                        let reason = format!(
                            "the server no longer had group '{group}' (destroyed, or the server lost its data); re-created from 0, so entries still in the stream are delivered again"
                        );
                        self.sink.emit(Event::GroupRecreated { group, reason });
                        // Said now, not with the next batch: an idle worker
                        // may not have one for a while.
                        self.sink.flush();
                        self.claim_cursor = EntryId::ZERO;
                        Ok(())
                    }
                    Err(e) => Box::pin(self.recover(e, cancel)).await,
                }
            }
            e if e.is_fatal() => {
                self.sink.emit(Event::Error {
                    role: self.config.consumer.clone(),
                    message: e.to_string(),
                });
                Err(WorkerExit::Fatal(e))
            }
            e => {
                self.attempt += 1;
                let delay = self.conn.next_backoff();
                self.sink.emit(Event::Reconnecting {
                    role: self.config.consumer.clone(),
                    attempt: self.attempt,
                    delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    error: e.to_string(),
                });
                // While Redis is away no batch comes to flush the sink:
                // without this, `--events json` showed nothing until it returned.
                self.sink.flush();
                tokio::select! {
                    () = cancel.cancelled() => {}
                    () = tokio::time::sleep(delay) => {}
                }
                Ok(())
            }
        }
    }

    fn note_success(&mut self) {
        if self.attempt > 0 {
            self.attempt = 0;
            self.sink.emit(Event::Reconnected {
                role: self.config.consumer.clone(),
            });
        }
    }
}
