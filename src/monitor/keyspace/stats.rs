//! One stream's figures for the overview, from one command: `XINFO STREAM
//! key FULL COUNT 1`. It carries the length, the last generated id, the
//! entries added, and for every group its lag, PEL size, consumers and the
//! oldest pending entry (the PEL is ordered by id, so COUNT 1 returns the
//! oldest). Only the time lag needs one more command per group, and only
//! when the group's last delivered id moved (see [`GroupStats::time_lag_basis`]).

use ::redis::{Cmd, Value, cmd};

use crate::redis::reply::{bad, count, id, items, table, text};
use crate::redis::{EntryId, RedisFailure};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamStats {
    pub length: u64,
    pub last_generated_id: Option<EntryId>,
    /// `None` before Redis 7.0.
    pub entries_added: Option<u64>,
    pub groups: Vec<GroupStats>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupStats {
    pub name: String,
    pub consumers: u64,
    pub pending: u64,
    /// `None` when Redis does not know (or before 7.0).
    pub lag: Option<u64>,
    pub last_delivered_id: Option<EntryId>,
    /// The PEL's first (oldest) entry.
    pub oldest_pending: Option<EntryId>,
    /// The first entry after `last_delivered_id`, fetched separately, and
    /// the last-delivered id it was fetched for (it stays right until the
    /// group reads on).
    pub next_undelivered: Option<EntryId>,
    pub next_for: Option<Option<EntryId>>,
    /// Each consumer's figures, for the diagnosis (same reply).
    pub consumer_stats: Vec<ConsumerStats>,
    /// Entries the group has read (`entries-read`; `None` before 7.0 or
    /// when Redis does not know): the exporter's ack rate.
    pub entries_read: Option<u64>,
}

/// One consumer as XINFO STREAM FULL lists it. Times are the server's
/// clock, in ms since the epoch (compared with the local clock, as the
/// entry ids the overview ages are).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsumerStats {
    pub pending: u64,
    /// Last read attempt (7.2+, Valkey) or last read (6.2, 7.0).
    pub seen_ms: Option<u64>,
    /// Last successful read (7.2+, Valkey).
    pub active_ms: Option<u64>,
    /// Delivery time of its first pending entry (COUNT 1 lists one).
    pub oldest_delivered_ms: Option<u64>,
    /// Its name (the exporter's `consumer` label).
    pub name: String,
    /// The id of its first (oldest) pending entry.
    pub oldest_pending: Option<EntryId>,
}

impl ConsumerStats {
    /// Its diagnosis at `now_ms` (see `monitor::diagnosis`).
    pub fn diagnosis(
        &self,
        now_ms: u64,
        stuck_after_ms: u64,
    ) -> Option<crate::monitor::diagnosis::Diagnosis> {
        let since = |t: Option<u64>| t.map(|t| now_ms.saturating_sub(t));
        let info = crate::redis::ConsumerInfo {
            name: String::new(),
            pending: self.pending,
            idle_ms: since(self.seen_ms)?,
            inactive_ms: since(self.active_ms),
        };
        let oldest = since(self.oldest_delivered_ms);
        crate::monitor::diagnosis::diagnose(&info, oldest, stuck_after_ms)
    }
}

fn parse_consumer(v: &Value) -> Option<ConsumerStats> {
    let t = table(v)?;
    let time = |k: &str| t.get(k).and_then(|v| count(v));
    let first = t
        .get("pending")
        .and_then(|p| items(p))
        .and_then(<[Value]>::first)
        .and_then(items);
    let oldest = first.and_then(|e| e.get(1)).and_then(count);
    Some(ConsumerStats {
        pending: time("pel-count").unwrap_or(0),
        seen_ms: time("seen-time"),
        active_ms: time("active-time"),
        oldest_delivered_ms: oldest,
        name: t.get("name").and_then(|v| text(v)).unwrap_or_default(),
        oldest_pending: first.and_then(<[Value]>::first).and_then(id),
    })
}

impl GroupStats {
    /// Whether nothing waits to be delivered, so the time lag is nil
    /// without asking.
    pub fn caught_up(&self, last_generated: Option<EntryId>) -> bool {
        self.lag == Some(0)
            || (self.last_delivered_id.is_some() && self.last_delivered_id == last_generated)
    }

    /// Whether the time lag needs an XRANGE: something is undelivered and
    /// the cached answer was fetched for another last-delivered id.
    pub fn time_lag_basis(&self, last_generated: Option<EntryId>) -> Option<String> {
        if self.caught_up(last_generated) || self.next_for == Some(self.last_delivered_id) {
            return None;
        }
        Some(
            self.last_delivered_id
                .map_or_else(|| "-".to_owned(), |id| format!("({id}")),
        )
    }

    /// Age of the oldest entry not yet delivered to the group.
    pub fn time_lag_ms(&self, now_ms: u64, last_generated: Option<EntryId>) -> Option<u64> {
        if self.caught_up(last_generated) {
            return None;
        }
        self.next_undelivered.map(|id| id.age_ms(now_ms))
    }
}

pub fn xinfo_full_cmd(key: &str) -> Cmd {
    cmd("XINFO")
        .arg("STREAM")
        .arg(key)
        .arg("FULL")
        .arg("COUNT")
        .arg(1)
        .clone()
}

/// Decode `XINFO STREAM key FULL COUNT 1` (RESP2 arrays or RESP3 maps).
pub fn parse_full(v: &Value) -> Result<StreamStats, RedisFailure> {
    let t = table(v).ok_or_else(|| bad("XINFO STREAM FULL", v))?;
    let groups = t
        .get("groups")
        .and_then(|g| items(g))
        .unwrap_or_default()
        .iter()
        .map(parse_group)
        .collect::<Result<_, _>>()?;
    Ok(StreamStats {
        length: t.get("length").and_then(|v| count(v)).unwrap_or(0),
        last_generated_id: t.get("last-generated-id").and_then(|v| id(v)),
        entries_added: t.get("entries-added").and_then(|v| count(v)),
        groups,
    })
}

fn parse_group(v: &Value) -> Result<GroupStats, RedisFailure> {
    let t = table(v).ok_or_else(|| bad("XINFO STREAM FULL group", v))?;
    let first_pending = t
        .get("pending")
        .and_then(|p| items(p))
        .and_then(<[Value]>::first)
        .and_then(items)
        .and_then(<[Value]>::first)
        .and_then(id);
    let consumers = t
        .get("consumers")
        .and_then(|c| items(c))
        .unwrap_or_default();
    Ok(GroupStats {
        name: t.get("name").and_then(|v| text(v)).unwrap_or_default(),
        consumers: consumers.len() as u64,
        consumer_stats: consumers.iter().filter_map(parse_consumer).collect(),
        pending: t.get("pel-count").and_then(|v| count(v)).unwrap_or(0),
        lag: t.get("lag").and_then(|v| count(v)),
        last_delivered_id: t.get("last-delivered-id").and_then(|v| id(v)),
        oldest_pending: first_pending,
        next_undelivered: None,
        next_for: None,
        entries_read: t.get("entries-read").and_then(|v| count(v)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn flat(pairs: Vec<(&str, Value)>) -> Value {
        Value::Array(pairs.into_iter().flat_map(|(k, v)| [bulk(k), v]).collect())
    }

    /// The reply Redis 7.0 gave for a stream of 3 entries, a group `g`
    /// (2 pending for `c1`, lag 1) and a group `g2` created at `$`.
    fn reply() -> Value {
        let pending = Value::Array(vec![Value::Array(vec![
            bulk("5-0"),
            bulk("c1"),
            Value::Int(1_700),
            Value::Int(1),
        ])]);
        let consumer = flat(vec![
            ("name", bulk("c1")),
            ("seen-time", Value::Int(1_000)),
            ("pel-count", Value::Int(2)),
            (
                "pending",
                Value::Array(vec![Value::Array(vec![
                    bulk("5-0"),
                    Value::Int(900),
                    Value::Int(1),
                ])]),
            ),
        ]);
        let g = flat(vec![
            ("name", bulk("g")),
            ("last-delivered-id", bulk("6-0")),
            ("entries-read", Value::Int(2)),
            ("lag", Value::Int(1)),
            ("pel-count", Value::Int(2)),
            ("pending", pending),
            ("consumers", Value::Array(vec![consumer])),
        ]);
        let g2 = flat(vec![
            ("name", bulk("g2")),
            ("last-delivered-id", bulk("7-0")),
            ("entries-read", Value::Nil),
            ("lag", Value::Int(0)),
            ("pel-count", Value::Int(0)),
            ("pending", Value::Array(vec![])),
            ("consumers", Value::Array(vec![])),
        ]);
        flat(vec![
            ("length", Value::Int(3)),
            ("last-generated-id", bulk("7-0")),
            ("entries-added", Value::Int(3)),
            ("entries", Value::Array(vec![])),
            ("groups", Value::Array(vec![g, g2])),
        ])
    }

    #[test]
    fn full_reply_gives_every_figure_of_a_row() {
        let s = parse_full(&reply()).unwrap();
        assert_eq!((s.length, s.entries_added), (3, Some(3)));
        let g = &s.groups[0];
        assert_eq!((g.consumers, g.pending, g.lag), (1, 2, Some(1)));
        assert_eq!(g.oldest_pending, Some(EntryId { ms: 5, seq: 0 }));
        assert_eq!(s.groups[1].oldest_pending, None);
        assert!(s.groups[1].caught_up(s.last_generated_id));
        let c = &g.consumer_stats[0];
        assert_eq!(
            (c.pending, c.seen_ms, c.oldest_delivered_ms),
            (2, Some(1_000), Some(900))
        );
        // The exporter's labels and ack rate come from the same reply.
        assert_eq!(c.name, "c1");
        assert_eq!(c.oldest_pending, Some(EntryId { ms: 5, seq: 0 }));
        assert_eq!((g.entries_read, s.groups[1].entries_read), (Some(2), None));
        // Not seen for 10 minutes, holding an entry delivered before.
        let stalled = c.diagnosis(601_000, 300_000);
        assert_eq!(stalled, Some(crate::monitor::diagnosis::Diagnosis::Stalled));
        assert_eq!(c.diagnosis(2_000, 300_000), None);
    }

    #[test]
    fn time_lag_is_asked_once_per_last_delivered_id() {
        let s = parse_full(&reply()).unwrap();
        let mut g = s.groups[0].clone();
        let last = s.last_generated_id;
        assert_eq!(g.time_lag_basis(last).as_deref(), Some("(6-0"));
        g.next_undelivered = Some(EntryId { ms: 7, seq: 0 });
        g.next_for = Some(g.last_delivered_id);
        assert_eq!(g.time_lag_basis(last), None);
        assert_eq!(g.time_lag_ms(1_007, last), Some(1_000));
        // Caught up: no command, and no time lag.
        assert_eq!(s.groups[1].time_lag_basis(last), None);
        assert_eq!(s.groups[1].time_lag_ms(1_007, last), None);
    }
}
