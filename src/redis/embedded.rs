//! The lab's private `redis-server`: started on a free port in a temporary
//! directory when nothing is configured and nothing answers on
//! 127.0.0.1:6379, killed when the handle is dropped. The integration
//! tests start their own servers (tests/common/standalone.rs).

use std::fs::File;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a server may take to say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// How many lines of the server's own output a start failure quotes.
const QUOTED_LINES: usize = 3;

/// A running private server.
pub struct EmbeddedServer {
    child: Child,
    /// Deleted with the handle, after the process is killed.
    dir: TempDir,
    pub port: u16,
}

/// True when a `redis-server` binary is on PATH.
pub fn redis_server_available() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl EmbeddedServer {
    /// Start a server and wait until it accepts connections. The waiting
    /// (a child process, files, a deadline) runs on a blocking thread, not
    /// on the async runtime's workers.
    pub async fn start() -> io::Result<Self> {
        tokio::task::spawn_blocking(|| Self::start_blocking(&[]))
            .await
            .map_err(io::Error::other)?
    }

    /// A free port can be taken between probing and binding: retried. On
    /// failure the error quotes the server's last words, since its
    /// directory (and log) goes away with it.
    fn start_blocking(extra: &[&str]) -> io::Result<Self> {
        let mut last_err = io::Error::other("could not start redis-server");
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            match Self::start_on(port, extra) {
                Ok(server) => return Ok(server),
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }

    fn start_on(port: u16, extra: &[&str]) -> io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("streamlab-redis-")
            .tempdir()?;
        let child = spawn(dir.path(), port, extra)?;
        let mut server = Self { child, dir, port };
        match server.wait_ready() {
            Ok(()) => Ok(server),
            Err(why) => {
                server.kill();
                let said = last_words(server.dir.path());
                Err(io::Error::other(if said.is_empty() {
                    why
                } else {
                    format!("{why}; it said: {said}")
                }))
            }
        }
    }

    /// Wait until the server we spawned is listening. The port answering
    /// is not enough: when another process took the free port first, our
    /// server fails to bind and exits while the port answers for the other
    /// one. So its own log must also say it is ready.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        let log = log_path(self.dir.path());
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("redis-server exited at start ({status})"));
            }
            if log_says_ready(&log) && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            // A blocking thread (see `start`): polling the child and its
            // log is the only way to learn either.
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "redis-server did not accept connections within {} s",
            READY_WITHIN.as_secs()
        ))
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("redis.log")
}

/// Where a server that never opened its log (a bad argument) writes why.
fn stderr_path(dir: &Path) -> PathBuf {
    dir.join("redis.stderr")
}

/// Redis 6 and 7 and Valkey all log this line once they listen.
fn log_says_ready(log: &Path) -> bool {
    std::fs::read(log)
        .is_ok_and(|text| String::from_utf8_lossy(&text).contains("Ready to accept connections"))
}

fn spawn(dir: &Path, port: u16, extra: &[&str]) -> io::Result<Child> {
    Command::new("redis-server")
        .arg("--port")
        .arg(port.to_string())
        .args(["--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(log_path(dir))
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(stderr_path(dir))?)
        .spawn()
}

/// The last lines the server wrote (its stderr, then its log without the
/// pid/time prefix), joined on one line.
fn last_words(dir: &Path) -> String {
    let read = |p: PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    let stderr = read(stderr_path(dir));
    let log = read(log_path(dir));
    let mut lines: Vec<&str> = stderr
        .lines()
        .chain(log.lines().map(without_prefix))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let keep = lines.len().saturating_sub(QUOTED_LINES);
    lines.drain(..keep);
    lines.join(" | ")
}

/// `123:M 01 Jan 2025 10:00:00.000 # Failed listening` -> `Failed
/// listening`: the level mark (`.`, `-`, `*`, `#`) ends the prefix.
fn without_prefix(line: &str) -> &str {
    [" # ", " * ", " - ", " . "]
        .iter()
        .filter_map(|mark| line.find(mark).map(|at| &line[at + mark.len()..]))
        .min_by_key(|rest| std::cmp::Reverse(rest.len()))
        .unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_another_process_answers_on_is_not_taken_for_our_server() {
        let other = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = other.local_addr().expect("addr").port();
        let err = EmbeddedServer::start_on(port, &[])
            .err()
            .expect("our server could not bind, so it is not ready");
        let text = err.to_string();
        assert!(text.contains("exited at start"), "{text}");
        // The log is gone with the directory: its words are in the error.
        assert!(text.contains("Address already in use"), "{text}");
    }

    #[test]
    fn a_server_that_refuses_its_arguments_says_which() {
        let err = EmbeddedServer::start_blocking(&["--no-such-directive", "x"])
            .err()
            .expect("redis-server refuses an unknown directive");
        let text = err.to_string();
        assert!(text.contains("exited at start"), "{text}");
        assert!(text.contains("no-such-directive"), "{text}");
        assert!(!text.contains('\n'), "one line: {text}");
    }

    #[test]
    fn the_log_prefix_is_dropped_from_quoted_lines() {
        assert_eq!(
            without_prefix("42:M 01 Jan 2025 10:00:00.000 # Failed listening on port 1"),
            "Failed listening on port 1"
        );
        assert_eq!(without_prefix("Bad directive"), "Bad directive");
    }
}
