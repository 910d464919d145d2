//! The dashboard in tmux names the server and its health: `streamlab
//! watch` on a Redis that is out of memory (maxmemory + noeviction, filled
//! until XADD is refused) says so in the header, `i` shows the advice, and
//! once memory is freed the header clears by itself; a lab on a server
//! with allkeys-lru warns about eviction; the header names the server
//! even for a user the ACL refuses INFO.

mod common;
#[path = "common/stats.rs"]
mod stats;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::standalone::ServerOptions;
use common::{connector, raw_line, server_with, unique};
use streamlab::redis::server::probe;
use streamlab::redis::{RedisFailure, xadd_batch};
use tmux::Tmux;

const WAIT: Duration = Duration::from_secs(20);

fn args(url: &str, log: &std::path::Path, first: &[&str]) -> Vec<String> {
    let log = log.display().to_string();
    let mut args = first.to_vec();
    args.extend(["--url", url, "--log-file", &log]);
    common::screen_line(&args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_header_says_out_of_memory_and_i_shows_the_advice() {
    let server = server_with(ServerOptions {
        extra: ["--maxmemory", "3mb", "--maxmemory-policy", "noeviction"]
            .map(String::from)
            .to_vec(),
        ..ServerOptions::default()
    });
    let mut conn = connector(&server.url()).conn("admin");
    let stream = unique("full");
    let fields: Vec<Vec<(&str, Vec<u8>)>> = (0..200)
        .map(|i| vec![("payload", format!("{i:0>64}").into_bytes())])
        .collect();
    loop {
        match xadd_batch(&mut conn, &stream, None, &fields).await {
            Ok(_) => {}
            Err(RedisFailure::OutOfMemory { .. }) => break,
            Err(e) => panic!("{e}"),
        }
    }
    // Well past the limit, so the watch's own buffers do not tip it back.
    raw_line(&mut conn, "CONFIG SET maxmemory 2mb").await;
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(
        &args(&server.url(), &dir.path().join("log"), &["watch"]),
        160,
        40,
    );
    let server_name = probe(&mut conn).await.unwrap().to_string();
    t.wait(
        "the header names the server and says out of memory",
        WAIT,
        |s| s.contains(&format!("({server_name})")) && s.contains("OUT OF MEMORY"),
    );
    t.keys("i");
    t.wait("the server overlay with the advice", WAIT, |s| {
        s.contains("Server (Esc closes)")
            && s.contains("warn memory      out of memory")
            && s.contains("warn persistence")
    });
    t.keys("Escape");
    // Memory back: the header clears within a health refresh (5 s).
    raw_line(&mut conn, "CONFIG SET maxmemory 0").await;
    t.wait("the header no longer says out of memory", WAIT, |s| {
        !s.contains("OUT OF MEMORY") && !s.contains("Server (Esc closes)")
    });
}

/// The header names the server from the probe at start, whatever the
/// pollers manage to read: here a user the ACL refuses INFO (so no health
/// is ever read) on the overview, where the stream poller is paused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_whose_user_may_not_run_info_names_the_server_in_its_header() {
    let server = server_with(ServerOptions::default());
    let mut admin = connector(&server.url()).conn("admin");
    common::add_tasks(&mut admin, &unique("listed"), 1).await;
    stats::acl_user(
        &mut admin,
        "noinfo",
        "N0-info",
        "+@read +@connection -@write",
    )
    .await;
    let url = format!("redis://noinfo:N0-info@127.0.0.1:{}", server.port);
    let dir = tempfile::tempdir().unwrap();
    let t = Tmux::start(&args(&url, &dir.path().join("log"), &["watch"]), 160, 40);
    let server_name = probe(&mut admin).await.unwrap().to_string();
    let screen = t.wait("the overview lists the stream", WAIT, |s| {
        s.contains("● connected") && s.contains("listed")
    });
    let header = screen.lines().next().unwrap_or_default();
    assert!(header.contains(&format!("({server_name})")), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lab_on_allkeys_lru_warns_about_eviction() {
    let server = server_with(ServerOptions {
        extra: ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"]
            .map(String::from)
            .to_vec(),
        ..ServerOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let stream = unique("lab");
    let mut a = args(&server.url(), &dir.path().join("log"), &[]);
    a.extend(["--stream".to_owned(), stream]);
    let t = Tmux::start(&a, 160, 40);
    t.wait("the header warns about eviction", WAIT, |s| {
        s.contains("● connected") && s.contains("warnings: eviction")
    });
    t.keys("i");
    t.wait("the overlay explains it", WAIT, |s| {
        s.contains("allkeys-lru may evict any key")
    });
}
