//! The producer: XADD tasks in pipelined batches, a fixed count or at a
//! rate, over the stream's partitions (one pipeline per partition, so each
//! goes to the node that owns its key).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::engine::event::{Event, SharedSink};
use crate::engine::partition::Layout;
use crate::engine::partition::spread::Spread;
use crate::engine::task::{kind_of, write_payload};
use crate::redis::connect::Failover;
use crate::redis::id::now_ms;
use crate::redis::{Conn, EntryId, FieldValue, RedisFailure, Retention, xadd_rows};

/// Largest pipeline the producer sends at once.
pub const MAX_BATCH: usize = 512;
/// Payload bytes one pipeline may carry: with `--payload-bytes 16777216` a
/// 512-entry pipeline needed about 30 GB of client memory (1.3 GB for 20).
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ProducerConfig {
    pub layout: Layout,
    pub spread: Spread,
    pub retention: Option<Retention>,
    pub payload_bytes: usize,
    /// First `seq` to stamp; later tasks count up from it.
    pub first_seq: u64,
}

/// Running totals, shared with whoever shows progress.
#[derive(Debug, Default)]
pub struct ProducerStats {
    pub produced: AtomicU64,
    /// Entries sent again after a batch failed with a connection error:
    /// its reply was lost, so it may have landed too (XADD is
    /// at-least-once): each may be in the stream twice.
    pub resent: AtomicU64,
    /// Entries added again after a failover: the old master acknowledged
    /// them and never passed them on (see `recheck`).
    pub restored: AtomicU64,
}

pub struct Producer {
    conn: Conn,
    config: ProducerConfig,
    next_seq: u64,
    pub stats: Arc<ProducerStats>,
    sink: SharedSink,
    /// Behind Redis Sentinel: failovers seen, and the entries added lately
    /// to check on the new master after one (see [`recheck`]).
    failovers: Option<watch::Receiver<Option<Failover>>>,
    recent: recheck::Recent,
    recheck_due: bool,
}

mod recheck;

impl Producer {
    pub fn new(conn: Conn, config: ProducerConfig, sink: SharedSink) -> Self {
        let next_seq = config.first_seq;
        let failovers = conn.connector().failovers();
        Self {
            conn,
            config,
            next_seq,
            stats: Arc::default(),
            sink,
            failovers,
            recent: recheck::Recent::default(),
            recheck_due: false,
        }
    }

    /// Entries per pipeline: [`MAX_BATCH`], fewer for large payloads.
    fn batch_limit(&self) -> u64 {
        let fit = MAX_BATCH_BYTES / self.config.payload_bytes.max(1);
        fit.clamp(1, MAX_BATCH) as u64
    }

    /// Add `n` tasks (n <= MAX_BATCH is sensible), one pipeline per
    /// partition they go to; returns the last id added.
    pub async fn send_batch(&mut self, n: usize) -> Result<Option<EntryId>, RedisFailure> {
        if n == 0 {
            return Ok(None);
        }
        self.recheck_after_failover().await?;
        let now = now_ms();
        let payloads = Payloads::generate(self.next_seq, n, self.config.payload_bytes);
        let rows = payloads.rows(now);
        let mut last = None;
        let mut landed = 0;
        for (key, rows) in by_partition(&self.config, rows) {
            let retention = self.config.retention.as_ref();
            match xadd_rows(&mut self.conn, key, retention, &rows).await {
                Ok(ids) => {
                    last = ids.last().copied().or(last);
                    if self.failovers.is_some() {
                        let seqs: Vec<u64> = rows
                            .iter()
                            .map(|r| row_key(r, &Spread::RoundRobin).0)
                            .collect();
                        self.recent.record(key, &ids, &seqs, now);
                    }
                }
                Err(e) => {
                    // Lost on the way (a connection error after a pipeline
                    // reached a socket, or after an earlier partition's
                    // landed): the batch is sent again, so its entries may
                    // land twice. Counted, never guessed away.
                    if e.is_connection() && (landed > 0 || self.conn.request_reached_socket()) {
                        self.stats.resent.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    // Out of memory mid-batch: the XADDs before the refusal
                    // landed (and the producer stops): count them, so
                    // "added N" stays exact.
                    if let RedisFailure::OutOfMemory { refused, .. } = &e {
                        let added = landed + rows.len().saturating_sub(*refused);
                        self.stats
                            .produced
                            .fetch_add(added as u64, Ordering::Relaxed);
                    }
                    return Err(e);
                }
            }
            landed += rows.len();
        }
        self.next_seq += n as u64;
        self.stats.produced.fetch_add(n as u64, Ordering::Relaxed);
        Ok(last)
    }

    /// Add `count` tasks, retrying a batch after a connection error.
    /// A batch that failed mid-way may be re-sent: XADD is at-least-once.
    pub async fn produce_count(
        &mut self,
        count: u64,
        cancel: &CancellationToken,
    ) -> Result<u64, RedisFailure> {
        let mut done = 0;
        let mut attempt = 0;
        while done < count && !cancel.is_cancelled() {
            let n = usize::try_from((count - done).min(self.batch_limit())).unwrap_or(MAX_BATCH);
            match self.send_batch(n).await {
                Ok(_) => {
                    done += n as u64;
                    attempt = 0;
                }
                Err(e) if e.is_connection() => {
                    attempt += 1;
                    self.backoff(attempt, &e, cancel).await;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }

    /// Add tasks at `rate` per second until cancelled (or `limit` reached).
    pub async fn produce_at_rate(
        &mut self,
        rate: f64,
        limit: Option<u64>,
        cancel: &CancellationToken,
    ) -> Result<u64, RedisFailure> {
        let started = Instant::now();
        let mut done: u64 = 0;
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut attempt = 0;
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = tick.tick() => {}
            }
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "rates and durations are small and positive"
            )]
            let due = (started.elapsed().as_secs_f64() * rate) as u64;
            let due = limit.map_or(due, |l| due.min(l));
            let n = usize::try_from(due.saturating_sub(done).min(self.batch_limit()))
                .unwrap_or(MAX_BATCH);
            match self.send_batch(n).await {
                Ok(_) => {
                    done += n as u64;
                    attempt = 0;
                }
                Err(e) if e.is_connection() => {
                    attempt += 1;
                    self.backoff(attempt, &e, cancel).await;
                }
                Err(e) => return Err(e),
            }
            if limit.is_some_and(|l| done >= l) {
                break;
            }
        }
        Ok(done)
    }

    /// After a failover (once, retried until it succeeds): add again the
    /// recent entries the new master lacks, and say what was found.
    async fn recheck_after_failover(&mut self) -> Result<(), RedisFailure> {
        if let Some(changes) = &mut self.failovers
            && changes.has_changed().unwrap_or(false)
        {
            changes.borrow_and_update();
            self.recheck_due = true;
        }
        if !self.recheck_due {
            return Ok(());
        }
        let retention = self.config.retention.as_ref();
        let found = self
            .recent
            .recheck(&mut self.conn, retention, self.config.payload_bytes)
            .await?;
        self.recheck_due = false;
        for (key, f) in found {
            self.stats
                .restored
                .fetch_add(f.missing as u64, Ordering::Relaxed);
            self.sink.emit(recheck::event(key, &f));
        }
        Ok(())
    }

    async fn backoff(&mut self, attempt: u32, error: &RedisFailure, cancel: &CancellationToken) {
        let delay = self.conn.next_backoff();
        self.sink.emit(Event::Reconnecting {
            role: self.conn.role().to_owned(),
            stream: None,
            attempt,
            delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            error: error.to_string(),
        });
        tokio::select! {
            () = cancel.cancelled() => {}
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// One generated task's XADD fields: kind, payload, created_ms, seq.
type Row<'a> = [(&'static str, FieldValue<'a>); 4];

/// A row's sequence number, and the bytes of the field `spread` hashes (as
/// Redis stores them: numbers in decimal).
fn row_key<'a>(row: &Row<'a>, spread: &Spread) -> (u64, std::borrow::Cow<'a, [u8]>) {
    let seq = match row[3].1 {
        FieldValue::Uint(n) => n,
        FieldValue::Bytes(_) => 0,
    };
    let Spread::ByField(name) = spread else {
        return (seq, std::borrow::Cow::Borrowed(&[]));
    };
    let value = match row.iter().find(|(k, _)| k == name).map(|(_, v)| *v) {
        Some(FieldValue::Bytes(b)) => std::borrow::Cow::Borrowed(b),
        Some(FieldValue::Uint(n)) => std::borrow::Cow::Owned(n.to_string().into_bytes()),
        None => std::borrow::Cow::Borrowed(&[][..]),
    };
    (seq, value)
}

/// `rows` grouped by the partition each goes to, in partition order (rows
/// keep their order within a partition).
fn by_partition<'c, 'r>(
    config: &'c ProducerConfig,
    rows: Vec<Row<'r>>,
) -> Vec<(&'c str, Vec<Row<'r>>)> {
    let keys = &config.layout.partitions;
    if keys.len() == 1 {
        return vec![(keys[0].as_str(), rows)];
    }
    let mut groups: Vec<Vec<Row<'r>>> = vec![Vec::new(); keys.len()];
    for row in rows {
        let (seq, value) = row_key(&row, &config.spread);
        groups[config.spread.partition_of(keys.len(), seq, &value)].push(row);
    }
    keys.iter()
        .map(String::as_str)
        .zip(groups)
        .filter(|(_, rows)| !rows.is_empty())
        .collect()
}

/// A batch's generated payloads in one buffer, and its XADD rows borrowed
/// from it: the same fields as `Task::generate(..).to_fields()`, but
/// building a `Task` per entry cost eight allocations each, about a third
/// of the producer's client CPU.
struct Payloads {
    first_seq: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Payloads {
    fn generate(first_seq: u64, n: usize, payload_bytes: usize) -> Self {
        let mut bytes = Vec::with_capacity(n * (16 + payload_bytes));
        let mut ends = Vec::with_capacity(n);
        for seq in first_seq..first_seq + n as u64 {
            write_payload(seq, payload_bytes, &mut bytes);
            ends.push(bytes.len());
        }
        Self {
            first_seq,
            bytes,
            ends,
        }
    }

    fn rows(&self, now_ms: u64) -> Vec<Row<'_>> {
        let mut start = 0;
        (self.first_seq..)
            .zip(&self.ends)
            .map(|(seq, &end)| {
                let payload = &self.bytes[start..end];
                start = end;
                [
                    ("kind", FieldValue::Bytes(kind_of(seq).as_bytes())),
                    ("payload", FieldValue::Bytes(payload)),
                    ("created_ms", FieldValue::Uint(now_ms)),
                    ("seq", FieldValue::Uint(seq)),
                ]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::task::Task;

    #[test]
    fn batch_rows_match_generated_tasks() {
        for payload_bytes in [0, 40] {
            let payloads = Payloads::generate(98, 5, payload_bytes);
            let rows = payloads.rows(1234);
            assert_eq!(rows.len(), 5);
            for (seq, row) in (98..).zip(&rows) {
                let want = Task::generate(seq, payload_bytes, 1234).to_fields();
                let got: Vec<(&str, Vec<u8>)> = row
                    .iter()
                    .map(|(k, v)| match v {
                        FieldValue::Bytes(b) => (*k, b.to_vec()),
                        FieldValue::Uint(n) => (*k, n.to_string().into_bytes()),
                    })
                    .collect();
                assert_eq!(got, want);
            }
        }
    }
}
