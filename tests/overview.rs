//! The overview of every stream against a real server holding the issue's
//! keyspace: 10,000 streams among 30,000 keys, a foreign `orders` stream
//! with a `billing` group and dead letters, a group whose lag Redis does
//! not know. `monitor --all --once` lists them all as the read-only ACL
//! user; the overview engine refreshes every stream within its cycle at a
//! per-poll cost bounded by its share, whatever the keyspace holds.

mod common;
#[path = "common/keyspace.rs"]
mod keyspace;
#[path = "common/stats.rs"]
mod stats;

use std::sync::Arc;
use std::time::Duration;

use common::{connector, raw_line, run_bin, server};
use serde_json::Value;
use stats::{READ_ONLY_RULES, acl_user, command_stats, write_commands};
use streamlab::monitor::keyspace::{Keyspace, KeyspaceConfig};
use streamlab::redis::id::now_ms;

const STREAMS: usize = 10_000;
const OTHERS: usize = 20_000;

/// The keyspace: generated streams and other keys, `orders` (+ `orders:dead`)
/// and `ghosted` (unknown lag).
async fn keyspace(url: &str) {
    let mut admin = connector(url).conn("setup");
    keyspace::build(&mut admin, STREAMS, OTHERS).await;
    keyspace::orders(&mut admin).await;
    keyspace::unknown_lag(&mut admin, "ghosted").await;
    acl_user(&mut admin, "watcher", "w4tch", READ_ONLY_RULES).await;
    raw_line(&mut admin, "CONFIG RESETSTAT").await;
}

fn find<'a>(streams: &'a [Value], key: &str) -> &'a Value {
    streams
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("{key} not listed"))
}

#[tokio::test]
async fn monitor_all_once_lists_every_stream_as_the_read_only_user() {
    let redis = server();
    keyspace(&redis.url()).await;
    let url = format!("redis://watcher:w4tch@127.0.0.1:{}", redis.port);
    let line = format!("--url {url} monitor --all --once --json");
    let out = run_bin(&line, &[], Duration::from_secs(120)).await;
    assert!(out.success(), "{}", out.stderr);
    let doc: Value = serde_json::from_str(out.stdout.trim()).expect("one JSON document");
    let streams = doc["streams"].as_array().expect("streams");
    // Every generated stream, orders and ghosted; orders:dead is orders' count.
    assert_eq!(streams.len(), STREAMS + 2, "{}", doc["scan"]);
    assert_eq!(doc["scan"]["complete"], true);
    assert!(streams.iter().all(|s| s["key"] != "orders:dead"));
    let orders = find(streams, "orders");
    assert_eq!(streams[0]["key"], "orders", "most pending first");
    for (field, want) in [
        ("length", 50),
        ("groups", 1),
        ("consumers", 2),
        ("pending", 5),
        ("lag", 35),
        ("dead_letters", 3),
    ] {
        assert_eq!(orders[field], want, "orders {field}: {orders}");
    }
    assert!(orders["oldest_pending_ms"].as_u64().is_some(), "{orders}");
    assert!(orders["time_lag_ms"].as_u64().is_some(), "{orders}");
    let ghosted = find(streams, "ghosted");
    assert_eq!(ghosted["lag"], Value::Null, "unknown, never 0: {ghosted}");
    assert_eq!(ghosted["unknown_lags"], 1);
    // Said once, with the reason the server gives none.
    assert!(
        doc["lag_unknown"]
            .as_str()
            .is_some_and(|why| why.contains("does not")),
        "{}",
        doc["lag_unknown"]
    );
    let grouped = find(streams, &keyspace::stream_key(0));
    assert_eq!(
        (grouped["pending"].as_u64(), grouped["lag"].as_u64()),
        (Some(2), Some(3))
    );
    let bare = find(streams, &keyspace::stream_key(1));
    assert_eq!(
        (bare["groups"].as_u64(), bare["lag"].as_u64()),
        (Some(0), Some(0))
    );

    let mut admin = connector(&redis.url()).conn("check");
    let stats = command_stats(&mut admin).await;
    let writes = write_commands(&mut admin, &stats).await;
    assert!(writes.is_empty(), "{writes:?}");
    assert!(
        stats.iter().all(|s| s.rejected == 0 && s.failed == 0),
        "{stats:?}"
    );
    assert!(
        !stats.iter().any(|s| s.name == "keys"),
        "never KEYS: {stats:?}"
    );
}

#[tokio::test]
async fn match_limits_the_overview_to_a_glob() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    keyspace::build(&mut admin, 50, 50).await;
    keyspace::orders(&mut admin).await;
    let line = format!(
        "--url {} monitor --all --once --json --match orders*",
        redis.url()
    );
    let out = run_bin(&line, &[], Duration::from_secs(30)).await;
    assert!(out.success(), "{}", out.stderr);
    let doc: Value = serde_json::from_str(out.stdout.trim()).expect("JSON");
    let keys: Vec<&Value> = doc["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["key"])
        .collect();
    assert_eq!(keys, ["orders"]);
    assert_eq!(doc["lag_unknown"], Value::Null, "orders' lag is known");
    let table = run_bin(
        &format!("--url {} monitor --all --once --match orders*", redis.url()),
        &[],
        Duration::from_secs(30),
    )
    .await;
    assert!(
        table.stdout.contains("orders") && table.stdout.contains("35"),
        "{}",
        table.stdout
    );
    assert!(!table.stdout.contains("stream:0"), "{}", table.stdout);
}

/// After the first pass, a poll costs one SCAN step, the rows on screen
/// and the rotation's share (keys / polls per cycle): every stream is read
/// again within the cycle, whatever else the keyspace holds.
#[tokio::test]
async fn every_stream_is_refreshed_within_the_cycle_at_a_bounded_cost_per_poll() {
    let redis = server();
    keyspace(&redis.url()).await;
    let mut conn = connector(&redis.url()).read_only().conn("overview");
    let config = KeyspaceConfig::new(None, Duration::from_secs(1));
    let polls_per_cycle = config.cycle.as_secs();
    let mut overview = Keyspace::new(config);
    let mut warmup = 0;
    while !(overview.scan_complete() && overview.all_refreshed()) {
        overview.poll(&mut conn, &[]).await.expect("poll");
        warmup += 1;
        assert!(
            warmup < 100,
            "the first pass takes a bounded number of polls"
        );
    }
    let rows = overview.rows();
    let visible: Vec<Arc<str>> = rows.iter().take(30).map(|r| r.key.clone()).collect();
    let share = overview
        .known()
        .div_ceil(usize::try_from(polls_per_cycle).unwrap());
    let since = now_ms();
    for _ in 0..polls_per_cycle {
        let cost = overview.poll(&mut conn, &visible).await.expect("poll");
        let most = 1 + share + visible.len();
        assert!(
            cost.commands as usize <= most && cost.refreshed >= share,
            "{cost:?}: at most {most} commands (1 SCAN, {share} in rotation, {} on screen)",
            visible.len()
        );
    }
    let stale: Vec<_> = overview
        .rows()
        .into_iter()
        .filter(|r| r.refreshed_ms < since)
        .map(|r| r.key)
        .collect();
    assert!(
        stale.is_empty(),
        "not refreshed within the cycle: {}",
        stale.len()
    );
}
