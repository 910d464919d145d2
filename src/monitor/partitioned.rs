//! A logical stream's poll: one [`Snapshot`] per partition (each at the
//! bounded cost of a single stream's poll), and their totals folded into
//! one `Snapshot` named after the logical stream, so the figures every
//! view already shows (length, pending, lag...) stay meaningful as sums.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::monitor::snapshot::{GroupSnapshot, Snapshot};
use crate::monitor::{PelQuery, poll_once};
use crate::redis::{Conn, ConsumerInfo, GroupInfo, PendingSummary, RedisFailure, StreamInfo};

/// Poll every partition key, in order; `page` applies to each.
pub async fn poll_partitions(
    conn: &mut Conn,
    keys: &[String],
    page: Option<&PelQuery>,
) -> Result<Vec<Snapshot>, RedisFailure> {
    let mut parts = Vec::with_capacity(keys.len());
    for key in keys {
        parts.push(poll_once(conn, key, page).await?);
    }
    Ok(parts)
}

/// The logical stream `stream` as one snapshot: sums of lengths, pending
/// counts and lags (a lag or entries-read unknown on any partition is
/// unknown in total), the oldest first id and pending entry, the newest
/// last id. A last-delivered id means nothing across partitions: `None`.
pub fn totals(stream: &str, parts: &[Snapshot]) -> Snapshot {
    let infos: Vec<&StreamInfo> = parts.iter().filter_map(|p| p.stream.as_ref()).collect();
    let mut groups: BTreeMap<&str, Vec<&GroupSnapshot>> = BTreeMap::new();
    for g in parts.iter().flat_map(|p| &p.groups) {
        groups.entry(g.info.name.as_str()).or_default().push(g);
    }
    let groups: Vec<GroupSnapshot> = groups.into_values().map(|g| merge_group(&g)).collect();
    let stream_info = (!infos.is_empty()).then(|| StreamInfo {
        length: infos.iter().map(|s| s.length).sum(),
        first_id: infos.iter().filter_map(|s| s.first_id).min(),
        last_id: infos.iter().filter_map(|s| s.last_id).max(),
        last_generated_id: infos.iter().filter_map(|s| s.last_generated_id).max(),
        entries_added: infos.iter().map(|s| s.entries_added).sum(),
        max_deleted_id: infos.iter().filter_map(|s| s.max_deleted_id).max(),
        groups: groups.len() as u64,
    });
    Snapshot {
        key: stream.to_owned(),
        taken_ms: parts.iter().map(|p| p.taken_ms).max().unwrap_or(0),
        stream: stream_info,
        groups,
        groups_omitted: parts.iter().map(|p| p.groups_omitted).max().unwrap_or(0),
        more_groups: Vec::new(),
        commands: parts.iter().map(|p| p.commands).sum(),
        poll_us: parts.iter().map(|p| p.poll_us).sum(),
    }
}

/// One group's figures summed over the partitions it exists on.
fn merge_group(parts: &[&GroupSnapshot]) -> GroupSnapshot {
    let consumers = merge_consumers(parts.iter().flat_map(|g| &g.consumers));
    let pending_consumers = consumers
        .iter()
        .map(|c| (c.name.clone(), c.pending))
        .collect();
    GroupSnapshot {
        info: GroupInfo {
            name: parts
                .first()
                .map(|g| g.info.name.clone())
                .unwrap_or_default(),
            consumers: consumers.len() as u64,
            pending: parts.iter().map(|g| g.info.pending).sum(),
            last_delivered_id: None,
            entries_read: parts.iter().map(|g| g.info.entries_read).sum(),
            lag: parts.iter().map(|g| g.info.lag).sum(),
        },
        consumers,
        pending: PendingSummary {
            count: parts.iter().map(|g| g.pending.count).sum(),
            min: parts.iter().filter_map(|g| g.pending.min).min(),
            max: parts.iter().filter_map(|g| g.pending.max).max(),
            consumers: pending_consumers,
        },
        oldest_pending: parts
            .iter()
            .filter_map(|g| g.oldest_pending.as_ref())
            .max_by_key(|p| p.idle_ms)
            .cloned(),
        next_undelivered: parts.iter().filter_map(|g| g.next_undelivered).min(),
        pel_page: None,
    }
}

/// Consumers by name: pending summed, the most recent activity kept.
fn merge_consumers<'a>(all: impl Iterator<Item = &'a ConsumerInfo>) -> Vec<ConsumerInfo> {
    let mut by_name: BTreeMap<&str, ConsumerInfo> = BTreeMap::new();
    for c in all {
        by_name
            .entry(&c.name)
            .and_modify(|m| {
                m.pending += c.pending;
                m.idle_ms = m.idle_ms.min(c.idle_ms);
                m.inactive_ms = match (m.inactive_ms, c.inactive_ms) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            })
            .or_insert_with(|| c.clone());
    }
    by_name.into_values().collect()
}

/// `monitor --json` for a logical stream: the totals' object, plus
/// `"partitions": [{"key", "node", "length", "groups": [...]}]` with each
/// partition's own figures (`nodes[i]` serves partition `i`).
pub fn to_json(stream: &str, parts: &[Snapshot], nodes: &[String]) -> Value {
    let mut v = totals(stream, parts).to_json();
    let rows: Vec<Value> = parts
        .iter()
        .zip(nodes)
        .map(|(p, node)| {
            let own = p.to_json();
            json!({
                "key": p.key,
                "node": node,
                "exists": p.stream.is_some(),
                "length": p.stream.as_ref().map_or(0, |s| s.length),
                "groups": own["groups"],
            })
        })
        .collect();
    v["partitions"] = Value::Array(rows);
    v
}

#[cfg(test)]
#[path = "partitioned_tests.rs"]
mod tests;
