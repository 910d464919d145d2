//! The overview on a real local Redis Cluster (three masters): SCAN runs
//! on every master, each stream is read from its slot's owner, and
//! `monitor --all --once` lists the streams of all three; a partitioned
//! stream, its partitions on three masters, is one row of totals.

#[path = "common/cluster.rs"]
mod cluster;
mod common;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;
use streamlab::monitor::keyspace::{Keyspace, KeyspaceConfig};
use streamlab::redis::topology::key_slot;

use common::{connector, raw, run_bin};

const STREAMS: usize = 30;

#[tokio::test]
async fn the_overview_scans_every_master_of_a_cluster() {
    let c = cluster::shared(3, 0);
    let connector = connector(&c.url());
    let mut conn = connector.conn("setup");
    let keys: Vec<String> = (0..STREAMS).map(|i| format!("ov:{i}")).collect();
    for (i, key) in keys.iter().enumerate() {
        raw(&mut conn, &["XADD", key, "*", "n", "1"]).await;
        if i % 3 == 0 {
            raw(&mut conn, &["XGROUP", "CREATE", key, "g", "0"]).await;
        }
    }
    let masters = connector.masters().await.expect("masters");
    assert_eq!(masters.len(), 3);
    let holders: HashSet<usize> = keys
        .iter()
        .filter_map(|k| masters.iter().position(|m| m.owns(key_slot(k))))
        .collect();
    assert_eq!(holders.len(), 3, "the streams lie on every master");

    let mut ro = connector.read_only().conn("overview");
    let config = KeyspaceConfig::new(Some("ov:*".into()), Duration::from_secs(1));
    let mut overview = Keyspace::new(config);
    overview.complete(&mut ro).await.expect("overview");
    let rows = overview.rows();
    let found: HashSet<String> = rows.iter().map(|r| r.key.to_string()).collect();
    assert_eq!(found, keys.iter().cloned().collect::<HashSet<_>>());
    assert!(
        rows.iter()
            .all(|r| r.length() == Some(1) && r.problem.is_none()),
        "{rows:?}"
    );
    assert_eq!(
        rows.iter().filter(|r| r.group_count() == 1).count(),
        STREAMS.div_ceil(3)
    );

    let out = run_bin(
        &format!("--url {} monitor --all --once --json --match ov:*", c.url()),
        &[],
        Duration::from_secs(30),
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    let doc: Value = serde_json::from_str(out.stdout.trim()).expect("JSON");
    assert_eq!(doc["streams"].as_array().map(Vec::len), Some(STREAMS));
}

#[tokio::test]
async fn a_stream_partitioned_over_three_masters_is_one_row() {
    let c = cluster::shared(3, 0);
    let url = c.url();
    let line = format!("--url {url} --stream part produce --partitions 3 --count 30 --group g");
    let out = run_bin(&line, &[], Duration::from_secs(30)).await;
    assert!(out.success(), "{}", out.stderr);
    let connector = connector(&url);
    let mut conn = connector.conn("setup");
    let record = streamlab::engine::registry::read(&mut conn, "part")
        .await
        .expect("read")
        .expect("recorded");
    let keys = record.layout.partitions;
    let masters = connector.masters().await.expect("masters");
    let holders: HashSet<usize> = keys
        .iter()
        .filter_map(|k| masters.iter().position(|m| m.owns(key_slot(k))))
        .collect();
    assert_eq!(holders.len(), 3, "a partition on each master: {keys:?}");
    // Four entries of the last partition delivered and left pending.
    raw(
        &mut conn,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c1",
            "COUNT",
            "4",
            "STREAMS",
            &keys[2],
            ">",
        ],
    )
    .await;

    let out = run_bin(
        &format!("--url {url} monitor --all --once --json --match *part*"),
        &[],
        Duration::from_secs(30),
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    let doc: Value = serde_json::from_str(out.stdout.trim()).expect("JSON");
    let rows = doc["streams"].as_array().expect("streams");
    let listed: Vec<&str> = rows.iter().filter_map(|r| r["key"].as_str()).collect();
    assert_eq!(listed, ["part"], "one row, no partition of its own");
    let row = &rows[0];
    assert_eq!(row["length"], 30);
    assert_eq!(row["pending"], 4);
    assert_eq!(row["lag"], 26, "10 + 10 + 6 undelivered");
    let parts: Vec<&str> = row["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .filter_map(|p| p["key"].as_str())
        .collect();
    assert_eq!(parts, keys.iter().map(String::as_str).collect::<Vec<_>>());
}
