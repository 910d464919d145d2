//! What Redis reports about a stream: XINFO STREAM/GROUPS/CONSUMERS and
//! XPENDING (summary and ranges, never IDLE), as commands the poller can
//! pipeline plus their decoders.

use ::redis::{Cmd, Value, cmd};

use super::{ConsumerInfo, GroupInfo, PendingEntry, PendingSummary, StreamInfo};
use crate::redis::connect::Conn;
use crate::redis::errors::RedisFailure;
use crate::redis::reply::{bad, count, id, int, items, table, text};

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
    parse_rows(v, "XINFO GROUPS", |get| GroupInfo {
        name: get("name").and_then(text).unwrap_or_default(),
        consumers: get("consumers").and_then(count).unwrap_or(0),
        pending: get("pending").and_then(count).unwrap_or(0),
        last_delivered_id: get("last-delivered-id").and_then(id),
        entries_read: get("entries-read").and_then(count),
        lag: get("lag").and_then(count),
    })
}

/// Decode an array of key/value rows (XINFO GROUPS, XINFO CONSUMERS);
/// `row` reads one through a field lookup.
fn parse_rows<'v, T>(
    v: &'v Value,
    what: &str,
    row: impl Fn(&dyn Fn(&str) -> Option<&'v Value>) -> T,
) -> Result<Vec<T>, RedisFailure> {
    items(v)
        .ok_or_else(|| bad(what, v))?
        .iter()
        .map(|r| {
            let t = table(r).ok_or_else(|| bad(what, r))?;
            Ok(row(&|k: &str| t.get(k).copied()))
        })
        .collect()
}

pub fn xinfo_consumers_cmd(key: &str, group: &str) -> Cmd {
    cmd("XINFO").arg("CONSUMERS").arg(key).arg(group).clone()
}

pub fn parse_consumers(v: &Value) -> Result<Vec<ConsumerInfo>, RedisFailure> {
    parse_rows(v, "XINFO CONSUMERS", |get| ConsumerInfo {
        name: get("name").and_then(text).unwrap_or_default(),
        pending: get("pending").and_then(count).unwrap_or(0),
        idle_ms: get("idle").and_then(count).unwrap_or(0),
        inactive_ms: get("inactive")
            .and_then(int)
            .and_then(|i| u64::try_from(i).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
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
