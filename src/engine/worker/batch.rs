//! Processing one batch: the simulated task, failures left pending,
//! dead letters, and the XACKs (after the ledger is flushed).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::engine::dead_key;
use crate::engine::dead_letter::DeadLetter;
use crate::engine::event::Event;
use crate::engine::task::Task;
use crate::engine::worker::{BatchEnd, Behaviour, Worker, WorkerExit};
use crate::redis::reply::Entry;
use crate::redis::{DeadLetterTo, EntryId, RedisFailure, ack_ids, dead_letter_acking, xack};

impl Worker {
    /// Process a batch. With `defer_ack` the XACK is left for the next
    /// read's round trip (the `>` loop); otherwise it is sent now.
    pub(super) async fn handle_batch(
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
                    stream: self.config.stream.clone(),
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
            if Behaviour::roll(&self.behaviour.fail_ppm) || self.behaviour.always_fails(&entry) {
                self.fail(&entry, n, cancel).await?;
                continue;
            }
            self.stats.processed.fetch_add(1, Ordering::Relaxed);
            if self.sink.enabled() {
                let task = Task::from_entry(&entry);
                self.sink.emit(Event::Processed {
                    stream: self.config.stream.clone(),
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
        if self.sink.is_closed() {
            return Err(WorkerExit::OutputClosed);
        }
        if defer_ack {
            self.deferred_ack.extend(to_ack);
        } else {
            self.ack(&to_ack, cancel).await?;
        }
        self.ack_deleted(deleted).await;
        Ok(BatchEnd::Done)
    }

    pub(super) async fn fail(
        &mut self,
        entry: &Entry,
        deliveries: u64,
        cancel: &CancellationToken,
    ) -> Result<(), WorkerExit> {
        let error = "simulated task failure".to_owned();
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
        self.sink.emit(Event::Failed {
            stream: self.config.stream.clone(),
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

    pub(super) async fn dead_letter(
        &mut self,
        entry: &Entry,
        deliveries: u64,
        error: &str,
        cancel: &CancellationToken,
    ) -> Result<(), WorkerExit> {
        let c = &self.config;
        let why = DeadLetter {
            group: &c.group,
            consumer: &c.consumer,
            deliveries,
            error,
        };
        let fields = why.fields(entry.id, entry.fields.as_deref());
        let borrowed: Vec<(&str, &[u8])> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        let dead = dead_key(&c.stream);
        let how = c.ack_how();
        let to = DeadLetterTo {
            key: &dead,
            fields: &borrowed,
        };
        loop {
            match dead_letter_acking(
                &mut self.conn,
                &self.config.stream,
                &self.config.group,
                entry.id,
                &to,
                how,
            )
            .await
            {
                Ok(dead_id) => {
                    self.note_success();
                    self.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
                    self.sink.emit(Event::DeadLettered {
                        stream: self.config.stream.clone(),
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
    pub(super) async fn ack(
        &mut self,
        ids: &[EntryId],
        cancel: &CancellationToken,
    ) -> Result<(), WorkerExit> {
        if ids.is_empty() {
            return Ok(());
        }
        let how = self.config.ack_how();
        loop {
            let (key, group) = (&self.config.stream, &self.config.group);
            match ack_ids(&mut self.conn, key, group, ids, how).await {
                Ok(reply) => {
                    self.note_success();
                    self.report_ack(ids.to_vec(), reply);
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

    pub(super) async fn ack_deleted(&mut self, ids: Vec<EntryId>) {
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
            stream: self.config.stream.clone(),
            ids,
            consumer: self.config.consumer.clone(),
        });
    }
}
