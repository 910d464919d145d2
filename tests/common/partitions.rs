//! Helpers of the partitioned-stream tests (one server or a cluster): the
//! recorded partition keys, every entry id by partition, and a worker's
//! JSON ledger keyed the same way (ids repeat across partitions).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value as Json;
use streamlab::engine::registry;
use streamlab::redis::{Conn, EntryId, xrange};

use crate::common::{BinProcess, Deadline, pending_count};

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

/// Run `streamlab worker` (group `g`, JSON events) on `stream` at `url`
/// until its ledger holds exactly the `produced` (partition, id)s and every
/// partition's PEL is empty, then stop it with SIGTERM, which must be a
/// clean exit. Returns what it printed.
pub async fn drain_with_worker(
    conn: &mut Conn,
    url: &str,
    stream: &str,
    produced: &BTreeSet<(String, EntryId)>,
    within: Duration,
) -> Vec<String> {
    let line = format!(
        "worker --url {url} --stream {stream} --group g --name w --events json --block 200ms --read-count 50"
    );
    let mut worker = BinProcess::spawn(&line, &[]);
    let deadline = Deadline::new("every (partition, id) processed", within);
    loop {
        let done: BTreeSet<_> = ledger(&worker.stdout_lines(), "processed", "id")
            .into_iter()
            .collect();
        if produced.is_subset(&done) {
            assert_eq!(&done, produced, "nothing but produced ids");
            break;
        }
        deadline.tick().await;
    }
    let keys: BTreeSet<&String> = produced.iter().map(|(key, _)| key).collect();
    let deadline = Deadline::new("every partition's PEL empty", within);
    for key in keys {
        while pending_count(conn, key, "g").await > 0 {
            deadline.tick().await;
        }
    }
    worker.terminate();
    assert!(
        worker.wait_exit(within).await.success(),
        "SIGTERM is a clean stop"
    );
    worker.stdout_lines()
}
