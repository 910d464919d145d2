//! The signals that stop streamlab, for the headless commands and the
//! dashboard alike.
//!
//! A headless command stops on SIGINT or SIGTERM: the first cancels a token
//! (the command finishes what it holds and exits 0), a second exits at once
//! with 130. The dashboard reads Ctrl-C as a key (the terminal is raw) and
//! quits like `q` on SIGTERM or SIGHUP (its terminal went away), so the
//! terminal is restored and the workers are stopped.
//!
//! Listeners are registered when [`Signals`] is made, not when a task first
//! waits on them: until a listener exists a SIGTERM either kills the
//! process outright or, once tokio's handler is installed, is recorded for
//! nobody and lost. Commands make the token before they connect, so a
//! signal during start-up is seen too.

use tokio_util::sync::CancellationToken;

/// Which signals a [`Signals`] listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// SIGINT and SIGTERM: a headless command.
    Headless,
    /// SIGTERM and SIGHUP: the dashboard, whose Ctrl-C is a key.
    Dashboard,
}

/// A token cancelled on the first SIGINT or SIGTERM. A second signal
/// exits at once with status 130 (the user insists).
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let mut signals = Signals::listen(Listen::Headless);
    let child = token.clone();
    tokio::spawn(async move {
        signals.next().await;
        child.cancel();
        signals.next().await;
        std::process::exit(130);
    });
    token
}

/// Two signals, listened to from the moment this is made (tokio keeps
/// every signal that arrives after a listener exists, even before anyone
/// awaits it). A listener that could not be registered never fires.
pub struct Signals {
    #[cfg(unix)]
    first: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    second: Option<tokio::signal::unix::Signal>,
    #[cfg(not(unix))]
    listen: Listen,
}

impl Signals {
    pub fn listen(which: Listen) -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let other = match which {
                Listen::Headless => SignalKind::interrupt(),
                Listen::Dashboard => SignalKind::hangup(),
            };
            Self {
                first: signal(SignalKind::terminate()).ok(),
                second: signal(other).ok(),
            }
        }
        #[cfg(not(unix))]
        Self { listen: which }
    }

    /// The next signal.
    pub async fn next(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                () = recv(self.first.as_mut()) => {}
                () = recv(self.second.as_mut()) => {}
            }
        }
        #[cfg(not(unix))]
        match self.listen {
            Listen::Headless => {
                let _ = tokio::signal::ctrl_c().await;
            }
            Listen::Dashboard => std::future::pending::<()>().await,
        }
    }
}

#[cfg(unix)]
async fn recv(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A SIGTERM sent before the waiting task ever ran still cancels: the
    /// listener was registered when the token was made. (Without it the
    /// default action would kill this test process.)
    #[tokio::test(flavor = "current_thread")]
    async fn a_signal_before_the_task_runs_is_not_lost() {
        let token = shutdown_on_signal();
        // Sent while this test's only thread is blocked here: nothing polls.
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
        tokio::time::timeout(std::time::Duration::from_secs(10), token.cancelled())
            .await
            .expect("the SIGTERM cancels the token");
    }
}
