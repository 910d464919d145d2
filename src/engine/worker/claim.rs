//! The worker's recovery reads: draining its own PEL after a restart, and
//! XAUTOCLAIM rounds that take entries idle past min-idle from any
//! consumer (reporting whom they came from).

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use tokio_util::sync::CancellationToken;

use crate::engine::event::Event;
use crate::engine::worker::{BatchEnd, Worker, WorkerExit};
use crate::redis::reply::Entry;
use crate::redis::{EntryId, GroupRead, missing_entries, xautoclaim, xpending_range, xreadgroup};

impl Worker {
    /// After a restart this consumer may still own entries: read them with
    /// id `0` (and onwards) before taking new work.
    pub(super) async fn drain_own_pending(
        &mut self,
        cancel: &CancellationToken,
    ) -> Result<(), WorkerExit> {
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
            stream: self.config.stream.clone(),
            consumer: self.config.consumer.clone(),
            entries: drained,
        });
        Ok(())
    }

    /// One XAUTOCLAIM pass (repeated while it returns full pages).
    pub(super) async fn claim_round(
        &mut self,
        cancel: &CancellationToken,
    ) -> Result<(), WorkerExit> {
        for _ in 0..10 {
            let owners = self.owners_before_claim().await;
            let from = self.claim_cursor;
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
            if ac.unnamed_deleted > 0 {
                let named = self.name_deleted_claims(from, ac.next, &ac.claimed).await;
                self.ack_deleted(named).await;
            }
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

    /// Redis 6.2 answers nil, without the id, for a claimed entry that was
    /// deleted while pending, yet moves it into our PEL, where every later
    /// claim would move it again. Its id is among our own pending entries
    /// in the claimed range that the stream no longer holds; acking it is
    /// what 7.0's list of deleted ids leads to. Best effort, like that ack.
    async fn name_deleted_claims(
        &mut self,
        from: EntryId,
        next: EntryId,
        claimed: &[Entry],
    ) -> Vec<EntryId> {
        let end = if next == EntryId::ZERO {
            "+".to_owned()
        } else {
            format!("({next}")
        };
        let me = self.config.consumer.clone();
        let own = xpending_range(
            &mut self.conn,
            &self.config.stream,
            &self.config.group,
            &from.to_string(),
            &end,
            self.config.claim_count * 10,
            Some(&me),
        )
        .await
        .unwrap_or_default();
        let candidates: Vec<EntryId> = own
            .into_iter()
            .map(|p| p.id)
            .filter(|id| !claimed.iter().any(|e| e.id == *id))
            .collect();
        missing_entries(&mut self.conn, &self.config.stream, &candidates)
            .await
            .unwrap_or_default()
    }

    /// Who owns the entries XAUTOCLAIM is about to scan, so a reclaim can
    /// say whom it took them from. Bounded: one page from the cursor.
    pub(super) async fn owners_before_claim(&mut self) -> HashMap<EntryId, String> {
        // Owners only name the source in `reclaimed` events: skip the
        // query when nobody reads events (bench, quiet runs).
        if !self.sink.enabled() {
            return HashMap::new();
        }
        // One claim's worth of rows, fetched every claim round whether or
        // not anything is idle: keep it to COUNT rows. XAUTOCLAIM may scan
        // past them (up to 10 x COUNT); those claims say "unknown".
        let window = self.config.claim_count;
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

    pub(super) fn report_reclaim(&self, claimed: &[Entry], owners: &HashMap<EntryId, String>) {
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
            stream: self.config.stream.clone(),
            ids: taken.iter().map(|e| e.id).collect(),
            from,
            to: me.clone(),
            inferred: false,
        });
    }

    /// Current delivery counts of a batch this consumer owns (one bounded
    /// XPENDING over the batch's id range).
    pub(super) async fn delivery_counts(
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
}
