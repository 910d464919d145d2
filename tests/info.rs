//! `streamlab info` against real servers: the probe's answer, and advice
//! from INFO for the settings that put a queue at risk (allkeys-lru with a
//! maxmemory, no persistence, a replica synced without a file) and none for
//! a queue-safe one.

mod common;

use std::time::Duration;

use common::standalone::ServerOptions;
use common::{connector, raw_line, run_bin, server_with};
use serde_json::Value as Json;
use streamlab::redis::server::probe;

const WAIT: Duration = Duration::from_secs(20);

fn options(extra: &[&str], durable: bool) -> ServerOptions {
    ServerOptions {
        extra: extra.iter().map(ToString::to_string).collect(),
        durable,
        ..ServerOptions::default()
    }
}

fn advice_of(v: &Json, level: &str) -> Vec<(String, String)> {
    v["advice"]
        .as_array()
        .expect("advice array")
        .iter()
        .filter(|a| a["level"] == level)
        .map(|a| {
            let text = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
            (text("topic"), text("message"))
        })
        .collect()
}

async fn info_json(url: &str) -> Json {
    let out = run_bin(&format!("info --json --url {url}"), &[], WAIT).await;
    assert!(out.success(), "{}", out.stderr);
    serde_json::from_str(out.stdout.trim()).expect("one JSON object")
}

#[tokio::test]
async fn allkeys_lru_with_a_limit_and_no_persistence_are_warned_about() {
    let server = server_with(options(
        &["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"],
        false,
    ));
    let v = info_json(&server.url()).await;
    let warnings = advice_of(&v, "warn");
    let topics: Vec<&str> = warnings.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(topics, ["eviction", "persistence"], "{warnings:?}");
    assert!(warnings[0].1.contains("allkeys-lru"), "{warnings:?}");
    assert!(warnings[1].1.contains("AOF is off"), "{warnings:?}");
    assert_eq!(v["memory"]["policy"], "allkeys-lru");
    assert_eq!(v["memory"]["maxmemory"], 64 * 1024 * 1024);

    let mut conn = connector(&server.url()).conn("probe");
    let probed = probe(&mut conn).await.expect("probe");
    assert_eq!(v["server"], probed.to_json());
}

#[tokio::test]
async fn a_primary_that_synced_a_replica_without_a_file_still_has_no_snapshot() {
    let primary = server_with(options(
        &[
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
        ],
        false,
    ));
    let replica = server_with(options(
        &["--replicaof", "127.0.0.1", &primary.port.to_string()],
        false,
    ));
    let mut conn = connector(&primary.url()).conn("admin");
    let mut synced = false;
    let deadline = common::Deadline::new("the replica's first sync", WAIT);
    while !synced {
        deadline.tick().await;
        let v = common::raw_line(&mut conn, "INFO persistence").await;
        let text = streamlab::redis::reply::text(&v).unwrap_or_default();
        synced = !text.contains("rdb_last_bgsave_time_sec:-1");
    }
    let v = info_json(&primary.url()).await;
    let warnings = advice_of(&v, "warn");
    assert!(
        warnings
            .iter()
            .any(|(t, m)| t == "persistence" && m.contains("no RDB snapshot")),
        "{warnings:?}"
    );
    drop(replica);
}

#[tokio::test]
async fn a_queue_safe_server_gets_no_warning() {
    let server = server_with(options(
        &["--maxmemory", "64mb", "--maxmemory-policy", "noeviction"],
        true,
    ));
    let v = info_json(&server.url()).await;
    assert_eq!(advice_of(&v, "warn"), Vec::<(String, String)>::new());
    // A lone primary is worth a note, not a warning.
    let notes = advice_of(&v, "info");
    assert!(notes.iter().any(|(t, _)| t == "replication"), "{notes:?}");
}

#[tokio::test]
async fn memory_near_maxmemory_is_a_warning() {
    let server = server_with(options(&["--maxmemory-policy", "noeviction"], true));
    let mut conn = connector(&server.url()).conn("admin");
    // Enough data that one more client's buffers do not tip it over.
    common::add_tasks(&mut conn, &common::unique("filler"), 50_000).await;
    let used = streamlab::redis::memory::memory_state(&mut conn)
        .await
        .expect("INFO memory")
        .used;
    // A limit just above what is used: 95% or more full.
    raw_line(
        &mut conn,
        &format!("CONFIG SET maxmemory {}", used + used / 30),
    )
    .await;
    let v = info_json(&server.url()).await;
    let warnings = advice_of(&v, "warn");
    assert!(
        warnings
            .iter()
            .any(|(t, m)| t == "memory" && m.contains("% full")),
        "{warnings:?}"
    );
}

#[tokio::test]
async fn human_info_prints_the_server_its_features_and_the_advice() {
    let server = server_with(options(
        &["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lfu"],
        false,
    ));
    let mut conn = connector(&server.url()).conn("probe");
    let probed = probe(&mut conn).await.expect("probe");
    let out = run_bin(&format!("info --url {}", server.url()), &[], WAIT).await;
    assert!(out.success(), "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with(&format!("server    {probed} (standalone)")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("features  xautoclaim, xpending_idle"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("warn  eviction"), "{}", out.stdout);
    assert!(out.stdout.contains("allkeys-lfu"), "{}", out.stdout);
}

#[tokio::test]
async fn a_user_refused_info_still_learns_the_server_and_why_there_is_no_advice() {
    let server = server_with(ServerOptions::default());
    let mut admin = connector(&server.url()).conn("admin");
    raw_line(
        &mut admin,
        "ACL SETUSER mon on >Mon-pw-4 ~* +@read +@connection -info",
    )
    .await;
    let url = format!("redis://mon:Mon-pw-4@127.0.0.1:{}", server.port);
    let v = info_json(&url).await;
    let probed = probe(&mut admin).await.expect("probe");
    assert_eq!(v["server"]["version"], probed.version.to_string().as_str());
    assert!(v["advice"].as_array().is_some_and(Vec::is_empty));
    assert!(
        v["advice_unavailable"]
            .as_str()
            .is_some_and(|m| m.contains("info")),
        "{v}"
    );
    assert!(!v.to_string().contains("Mon-pw-4"));
}
