//! A private tmux server (its own socket) running the dashboard, for tests
//! that read the real screen: `send-keys` in, `capture-pane -p` out. Killed
//! on drop. Included with `#[path]` by the test files that need it, so the
//! other test binaries do not carry it.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Run `args` (quoted for sh; no single quotes inside) in a new
    /// `width` x `height` session. The pane stays after the command exits
    /// and shows `EXITED <code>`.
    pub fn start(args: &[String], width: u16, height: u16) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = format!("streamlab-t{}-{n}", std::process::id());
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let shell = format!("{}; echo EXITED $?; sleep 60", quoted.join(" "));
        let t = Self { socket };
        let (w, h) = (width.to_string(), height.to_string());
        t.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &w,
            "-y",
            &h,
            &shell,
        ]);
        t
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux must be installed to run the dashboard tests");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &str) {
        self.run(&["send-keys", "-t", "main", keys]);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "main"])
    }

    /// Wait until the screen satisfies `check`; panic with the screen if not.
    pub fn wait(&self, what: &str, within: Duration, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen();
            if check(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {within:?} waiting for: {what}\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}
