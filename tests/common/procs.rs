//! streamlab processes as fault tests run them: spawned with a clean
//! environment, stdout kept as a ledger of JSON events, killed with -9 on
//! drop; and the ledger read back. Included with `#[path]` by the tests
//! that kill and restart things (`chaos.rs`, `amnesia.rs`).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use streamlab::redis::EntryId;

use crate::common::bin;

/// The group every worker here joins.
pub const GROUP: &str = "workers";

/// A child process killed (SIGKILL) and reaped when dropped, so a failing
/// test never leaves workers behind.
pub struct Proc {
    pub name: String,
    pub child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Proc {
    pub fn spawn(dir: &Path, name: &str, args: &[&str]) -> Self {
        let stdout = dir.join(format!("{name}.out"));
        let stderr = dir.join(format!("{name}.err"));
        let child = Command::new(bin())
            .args(args)
            // A clean environment and a directory without `.env`: only the
            // flags given here configure the process.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).expect("ledger file"))
            .stderr(File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("the streamlab binary starts");
        Self {
            name: name.to_owned(),
            child,
            stdout,
            stderr,
        }
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for the exit (a clean stop) within `within`.
    pub fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A `worker --events json` with quick recovery (short min-idle and claim
/// period) plus `extra` flags.
pub fn worker(dir: &Path, url: &str, stream: &str, name: &str, extra: &[&str]) -> Proc {
    let mut args = vec![
        "--url",
        url,
        "--stream",
        stream,
        "--group",
        GROUP,
        "worker",
        "--name",
        name,
        "--events",
        "json",
        "--min-idle",
        "1s",
        "--claim-every",
        "500ms",
        "--block",
        "1s",
    ];
    args.extend_from_slice(extra);
    Proc::spawn(dir, name, &args)
}

/// Every JSON line of a ledger. A worker killed with -9 may leave a cut
/// last line; it is skipped (its XACK was never sent, so the entry comes
/// back to another worker).
pub fn ledger(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

pub fn ledger_id(line: &serde_json::Value) -> EntryId {
    line["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a ledger line with an id")
}

pub fn events<'a>(
    lines: &'a [serde_json::Value],
    kind: &'a str,
) -> impl Iterator<Item = &'a serde_json::Value> + 'a {
    lines.iter().filter(move |l| l["event"] == kind)
}

pub fn count_events(p: &Proc, kind: &str) -> usize {
    events(&ledger(&p.stdout_text()), kind).count()
}
