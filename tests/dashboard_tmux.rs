//! The real dashboard binary in tmux against a private redis-server:
//! driven by `tmux send-keys`, read by `tmux capture-pane -p`. Every wait
//! is a condition with a deadline; the tmux server is killed on drop.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::{Duration, Instant};

use common::{raw, server, unique};
use streamlab::redis::reply::{count, items};
use tmux::Tmux;

/// The pending count in `name`'s row of the consumers pane.
fn pending_of(screen: &str, name: &str) -> Option<u64> {
    screen.lines().find_map(|line| {
        let inner = line.trim_start_matches(['┃', '│', ' ']);
        let mut tokens = inner.split_whitespace();
        (tokens.next() == Some(name))
            .then(|| tokens.next()?.replace(',', "").parse().ok())
            .flatten()
    })
}

fn stream_length(screen: &str) -> Option<u64> {
    let rest = screen.split("length ").nth(1)?;
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn dashboard(url: &str, key: &str, log: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let log = log.display().to_string();
    let mut args = vec!["--url", url, "--stream", key, "--log-file", &log];
    args.extend(extra);
    common::screen_line(&args)
}

const MIN_IDLE: Duration = Duration::from_secs(3);
const CLAIM_EVERY: Duration = Duration::from_millis(300);
/// Polling, drawing and capturing on a busy machine.
const SLACK: Duration = Duration::from_secs(2);

/// One slow worker that reads whole bursts, so it holds many entries.
const SLOW_LAB: [&str; 10] = [
    "--workers",
    "1",
    "--read-count",
    "100",
    "--dashboard-work-ms",
    "1000",
    "--min-idle",
    "3s",
    "--claim-every",
    "300ms",
];

#[tokio::test]
async fn enqueue_spawn_and_kill_recovers_the_killed_workers_entries() {
    let redis = server();
    let key = unique("dash");
    let dir = tempfile::tempdir().unwrap();
    let args = dashboard(&redis.url(), &key, &dir.path().join("log"), &SLOW_LAB);
    let t = Tmux::start(&args, 140, 45);
    let mut conn = common::connector(&redis.url()).conn("test");
    // The header names the server as probed: `Redis 7.0.15`, `Valkey 9.1.2`.
    let server = streamlab::redis::server::probe(&mut conn).await.unwrap();
    t.wait(
        "the dashboard is up with w1, naming the server",
        Duration::from_secs(20),
        |s| {
            s.contains("● connected")
                && pending_of(s, "w1").is_some()
                && s.contains(&format!("({server})"))
        },
    );
    burst_raises_the_length(&t, &mut conn, &key).await;
    w_adds_a_consumer(&t, &mut conn, &key).await;
    kill_moves_entries_to_another_consumer(&t, &mut conn, &key).await;
}

async fn burst_raises_the_length(t: &Tmux, conn: &mut streamlab::redis::Conn, key: &str) {
    t.keys("P");
    t.wait(
        "P makes the stream length rise",
        Duration::from_secs(10),
        |s| stream_length(s).is_some_and(|n| n >= 100),
    );
    assert!(count(&raw(conn, &["XLEN", key]).await).is_some_and(|n| n >= 100));
    // w1 takes one entry, then (a second later) the other 99 in one read.
    t.wait("w1 holds pending entries", Duration::from_secs(10), |s| {
        pending_of(s, "w1").is_some_and(|n| n >= 50)
    });
}

async fn w_adds_a_consumer(t: &Tmux, conn: &mut streamlab::redis::Conn, key: &str) {
    t.keys("w");
    t.wait("w adds a consumer", Duration::from_secs(10), |s| {
        pending_of(s, "w2").is_some()
    });
    let consumers = raw(conn, &["XINFO", "CONSUMERS", key, "workers"]).await;
    let n = items(&consumers).map(<[_]>::len);
    assert_eq!(n, Some(2), "Redis lists w2 too");
}

async fn kill_moves_entries_to_another_consumer(
    t: &Tmux,
    conn: &mut streamlab::redis::Conn,
    key: &str,
) {
    // w1 is the first row, selected by default: kill it mid-task.
    let killed = Instant::now();
    t.keys("x");
    t.wait("w1 shown as killed", Duration::from_secs(5), |s| {
        s.contains("killed w1")
    });
    let within = MIN_IDLE + CLAIM_EVERY + SLACK;
    let screen = t.wait("a reclaim of w1's entries by w2", within, |s| {
        s.contains("w2 reclaimed") && s.contains("from w1")
    });
    assert!(killed.elapsed() <= within, "{screen}");
    t.wait(
        "the entries moved from w1 to w2",
        Duration::from_secs(5),
        |s| pending_of(s, "w1") == Some(0) && pending_of(s, "w2").is_some_and(|n| n > 0),
    );
    let summary = raw(conn, &["XPENDING", key, "workers"]).await;
    let owners = format!("{summary:?}");
    assert!(owners.contains("w2") && !owners.contains("w1"), "{owners}");
}

#[tokio::test]
async fn resizing_works_too_small_says_so_and_q_restores_the_terminal() {
    let redis = server();
    let key = unique("dash-resize");
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(
        &dashboard(
            &redis.url(),
            &key,
            &dir.path().join("log"),
            &["--workers", "1"],
        ),
        120,
        40,
    );
    t.wait("the dashboard is up", Duration::from_secs(20), |s| {
        s.contains("Consumers of workers")
    });
    t.run(&["resize-window", "-t", "main", "-x", "60", "-y", "20"]);
    t.wait("a too-small message", Duration::from_secs(5), |s| {
        s.contains("terminal too small")
    });
    t.run(&["resize-window", "-t", "main", "-x", "100", "-y", "30"]);
    t.wait("the dashboard again", Duration::from_secs(5), |s| {
        s.contains("Consumers of workers")
    });
    t.keys("q");
    let screen = t.wait("a clean exit", Duration::from_secs(10), |s| {
        s.contains("EXITED")
    });
    assert!(screen.contains("EXITED 0"), "{screen}");
    // Back on the normal screen: the dashboard's panes are gone.
    assert!(!screen.contains("Consumers of workers"), "{screen}");
}

#[tokio::test]
async fn a_stalled_redis_is_reported_while_the_screen_keeps_drawing() {
    let redis = server();
    let key = unique("dash-stall");
    let dir = tempfile::tempdir().unwrap();
    let args = dashboard(
        &redis.url(),
        &key,
        &dir.path().join("log"),
        &["--workers", "1"],
    );
    let t = Tmux::start(&args, 120, 40);
    t.wait("the dashboard is up", Duration::from_secs(20), |s| {
        s.contains("● connected")
    });
    let mut conn = common::connector(&redis.url()).conn("test");
    // Every client, the dashboard's poller included, waits 6 s for a reply.
    raw(&mut conn, &["CLIENT", "PAUSE", "6000", "ALL"]).await;
    let first = t.wait("the stall on screen", Duration::from_secs(5), |s| {
        s.contains("reconnecting") || s.contains("lost")
    });
    // The age of the data shown keeps moving: the UI is not stuck behind Redis.
    let age = |s: &str| {
        s.split("data ")
            .nth(1)
            .map(|r| r.split(' ').next().unwrap_or("").to_owned())
    };
    let before = age(&first);
    t.wait(
        "the screen redraws during the stall",
        Duration::from_secs(3),
        |s| age(s).is_some() && age(s) != before,
    );
    t.wait("recovery after the pause", Duration::from_secs(15), |s| {
        s.contains("● connected")
    });
}

/// The number in an integer reply.
async fn int_reply(conn: &mut streamlab::redis::Conn, args: &[&str]) -> u64 {
    count(&raw(conn, args).await).unwrap_or(u64::MAX)
}

/// Wait until `args` (an integer command) returns `want` in Redis itself.
async fn wait_redis(conn: &mut streamlab::redis::Conn, what: &str, args: &[&str], want: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = int_reply(conn, args).await;
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: {args:?} is {got}, want {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `d`, `a` and `t` on the real binary change what Redis holds: the
/// selected pending entry is dead-lettered (copied to `<stream>:dead`,
/// gone from the PEL), the next one is acked, and a trim to MAXLEN 2
/// (typed into the prompt, then confirmed) leaves two entries.
#[tokio::test]
async fn dead_letter_ack_and_trim_keys_reach_redis() {
    let redis = server();
    let key = unique("dash-actions");
    let dead = streamlab::engine::dead_key(&key);
    let mut conn = common::connector(&redis.url()).conn("admin");
    raw(
        &mut conn,
        &["XGROUP", "CREATE", &key, "workers", "0", "MKSTREAM"],
    )
    .await;
    common::add_tasks(&mut conn, &key, 6).await;
    // An external consumer holds three entries: the PEL on screen.
    let held = common::read_without_ack(&mut conn, &key, "workers", "ext", 3).await;
    let dir = tempfile::tempdir().unwrap();
    // The test made the stream, so it is not streamlab's: --lab opts in.
    let args = dashboard(
        &redis.url(),
        &key,
        &dir.path().join("log"),
        &["--workers", "0", "--lab"],
    );
    let t = Tmux::start(&args, 140, 45);
    t.wait("the PEL on screen", Duration::from_secs(20), |s| {
        s.contains("Pending in workers: 3")
    });
    // The page's rows come with a later poll than the totals: act only
    // once a row is on screen (the middle id shows nowhere else).
    let middle = held[1].to_string();
    t.wait("the PEL rows on screen", Duration::from_secs(20), |s| {
        s.contains(&middle)
    });
    t.keys("Tab");
    t.wait("focus on the PEL", Duration::from_secs(5), |s| {
        s.contains("┏ Pending in workers")
    });
    t.keys("d");
    t.wait("a dead-letter confirmation", Duration::from_secs(5), |s| {
        s.contains("Dead-letter") && s.contains("y confirms")
    });
    t.keys("y");
    wait_redis(&mut conn, "one dead letter", &["XLEN", &dead], 1).await;
    // The dead-lettered entry stays in the stream (the Stream pane's
    // "first") and in the event log, but its PEL row (owned by `ext`)
    // must go: wait for the page to drop it.
    let first = held[0].to_string();
    t.wait(
        "the PEL page shrinks on screen",
        Duration::from_secs(10),
        |s| {
            s.contains("Pending in workers: 2")
                && !s
                    .lines()
                    .any(|l| l.contains(first.as_str()) && l.contains("ext"))
        },
    );
    t.keys("a");
    t.wait("an ack confirmation", Duration::from_secs(5), |s| {
        s.contains("y confirms")
    });
    t.keys("y");
    t.wait("the ack shows on screen", Duration::from_secs(10), |s| {
        s.contains("Pending in workers: 1")
    });
    let summary = raw(&mut conn, &["XPENDING", &key, "workers"]).await;
    assert_eq!(
        items(&summary).and_then(|p| p.first()).and_then(count),
        Some(1)
    );
    t.keys("t");
    t.wait("the MAXLEN prompt", Duration::from_secs(5), |s| {
        s.to_ascii_lowercase().contains("maxlen")
    });
    t.keys("2");
    t.keys("Enter");
    // A trim loses data: it is confirmed by typing the stream's name.
    t.wait("a trim confirmation", Duration::from_secs(5), |s| {
        s.contains("type the stream's name")
    });
    t.run(&["send-keys", "-t", "main", "-l", &key]);
    t.keys("Enter");
    wait_redis(&mut conn, "trimmed to 2", &["XLEN", &key], 2).await;
    t.keys("q");
    t.wait("a clean exit", Duration::from_secs(10), |s| {
        s.contains("EXITED 0")
    });
}

/// A panic inside the dashboard (the test build's `STREAMLAB_TEST_PANIC`,
/// right after the first frame, its message holding the password): the
/// terminal is given back first (the normal screen, not the alternate
/// one), then color-eyre's report names the log file, and neither the
/// screen nor the log shows the password.
#[tokio::test]
async fn a_panic_gives_the_terminal_back_then_reports_the_log_file_without_the_password() {
    let password = "Pz7-p@nic";
    let redis = common::server_with(common::standalone::ServerOptions {
        extra: vec!["--requirepass".into(), password.into()],
        ..Default::default()
    });
    let url = format!("redis://default:{password}@127.0.0.1:{}", redis.port);
    let key = unique("dash-panic");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("panic.log");
    let panic_message = format!("STREAMLAB_TEST_PANIC=lost {url}");
    let mut args: Vec<String> = ["env", "-u", "RUST_BACKTRACE", &panic_message]
        .iter()
        .map(ToString::to_string)
        .collect();
    args.extend(dashboard(&url, &key, &log, &["--workers", "1"]));
    let t = Tmux::start(&args, 160, 45);
    let screen = t.wait("the process to end", Duration::from_secs(20), |s| {
        s.contains("EXITED")
    });
    assert!(
        screen.contains("EXITED 101"),
        "a panic's exit code:\n{screen}"
    );
    let alternate = t.run(&["display-message", "-p", "-t", "main", "#{alternate_on}"]);
    assert_eq!(
        alternate.trim(),
        "0",
        "left the alternate screen:\n{screen}"
    );
    assert!(
        !screen.contains("Consumers of workers") && !screen.contains("Events (newest"),
        "no dashboard pane left on the normal screen:\n{screen}"
    );
    assert!(screen.contains("The application panicked"), "{screen}");
    assert!(
        screen.contains("Message:  lost redis://default:***@"),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("Log file: {}", log.display())),
        "the report names the log file:\n{screen}"
    );
    assert!(
        !screen.contains("Pz7-p"),
        "the password on screen:\n{screen}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("The application panicked"), "{logged}");
    assert!(
        !logged.contains("Pz7-p"),
        "the password in the log:\n{logged}"
    );
    assert!(!logged.contains('\u{1b}'), "no colour codes in the log");
}
