//! The safe retention planner: which entries of a stream every consumer
//! group is done with, how many they are, and the `XTRIM MINID` that
//! removes exactly those. XACK does not delete; this is what does, safely.
//!
//! A group still needs an entry when it is pending (delivered, not acked)
//! or not delivered yet (after its last-delivered id). So a group's limit is
//! its oldest pending id, or the id after its last-delivered one, whichever
//! is lower; the safe MINID is the lowest limit over all groups. Positions
//! only move forward (SETID aside), and XINFO GROUPS is read before the
//! PELs, so a plan read while groups work errs towards keeping entries.

mod acked;
mod count;
mod preview;

use serde::Serialize;

pub use acked::{AckedGroup, AckedPlan, Kept, plan_acked};
pub use count::{Cost, EntryCount, PAGE, SCAN_BUDGET};

use crate::redis::reply::checked;
use crate::redis::{
    Conn, EntryId, RedisFailure, Retention, StreamInfo, TrimMode, is_no_such_key, parse_groups,
    parse_pending_range, parse_stream_info, xinfo_groups_cmd, xinfo_stream_cmd, xpending_range_cmd,
};

/// What a group's PEL says about the oldest entry it has not acked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OldestPending {
    Nothing,
    Id(EntryId),
    Unknown(String),
}

/// A group's position, as Redis reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupPosition {
    pub name: String,
    /// `None` when the reply did not carry it.
    pub last_delivered: Option<EntryId>,
    pub oldest_pending: OldestPending,
    /// Entries after `last_delivered` still in the stream (`None`: unknown).
    pub lag: Option<u64>,
    /// How many entries its PEL holds (XINFO GROUPS).
    pub pending: u64,
}

/// Why a group needs the entries from its limit on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason", content = "id")]
pub enum Hold {
    /// Its oldest pending entry: delivered, never acked.
    Pending(EntryId),
    /// Everything up to this id is delivered and acked; later ones are not delivered.
    DeliveredUpTo(EntryId),
}

/// The first id a group still needs, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupLimit {
    pub group: String,
    pub keep_from: EntryId,
    pub hold: Hold,
}

impl GroupPosition {
    /// This group's limit, or why it cannot be known.
    pub fn limit(&self) -> Result<GroupLimit, String> {
        let last = self
            .last_delivered
            .ok_or_else(|| "Redis did not report its last-delivered id".to_owned())?;
        // Past the largest possible id nothing is undelivered.
        let after_last = last.next().unwrap_or(last);
        let (keep_from, hold) = match &self.oldest_pending {
            OldestPending::Unknown(why) => return Err(why.clone()),
            OldestPending::Id(p) if *p < after_last => (*p, Hold::Pending(*p)),
            _ => (after_last, Hold::DeliveredUpTo(last)),
        };
        Ok(GroupLimit {
            group: self.name.clone(),
            keep_from,
            hold,
        })
    }
}

/// Why a safe trim is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NoStream,
    NoGroups,
    /// `trim --acked` on a stream without groups: ACKED would delete all.
    NoGroupsAcked,
    Unknown {
        group: String,
        why: String,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoStream => f.write_str("the stream does not exist"),
            Self::NoGroups => f.write_str(
                "no consumer group reads it, so nothing says which entries are done: trim with --maxlen or --minid instead",
            ),
            Self::NoGroupsAcked => f.write_str(
                "no consumer group reads it, so ACKED would delete every entry: trim with --maxlen or --minid instead",
            ),
            Self::Unknown { group, why } => write!(
                f,
                "the position of group '{group}' is unknown ({why}), so entries it still needs cannot be told apart"
            ),
        }
    }
}

/// The safe MINID over all groups, with each group's limit.
pub fn safe_minid(positions: &[GroupPosition]) -> Result<(EntryId, Vec<GroupLimit>), Refusal> {
    let limits = positions
        .iter()
        .map(|p| {
            p.limit().map_err(|why| Refusal::Unknown {
                group: p.name.clone(),
                why,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut limits = limits;
    limits.sort_by_key(|l| l.keep_from);
    let minid = limits
        .iter()
        .map(|l| l.keep_from)
        .min()
        .ok_or(Refusal::NoGroups)?;
    Ok((minid, limits))
}

/// What `XTRIM key MINID minid` would remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removal {
    pub count: EntryCount,
    pub first: Option<EntryId>,
    pub last: Option<EntryId>,
}

/// A previewed trim of one stream key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub key: String,
    pub minid: EntryId,
    pub length: u64,
    /// Every group's limit (those known).
    pub limits: Vec<GroupLimit>,
    /// Groups whose position is unknown, with the reason.
    pub unknown: Vec<(String, String)>,
    pub removal: Removal,
    pub cost: Cost,
    /// The 8.2 trim mode the trim is sent with (none: the server's default).
    #[serde(skip)]
    pub mode: Option<TrimMode>,
}

impl Plan {
    /// The trim this plan previews: XTRIM MINID, exact, with `mode`.
    pub fn retention(&self) -> Retention {
        Retention::min_id(self.minid).with_mode(self.mode)
    }

    /// The same plan, trimmed with `mode`.
    pub fn with_mode(self, mode: Option<TrimMode>) -> Self {
        Self { mode, ..self }
    }

    /// Groups that would lose entries they still need.
    pub fn losers(&self) -> impl Iterator<Item = &GroupLimit> {
        let acked = self.mode == Some(TrimMode::Acked);
        self.limits
            .iter()
            .filter(move |l| !acked && l.keep_from < self.minid)
    }
}

/// Why planning ended without a plan.
#[derive(Debug, Clone)]
pub enum PlanError {
    Refused(Refusal),
    Redis(RedisFailure),
}

impl From<RedisFailure> for PlanError {
    fn from(e: RedisFailure) -> Self {
        Self::Redis(e)
    }
}

/// What to plan: the safe MINID, or a MINID the user chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Safe,
    MinId(EntryId),
}

/// Plan a trim of `key`. Reads only; the count's cost is bounded (see
/// [`count`]). `Safe` is refused when any group's position is unknown.
pub async fn plan(conn: &mut Conn, key: &str, target: Target) -> Result<Plan, PlanError> {
    let mut cost = Cost::default();
    let (info, positions) = read_positions(conn, key, &mut cost)
        .await?
        .ok_or(PlanError::Refused(Refusal::NoStream))?;
    let (minid, limits, unknown) = match target {
        Target::Safe => {
            let (minid, limits) = safe_minid(&positions).map_err(PlanError::Refused)?;
            (minid, limits, Vec::new())
        }
        Target::MinId(minid) => {
            let (limits, unknown) = split_limits(&positions);
            (minid, limits, unknown)
        }
    };
    let removal = count::removal(conn, key, &info, &positions, minid, &mut cost).await?;
    Ok(Plan {
        key: key.to_owned(),
        minid,
        length: info.length,
        limits,
        unknown,
        removal,
        cost,
        mode: None,
    })
}

fn split_limits(positions: &[GroupPosition]) -> (Vec<GroupLimit>, Vec<(String, String)>) {
    let mut limits = Vec::new();
    let mut unknown = Vec::new();
    for p in positions {
        match p.limit() {
            Ok(l) => limits.push(l),
            Err(why) => unknown.push((p.name.clone(), why)),
        }
    }
    limits.sort_by_key(|l| l.keep_from);
    (limits, unknown)
}

/// XINFO STREAM and GROUPS in one round trip, then the oldest pending
/// entry of every group with pending entries (XPENDING - + 1, one command
/// per group, in one round trip). `None` when the stream does not exist.
pub async fn read_positions(
    conn: &mut Conn,
    key: &str,
    cost: &mut Cost,
) -> Result<Option<(StreamInfo, Vec<GroupPosition>)>, RedisFailure> {
    let mut pipe = ::redis::pipe();
    pipe.ignore_errors()
        .add_command(xinfo_stream_cmd(key))
        .add_command(xinfo_groups_cmd(key));
    let replies = conn.run_pipeline(&pipe, "XINFO", false, 2).await?;
    cost.commands += 2;
    let [stream_v, groups_v] = replies.as_slice() else {
        return Err(RedisFailure::Reply("XINFO: expected 2 replies".into()));
    };
    let info = match checked(stream_v) {
        Ok(v) => parse_stream_info(v)?,
        Err(RedisFailure::Server(m)) if is_no_such_key(&m) => return Ok(None),
        Err(e) => return Err(e.naming_key(Some(key.as_bytes()))),
    };
    let groups = parse_groups(checked(groups_v)?)?;
    let with_pending: Vec<&str> = groups
        .iter()
        .filter(|g| g.pending > 0)
        .map(|g| g.name.as_str())
        .collect();
    let oldest = oldest_pending(conn, key, &with_pending, cost).await?;
    let positions = groups
        .iter()
        .map(|g| GroupPosition {
            name: g.name.clone(),
            last_delivered: g.last_delivered_id,
            oldest_pending: oldest
                .iter()
                .find(|(name, _)| *name == g.name)
                .map_or(OldestPending::Nothing, |(_, o)| o.clone()),
            lag: g.lag,
            pending: g.pending,
        })
        .collect();
    Ok(Some((info, positions)))
}

async fn oldest_pending(
    conn: &mut Conn,
    key: &str,
    groups: &[&str],
    cost: &mut Cost,
) -> Result<Vec<(String, OldestPending)>, RedisFailure> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = ::redis::pipe();
    pipe.ignore_errors();
    for g in groups {
        pipe.add_command(xpending_range_cmd(key, g, "-", "+", 1, None));
    }
    let replies = conn
        .run_pipeline(&pipe, "XPENDING", false, groups.len())
        .await?;
    cost.commands += u32::try_from(groups.len()).unwrap_or(u32::MAX);
    Ok(groups
        .iter()
        .zip(&replies)
        .map(|(g, v)| {
            let oldest = match checked(v).and_then(parse_pending_range) {
                Ok(rows) => rows
                    .first()
                    .map_or(OldestPending::Nothing, |r| OldestPending::Id(r.id)),
                Err(e) => OldestPending::Unknown(format!("XPENDING failed: {e}")),
            };
            ((*g).to_owned(), oldest)
        })
        .collect())
}

#[cfg(test)]
mod tests;
