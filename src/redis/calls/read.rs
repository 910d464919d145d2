//! Reading entries: XREAD, XREADGROUP (with the piggy-backed XACK), XACK,
//! XAUTOCLAIM (2- and 3-element replies), XCLAIM, XRANGE, XLEN, GET.

use ::redis::{Cmd, Value, cmd};

use super::{AckHow, AckReply, AutoClaim, GroupRead, xack_cmd, xclaim_cmd};
use crate::redis::connect::Conn;
use crate::redis::errors::RedisFailure;
use crate::redis::id::EntryId;
use crate::redis::reply::{self, Entry, RawEntry, bad, count, id, items, text};

/// XREAD COUNT n BLOCK ms STREAMS key after.
pub async fn xread(
    conn: &mut Conn,
    key: &str,
    after: EntryId,
    count: usize,
    block_ms: u64,
) -> Result<Vec<Entry>, RedisFailure> {
    let c = xread_cmd(key, after, count, block_ms);
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

/// XACK (or XACKDEL) `ack`, if any, and XREADGROUP in one round trip: a
/// worker acks the batch it just finished while asking for the next one.
/// Returns what the ack did and the new entries.
#[expect(clippy::too_many_arguments, reason = "one command's arguments, named")]
pub async fn xack_and_readgroup(
    conn: &mut Conn,
    key: &str,
    group: &str,
    consumer: &str,
    ack: &[EntryId],
    how: AckHow,
    read_count: usize,
    block_ms: u64,
) -> Result<(AckReply, Vec<Entry>), RedisFailure> {
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
        return Ok((AckReply::default(), entries));
    }
    let ack_cmd = ack_cmd(key, group, ack, how);
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
    pipe.add_command(ack_cmd).add_command(read);
    let replies = conn.run_pipeline(&pipe, "XACK+XREADGROUP", true, 2).await?;
    let Ok([acked, entries]) = <[Value; 2]>::try_from(replies) else {
        return Err(bad("XACK+XREADGROUP", &Value::Nil));
    };
    let acked = parse_ack(&acked, ack, how)?;
    Ok((acked, reply::into_read_reply(entries)?))
}

/// XACK key group id..., or XACKDEL key group ACKED IDS n id...
pub fn ack_cmd(key: &str, group: &str, ids: &[EntryId], how: AckHow) -> Cmd {
    match how {
        AckHow::Ack => xack_cmd(key, group, ids),
        AckHow::AckDelete => xackdel_cmd(key, group, ids),
    }
}

/// XACKDEL key group ACKED IDS n id... (Redis 8.2): ack, and delete each
/// entry no other group still needs.
pub fn xackdel_cmd(key: &str, group: &str, ids: &[EntryId]) -> Cmd {
    let mut c = cmd("XACKDEL");
    c.arg(key)
        .arg(group)
        .arg("ACKED")
        .arg("IDS")
        .arg(ids.len())
        .arg(ids);
    c
}

/// XACK's count, or XACKDEL's code per id: 1 acked and deleted, 2 acked
/// but kept (another group holds it), -1 not in the group's PEL.
pub fn parse_ack(v: &Value, ids: &[EntryId], how: AckHow) -> Result<AckReply, RedisFailure> {
    if how == AckHow::Ack {
        let acked = count(v).ok_or_else(|| bad("XACK", v))?;
        return Ok(AckReply {
            acked,
            ..AckReply::default()
        });
    }
    let codes = items(v).ok_or_else(|| bad("XACKDEL", v))?;
    let mut out = AckReply {
        deleted: Some(0),
        ..AckReply::default()
    };
    for (id, code) in ids.iter().zip(codes) {
        match reply::int(code) {
            Some(1) => {
                out.acked += 1;
                out.deleted = out.deleted.map(|d| d + 1);
            }
            Some(2) => {
                out.acked += 1;
                out.kept.push(*id);
            }
            Some(_) => {}
            None => return Err(bad("XACKDEL code", code)),
        }
    }
    Ok(out)
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
    let v = conn.run(&xack_cmd(key, group, ids), "XACK", true).await?;
    count(&v).ok_or_else(|| bad("XACK", &v))
}

/// XACK or XACKDEL ... ACKED, as `how` says.
pub async fn ack_ids(
    conn: &mut Conn,
    key: &str,
    group: &str,
    ids: &[EntryId],
    how: AckHow,
) -> Result<AckReply, RedisFailure> {
    if ids.is_empty() {
        return Ok(AckReply::default());
    }
    let name = match how {
        AckHow::Ack => "XACK",
        AckHow::AckDelete => "XACKDEL",
    };
    let v = conn.run(&ack_cmd(key, group, ids, how), name, true).await?;
    parse_ack(&v, ids, how)
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
    let unnamed_deleted = items(claimed)
        .unwrap_or_default()
        .iter()
        .filter(|e| matches!(e, Value::Nil))
        .count();
    Ok(AutoClaim {
        next: id(cursor).ok_or_else(|| bad("XAUTOCLAIM cursor", cursor))?,
        claimed: reply::entries(claimed)?,
        deleted,
        unnamed_deleted,
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
    let c = xclaim_cmd(key, group, consumer, min_idle_ms, ids);
    reply::into_entries(conn.run(&c, "XCLAIM", true).await?)
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

/// XREVRANGE key end start COUNT n.
fn xrevrange_cmd(key: &str, end: &str, start: &str, count_max: usize) -> Cmd {
    cmd("XREVRANGE")
        .arg(key)
        .arg(end)
        .arg(start)
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

/// XREVRANGE key end start COUNT n: newest first.
pub async fn xrevrange(
    conn: &mut Conn,
    key: &str,
    end: &str,
    start: &str,
    count_max: usize,
) -> Result<Vec<Entry>, RedisFailure> {
    let c = xrevrange_cmd(key, end, start, count_max);
    reply::into_entries(conn.run(&c, "XREVRANGE", false).await?)
}

/// XRANGE key start end COUNT n, byte-exact (names as bytes, duplicates kept).
pub async fn xrange_raw(
    conn: &mut Conn,
    key: &str,
    start: &str,
    end: &str,
    count_max: usize,
) -> Result<Vec<RawEntry>, RedisFailure> {
    let c = xrange_cmd(key, start, end, count_max);
    reply::into_raw_entries(conn.run(&c, "XRANGE", false).await?)
}

/// XREVRANGE key end start COUNT n, byte-exact: newest first.
pub async fn xrevrange_raw(
    conn: &mut Conn,
    key: &str,
    end: &str,
    start: &str,
    count_max: usize,
) -> Result<Vec<RawEntry>, RedisFailure> {
    let c = xrevrange_cmd(key, end, start, count_max);
    reply::into_raw_entries(conn.run(&c, "XREVRANGE", false).await?)
}

/// XREAD COUNT n BLOCK ms STREAMS key after, byte-exact. Reads only: no
/// group, no consumer, nothing saved.
pub async fn xread_raw(
    conn: &mut Conn,
    key: &str,
    after: EntryId,
    count: usize,
    block_ms: u64,
) -> Result<Vec<RawEntry>, RedisFailure> {
    let c = xread_cmd(key, after, count, block_ms);
    reply::into_raw_read_reply(conn.run(&c, "XREAD", false).await?)
}

/// XREAD COUNT n BLOCK ms STREAMS key after, one key.
fn xread_cmd(key: &str, after: EntryId, count: usize, block_ms: u64) -> redis::Cmd {
    cmd("XREAD")
        .arg("COUNT")
        .arg(count)
        .arg("BLOCK")
        .arg(block_ms)
        .arg("STREAMS")
        .arg(key)
        .arg(after.to_string())
        .clone()
}

/// Which of `ids` the stream no longer holds (one pipelined XRANGE id id
/// each): entries deleted while they sat in a PEL.
pub async fn missing_entries(
    conn: &mut Conn,
    key: &str,
    ids: &[EntryId],
) -> Result<Vec<EntryId>, RedisFailure> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = ::redis::pipe();
    for i in ids {
        let at = i.to_string();
        pipe.add_command(xrange_cmd(key, &at, &at, 1));
    }
    let replies = conn.run_pipeline(&pipe, "XRANGE", false, ids.len()).await?;
    Ok(ids
        .iter()
        .zip(replies)
        .filter(|(_, r)| items(r).is_some_and(<[Value]>::is_empty))
        .map(|(i, _)| *i)
        .collect())
}

/// Each of `ids`'s fields as bytes (one pipelined `XRANGE id id COUNT 1`
/// each), `None` for an entry no longer in the stream.
pub async fn entries_as_bytes(
    conn: &mut Conn,
    key: &str,
    ids: &[EntryId],
) -> Result<Vec<Option<reply::RawFields>>, RedisFailure> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = ::redis::pipe();
    for i in ids {
        let at = i.to_string();
        pipe.add_command(xrange_cmd(key, &at, &at, 1));
    }
    let replies = conn.run_pipeline(&pipe, "XRANGE", false, ids.len()).await?;
    ids.iter()
        .zip(replies)
        .map(|(want, r)| {
            let found = reply::into_raw_entries(r)?.into_iter().next();
            Ok(found.filter(|e| e.id == *want).map(|e| e.fields))
        })
        .collect()
}

pub async fn xlen(conn: &mut Conn, key: &str) -> Result<u64, RedisFailure> {
    let v = conn.run(cmd("XLEN").arg(key), "XLEN", false).await?;
    count(&v).ok_or_else(|| bad("XLEN", &v))
}

pub async fn get_string(conn: &mut Conn, key: &str) -> Result<Option<String>, RedisFailure> {
    let v = conn.run(cmd("GET").arg(key), "GET", false).await?;
    Ok(text(&v))
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
    fn autoclaim_on_6_2_counts_the_nils_of_deleted_entries() {
        // What Redis 6.2.14 answers when one of two claimed entries was
        // deleted while pending: a nil in its place, no id.
        let entry = Value::Array(vec![bulk("2-1"), Value::Array(vec![bulk("a"), bulk("1")])]);
        let reply = Value::Array(vec![bulk("0-0"), Value::Array(vec![Value::Nil, entry])]);
        let ac = parse_autoclaim(&reply).unwrap();
        assert_eq!((ac.claimed.len(), ac.unnamed_deleted), (1, 1));
        assert!(ac.deleted.is_empty());
    }
}
