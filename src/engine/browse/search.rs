//! One bounded step of a search: walk from a place towards older (or
//! newer) entries until one matches, at most [`SEARCH_BUDGET`] entries per
//! step, read in pages of at most [`SEARCH_PAGE`] (shared out over the
//! partitions). The step says how far it got, so the next step (`n`)
//! goes on from there.

use super::matcher::Matcher;
use super::scan::Scan;
use super::{Bound, Cursor, Direction, Row, Span};
use crate::redis::{Conn, RedisFailure};

/// Entries one search step may examine.
pub const SEARCH_BUDGET: usize = 10_000;
/// Entries one command of a search may read (over all partitions).
pub const SEARCH_PAGE: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Where the step starts (the place itself is not examined).
    pub after: Option<Cursor>,
    pub dir: Direction,
    pub matcher: Matcher,
    pub budget: usize,
}

/// What one step found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchStep {
    /// The first matching entry, if one was reached.
    pub found: Option<Row>,
    /// Entries examined.
    pub examined: usize,
    /// The last place examined (the next step starts after it).
    pub reached: Option<Cursor>,
    /// The walk reached the stream's end without a match.
    pub exhausted: bool,
    pub commands: u32,
}

/// Walk `keys` as `q` says until a match, the budget, or the end.
pub async fn search_step(
    conn: &mut Conn,
    keys: &[String],
    q: &SearchQuery,
) -> Result<SearchStep, RedisFailure> {
    let from = q.after.map_or(Bound::Edge, Bound::After);
    let per_part = (SEARCH_PAGE / keys.len().max(1)).max(1);
    let mut scan = Scan::new(keys.to_vec(), q.dir, from, Span::default(), per_part);
    let mut step = SearchStep {
        reached: q.after,
        ..SearchStep::default()
    };
    while step.examined < q.budget.max(1) {
        let Some(row) = scan.next(conn).await? else {
            step.exhausted = true;
            break;
        };
        step.examined += 1;
        step.reached = Some(row.cursor());
        if q.matcher.matches(&row.entry.fields) {
            step.found = Some(row);
            break;
        }
    }
    step.commands = u32::try_from(scan.commands).unwrap_or(u32::MAX);
    Ok(step)
}
