//! Repairs of a group's pending entries, for `streamlab pending` and the
//! dashboard's bulk actions: ack, claim to a consumer, requeue (a copy
//! added back to the stream, byte for byte, and the original acked, so a
//! library that reads only `>` delivers it again) and dead-letter (as the
//! worker does). Each can first say the exact commands it will send (for a
//! confirmation or a dry run: [`planned`]) and then send them ([`apply`]),
//! a batch of entries at a time.

use ::redis::Cmd;

use crate::engine::dead_key;
use crate::engine::dead_letter::DeadLetter;
use crate::redis::reply::RawFields;
use crate::redis::{
    Conn, EntryId, PendingEntry, RedisFailure, command_line, dead_letter, entries_as_bytes,
    requeue, xack, xack_cmd, xadd_cmd, xadd_raw_cmd, xclaim, xclaim_cmd,
};

/// Entries per MULTI/EXEC of a requeue.
pub const REQUEUE_BATCH: usize = 100;

/// What to do with the selected pending entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    Ack,
    /// XCLAIM them to `to`, if still idle `min_idle_ms` (0: whatever).
    Claim {
        to: String,
        min_idle_ms: u64,
    },
    Requeue,
    /// Copy to `<stream>:dead` with `error` as the reason, then XACK.
    DeadLetter {
        error: String,
    },
}

impl Repair {
    /// The verb in messages: `acked`, `claimed`...
    pub fn done_word(&self) -> &'static str {
        match self {
            Self::Ack => "acked",
            Self::Claim { .. } => "claimed",
            Self::Requeue => "requeued",
            Self::DeadLetter { .. } => "dead-lettered",
        }
    }

    /// Whether it copies entries, and so reads their fields first.
    fn copies(&self) -> bool {
        matches!(self, Self::Requeue | Self::DeadLetter { .. })
    }
}

/// What a repair did to one batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repaired {
    /// Entries acked, claimed, requeued or dead-lettered.
    pub done: u64,
    /// Old id and the copy's new id (requeue, dead-letter).
    pub moved: Vec<(EntryId, EntryId)>,
    /// Entries no longer pending when the command ran (acked or claimed
    /// by someone since they were read; for a claim, also not idle long
    /// enough). A requeued one was copied anyway: a duplicate.
    pub not_pending: u64,
    /// Entries deleted from the stream while pending: nothing to copy,
    /// left pending (ack them to drop the reference).
    pub gone: Vec<EntryId>,
}

impl Repaired {
    pub fn add(&mut self, other: Repaired) {
        self.done += other.done;
        self.moved.extend(other.moved);
        self.not_pending += other.not_pending;
        self.gone.extend(other.gone);
    }
}

/// The fields of the entries a copying repair needs (`None`: deleted).
async fn fields_of(
    conn: &mut Conn,
    key: &str,
    repair: &Repair,
    entries: &[PendingEntry],
) -> Result<Vec<Option<RawFields>>, RedisFailure> {
    if !repair.copies() {
        return Ok(vec![None; entries.len()]);
    }
    let ids: Vec<EntryId> = entries.iter().map(|p| p.id).collect();
    entries_as_bytes(conn, key, &ids).await
}

/// The exact commands [`apply`] sends for `entries`, as command lines
/// (reading the entries' fields when it copies them).
pub async fn planned(
    conn: &mut Conn,
    key: &str,
    group: &str,
    repair: &Repair,
    entries: &[PendingEntry],
) -> Result<Vec<String>, RedisFailure> {
    let ids: Vec<EntryId> = entries.iter().map(|p| p.id).collect();
    let mut lines = Vec::new();
    match repair {
        Repair::Ack => lines.push(command_line(&xack_cmd(key, group, &ids))),
        Repair::Claim { to, min_idle_ms } => {
            lines.push(command_line(&xclaim_cmd(
                key,
                group,
                to,
                *min_idle_ms,
                &ids,
            )));
        }
        Repair::Requeue => {
            let fields = fields_of(conn, key, repair, entries).await?;
            let copies = copyable(entries, &fields);
            for batch in copies.chunks(REQUEUE_BATCH) {
                lines.push("MULTI".into());
                for (p, f) in batch {
                    lines.push(command_line(&xadd_raw_cmd(key, f)));
                    lines.push(command_line(&xack_cmd(key, group, &[p.id])));
                }
                lines.push("EXEC".into());
            }
        }
        Repair::DeadLetter { error } => {
            let fields = fields_of(conn, key, repair, entries).await?;
            let dead = dead_key(key);
            let atomic = conn.one_slot(&[key, &dead]).await?;
            for (p, f) in copyable(entries, &fields) {
                let (add, ack) = dead_letter_cmds(key, group, p, &named(f), error);
                lines.extend(atomic.then(|| "MULTI".to_owned()));
                lines.push(command_line(&add));
                lines.push(command_line(&ack));
                lines.extend(atomic.then(|| "EXEC".to_owned()));
            }
        }
    }
    Ok(lines)
}

/// Entries with their fields; deleted ones (no fields) left out.
fn copyable<'a>(
    entries: &'a [PendingEntry],
    fields: &'a [Option<RawFields>],
) -> Vec<(&'a PendingEntry, &'a RawFields)> {
    entries
        .iter()
        .zip(fields)
        .filter_map(|(p, f)| Some((p, f.as_ref()?)))
        .collect()
}

/// Field names as text, as the worker's dead letters carry them.
fn named(fields: &RawFields) -> Vec<(String, Vec<u8>)> {
    fields
        .iter()
        .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.clone()))
        .collect()
}

/// The XADD to `<stream>:dead` and the XACK a dead letter of `p` takes.
fn dead_letter_cmds(
    key: &str,
    group: &str,
    p: &PendingEntry,
    original: &[(String, Vec<u8>)],
    error: &str,
) -> (Cmd, Cmd) {
    let fields = letter(group, p, error).fields(p.id, Some(original));
    let refs: Vec<(&str, &[u8])> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    (
        xadd_cmd(&dead_key(key), None, &refs),
        xack_cmd(key, group, &[p.id]),
    )
}

fn letter<'a>(group: &'a str, p: &'a PendingEntry, error: &'a str) -> DeadLetter<'a> {
    DeadLetter {
        group,
        consumer: &p.consumer,
        deliveries: p.deliveries,
        error,
    }
}

/// Send `repair` of `entries`.
pub async fn apply(
    conn: &mut Conn,
    key: &str,
    group: &str,
    repair: &Repair,
    entries: &[PendingEntry],
) -> Result<Repaired, RedisFailure> {
    let ids: Vec<EntryId> = entries.iter().map(|p| p.id).collect();
    let mut out = Repaired::default();
    match repair {
        Repair::Ack => {
            out.done = xack(conn, key, group, &ids).await?;
            out.not_pending = (ids.len() as u64).saturating_sub(out.done);
        }
        Repair::Claim { to, min_idle_ms } => {
            let claimed = xclaim(conn, key, group, to, *min_idle_ms, &ids).await?;
            out.done = claimed.len() as u64;
            out.not_pending = (ids.len() as u64).saturating_sub(out.done);
        }
        Repair::Requeue | Repair::DeadLetter { .. } => {
            let fields = fields_of(conn, key, repair, entries).await?;
            out.gone = entries
                .iter()
                .zip(&fields)
                .filter(|(_, f)| f.is_none())
                .map(|(p, _)| p.id)
                .collect();
            let copies = copyable(entries, &fields);
            out.add(copy(conn, key, group, repair, &copies).await?);
        }
    }
    Ok(out)
}

async fn copy(
    conn: &mut Conn,
    key: &str,
    group: &str,
    repair: &Repair,
    copies: &[(&PendingEntry, &RawFields)],
) -> Result<Repaired, RedisFailure> {
    let mut out = Repaired::default();
    if let Repair::DeadLetter { error } = repair {
        let dead = dead_key(key);
        for (p, f) in copies {
            let fields = letter(group, p, error).fields(p.id, Some(&named(f)));
            let refs: Vec<(&str, &[u8])> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_slice()))
                .collect();
            let new = dead_letter(conn, key, &dead, group, p.id, &refs).await?;
            out.done += 1;
            out.moved.push((p.id, new));
        }
        return Ok(out);
    }
    for batch in copies.chunks(REQUEUE_BATCH) {
        let owned: Vec<(EntryId, RawFields)> =
            batch.iter().map(|(p, f)| (p.id, (*f).clone())).collect();
        for ((old, _), (new, acked)) in owned.iter().zip(requeue(conn, key, group, &owned).await?) {
            out.done += 1;
            out.moved.push((*old, new));
            if !acked {
                out.not_pending += 1;
            }
        }
    }
    Ok(out)
}
