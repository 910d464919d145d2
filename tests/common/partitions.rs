//! Helpers of the partitioned-stream tests (one server or a cluster): the
//! recorded partition keys, every entry id by partition, and a worker's
//! JSON ledger keyed the same way (ids repeat across partitions).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::collections::BTreeSet;

use serde_json::Value as Json;
use streamlab::engine::registry;
use streamlab::redis::{Conn, EntryId, xrange};

/// The recorded partition keys of `stream` (the stream itself without a record).
pub async fn partition_keys(conn: &mut Conn, stream: &str) -> Vec<String> {
    registry::resolve(conn, stream)
        .await
        .expect("resolve")
        .partitions
}

/// Every entry id of each partition, read to the end in pages.
pub async fn ids_by_partition(conn: &mut Conn, keys: &[String]) -> BTreeSet<(String, EntryId)> {
    let mut all = BTreeSet::new();
    for key in keys {
        let mut from = "-".to_owned();
        loop {
            let page = xrange(conn, key, &from, "+", 1000).await.expect("XRANGE");
            let Some(last) = page.last().map(|e| e.id) else {
                break;
            };
            all.extend(page.iter().map(|e| (key.clone(), e.id)));
            match last.next() {
                Some(next) if page.len() == 1000 => from = next.to_string(),
                _ => break,
            }
        }
    }
    all
}

/// `(stream, id)` of each JSON line whose event is `event`, the id taken
/// from `id_field` (`id`, or `original_id` of a dead letter).
pub fn ledger(lines: &[String], event: &str, id_field: &str) -> Vec<(String, EntryId)> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .filter(|v| v["event"] == event)
        .filter_map(|v| {
            let stream = v["stream"].as_str()?.to_owned();
            Some((stream, v[id_field].as_str()?.parse().ok()?))
        })
        .collect()
}
