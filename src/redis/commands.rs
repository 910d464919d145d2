//! Typed stream commands. Each function names whether it writes, builds the
//! raw command and decodes the reply; nothing else in the crate does either.

use ::redis::{Cmd, Value, cmd};

use crate::redis::connect::Conn;
use crate::redis::errors::RedisFailure;
use crate::redis::id::EntryId;
use crate::redis::reply::{self, Entry, bad, count, id, int, items, table, text};

/// Where XREADGROUP starts: `>` (never delivered) or this consumer's own
/// pending entries after an id (`0` drains the whole PEL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupRead {
    New,
    OwnPendingAfter(EntryId),
}

/// Stream retention applied by XADD or XTRIM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retention {
    MaxLen { len: u64, exact: bool },
    MinId(EntryId),
}

/// XAUTOCLAIM's reply, with the Redis 7 third element (ids deleted while
/// pending) empty on older servers.
#[derive(Debug, Clone, Default)]
pub struct AutoClaim {
    pub next: EntryId,
    pub claimed: Vec<Entry>,
    pub deleted: Vec<EntryId>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PendingSummary {
    pub count: u64,
    pub min: Option<EntryId>,
    pub max: Option<EntryId>,
    pub consumers: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PendingEntry {
    pub id: EntryId,
    pub consumer: String,
    pub idle_ms: u64,
    pub deliveries: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StreamInfo {
    pub length: u64,
    pub first_id: Option<EntryId>,
    pub last_id: Option<EntryId>,
    pub last_generated_id: Option<EntryId>,
    pub entries_added: Option<u64>,
    pub max_deleted_id: Option<EntryId>,
    pub groups: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GroupInfo {
    pub name: String,
    pub consumers: u64,
    pub pending: u64,
    pub last_delivered_id: Option<EntryId>,
    /// `None` when Redis does not know (after SETID, XDEL past the group).
    pub entries_read: Option<u64>,
    /// `None` when Redis does not know.
    pub lag: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConsumerInfo {
    pub name: String,
    pub pending: u64,
    pub idle_ms: u64,
    /// Milliseconds since the last successful read (Redis 7.2+).
    pub inactive_ms: Option<u64>,
}

pub async fn ping(conn: &mut Conn) -> Result<(), RedisFailure> {
    conn.run(&cmd("PING"), "PING", false).await.map(|_| ())
}

/// The server's `redis_version` from INFO server.
pub async fn server_version(conn: &mut Conn) -> Result<String, RedisFailure> {
    let v = conn.run(cmd("INFO").arg("server"), "INFO", false).await?;
    let info = text(&v).unwrap_or_default();
    Ok(info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("unknown")
        .trim()
        .to_owned())
}

/// XGROUP CREATE ... MKSTREAM. Returns false when the group already existed
/// (BUSYGROUP), which counts as success.
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
        Err(e) => Err(e),
    }
}

/// `XADD key [MAXLEN|MINID ...] *`, ready for its field/value pairs.
/// `fields` and `bytes` size the buffers so pushing them does not regrow.
fn xadd_head(key: &str, retention: Option<&Retention>, fields: usize, bytes: usize) -> Cmd {
    let mut c = Cmd::with_capacity(2 * fields + 6, key.len() + bytes + 32);
    c.arg("XADD").arg(key);
    match retention {
        Some(Retention::MaxLen { len, exact }) => {
            c.arg("MAXLEN")
                .arg(if *exact { "=" } else { "~" })
                .arg(*len);
        }
        Some(Retention::MinId(min)) => {
            c.arg("MINID").arg("~").arg(*min);
        }
        None => {}
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

/// XREAD COUNT n BLOCK ms STREAMS key after.
pub async fn xread(
    conn: &mut Conn,
    key: &str,
    after: EntryId,
    count: usize,
    block_ms: u64,
) -> Result<Vec<Entry>, RedisFailure> {
    let c = cmd("XREAD")
        .arg("COUNT")
        .arg(count)
        .arg("BLOCK")
        .arg(block_ms)
        .arg("STREAMS")
        .arg(key)
        .arg(after.to_string())
        .clone();
    reply::into_read_reply(conn.run(&c, "XREAD", false).await?)
}

/// XREADGROUP GROUP g consumer COUNT n BLOCK ms STREAMS key (>|id).
/// Reading `>` writes (it moves entries into the PEL).
pub async fn xreadgroup(
    conn: &mut Conn,
    key: &str,
    group: &str,
    consumer: &str,
    from: GroupRead,
    count: usize,
    block_ms: Option<u64>,
) -> Result<Vec<Entry>, RedisFailure> {
    let mut c = cmd("XREADGROUP");
    c.arg("GROUP")
        .arg(group)
        .arg(consumer)
        .arg("COUNT")
        .arg(count);
    if let Some(ms) = block_ms {
        c.arg("BLOCK").arg(ms);
    }
    c.arg("STREAMS").arg(key);
    match from {
        GroupRead::New => c.arg(">"),
        GroupRead::OwnPendingAfter(after) => c.arg(after.to_string()),
    };
    reply::into_read_reply(conn.run(&c, "XREADGROUP", true).await?)
}

/// XACK `ack` (if any) and XREADGROUP in one round trip: a worker acks
/// the batch it just finished while asking for the next one. Returns how
/// many were acked and the new entries.
pub async fn xack_and_readgroup(
    conn: &mut Conn,
    key: &str,
    group: &str,
    consumer: &str,
    ack: &[EntryId],
    read_count: usize,
    block_ms: u64,
) -> Result<(u64, Vec<Entry>), RedisFailure> {
    if ack.is_empty() {
        let entries = xreadgroup(
            conn,
            key,
            group,
            consumer,
            GroupRead::New,
            read_count,
            Some(block_ms),
        )
        .await?;
        return Ok((0, entries));
    }
    let mut xack_cmd = cmd("XACK");
    xack_cmd.arg(key).arg(group);
    xack_cmd.arg(ack);
    let read = cmd("XREADGROUP")
        .arg("GROUP")
        .arg(group)
        .arg(consumer)
        .arg("COUNT")
        .arg(read_count)
        .arg("BLOCK")
        .arg(block_ms)
        .arg("STREAMS")
        .arg(key)
        .arg(">")
        .clone();
    let mut pipe = ::redis::pipe();
    pipe.add_command(xack_cmd).add_command(read);
    let replies = conn.run_pipeline(&pipe, "XACK+XREADGROUP", true, 2).await?;
    let Ok([acked, entries]) = <[Value; 2]>::try_from(replies) else {
        return Err(bad("XACK+XREADGROUP", &Value::Nil));
    };
    Ok((count(&acked).unwrap_or(0), reply::into_read_reply(entries)?))
}

pub async fn xack(
    conn: &mut Conn,
    key: &str,
    group: &str,
    ids: &[EntryId],
) -> Result<u64, RedisFailure> {
    if ids.is_empty() {
        return Ok(0);
    }
    let mut c = cmd("XACK");
    c.arg(key).arg(group).arg(ids);
    let v = conn.run(&c, "XACK", true).await?;
    count(&v).ok_or_else(|| bad("XACK", &v))
}

/// XAUTOCLAIM key group consumer min-idle start COUNT n.
pub async fn xautoclaim(
    conn: &mut Conn,
    key: &str,
    group: &str,
    consumer: &str,
    min_idle_ms: u64,
    start: EntryId,
    count_max: usize,
) -> Result<AutoClaim, RedisFailure> {
    let c = cmd("XAUTOCLAIM")
        .arg(key)
        .arg(group)
        .arg(consumer)
        .arg(min_idle_ms)
        .arg(start.to_string())
        .arg("COUNT")
        .arg(count_max)
        .clone();
    let v = conn.run(&c, "XAUTOCLAIM", true).await?;
    parse_autoclaim(&v)
}

/// Decode both the 2-element (Redis 6.2) and 3-element (7.0+) replies.
pub fn parse_autoclaim(v: &Value) -> Result<AutoClaim, RedisFailure> {
    let parts = items(v).ok_or_else(|| bad("XAUTOCLAIM", v))?;
    let (cursor, claimed, deleted) = match parts {
        [cursor, claimed] => (cursor, claimed, None),
        [cursor, claimed, deleted] => (cursor, claimed, Some(deleted)),
        _ => return Err(bad("XAUTOCLAIM length", v)),
    };
    let deleted = match deleted {
        Some(d) => items(d).unwrap_or_default().iter().filter_map(id).collect(),
        None => Vec::new(),
    };
    // Before 7.0 a claimed id whose entry was deleted comes back as nil.
    Ok(AutoClaim {
        next: id(cursor).ok_or_else(|| bad("XAUTOCLAIM cursor", cursor))?,
        claimed: reply::entries(claimed)?,
        deleted,
    })
}

/// XCLAIM specific ids to `consumer` if they have been idle `min_idle_ms`.
pub async fn xclaim(
    conn: &mut Conn,
    key: &str,
    group: &str,
    consumer: &str,
    min_idle_ms: u64,
    ids: &[EntryId],
) -> Result<Vec<Entry>, RedisFailure> {
    let mut c = cmd("XCLAIM");
    c.arg(key).arg(group).arg(consumer).arg(min_idle_ms);
    for i in ids {
        c.arg(i.to_string());
    }
    reply::into_entries(conn.run(&c, "XCLAIM", true).await?)
}

pub fn xpending_summary_cmd(key: &str, group: &str) -> Cmd {
    cmd("XPENDING").arg(key).arg(group).clone()
}

pub fn parse_pending_summary(v: &Value) -> Result<PendingSummary, RedisFailure> {
    let parts = items(v).ok_or_else(|| bad("XPENDING summary", v))?;
    let [total, min, max, consumers] = parts else {
        return Err(bad("XPENDING summary", v));
    };
    let consumers = items(consumers)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| match items(c) {
            Some([name, n]) => Some((text(name)?, count(n)?)),
            _ => None,
        })
        .collect();
    Ok(PendingSummary {
        count: count(total).unwrap_or(0),
        min: id(min),
        max: id(max),
        consumers,
    })
}

pub async fn xpending_summary(
    conn: &mut Conn,
    key: &str,
    group: &str,
) -> Result<PendingSummary, RedisFailure> {
    parse_pending_summary(
        &conn
            .run(&xpending_summary_cmd(key, group), "XPENDING", false)
            .await?,
    )
}

/// XPENDING key group start end COUNT n [consumer]. Never uses IDLE: that
/// option walks the whole PEL when few entries match (35 ms on 500k).
pub fn xpending_range_cmd(
    key: &str,
    group: &str,
    start: &str,
    end: &str,
    count_max: usize,
    consumer: Option<&str>,
) -> Cmd {
    let mut c = cmd("XPENDING");
    c.arg(key).arg(group).arg(start).arg(end).arg(count_max);
    if let Some(name) = consumer {
        c.arg(name);
    }
    c
}

pub fn parse_pending_range(v: &Value) -> Result<Vec<PendingEntry>, RedisFailure> {
    items(v)
        .ok_or_else(|| bad("XPENDING range", v))?
        .iter()
        .map(|row| match items(row) {
            Some([i, consumer, idle, deliveries]) => Ok(PendingEntry {
                id: id(i).ok_or_else(|| bad("XPENDING id", i))?,
                consumer: text(consumer).unwrap_or_default(),
                idle_ms: count(idle).unwrap_or(0),
                deliveries: count(deliveries).unwrap_or(0),
            }),
            _ => Err(bad("XPENDING row", row)),
        })
        .collect()
}

pub async fn xpending_range(
    conn: &mut Conn,
    key: &str,
    group: &str,
    start: &str,
    end: &str,
    count_max: usize,
    consumer: Option<&str>,
) -> Result<Vec<PendingEntry>, RedisFailure> {
    let c = xpending_range_cmd(key, group, start, end, count_max, consumer);
    parse_pending_range(&conn.run(&c, "XPENDING", false).await?)
}

pub fn xinfo_stream_cmd(key: &str) -> Cmd {
    cmd("XINFO").arg("STREAM").arg(key).clone()
}

pub fn parse_stream_info(v: &Value) -> Result<StreamInfo, RedisFailure> {
    let t = table(v).ok_or_else(|| bad("XINFO STREAM", v))?;
    let get = |k: &str| t.get(k).copied();
    let entry_id = |k: &str| get(k).and_then(|e| items(e).and_then(|p| p.first()).and_then(id));
    Ok(StreamInfo {
        length: get("length").and_then(count).unwrap_or(0),
        first_id: entry_id("first-entry"),
        last_id: entry_id("last-entry"),
        last_generated_id: get("last-generated-id").and_then(id),
        entries_added: get("entries-added").and_then(count),
        max_deleted_id: get("max-deleted-entry-id").and_then(id),
        groups: get("groups").and_then(count).unwrap_or(0),
    })
}

/// XINFO STREAM; `None` when the key does not exist.
pub async fn xinfo_stream(conn: &mut Conn, key: &str) -> Result<Option<StreamInfo>, RedisFailure> {
    match conn.run(&xinfo_stream_cmd(key), "XINFO", false).await {
        Ok(v) => parse_stream_info(&v).map(Some),
        Err(RedisFailure::Server(m)) if is_no_such_key(&m) => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn is_no_such_key(message: &str) -> bool {
    message.to_ascii_lowercase().contains("no such key")
}

pub fn xinfo_groups_cmd(key: &str) -> Cmd {
    cmd("XINFO").arg("GROUPS").arg(key).clone()
}

pub fn parse_groups(v: &Value) -> Result<Vec<GroupInfo>, RedisFailure> {
    items(v)
        .ok_or_else(|| bad("XINFO GROUPS", v))?
        .iter()
        .map(|g| {
            let t = table(g).ok_or_else(|| bad("XINFO GROUPS row", g))?;
            let get = |k: &str| t.get(k).copied();
            Ok(GroupInfo {
                name: get("name").and_then(text).unwrap_or_default(),
                consumers: get("consumers").and_then(count).unwrap_or(0),
                pending: get("pending").and_then(count).unwrap_or(0),
                last_delivered_id: get("last-delivered-id").and_then(id),
                entries_read: get("entries-read").and_then(count),
                lag: get("lag").and_then(count),
            })
        })
        .collect()
}

pub fn xinfo_consumers_cmd(key: &str, group: &str) -> Cmd {
    cmd("XINFO").arg("CONSUMERS").arg(key).arg(group).clone()
}

pub fn parse_consumers(v: &Value) -> Result<Vec<ConsumerInfo>, RedisFailure> {
    items(v)
        .ok_or_else(|| bad("XINFO CONSUMERS", v))?
        .iter()
        .map(|c| {
            let t = table(c).ok_or_else(|| bad("XINFO CONSUMERS row", c))?;
            let get = |k: &str| t.get(k).copied();
            Ok(ConsumerInfo {
                name: get("name").and_then(text).unwrap_or_default(),
                pending: get("pending").and_then(count).unwrap_or(0),
                idle_ms: get("idle").and_then(count).unwrap_or(0),
                inactive_ms: get("inactive")
                    .and_then(int)
                    .and_then(|i| u64::try_from(i).ok()),
            })
        })
        .collect()
}

pub fn xrange_cmd(key: &str, start: &str, end: &str, count_max: usize) -> Cmd {
    cmd("XRANGE")
        .arg(key)
        .arg(start)
        .arg(end)
        .arg("COUNT")
        .arg(count_max)
        .clone()
}

pub async fn xrange(
    conn: &mut Conn,
    key: &str,
    start: &str,
    end: &str,
    count_max: usize,
) -> Result<Vec<Entry>, RedisFailure> {
    reply::into_entries(
        conn.run(&xrange_cmd(key, start, end, count_max), "XRANGE", false)
            .await?,
    )
}

/// XTRIM with MAXLEN or MINID; returns how many entries were removed.
pub async fn xtrim(conn: &mut Conn, key: &str, retention: &Retention) -> Result<u64, RedisFailure> {
    let mut c = cmd("XTRIM");
    c.arg(key);
    match retention {
        Retention::MaxLen { len, exact } => c
            .arg("MAXLEN")
            .arg(if *exact { "=" } else { "~" })
            .arg(*len),
        Retention::MinId(min) => c.arg("MINID").arg(min.to_string()),
    };
    let v = conn.run(&c, "XTRIM", true).await?;
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

pub async fn xlen(conn: &mut Conn, key: &str) -> Result<u64, RedisFailure> {
    let v = conn.run(cmd("XLEN").arg(key), "XLEN", false).await?;
    count(&v).ok_or_else(|| bad("XLEN", &v))
}

pub async fn get_string(conn: &mut Conn, key: &str) -> Result<Option<String>, RedisFailure> {
    let v = conn.run(cmd("GET").arg(key), "GET", false).await?;
    Ok(text(&v))
}

pub async fn set_string(conn: &mut Conn, key: &str, value: &str) -> Result<(), RedisFailure> {
    conn.run(cmd("SET").arg(key).arg(value), "SET", true)
        .await
        .map(|_| ())
}

/// Copy an entry to the dead-letter stream and XACK it, in one MULTI/EXEC
/// so it is never both lost and acked. With a hash-tagged stream name the
/// two keys share a cluster slot. Returns the dead-letter entry's id.
pub async fn dead_letter(
    conn: &mut Conn,
    key: &str,
    dead_key: &str,
    group: &str,
    original: EntryId,
    dead_fields: &[(&str, &[u8])],
) -> Result<EntryId, RedisFailure> {
    let mut pipe = ::redis::pipe();
    pipe.atomic();
    pipe.add_command(xadd_cmd(dead_key, None, dead_fields));
    pipe.add_command(
        cmd("XACK")
            .arg(key)
            .arg(group)
            .arg(original.to_string())
            .clone(),
    );
    let replies = conn.run_pipeline(&pipe, "XADD+XACK", true, 4).await?;
    let first = replies
        .first()
        .ok_or_else(|| bad("MULTI reply", &Value::Nil))?;
    id(first).ok_or_else(|| bad("dead-letter XADD", first))
}

/// XADD `fields` to `to` and XDEL `id` from `from` in one MULTI/EXEC.
pub async fn move_entry(
    conn: &mut Conn,
    from: &str,
    to: &str,
    id_: EntryId,
    fields: &[(&str, &[u8])],
) -> Result<EntryId, RedisFailure> {
    let mut pipe = ::redis::pipe();
    pipe.atomic();
    pipe.add_command(xadd_cmd(to, None, fields));
    pipe.add_command(cmd("XDEL").arg(from).arg(id_.to_string()).clone());
    let replies = conn.run_pipeline(&pipe, "XADD+XDEL", true, 4).await?;
    let first = replies
        .first()
        .ok_or_else(|| bad("MULTI reply", &Value::Nil))?;
    id(first).ok_or_else(|| bad("replay XADD", first))
}

/// XGROUP DESTROY / DELCONSUMER, used by tests and the dashboard.
pub async fn delete_consumer(
    conn: &mut Conn,
    key: &str,
    group: &str,
    consumer: &str,
) -> Result<u64, RedisFailure> {
    let v = conn
        .run(
            cmd("XGROUP")
                .arg("DELCONSUMER")
                .arg(key)
                .arg(group)
                .arg(consumer),
            "XGROUP DELCONSUMER",
            true,
        )
        .await?;
    Ok(count(&v).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn autoclaim_two_and_three_element_replies() {
        let claimed = Value::Array(vec![Value::Array(vec![
            bulk("3-0"),
            Value::Array(vec![bulk("k"), bulk("v")]),
        ])]);
        let two = Value::Array(vec![bulk("0-0"), claimed.clone()]);
        let three = Value::Array(vec![
            bulk("7-0"),
            claimed,
            Value::Array(vec![bulk("4-0"), bulk("5-0")]),
        ]);
        let a = parse_autoclaim(&two).unwrap();
        assert_eq!(
            (a.next, a.claimed.len(), a.deleted.len()),
            (EntryId::ZERO, 1, 0)
        );
        let b = parse_autoclaim(&three).unwrap();
        assert_eq!(b.next, EntryId { ms: 7, seq: 0 });
        assert_eq!(
            b.deleted,
            vec![EntryId { ms: 4, seq: 0 }, EntryId { ms: 5, seq: 0 }]
        );
        assert!(parse_autoclaim(&Value::Array(vec![bulk("0-0")])).is_err());
    }

    #[test]
    fn group_lag_nil_stays_unknown() {
        let row = Value::Array(vec![
            bulk("name"),
            bulk("g"),
            bulk("consumers"),
            Value::Int(2),
            bulk("pending"),
            Value::Int(3),
            bulk("last-delivered-id"),
            bulk("9-0"),
            bulk("entries-read"),
            Value::Nil,
            bulk("lag"),
            Value::Nil,
        ]);
        let groups = parse_groups(&Value::Array(vec![row])).unwrap();
        assert_eq!(groups[0].lag, None);
        assert_eq!(groups[0].entries_read, None);
        assert_eq!(groups[0].pending, 3);
    }
}
