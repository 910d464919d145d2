//! Opening one socket: the RESP2 link or the crate's connection, bounded
//! by [`CONNECT_TIMEOUT`], named for its role, with connect errors worded
//! to name the likely fix.

use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, ConnectionAddr};

use super::link::Link;
use super::{CONNECT_TIMEOUT, Connector};
use crate::redis::config::RedisSettings;
use crate::redis::errors::{RedisFailure, classify};
use crate::redis::resp::{self, RespLink};
use crate::redis::topology::NodeAddr;

impl Connector {
    /// Open a socket to `node` (the URL's own, or another node of its
    /// cluster: same user, password, TLS and CA settings).
    pub(super) async fn dial(
        &self,
        role: &str,
        response_timeout: Duration,
        node: &NodeAddr,
    ) -> Result<Link, RedisFailure> {
        let seed = &self.inner.settings;
        // Behind Sentinel every node (the master too) is dialled by its
        // own address: the URL's is not used.
        let settings =
            if seed.sentinel.is_none() && seed.host() == node.host && seed.port() == node.port {
                seed.clone()
            } else {
                seed.for_node(&node.host, node.port)
                    .map_err(|e| RedisFailure::Reply(e.to_string()))?
            };
        let info = self.inner.client.get_connection_info();
        let mut link = match info.addr() {
            ConnectionAddr::Tcp(..)
                if resp::enabled() && !info.redis_settings().protocol().supports_resp3() =>
            {
                let connecting = RespLink::connect(
                    &node.host,
                    node.port,
                    info.redis_settings(),
                    CONNECT_TIMEOUT,
                );
                Link::Resp(bounded(connecting, &settings).await?)
            }
            _ => Link::Crate(self.dial_crate(response_timeout, &settings).await?),
        };
        // Naming the client makes CLIENT LIST readable and lets operators (and
        // our fault tests) find a role's socket. ACLs may forbid it: ignore.
        let name = format!("streamlab:{}", role.replace(' ', "_"));
        let named = link
            .command(
                ::redis::cmd("CLIENT").arg("SETNAME").arg(name),
                response_timeout,
            )
            .await;
        match named {
            // The RESP link's first exchange: a socket that fails here (a
            // TLS port, a server that hangs up) failed to connect, as the
            // crate's own set-up reports it.
            Err(e) if matches!(link, Link::Resp(_)) => Err(describe_connect_error(&e, &settings)),
            _ => Ok(link),
        }
    }

    async fn dial_crate(
        &self,
        response_timeout: Duration,
        settings: &RedisSettings,
    ) -> Result<MultiplexedConnection, RedisFailure> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(response_timeout));
        let client = if self.inner.settings.sentinel.is_none()
            && settings.host() == self.inner.settings.host()
            && settings.port() == self.inner.settings.port()
        {
            self.inner.client.clone()
        } else {
            build_client(settings)?
        };
        let connecting = client.get_multiplexed_async_connection_with_config(&config);
        bounded(connecting, settings).await
    }
}

/// The crate's client for `settings`: TLS with the private CA if given,
/// host name checks off with `--tls-insecure`.
pub(super) fn build_client(settings: &RedisSettings) -> Result<Client, RedisFailure> {
    let mut url = settings.secret_url().clone();
    if settings.tls_insecure && settings.is_tls() {
        url.set_fragment(Some("insecure"));
    }
    match &settings.ca_cert {
        Some(path) if settings.is_tls() => {
            let pem = std::fs::read(path).map_err(|e| {
                RedisFailure::Server(format!("cannot read REDIS_CA_CERT {}: {e}", path.display()))
            })?;
            let certs = ::redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem),
            };
            Client::build_with_tls(url.as_str(), certs)
        }
        _ => Client::open(url.as_str()),
    }
    .map_err(|e| RedisFailure::Server(format!("invalid Redis settings: {}", classify(&e))))
}

/// Await a connect attempt for at most [`CONNECT_TIMEOUT`] (and a margin).
async fn bounded<T>(
    connecting: impl std::future::Future<Output = ::redis::RedisResult<T>>,
    settings: &RedisSettings,
) -> Result<T, RedisFailure> {
    tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(1), connecting)
        .await
        .map_err(|_| {
            RedisFailure::Connection(format!(
                "no answer from {settings} within {CONNECT_TIMEOUT:?}"
            ))
        })?
        .map_err(|e| describe_connect_error(&e, settings))
}

fn describe_connect_error(err: &::redis::RedisError, settings: &RedisSettings) -> RedisFailure {
    match classify(err) {
        // rustls reports certificate problems as I/O errors, so the hint is
        // needed on connection failures as much as on server replies.
        RedisFailure::Connection(_) if err.is_connection_refusal() => {
            let hint = match &settings.via_sentinel {
                Some(master) => format!(
                    "nothing answers there (connection refused), though the sentinels name it the master of '{master}': a failover may be under way"
                ),
                None => REFUSED_HINT.to_owned(),
            };
            RedisFailure::Connection(format!("cannot connect to {settings}: {hint}"))
        }
        RedisFailure::Connection(m) | RedisFailure::Server(m) | RedisFailure::Reply(m) => {
            let hint = match tls_hint(&m) {
                "" => scheme_hint(settings.is_tls(), &m),
                hint => hint,
            };
            RedisFailure::Connection(format!("cannot connect to {settings}: {m}{hint}"))
        }
        // Name the server that refused, as for other connect failures.
        RedisFailure::Auth(m) => RedisFailure::Auth(format!("cannot connect to {settings}: {m}")),
        other => other,
    }
}

/// A refused connection: nothing listens at that address (or no socket
/// file is there). The likely fixes are to start Redis there or to point
/// streamlab at the server it meant.
const REFUSED_HINT: &str = "nothing answers there (connection refused): is Redis running? Start it, or point streamlab at your server with REDIS_URL or --url (or REDIS_HOST and REDIS_PORT)";

/// A TLS client on a plain port waits for a handshake answer that never
/// comes; a plain client on a TLS port is dropped. Both look like network
/// trouble unless the message names the likely mix-up.
fn scheme_hint(tls: bool, message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    let dropped = [
        "reset by peer",
        "broken pipe",
        "connection closed",
        "unexpected eof",
    ]
    .iter()
    .any(|s| lower.contains(s));
    if tls && lower.contains("timed out") {
        ": no answer to the TLS handshake; if this port serves plain Redis, use redis:// instead of rediss://"
    } else if !tls && dropped {
        ": the server dropped the connection; if this port serves TLS, use rediss:// (or REDIS_TLS=true)"
    } else {
        ""
    }
}

/// What to check after a failed TLS handshake; empty for other failures.
fn tls_hint(message: &str) -> &'static str {
    let lower = message.to_ascii_lowercase();
    if lower.contains("unknownissuer") {
        ": the server's certificate is not signed by a CA this machine trusts; set REDIS_CA_CERT to the PEM file of the CA that signed it"
    } else if lower.contains("certificate") || lower.contains("tls") {
        ": check rediss:// versus redis://, REDIS_CA_CERT, or the server's certificate"
    } else {
        ""
    }
}
