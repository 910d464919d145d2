//! `streamlab watch` is read-only: driven in tmux as a read-only ACL user
//! (`+@read +@connection +info -@write`) from its overview of every stream
//! into a foreign `orders` stream whose `billing` group another team
//! serves, every key of the keymap is pressed on both screens,
//! and the server's own INFO commandstats (reset just before) shows that no
//! writing command reached it, none was refused and none failed.

mod common;
#[path = "common/keys.rs"]
mod keys;
#[path = "common/keyspace.rs"]
mod keyspace;
#[path = "common/stats.rs"]
mod stats;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::{connector, raw, raw_line, server};
use keys::{clean, press_every_overview_key, press_every_stream_key};
use stats::{READ_ONLY_RULES, acl_user, assert_read_only, command_stats, is_write_command};
use streamlab::redis::Conn;
use tmux::Tmux;

const WAIT: Duration = Duration::from_secs(10);
/// What the group looks like to Redis (consumers, pending, entries-read).
async fn billing(conn: &mut Conn) -> String {
    let groups = raw(conn, &["XINFO", "GROUPS", "orders"]).await;
    let consumers = raw(conn, &["XINFO", "CONSUMERS", "orders", "billing"]).await;
    let names: Vec<String> = streamlab::redis::parse_consumers(&consumers)
        .expect("consumers")
        .into_iter()
        .map(|c| format!("{}:{}", c.name, c.pending))
        .collect();
    format!("{:?} {names:?}", streamlab::redis::parse_groups(&groups))
}

fn watch_args(url: &str, log: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let log = log.display().to_string();
    let mut args = vec!["watch", "--url", url, "--log-file", &log];
    args.extend(extra);
    common::screen_line(&args)
}

#[tokio::test]
async fn watch_as_a_read_only_user_writes_nothing_while_every_key_is_pressed() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    keyspace::build(&mut admin, 40, 40).await;
    keyspace::orders(&mut admin).await;
    acl_user(&mut admin, "watcher", "w4tch", READ_ONLY_RULES).await;
    let before = billing(&mut admin).await;
    let url = format!("redis://watcher:w4tch@127.0.0.1:{}", redis.port);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    raw_line(&mut admin, "CONFIG RESETSTAT").await;
    let t = Tmux::start(&watch_args(&url, &log, &[]), 160, 48);
    let first = clean(
        t.wait("the overview lists orders", Duration::from_secs(20), |s| {
            s.contains("● connected") && s.contains("orders ") && s.contains("stream:00000")
        }),
    );
    let server_name = streamlab::redis::server::probe(&mut admin).await.unwrap();
    let header = first.lines().next().unwrap_or_default();
    assert!(header.contains(&format!("({server_name})")), "{first}");
    press_every_overview_key(&t);
    clean(t.wait("orders opens with billing's PEL", WAIT, |s| {
        s.contains("Pending in billing: 5") && s.contains("billing-1 ")
    }));
    press_every_stream_key(&t);
    t.keys("Escape");
    clean(t.wait("Esc goes back to every stream", WAIT, |s| {
        s.contains("Streams matching")
    }));
    t.keys("q");
    let end = t.wait("a clean exit", WAIT, |s| s.contains("EXITED"));
    assert!(end.contains("EXITED 0"), "{end}");

    let stats = command_stats(&mut admin).await;
    assert!(
        stats
            .iter()
            .any(|s| s.name == "xinfo|groups" && s.calls > 0),
        "the watch polled: {stats:?}"
    );
    assert_read_only(&mut admin, &stats).await;
    assert_eq!(billing(&mut admin).await, before, "the group is untouched");
    let offsets = raw(
        &mut admin,
        &["SCAN", "0", "MATCH", "orders:offset:*", "COUNT", "10000"],
    )
    .await;
    assert!(
        !format!("{offsets:?}").contains("orders:offset"),
        "{offsets:?}"
    );
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!logged.contains("NOPERM"), "{logged}");
}

/// A user who may not even name its connection: CLIENT SETNAME is sent,
/// refused, and the watch carries on without a word about it on screen.
#[tokio::test]
async fn a_refused_client_setname_degrades_quietly() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    keyspace::orders(&mut admin).await;
    let rules = format!("{READ_ONLY_RULES} -client|setname");
    acl_user(&mut admin, "anon", "n0name", &rules).await;
    let url = format!("redis://anon:n0name@127.0.0.1:{}", redis.port);
    let dir = tempfile::tempdir().unwrap();
    raw_line(&mut admin, "CONFIG RESETSTAT").await;
    let args = watch_args(&url, &dir.path().join("log"), &["--stream", "orders"]);
    let t = Tmux::start(&args, 160, 48);
    clean(
        t.wait("the watch shows billing", Duration::from_secs(20), |s| {
            s.contains("● connected") && s.contains("Pending in billing: 5")
        }),
    );
    let stats = command_stats(&mut admin).await;
    let setname = stats.iter().find(|s| s.name == "client|setname");
    assert!(
        setname.is_some_and(|s| s.rejected > 0),
        "CLIENT SETNAME was sent and refused: {stats:?}"
    );
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
}

/// The read-only connector refuses a writing command even when its call
/// site marks it as a read: it is not on the read-only list, so it is
/// never sent.
#[tokio::test]
async fn a_read_only_connector_refuses_an_unlisted_command_before_sending_it() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    raw_line(&mut admin, "CONFIG RESETSTAT").await;
    let mut ro = connector(&redis.url()).read_only().conn("ro");
    let set = ::redis::cmd("SET").arg("k").arg("v").clone();
    let err = ro.run(&set, "SET", false).await.expect_err("refused");
    assert!(err.to_string().contains("not sent"), "{err}");
    let mut pipe = ::redis::pipe();
    pipe.cmd("XLEN").arg("k").cmd("DEL").arg("k");
    assert!(ro.run_pipeline(&pipe, "XLEN", false, 2).await.is_err());
    // Reads pass.
    let len = ro.run(::redis::cmd("XLEN").arg("k"), "XLEN", false).await;
    assert!(len.is_ok(), "{len:?}");
    let stats = command_stats(&mut admin).await;
    let names: Vec<&str> = stats.iter().map(|s| s.name.as_str()).collect();
    assert!(
        !names.contains(&"set") && !names.contains(&"del"),
        "{names:?}"
    );
    let exists = raw(&mut admin, &["EXISTS", "k"]).await;
    assert_eq!(streamlab::redis::reply::count(&exists), Some(0));
}

/// The zero-writes check above can fail: Redis flags what writes.
#[tokio::test]
async fn redis_flags_the_commands_that_write() {
    let redis = server();
    let mut conn = connector(&redis.url()).conn("flags");
    for name in ["xack", "xreadgroup", "set", "xgroup|create", "xtrim"] {
        assert!(is_write_command(&mut conn, name).await, "{name}");
    }
    for name in ["xinfo|groups", "xpending", "scan", "client|setname", "info"] {
        assert!(!is_write_command(&mut conn, name).await, "{name}");
    }
}

/// Every group of a stream is selectable, past the poll's detail cap (16)
/// too: the consumers and the PEL follow the selection, and a group with a
/// backlog and no acks says so where the clearing estimate goes.
#[tokio::test]
async fn every_group_is_selectable_and_the_panes_follow_it() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    common::add_tasks(&mut admin, "jobs", 10).await;
    for g in 0..20 {
        let group = format!("g{g:02}");
        raw(&mut admin, &["XGROUP", "CREATE", "jobs", &group, "0"]).await;
        let consumer = format!("c{g:02}");
        common::read_without_ack(&mut admin, "jobs", &group, &consumer, g % 5 + 1).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let args = watch_args(&redis.url(), &dir.path().join("log"), &["--stream", "jobs"]);
    let t = Tmux::start(&args, 160, 48);
    clean(
        t.wait("the first group's PEL", Duration::from_secs(20), |s| {
            s.contains("Pending in g00: 1") && s.contains("c00 ")
        }),
    );
    t.keys("BTab");
    t.wait("focus on the groups", WAIT, |s| s.contains("┏ Groups"));
    t.run(&["send-keys", "-t", "main", "-l", &"j".repeat(19)]);
    clean(t.wait("the last group's consumers and PEL", WAIT, |s| {
        s.contains("Pending in g19: 5") && s.contains("Consumers of g19") && s.contains("c19 ")
    }));
    t.wait("no acks where the backlog would clear", WAIT, |s| {
        s.contains("no acks")
    });
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
}

/// An ACL user limited to `~orders*`: a stream it may not read is said to
/// be refused, with the rule to add, everywhere (overview, `monitor --all`,
/// the stream screen: never "no consumer groups"), and asked again at
/// most once a minute, not every poll.
#[tokio::test]
async fn a_key_the_acl_refuses_is_said_so_and_asked_rarely() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    keyspace::orders(&mut admin).await;
    common::add_tasks(&mut admin, "payments", 3).await;
    raw(&mut admin, &["XGROUP", "CREATE", "payments", "ledger", "0"]).await;
    acl_user(
        &mut admin,
        "orders-team",
        "0rders",
        "+@read +@connection +info -@write",
    )
    .await;
    raw(
        &mut admin,
        &["ACL", "SETUSER", "orders-team", "resetkeys", "~orders*"],
    )
    .await;
    let url = format!("redis://orders-team:0rders@127.0.0.1:{}", redis.port);
    raw_line(&mut admin, "CONFIG RESETSTAT").await;
    raw_line(&mut admin, "ACL LOG RESET").await;

    let text = common::run_bin(&format!("monitor --all --once --url {url}"), &[], WAIT).await;
    assert!(text.success(), "{}", text.stderr);
    let line = text
        .stdout
        .lines()
        .find(|l| l.starts_with("payments:"))
        .unwrap_or_default();
    assert!(
        line.contains("refused by the ACL") && line.contains("%R~payments"),
        "{}",
        text.stdout
    );

    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(&watch_args(&url, &dir.path().join("log"), &[]), 160, 48);
    t.wait("the overview lists both", Duration::from_secs(20), |s| {
        s.contains("orders ") && s.contains("payments")
    });
    // Polled every 200 ms for 4 s: the refused key is asked once.
    std::thread::sleep(Duration::from_secs(4));
    let refused = |stats: &[stats::CommandStat]| {
        stats
            .iter()
            .find(|s| s.name == "xinfo|stream")
            .map_or(0, |s| s.rejected)
    };
    let before = refused(&command_stats(&mut admin).await);
    assert!(
        (1..=2).contains(&before),
        "rejected XINFO STREAM calls: {before}"
    );
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));

    let stream = watch_args(&url, &dir.path().join("log2"), &["--stream", "payments"]);
    let t = Tmux::start(&stream, 160, 48);
    let screen = t.wait(
        "the stream screen says it is refused",
        Duration::from_secs(20),
        |s| s.contains("cannot read 'payments'"),
    );
    assert!(
        !screen.contains("no consumer groups on this stream"),
        "{screen}"
    );
    assert!(screen.contains("%R~payments"), "{screen}");
    let first = refusals(&mut admin).await;
    // Polled every 200 ms for 3 s more: no refusal added to the ACL LOG.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        refusals(&mut admin).await,
        first,
        "the refused stream was asked again"
    );
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
}

/// Refusals in the server's ACL LOG (it groups repeats of one refusal into
/// one entry with a count).
async fn refusals(admin: &mut Conn) -> u64 {
    let log = raw(admin, &["ACL", "LOG"]).await;
    streamlab::redis::reply::items(&log)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            let t = streamlab::redis::reply::table(e)?;
            streamlab::redis::reply::count(t.get("count")?)
        })
        .sum()
}
