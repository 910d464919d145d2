//! The headless subcommands, each a thin layer over engine/ and monitor/.

pub mod bench;
pub mod consume;
pub mod dlq;
pub mod monitor;
pub mod produce;
pub mod trim;
pub mod worker;

use tokio_util::sync::CancellationToken;

use crate::engine::registry::{self, CreatedBy, Origin};
use crate::redis::{Conn, RedisFailure};

/// Record `stream` in the registry as created by `by` when it does not
/// exist yet. A server that refuses to store the record (an ACL without
/// hash writes) does not stop the command: stderr says so, and the stream
/// then counts as not created by streamlab.
pub async fn claim_stream(
    conn: &mut Conn,
    stream: &str,
    by: CreatedBy,
) -> Result<Option<Origin>, RedisFailure> {
    match registry::claim(conn, stream, by).await {
        Ok(origin) => Ok(Some(origin)),
        Err(RedisFailure::Auth(m)) => {
            eprintln!(
                "note: cannot record '{stream}' in {} ({m}); streamlab will not know it created this stream",
                registry::record_key(stream)
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// A token cancelled on the first SIGINT or SIGTERM. A second signal
/// exits at once with status 130 (the user insists).
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let child = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        child.cancel();
        wait_for_signal().await;
        std::process::exit(130);
    });
    token
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Whether stderr is a terminal (progress bars only then).
pub fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}
