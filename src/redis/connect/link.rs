//! [`Link`]: one socket, either the crate's multiplexed connection or
//! streamlab's own RESP2 link, and the fast path that scans replies for
//! errors and replays failed ones through the crate's `query_async`.

use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::{Cmd, Pipeline, RedisResult, Value};

use crate::redis::resp::RespLink;

/// One role's socket: the crate's multiplexed connection (TLS, RESP3, unix
/// sockets), or streamlab's own RESP2 link for plain TCP (see [`resp`]).
pub(super) enum Link {
    Crate(MultiplexedConnection),
    Resp(RespLink),
}

impl Link {
    /// One command's reply (server errors included, as values).
    pub(super) async fn command(&mut self, cmd: &Cmd, timeout: Duration) -> RedisResult<Value> {
        match self {
            Self::Crate(c) => c.send_packed_command(cmd).await,
            Self::Resp(r) => {
                let mut replies = within(timeout, r.request(&cmd.get_packed_command(), 1)).await?;
                Ok(replies.pop().unwrap_or(Value::Nil))
            }
        }
    }

    /// A non-atomic pipeline's replies, one per command.
    pub(super) async fn commands(
        &mut self,
        pipe: &Pipeline,
        timeout: Duration,
    ) -> RedisResult<Vec<Value>> {
        match self {
            Self::Crate(c) => c.send_packed_commands(pipe, 0, pipe.len()).await,
            Self::Resp(r) => {
                within(timeout, r.request(&pipe.get_packed_pipeline(), pipe.len())).await
            }
        }
    }

    /// A MULTI/EXEC pipeline's result, as the crate's `query_async` gives it.
    pub(super) async fn transaction(
        &mut self,
        pipe: &Pipeline,
        timeout: Duration,
    ) -> RedisResult<Vec<Value>> {
        match self {
            Self::Resp(r) => {
                // MULTI's +OK, one +QUEUED per command, then EXEC's reply.
                let packed = pipe.get_packed_pipeline();
                let replies = within(timeout, r.request(&packed, pipe.len() + 2)).await?;
                exec_result(pipe, replies).await
            }
            // The crate's own transaction reading aborts on a queued
            // command's error ("Transaction aborted: [(Index 0, error:
            // Moved ...)]" on 1.8.1) without saying which reply to follow:
            // on a cluster that error is the MOVED or ASK to follow. So
            // every reply is read here, as on the RESP link.
            Self::Crate(_) => self.transaction_as_commands(pipe, false, timeout).await,
        }
    }
    /// Whether a request on this socket was abandoned half-way.
    pub(super) fn is_poisoned(&self) -> bool {
        matches!(self, Self::Resp(r) if r.is_poisoned())
    }

    /// `cmds`, each preceded by ASKING when `asking` (a slot being migrated
    /// to this node: ASKING lets the next command in), in one round trip.
    pub(super) async fn commands_of(
        &mut self,
        cmds: &[&Cmd],
        asking: bool,
        timeout: Duration,
    ) -> RedisResult<Vec<Value>> {
        let mut pipe = Pipeline::with_capacity(cmds.len() * if asking { 2 } else { 1 });
        for c in cmds {
            if asking {
                pipe.add_command(::redis::cmd("ASKING"));
            }
            pipe.add_command((*c).clone());
        }
        let replies = self.commands(&pipe, timeout).await?;
        Ok(if asking {
            replies.into_iter().skip(1).step_by(2).collect()
        } else {
            replies
        })
    }

    /// A MULTI/EXEC at the node a migrating slot is going to: ASKING holds
    /// for the whole transaction, so it is sent once, before MULTI.
    pub(super) async fn transaction_asking(
        &mut self,
        pipe: &Pipeline,
        timeout: Duration,
    ) -> RedisResult<Vec<Value>> {
        self.transaction_as_commands(pipe, true, timeout).await
    }

    /// MULTI, the commands and EXEC sent as plain commands (after ASKING
    /// if `asking`), every reply read, the transaction's result built.
    async fn transaction_as_commands(
        &mut self,
        pipe: &Pipeline,
        asking: bool,
        timeout: Duration,
    ) -> RedisResult<Vec<Value>> {
        let mut plain = Pipeline::with_capacity(pipe.len() + 3);
        if asking {
            plain.add_command(::redis::cmd("ASKING"));
        }
        plain.add_command(::redis::cmd("MULTI"));
        for c in pipe.cmd_iter() {
            plain.add_command(c.clone());
        }
        plain.add_command(::redis::cmd("EXEC"));
        let replies = self.commands(&plain, timeout).await?;
        let skip = usize::from(asking);
        exec_result(pipe, replies.into_iter().skip(skip).collect()).await
    }
}

/// MULTI's reply, one per queued command, then EXEC's: the transaction's
/// result as the crate's `query_async` builds it.
async fn exec_result(pipe: &Pipeline, mut replies: Vec<Value>) -> RedisResult<Vec<Value>> {
    let exec = replies.pop().unwrap_or(Value::Nil);
    // A command refused while queueing aborts the EXEC: its own error
    // says why (and, on a cluster, where to go: MOVED, ASK).
    if let Some(Value::ServerError(e)) = replies.iter().find(|v| matches!(v, Value::ServerError(_)))
    {
        return Err(e.clone().into());
    }
    // EXEC itself refused (TRYAGAIN: a multi-key transaction while its slot
    // is being migrated): that error, not the crate's "Invalid response".
    if let Value::ServerError(e) = &exec {
        return Err(e.clone().into());
    }
    pipe.query_async(&mut Replayed(vec![exec])).await
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
pub(super) fn has_error(v: &Value) -> bool {
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
pub(super) struct Replayed(pub(super) Vec<Value>);

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
    use crate::redis::RedisFailure;

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
