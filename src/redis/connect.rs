//! Connections per role, each reconnecting on its own with capped backoff.
//!
//! DESIGN.md's measured rules live here: a blocking XREAD/XREADGROUP holds up
//! every other command on its connection, so each [`Conn`] is used by one
//! role only; a reader's response timeout is BLOCK plus a margin (the crate's
//! 500 ms default would time out client-side while the server still delivers
//! the entry); after any connection error or client-side timeout the socket
//! is thrown away and the next call dials a fresh one.

use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, Cmd, ConnectionAddr, Pipeline, RedisResult, Value};

use crate::config::RedisSettings;
use crate::redis::errors::{RedisFailure, classify};
use crate::redis::resp::{self, RespLink};

/// Time allowed to open a socket, do the TLS handshake and authenticate.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Response timeout for roles that never block.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);
/// Margin added to BLOCK for a blocking reader's response timeout.
pub const BLOCK_MARGIN: Duration = Duration::from_secs(2);
/// Backoff between reconnect attempts: doubles from MIN up to MAX.
pub const BACKOFF_MIN: Duration = Duration::from_millis(100);
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Install rustls' process-wide crypto provider. Must run before the first
/// TLS connection or rustls panics; calling it twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds connections to one server. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Connector {
    inner: Arc<ConnectorInner>,
}

struct ConnectorInner {
    client: Client,
    settings: RedisSettings,
    read_only: bool,
}

impl Connector {
    /// Prepare a client for `settings` (no network traffic yet).
    pub fn new(settings: RedisSettings) -> Result<Self, RedisFailure> {
        install_crypto_provider();
        let mut url = settings.secret_url().clone();
        if settings.tls_insecure && settings.is_tls() {
            url.set_fragment(Some("insecure"));
        }
        let client = match &settings.ca_cert {
            Some(path) if settings.is_tls() => {
                let pem = std::fs::read(path).map_err(|e| {
                    RedisFailure::Server(format!(
                        "cannot read REDIS_CA_CERT {}: {e}",
                        path.display()
                    ))
                })?;
                let certs = ::redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                };
                Client::build_with_tls(url.as_str(), certs)
            }
            _ => Client::open(url.as_str()),
        }
        .map_err(|e| RedisFailure::Server(format!("invalid Redis settings: {}", classify(&e))))?;
        Ok(Self {
            inner: Arc::new(ConnectorInner {
                client,
                settings,
                read_only: false,
            }),
        })
    }

    /// A connector whose connections refuse every command that writes.
    pub fn read_only(&self) -> Self {
        Self {
            inner: Arc::new(ConnectorInner {
                client: self.inner.client.clone(),
                settings: self.inner.settings.clone(),
                read_only: true,
            }),
        }
    }

    pub fn settings(&self) -> &RedisSettings {
        &self.inner.settings
    }

    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// A connection for a role that never blocks (producer, monitor, admin).
    pub fn conn(&self, role: impl Into<String>) -> Conn {
        Conn::new(self.clone(), role.into(), DEFAULT_RESPONSE_TIMEOUT)
    }

    /// A connection for a blocking reader using `BLOCK block`.
    pub fn blocking_conn(&self, role: impl Into<String>, block: Duration) -> Conn {
        Conn::new(self.clone(), role.into(), block + BLOCK_MARGIN)
    }

    async fn dial(&self, role: &str, response_timeout: Duration) -> Result<Link, RedisFailure> {
        let info = self.inner.client.get_connection_info();
        let mut link = match info.addr() {
            ConnectionAddr::Tcp(host, port)
                if resp::enabled() && !info.redis_settings().protocol().supports_resp3() =>
            {
                let connecting =
                    RespLink::connect(host, *port, info.redis_settings(), CONNECT_TIMEOUT);
                Link::Resp(self.bounded(connecting).await?)
            }
            _ => Link::Crate(self.dial_crate(response_timeout).await?),
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
            Err(e) if matches!(link, Link::Resp(_)) => {
                Err(describe_connect_error(&e, &self.inner.settings))
            }
            _ => Ok(link),
        }
    }

    /// Await a connect attempt for at most [`CONNECT_TIMEOUT`] (and a margin).
    async fn bounded<T>(
        &self,
        connecting: impl std::future::Future<Output = ::redis::RedisResult<T>>,
    ) -> Result<T, RedisFailure> {
        tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(1), connecting)
            .await
            .map_err(|_| {
                RedisFailure::Connection(format!(
                    "no answer from {} within {CONNECT_TIMEOUT:?}",
                    self.inner.settings
                ))
            })?
            .map_err(|e| describe_connect_error(&e, &self.inner.settings))
    }

    async fn dial_crate(
        &self,
        response_timeout: Duration,
    ) -> Result<MultiplexedConnection, RedisFailure> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(response_timeout));
        let connecting = self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&config);
        self.bounded(connecting).await
    }
}

fn describe_connect_error(err: &::redis::RedisError, settings: &RedisSettings) -> RedisFailure {
    match classify(err) {
        // rustls reports certificate problems as I/O errors, so the hint is
        // needed on connection failures as much as on server replies.
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

/// One role's connection: dials lazily, drops itself after a connection
/// error so the next call reconnects, and tracks the backoff between tries.
pub struct Conn {
    connector: Connector,
    role: String,
    response_timeout: Duration,
    inner: Option<Link>,
    backoff: Duration,
    /// Commands sent, for the monitor's own-cost figure.
    pub commands_sent: u64,
}

impl Conn {
    fn new(connector: Connector, role: String, response_timeout: Duration) -> Self {
        Self {
            connector,
            role,
            response_timeout,
            inner: None,
            backoff: BACKOFF_MIN,
            commands_sent: 0,
        }
    }

    pub fn role(&self) -> &str {
        &self.role
    }

    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    pub fn is_connected(&self) -> bool {
        self.inner.is_some()
    }

    /// Open the socket now (useful to fail fast at start-up).
    pub async fn connect(&mut self) -> Result<(), RedisFailure> {
        // A request abandoned half-way (its future dropped by a caller's
        // timeout) leaves replies in flight: never reuse that socket.
        if matches!(&self.inner, Some(Link::Resp(r)) if r.is_poisoned()) {
            self.inner = None;
        }
        if self.inner.is_none() {
            self.inner = Some(
                self.connector
                    .dial(&self.role, self.response_timeout)
                    .await?,
            );
        }
        Ok(())
    }

    /// Throw the socket away (after a timeout the caller imposed), so the
    /// next call dials a fresh one.
    pub fn disconnect(&mut self) {
        self.inner = None;
    }

    /// The delay to wait before the next reconnect attempt; doubles each
    /// call up to [`BACKOFF_MAX`] and resets after a successful command.
    pub fn next_backoff(&mut self) -> Duration {
        let delay = self.backoff;
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
        delay
    }

    /// Run one command. `writes` names whether it modifies data, so a
    /// read-only connector can refuse it before it reaches the server.
    pub async fn run(
        &mut self,
        cmd: &Cmd,
        name: &'static str,
        writes: bool,
    ) -> Result<Value, RedisFailure> {
        self.guard(name, writes)?;
        self.connect().await?;
        let conn = self
            .inner
            .as_mut()
            .ok_or_else(|| RedisFailure::Connection("not connected".into()))?;
        self.commands_sent += 1;
        let result = match conn.command(cmd, self.response_timeout).await {
            Ok(v) if !has_error(&v) => Ok(v),
            Ok(v) => cmd.query_async(&mut Replayed(vec![v])).await,
            Err(e) => Err(e),
        };
        self.settle(result)
    }

    /// Run a pipeline (one round trip). `commands` is how many it holds.
    pub async fn run_pipeline(
        &mut self,
        pipe: &Pipeline,
        name: &'static str,
        writes: bool,
        commands: usize,
    ) -> Result<Vec<Value>, RedisFailure> {
        self.guard(name, writes)?;
        self.connect().await?;
        let conn = self
            .inner
            .as_mut()
            .ok_or_else(|| RedisFailure::Connection("not connected".into()))?;
        self.commands_sent += commands as u64;
        let result = if pipe.is_transaction() {
            conn.transaction(pipe, self.response_timeout).await
        } else {
            match conn.commands(pipe, self.response_timeout).await {
                Ok(replies) if !replies.iter().any(has_error) => Ok(replies),
                Ok(replies) => pipe.query_async(&mut Replayed(replies)).await,
                Err(e) => Err(e),
            }
        };
        self.settle(result)
    }

    fn guard(&self, name: &'static str, writes: bool) -> Result<(), RedisFailure> {
        if writes && self.connector.is_read_only() {
            return Err(RedisFailure::ReadOnlyMode(name));
        }
        Ok(())
    }

    fn settle<T>(&mut self, result: Result<T, ::redis::RedisError>) -> Result<T, RedisFailure> {
        match result {
            Ok(v) => {
                self.backoff = BACKOFF_MIN;
                Ok(v)
            }
            Err(e) => {
                let failure = classify(&e);
                if failure.is_connection() {
                    // After a client-side timeout the server may still answer
                    // on this socket later; never reuse it.
                    self.inner = None;
                }
                Err(failure)
            }
        }
    }
}

/// One role's socket: the crate's multiplexed connection (TLS, RESP3, unix
/// sockets), or streamlab's own RESP2 link for plain TCP (see [`resp`]).
enum Link {
    Crate(MultiplexedConnection),
    Resp(RespLink),
}

impl Link {
    /// One command's reply (server errors included, as values).
    async fn command(&mut self, cmd: &Cmd, timeout: Duration) -> RedisResult<Value> {
        match self {
            Self::Crate(c) => c.send_packed_command(cmd).await,
            Self::Resp(r) => {
                let mut replies = within(timeout, r.request(&cmd.get_packed_command(), 1)).await?;
                Ok(replies.pop().unwrap_or(Value::Nil))
            }
        }
    }

    /// A non-atomic pipeline's replies, one per command.
    async fn commands(&mut self, pipe: &Pipeline, timeout: Duration) -> RedisResult<Vec<Value>> {
        match self {
            Self::Crate(c) => c.send_packed_commands(pipe, 0, pipe.len()).await,
            Self::Resp(r) => {
                within(timeout, r.request(&pipe.get_packed_pipeline(), pipe.len())).await
            }
        }
    }

    /// A MULTI/EXEC pipeline's result, as the crate's `query_async` gives it.
    async fn transaction(&mut self, pipe: &Pipeline, timeout: Duration) -> RedisResult<Vec<Value>> {
        match self {
            Self::Crate(c) => pipe.query_async(c).await,
            Self::Resp(r) => {
                // MULTI's +OK, one +QUEUED per command, then EXEC's reply.
                let packed = pipe.get_packed_pipeline();
                let mut replies = within(timeout, r.request(&packed, pipe.len() + 2)).await?;
                let exec = replies.pop().unwrap_or(Value::Nil);
                // A command refused while queueing aborts the EXEC: its own
                // error says why.
                if let Some(Value::ServerError(e)) =
                    replies.iter().find(|v| matches!(v, Value::ServerError(_)))
                {
                    return Err(e.clone().into());
                }
                pipe.query_async(&mut Replayed(vec![exec])).await
            }
        }
    }
}

/// A response timeout for the RESP link, reported like the crate's.
async fn within<T>(
    timeout: Duration,
    request: impl std::future::Future<Output = RedisResult<T>>,
) -> RedisResult<T> {
    tokio::time::timeout(timeout, request).await.map_err(|_| {
        ::redis::RedisError::from(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "response timed out",
        ))
    })?
}

// `query_async` re-walks and rebuilds every reply tree to look for nested
// server errors, then converts it again into the requested type: for a
// 500-entry XREADGROUP reply that was ~5% of the drain's client CPU. The
// fast path above sends with `send_packed_command(s)` and only scans the
// tree by reference; when it finds an error, the replies go back through
// the crate's own `query_async` via [`Replayed`], so failures are
// reported exactly as before (pipeline errors included).

/// Whether a reply holds a server error anywhere.
fn has_error(v: &Value) -> bool {
    match v {
        Value::ServerError(_) => true,
        Value::Array(items) | Value::Set(items) | Value::Push { data: items, .. } => {
            items.iter().any(has_error)
        }
        Value::Map(pairs) => pairs.iter().any(|(k, v)| has_error(k) || has_error(v)),
        Value::Attribute { data, attributes } => {
            has_error(data) || attributes.iter().any(|(k, v)| has_error(k) || has_error(v))
        }
        _ => false,
    }
}

/// Replies already read from the server, served to the crate's
/// `query_async` so it builds its usual result (or error) from them.
struct Replayed(Vec<Value>);

impl ::redis::aio::ConnectionLike for Replayed {
    fn req_packed_command<'a>(&'a mut self, _cmd: &'a Cmd) -> ::redis::RedisFuture<'a, Value> {
        let reply = std::mem::take(&mut self.0).pop().unwrap_or(Value::Nil);
        Box::pin(async move { Ok(reply) })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        _pipeline: &'a Pipeline,
        _offset: usize,
        _count: usize,
    ) -> ::redis::RedisFuture<'a, Vec<Value>> {
        let replies = std::mem::take(&mut self.0);
        Box::pin(async move { Ok(replies) })
    }

    fn get_db(&self) -> i64 {
        0
    }
}

#[cfg(test)]
mod replay_tests {
    use super::*;

    fn server_error(line: &str) -> Value {
        ::redis::parse_redis_value(line.as_bytes()).expect("an error reply parses")
    }

    #[test]
    fn errors_are_found_at_any_depth() {
        let err = server_error("-NOGROUP No such key\r\n");
        assert!(matches!(err, Value::ServerError(_)));
        assert!(has_error(&err));
        assert!(has_error(&Value::Array(vec![
            Value::Int(1),
            Value::Array(vec![err.clone()])
        ])));
        assert!(has_error(&Value::Map(vec![(Value::Int(1), err)])));
        assert!(!has_error(&Value::Array(vec![Value::Nil, Value::Okay])));
    }

    #[tokio::test]
    async fn replayed_failures_match_the_crate_s_own_errors() {
        let err =
            server_error("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
        let mut pipe = ::redis::pipe();
        pipe.cmd("XADD").arg("k").arg("*").arg("f").arg("v");
        pipe.cmd("XADD").arg("k").arg("*").arg("f").arg("v");
        let failed: Result<Vec<Value>, _> = pipe
            .query_async(&mut Replayed(vec![err.clone(), err.clone()]))
            .await;
        let failure = crate::redis::errors::classify(&failed.expect_err("an error"));
        assert!(matches!(failure, RedisFailure::WrongType(_)), "{failure:?}");
        let single: Result<Value, _> = ::redis::cmd("XLEN")
            .arg("k")
            .query_async(&mut Replayed(vec![err]))
            .await;
        assert_eq!(single.expect_err("an error").code(), Some("WRONGTYPE"));
    }
}
