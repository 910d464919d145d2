//! Counting the entries below a MINID at a bounded cost. Redis cannot
//! count an id range: XRANGE returns whole entries, and a 1M-entry stream
//! would be read in full. So the count comes from figures Redis already
//! keeps wherever it can, and from a capped scan otherwise:
//!
//! 1. Nothing below the first entry, everything above the last (XINFO
//!    STREAM's length and first/last entries).
//! 2. A group whose lag is known says exactly how many entries follow its
//!    last-delivered id `L`. When the MINID is `L`'s successor (the usual
//!    safe case: the slowest group has nothing pending) the count is
//!    `length - lag`, with no scan; otherwise only `[minid, L]` is scanned.
//! 3. Else the entries below the MINID, then those above it, are scanned in
//!    XRANGE pages of [`PAGE`], at most [`SCAN_BUDGET`] entries in all.
//! 4. Else the count is a lower bound ("at least").

use serde::Serialize;

use super::{GroupPosition, Removal};
use crate::redis::{Conn, EntryId, RedisFailure, StreamInfo, xrange, xrevrange};

/// Entries per XRANGE page of a counting scan.
pub const PAGE: u64 = 500;
/// Entries a plan may read in all to count (20 pages of [`PAGE`]).
pub const SCAN_BUDGET: u64 = 10_000;

/// How many entries a trim removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryCount {
    Exact(u64),
    /// Counting stopped at the scan budget; `about` assumes the entries
    /// were added at an even rate between the first and the last id.
    AtLeast {
        min: u64,
        about: Option<u64>,
    },
}

impl EntryCount {
    pub fn is_zero(self) -> bool {
        self == Self::Exact(0)
    }
}

impl std::fmt::Display for EntryCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exact(n) => write!(f, "{n}"),
            Self::AtLeast { min, about: None } => write!(f, "at least {min}"),
            Self::AtLeast {
                min,
                about: Some(about),
            } => write!(f, "at least {min} (about {about} judging by id times)"),
        }
    }
}

/// What a plan cost Redis: commands sent and entries read to count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Cost {
    pub commands: u32,
    pub entries_read: u64,
}

/// What `XTRIM MINID minid` removes: how many, the first and the last.
pub async fn removal(
    conn: &mut Conn,
    key: &str,
    info: &StreamInfo,
    positions: &[GroupPosition],
    minid: EntryId,
    cost: &mut Cost,
) -> Result<Removal, RedisFailure> {
    let count = count_below(conn, key, info, positions, minid, cost).await?;
    if count.is_zero() {
        return Ok(Removal {
            count,
            first: None,
            last: None,
        });
    }
    Ok(Removal {
        count,
        first: info.first_id,
        last: last_below(conn, key, minid, cost).await?,
    })
}

/// The newest entry below `minid` (one XREVRANGE of one entry).
async fn last_below(
    conn: &mut Conn,
    key: &str,
    minid: EntryId,
    cost: &mut Cost,
) -> Result<Option<EntryId>, RedisFailure> {
    let Some(end) = minid.prev() else {
        return Ok(None);
    };
    cost.commands += 1;
    let newest = xrevrange(conn, key, &end.to_string(), "-", 1).await?;
    Ok(newest.first().map(|e| e.id))
}

pub(super) async fn count_below(
    conn: &mut Conn,
    key: &str,
    info: &StreamInfo,
    positions: &[GroupPosition],
    minid: EntryId,
    cost: &mut Cost,
) -> Result<EntryCount, RedisFailure> {
    let (Some(first), Some(last)) = (info.first_id, info.last_id) else {
        return Ok(EntryCount::Exact(0));
    };
    if minid <= first {
        return Ok(EntryCount::Exact(0));
    }
    if minid > last {
        return Ok(EntryCount::Exact(info.length));
    }
    let mut scans = Vec::new();
    if let Some((window_end, lag)) = nearest_known_lag(positions, minid) {
        match window_end {
            None => return Ok(EntryCount::Exact(info.length.saturating_sub(lag))),
            Some(l) => scans.push((Cursor::new(minid, Some(l)), Formula::Window { lag })),
        }
    }
    scans.push((
        Cursor::new(first, Some(minid.prev().unwrap_or(first))),
        Formula::Below,
    ));
    if scans.len() == 1 {
        scans.push((Cursor::new(minid, None), Formula::FromMinId));
    }
    // One page of each scan in turn: the first to reach its end gives the
    // exact count, so the cost is about twice the smaller side's.
    let mut budget = SCAN_BUDGET;
    while budget > 0 {
        for (cursor, formula) in &mut scans {
            if cursor.step(conn, key, &mut budget, cost).await? {
                return Ok(EntryCount::Exact(
                    formula.count(info.length, cursor.entries),
                ));
            }
        }
    }
    let below = scans
        .iter()
        .find(|(_, f)| *f == Formula::Below)
        .map_or(0, |(c, _)| c.entries);
    Ok(EntryCount::AtLeast {
        min: below,
        about: by_id_time(info.length, first, last, minid).map(|about| about.max(below)),
    })
}

/// The share of the stream below `minid` if entries came at an even rate
/// (ids carry their creation time); `None` when all share one millisecond.
pub(super) fn by_id_time(
    length: u64,
    first: EntryId,
    last: EntryId,
    minid: EntryId,
) -> Option<u64> {
    let span = u128::from(last.ms.checked_sub(first.ms).filter(|s| *s > 0)?);
    let below = u128::from(minid.ms.saturating_sub(first.ms).min(last.ms - first.ms));
    u64::try_from(u128::from(length) * below / span).ok()
}

/// How a finished scan's entries give the count below the MINID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Formula {
    /// `[minid, L]` of a group whose lag (entries after `L`) is known.
    Window { lag: u64 },
    /// The entries below the MINID themselves.
    Below,
    /// Everything from the MINID to the end.
    FromMinId,
}

impl Formula {
    fn count(self, length: u64, scanned: u64) -> u64 {
        match self {
            Self::Window { lag } => length.saturating_sub(scanned + lag),
            Self::Below => scanned,
            Self::FromMinId => length.saturating_sub(scanned),
        }
    }
}

/// The group with a known lag whose last-delivered id `L` is nearest at or
/// above `minid`'s predecessor: its lag, and `Some(L)` when `[minid, L]`
/// must still be scanned (`None`: `L` is just below `minid`).
pub(super) fn nearest_known_lag(
    positions: &[GroupPosition],
    minid: EntryId,
) -> Option<(Option<EntryId>, u64)> {
    positions
        .iter()
        .filter_map(|p| Some((p.last_delivered?, p.lag?)))
        .filter(|(l, _)| l.next().is_some_and(|after| after >= minid))
        .min_by_key(|(l, _)| *l)
        .map(|(l, lag)| ((l >= minid).then_some(l), lag))
}

/// A scan of `[next, to]` (`to: None`: to the end) by XRANGE pages.
struct Cursor {
    next: Option<EntryId>,
    to: String,
    entries: u64,
}

impl Cursor {
    fn new(from: EntryId, to: Option<EntryId>) -> Self {
        Self {
            next: Some(from),
            to: to.map_or_else(|| "+".to_owned(), |id| id.to_string()),
            entries: 0,
        }
    }

    /// Read one page (within `budget`); true once the range is exhausted.
    async fn step(
        &mut self,
        conn: &mut Conn,
        key: &str,
        budget: &mut u64,
        cost: &mut Cost,
    ) -> Result<bool, RedisFailure> {
        let Some(start) = self.next else {
            return Ok(true);
        };
        let page = PAGE.min(*budget);
        if page == 0 {
            return Ok(false);
        }
        let count_max = usize::try_from(page).unwrap_or(usize::MAX);
        let got = xrange(conn, key, &start.to_string(), &self.to, count_max).await?;
        let n = u64::try_from(got.len()).unwrap_or(u64::MAX);
        cost.commands += 1;
        cost.entries_read += n;
        *budget = budget.saturating_sub(n);
        self.entries += n;
        self.next = got.last().and_then(|e| e.id.next()).filter(|_| n == page);
        Ok(self.next.is_none())
    }
}
