//! The admin actions of `streamlab watch --allow-writes`, end to end in
//! tmux against a private redis-server: a safe trim and XGROUP DESTROY
//! (data-losing: confirmed only by typing the stream's name), deleting a
//! consumer after claiming its pending entries, claiming one entry to a
//! consumer typed by hand, and XGROUP SETID (name typed). Each changes what
//! Redis holds exactly as its confirmation said, and each lands in the log
//! file with the command sent.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::{Deadline, connector, raw, raw_line, server};
use streamlab::redis::reply::count;
use streamlab::redis::{
    Conn, EntryId, parse_consumers, parse_groups, parse_pending_range, xack, xlen,
};
use tmux::Tmux;

const WAIT: Duration = Duration::from_secs(20);

/// `orders`: 50 entries; `billing-2` read and acked the first 10,
/// `billing-1` holds the next 5 pending. Returns the ids.
async fn orders(conn: &mut Conn) -> Vec<EntryId> {
    raw_line(conn, "XGROUP CREATE orders billing 0 MKSTREAM").await;
    let ids = common::add_tasks(conn, "orders", 50).await;
    let done = common::read_without_ack(conn, "orders", "billing", "billing-2", 10).await;
    xack(conn, "orders", "billing", &done).await.expect("XACK");
    common::read_without_ack(conn, "orders", "billing", "billing-1", 5).await;
    ids
}

/// `streamlab watch --allow-writes` on `orders`/`billing`, logging to `log`.
fn watch_orders(url: &str, log: &std::path::Path) -> Vec<String> {
    let log = log.display().to_string();
    common::screen_line(&[
        "watch",
        "--allow-writes",
        "--url",
        url,
        "--stream",
        "orders",
        "--group",
        "billing",
        "--log-file",
        &log,
    ])
}

async fn until(conn: &mut Conn, what: &str, check: impl AsyncFn(&mut Conn) -> bool) {
    let deadline = Deadline::new(what, WAIT);
    while !check(conn).await {
        deadline.tick().await;
    }
}

#[tokio::test]
async fn safe_trim_delete_consumer_and_destroy_change_redis_as_confirmed() {
    let redis = server();
    let mut conn = connector(&redis.url()).conn("setup");
    let ids = orders(&mut conn).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let t = Tmux::start(&watch_orders(&redis.url(), &log), 200, 50);
    t.wait("billing on screen", WAIT, |s| {
        s.contains("Pending in billing: 5") && s.contains("billing-1 ")
    });

    // T: the safe trim, planned, then confirmed by typing the name.
    t.keys("T");
    let preview = format!("XTRIM orders MINID {} removes 10 of 50 entries", ids[10]);
    t.wait("the plan's preview", WAIT, |s| {
        s.contains(&preview) && s.contains("type the stream's name")
    });
    t.run(&["send-keys", "-t", "main", "-l", "y"]);
    t.keys("Enter");
    t.wait("a wrong name is refused", WAIT, |s| {
        s.contains("exactly to confirm")
    });
    assert_eq!(
        xlen(&mut conn, "orders").await.unwrap(),
        50,
        "nothing trimmed yet"
    );
    t.keys("BSpace");
    t.run(&["send-keys", "-t", "main", "-l", "orders"]);
    t.keys("Enter");
    t.wait("the trim's outcome", WAIT, |s| {
        s.contains("removed 10 entries")
    });
    assert_eq!(xlen(&mut conn, "orders").await.unwrap(), 40);

    // D on billing-1 (the first consumer): its entries go to billing-2 first.
    t.keys("D");
    t.wait("who takes the entries", WAIT, |s| {
        s.contains("who takes its 5 pending entries")
    });
    t.keys("Enter");
    t.wait("the delete confirmation", WAIT, |s| {
        s.contains("XGROUP DELCONSUMER orders billing billing-1")
    });
    t.run(&["send-keys", "-t", "main", "-l", "y"]);
    until(
        &mut conn,
        "billing-1 deleted, its entries with billing-2",
        async |c| {
            let v = raw(c, &["XINFO", "CONSUMERS", "orders", "billing"]).await;
            let consumers = parse_consumers(&v).expect("consumers");
            consumers.len() == 1 && consumers[0].name == "billing-2" && consumers[0].pending == 5
        },
    )
    .await;

    // X: XGROUP DESTROY, only after the name is typed.
    t.keys("X");
    t.wait("the destroy confirmation", WAIT, |s| {
        s.contains("XGROUP DESTROY orders billing")
    });
    t.run(&["send-keys", "-t", "main", "-l", "orders"]);
    t.keys("Enter");
    until(&mut conn, "billing destroyed", async |c| {
        let v = raw(c, &["XINFO", "GROUPS", "orders"]).await;
        parse_groups(&v).expect("groups").is_empty()
    })
    .await;
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
    assert_eq!(
        count(&raw(&mut conn, &["XLEN", "orders"]).await),
        Some(40),
        "the entries stay"
    );

    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    for sent in [
        format!("XTRIM orders MINID {}", ids[10]),
        "XGROUP DELCONSUMER orders billing billing-1".to_owned(),
        "XGROUP DESTROY orders billing".to_owned(),
    ] {
        assert!(logged.contains(&sent), "'{sent}' not in the log:\n{logged}");
    }
}

#[tokio::test]
async fn claim_to_a_chosen_consumer_and_setid_change_redis_as_confirmed() {
    let redis = server();
    let mut conn = connector(&redis.url()).conn("setup");
    let ids = orders(&mut conn).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let t = Tmux::start(&watch_orders(&redis.url(), &log), 200, 50);
    let first = ids[10].to_string();
    t.wait("billing's PEL on screen", WAIT, |s| {
        s.contains("Pending in billing: 5") && s.contains(&first)
    });

    // c on the PEL's first entry: claimed to a consumer the group does not
    // know yet, which the confirmation says XCLAIM will create.
    t.keys("Tab");
    t.wait("focus on the PEL", WAIT, |s| {
        s.contains("┏ Pending in billing")
    });
    t.keys("c");
    t.wait("the claim prompt", WAIT, |s| {
        s.contains("to which consumer")
    });
    // The prompt suggests another consumer (billing-2): replace it.
    for _ in 0..20 {
        t.keys("BSpace");
    }
    t.run(&["send-keys", "-t", "main", "-l", "billing-3"]);
    t.keys("Enter");
    let xclaim = format!("XCLAIM orders billing billing-3 0 {first}");
    t.wait("the claim confirmation", WAIT, |s| {
        s.contains(&xclaim) && s.contains("billing-3 is not a consumer of billing yet")
    });
    t.keys("y");
    until(&mut conn, "the entry owned by billing-3", async |c| {
        let v = raw(c, &["XPENDING", "orders", "billing", "-", "+", "1"]).await;
        parse_pending_range(&v).expect("XPENDING")[0].consumer == "billing-3"
    })
    .await;

    // S: the prompt holds the group's id; replaced by 0, confirmed by name.
    t.keys("S");
    t.wait("the SETID prompt", WAIT, |s| {
        s.contains("XGROUP SETID billing to which id")
    });
    for _ in 0..40 {
        t.keys("BSpace");
    }
    t.run(&["send-keys", "-t", "main", "-l", "0"]);
    t.keys("Enter");
    t.wait("the SETID confirmation", WAIT, |s| {
        s.contains("XGROUP SETID orders billing 0") && s.contains("type the stream's name")
    });
    assert_eq!(
        last_delivered(&mut conn).await,
        Some(ids[14]),
        "not sent yet"
    );
    t.run(&["send-keys", "-t", "main", "-l", "orders"]);
    t.keys("Enter");
    until(&mut conn, "billing moved back to 0-0", async |c| {
        last_delivered(c).await == Some(EntryId::ZERO)
    })
    .await;
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    for sent in [xclaim.as_str(), "XGROUP SETID orders billing 0"] {
        assert!(logged.contains(sent), "'{sent}' not in the log:\n{logged}");
    }
}

async fn last_delivered(conn: &mut Conn) -> Option<EntryId> {
    let v = raw(conn, &["XINFO", "GROUPS", "orders"]).await;
    parse_groups(&v).expect("groups")[0].last_delivered_id
}
