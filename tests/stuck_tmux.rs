//! What a stuck queue looks like on screen, in tmux, on a queue driven the
//! way queue libraries drive one: consumers that read and never ack, one
//! that acks only some and reads on, a foreign XAUTOCLAIM of more entries
//! than the PEL page holds, and a reclaimer that keeps taking the same
//! entry back.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::{add_tasks, connector, raw, read_without_ack, server, unique};
use streamlab::redis::{Conn, EntryId, GroupRead, create_group, xack, xreadgroup};
use tmux::Tmux;

const WAIT: Duration = Duration::from_secs(20);

fn watch(url: &str, stream: &str, log: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let log = log.display().to_string();
    let mut args = vec![
        "watch",
        "--url",
        url,
        "--stream",
        stream,
        "--group",
        "billing",
        "--log-file",
        &log,
    ];
    args.extend(extra);
    common::screen_line(&args)
}

/// The cells of `name`'s row in the consumers pane.
fn consumer_row(screen: &str, name: &str) -> Option<Vec<String>> {
    screen.lines().find_map(|line| {
        let inner = line.trim_start_matches(['┃', '│', ' ']);
        let cells: Vec<String> = inner
            .split(['┃', '│'])
            .next()?
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        (cells.first().map(String::as_str) == Some(name)).then_some(cells)
    })
}

fn diagnosed(screen: &str, name: &str, word: &str) -> bool {
    consumer_row(screen, name).is_some_and(|cells| cells.iter().any(|c| c == word))
}

/// A reader that acks what it reads except `keep`, then reads on.
async fn read_ack_keep(conn: &mut Conn, stream: &str, name: &str, keep: usize) {
    let batch = xreadgroup(conn, stream, "billing", name, GroupRead::New, 50, None)
        .await
        .expect("XREADGROUP");
    let ack: Vec<EntryId> = batch.iter().skip(keep).map(|e| e.id).collect();
    xack(conn, stream, "billing", &ack).await.expect("XACK");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_counts_every_reclaimed_entry_and_names_stalled_leaking_and_poison() {
    let redis = server();
    let url = redis.url();
    let stream = unique("orders");
    let mut conn = connector(&url).conn("driver");
    add_tasks(&mut conn, &stream, 300).await;
    create_group(&mut conn, &stream, "billing", "0")
        .await
        .unwrap();
    // c2 reads 8 and c1 250 and neither acks (c1 is then killed).
    read_without_ack(&mut conn, &stream, "billing", "c2", 8).await;
    read_without_ack(&mut conn, &stream, "billing", "c1", 250).await;
    // c4 acks all but the first of what it reads, and reads on.
    read_ack_keep(&mut conn, &stream, "c4", 1).await;
    let dir = tempfile::tempdir().unwrap();
    let args = watch(
        &url,
        &stream,
        &dir.path().join("log"),
        &["--stuck-after", "2s"],
    );
    let t = Tmux::start(&args, 160, 48);
    t.wait("the PEL of billing", WAIT, |s| {
        s.contains("Pending in billing: 259") && consumer_row(s, "c1").is_some()
    });

    // A foreign reclaimer takes 111: the 8 of c2, then 103 of c1's.
    raw(
        &mut conn,
        &[
            "XAUTOCLAIM",
            &stream,
            "billing",
            "c3",
            "0",
            "0-0",
            "COUNT",
            "111",
        ],
    )
    .await;
    let screen = t.wait("one line counts all 111", WAIT, |s| {
        s.contains("(inferred) c3 reclaimed 111 from c1 (103), c2 (8)")
    });
    assert_eq!(
        screen.matches("(inferred)").count(),
        1,
        "one line, not one per page entry:\n{screen}"
    );

    // c4 reads on (new tasks, acked) while its first entry stays pending.
    let deadline = common::Deadline::new("c1 stalled and c4 leaking", WAIT);
    loop {
        add_tasks(&mut conn, &stream, 1).await;
        read_ack_keep(&mut conn, &stream, "c4", 0).await;
        let s = t.screen();
        if diagnosed(&s, "c1", "stalled") && diagnosed(&s, "c4", "leaking") {
            assert!(s.contains("⚠ ") && s.contains("1 leaking"), "{s}");
            break;
        }
        deadline.tick().await;
    }

    // A reclaimer that keeps taking one entry back: poison at 3 deliveries.
    let first = raw(
        &mut conn,
        &["XPENDING", &stream, "billing", "-", "+", "1", "c1"],
    )
    .await;
    let looping = streamlab::redis::parse_pending_range(&first).unwrap()[0].id;
    for _ in 0..2 {
        let id = looping.to_string();
        raw(&mut conn, &["XCLAIM", &stream, "billing", "c1", "0", &id]).await;
    }
    t.wait("the poison entry is logged", WAIT, |s| {
        s.contains(&format!("poison: {looping} delivered 3 times"))
    });
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
}
