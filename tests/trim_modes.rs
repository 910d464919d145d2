//! Redis 8.2's queue semantics through streamlab, on whichever server the
//! run tests (`STREAMLAB_TEST_SERVER`): on Redis 8.2 `--trim-mode`,
//! `trim --acked` and `worker --ack-delete` do what 8.2 says; on every
//! server without them (6.2, 7.0, Valkey 9.1) each is refused in one line
//! naming Redis 8.2, exit 2, and nothing is sent (INFO commandstats).

mod common;
#[path = "common/stats.rs"]
mod stats;

use std::time::Duration;

use common::{BinOutput, add_tasks, connector, raw, read_without_ack, run_bin, server, unique};
use streamlab::redis::{Conn, EntryId, Feature, xack, xlen, xpending_summary};

const WAIT: Duration = Duration::from_secs(30);

fn line(url: &str, stream: &str, rest: &str) -> String {
    format!("--url {url} --stream {stream} {rest}")
}

/// Whether the server under test has the 8.2 trim modes and XACKDEL.
async fn has_8_2(conn: &mut Conn) -> bool {
    let info = conn
        .connector()
        .probe_server()
        .await
        .expect("the server is probed");
    assert_eq!(
        info.has(Feature::TrimModes),
        info.has(Feature::XAckDel),
        "{info:?}"
    );
    info.has(Feature::TrimModes)
}

/// Entries 1..10; group A read all and acked all, B read all and acked
/// 1, 2, 4, 5 (3 and 6..10 pending). The issue's own example.
async fn a_and_b(conn: &mut Conn, stream: &str) -> Vec<EntryId> {
    let ids = add_tasks(conn, stream, 10).await;
    for g in ["A", "B"] {
        raw(conn, &["XGROUP", "CREATE", stream, g, "0"]).await;
    }
    read_without_ack(conn, stream, "A", "a", 10).await;
    xack(conn, stream, "A", &ids).await.expect("XACK A");
    read_without_ack(conn, stream, "B", "b", 10).await;
    let b_acked = [ids[0], ids[1], ids[3], ids[4]];
    xack(conn, stream, "B", &b_acked).await.expect("XACK B");
    ids
}

async fn ids_in(conn: &mut Conn, stream: &str) -> Vec<EntryId> {
    let v = raw(conn, &["XRANGE", stream, "-", "+"]).await;
    streamlab::redis::reply::entries(&v)
        .expect("entries")
        .iter()
        .map(|e| e.id)
        .collect()
}

fn error_line(out: &BinOutput) -> String {
    out.stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn trim_acked_previews_exactly_then_removes_what_every_group_acked_leaving_gaps() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    if !has_8_2(&mut conn).await {
        return; // refusals: see the last test
    }
    let stream = unique("acked");
    let ids = a_and_b(&mut conn, &stream).await;

    let out = run_bin(&line(&url, &stream, "trim --acked --dry-run"), &[], WAIT).await;
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    let preview = format!("XTRIM {stream} MAXLEN = 0 ACKED removes 4 of 10 entries");
    assert!(out.stdout.contains(&preview), "{}", out.stdout);
    assert!(
        out.stdout.contains("keeps 6 entries pending"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("dry run: nothing removed"),
        "{}",
        out.stdout
    );
    assert_eq!(xlen(&mut conn, &stream).await.unwrap(), 10);

    let out = run_bin(&line(&url, &stream, "trim --acked"), &[], WAIT).await;
    assert!(out.success(), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("removed 4 entries"), "{}", out.stdout);
    // 1, 2, 4, 5 are gone; 3 stays (B holds it): a gap no MINID leaves.
    let left = ids_in(&mut conn, &stream).await;
    assert_eq!(left, [&ids[2..3], &ids[5..]].concat());
    assert_eq!(
        xpending_summary(&mut conn, &stream, "B")
            .await
            .unwrap()
            .count,
        6
    );

    // Without groups ACKED would delete everything: refused, exit 1.
    let lonely = unique("lonely");
    add_tasks(&mut conn, &lonely, 5).await;
    let out = run_bin(&line(&url, &lonely, "trim --acked"), &[], WAIT).await;
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        error_line(&out).contains("ACKED would delete every entry"),
        "{}",
        out.stderr
    );
    assert_eq!(xlen(&mut conn, &lonely).await.unwrap(), 5);
}

#[tokio::test]
async fn the_acked_count_reads_each_pel_and_skips_ids_already_deleted() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    if !has_8_2(&mut conn).await {
        return;
    }
    let stream = unique("dangling");
    let ids = a_and_b(&mut conn, &stream).await;
    // Entry 7, pending in B, deleted anyway: B's PEL keeps a dangling id
    // that removes nothing, so the count must not subtract it.
    raw(&mut conn, &["XDEL", &stream, &ids[6].to_string()]).await;
    let plan = streamlab::engine::retention::plan_acked(&mut conn, &stream)
        .await
        .expect("plan");
    assert_eq!(plan.read_by_all, Some(ids[9]));
    assert_eq!(plan.kept, streamlab::engine::retention::Kept::Exact(5));
    assert_eq!(
        plan.removal,
        streamlab::engine::retention::EntryCount::Exact(4)
    );
    let removed = streamlab::redis::xtrim(
        &mut conn,
        &stream,
        &streamlab::engine::retention::AckedPlan::retention(),
    )
    .await
    .expect("XTRIM");
    assert_eq!(removed, 4, "the preview said what Redis did");
}

#[tokio::test]
async fn trim_modes_decide_what_happens_to_the_pels() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    if !has_8_2(&mut conn).await {
        return;
    }
    // ACKED keeps what B has not acked; the note says the trim is exact
    // (approximate ACKED removes nothing on 8.2.x, redis#14656).
    let stream = unique("modes");
    let ids = a_and_b(&mut conn, &stream).await;
    let out = run_bin(
        &line(&url, &stream, "trim --maxlen 0 --trim-mode acked"),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    assert!(out.stdout.contains("removed 4 entries"), "{}", out.stdout);
    assert!(out.stderr.contains("redis#14656"), "{}", out.stderr);

    // KEEPREF: gone from the stream, still in B's PEL (dangling).
    let out = run_bin(
        &line(&url, &stream, "trim --maxlen 3 --exact --trim-mode keepref"),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(ids_in(&mut conn, &stream).await, ids[7..].to_vec());
    assert_eq!(
        xpending_summary(&mut conn, &stream, "B")
            .await
            .unwrap()
            .count,
        6
    );

    // DELREF: gone from the stream and from every PEL; the ids KEEPREF
    // left dangling before stay dangling.
    let out = run_bin(
        &line(&url, &stream, "trim --maxlen 0 --exact --trim-mode delref"),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(xlen(&mut conn, &stream).await.unwrap(), 0);
    let pending = raw(&mut conn, &["XPENDING", &stream, "B", "-", "+", "10"]).await;
    let pending: Vec<EntryId> = streamlab::redis::parse_pending_range(&pending)
        .expect("XPENDING")
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(pending, [ids[2], ids[5], ids[6]]);
}

#[tokio::test]
async fn a_producer_trimming_with_acked_never_drops_an_unprocessed_task() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    if !has_8_2(&mut conn).await {
        return;
    }
    let stream = unique("queue");
    // A group that reads nothing: with ACKED no task may go.
    let out = run_bin(
        &line(
            &url,
            &stream,
            "--group slow produce --count 50 --maxlen 10 --trim-mode acked",
        ),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    assert!(out.stderr.contains("redis#14656"), "{}", out.stderr);
    assert_eq!(xlen(&mut conn, &stream).await.unwrap(), 50);
    // Once the group has read and acked them, the next XADD trims to 10.
    let read = read_without_ack(&mut conn, &stream, "slow", "s", 100).await;
    xack(&mut conn, &stream, "slow", &read).await.unwrap();
    let out = run_bin(
        &line(
            &url,
            &stream,
            "produce --count 1 --maxlen 10 --trim-mode acked",
        ),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(xlen(&mut conn, &stream).await.unwrap(), 10);

    // The same with MINID: entries below it go only once acked.
    let out = run_bin(
        &line(
            &url,
            &stream,
            "produce --count 1 --minid 9999999999999-0 --trim-mode acked",
        ),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(
        xlen(&mut conn, &stream).await.unwrap(),
        2,
        "all acked ones went; the two slow has not read stay"
    );
}

#[tokio::test]
async fn ack_delete_workers_empty_the_stream_once_every_group_acked() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    if !has_8_2(&mut conn).await {
        return;
    }
    let stream = unique("ackdel");
    let ids = add_tasks(&mut conn, &stream, 30).await;
    for g in ["billing", "audit"] {
        raw(&mut conn, &["XGROUP", "CREATE", &stream, g, "0"]).await;
    }
    let worker = |group: &str| {
        line(
            &url,
            &stream,
            &format!(
                "--group {group} worker --name w-{group} --ack-delete --events json --block 100ms"
            ),
        )
    };
    // billing acks first: every entry is kept, audit still needs it.
    let mut billing = common::BinProcess::spawn(&worker("billing"), &[]);
    let acked = |w: &common::BinProcess| -> Vec<serde_json::Value> {
        w.stdout_lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["event"] == "acked")
            .collect()
    };
    let total = |events: &[serde_json::Value], field: &str| -> u64 {
        events
            .iter()
            .map(|v| match &v[field] {
                serde_json::Value::Array(a) => a.len() as u64,
                other => other.as_u64().unwrap_or(0),
            })
            .sum()
    };
    common::wait_for("billing acks all 30", WAIT, || {
        let n = total(&acked(&billing), "count");
        async move { n == 30 }
    })
    .await;
    let events = acked(&billing);
    assert_eq!(total(&events, "deleted"), 0, "{events:?}");
    assert_eq!(total(&events, "kept"), 30, "{events:?}");
    assert_eq!(xlen(&mut conn, &stream).await.unwrap(), 30);

    // audit acks last: each entry leaves the stream.
    let mut audit = common::BinProcess::spawn(&worker("audit"), &[]);
    common::wait_for("audit acks all 30", WAIT, || {
        let n = total(&acked(&audit), "count");
        async move { n == 30 }
    })
    .await;
    let events = acked(&audit);
    assert_eq!(total(&events, "deleted"), 30, "{events:?}");
    assert_eq!(total(&events, "kept"), 0, "{events:?}");
    assert_eq!(xlen(&mut conn, &stream).await.unwrap(), 0);
    for w in [&mut billing, &mut audit] {
        w.terminate();
        assert!(w.wait_exit(WAIT).await.success(), "{:?}", w.stderr_lines());
    }
    assert_eq!(ids.len(), 30);
}

/// Every 8.2 option on a server without it: one `error:` line naming
/// Redis 8.2, exit 2, and not one command that writes reached the server.
#[tokio::test]
async fn servers_without_8_2_refuse_every_option_unsent() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    if has_8_2(&mut conn).await {
        return;
    }
    let stream = unique("old");
    a_and_b(&mut conn, &stream).await;
    raw(&mut conn, &["CONFIG", "RESETSTAT"]).await;
    for how in [
        "trim --acked",
        "trim --acked --dry-run",
        "trim --maxlen 0 --trim-mode acked",
        "trim --minid 0-1 --trim-mode delref",
        "produce --count 5 --maxlen 3 --trim-mode keepref",
        "produce --count 5 --minid 0-1 --trim-mode acked",
        "worker --ack-delete",
    ] {
        let out = run_bin(&line(&url, &stream, how), &[], WAIT).await;
        assert_eq!(out.status.code(), Some(2), "{how}: {}", out.stderr);
        let error = error_line(&out);
        assert!(error.contains("Redis 8.2"), "{how}: {error}");
        assert!(error.contains("nothing was sent"), "{how}: {error}");
        assert_eq!(out.stderr.lines().count(), 1, "{how}: {}", out.stderr);
    }
    let stats = stats::command_stats(&mut conn).await;
    let writes = stats::write_commands(&mut conn, &stats).await;
    assert!(writes.is_empty(), "sent: {writes:?}");
    assert_eq!(xlen(&mut conn, &stream).await.unwrap(), 10);
}

/// Dangling references on any server: pending ids whose entry was XDEL'd
/// or trimmed away (KEEPREF, every server's default) are counted per group
/// in `monitor --json` (`deleted_pending`), said in words in the text, and
/// marked in the dashboard's PEL page; a stream nothing was deleted from
/// costs no command for it.
#[tokio::test]
async fn pending_entries_gone_from_the_stream_are_counted_and_marked() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let stream = unique("dangling");
    let ids = add_tasks(&mut conn, &stream, 20).await;
    raw(&mut conn, &["XGROUP", "CREATE", &stream, "g", "0"]).await;
    read_without_ack(&mut conn, &stream, "g", "c", 10).await;
    let monitor = line(&url, &stream, "--group g monitor --json --once");
    let count = |out: &BinOutput| -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("JSON");
        v["groups"][0]["deleted_pending"].clone()
    };
    let out = run_bin(&monitor, &[], WAIT).await;
    assert_eq!(count(&out), 0, "{}", out.stdout);

    // Two deleted in the middle, the first three trimmed away.
    raw(
        &mut conn,
        &["XDEL", &stream, &ids[5].to_string(), &ids[7].to_string()],
    )
    .await;
    raw(&mut conn, &["XTRIM", &stream, "MINID", &ids[3].to_string()]).await;
    let out = run_bin(&monitor, &[], WAIT).await;
    assert_eq!(count(&out), 5, "{}", out.stdout);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(v["groups"][0]["deleted_pending_exact"], true);
    let text = run_bin(&line(&url, &stream, "--group g monitor --once"), &[], WAIT).await;
    assert!(
        text.stdout
            .contains("5 pending entries are gone from the stream"),
        "{}",
        text.stdout
    );

    let page = streamlab::monitor::PelQuery {
        group: "g".into(),
        start: None,
        count: 20,
        consumer: None,
    };
    let snap = streamlab::monitor::poll_once(&mut conn, &stream, Some(&page))
        .await
        .expect("poll");
    let marked = &snap.group("g").expect("the group").deleted_in_page;
    assert_eq!(*marked, [ids[0], ids[1], ids[2], ids[5], ids[7]]);
}
