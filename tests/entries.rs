//! The entries screen and the entry view, driven in tmux as a person
//! would, against streams whose ids and times are known: `e` opens the
//! entries newest first with each one's status in the group, `g` goes to
//! a time, `/` searches and `n` goes on, Enter shows the whole entry
//! (escaped, JSON pretty-printed), End follows new entries; Enter on a
//! pending id whose entry was deleted says so. On a 1M-entry stream each
//! keystroke costs a bounded number of commands (INFO commandstats).

mod common;
#[path = "common/stats.rs"]
mod stats;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::{connector, raw, raw_line, server};
use stats::command_stats;
use streamlab::redis::Conn;
use tmux::Tmux;

const WAIT: Duration = Duration::from_secs(20);
/// 2026-11-05T07:58:00Z: entry `i` is `i` minutes later.
const T0: u64 = 1_793_865_480_000;

fn id(i: u64) -> String {
    format!("{}-0", T0 + i * 60_000)
}

/// `orders`: entries 0..200, one a minute; group `billing` delivered 0..149
/// to `c1` and acked 0..99.
async fn orders(conn: &mut Conn) {
    let mut pipe = redis::pipe();
    for i in 0..200 {
        let payload = format!("{{\"task_id\":\"t{i}\",\"n\":{i}}}");
        pipe.cmd("XADD")
            .arg("orders")
            .arg(id(i))
            .arg("order_id")
            .arg(i)
            .arg("payload")
            .arg(payload);
    }
    pipe.cmd("XADD")
        .arg("orders")
        .arg(id(200))
        .arg("msg")
        .arg(&b"line1\r\nline2\x00\xff"[..]);
    conn.run_pipeline(&pipe, "TEST", false, 201)
        .await
        .expect("XADD");
    raw_line(conn, "XGROUP CREATE orders billing 0").await;
    raw_line(
        conn,
        "XREADGROUP GROUP billing c1 COUNT 150 STREAMS orders >",
    )
    .await;
    let mut ack = vec!["XACK".to_owned(), "orders".into(), "billing".into()];
    ack.extend((0..100).map(id));
    let ack: Vec<&str> = ack.iter().map(String::as_str).collect();
    raw(conn, &ack).await;
}

fn watch(url: &str, extra: &[&str]) -> Tmux {
    let mut args = vec![
        "watch", "--url", url, "--stream", "orders", "--group", "billing",
    ];
    args.extend(extra);
    Tmux::start(&common::screen_line(&args), 160, 40)
}

fn typed(t: &Tmux, text: &str) {
    t.run(&["send-keys", "-t", "main", "-l", text]);
    t.keys("Enter");
}

/// The screen's line holding `needle`.
fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_default()
}

#[tokio::test]
async fn browse_go_to_search_open_and_follow_in_tmux() {
    let redis = server();
    let url = redis.url();
    let mut admin = connector(&url).conn("setup");
    orders(&mut admin).await;
    let t = watch(&url, &[]);
    t.wait("the stream screen", WAIT, |s| {
        s.contains("Pending in billing: 50")
    });
    t.keys("e");
    let s = t.wait("the newest entries", WAIT, |s| s.contains(&id(199)));
    assert!(
        s.contains("Entries of orders · 201 entries · newest first · following"),
        "{s}"
    );
    // The newest is first, its control bytes escaped; statuses by group.
    assert!(
        line_with(&s, &id(200)).contains("msg=line1\\r\\nline2\\x00\\xff"),
        "{s}"
    );
    assert!(line_with(&s, &id(199)).contains("undelivered"), "{s}");
    assert!(
        s.contains("2026-11-05 11:17 ("),
        "local time (UTC here), its age: {s}"
    );

    // g: a time (RFC 3339); the newest entry at or before it on top.
    t.keys("g");
    typed(&t, "2026-11-05T09:58:30Z");
    let s = t.wait("entry 120 on top", WAIT, |s| {
        s.contains("scrolled") && s.contains(&id(120))
    });
    let rows: Vec<&str> = s.lines().filter(|l| l.starts_with("│1793")).collect();
    assert!(rows.first().is_some_and(|r| r.contains(&id(120))), "{s}");
    assert!(rows[0].contains("pending c1 ×1"), "{s}");
    // j/k, PgDn: older pages; acked below 100.
    t.keys("NPage");
    t.keys("NPage");
    let s = t.wait("two pages older", WAIT, |s| {
        s.contains(" acked ") && !s.contains("pending c1") && !s.contains(&id(120))
    });
    assert!(
        s.lines().filter(|l| l.contains(" acked ")).count() > 5,
        "{s}"
    );

    // /: a field search, older from the selected row; n goes on.
    t.keys("End");
    t.wait("the newest again", WAIT, |s| s.contains("following"));
    t.keys("/");
    typed(&t, "order_id=42");
    let s = t.wait("the match", WAIT, |s| s.contains("match for order_id=42"));
    assert!(
        line_with(&s, &id(43)).is_empty() || s.find(&id(42)) < s.find(&id(41)),
        "{s}"
    );
    t.keys("n");
    t.wait("no older match", WAIT, |s| {
        s.contains("no match for order_id=42: searched 42 entries to the oldest entry")
    });
    // Plain text finds JSON payloads too.
    t.keys("/");
    typed(&t, "\"t7\"");
    t.wait("the match of t7", WAIT, |s| s.contains("match for \"t7\""));

    // Enter: the whole entry, the JSON pretty-printed; r shows it raw.
    t.keys("Enter");
    let s = t.wait("the entry view", WAIT, |s| {
        s.contains(&format!("Entry {}", id(7)))
    });
    assert!(s.contains("payload  (22 bytes, JSON (r: raw))"), "{s}");
    assert!(s.contains("\"task_id\": \"t7\","), "{s}");
    t.keys("r");
    t.wait("raw", WAIT, |s| s.contains(r#"{"task_id":"t7","n":7}"#));
    t.keys("Escape");
    t.wait("the view closes", WAIT, |s| !s.contains("Entry 1"));

    // End follows: a new entry shows at the top.
    t.keys("End");
    t.wait("following", WAIT, |s| s.contains("following new entries"));
    raw(&mut admin, &["XADD", "orders", "*", "fresh", "yes"]).await;
    let s = t.wait("the new entry", WAIT, |s| s.contains("fresh=yes"));
    assert!(
        s.contains("entries: "),
        "the header counts the view's commands: {s}"
    );
    t.keys("Escape");
    t.wait("back on the stream", WAIT, |s| {
        s.contains("Pending in billing")
    });
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
}

#[tokio::test]
async fn a_pending_entry_that_was_deleted_says_so_in_the_entry_view() {
    let redis = server();
    let url = redis.url();
    let mut admin = connector(&url).conn("setup");
    orders(&mut admin).await;
    // c1's oldest pending entry (100) is deleted while pending.
    raw(&mut admin, &["XDEL", "orders", &id(100)]).await;
    let t = watch(&url, &[]);
    // A PEL row, not the stream box's "deleted up to <id>" line.
    t.wait("the PEL", WAIT, |s| {
        s.lines().any(|l| l.contains(&id(100)) && l.contains("c1"))
    });
    t.keys("Tab");
    t.wait("focus on the PEL", WAIT, |s| s.contains("┏ Pending"));
    t.keys("Enter");
    let s = t.wait("the deleted state", WAIT, |s| {
        s.contains("deleted: this id is still pending")
    });
    assert!(s.contains(&format!("Entry {}", id(100))), "{s}");
    t.keys("Escape");
    t.wait("the view closes", WAIT, |s| !s.contains("Entry 1"));
    t.keys("j");
    t.keys("Enter");
    let s = t.wait("a live entry", WAIT, |s| {
        s.contains(&format!("Entry {}", id(101))) && s.contains("order_id  (3 bytes)")
    });
    assert!(
        s.contains("order_id  (3 bytes)") && s.contains("  101"),
        "{s}"
    );
    t.keys("q");
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
}

/// Calls of `name` since the last CONFIG RESETSTAT.
async fn calls(conn: &mut Conn, name: &str) -> u64 {
    let stats = command_stats(conn).await;
    stats.iter().find(|s| s.name == name).map_or(0, |s| s.calls)
}

#[tokio::test]
async fn on_a_million_entries_each_keystroke_costs_a_page_or_a_bounded_step() {
    let redis = server();
    let url = redis.url();
    let mut admin = connector(&url).conn("setup");
    let script =
        "for i = 1, 100000 do redis.call('XADD', KEYS[1], '*', 'order_id', ARGV[1] + i) end";
    for start in 0..10 {
        raw(
            &mut admin,
            &["EVAL", script, "1", "big", &(start * 100_000).to_string()],
        )
        .await;
    }
    raw_line(&mut admin, "XGROUP CREATE big g 0").await;
    let t = Tmux::start(
        &common::screen_line(&["watch", "--url", &url, "--stream", "big"]),
        160,
        40,
    );
    t.wait("the stream", WAIT, |s| s.contains("1,000,000"));
    t.keys("e");
    t.wait("the entries", WAIT, |s| s.contains("order_id=1000000"));
    // (The poller sends no XREVRANGE: every one counted is the view's.)
    raw_line(&mut admin, "CONFIG RESETSTAT").await;
    t.keys("NPage");
    t.wait("the next page", WAIT, |s| s.contains("scrolled"));
    let deadline = common::Deadline::new("the page's commands counted", WAIT);
    while calls(&mut admin, "xrevrange").await < 1 {
        deadline.tick().await;
    }
    assert_eq!(
        calls(&mut admin, "xrevrange").await,
        1,
        "one page per keystroke"
    );
    // With its XPENDING (the poller sends some too): two in all, as the
    // header says.
    t.wait("the move's cost in the header", WAIT, |s| {
        s.contains("entries: 2 cmds last move")
    });

    raw_line(&mut admin, "CONFIG RESETSTAT").await;
    t.keys("/");
    typed(&t, "order_id=nothing");
    t.wait("one search step", WAIT, |s| {
        s.contains("searched 10,000 entries back to") && s.contains("no match yet: n goes on")
    });
    let step = calls(&mut admin, "xrevrange").await;
    assert!((10..=11).contains(&step), "{step} XREVRANGE for one step");
    t.keys("n");
    t.wait("the second step", WAIT, |s| {
        s.contains("searched 20,000 entries")
    });
    let two = calls(&mut admin, "xrevrange").await;
    assert!(two - step <= 11, "{two} after two steps");
    t.keys("q");
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
}
