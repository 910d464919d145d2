//! Stopping a headless command on SIGINT or SIGTERM: the first signal
//! cancels a token (the command finishes what it holds and exits 0), a
//! second one exits at once with 130.
//!
//! The listeners are registered when the token is made, not when a task
//! first waits on them: until a listener exists a SIGTERM either kills the
//! process outright or, once tokio's handler is installed, is recorded for
//! nobody and lost. Commands make the token before they connect, so a
//! signal during start-up is seen too.

use tokio_util::sync::CancellationToken;

/// A token cancelled on the first SIGINT or SIGTERM. A second signal
/// exits at once with status 130 (the user insists).
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let mut signals = Signals::listen();
    let child = token.clone();
    tokio::spawn(async move {
        signals.next().await;
        child.cancel();
        signals.next().await;
        std::process::exit(130);
    });
    token
}

/// SIGINT and SIGTERM, listened to from the moment this is made (tokio
/// keeps every signal that arrives after a listener exists, even before
/// anyone awaits it).
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                term: signal(SignalKind::terminate()).ok(),
                int: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next signal (a listener that could not be registered never fires).
    async fn next(&mut self) {
        #[cfg(unix)]
        {
            async fn recv(s: Option<&mut tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = recv(self.term.as_mut()) => {}
                () = recv(self.int.as_mut()) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
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
