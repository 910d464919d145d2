//! The overview of every stream against a real server holding the issue's
//! keyspace: 10,000 streams among 30,000 keys, a foreign `orders` stream
//! with a `billing` group and dead letters, a group whose lag Redis does
//! not know. `monitor --all --once` lists them all as the read-only ACL
//! user; the overview engine spends at most its budget of Redis time per
//! second, refreshes the rows on screen every poll, and every stream
//! within the period it publishes, a period that grows with the keyspace.

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

/// A simulated second between polls: the budget a poll may spend is what
/// the time since the last one earned, so the tests drive that time
/// instead of waiting for it.
const SECOND: Duration = Duration::from_secs(1);

/// Warm up with simulated seconds until the first pass is done; the polls
/// it took.
async fn first_pass(overview: &mut Keyspace, conn: &mut streamlab::redis::Conn) -> u64 {
    let mut polls = 0;
    while overview.refresh_within().is_none() {
        let cost = overview.poll_after(conn, &[], SECOND).await.expect("poll");
        polls += 1;
        assert!(polls < 2_000, "the first pass ends: {cost:?}");
    }
    polls
}

/// Redis's own count of command time (µs) since the last CONFIG
/// RESETSTAT, the check's own INFO and RESETSTAT left out.
async fn counted(admin: &mut streamlab::redis::Conn) -> u64 {
    command_stats(admin)
        .await
        .iter()
        .filter(|s| s.name != "info" && s.name != "config|resetstat")
        .map(|s| s.usec)
        .sum()
}

/// The budget of the first pass and after it, with room for what a bucket
/// may hold at the start and owe at the end (two polls' worth each), and
/// a PING a poll.
fn earned(polls: u64, us_per_s: f64) -> u64 {
    let us_per_s = us_per_s as u64;
    polls * (us_per_s + 1) + 4 * us_per_s
}

/// After the first pass (at its stated rate), each simulated second spends
/// at most the steady budget by Redis's own count (INFO commandstats,
/// which the engine cannot see: it paces by an estimate above it); the rows on screen are refreshed every poll,
/// the others in rotation, and every stream is read again within the
/// period the overview publishes.
#[tokio::test]
async fn every_stream_is_refreshed_within_the_published_period_at_the_budget() {
    let redis = server();
    keyspace(&redis.url()).await;
    let mut admin = connector(&redis.url()).conn("check");
    let mut conn = connector(&redis.url()).read_only().conn("overview");
    let config = KeyspaceConfig::new(None, SECOND);
    let (steady, warmup) = (config.steady_us_per_s, config.warmup_us_per_s);
    let mut overview = Keyspace::new(config);
    let polls = first_pass(&mut overview, &mut conn).await;
    let spent = counted(&mut admin).await;
    assert!(
        spent <= earned(polls, warmup),
        "first pass: Redis counted {spent} µs in {polls} simulated seconds, over {warmup} µs/s"
    );
    assert_eq!(overview.known(), STREAMS + 3, "every stream found");

    let rows = overview.rows();
    let visible: Vec<Arc<str>> = rows.iter().take(30).map(|r| r.key.clone()).collect();
    // The rows on screen take their part of the budget first: the period
    // published once the engine has seen what they cost.
    for _ in 0..20 {
        overview
            .poll_after(&mut conn, &visible, SECOND)
            .await
            .expect("poll");
    }
    raw_line(&mut admin, "CONFIG RESETSTAT").await;
    let since = now_ms();
    // Poll for as many simulated seconds as the longest period published
    // meanwhile (it follows the measured costs).
    let mut period = overview.refresh_within().expect("published");
    let mut polls = 0;
    // A quarter to spare and a few polls: the published period follows
    // the measured costs with a lag, and a loaded machine moves them.
    while polls < period.as_secs() * 5 / 4 + 5 {
        let started = now_ms();
        let cost = overview
            .poll_after(&mut conn, &visible, SECOND)
            .await
            .expect("poll");
        polls += 1;
        period = period.max(overview.refresh_within().expect("still published"));
        assert!(
            cost.visible == visible.len() && cost.refreshed < overview.known(),
            "{cost:?}"
        );
        let shown = overview
            .rows()
            .into_iter()
            .filter(|r| visible.contains(&r.key));
        assert!(
            shown.into_iter().all(|r| r.refreshed_ms >= started),
            "a row on screen not refreshed by the poll"
        );
    }
    // The engine paces by an estimate above Redis's time; Redis's own
    // count is what the budget promises.
    let spent = counted(&mut admin).await;
    assert!(
        spent <= earned(polls, steady),
        "Redis counted {spent} µs in {polls} simulated seconds, over {steady} µs/s"
    );
    let stale = overview
        .rows()
        .into_iter()
        .filter(|r| r.refreshed_ms < since)
        .count();
    assert_eq!(stale, 0, "not refreshed within the published {period:?}");
}

/// The period of a keyspace the budget cannot read within the cycle: a
/// small budget (200 µs/s) so that a few thousand streams show it.
async fn period_of(streams: usize) -> Duration {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    keyspace::build(&mut admin, streams, 0).await;
    let mut conn = connector(&redis.url()).read_only().conn("overview");
    let mut config = KeyspaceConfig::new(None, SECOND);
    config.steady_us_per_s = 200.0;
    let mut overview = Keyspace::new(config);
    first_pass(&mut overview, &mut conn).await;
    assert_eq!(overview.known(), streams);
    overview.refresh_within().expect("published")
}

/// The revisit period is published once the first pass is done and grows
/// with the keyspace (a budget, not a period): four times the streams,
/// a longer period than the cycle and than the smaller keyspace's.
#[tokio::test]
async fn the_published_period_grows_with_the_keyspace() {
    let cycle = KeyspaceConfig::new(None, SECOND).cycle;
    let small = period_of(2_000).await;
    let big = period_of(8_000).await;
    assert!(
        big > small && big > cycle,
        "{big:?} for 8,000 streams, {small:?} for 2,000 (cycle {cycle:?})"
    );
}

/// A budget too small for a single refresh (1 µs a second: a refresh is
/// estimated at several) still reads every stream in turn, a key a poll:
/// the rotation slows down but never stops, whatever the estimate.
#[tokio::test]
async fn a_budget_smaller_than_one_refresh_slows_the_rotation_but_never_stops_it() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    keyspace::build(&mut admin, 40, 0).await;
    let mut conn = connector(&redis.url()).read_only().conn("overview");
    let mut config = KeyspaceConfig::new(None, SECOND);
    config.steady_us_per_s = 1.0;
    let mut overview = Keyspace::new(config);
    first_pass(&mut overview, &mut conn).await;
    let since = now_ms();
    for _ in 0..60 {
        let cost = overview
            .poll_after(&mut conn, &[], SECOND)
            .await
            .expect("poll");
        assert!(cost.refreshed >= 1, "a poll read nothing: {cost:?}");
    }
    let stale: Vec<_> = overview
        .rows()
        .into_iter()
        .filter(|r| r.refreshed_ms < since)
        .map(|r| r.key)
        .collect();
    assert!(stale.is_empty(), "never read again: {stale:?}");
}
