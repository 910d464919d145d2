//! `trim --acked`: what `XTRIM key MAXLEN = 0 ACKED` (Redis 8.2) removes,
//! counted before it runs. ACKED deletes an entry once every group has
//! read it (its id is at or below the group's last-delivered id) and none
//! holds it pending, so, unlike a MINID trim, it also takes entries after
//! one a group still holds, leaving a gap there.
//!
//! The count: the entries up to the lowest last-delivered id (counted as
//! `--safe` counts, exact from XINFO figures where it can), less those of
//! them some group holds pending. The PELs are read by id range up to
//! that id (XPENDING, never IDLE), and each pending id is checked against
//! the stream (a pending id whose entry is already gone removes nothing),
//! both within [`PEL_BUDGET`]; past it the count is a lower bound.

use std::collections::BTreeSet;

use serde::Serialize;

use super::count::{Cost, EntryCount, PAGE, count_below};
use super::{GroupPosition, PlanError, Refusal, read_positions};
use crate::redis::{
    Conn, EntryId, RedisFailure, Retention, TrimMode, command_line, missing_entries,
    xpending_range, xtrim_cmd,
};

/// Pending ids a plan may read and check in all.
pub const PEL_BUDGET: u64 = 5_000;

/// One group as `--acked` sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AckedGroup {
    pub name: String,
    pub last_delivered: Option<EntryId>,
    pub pending: u64,
}

/// The entries ACKED keeps although every group has read them: those
/// still pending somewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kept {
    Exact(u64),
    /// The PELs were not read to the end: at most this many.
    AtMost(u64),
}

/// A previewed `XTRIM key MAXLEN = 0 ACKED`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AckedPlan {
    pub key: String,
    pub length: u64,
    /// The lowest last-delivered id over the groups: entries after it are
    /// not read by every group yet. `None` when one is not reported.
    pub read_by_all: Option<EntryId>,
    pub groups: Vec<AckedGroup>,
    /// Entries up to `read_by_all`.
    pub read: EntryCount,
    pub kept: Kept,
    pub removal: EntryCount,
    pub cost: Cost,
}

/// Plan `trim --acked` on `key` (reads only). Refused without groups.
pub async fn plan_acked(conn: &mut Conn, key: &str) -> Result<AckedPlan, PlanError> {
    let mut cost = Cost::default();
    let (info, positions) = read_positions(conn, key, &mut cost)
        .await?
        .ok_or(PlanError::Refused(Refusal::NoStream))?;
    if positions.is_empty() {
        return Err(PlanError::Refused(Refusal::NoGroupsAcked));
    }
    let groups = positions.iter().map(AckedGroup::of).collect();
    let read_by_all = positions
        .iter()
        .map(|p| p.last_delivered)
        .collect::<Option<Vec<_>>>()
        .and_then(|ids| ids.into_iter().min());
    let Some(upto) = read_by_all else {
        return Ok(AckedPlan {
            key: key.to_owned(),
            length: info.length,
            read_by_all,
            groups,
            read: EntryCount::AtLeast {
                min: 0,
                about: None,
            },
            kept: Kept::AtMost(positions.iter().map(|p| p.pending).sum()),
            removal: EntryCount::AtLeast {
                min: 0,
                about: None,
            },
            cost,
        });
    };
    let after = upto.next().unwrap_or(upto);
    let read = count_below(conn, key, &info, &positions, after, &mut cost).await?;
    let kept = kept_pending(conn, key, &positions, upto, &mut cost).await?;
    Ok(AckedPlan {
        key: key.to_owned(),
        length: info.length,
        read_by_all,
        groups,
        removal: removal(read, kept),
        read,
        kept,
        cost,
    })
}

impl AckedGroup {
    fn of(p: &GroupPosition) -> Self {
        Self {
            name: p.name.clone(),
            last_delivered: p.last_delivered,
            pending: p.pending,
        }
    }
}

/// Read entries less kept ones: exact only when both are.
fn removal(read: EntryCount, kept: Kept) -> EntryCount {
    match (read, kept) {
        (EntryCount::Exact(r), Kept::Exact(k)) => EntryCount::Exact(r.saturating_sub(k)),
        (EntryCount::Exact(r), Kept::AtMost(k)) => EntryCount::AtLeast {
            min: r.saturating_sub(k),
            about: None,
        },
        (EntryCount::AtLeast { min, about }, kept) => {
            let k = match kept {
                Kept::Exact(k) | Kept::AtMost(k) => k,
            };
            EntryCount::AtLeast {
                min: min.saturating_sub(k),
                about: about.map(|a| a.saturating_sub(k)),
            }
        }
    }
}

/// The entries up to `upto` that some group holds pending and that are
/// still in the stream: every PEL read by id range up to `upto`, in
/// pages, then each id checked (one pipelined XRANGE id id per page).
async fn kept_pending(
    conn: &mut Conn,
    key: &str,
    positions: &[GroupPosition],
    upto: EntryId,
    cost: &mut Cost,
) -> Result<Kept, RedisFailure> {
    let upper = positions.iter().map(|p| p.pending).sum();
    let mut ids = BTreeSet::new();
    let mut budget = PEL_BUDGET;
    for p in positions.iter().filter(|p| p.pending > 0) {
        if !walk_pel(conn, key, &p.name, upto, &mut ids, &mut budget, cost).await? {
            return Ok(Kept::AtMost(upper));
        }
    }
    let ids: Vec<EntryId> = ids.into_iter().collect();
    let mut gone = 0;
    for page in ids.chunks(usize::try_from(PAGE).unwrap_or(500)) {
        gone += missing_entries(conn, key, page).await?.len();
        cost.commands += u32::try_from(page.len()).unwrap_or(u32::MAX);
    }
    Ok(Kept::Exact((ids.len() - gone) as u64))
}

/// One group's PEL up to `upto`, page by page, into `ids`; false when the
/// budget ran out first.
async fn walk_pel(
    conn: &mut Conn,
    key: &str,
    group: &str,
    upto: EntryId,
    ids: &mut BTreeSet<EntryId>,
    budget: &mut u64,
    cost: &mut Cost,
) -> Result<bool, RedisFailure> {
    let end = upto.to_string();
    let mut start = "-".to_owned();
    loop {
        let page = PAGE.min(*budget);
        if page == 0 {
            return Ok(false);
        }
        let count_max = usize::try_from(page).unwrap_or(500);
        let rows = xpending_range(conn, key, group, &start, &end, count_max, None).await?;
        cost.commands += 1;
        *budget = budget.saturating_sub(rows.len() as u64);
        ids.extend(rows.iter().map(|r| r.id));
        match rows.last().and_then(|r| r.id.next()) {
            Some(next) if rows.len() == count_max => start = next.to_string(),
            _ => return Ok(true),
        }
    }
}

impl AckedPlan {
    /// The command `trim --acked` sends.
    pub fn retention() -> Retention {
        Retention::max_len(0, true).with_mode(Some(TrimMode::Acked))
    }

    pub fn command(&self) -> String {
        command_line(&xtrim_cmd(&self.key, &Self::retention()))
    }

    /// One line: the command, how many it removes and what stays.
    pub fn summary(&self) -> String {
        let what = if self.removal.is_zero() {
            "removes nothing".to_owned()
        } else {
            format!("removes {} of {} entries", self.removal, self.length)
        };
        let mut stays = Vec::new();
        match self.kept {
            Kept::Exact(0) => {}
            Kept::Exact(k) => stays.push(format!("{} pending", crate::words::entries(k))),
            Kept::AtMost(k) => stays.push(format!("at most {k} pending")),
        }
        if let (Some(upto), EntryCount::Exact(read)) = (self.read_by_all, self.read) {
            let unread = self.length.saturating_sub(read);
            if unread > 0 {
                stays.push(format!("the {unread} after {upto} not read by every group"));
            }
        }
        let stays = if stays.is_empty() {
            String::new()
        } else {
            format!("; keeps {}", stays.join(" and "))
        };
        format!(
            "{} {what} (read and acked by every group{stays})",
            self.command()
        )
    }

    /// One line per group: how far it has read, what it holds.
    pub fn group_lines(&self) -> Vec<String> {
        self.groups
            .iter()
            .map(|g| {
                let read = g.last_delivered.map_or_else(
                    || "last-delivered id unknown".to_owned(),
                    |id| format!("read up to {id}"),
                );
                let slowest = if g.last_delivered.is_some() && g.last_delivered == self.read_by_all
                {
                    " (the slowest: later entries stay)"
                } else {
                    ""
                };
                let held = match g.pending {
                    0 => String::new(),
                    n => format!(", holds {} pending (they stay)", crate::words::entries(n)),
                };
                format!("group {}: {read}{held}{slowest}", g.name)
            })
            .collect()
    }

    pub fn cost_line(&self) -> String {
        format!(
            "planned with {} commands, {} entries read to count",
            self.cost.commands, self.cost.entries_read
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_removal_is_exact_only_when_both_counts_are() {
        assert_eq!(
            removal(EntryCount::Exact(10), Kept::Exact(3)),
            EntryCount::Exact(7)
        );
        assert_eq!(
            removal(EntryCount::Exact(10), Kept::AtMost(3)),
            EntryCount::AtLeast {
                min: 7,
                about: None
            }
        );
        assert_eq!(
            removal(
                EntryCount::AtLeast {
                    min: 100,
                    about: Some(400)
                },
                Kept::Exact(30)
            ),
            EntryCount::AtLeast {
                min: 70,
                about: Some(370)
            }
        );
        assert_eq!(
            removal(EntryCount::Exact(2), Kept::Exact(5)),
            EntryCount::Exact(0)
        );
    }
}
