//! The dashboard in tmux names the server and its health: `streamlab
//! watch` on a Redis that is out of memory (maxmemory + noeviction, filled
//! until XADD is refused) says so in the header, `i` shows the advice, and
//! once memory is freed the header clears by itself; a lab on a server
//! with allkeys-lru warns about eviction.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::{bin, connector, raw_line, server_with, unique};
use streamlab::redis::embedded::ServerOptions;
use streamlab::redis::server::probe;
use streamlab::redis::{RedisFailure, xadd_batch};
use tmux::Tmux;

const WAIT: Duration = Duration::from_secs(20);

fn args(url: &str, log: &std::path::Path, first: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = std::iter::once(bin())
        .chain(first.iter().copied())
        .chain(["--url", url, "--refresh", "200ms"])
        .map(ToString::to_string)
        .collect();
    args.extend(["--log-file".to_owned(), log.display().to_string()]);
    args
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
