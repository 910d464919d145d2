//! The dashboard on a partitioned stream, the real binary in tmux against
//! a private redis-server: `--partitions 3` on a new stream creates and
//! records the lab's partitions; the screen shows totals and one row per
//! partition; the lab's producer spreads a burst over them and its workers
//! drain every one; `>` moves the PEL and one-shot commands to the next
//! partition; a later dashboard finds the layout by the name alone.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::{Deadline, bin, connector, pending_count, server, unique};
use streamlab::engine::registry::{self, CreatedBy};
use streamlab::redis::{Conn, exists, xlen};
use tmux::Tmux;

const WAIT: Duration = Duration::from_secs(20);

fn dashboard(url: &str, stream: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--url", url, "--stream", stream];
    args.extend(extra);
    common::screen_line(&args)
}

async fn total_length(conn: &mut Conn, keys: &[String]) -> u64 {
    let mut n = 0;
    for key in keys {
        n += xlen(conn, key).await.expect("XLEN");
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_creates_shows_fills_and_drains_three_partitions() {
    let redis = server();
    let url = redis.url();
    let stream = unique("dash");
    let mut conn = connector(&url).conn("test");
    let t = Tmux::start(
        &dashboard(&url, &stream, &["--partitions", "3", "--workers", "2"]),
        140,
        50,
    );
    t.wait("the partitions pane with 3 rows", WAIT, |s| {
        s.contains("Partitions (3") && (0..3).all(|i| s.contains(&format!("{{{stream}.p{i}}}")))
    });
    let record = registry::read(&mut conn, &stream)
        .await
        .expect("read")
        .expect("recorded");
    assert_eq!(record.created_by, CreatedBy::Lab);
    let keys = record.layout.partitions;
    assert_eq!(keys.len(), 3);

    t.keys("P");
    let deadline = Deadline::new("the burst of 100 spread over the partitions", WAIT);
    while total_length(&mut conn, &keys).await < 100 {
        deadline.tick().await;
    }
    for key in &keys {
        let len = xlen(&mut conn, key).await.expect("XLEN");
        assert!((33..=34).contains(&len), "{key}: {len} of 100, round-robin");
    }
    let deadline = Deadline::new("the lab's workers drain every partition", WAIT);
    for key in &keys {
        while pending_count(&mut conn, key, "workers").await > 0
            || undelivered(&mut conn, key).await > 0
        {
            deadline.tick().await;
        }
    }
    t.wait("the totals say 100", WAIT, |s| s.contains("length 100"));
    assert_eq!(
        exists(&mut conn, &stream).await,
        Ok(false),
        "no key under the logical name"
    );

    t.keys(">");
    t.wait("the PEL of the second partition", WAIT, |s| {
        s.contains(&format!("Pending in workers on {}", keys[1]))
    });
    t.keys("q");
    t.wait("the dashboard quits", WAIT, |s| s.contains("EXITED 0"));

    // Opened again without --partitions: the layout comes from the record.
    let t = Tmux::start(&dashboard(&url, &stream, &["--workers", "0"]), 140, 50);
    t.wait("the partitions found by name", WAIT, |s| {
        s.contains("Partitions (3")
    });
    t.keys("q");
}

/// Entries of `key` not yet delivered to the lab's group.
async fn undelivered(conn: &mut Conn, key: &str) -> u64 {
    let v = common::raw(conn, &["XINFO", "GROUPS", key]).await;
    let groups = streamlab::redis::parse_groups(&v).expect("XINFO GROUPS");
    groups
        .iter()
        .find(|g| g.name == "workers")
        .map_or(u64::MAX, |g| g.lag.unwrap_or(u64::MAX))
}

#[tokio::test]
async fn partitions_on_a_stream_that_exists_without_them_is_refused() {
    let redis = server();
    let url = redis.url();
    let stream = unique("plain");
    let mut conn = connector(&url).conn("test");
    common::add_tasks(&mut conn, &stream, 2).await;
    // In a terminal, since without one the dashboard stops before it connects.
    let t = Tmux::start(
        &dashboard(&url, &stream, &["--partitions", "2", "--lab"]),
        200,
        20,
    );
    t.wait("the refusal and usage exit code", WAIT, |s| {
        s.contains("already exists as 1 partition") && s.contains("EXITED 2")
    });
    let len = common::raw(&mut conn, &["XLEN", &stream]).await;
    assert_eq!(len, redis::Value::Int(2), "the stream is left as it was");
}

#[tokio::test]
async fn the_watch_overview_shows_one_row_per_logical_stream_that_expands() {
    let redis = server();
    let url = redis.url();
    let stream = unique("logical");
    let line = format!("--url {url} --stream {stream} produce --partitions 3 --count 30 --group g");
    let out = common::run_bin(&line, &[], WAIT).await;
    assert!(out.success(), "{}", out.stderr);
    let mut conn = connector(&url).conn("test");
    let keys = registry::resolve(&mut conn, &stream)
        .await
        .expect("resolve")
        .partitions;
    // The most pending stream is listed first, so it is the one selected.
    common::read_without_ack(&mut conn, &keys[1], "g", "c1", 5).await;
    common::add_tasks(&mut conn, "plain-neighbour", 3).await;
    let args: Vec<String> = [bin(), "watch", "--url", &url, "--refresh", "200ms"]
        .iter()
        .map(ToString::to_string)
        .collect();
    let t = Tmux::start(&args, 140, 40);
    let folded = format!("▸ {stream} (3 partitions)");
    let screen = t.wait("one row for the logical stream", WAIT, |s| {
        s.contains(&folded) && s.contains("plain-neighbour")
    });
    assert!(
        !screen.contains(&keys[0]),
        "no row of its own for a partition:\n{screen}"
    );
    t.keys("Space");
    t.wait("its partitions under it", WAIT, |s| {
        keys.iter().all(|k| s.contains(&format!("└ {k}")))
    });
    t.keys("Enter");
    t.wait("the stream screen with its partitions", WAIT, |s| {
        s.contains("Partitions (3") && s.contains("length 30")
    });
    t.keys("q");
}
