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

/// What XADD or XTRIM keeps: at most a length, or the ids from one on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    MaxLen(u64),
    MinId(EntryId),
}

/// What a trim does about the references consumer groups hold to the
/// entries it removes (Redis 8.2: `KEEPREF | DELREF | ACKED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimMode {
    /// Remove the entries, leave their ids in every PEL (dangling): what
    /// every server did before 8.2, and 8.2's default.
    KeepRef,
    /// Remove the entries and their ids from every PEL.
    DelRef,
    /// Remove only entries every group has read and acked.
    Acked,
}

impl TrimMode {
    /// The word Redis takes, and `--trim-mode` names in lower case.
    pub fn word(self) -> &'static str {
        match self {
            Self::KeepRef => "KEEPREF",
            Self::DelRef => "DELREF",
            Self::Acked => "ACKED",
        }
    }

    /// `keepref`, `delref`, `acked`: as the flag takes it.
    pub fn flag(self) -> &'static str {
        match self {
            Self::KeepRef => "keepref",
            Self::DelRef => "delref",
            Self::Acked => "acked",
        }
    }
}

/// Stream retention applied by XADD or XTRIM: the limit, exact (`=`) or
/// approximate (`~`, whole radix-tree nodes), and the 8.2 trim mode (none
/// sent when `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub limit: Limit,
    pub exact: bool,
    pub mode: Option<TrimMode>,
}

impl Retention {
    pub fn max_len(len: u64, exact: bool) -> Self {
        Self {
            limit: Limit::MaxLen(len),
            exact,
            mode: None,
        }
    }

    /// MINID, exact: what a trim previewed by id removes.
    pub fn min_id(id: EntryId) -> Self {
        Self {
            limit: Limit::MinId(id),
            exact: true,
            mode: None,
        }
    }

    pub fn with_mode(self, mode: Option<TrimMode>) -> Self {
        Self { mode, ..self }
    }

    pub fn exactly(self, exact: bool) -> Self {
        Self { exact, ..self }
    }

    /// `MAXLEN = 10 ACKED`, `MINID ~ 5-0`: the arguments after the key
    /// (and before XADD's id).
    fn push_args(&self, c: &mut ::redis::Cmd) {
        // Exact is the default of both; MAXLEN has always said `=` here
        // (what the confirmations show), MINID nothing.
        match (self.limit, self.exact) {
            (Limit::MaxLen(len), exact) => {
                c.arg("MAXLEN").arg(if exact { "=" } else { "~" }).arg(len)
            }
            (Limit::MinId(id), true) => c.arg("MINID").arg(id.to_string()),
            (Limit::MinId(id), false) => c.arg("MINID").arg("~").arg(id.to_string()),
        };
        if let Some(mode) = self.mode {
            c.arg(mode.word());
        }
    }
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

/// How a worker acks: XACK, or XACKDEL with ACKED (Redis 8.2), which also
/// deletes the entry once no other group needs it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AckHow {
    #[default]
    Ack,
    AckDelete,
}

/// What an XACK or XACKDEL did with the ids it was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AckReply {
    /// Ids that left the group's PEL.
    pub acked: u64,
    /// XACKDEL only: how many of them left the stream too.
    pub deleted: Option<u64>,
    /// XACKDEL ACKED only: acked here, kept in the stream because another
    /// group has not read or acked them yet.
    pub kept: Vec<EntryId>,
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
