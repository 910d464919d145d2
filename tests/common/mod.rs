//! Shared helpers for the integration tests: private redis-server
//! processes on free ports, connections, raw commands, and waiting on a
//! condition with a deadline (never sleep-and-hope).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use streamlab::config::{RedisInputs, RedisSettings};
use streamlab::redis::embedded::{EmbeddedServer, ServerOptions};
use streamlab::redis::{Conn, Connector};

/// Start a plain private server.
pub fn server() -> EmbeddedServer {
    server_with(ServerOptions::default())
}

pub fn server_with(options: ServerOptions) -> EmbeddedServer {
    EmbeddedServer::start(options).expect("redis-server must be installed to run the integration tests")
}

/// A stream key unique to this test run.
pub fn unique(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("t{}:{name}:{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

pub fn connector(url: &str) -> Connector {
    let settings = RedisSettings::from_inputs(&RedisInputs { url: Some(url.to_owned()), ..RedisInputs::default() }).expect("valid url");
    Connector::new(settings).expect("connector")
}

/// Run a raw command for test set-up and inspection.
pub async fn raw(conn: &mut Conn, args: &[&str]) -> redis::Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    conn.run(&c, "TEST", false).await.unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// Poll `check` until it returns true or `within` passes; panics naming `what`.
pub async fn wait_for<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out after {within:?} waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Path of the built binary, for tests that run it as a process.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_streamlab")
}
