//! The lab's scenarios (`streamlab --scenario NAME`, and `z` in the lab)
//! in tmux against a private redis-server: each reaches the outcome it
//! promises on screen within 30 s.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::{server, unique};
use tmux::Tmux;

/// What each scenario promises to show within.
const WITHIN: Duration = Duration::from_secs(30);

fn lab(url: &str, stream: &str, log: &std::path::Path, extra: &[&str]) -> Tmux {
    let log = log.display().to_string();
    let mut args = vec!["--url", url, "--stream", stream, "--log-file", &log];
    args.extend(extra);
    Tmux::start(&common::screen_line(&args), 160, 48)
}

/// The cells of `name`'s row in the consumers pane.
fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|line| {
        line.trim_start_matches(['┃', '│', ' '])
            .split_whitespace()
            .next()
            == Some(name)
    })
}

fn quit(t: &Tmux) {
    t.keys("q");
    t.wait("a clean exit", WITHIN, |s| s.contains("EXITED 0"));
}

/// `z`, then the name: the same as `--scenario crash`.
#[tokio::test]
async fn crash_a_killed_workers_entries_are_reclaimed_by_another() {
    let redis = server();
    let dir = tempfile::tempdir().unwrap();
    let t = lab(&redis.url(), &unique("crash"), &dir.path().join("log"), &[]);
    t.wait("the lab is up", WITHIN, |s| {
        s.contains("● connected") && row(s, "w1").is_some()
    });
    t.keys("z");
    t.wait("the scenario prompt", WITHIN, |s| {
        s.contains("Start which scenario?")
    });
    t.run(&["send-keys", "-t", "main", "-l", "crash"]);
    t.keys("Enter");
    t.wait("it says what to watch", WITHIN, |s| {
        s.contains("scenario crash (group scenario-crash)")
    });
    let screen = t.wait("crash-2 reclaims crash-1's entries", WITHIN, |s| {
        s.contains("crash-2 reclaimed") && s.contains("from crash-1")
    });
    assert!(screen.contains("crash-1 crashed"), "{screen}");
    assert!(
        row(&screen, "crash-1").is_some_and(|r| r.contains("killed")),
        "{screen}"
    );
    quit(&t);
}

#[tokio::test]
async fn poison_climbs_to_the_dead_letter_limit_with_its_marker() {
    let redis = server();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let t = lab(
        &redis.url(),
        &unique("poison"),
        &log,
        &["--scenario", "poison"],
    );
    t.wait("the PEL marks it poison", WITHIN, |s| {
        s.lines()
            .any(|l| l.contains("poison-") && l.contains(" poison "))
            && s.contains("1 poison")
    });
    t.wait("the crossing is logged", WITHIN, |s| {
        s.contains("delivered 3 times")
    });
    t.wait("it is dead-lettered", WITHIN, |s| {
        s.contains("dead-lettered") && s.contains("after 5 deliveries")
    });
    quit(&t);
}

#[tokio::test]
async fn stall_a_hung_worker_is_diagnosed_stalled_then_reclaimed() {
    let redis = server();
    let dir = tempfile::tempdir().unwrap();
    let t = lab(
        &redis.url(),
        &unique("stall"),
        &dir.path().join("log"),
        &["--scenario", "stall"],
    );
    t.wait("stall-1 is stalled", WITHIN, |s| {
        row(s, "stall-1").is_some_and(|r| r.contains("stalled")) && s.contains("⚠ 1 stalled")
    });
    t.wait("stall-2 reclaims its entries", WITHIN, |s| {
        s.contains("stall-2 reclaimed 10 from stall-1")
    });
    quit(&t);
}

#[tokio::test]
async fn leak_a_worker_that_never_retries_is_leaking() {
    let redis = server();
    let dir = tempfile::tempdir().unwrap();
    let t = lab(
        &redis.url(),
        &unique("leak"),
        &dir.path().join("log"),
        &["--scenario", "leak"],
    );
    let screen = t.wait("leak-1 is leaking", WITHIN, |s| {
        row(s, "leak-1").is_some_and(|r| r.contains("leaking"))
    });
    assert!(screen.contains("production on"), "{screen}");
    quit(&t);
}

/// The cell under `heading` in the `workers` row of the groups pane.
fn cell(screen: &str, heading: &str, width: usize) -> Option<String> {
    let head = screen.lines().find(|l| l.contains("clears in"))?;
    let at = head.find(heading)?;
    let line = screen
        .lines()
        .find(|l| l.trim_start_matches(['│', ' ']).starts_with("workers "))?;
    let cell: String = line
        .chars()
        .skip(head[..at].chars().count())
        .take(width)
        .collect();
    Some(cell.trim().to_owned())
}

/// Seconds in an age cell (`4.2s`, `37s`, `1m05s`); 0 for `none` or ms.
fn secs(age: &str) -> f64 {
    if age.ends_with("ms") {
        return 0.0;
    }
    if let Some((m, s)) = age.split_once('m') {
        let s = s.trim_end_matches('s');
        return m.parse::<f64>().unwrap_or(0.0) * 60.0 + s.parse::<f64>().unwrap_or(0.0);
    }
    age.strip_suffix('s')
        .map_or(0.0, |n| n.parse().unwrap_or(0.0))
}

/// Growing: `clears in` says by how much (Redis 7.0+); where Redis does not
/// report the lag (6.2) the time lag grows instead.
fn growing(s: &str) -> bool {
    match cell(s, "clears in", 10) {
        // A backlog that has been growing for seconds, not a first sample.
        Some(c) if c.starts_with('+') => cell(s, "lag", 9)
            .and_then(|l| l.replace(',', "").parse::<u64>().ok())
            .is_some_and(|l| l >= 100),
        Some(c) if c.starts_with("unknown") => {
            cell(s, "time lag", 8).is_some_and(|t| secs(&t) >= 3.0)
        }
        _ => false,
    }
}

fn clearing(s: &str) -> bool {
    match cell(s, "clears in", 10) {
        Some(c) if c.starts_with("unknown") => {
            cell(s, "time lag", 8).is_some_and(|t| secs(&t) < 1.0)
        }
        Some(c) => c == "clear" || (c.ends_with('s') && !c.starts_with('+')),
        None => false,
    }
}

#[tokio::test]
async fn backlog_grows_until_w_adds_workers() {
    let redis = server();
    let dir = tempfile::tempdir().unwrap();
    let extra = ["--scenario", "backlog"];
    let t = lab(
        &redis.url(),
        &unique("backlog"),
        &dir.path().join("log"),
        &extra,
    );
    t.wait("the backlog grows", WITHIN, growing);
    for _ in 0..4 {
        t.keys("w");
    }
    let screen = t.wait("it clears", WITHIN, clearing);
    assert!(row(&screen, "w7").is_some(), "{screen}");
    quit(&t);
}
