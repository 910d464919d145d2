//! A logical stream's poll: one [`Snapshot`] per partition (each at the
//! bounded cost of a single stream's poll), and their totals folded into
//! one `Snapshot` named after the logical stream, so the figures every
//! view already shows (length, pending, lag...) stay meaningful as sums.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::engine::registry;
use crate::monitor::PelQuery;
use crate::monitor::dangling::DeletedPending;
use crate::monitor::diagnosis::Thresholds;
use crate::monitor::pel_walk::PoisonScan;
use crate::monitor::poll::poll_once_with;
use crate::monitor::poller::StreamFocus;
use crate::monitor::snapshot::{GroupSnapshot, Snapshot};
use crate::redis::{Conn, ConsumerInfo, GroupInfo, PendingSummary, RedisFailure, StreamInfo};

/// One partition as the dashboard lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionRow {
    pub key: String,
    /// The node serving it (`host:port`), when known.
    pub node: Option<String>,
    pub snapshot: Arc<Snapshot>,
}

/// The poller's memory of the focused stream's partition keys: read from
/// the registry when the focus moves to another stream, and again while
/// the stream does not exist (it may be created, partitioned, later).
#[derive(Debug, Default)]
pub struct LayoutCache {
    stream: String,
    keys: Vec<String>,
}

/// Poll the stream in focus: a plain stream as before (no rows), a
/// partitioned one partition by partition, as its totals plus one row per
/// partition. The PEL page is fetched from the partition `focus.partition`
/// only, and shown as the totals' page (ids repeat across partitions).
pub async fn poll_focus(
    conn: &mut Conn,
    focus: &StreamFocus,
    cache: &mut LayoutCache,
) -> Result<(Snapshot, Vec<PartitionRow>), RedisFailure> {
    if cache.stream != focus.key || cache.keys.is_empty() {
        cache.keys = match registry::resolve(conn, &focus.key).await {
            Ok(layout) => layout.partitions,
            // No right to read the record: the stream is what it looks like.
            Err(RedisFailure::Auth(_)) => vec![focus.key.clone()],
            Err(e) => return Err(e),
        };
        cache.stream.clone_from(&focus.key);
    }
    if cache.keys.len() == 1 {
        let snap = poll_once_with(
            conn,
            &cache.keys[0],
            focus.page.as_ref(),
            focus.stuck_after_ms,
        )
        .await?;
        if snap.stream.is_none() {
            cache.keys.clear();
        }
        return Ok((snap, Vec::new()));
    }
    let mut rows = Vec::with_capacity(cache.keys.len());
    for (i, key) in cache.keys.iter().enumerate() {
        let page = focus.page.as_ref().filter(|_| i == focus.partition);
        let snapshot = Arc::new(poll_once_with(conn, key, page, focus.stuck_after_ms).await?);
        let node = conn.connector().node_of(key).map(|n| n.to_string());
        rows.push(PartitionRow {
            key: key.clone(),
            node,
            snapshot,
        });
    }
    let parts: Vec<Snapshot> = rows.iter().map(|r| (*r.snapshot).clone()).collect();
    let mut total = totals(&focus.key, &parts);
    if let (Some(q), Some(row)) = (&focus.page, rows.get(focus.partition)) {
        let page = row
            .snapshot
            .group(&q.group)
            .and_then(|g| g.pel_page.clone());
        if let Some(g) = total.groups.iter_mut().find(|g| g.info.name == q.group) {
            g.pel_page = page;
            g.deleted_in_page = row
                .snapshot
                .group(&q.group)
                .map(|p| p.deleted_in_page.clone())
                .unwrap_or_default();
        }
    }
    Ok((total, rows))
}

/// Poll every partition key, in order; `page` applies to each.
pub async fn poll_partitions(
    conn: &mut Conn,
    keys: &[String],
    page: Option<&PelQuery>,
    stuck_after_ms: u64,
) -> Result<Vec<Snapshot>, RedisFailure> {
    let mut parts = Vec::with_capacity(keys.len());
    for key in keys {
        parts.push(poll_once_with(conn, key, page, stuck_after_ms).await?);
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

/// Deleted pending entries over the partitions: known where every one was
/// counted, exact where every count was.
fn merge_deleted(parts: &[&GroupSnapshot]) -> Option<DeletedPending> {
    let counts: Option<Vec<DeletedPending>> = parts.iter().map(|g| g.deleted_pending).collect();
    counts.map(|c| DeletedPending {
        count: c.iter().map(|d| d.count).sum(),
        exact: c.iter().all(|d| d.exact),
    })
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
        oldest_by_consumer: merge_oldest(parts),
        poison: merge_poison(parts),
        deleted_in_page: Vec::new(),
        deleted_pending: merge_deleted(parts),
    }
}

/// The partitions' poison scans as one: every entry found, complete when
/// every partition's walk is.
fn merge_poison(parts: &[&GroupSnapshot]) -> Option<PoisonScan> {
    let scans: Vec<&PoisonScan> = parts.iter().filter_map(|g| g.poison.as_ref()).collect();
    if scans.is_empty() {
        return None;
    }
    Some(PoisonScan {
        poison: scans
            .iter()
            .flat_map(|s| s.poison.iter().cloned())
            .collect(),
        complete: scans.len() == parts.len() && scans.iter().all(|s| s.complete),
        scanned: scans.iter().map(|s| s.scanned).sum(),
        deleted: scans.iter().map(|s| s.deleted).sum(),
        unchecked: scans.iter().map(|s| s.unchecked).sum(),
    })
}

/// Each consumer's most idle oldest entry over the partitions where the
/// poll read one.
fn merge_oldest(parts: &[&GroupSnapshot]) -> BTreeMap<String, crate::redis::PendingEntry> {
    let mut out: BTreeMap<String, crate::redis::PendingEntry> = BTreeMap::new();
    for g in parts {
        for c in &g.consumers {
            let Some(p) = g.oldest_pending_of(&c.name) else {
                continue;
            };
            let keep = out.get(&c.name).is_none_or(|old| old.idle_ms < p.idle_ms);
            if keep {
                out.insert(c.name.clone(), p.clone());
            }
        }
    }
    out
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
pub fn to_json(stream: &str, parts: &[Snapshot], nodes: &[String], t: &Thresholds) -> Value {
    let mut v = totals(stream, parts).to_json_with(t);
    let rows: Vec<Value> = parts
        .iter()
        .zip(nodes)
        .map(|(p, node)| {
            let own = p.to_json_with(t);
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
