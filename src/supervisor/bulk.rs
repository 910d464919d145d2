//! The dashboard's bulk actions on a group's PEL: marking every entry that
//! matches the filter (`*`, the whole PEL walked a page at a time, never
//! XPENDING IDLE) and acting on the marks (`engine::repair`), logging each
//! batch's exact commands before they are sent.

use super::{Done, MARK_LIMIT, Outcome};
use crate::engine::repair::{self, Repair, Repaired};
use crate::monitor::pel_walk::{PendingFilter, Selector};
use crate::redis::{Conn, PendingEntry, RedisFailure};

/// Entries per batch of a bulk action.
const BATCH: usize = 500;

pub(super) async fn mark_matching(
    conn: &mut Conn,
    key: &str,
    group: String,
    filter: PendingFilter,
) -> Result<Outcome, RedisFailure> {
    let mut sel = Selector::new(key, &group, filter);
    let mut entries = Vec::new();
    let mut complete = true;
    while let Some(page) = sel.next_page(conn).await? {
        entries.extend(page);
        if entries.len() > MARK_LIMIT {
            entries.truncate(MARK_LIMIT);
            complete = false;
            break;
        }
    }
    Ok(Outcome::Marked {
        group,
        entries,
        complete,
    })
}

pub(super) async fn repair(
    conn: &mut Conn,
    key: &str,
    group: String,
    what: Repair,
    entries: Vec<PendingEntry>,
) -> Result<Outcome, RedisFailure> {
    let mut done = Repaired::default();
    for batch in entries.chunks(BATCH) {
        log_batch(conn, key, &group, &what, batch).await?;
        done.add(repair::apply(conn, key, &group, &what, batch).await?);
    }
    let to = match &what {
        Repair::Claim { to, .. } => Some(to.clone()),
        Repair::DeadLetter { .. } => Some(crate::engine::dead_key(key)),
        Repair::Ack | Repair::Requeue => None,
    };
    Ok(Outcome::Done(Done::Repaired {
        what: what.done_word(),
        group,
        to,
        done: done.done,
        not_pending: done.not_pending,
        gone: done.gone.len() as u64,
    }))
}

/// The batch's exact commands in the log file; entry payloads never go
/// there, so a copy's XADD is logged without its fields.
async fn log_batch(
    conn: &mut Conn,
    key: &str,
    group: &str,
    what: &Repair,
    batch: &[PendingEntry],
) -> Result<(), RedisFailure> {
    if matches!(what, Repair::Ack | Repair::Claim { .. }) {
        for line in repair::planned(conn, key, group, what, batch).await? {
            tracing::info!(command = %line, "admin action: sending");
        }
        return Ok(());
    }
    let ids: Vec<String> = batch.iter().map(|p| p.id.to_string()).collect();
    tracing::info!(
        entries = batch.len(),
        ids = %ids.join(" "),
        "admin action: sending, per entry: XADD with its fields (not logged), XACK {key} {group} <id>"
    );
    Ok(())
}
