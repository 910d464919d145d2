//! Typed stream commands. Each function names whether it writes, builds the
//! raw command and decodes the reply; nothing else in the crate does either.

use ::redis::cmd;

use crate::redis::connect::Conn;
use crate::redis::errors::RedisFailure;
use crate::redis::id::EntryId;
use crate::redis::reply::Entry;

/// Where XREADGROUP starts: `>` (never delivered) or this consumer's own
/// pending entries after an id (`0` drains the whole PEL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupRead {
    New,
    OwnPendingAfter(EntryId),
}

/// Stream retention applied by XADD or XTRIM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retention {
    MaxLen { len: u64, exact: bool },
    MinId(EntryId),
}

/// XAUTOCLAIM's reply, with the Redis 7 third element (ids deleted while
/// pending) empty on older servers.
#[derive(Debug, Clone, Default)]
pub struct AutoClaim {
    pub next: EntryId,
    pub claimed: Vec<Entry>,
    pub deleted: Vec<EntryId>,
    /// Redis 6.2 claims an entry deleted while pending (it moves to the
    /// claimer's PEL) but replies nil in its place, without the id: how
    /// many such nils came back. 7.0+ lists those ids in `deleted`.
    pub unnamed_deleted: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PendingSummary {
    pub count: u64,
    pub min: Option<EntryId>,
    pub max: Option<EntryId>,
    pub consumers: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PendingEntry {
    pub id: EntryId,
    pub consumer: String,
    pub idle_ms: u64,
    pub deliveries: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StreamInfo {
    pub length: u64,
    pub first_id: Option<EntryId>,
    pub last_id: Option<EntryId>,
    pub last_generated_id: Option<EntryId>,
    pub entries_added: Option<u64>,
    pub max_deleted_id: Option<EntryId>,
    pub groups: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GroupInfo {
    pub name: String,
    pub consumers: u64,
    pub pending: u64,
    pub last_delivered_id: Option<EntryId>,
    /// `None` when Redis does not know (after SETID, XDEL past the group).
    pub entries_read: Option<u64>,
    /// `None` when Redis does not know.
    pub lag: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConsumerInfo {
    pub name: String,
    pub pending: u64,
    pub idle_ms: u64,
    /// Milliseconds since the last successful read (Redis 7.2+).
    pub inactive_ms: Option<u64>,
}

pub async fn ping(conn: &mut Conn) -> Result<(), RedisFailure> {
    conn.run(&cmd("PING"), "PING", false).await.map(|_| ())
}

mod admin;
mod hash;
mod inspect;
mod read;
mod write;

pub use admin::*;
pub use hash::*;
pub use inspect::*;
pub use read::*;
pub use write::*;
