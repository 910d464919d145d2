//! The commands that only use a stream, on a partitioned one: each finds
//! the partitions from the name alone. `monitor --json` lists them with
//! totals on top, `consume` reads all with an offset per partition, `trim
//! --maxlen` keeps a share per partition, `dlq` lists and replays each
//! partition's dead letters onto its own partition.

mod common;
#[path = "common/partitions.rs"]
mod partitions;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{
    BinOutput, BinProcess, Deadline, connector, read_without_ack, run_bin, server, unique,
};
use partitions::{ids_by_partition, partition_keys};
use serde_json::Value as Json;
use streamlab::engine::{dead_key, offset_key};
use streamlab::redis::{Conn, EntryId, get_string, xlen, xrange};

const WAIT: Duration = Duration::from_secs(30);

async fn run_ok(url: &str, stream: &str, rest: &str) -> BinOutput {
    let out = run_bin(&format!("--url {url} --stream {stream} {rest}"), &[], WAIT).await;
    assert!(
        out.success(),
        "{rest}\nstdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
    out
}

/// A 3-partition stream of `count` tasks with group `g`; its keys.
async fn partitioned(url: &str, stream: &str, count: u64) -> (Conn, Vec<String>) {
    run_ok(
        url,
        stream,
        &format!("produce --partitions 3 --count {count} --group g"),
    )
    .await;
    let mut conn = connector(url).conn("test");
    let keys = partition_keys(&mut conn, stream).await;
    assert_eq!(keys.len(), 3);
    (conn, keys)
}

fn json_lines(text: &str) -> Vec<Json> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn stream_and_id(v: &Json, id_field: &str) -> (String, EntryId) {
    let stream = v["stream"].as_str().expect("stream").to_owned();
    (
        stream,
        v[id_field].as_str().expect("id").parse().expect("an id"),
    )
}

#[tokio::test]
async fn monitor_json_lists_each_partition_and_the_totals() {
    let redis = server();
    let url = redis.url();
    let stream = unique("mon");
    let (mut conn, keys) = partitioned(&url, &stream, 30).await;
    read_without_ack(&mut conn, &keys[1], "g", "c1", 2).await;
    let out = run_ok(&url, &stream, "monitor --json --once").await;
    let v: Json = serde_json::from_str(out.stdout.trim()).expect("one JSON object");
    assert_eq!(v["stream"]["key"], stream.as_str());
    assert_eq!(v["stream"]["length"], 30);
    let g = &v["groups"][0];
    assert_eq!(
        (g["name"].as_str(), g["pending"].as_u64()),
        (Some("g"), Some(2))
    );
    assert_eq!(g["lag"], 28, "10 + 8 + 10 undelivered");
    assert_eq!(g["consumers"][0]["name"], "c1");
    let parts = v["partitions"].as_array().expect("partitions");
    let node = format!("127.0.0.1:{}", redis.port);
    for (part, key) in parts.iter().zip(&keys) {
        assert_eq!(part["key"], key.as_str());
        assert_eq!(part["node"], node.as_str());
        assert_eq!(part["length"], 10);
        assert_eq!(part["groups"][0]["name"], "g");
    }
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[1]["groups"][0]["pending"], 2);
    assert_eq!(parts[0]["groups"][0]["pending"], 0);

    let text = run_ok(&url, &stream, "monitor --once").await.stdout;
    assert!(text.contains("3 partitions, totals:"), "{text}");
    assert!(
        text.contains(&format!("stream '{stream}': length 30")),
        "{text}"
    );
    for key in &keys {
        assert!(
            text.contains(&format!("stream '{key}': length 10")),
            "{text}"
        );
    }
}

#[tokio::test]
async fn consume_reads_every_partition_and_saves_an_offset_for_each() {
    let redis = server();
    let url = redis.url();
    let stream = unique("consume");
    let (mut conn, keys) = partitioned(&url, &stream, 30).await;
    let produced = ids_by_partition(&mut conn, &keys).await;
    let out = run_ok(
        &url,
        &stream,
        "consume --from 0-0 --limit 30 --json --block 200ms",
    )
    .await;
    let read: BTreeSet<_> = json_lines(&out.stdout)
        .iter()
        .map(|v| stream_and_id(v, "id"))
        .collect();
    assert_eq!(read, produced);
    for key in &keys {
        let last = produced
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, id)| *id)
            .max();
        let saved = get_string(&mut conn, &offset_key(key, "basic"))
            .await
            .unwrap();
        assert_eq!(saved, last.map(|id| id.to_string()), "{key}");
    }
    // The next run resumes each partition after its own offset.
    run_ok(&url, &stream, "produce --count 3").await;
    let now = ids_by_partition(&mut conn, &keys).await;
    let fresh: BTreeSet<_> = now.difference(&produced).cloned().collect();
    let out = run_ok(&url, &stream, "consume --limit 3 --json --block 200ms").await;
    let read: BTreeSet<_> = json_lines(&out.stdout)
        .iter()
        .map(|v| stream_and_id(v, "id"))
        .collect();
    assert_eq!(read, fresh);
}

#[tokio::test]
async fn trim_maxlen_keeps_each_partition_its_share() {
    let redis = server();
    let url = redis.url();
    let stream = unique("trim");
    let (mut conn, keys) = partitioned(&url, &stream, 30).await;
    let out = run_ok(&url, &stream, "trim --maxlen 9 --exact").await;
    for key in &keys {
        assert_eq!(xlen(&mut conn, key).await, Ok(3), "{key}");
        assert!(
            out.stdout
                .contains(&format!("removed 7 entries from '{key}'")),
            "{}",
            out.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_lists_and_replays_each_partitions_dead_letters_onto_it() {
    let redis = server();
    let url = redis.url();
    let stream = unique("dlq");
    let (mut conn, keys) = partitioned(&url, &stream, 15).await;
    let produced = ids_by_partition(&mut conn, &keys).await;
    let line = format!(
        "worker --url {url} --stream {stream} --group g --name f --fail-rate 1 --max-deliveries 1 --block 200ms --events none"
    );
    let mut worker = BinProcess::spawn(&line, &[]);
    let deadline = Deadline::new("every entry dead-lettered", WAIT);
    loop {
        let mut dead = 0;
        for key in &keys {
            dead += xlen(&mut conn, &dead_key(key)).await.unwrap();
        }
        if dead == 15 {
            break;
        }
        deadline.tick().await;
    }
    worker.terminate();
    assert!(worker.wait_exit(WAIT).await.success());

    let listed = json_lines(
        &run_ok(&url, &stream, "dlq list --json --count 100")
            .await
            .stdout,
    );
    let originals: BTreeSet<_> = listed
        .iter()
        .map(|v| stream_and_id(v, "original_id"))
        .collect();
    assert_eq!(originals, produced, "each dead letter names its partition");
    assert!(
        listed.iter().all(|v| v["deliveries"].as_u64().is_some()),
        "deliveries is a number: {listed:?}"
    );
    let dead_ids: Vec<EntryId> = listed
        .iter()
        .map(|v| stream_and_id(v, "dead_id").1)
        .collect();
    assert!(
        dead_ids.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {dead_ids:?}"
    );

    run_ok(&url, &stream, "dlq replay --count 100").await;
    for key in &keys {
        assert_eq!(xlen(&mut conn, &dead_key(key)).await, Ok(0), "{key}");
        let entries = xrange(&mut conn, key, "-", "+", 100).await.unwrap();
        let replayed: BTreeSet<(String, EntryId)> = entries
            .iter()
            .filter_map(|e| Some((key.clone(), e.field_str("replayed_from")?.parse().ok()?)))
            .collect();
        let own: BTreeSet<_> = produced.iter().filter(|(k, _)| k == key).cloned().collect();
        assert_eq!(replayed, own, "{key} got back its own dead letters");
    }
}

#[tokio::test]
async fn monitor_all_lists_a_partitioned_stream_as_one_row_with_its_partitions() {
    let redis = server();
    let url = redis.url();
    let stream = unique("all");
    let (mut conn, keys) = partitioned(&url, &stream, 30).await;
    read_without_ack(&mut conn, &keys[2], "g", "c1", 4).await;
    common::add_tasks(&mut conn, &dead_key(&keys[0]), 2).await;
    let out = run_ok(&url, &stream, "monitor --all --json --once").await;
    let v: Json = serde_json::from_str(out.stdout.trim()).expect("one JSON document");
    let rows = v["streams"].as_array().expect("streams");
    let listed: Vec<&str> = rows.iter().filter_map(|r| r["key"].as_str()).collect();
    assert_eq!(
        listed,
        [stream.as_str()],
        "one row, no partition of its own"
    );
    let row = &rows[0];
    assert_eq!(
        (row["length"].as_u64(), row["pending"].as_u64()),
        (Some(30), Some(4))
    );
    assert_eq!(row["lag"], 26, "10 + 10 + 6 undelivered");
    assert_eq!(row["dead_letters"], 2);
    let parts = row["partitions"].as_array().expect("partitions");
    let part_keys: Vec<&str> = parts.iter().filter_map(|p| p["key"].as_str()).collect();
    assert_eq!(
        part_keys,
        keys.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(parts[2]["pending"], 4);
    assert_eq!(parts[0]["dead_letters"], 2);
}
