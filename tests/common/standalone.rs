//! The integration tests' single-node servers: a `redis-server` (or the
//! matrix's binary) on a free port in a temporary directory, never the
//! shared 6379, with what only tests need: TLS, durability, restarts on
//! the same port, another binary. The lab's own fallback server is
//! `streamlab::redis::embedded`, which has none of these. Killed on drop.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How to start a server. `extra` args are passed as-is (`--requirepass x`).
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    pub extra: Vec<String>,
    /// Serve TLS on this many extra ports given by `tls_args(port)`.
    pub tls: Option<TlsFiles>,
    /// Keep data across restarts with appendonly + appendfsync always.
    pub durable: bool,
    /// Start on this port instead of a fresh free one (a restart).
    pub port: Option<u16>,
    /// The server binary (`valkey-server`, another Redis); `redis-server`
    /// from PATH when unset. Tests set it from `STREAMLAB_TEST_SERVER`.
    pub binary: Option<PathBuf>,
}

/// Certificate files for a TLS-serving test server.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
}

/// A running test server.
pub struct TestServer {
    child: Option<Child>,
    dir: TempDir,
    pub port: u16,
    /// The TLS port when started with TLS (plain `port` is then also open).
    pub tls_port: Option<u16>,
    options: ServerOptions,
}

/// A port nobody listens on right now.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl TestServer {
    /// Start a server and wait until it accepts connections.
    pub fn start(options: ServerOptions) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("streamlab-redis-")
            .tempdir()?;
        Self::start_in(dir, options)
    }

    fn start_in(dir: TempDir, options: ServerOptions) -> std::io::Result<Self> {
        let mut server = Self {
            child: None,
            dir,
            port: 0,
            tls_port: None,
            options,
        };
        let mut last_err = e_other("could not start redis-server");
        // A free port can be taken between probing and binding: retry.
        for _ in 0..5 {
            server.port = match server.options.port {
                Some(p) => p,
                None => free_port()?,
            };
            server.tls_port = if server.options.tls.is_some() {
                Some(free_port()?)
            } else {
                None
            };
            let log_from = server.log_len();
            match spawn(
                server.dir.path(),
                server.port,
                server.tls_port,
                &server.options,
            ) {
                Ok(child) => {
                    server.child = Some(child);
                    match server.wait_ready(Duration::from_secs(10), log_from) {
                        Ok(()) => return Ok(server),
                        Err(e) => {
                            server.kill();
                            last_err = e;
                        }
                    }
                }
                Err(e) => last_err = e,
            }
            if server.options.port.is_some() {
                break;
            }
        }
        Err(last_err)
    }

    /// Wait until the server we spawned is listening. The port answering
    /// is not enough: when another process took the free port first, our
    /// server fails to bind and exits while the port answers for the other
    /// one (seen as "connection refused" once that one stopped). So its own
    /// log, written after `log_from`, must also say it is ready.
    fn wait_ready(&mut self, within: Duration, log_from: u64) -> std::io::Result<()> {
        let deadline = Instant::now() + within;
        let port = self.port;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                // The directory (and its log) goes when the start fails.
                return Err(e_other(&format!(
                    "redis-server exited at start ({status}); it said: {}",
                    self.last_words()
                )));
            }
            if self.log_says_ready(log_from)
                && TcpStream::connect(("127.0.0.1", port)).is_ok()
                && self
                    .tls_port
                    .is_none_or(|p| TcpStream::connect(("127.0.0.1", p)).is_ok())
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(e_other(
            "redis-server did not accept connections within 10 s",
        ))
    }

    /// The last lines of its stderr and log, on one line.
    fn last_words(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        let (stderr, log) = (read("redis.stderr"), read("redis.log"));
        let lines: Vec<&str> = stderr
            .lines()
            .chain(log.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        lines[lines.len().saturating_sub(3)..].join(" | ")
    }

    fn log_len(&self) -> u64 {
        std::fs::metadata(self.log_path()).map_or(0, |m| m.len())
    }

    /// Redis 6 and 7 and Valkey all log this line once they listen.
    fn log_says_ready(&self, log_from: u64) -> bool {
        let Ok(log) = std::fs::read(self.log_path()) else {
            return false;
        };
        let start = usize::try_from(log_from)
            .unwrap_or(usize::MAX)
            .min(log.len());
        String::from_utf8_lossy(&log[start..]).contains("Ready to accept connections")
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL the server (a crash: nothing flushed beyond what fsync did).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start it again on the same port and directory (its AOF, if durable).
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.kill();
        let log_from = self.log_len();
        let child = spawn(self.dir.path(), self.port, self.tls_port, &self.options)?;
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(20), log_from)
    }

    /// Start it again with nothing on disk: the stream and groups are gone.
    pub fn restart_empty(&mut self) -> std::io::Result<()> {
        self.kill();
        for entry in std::fs::read_dir(self.dir.path())?.flatten() {
            let p = entry.path();
            if p.file_name().is_some_and(|n| n != "redis.log") {
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
        self.restart()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(
    dir: &Path,
    port: u16,
    tls_port: Option<u16>,
    options: &ServerOptions,
) -> std::io::Result<Child> {
    let mut cmd = Command::new(
        options
            .binary
            .as_deref()
            .unwrap_or_else(|| Path::new("redis-server")),
    );
    cmd.arg("--port")
        .arg(port.to_string())
        .arg("--bind")
        .arg("127.0.0.1")
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(dir.join("redis.log"))
        .arg("--save")
        .arg("")
        .arg("--daemonize")
        .arg("no");
    if options.durable {
        cmd.args(["--appendonly", "yes", "--appendfsync", "always"]);
    } else {
        cmd.args(["--appendonly", "no"]);
    }
    if let (Some(tls), Some(tls_port)) = (&options.tls, tls_port) {
        cmd.arg("--tls-port")
            .arg(tls_port.to_string())
            .arg("--tls-cert-file")
            .arg(&tls.cert)
            .arg("--tls-key-file")
            .arg(&tls.key)
            .arg("--tls-ca-cert-file")
            .arg(&tls.ca)
            .args(["--tls-auth-clients", "no"]);
    }
    cmd.args(&options.extra);
    // Appended: a restart keeps what the previous start said.
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("redis.stderr"))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    cmd.spawn()
}

fn e_other(msg: &str) -> std::io::Error {
    std::io::Error::other(msg.to_owned())
}
