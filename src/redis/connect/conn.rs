//! [`Conn`]: one role's connection, reconnecting with capped backoff.

use std::time::Duration;

use ::redis::{Cmd, Pipeline, Value};

use super::link::{Link, Replayed, has_error};
use super::{BACKOFF_MAX, BACKOFF_MIN, Connector};
use crate::redis::errors::{RedisFailure, classify};
use crate::redis::read_only;

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
    pub(super) fn new(connector: Connector, role: String, response_timeout: Duration) -> Self {
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
        self.guard(name, writes, || read_only::is_read(cmd))?;
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
        self.guard(name, writes, || read_only::pipeline_is_read(pipe))?;
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

    /// A read-only connector refuses a command marked as writing, and any
    /// command not on the read-only list (see [`read_only`]), unsent. The
    /// list is only consulted on read-only connectors (off the hot paths).
    fn guard(
        &self,
        name: &'static str,
        writes: bool,
        reads: impl FnOnce() -> bool,
    ) -> Result<(), RedisFailure> {
        if self.connector.is_read_only() && (writes || !reads()) {
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
