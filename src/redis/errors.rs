//! Classifies redis crate errors into what callers act on: reconnect,
//! re-create the group, give up with a clear message.

use std::fmt;

use crate::redis::secrets::redact;

/// A failed Redis call, classified by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisFailure {
    /// The socket is gone, refused or timed out: reconnect and retry.
    Connection(String),
    /// The consumer group (or its stream) no longer exists on the server.
    NoGroup,
    /// The key holds another data type.
    WrongType(String),
    /// Authentication or ACL permission problem: retrying will not help.
    Auth(String),
    /// A write was attempted on a connection opened read-only.
    ReadOnlyMode(&'static str),
    /// Redis refused a command that needs memory (`OOM`, used memory above
    /// maxmemory with a policy that cannot evict). The connection is fine:
    /// back off and retry once memory is freed; not a reconnect.
    OutOfMemory {
        message: String,
        /// How many commands of the request were refused (a pipeline's
        /// others succeeded).
        refused: usize,
    },
    /// Any other error reply from the server.
    Server(String),
    /// The reply did not have the shape we expected.
    Reply(String),
    /// A request whose keys live in different cluster slots (refused by
    /// streamlab before sending, or CROSSSLOT from the server).
    CrossSlot(String),
    /// The cluster is moving the key's slot or failing its master over
    /// (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, UNBLOCKED ... still answered
    /// after the retries inside `Conn`): back off and retry, as for a
    /// dropped socket. Nothing was done by the refused command.
    ClusterChanging(String),
    /// REDIS_CLUSTER=false, but the node answered MOVED/ASK: it is a
    /// cluster node and the key lives elsewhere. A setting to change.
    WrongNode(String),
    /// The sentinels answer but know no master of REDIS_SENTINEL_MASTER's
    /// name. A setting to change.
    UnknownMaster(String),
}

impl RedisFailure {
    /// Transient: the socket, or the route to the key's node, is gone.
    /// Callers back off and retry; the next call reconnects or re-routes.
    pub fn is_connection(&self) -> bool {
        matches!(self, Self::Connection(_) | Self::ClusterChanging(_))
    }

    pub fn is_out_of_memory(&self) -> bool {
        matches!(self, Self::OutOfMemory { .. })
    }

    /// Errors after which retrying the same call cannot succeed.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Self::Auth(_)
                | Self::WrongType(_)
                | Self::ReadOnlyMode(_)
                | Self::CrossSlot(_)
                | Self::WrongNode(_)
                | Self::UnknownMaster(_)
        )
    }
}

impl fmt::Display for RedisFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::Connection(m) => format!("connection problem: {m}"),
            Self::NoGroup => {
                "the consumer group or its stream does not exist on the server (NOGROUP)".into()
            }
            // Never "delete it": the key may be another program's data.
            Self::WrongType(m) => format!(
                "{m}; pick another --stream (streamlab never changes a key that is not a stream)"
            ),
            Self::Auth(m) => {
                format!(
                    "{m}: check the user name, password and ACL permissions in REDIS_URL (or REDIS_USERNAME and REDIS_PASSWORD)"
                )
            }
            Self::ReadOnlyMode(cmd) => format!(
                "{cmd} is not a read-only command, and this connection is read-only: it was not sent"
            ),
            Self::OutOfMemory { message, .. } => format!("Redis is out of memory ({message})"),
            Self::Server(m) => m.clone(),
            Self::Reply(m) => format!("unexpected reply from Redis: {m}"),
            Self::CrossSlot(m) => format!("CROSSSLOT: {m}"),
            Self::ClusterChanging(m) => format!("the cluster is changing: {m}"),
            Self::WrongNode(m) | Self::UnknownMaster(m) => m.clone(),
        };
        f.write_str(&redact(&text))
    }
}

impl RedisFailure {
    /// A WRONGTYPE reply does not say which key: name the one the request
    /// was about (its first), since a stream's derived keys may be the
    /// culprit as well as the stream.
    pub(crate) fn naming_key(self, key: Option<&[u8]>) -> Self {
        match (self, key) {
            (Self::WrongType(_), Some(key)) => Self::WrongType(format!(
                "'{}' holds another type of value than streamlab expects (WRONGTYPE)",
                String::from_utf8_lossy(key)
            )),
            (other, _) => other,
        }
    }
}

impl std::error::Error for RedisFailure {}

impl From<::redis::RedisError> for RedisFailure {
    fn from(err: ::redis::RedisError) -> Self {
        classify(&err)
    }
}

/// Map a redis crate error to a [`RedisFailure`].
pub fn classify(err: &::redis::RedisError) -> RedisFailure {
    let text = one_line(&condense_pipeline(err.to_string()));
    let code = error_code(err);
    match code.as_str() {
        "NOGROUP" => return RedisFailure::NoGroup,
        "WRONGTYPE" => {
            return RedisFailure::WrongType(format!(
                "{text}: the stream key holds another type of value"
            ));
        }
        "WRONGPASS" | "NOAUTH" | "NOPERM" => return RedisFailure::Auth(text),
        "OOM" => {
            return RedisFailure::OutOfMemory {
                refused: refused_for_memory(err),
                message: text,
            };
        }
        // A server restarting from its AOF answers LOADING for a moment:
        // transient, so callers back off and retry as for a dropped socket.
        "LOADING" => return RedisFailure::Connection(text),
        "CROSSSLOT" => return RedisFailure::CrossSlot(text),
        // A migration or failover under way: `Conn` follows these itself;
        // one still answered after its retries is transient all the same.
        "MOVED" | "ASK" | "TRYAGAIN" | "CLUSTERDOWN" | "MASTERDOWN" | "UNBLOCKED" => {
            return cluster_changing(err, &code);
        }
        _ => {}
    }
    by_kind(err, &code, text)
}

/// What is left once the server's code said nothing specific: decided by
/// the error's kind, never by words in its message, so a server message
/// that happens to say "connection" is not taken for a dropped socket
/// (and retried forever).
fn by_kind(err: &::redis::RedisError, code: &str, text: String) -> RedisFailure {
    use ::redis::ErrorKind;
    if err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
    {
        return RedisFailure::Connection(text);
    }
    match err.kind() {
        ErrorKind::AuthenticationFailed => RedisFailure::Auth(text),
        ErrorKind::Server(_) if code == "ERR" && is_auth_refusal(err) => RedisFailure::Auth(text),
        ErrorKind::Parse | ErrorKind::UnexpectedReturnType => RedisFailure::Reply(text),
        _ => RedisFailure::Server(text),
    }
}

/// AUTH refused with a plain `ERR` (servers before ACLs, or AUTH sent where
/// no password is set): the only `ERR` replies that mean "authentication".
fn is_auth_refusal(err: &::redis::RedisError) -> bool {
    let detail = err.detail().unwrap_or_default().to_ascii_lowercase();
    detail.starts_with("invalid password")
        || detail.starts_with("invalid username-password pair")
        || detail.starts_with("client sent auth, but no password is set")
        || detail.starts_with("auth <password> called without any password configured")
}

/// A redirect or wait still answered after `Conn`'s retries, named by the
/// server's code (the crate words MOVED as "Moved: ...").
fn cluster_changing(err: &::redis::RedisError, code: &str) -> RedisFailure {
    let detail = err.detail().map(str::to_owned).or_else(|| {
        let errors = err.clone().into_server_errors()?;
        errors.first()?.1.details().map(str::to_owned)
    });
    let detail = detail.as_deref().map(one_line).unwrap_or_default();
    RedisFailure::ClusterChanging(format!("{code} {detail}").trim().to_owned())
}

/// The server's error code (`NOGROUP`, `NOPERM`, ...). A failed pipeline or
/// transaction carries its server errors inside, where `code()` does not
/// look: without this a NOGROUP answered to a pipelined XREADGROUP would be
/// retried forever instead of re-creating the group.
fn error_code(err: &::redis::RedisError) -> String {
    let code = match err.code() {
        Some(code) => code.to_owned(),
        None => err
            .clone()
            .into_server_errors()
            .and_then(|errors| errors.first().map(|(_, e)| e.code().to_owned()))
            .unwrap_or_default(),
    };
    code.to_ascii_uppercase()
}

/// How many commands of a failed request Redis refused with OOM.
fn refused_for_memory(err: &::redis::RedisError) -> usize {
    err.clone()
        .into_server_errors()
        .map_or(1, |errors| {
            errors
                .iter()
                .filter(|(_, e)| e.code().eq_ignore_ascii_case("OOM"))
                .count()
        })
        .max(1)
}

/// The crate lists every failed command of a pipeline: 512 XADDs to a key
/// of the wrong type made a 50 KB error line. Keep the first and a count
/// (a pipeline with one failed command reads as that command's error).
fn condense_pipeline(text: String) -> String {
    let (rest, many) = if let Some(rest) = text.strip_prefix("Pipeline failures: [") {
        (rest, true)
    } else if let Some(rest) = text.strip_prefix("Pipeline failure: [") {
        (rest, false)
    } else {
        return text;
    };
    let first = rest.split("), (Index ").next().unwrap_or(rest);
    let first = first
        .trim_start_matches("(Index ")
        .trim_end_matches(")]")
        .split_once("error: ")
        .map_or(first, |(_, e)| e);
    if many {
        let failed = rest.matches("(Index ").count();
        format!("{first} (1 of {failed} failed commands in a pipeline)")
    } else {
        first.to_owned()
    }
}

fn one_line(text: &str) -> String {
    // Redact before collapsing whitespace, which could split a password.
    redact(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod pipeline_tests {
    use super::condense_pipeline;

    #[test]
    fn a_pipeline_error_keeps_the_first_failure_and_a_count() {
        let one = "Pipeline failure: [(Index 0, error: NoPerm: no permissions to run the 'xadd' command)]";
        assert_eq!(
            condense_pipeline(one.into()),
            "NoPerm: no permissions to run the 'xadd' command"
        );
        let many =
            "Pipeline failures: [(Index 0, error: WrongType: a), (Index 1, error: WrongType: a)]";
        assert_eq!(
            condense_pipeline(many.into()),
            "WrongType: a (1 of 2 failed commands in a pipeline)"
        );
        assert_eq!(condense_pipeline("plain".into()), "plain");
    }
}

#[cfg(test)]
mod cluster_tests {
    use super::*;

    fn reply_error(line: &str) -> ::redis::RedisError {
        match ::redis::parse_redis_value(line.as_bytes()).expect("an error reply parses") {
            ::redis::Value::ServerError(e) => e.into(),
            other => panic!("not an error: {other:?}"),
        }
    }

    #[test]
    fn a_cluster_changing_under_a_request_is_transient_not_fatal() {
        for line in [
            "-MOVED 3999 127.0.0.1:6381\r\n",
            "-ASK 3999 127.0.0.1:6381\r\n",
            "-TRYAGAIN Multiple keys request during rehashing of slot\r\n",
            "-CLUSTERDOWN The cluster is down\r\n",
            "-UNBLOCKED the stream key no longer exists\r\n",
            "-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n",
        ] {
            let failure = classify(&reply_error(line));
            assert!(
                matches!(failure, RedisFailure::ClusterChanging(_)),
                "{line}: {failure:?}"
            );
            assert!(failure.is_connection() && !failure.is_fatal(), "{line}");
        }
        let moved = classify(&reply_error("-MOVED 3999 127.0.0.1:6381\r\n"));
        assert_eq!(
            moved.to_string(),
            "the cluster is changing: MOVED 3999 127.0.0.1:6381"
        );
    }

    #[test]
    fn crossslot_is_fatal_and_names_itself() {
        let failure = classify(&reply_error(
            "-CROSSSLOT Keys in request don't hash to the same slot\r\n",
        ));
        assert!(matches!(failure, RedisFailure::CrossSlot(_)), "{failure:?}");
        assert!(failure.is_fatal() && !failure.is_connection());
        assert!(failure.to_string().starts_with("CROSSSLOT: "));
    }

    #[test]
    fn errors_are_told_by_kind_not_by_the_words_in_them() {
        // A server message that mentions a connection is still the server's.
        let said = classify(&reply_error(
            "-ERR Error running script: the connection to the upstream timed out\r\n",
        ));
        assert!(matches!(said, RedisFailure::Server(_)), "{said:?}");
        assert!(!said.is_connection());
        let dropped = classify(&::redis::RedisError::from(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset by peer",
        )));
        assert!(dropped.is_connection(), "{dropped:?}");
        let refused = classify(&::redis::RedisError::from((
            ::redis::ErrorKind::AuthenticationFailed,
            "Password authentication failed",
        )));
        assert!(matches!(refused, RedisFailure::Auth(_)), "{refused:?}");
        let old_server = classify(&reply_error("-ERR invalid password\r\n"));
        assert!(
            matches!(old_server, RedisFailure::Auth(_)),
            "{old_server:?}"
        );
        let perm = classify(&reply_error(
            "-NOPERM this user has no permissions to run the 'xadd' command\r\n",
        ));
        assert!(perm.is_fatal(), "{perm:?}");
    }
}
