//! The dashboard runs its lab only on streams streamlab created (issue 8.1),
//! driven in tmux against private redis-servers. On a foreign `orders`
//! stream (50 entries, a `billing` group another team's consumers serve)
//! `streamlab --stream orders --group billing` opens as a watch that says
//! why, and INFO commandstats shows that no writing command reached the
//! server: nothing acked, no consumer added, no key written. `--lab` starts
//! the lab anyway; a stream `streamlab produce` created gets the lab.

mod common;
#[path = "common/stats.rs"]
mod stats;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::{Deadline, connector, raw, raw_line, run_bin, server};
use stats::{acl_user, command_stats, write_commands};
use streamlab::redis::{Conn, parse_consumers, parse_groups};
use tmux::Tmux;

const WAIT: Duration = Duration::from_secs(20);
/// Polls a watch must have made before its silence proves anything: at
/// 200 ms a lab's workers would have read and acked long before.
const POLLS: u64 = 10;

/// `orders`: 50 entries; `billing-1` holds 5 pending, `billing-2` acked 10.
async fn orders(conn: &mut Conn) {
    raw_line(conn, "XGROUP CREATE orders billing 0 MKSTREAM").await;
    common::add_tasks(conn, "orders", 50).await;
    common::read_without_ack(conn, "orders", "billing", "billing-1", 5).await;
    let done = common::read_without_ack(conn, "orders", "billing", "billing-2", 10).await;
    let ids: Vec<String> = done.iter().map(ToString::to_string).collect();
    let mut ack = vec!["XACK", "orders", "billing"];
    ack.extend(ids.iter().map(String::as_str));
    raw(conn, &ack).await;
}

/// The group as Redis reports it: entries read, pending, consumers.
async fn billing(conn: &mut Conn) -> String {
    let groups = parse_groups(&raw(conn, &["XINFO", "GROUPS", "orders"]).await).expect("groups");
    let consumers = parse_consumers(&raw(conn, &["XINFO", "CONSUMERS", "orders", "billing"]).await)
        .expect("consumers");
    let names: Vec<String> = consumers
        .iter()
        .map(|c| format!("{}:{}", c.name, c.pending))
        .collect();
    let g = &groups[0];
    format!(
        "read {:?} pending {} last {:?} {names:?}",
        g.entries_read, g.pending, g.last_delivered_id
    )
}

fn dashboard(url: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--url", url, "--stream", "orders", "--group", "billing"];
    args.extend(extra);
    common::screen_line(&args)
}

/// Wait until the server has answered `n` XINFO GROUPS since the reset.
async fn polled(conn: &mut Conn, n: u64) {
    let deadline = Deadline::new(format!("{n} polls"), WAIT);
    loop {
        let stats = command_stats(conn).await;
        if stats
            .iter()
            .any(|s| s.name == "xinfo|groups" && s.calls >= n)
        {
            return;
        }
        deadline.tick().await;
    }
}

async fn keys(conn: &mut Conn) -> String {
    format!("{:?}", raw(conn, &["KEYS", "*"]).await)
}

#[tokio::test]
async fn on_a_foreign_stream_the_dashboard_watches_says_why_and_writes_nothing() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    orders(&mut admin).await;
    let before = billing(&mut admin).await;
    let keys_before = keys(&mut admin).await;
    raw_line(&mut admin, "CONFIG RESETSTAT").await;
    let t = Tmux::start(&dashboard(&redis.url(), &[]), 200, 45);
    let screen = t.wait("the watch of billing", WAIT, |s| {
        s.contains("● connected") && s.contains("Pending in billing: 5")
    });
    assert!(
        screen.contains("watch: not created by streamlab (no orders:streamlab): nothing runs"),
        "{screen}"
    );
    polled(&mut admin, POLLS).await;
    // A lab key says why it does nothing, and the fix is --lab (not the
    // command already running).
    t.keys("P");
    t.wait("P refused", WAIT, |s| {
        s.contains("P: this dashboard only watches 'orders'")
            && s.contains("streamlab --lab --stream orders")
    });
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));

    let stats = command_stats(&mut admin).await;
    let writes = write_commands(&mut admin, &stats).await;
    assert!(
        writes.is_empty(),
        "write commands reached the server: {writes:?}"
    );
    assert_eq!(billing(&mut admin).await, before, "billing is untouched");
    assert_eq!(keys(&mut admin).await, keys_before, "no key was written");
}

#[tokio::test]
async fn an_unreadable_registry_also_means_watch() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    orders(&mut admin).await;
    acl_user(&mut admin, "nohash", "n0hash", "+@all -hgetall").await;
    let url = format!("redis://nohash:n0hash@127.0.0.1:{}", redis.port);
    let t = Tmux::start(&dashboard(&url, &[]), 200, 45);
    let screen = t.wait("the watch", WAIT, |s| s.contains("● connected"));
    assert!(
        screen.contains("watch: cannot read orders:streamlab"),
        "{screen}"
    );
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
}

#[tokio::test]
async fn lab_starts_the_lab_on_a_foreign_stream_without_adopting_it() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    orders(&mut admin).await;
    let t = Tmux::start(
        &dashboard(&redis.url(), &["--lab", "--workers", "1"]),
        200,
        45,
    );
    t.wait("the lab's worker w1", WAIT, |s| {
        s.contains("● connected") && s.contains("w1")
    });
    let deadline = Deadline::new("w1 in billing", WAIT);
    while !billing(&mut admin).await.contains("\"w1:") {
        deadline.tick().await;
    }
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
    let record = raw(&mut admin, &["EXISTS", "orders:streamlab"]).await;
    assert_eq!(
        streamlab::redis::reply::count(&record),
        Some(0),
        "still not ours"
    );
}

#[tokio::test]
async fn a_stream_streamlab_produced_gets_the_lab() {
    let redis = server();
    let url = redis.url();
    let mut admin = connector(&url).conn("setup");
    let out = run_bin(
        &format!("produce --url {url} --stream orders --count 5"),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    let t = Tmux::start(&dashboard(&url, &["--workers", "1"]), 200, 45);
    let screen = t.wait("the lab", WAIT, |s| {
        s.contains("● connected") && s.contains("production")
    });
    assert!(!screen.contains("watch:"), "{screen}");
    let deadline = Deadline::new("w1 reads the 5 entries", WAIT);
    while !billing(&mut admin).await.contains("read Some(5)") {
        deadline.tick().await;
    }
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
}
