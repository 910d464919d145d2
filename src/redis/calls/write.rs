//! Commands that change data: group creation, XADD (single, batched,
//! pipelined), trims, deletes, offsets, and the atomic moves behind dead
//! letters and replays.

use ::redis::{Cmd, Value, cmd};

use super::{AckHow, Retention, ack_cmd, xtrim_cmd};
use crate::redis::connect::Conn;
use crate::redis::errors::RedisFailure;
use crate::redis::id::EntryId;
use crate::redis::reply::{self, bad, count, id};

/// XGROUP CREATE ... MKSTREAM. Returns false when the group already existed
/// (BUSYGROUP), which counts as success. Redis refuses XGROUP CREATE when
/// out of memory before it looks for the group, so an existing group is
/// then found with XINFO GROUPS: a worker can still drain and ack.
pub async fn create_group(
    conn: &mut Conn,
    key: &str,
    group: &str,
    start: &str,
) -> Result<bool, RedisFailure> {
    let c = cmd("XGROUP")
        .arg("CREATE")
        .arg(key)
        .arg(group)
        .arg(start)
        .arg("MKSTREAM")
        .clone();
    match conn.run(&c, "XGROUP CREATE", true).await {
        Ok(_) => Ok(true),
        Err(RedisFailure::Server(m)) if m.contains("BUSYGROUP") => Ok(false),
        Err(e) if e.is_out_of_memory() && group_exists(conn, key, group).await => Ok(false),
        Err(e) => Err(e),
    }
}

async fn group_exists(conn: &mut Conn, key: &str, group: &str) -> bool {
    match conn
        .run(&super::xinfo_groups_cmd(key), "XINFO GROUPS", false)
        .await
    {
        Ok(v) => super::parse_groups(&v).is_ok_and(|gs| gs.iter().any(|g| g.name == group)),
        Err(_) => false,
    }
}

/// `XADD key [MAXLEN|MINID ...] *`, ready for its field/value pairs.
/// `fields` and `bytes` size the buffers so pushing them does not regrow.
fn xadd_head(key: &str, retention: Option<&Retention>, fields: usize, bytes: usize) -> Cmd {
    let mut c = Cmd::with_capacity(2 * fields + 6, key.len() + bytes + 32);
    c.arg("XADD").arg(key);
    if let Some(retention) = retention {
        retention.push_args(&mut c);
    }
    c.arg("*");
    c
}

pub fn xadd_cmd(key: &str, retention: Option<&Retention>, fields: &[(&str, &[u8])]) -> Cmd {
    let bytes = fields.iter().map(|(k, v)| k.len() + v.len()).sum();
    let mut c = xadd_head(key, retention, fields.len(), bytes);
    for (k, v) in fields {
        c.arg(*k).arg(*v);
    }
    c
}

/// One XADD field value: bytes, or a number written straight into the
/// command (no `String` per number per entry on the producer's hot path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    Bytes(&'a [u8]),
    Uint(u64),
}

impl ::redis::ToRedisArgs for FieldValue<'_> {
    fn write_redis_args<W>(&self, out: &mut W)
    where
        W: ?Sized + ::redis::RedisWrite,
    {
        match self {
            Self::Bytes(b) => out.write_arg(b),
            Self::Uint(n) => n.write_redis_args(out),
        }
    }
}

/// XADD a batch of entries in one round trip; returns their ids in order.
pub async fn xadd_batch(
    conn: &mut Conn,
    key: &str,
    retention: Option<&Retention>,
    batch: &[Vec<(&str, Vec<u8>)>],
) -> Result<Vec<EntryId>, RedisFailure> {
    let mut pipe = ::redis::Pipeline::with_capacity(batch.len());
    for fields in batch {
        let bytes = fields.iter().map(|(k, v)| k.len() + v.len()).sum();
        let mut c = xadd_head(key, retention, fields.len(), bytes);
        for (k, v) in fields {
            c.arg(*k).arg(v.as_slice());
        }
        pipe.add_command(c);
    }
    send_xadds(conn, &pipe, batch.len()).await
}

/// [`xadd_batch`] for rows of a fixed number of fields, borrowed: the
/// producer's path, which allocates per batch rather than per entry.
pub async fn xadd_rows<const N: usize>(
    conn: &mut Conn,
    key: &str,
    retention: Option<&Retention>,
    rows: &[[(&str, FieldValue<'_>); N]],
) -> Result<Vec<EntryId>, RedisFailure> {
    let mut pipe = ::redis::Pipeline::with_capacity(rows.len());
    for row in rows {
        let bytes = row
            .iter()
            .map(|(k, v)| {
                k.len()
                    + match v {
                        FieldValue::Bytes(b) => b.len(),
                        FieldValue::Uint(_) => 20,
                    }
            })
            .sum();
        let mut c = xadd_head(key, retention, N, bytes);
        for (k, v) in row {
            c.arg(*k).arg(*v);
        }
        pipe.add_command(c);
    }
    send_xadds(conn, &pipe, rows.len()).await
}

/// One entry to add as it was read: its id (`None`: a new one, `*`) and
/// its field/value pairs as bytes, in order.
pub struct RawXadd<'a> {
    pub id: Option<EntryId>,
    pub fields: &'a [(Vec<u8>, Vec<u8>)],
}

/// XADD entries given as bytes (a replay of `read --json`), in one round
/// trip; returns their ids in order.
pub async fn xadd_raw_batch(
    conn: &mut Conn,
    key: &str,
    entries: &[RawXadd<'_>],
) -> Result<Vec<EntryId>, RedisFailure> {
    let mut pipe = ::redis::Pipeline::with_capacity(entries.len());
    for e in entries {
        let bytes: usize = e.fields.iter().map(|(k, v)| k.len() + v.len()).sum();
        let mut c = Cmd::with_capacity(2 * e.fields.len() + 3, key.len() + bytes + 48);
        c.arg("XADD").arg(key);
        match e.id {
            Some(id) => c.arg(id),
            None => c.arg("*"),
        };
        for (k, v) in e.fields {
            c.arg(k.as_slice()).arg(v.as_slice());
        }
        pipe.add_command(c);
    }
    send_xadds(conn, &pipe, entries.len()).await
}

async fn send_xadds(
    conn: &mut Conn,
    pipe: &::redis::Pipeline,
    n: usize,
) -> Result<Vec<EntryId>, RedisFailure> {
    let replies = conn.run_pipeline(pipe, "XADD", true, n).await?;
    replies
        .iter()
        .map(|v| reply::id_of(v).ok_or_else(|| bad("XADD id", v)))
        .collect()
}

/// XTRIM with MAXLEN or MINID; returns how many entries were removed.
pub async fn xtrim(conn: &mut Conn, key: &str, retention: &Retention) -> Result<u64, RedisFailure> {
    let v = conn.run(&xtrim_cmd(key, retention), "XTRIM", true).await?;
    count(&v).ok_or_else(|| bad("XTRIM", &v))
}

pub async fn xdel(conn: &mut Conn, key: &str, ids: &[EntryId]) -> Result<u64, RedisFailure> {
    let mut c = cmd("XDEL");
    c.arg(key);
    for i in ids {
        c.arg(i.to_string());
    }
    let v = conn.run(&c, "XDEL", true).await?;
    count(&v).ok_or_else(|| bad("XDEL", &v))
}

pub async fn set_string(conn: &mut Conn, key: &str, value: &str) -> Result<(), RedisFailure> {
    conn.run(cmd("SET").arg(key).arg(value), "SET", true)
        .await
        .map(|_| ())
}

/// Copy an entry to the dead-letter stream and XACK it. When both keys
/// share a slot (always on a single server; on a cluster with a hash-tagged
/// stream name such as `{jobs}`) in one MULTI/EXEC, so the entry is never
/// both lost and acked. Otherwise (a cluster cannot run MULTI across
/// slots) the XADD goes first, then the XACK: a crash or error in between
/// leaves the entry pending, so it is dead-lettered again, a duplicate dead
/// letter, never a lost one. Returns the dead-letter entry's id.
pub async fn dead_letter(
    conn: &mut Conn,
    key: &str,
    dead_key: &str,
    group: &str,
    original: EntryId,
    dead_fields: &[(&str, &[u8])],
) -> Result<EntryId, RedisFailure> {
    let dead = DeadLetterTo {
        key: dead_key,
        fields: dead_fields,
    };
    dead_letter_acking(conn, key, group, original, &dead, AckHow::Ack).await
}

/// Where a dead letter goes and what it holds.
pub struct DeadLetterTo<'a> {
    pub key: &'a str,
    pub fields: &'a [(&'a str, &'a [u8])],
}

/// [`dead_letter`], acking with XACKDEL ... ACKED when `how` says (a
/// worker run with `--ack-delete`): the entry then also leaves the stream
/// unless another group still needs it.
pub async fn dead_letter_acking(
    conn: &mut Conn,
    key: &str,
    group: &str,
    original: EntryId,
    dead: &DeadLetterTo<'_>,
    how: AckHow,
) -> Result<EntryId, RedisFailure> {
    let (dead_key, dead_fields) = (dead.key, dead.fields);
    let ack = ack_cmd(key, group, &[original], how);
    if conn.one_slot(&[key, dead_key]).await? {
        return xadd_atomically_with(conn, dead_key, dead_fields, ack, "XADD+XACK").await;
    }
    let added = conn
        .run(&xadd_cmd(dead_key, None, dead_fields), "XADD", true)
        .await?;
    let dead_id = id(&added).ok_or_else(|| bad("dead-letter XADD", &added))?;
    conn.run(&ack, "XACK", true).await?;
    Ok(dead_id)
}

/// `XADD key * f1 v1 ...` with the fields as bytes, in their order.
pub fn xadd_raw_cmd(key: &str, fields: &reply::RawFields) -> Cmd {
    let mut c = cmd("XADD");
    c.arg(key).arg("*");
    for (k, v) in fields {
        c.arg(k.as_slice()).arg(v.as_slice());
    }
    c
}

/// Put pending entries back on their stream so that a reader of `>` gets
/// them again: each one's copy (same fields, same order, byte for byte)
/// XADDed and the original XACKed, all in one MULTI/EXEC (both commands
/// name the same key, so they share a slot, on a cluster too). Returns,
/// per entry, the new id and whether the XACK found it still pending (an
/// entry acked by someone since it was read is copied anyway: a
/// duplicate, never a loss).
pub async fn requeue(
    conn: &mut Conn,
    key: &str,
    group: &str,
    batch: &[(EntryId, reply::RawFields)],
) -> Result<Vec<(EntryId, bool)>, RedisFailure> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = ::redis::pipe();
    pipe.atomic();
    for (old, fields) in batch {
        pipe.add_command(xadd_raw_cmd(key, fields));
        pipe.add_command(super::xack_cmd(key, group, &[*old]));
    }
    let replies = conn
        .run_pipeline(&pipe, "XADD+XACK", true, 2 + 2 * batch.len())
        .await?;
    replies
        .chunks_exact(2)
        .map(|pair| {
            let new = id(&pair[0]).ok_or_else(|| bad("requeue XADD", &pair[0]))?;
            Ok((new, count(&pair[1]) == Some(1)))
        })
        .collect()
}

/// Borrowed field/value pairs of one entry to write.
pub type FieldRefs<'a> = Vec<(&'a str, &'a [u8])>;

/// Move a batch of entries: XADD each one's `fields` to `to` and XDEL it
/// from `from`. In one MULTI/EXEC when the keys share a slot; otherwise
/// (a cluster, keys in different slots) all the XADDs in one round trip,
/// then one XDEL: a crash in between leaves the sources in place, so a
/// retry moves them again (duplicates at `to`, nothing lost). Returns the
/// new ids, in order.
pub async fn move_entries(
    conn: &mut Conn,
    from: &str,
    to: &str,
    moves: &[(EntryId, FieldRefs<'_>)],
) -> Result<Vec<EntryId>, RedisFailure> {
    if moves.is_empty() {
        return Ok(Vec::new());
    }
    if !conn.one_slot(&[from, to]).await? {
        let mut adds = ::redis::pipe();
        for (_, fields) in moves {
            adds.add_command(xadd_cmd(to, None, fields));
        }
        let ids = send_xadds(conn, &adds, moves.len()).await?;
        let olds: Vec<EntryId> = moves.iter().map(|(old, _)| *old).collect();
        xdel(conn, from, &olds).await?;
        return Ok(ids);
    }
    let mut pipe = ::redis::pipe();
    pipe.atomic();
    for (old, fields) in moves {
        pipe.add_command(xadd_cmd(to, None, fields));
        pipe.add_command(cmd("XDEL").arg(from).arg(old.to_string()).clone());
    }
    // MULTI, an XADD and an XDEL per entry, EXEC.
    let replies = conn
        .run_pipeline(&pipe, "XADD+XDEL", true, 2 + 2 * moves.len())
        .await?;
    replies
        .iter()
        .step_by(2)
        .map(|v| id(v).ok_or_else(|| bad("moved XADD", v)))
        .collect()
}

/// XADD to `to` and run `then` inside one MULTI/EXEC; returns the new id.
async fn xadd_atomically_with(
    conn: &mut Conn,
    to: &str,
    fields: &[(&str, &[u8])],
    then: Cmd,
    name: &'static str,
) -> Result<EntryId, RedisFailure> {
    let mut pipe = ::redis::pipe();
    pipe.atomic();
    pipe.add_command(xadd_cmd(to, None, fields));
    pipe.add_command(then);
    // MULTI, XADD, the second command, EXEC.
    let replies = conn.run_pipeline(&pipe, name, true, 4).await?;
    let first = replies
        .first()
        .ok_or_else(|| bad("MULTI reply", &Value::Nil))?;
    id(first).ok_or_else(|| bad(name, first))
}
