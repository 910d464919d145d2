//! Redis Sentinel without load, against real sentinels (tests/common/
//! sentinel.rs): every command finds the master through them; `info`
//! names it ("sentinel" in JSON); "no sentinel answers" (exit 3) is told
//! apart from "the sentinels do not know this master" (exit 2); the
//! sentinels' password is their own and never printed; a master demoted
//! under a connection is left for the one the sentinels name (READONLY,
//! then ROLE); `watch`'s header names the master and follows a failover.

mod common;
#[path = "common/sentinel.rs"]
mod sentinel;
#[path = "common/tmux.rs"]
#[expect(
    dead_code,
    reason = "the watch test reads the screen and sends no keys"
)]
mod tmux;

use std::time::Duration;

use common::standalone::free_port;
use common::{BinOutput, run_bin, unique};
use sentinel::{Auth, MASTER, SentinelSet};
use streamlab::redis::{RedisFailure, xadd_batch, xlen};

const WAIT: Duration = Duration::from_secs(30);

fn error_line(out: &BinOutput) -> String {
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {}", out.stderr);
    assert!(lines[0].starts_with("error: "), "{}", out.stderr);
    lines[0].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_finds_the_master_and_errors_say_which_half_is_wrong() {
    let set = SentinelSet::start();
    let stream = unique("through");
    let args = set.args();
    let out = run_bin(
        &format!("{args} --stream {stream} --group g produce --count 20"),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    let mut conn = common::connector(&set.master.url()).conn("check");
    assert_eq!(xlen(&mut conn, &stream).await.unwrap(), 20);

    let out = run_bin(&format!("{args} info --json"), &[], WAIT).await;
    assert!(out.success(), "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let master = format!("127.0.0.1:{}", set.master.port);
    assert_eq!(json["sentinel"]["master"], MASTER);
    assert_eq!(json["sentinel"]["address"], master.as_str());
    assert_eq!(
        json["sentinel"]["sentinels"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(json["url"], format!("redis://{master}"));
    let out = run_bin(&format!("{args} info"), &[], WAIT).await;
    assert!(
        out.stdout
            .contains(&format!("sentinel  {MASTER} → {master}")),
        "{}",
        out.stdout
    );

    // The sentinels answer, but know no such master: a setting, exit 2,
    // naming the masters they do know.
    let wrong = format!("--sentinel {} --sentinel-master nosuch info", set.list());
    let out = run_bin(&wrong, &[], WAIT).await;
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    let error = error_line(&out);
    assert!(
        error.contains("do not know a master named 'nosuch'"),
        "{error}"
    );
    assert!(
        error.contains(&format!("they monitor: {MASTER}")),
        "{error}"
    );

    // Nothing answers at any address given: exit 3.
    let (a, b) = (free_port().unwrap(), free_port().unwrap());
    let none = format!("--sentinel 127.0.0.1:{a},127.0.0.1:{b} --sentinel-master {MASTER} info");
    let out = run_bin(&none, &[], WAIT).await;
    assert_eq!(out.status.code(), Some(3), "{}", out.stderr);
    let error = error_line(&out);
    assert!(error.contains("no sentinel answers"), "{error}");
    assert!(error.contains(&format!("127.0.0.1:{a}")), "{error}");

    // A data node given as a sentinel does not answer as one.
    let node = format!(
        "--sentinel 127.0.0.1:{} --sentinel-master {MASTER} info",
        set.master.port
    );
    let out = run_bin(&node, &[], WAIT).await;
    assert_eq!(out.status.code(), Some(3), "{}", out.stderr);
    assert!(
        error_line(&out).contains("not a sentinel"),
        "{}",
        out.stderr
    );

    // One dead sentinel first in the list: the next one answers.
    let first_dead = format!(
        "--sentinel 127.0.0.1:{a},{} --sentinel-master {MASTER} info --json",
        set.list()
    );
    let out = run_bin(&first_dead, &[], WAIT).await;
    assert!(out.success(), "{}", out.stderr);

    // Half a setting, or both Sentinel and Cluster: exit 2, nothing asked.
    for (line, says) in [
        (
            format!("--sentinel {} info", set.list()),
            "REDIS_SENTINEL_MASTER is not",
        ),
        (
            format!("--sentinel-master {MASTER} info"),
            "REDIS_SENTINEL is not",
        ),
        (format!("{args} --cluster true info"), "REDIS_CLUSTER=true"),
        (
            format!("--sentinel 127.0.0.1:x --sentinel-master {MASTER} info"),
            "REDIS_SENTINEL entry '127.0.0.1:x'",
        ),
    ] {
        let out = run_bin(&line, &[], WAIT).await;
        assert_eq!(out.status.code(), Some(2), "{line}: {}", out.stderr);
        assert!(error_line(&out).contains(says), "{line}: {}", out.stderr);
    }
}

const AUTH: Auth = Auth {
    data: "Data-node-pw-2",
    sentinel: "Sentinel-pw-5",
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sentinels_password_is_their_own_and_never_printed() {
    let set = SentinelSet::start_with(Some(AUTH), &[]);
    let stream = unique("secret");
    let line = format!("{} --stream {stream} produce --count 5", set.args());
    let out = run_bin(&line, &set.env(), WAIT).await;
    assert!(out.success(), "{}", out.stderr);

    let wrong_sentinel = [
        ("REDIS_PASSWORD", AUTH.data),
        ("REDIS_SENTINEL_PASSWORD", "Not-the-pw-7"),
    ];
    let out = run_bin(&line, &wrong_sentinel, WAIT).await;
    assert_eq!(out.status.code(), Some(3), "{}", out.stderr);
    let error = error_line(&out);
    assert!(error.contains("the sentinels refused"), "{error}");
    assert!(error.contains("REDIS_SENTINEL_PASSWORD"), "{error}");

    // The data nodes' password alone: the sentinels want theirs.
    let out = run_bin(&line, &[("REDIS_PASSWORD", AUTH.data)], WAIT).await;
    assert_eq!(out.status.code(), Some(3), "{}", out.stderr);
    assert!(
        error_line(&out).contains("REDIS_SENTINEL_PASSWORD"),
        "{}",
        out.stderr
    );

    // The sentinels' password alone: the master refuses.
    let out = run_bin(&line, &[("REDIS_SENTINEL_PASSWORD", AUTH.sentinel)], WAIT).await;
    assert_eq!(out.status.code(), Some(3), "{}", out.stderr);

    let info = format!("{} info --json", set.args());
    let out = run_bin(&info, &set.env(), WAIT).await;
    assert!(out.success(), "{}", out.stderr);
    for pw in [AUTH.data, AUTH.sentinel, "Not-the-pw-7"] {
        for (what, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(!text.contains(pw), "{what} shows a password: {text}");
        }
    }
    let with_log = tempfile::tempdir().unwrap();
    let log = with_log.path().join("streamlab.log");
    let logged = format!("{} --log-file {} info", set.args(), log.display());
    let mut env = wrong_sentinel.to_vec();
    env.push(("STREAMLAB_LOG", "debug"));
    assert_eq!(run_bin(&logged, &env, WAIT).await.status.code(), Some(3));
    let mut env = set.env();
    env.push(("STREAMLAB_LOG", "debug"));
    assert!(run_bin(&logged, &env, WAIT).await.success());
    let written = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!written.is_empty(), "the log was written");
    assert!(written.contains("asked for the master"), "{written}");
    for pw in [AUTH.data, AUTH.sentinel, "Not-the-pw-7"] {
        assert!(!written.contains(pw), "the log shows a password");
    }
}

/// A master demoted under an open connection (REPLICAOF by hand, before
/// the sentinels know): the next write meets READONLY, the connection asks
/// the sentinels again, dials the master they still name, finds it a
/// replica (ROLE) and reports a connection error to retry on, with
/// nothing written anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demoted_master_is_left_for_the_one_the_sentinels_name() {
    let set = SentinelSet::start();
    let connector = set.connector();
    let mut conn = connector.conn("writer");
    let stream = unique("demoted");
    let fields = vec![vec![("kind", b"x".to_vec())]];
    xadd_batch(&mut conn, &stream, None, &fields)
        .await
        .expect("a write at the master");
    let replica = set.replica.port.to_string();
    set.on_node(set.master.port, &["REPLICAOF", "127.0.0.1", &replica])
        .expect("REPLICAOF");
    let refused = xadd_batch(&mut conn, &stream, None, &fields).await;
    let Err(RedisFailure::Connection(why)) = refused else {
        panic!("a connection error to retry on, not {refused:?}");
    };
    assert!(
        why.contains("slave now") || why.contains("replica"),
        "{why}"
    );
    assert!(why.contains("failover"), "{why}");
    let mut check = common::connector(&set.replica.url()).conn("check");
    assert_eq!(xlen(&mut check, &stream).await.unwrap(), 1);
}

/// `watch` through the sentinels: the header says `sentinel <name> →
/// host:port`, and after `SENTINEL FAILOVER` the new master, with a
/// `failover` line in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_names_the_master_and_follows_a_failover() {
    let set = SentinelSet::start();
    let stream = unique("watched");
    let out = run_bin(
        &format!(
            "{} --stream {stream} --group g produce --count 5",
            set.args()
        ),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    let mut args: Vec<String> = set.args().split(' ').map(str::to_owned).collect();
    args.extend(["--stream".into(), stream.clone(), "watch".into()]);
    let line = common::screen_line(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let t = tmux::Tmux::start(&line, 200, 50);
    let before = format!("sentinel {MASTER} → 127.0.0.1:{}", set.master.port);
    t.wait("the header to name the master", WAIT, |s| {
        s.contains(&before)
    });
    let started = std::time::Instant::now();
    let to = set.failover();
    let after = format!("sentinel {MASTER} → 127.0.0.1:{to}");
    let screen = t.wait("the header to follow the failover", WAIT, |s| {
        s.contains(&after) && s.contains("failover")
    });
    eprintln!(
        "watch followed the failover {:.1} s after SENTINEL FAILOVER",
        started.elapsed().as_secs_f64()
    );
    assert!(screen.contains(&format!("to 127.0.0.1:{to}")), "{screen}");
    assert!(!screen.contains("EXITED"), "{screen}");
}
