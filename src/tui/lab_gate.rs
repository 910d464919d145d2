//! Whether the dashboard may run its lab on a stream. The lab's producer,
//! basic consumer and workers write: they add entries, join the group,
//! read and ack. On someone else's stream that acks real work with
//! simulated work, so the lab runs only on the private embedded server, on
//! a stream that does not exist yet (recorded as the lab's on creation),
//! or on one the registry says streamlab created. Anything else opens as a
//! read-only watch that says why; `--lab` is the explicit opt-in.
//!
//! The look at the stream goes through a read-only connector, so deciding
//! "watch" can never have written anything; only a stream found absent is
//! then opened (and recorded) with a connector that may write.

use crate::cli::PartitionArgs;
use crate::engine::partition::Layout;
use crate::engine::registry::{self, CreatedBy, Origin};
use crate::failure::Failure;
use crate::redis::{RedisFailure, exists};
use crate::setup::session::Session;
use crate::setup::streams::open_stream;

/// What the dashboard does on the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Run the lab on this layout.
    Lab(Layout),
    /// Open a read-only watch; the reason goes on screen.
    Watch { reason: String },
}

/// What a read-only look says about `stream`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Recorded,
    Absent,
    Foreign,
    /// The registry record could not be read (an ACL refused it).
    Unreadable(String),
}

/// Decide for `stream`; `forced` is `--lab`, `partitions` what a new
/// stream is created with.
pub async fn decide(
    session: &Session,
    stream: &str,
    forced: bool,
    partitions: &PartitionArgs,
) -> Result<Gate, Failure> {
    if session.embedded.is_some() || forced {
        return Ok(Gate::Lab(open(session, stream, partitions).await?.1));
    }
    let found = look(session, stream).await?;
    if let Some(reason) = watch_reason(stream, &found) {
        return Ok(Gate::Watch { reason });
    }
    let (origin, layout) = open(session, stream, partitions).await?;
    match origin {
        // Created by someone else between the look and the open.
        Some(Origin::Foreign { .. }) => Ok(Gate::Watch {
            reason: watch_reason(stream, &Found::Foreign).unwrap_or_default(),
        }),
        _ => Ok(Gate::Lab(layout)),
    }
}

/// Why the dashboard must only watch a stream found so, or `None`.
pub fn watch_reason(stream: &str, found: &Found) -> Option<String> {
    let key = registry::record_key(stream);
    // The cause first: a narrow header cuts the end of the line.
    let tail = "nothing runs, nothing is written; --lab runs the lab anyway";
    match found {
        Found::Recorded | Found::Absent => None,
        Found::Foreign => Some(format!("not created by streamlab (no {key}): {tail}")),
        Found::Unreadable(why) => Some(format!(
            "cannot read {key} ({why}) to tell who created it: {tail}"
        )),
    }
}

async fn look(session: &Session, stream: &str) -> Result<Found, Failure> {
    let mut conn = session.connector.read_only().conn("registry");
    match registry::read(&mut conn, stream).await {
        Ok(Some(_)) => return Ok(Found::Recorded),
        Ok(None) => {}
        Err(RedisFailure::Auth(m)) => return Ok(Found::Unreadable(m)),
        Err(e) => return Err(e.into()),
    }
    match exists(&mut conn, stream).await {
        Ok(true) => Ok(Found::Foreign),
        Ok(false) => Ok(Found::Absent),
        Err(RedisFailure::Auth(m)) => Ok(Found::Unreadable(m)),
        Err(e) => Err(e.into()),
    }
}

/// Open the stream for the lab, recording it when this creates it.
async fn open(
    session: &Session,
    stream: &str,
    partitions: &PartitionArgs,
) -> Result<(Option<Origin>, Layout), Failure> {
    let mut conn = session.connector.conn("registry");
    let (opened, layout) = open_stream(&mut conn, stream, CreatedBy::Lab, partitions).await?;
    Ok((opened.map(|o| o.origin), layout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_stream_found_foreign_or_unreadable_is_watched_and_the_reason_says_why() {
        assert_eq!(watch_reason("orders", &Found::Recorded), None);
        assert_eq!(watch_reason("orders", &Found::Absent), None);
        let foreign = watch_reason("orders", &Found::Foreign).unwrap();
        assert!(
            foreign.starts_with("not created by streamlab (no orders:streamlab)"),
            "{foreign}"
        );
        assert!(
            foreign.contains("nothing is written") && foreign.contains("--lab"),
            "{foreign}"
        );
        let denied = watch_reason("orders", &Found::Unreadable("NOPERM hgetall".into())).unwrap();
        assert!(
            denied.contains("cannot read orders:streamlab (NOPERM hgetall)"),
            "{denied}"
        );
    }
}
