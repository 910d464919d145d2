//! The server probe against the real server under test (whichever
//! `STREAMLAB_TEST_SERVER` names: Redis 6.2, 7.0 or Valkey 9.1 in CI): it
//! names the server its binary reports, and every feature it claims or
//! denies matches what that server's replies actually contain.

mod common;

use std::time::Duration;

use common::{connector, raw, raw_line, run_bin, server, server_binary_name, unique};
use redis::Value;
use serde_json::Value as Json;
use streamlab::redis::reply::{items, table};
use streamlab::redis::server::probe;
use streamlab::redis::{Feature, ServerMode, ServerName, Version, create_group};

const WAIT: Duration = Duration::from_secs(20);

/// Name and version as the binary itself prints them (`--version`):
/// `Redis server v=6.2.14 ...`, `Valkey server v=9.1.2 ...`.
fn binary_identity() -> (ServerName, Version) {
    let out = std::process::Command::new(server_binary_name())
        .arg("--version")
        .output()
        .expect("run the server binary with --version");
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    let name = if line.starts_with("Valkey") {
        ServerName::Valkey
    } else {
        ServerName::Redis
    };
    let version = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("v="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no v= in {line:?}"));
    (name, version)
}

#[tokio::test]
async fn probe_names_the_server_its_binary_reports() {
    let server = server();
    let mut conn = connector(&server.url()).conn("probe");
    let info = probe(&mut conn).await.expect("probe");
    let (name, version) = binary_identity();
    assert_eq!((info.name, info.version), (name, version), "{info:?}");
    assert_eq!(info.mode, ServerMode::Standalone);
    assert!(info.check_supported().is_ok(), "{info:?}");
    let label = info.to_string();
    assert_eq!(label, format!("{} {version}", name.title()));
}

/// A fresh connector asks who the server is once: the cluster detection's
/// INFO is the probe's too (then one COMMAND INFO confirms commands).
#[tokio::test]
async fn probing_a_fresh_connector_sends_one_info() {
    let server = server();
    let mut admin = connector(&server.url()).conn("admin");
    raw_line(&mut admin, "CONFIG RESETSTAT").await;
    let fresh = connector(&server.url());
    let info = fresh.probe_server().await.expect("probe");
    assert_eq!(fresh.server(), Some(&info));
    let stats = raw(&mut admin, &["INFO", "commandstats"]).await;
    let stats = streamlab::redis::reply::text(&stats).unwrap_or_default();
    let calls = |name: &str| {
        stats
            .lines()
            .find_map(|l| l.strip_prefix(&format!("cmdstat_{name}:calls=")))
            .and_then(|rest| rest.split(',').next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // (The INFO commandstats reading them counts only once it has run.)
    assert_eq!(calls("info"), 1, "{stats}");
    // Redis 6.2 counts subcommands under their command.
    assert_eq!(calls("command|info") + calls("command"), 1, "{stats}");
}

/// One group with one delivered entry, for the replies below.
async fn stream_with_a_pending_entry(conn: &mut streamlab::redis::Conn) -> String {
    let stream = unique("features");
    raw(conn, &["XADD", &stream, "*", "f", "v"]).await;
    create_group(conn, &stream, "g", "0").await.expect("group");
    raw_line(
        conn,
        &format!("XREADGROUP GROUP g c COUNT 1 STREAMS {stream} >"),
    )
    .await;
    stream
}

fn row_has(reply: &Value, field: &str) -> bool {
    let row = items(reply).and_then(|rows| rows.first()).expect("one row");
    table(row).expect("a row of fields").contains_key(field)
}

#[tokio::test]
async fn every_claimed_feature_is_in_the_server_s_replies_and_every_denied_one_is_not() {
    let server = server();
    let mut conn = connector(&server.url()).conn("probe");
    let info = probe(&mut conn).await.expect("probe");
    let stream = stream_with_a_pending_entry(&mut conn).await;

    let groups = raw(&mut conn, &["XINFO", "GROUPS", &stream]).await;
    assert_eq!(row_has(&groups, "lag"), info.has(Feature::Lag), "{info:?}");
    assert_eq!(
        row_has(&groups, "entries-read"),
        info.has(Feature::EntriesRead)
    );
    let consumers = raw(&mut conn, &["XINFO", "CONSUMERS", &stream, "g"]).await;
    assert_eq!(
        row_has(&consumers, "inactive"),
        info.has(Feature::ConsumerInactive)
    );

    // XAUTOCLAIM: 2 elements before 7.0, 3 (deleted ids) from 7.0.
    let claim = raw_line(&mut conn, &format!("XAUTOCLAIM {stream} g c2 0 0 COUNT 1")).await;
    let parts = items(&claim).map_or(0, <[Value]>::len);
    let expected = if info.has(Feature::XAutoClaimDeleted) {
        3
    } else {
        2
    };
    assert_eq!(parts, expected, "XAUTOCLAIM reply {claim:?}");

    // XPENDING IDLE (6.2+) answers; the version floor guarantees it.
    assert!(info.has(Feature::XPendingIdle));
    raw_line(&mut conn, &format!("XPENDING {stream} g IDLE 0 - + 10")).await;

    // The 8.2 commands: present exactly when claimed.
    for (feature, name) in [(Feature::XAckDel, "xackdel"), (Feature::XDelEx, "xdelex")] {
        let reply = raw(&mut conn, &["COMMAND", "INFO", name]).await;
        let found = items(&reply).and_then(|r| r.first()).is_some_and(|row| {
            !matches!(row, Value::Nil) && items(row).is_none_or(|r| !r.is_empty())
        });
        assert_eq!(found, info.has(feature), "{name}: {reply:?}");
    }
}

#[tokio::test]
async fn a_user_refused_info_and_command_is_probed_through_hello_with_the_same_answer() {
    let server = server();
    let mut admin = connector(&server.url()).conn("admin");
    raw_line(
        &mut admin,
        "ACL SETUSER narrow on >Narrow-pw-3 ~* +@read +@connection -info -command",
    )
    .await;
    let url = format!("redis://narrow:Narrow-pw-3@127.0.0.1:{}", server.port);
    let mut narrow = connector(&url).conn("narrow");
    let refused = narrow.run(&redis::cmd("INFO"), "INFO", false).await;
    assert!(refused.is_err(), "the ACL refuses INFO: {refused:?}");

    let seen = probe(&mut narrow).await.expect("probe through HELLO");
    let full = probe(&mut admin).await.expect("probe with INFO");
    assert_eq!(
        (seen.name, seen.version, seen.mode),
        (full.name, full.version, full.mode)
    );
    // Without COMMAND INFO the version alone decides: the same here, as no
    // server in the matrix differs from its version's features.
    assert_eq!(seen.features, full.features);
}

#[tokio::test]
async fn monitor_json_names_the_server_and_its_features() {
    let server = server();
    let url = server.url();
    let mut conn = connector(&url).conn("admin");
    let info = probe(&mut conn).await.expect("probe");
    let stream = unique("monitor-server");
    let out = run_bin(
        &format!("monitor --json --once --url {url} --stream {stream}"),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    let v: Json = serde_json::from_str(out.stdout.trim()).expect("one JSON object");
    let s = &v["server"];
    assert_eq!(s["name"], info.name.as_str());
    assert_eq!(s["version"], info.version.to_string().as_str());
    assert_eq!(s["mode"], "standalone");
    let features: Vec<&str> = s["features"]
        .as_array()
        .expect("features array")
        .iter()
        .filter_map(Json::as_str)
        .collect();
    let claimed: Vec<&str> = info.features.iter().map(|f| f.name()).collect();
    assert_eq!(features, claimed);
    assert!(features.contains(&"xautoclaim"));
}
