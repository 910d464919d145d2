//! Dangling references: pending ids whose stream entry is gone (XDEL,
//! XDELEX, or a trim with KEEPREF while the entry was pending). They stay
//! in the group's PEL until acked (or a Redis 8.2 trim with DELREF removes
//! them), and a worker claiming one gets nothing to process.
//!
//! Whether an id's entry is gone is read from XINFO STREAM's figures where
//! they decide it: below the stream's first entry it was trimmed or
//! deleted; above `max-deleted-entry-id` (Redis 7.0+: XDEL and XACKDEL
//! raise it, trims do not) it is still there. Only ids in between cost a
//! command each (`XRANGE id id`, pipelined), a bounded number per call. So
//! a stream nothing was deleted from costs nothing at all.
//!
//! This is the count `monitor --json`'s `deleted_pending` and the PEL
//! pane's marks need; the PEL walk (`monitor/pel_walk.rs`) uses the same
//! flags over the whole PEL in rotation (its `PoisonScan::deleted`), and
//! `streamlab pending list` for every entry it prints.

use serde::Serialize;

use crate::redis::{Conn, EntryId, RedisFailure, StreamInfo, missing_entries, xpending_range};

/// Ids a count may check with XRANGE, and PEL rows it may read.
pub const CHECKS: usize = 64;
pub const READ: usize = 500;

/// A group's pending entries whose stream entry is gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeletedPending {
    /// Found so far (all of them when `exact`).
    pub count: u64,
    /// False when the PEL holds more than one call reads or checks: then
    /// `count` is a lower bound.
    pub exact: bool,
}

/// Whether `id`'s entry is gone, as far as the stream's figures tell
/// (`None`: only asking for it tells).
pub fn known_deleted(info: &StreamInfo, id: EntryId) -> Option<bool> {
    match info.first_id {
        // An empty stream holds nothing: every pending id is dangling.
        None => Some(true),
        Some(first) if id < first => Some(true),
        Some(_) => match info.max_deleted_id {
            Some(max) if id > max => Some(false),
            _ => None,
        },
    }
}

/// Which of `ids` (pending ids of `key`) are deleted: from the figures,
/// else asked (at most [`CHECKS`]); `None` for those left unasked. Also
/// how many were asked (commands sent).
pub async fn deleted_flags(
    conn: &mut Conn,
    key: &str,
    info: &StreamInfo,
    ids: &[EntryId],
) -> Result<(Vec<Option<bool>>, usize), RedisFailure> {
    deleted_flags_up_to(conn, key, info, ids, CHECKS).await
}

/// [`deleted_flags`] asking at most `max_checks` (`usize::MAX`: all, for
/// `streamlab pending list`, whose every line says it).
pub async fn deleted_flags_up_to(
    conn: &mut Conn,
    key: &str,
    info: &StreamInfo,
    ids: &[EntryId],
    max_checks: usize,
) -> Result<(Vec<Option<bool>>, usize), RedisFailure> {
    let mut flags: Vec<Option<bool>> = ids.iter().map(|id| known_deleted(info, *id)).collect();
    let open: Vec<EntryId> = ids
        .iter()
        .zip(&flags)
        .filter(|(_, f)| f.is_none())
        .map(|(id, _)| *id)
        .take(max_checks)
        .collect();
    if open.is_empty() {
        return Ok((flags, 0));
    }
    let gone = missing_entries(conn, key, &open).await?;
    for (id, flag) in ids.iter().zip(&mut flags) {
        if open.contains(id) {
            *flag = Some(gone.contains(id));
        }
    }
    Ok((flags, open.len()))
}

/// How many of `group`'s pending entries are gone. Free when the PEL's
/// oldest id is at or above the first entry and above
/// `max-deleted-entry-id`; otherwise the PEL is read from its start up to
/// that id (at most [`READ`] rows) and the undecided ids checked (at most
/// [`CHECKS`]).
pub async fn deleted_pending(
    conn: &mut Conn,
    key: &str,
    info: &StreamInfo,
    group: &str,
    pending: u64,
    oldest: Option<EntryId>,
) -> Result<DeletedPending, RedisFailure> {
    let exact = |count| DeletedPending { count, exact: true };
    let Some(oldest) = oldest.filter(|_| pending > 0) else {
        return Ok(exact(0));
    };
    if known_deleted(info, oldest) == Some(false) {
        return Ok(exact(0));
    }
    // Every id above this is there (or the stream is empty: none is);
    // Redis 6.2 reports no max-deleted-entry-id: the whole PEL is open.
    let end = match (info.first_id, info.max_deleted_id) {
        (None, _) => return Ok(exact(pending)),
        (Some(first), Some(max)) => max.max(first).to_string(),
        (Some(_), None) => "+".to_owned(),
    };
    let rows = xpending_range(conn, key, group, "-", &end, READ, None).await?;
    let ids: Vec<EntryId> = rows.iter().map(|r| r.id).collect();
    let (flags, _) = deleted_flags(conn, key, info, &ids).await?;
    Ok(DeletedPending {
        count: flags.iter().filter(|f| **f == Some(true)).count() as u64,
        exact: rows.len() < READ && flags.iter().all(Option::is_some),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> EntryId {
        EntryId { ms, seq: 0 }
    }

    #[test]
    fn the_figures_decide_below_the_first_entry_and_above_the_last_deletion() {
        let info = StreamInfo {
            length: 10,
            first_id: Some(id(100)),
            max_deleted_id: Some(id(150)),
            ..StreamInfo::default()
        };
        assert_eq!(known_deleted(&info, id(99)), Some(true), "trimmed");
        assert_eq!(known_deleted(&info, id(151)), Some(false), "never deleted");
        assert_eq!(known_deleted(&info, id(120)), None, "XDEL'd or not: ask");
        let empty = StreamInfo::default();
        assert_eq!(known_deleted(&empty, id(1)), Some(true));
        // Redis 6.2 reports no max-deleted-entry-id: only the first entry tells.
        let old = StreamInfo {
            max_deleted_id: None,
            ..info
        };
        assert_eq!(known_deleted(&old, id(151)), None);
    }
}
