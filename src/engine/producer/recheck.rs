//! After a Redis Sentinel failover: which of this producer's recent
//! entries the new master lacks, added again. The old master acknowledged
//! them, but never passed them on: written after the replica was promoted
//! (measured: about a second of writes on `SENTINEL FAILOVER`), or not yet
//! replicated when it was killed. Without this, `produce --count N` says
//! "added N" while the stream holds fewer.
//!
//! Only a producer behind Sentinel keeps the list (the last
//! [`WINDOW`], at most [`KEEP`] entries); the check reads the new master's
//! entries from the oldest kept id on, at most [`READ_AT_MOST`] of them.
//! Entries added again get new ids; any a worker had processed on the old
//! master is processed again (a counted duplicate, never a lost task).
//!
//! An entry can also be missing because it was deleted on purpose: a trim
//! takes the oldest (below the stream's first entry now), XDEL and
//! `--ack-delete`'s XACKDEL raise `max-deleted-entry-id` (Redis 7.0+, and
//! 6.2 has no XACKDEL), so only an absent id above both is taken for lost.
//! A trim with ACKED leaves gaps that neither shows: a producer trimming
//! with `--trim-mode acked` checks nothing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::engine::event::Event;
use crate::engine::task::Task;
use crate::redis::{
    Conn, EntryId, RedisFailure, Retention, TrimMode, xadd_batch, xinfo_stream, xrange,
};

/// How far back a failover's losses are looked for.
pub const WINDOW: Duration = Duration::from_secs(15);
/// Entries kept per producer for the check.
pub const KEEP: usize = 100_000;
/// Entries of the new master read per check, per stream key.
const READ_AT_MOST: usize = 4 * KEEP;
const PAGE: usize = 1_000;

/// One entry this producer added.
#[derive(Debug, Clone, Copy)]
struct Added {
    id: EntryId,
    seq: u64,
    created_ms: u64,
    at: Instant,
}

/// The entries added lately, by stream key.
#[derive(Debug, Default)]
pub(super) struct Recent {
    by_key: HashMap<String, VecDeque<Added>>,
    kept: usize,
}

/// What a check found on one key.
pub(super) struct Found {
    pub checked: usize,
    pub missing: usize,
}

impl Recent {
    pub(super) fn record(&mut self, key: &str, ids: &[EntryId], seqs: &[u64], created_ms: u64) {
        let at = Instant::now();
        let list = self.by_key.entry(key.to_owned()).or_default();
        for (id, seq) in ids.iter().zip(seqs) {
            list.push_back(Added {
                id: *id,
                seq: *seq,
                created_ms,
                at,
            });
        }
        self.kept += ids.len();
        self.forget_old();
    }

    fn forget_old(&mut self) {
        let now = Instant::now();
        for list in self.by_key.values_mut() {
            while list
                .front()
                .is_some_and(|a| now.duration_since(a.at) > WINDOW || self.kept > KEEP)
            {
                list.pop_front();
                self.kept -= 1;
            }
        }
    }

    /// Check every key on the master the connection now reaches, adding
    /// again what it lacks; returns what was found, by key.
    pub(super) async fn recheck(
        &mut self,
        conn: &mut Conn,
        retention: Option<&Retention>,
        payload_bytes: usize,
    ) -> Result<Vec<(String, Found)>, RedisFailure> {
        self.forget_old();
        let mut out = Vec::new();
        for (key, list) in &mut self.by_key {
            let Some(first) = list.front().map(|a| a.id) else {
                continue;
            };
            if retention.is_some_and(|r| r.mode == Some(TrimMode::Acked)) {
                continue;
            }
            // At or below these an absent id may have been deleted on purpose.
            let info = xinfo_stream(conn, key).await?.unwrap_or_default();
            let deleted_up_to = info.max_deleted_id.unwrap_or(EntryId::ZERO);
            let trimmed_below = info.first_id.unwrap_or(EntryId::ZERO);
            let present = present_from(conn, key, first, list.len()).await?;
            let missing: Vec<usize> = (0..list.len())
                .filter(|i| {
                    let id = list[*i].id;
                    !present.contains(&id) && id > deleted_up_to && id >= trimmed_below
                })
                .collect();
            if !missing.is_empty() {
                let fields: Vec<Vec<(&str, Vec<u8>)>> = missing
                    .iter()
                    .map(|i| {
                        let a = list[*i];
                        Task::generate(a.seq, payload_bytes, a.created_ms).to_fields()
                    })
                    .collect();
                let ids = xadd_batch(conn, key, retention, &fields).await?;
                for (i, id) in missing.iter().zip(ids) {
                    list[*i].id = id;
                }
                list.make_contiguous().sort_by_key(|a| a.id);
            }
            out.push((
                key.clone(),
                Found {
                    checked: list.len(),
                    missing: missing.len(),
                },
            ));
        }
        Ok(out)
    }
}

/// The ids the stream holds from `first` on (at most [`READ_AT_MOST`]).
async fn present_from(
    conn: &mut Conn,
    key: &str,
    first: EntryId,
    expected: usize,
) -> Result<HashSet<EntryId>, RedisFailure> {
    let mut present = HashSet::with_capacity(expected);
    let mut start = first;
    while present.len() < READ_AT_MOST {
        let page = xrange(conn, key, &start.to_string(), "+", PAGE).await?;
        present.extend(page.iter().map(|e| e.id));
        match page.last().and_then(|e| e.id.next()) {
            Some(next) if page.len() == PAGE => start = next,
            _ => break,
        }
    }
    Ok(present)
}

/// The event saying what a check found on `key`.
pub(super) fn event(key: String, found: &Found) -> Event {
    Event::RestoredAfterFailover {
        stream: key,
        checked: found.checked as u64,
        missing: found.missing as u64,
    }
}
