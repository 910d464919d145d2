//! Connections per role, each reconnecting on its own with capped backoff.
//!
//! DESIGN.md's measured rules live here: a blocking XREAD/XREADGROUP holds up
//! every other command on its connection, so each [`Conn`] is used by one
//! role only; a reader's response timeout is BLOCK plus a margin (the crate's
//! 500 ms default would time out client-side while the server still delivers
//! the entry); after any connection error or client-side timeout the socket
//! is thrown away and the next call dials a fresh one.

use std::time::Duration;

mod cluster_map;
mod conn;
mod connector;
mod detect;
mod dial;
mod link;
mod pipeline;
mod redirect;
mod route;
mod sentinel;
mod sentinel_watch;
mod slot_map;

pub use conn::Conn;
pub use connector::Connector;
pub use sentinel::{Failover, SENTINEL_TIMEOUT, SentinelStatus};

/// Time allowed to open a socket, do the TLS handshake and authenticate.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Response timeout for roles that never block.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
/// Margin added to BLOCK for a blocking reader's response timeout.
pub const BLOCK_MARGIN: Duration = Duration::from_secs(2);
/// Backoff between reconnect attempts: doubles from MIN up to MAX.
pub const BACKOFF_MIN: Duration = Duration::from_millis(100);
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// The wait before try `attempt` (1, 2, ...): doubles from [`BACKOFF_MIN`]
/// up to [`BACKOFF_MAX`]. A [`Conn`] counts its own reconnects with it
/// ([`Conn::next_backoff`]); a request Redis keeps refusing on a link that
/// is fine (out of memory) is counted by its caller, because the reads
/// between the tries (INFO memory, XINFO GROUPS) succeed, and a success
/// resets the connection's count.
pub fn retry_delay(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(16);
    BACKOFF_MIN.saturating_mul(1 << doublings).min(BACKOFF_MAX)
}

/// Install rustls' process-wide crypto provider. Must run before the first
/// TLS connection or rustls panics; calling it twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_up_to_the_cap() {
        assert_eq!(retry_delay(1), BACKOFF_MIN);
        assert_eq!(retry_delay(2), BACKOFF_MIN * 2);
        assert_eq!(retry_delay(4), BACKOFF_MIN * 8);
        assert_eq!(retry_delay(7), BACKOFF_MAX);
        assert_eq!(retry_delay(u32::MAX), BACKOFF_MAX);
    }
}
