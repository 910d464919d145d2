//! A restart *without* persistence loses the stream on the server (its
//! group, its PEL): workers, `monitor` and the dashboard must notice it,
//! say so in plain words, re-create the group, keep working, and never
//! spin (bounded command counts over the time since the restart).

mod common;
#[path = "common/procs.rs"]
mod procs;
#[path = "common/stats.rs"]
mod stats;
#[path = "common/tmux.rs"]
mod tmux;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{unique, wait_for};
use procs::{GROUP, Proc, count_events, events, ledger, worker};
use streamlab::redis::Conn;

/// Total calls per command since the server started (INFO commandstats).
async fn command_calls(conn: &mut Conn) -> BTreeMap<String, u64> {
    stats::command_stats(conn)
        .await
        .into_iter()
        .map(|s| (s.name, s.calls))
        .collect()
}

fn produce_with_binary(dir: &Path, url: &str, stream: &str, count: u64) {
    let mut p = Proc::spawn(
        dir,
        &format!("produce-{count}"),
        &[
            "--url",
            url,
            "--stream",
            stream,
            "produce",
            "--count",
            &count.to_string(),
        ],
    );
    let status = p.child.wait().expect("produce runs");
    assert!(status.success(), "produce failed: {}", p.stderr_text());
}

/// The server restarts with nothing on disk: the stream, its group and the
/// PEL are gone. The worker and `monitor` must notice, the worker must
/// re-create the group and say why in plain words, both must keep running
/// (no crash), and neither may spin (bounded command counts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_without_persistence_is_noticed_and_survived() {
    let mut server = common::server();
    let url = server.url();
    let stream = unique("amnesia");
    let dir = tempfile::tempdir().unwrap();
    let mut w = worker(dir.path(), &url, &stream, "w1", &[]);
    let mut monitor = Proc::spawn(
        dir.path(),
        "monitor",
        &[
            "--url",
            &url,
            "--stream",
            &stream,
            "--group",
            GROUP,
            "monitor",
            "--json",
            "--interval",
            "200ms",
        ],
    );
    produce_with_binary(dir.path(), &url, &stream, 30);
    let processed = |p: &Proc| count_events(p, "processed");
    wait_for(
        "30 processed before the restart",
        Duration::from_secs(20),
        || {
            let n = processed(&w);
            async move { n == 30 }
        },
    )
    .await;
    wait_for(
        "the monitor to see 30 entries",
        Duration::from_secs(10),
        || {
            let out = monitor.stdout_text();
            async move { out.contains("\"length\":30") }
        },
    )
    .await;

    server.restart_empty().expect("restart without persistence");
    let restarted = Instant::now();
    wait_for(
        "the worker to re-create the group",
        Duration::from_secs(20),
        || {
            let n = count_events(&w, "group_recreated");
            async move { n >= 1 }
        },
    )
    .await;
    let lines = ledger(&w.stdout_text());
    let reason = events(&lines, "group_recreated")
        .next()
        .and_then(|l| l["reason"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("lost its data"), "reason: {reason}");
    wait_for(
        "the monitor to report the loss",
        Duration::from_secs(20),
        || {
            let err = monitor.stderr_text();
            async move {
                err.contains("warning: stream") && err.contains("restarted without persistence")
            }
        },
    )
    .await;

    // Work goes on after the loss.
    produce_with_binary(dir.path(), &url, &stream, 20);
    wait_for(
        "20 more processed after the restart",
        Duration::from_secs(20),
        || {
            let n = processed(&w);
            async move { n == 50 }
        },
    )
    .await;

    // A measuring window: the rate of commands while idle after recovery.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut admin = common::connector(&url).conn("admin");
    let calls = command_calls(&mut admin).await;
    let secs = restarted.elapsed().as_secs_f64();
    let total: u64 = calls.values().sum();
    // Expected: the worker's ~6 commands/s (XREADGROUP, XAUTOCLAIM,
    // XPENDING) and the monitor's 6 per 200 ms poll, ~40/s; a retry loop
    // without backoff would be thousands per second.
    let bound = (120.0 * secs) as u64 + 200;
    assert!(
        total <= bound,
        "{total} commands in {secs:.1} s (bound {bound}): {calls:?}"
    );
    eprintln!(
        "{total} commands in {secs:.1} s: {calls:?}\nmonitor: {}",
        monitor.stderr_text()
    );
    let creates = calls.get("xgroup|create").copied().unwrap_or(0);
    assert!(
        creates <= 2,
        "XGROUP CREATE sent {creates} times: {calls:?}"
    );
    assert_eq!(count_events(&w, "group_recreated"), 1);
    assert!(
        count_events(&w, "reconnecting") <= 10,
        "{}",
        w.stdout_text()
    );
    let poll_failures = monitor.stderr_text().matches("poll failed").count();
    assert!(poll_failures <= 10, "{}", monitor.stderr_text());

    for p in [&mut w, &mut monitor] {
        let status = p.terminate(Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "{} exit: {status:?}: {}",
            p.name,
            p.stderr_text()
        );
        assert!(!p.stderr_text().contains("panicked"), "{}", p.stderr_text());
    }
}

/// The same loss under the dashboard (in tmux): its event log says in plain
/// words that the server lost the stream, its worker re-creates the group,
/// it stays up and keeps working, and it does not spin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_notices_a_restart_without_persistence() {
    let mut server = common::server();
    let url = server.url();
    let stream = unique("dash-amnesia");
    let args = common::screen_line(&["--url", &url, "--stream", &stream, "--workers", "1"]);
    let t = tmux::Tmux::start(&args, 160, 45);
    let within = Duration::from_secs(20);
    t.wait("the dashboard is up", within, |s| s.contains("● connected"));
    t.keys("P");
    // The poller must have seen the entries, or there is no loss to notice.
    t.wait("100 entries read and polled", within, |s| {
        s.contains("read 100") && s.contains("length 100")
    });

    server.restart_empty().expect("restart without persistence");
    let restarted = Instant::now();
    t.wait("the loss reported in the event log", within, |s| {
        s.contains("lost data on the server") || s.contains("is gone from the server")
    });
    t.wait("the worker to re-create the group", within, |s| {
        s.contains("group workers re-created")
    });

    // Still up, still working: a new burst is read from the new stream.
    t.wait("reconnected", within, |s| s.contains("● connected"));
    t.keys("P");
    t.wait("100 entries read again", within, |s| s.contains("read 200"));
    // A measuring window while idle, then the command count since restart.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut admin = common::connector(&url).conn("admin");
    let calls = command_calls(&mut admin).await;
    let secs = restarted.elapsed().as_secs_f64();
    let total: u64 = calls.values().sum();
    // Expected ~45/s: the poller's 7 commands per 200 ms, the worker's
    // XREADGROUP/XAUTOCLAIM/XPENDING, the basic consumer's XREAD.
    let bound = (150.0 * secs) as u64 + 300;
    assert!(
        total <= bound,
        "{total} commands in {secs:.1} s (bound {bound}): {calls:?}"
    );
    assert!(
        calls.get("xgroup|create").copied().unwrap_or(0) <= 2,
        "{calls:?}"
    );
    t.keys("q");
    let end = t.wait("a clean exit", within, |s| s.contains("EXITED"));
    assert!(end.contains("EXITED 0"), "{end}");
}
