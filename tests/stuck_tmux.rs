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

/// Send `text` as typed characters.
fn type_text(t: &Tmux, text: &str) {
    t.run(&["send-keys", "-t", "main", "-l", text]);
}

/// `watch --allow-writes`: `*` marks every entry of the PEL (more than a
/// page), `R` requeues them after the stream's name is typed (150 >= 100),
/// and a reader of `>` gets them again; Space marks two more, `c` claims
/// them to a named consumer, and no inferred reclaim is logged for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_actions_requeue_the_whole_pel_and_claim_marked_entries() {
    let redis = server();
    let url = redis.url();
    let stream = unique("bulk");
    let mut conn = connector(&url).conn("driver");
    add_tasks(&mut conn, &stream, 150).await;
    create_group(&mut conn, &stream, "billing", "0")
        .await
        .unwrap();
    read_without_ack(&mut conn, &stream, "billing", "dead-1", 150).await;
    let dir = tempfile::tempdir().unwrap();
    let args = watch(&url, &stream, &dir.path().join("log"), &["--allow-writes"]);
    let t = Tmux::start(&args, 160, 48);
    t.wait("the PEL", WAIT, |s| s.contains("Pending in billing: 150"));
    t.keys("Tab");
    type_text(&t, "*");
    t.wait("all marked", WAIT, |s| {
        s.contains("150 marked over the whole PEL")
    });
    type_text(&t, "R");
    t.wait("a typed confirmation", WAIT, |s| {
        s.contains("Requeue 150 entries") && s.contains("100 entries or more")
    });
    type_text(&t, &stream);
    t.keys("Enter");
    t.wait("requeued", WAIT, |s| s.contains("requeued 150 entries"));
    assert_eq!(
        common::pending_count(&mut conn, &stream, "billing").await,
        0
    );
    let again = xreadgroup(
        &mut conn,
        &stream,
        "billing",
        "live",
        GroupRead::New,
        500,
        None,
    )
    .await
    .expect("XREADGROUP");
    assert_eq!(again.len(), 150, "a reader of > gets them again");

    // Two of the live reader's: marked one by one, claimed to `rescuer`.
    t.wait("the new PEL, live's entries", WAIT, |s| {
        s.contains("Pending in billing: 150") && s.matches(" live ").count() > 3
    });
    t.keys("Space");
    t.keys("Down");
    t.keys("Space");
    t.wait("two marked", WAIT, |s| s.contains("2 marked"));
    type_text(&t, "c");
    t.wait("the claim prompt", WAIT, |s| {
        s.contains("Claim the marked entries")
    });
    for _ in 0..20 {
        t.keys("BSpace");
    }
    type_text(&t, "rescuer");
    t.keys("Enter");
    t.wait("the confirmation", WAIT, |s| s.contains("Claim 2 entries"));
    type_text(&t, "y");
    t.wait("claimed", WAIT, |s| {
        s.contains("claimed 2 entries to rescuer")
    });
    let held = raw(
        &mut conn,
        &["XPENDING", &stream, "billing", "-", "+", "10", "rescuer"],
    )
    .await;
    assert_eq!(
        streamlab::redis::parse_pending_range(&held).unwrap().len(),
        2
    );
    t.wait("rescuer listed", WAIT, |s| {
        consumer_row(s, "rescuer").is_some()
    });
    let screen = t.screen();
    assert!(!screen.contains("(inferred) rescuer"), "{screen}");
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
}
