//! One page of a logical stream: one XREVRANGE (going older) or XRANGE
//! (going newer) of `count` entries per partition, merged by (id,
//! partition) and cut to `count`; and the page's pending entries in one
//! group, one XPENDING of the page's id range per partition. A page costs
//! the same whatever the stream's length.

use super::{Bound, Direction, Row, Span, start_in};
use crate::redis::{
    Conn, EntryId, PendingEntry, RedisFailure, xpending_range, xrange_raw, xrevrange_raw,
};

/// Which page to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageQuery {
    pub from: Bound,
    pub dir: Direction,
    pub count: usize,
    pub span: Span,
}

/// A page read: its rows in walking order, and the commands it took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub rows: Vec<Row>,
    pub commands: u32,
}

/// The ids partition `part` is read between (inclusive, oldest first), or
/// `None` when it has nothing on the walk's side of `from` in `span`.
pub(super) fn range_of(
    from: Bound,
    dir: Direction,
    span: Span,
    part: usize,
) -> Option<(Option<EntryId>, Option<EntryId>)> {
    let start = start_in(from, dir, part).ok()?;
    let (lo, hi) = match dir {
        Direction::Older => (span.lo, min_of(start, span.hi)),
        Direction::Newer => (max_of(start, span.lo), span.hi),
    };
    match (lo, hi) {
        (Some(l), Some(h)) if l > h => None,
        range => Some(range),
    }
}

fn min_of(a: Option<EntryId>, b: Option<EntryId>) -> Option<EntryId> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_of(a: Option<EntryId>, b: Option<EntryId>) -> Option<EntryId> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

pub(super) fn lo_arg(id: Option<EntryId>) -> String {
    id.map_or_else(|| "-".to_owned(), |i| i.to_string())
}

pub(super) fn hi_arg(id: Option<EntryId>) -> String {
    id.map_or_else(|| "+".to_owned(), |i| i.to_string())
}

/// Read one partition's share of a walk: up to `count` entries, in the
/// walk's order.
pub(super) async fn read_part(
    conn: &mut Conn,
    key: &str,
    dir: Direction,
    range: (Option<EntryId>, Option<EntryId>),
    count: usize,
) -> Result<Vec<crate::redis::reply::RawEntry>, RedisFailure> {
    let (lo, hi) = (lo_arg(range.0), hi_arg(range.1));
    match dir {
        Direction::Older => xrevrange_raw(conn, key, &hi, &lo, count).await,
        Direction::Newer => xrange_raw(conn, key, &lo, &hi, count).await,
    }
}

/// Read the page `q` asks for from the partitions `keys`.
pub async fn page(conn: &mut Conn, keys: &[String], q: &PageQuery) -> Result<Page, RedisFailure> {
    let mut out = Page::default();
    for (part, key) in keys.iter().enumerate() {
        let Some(range) = range_of(q.from, q.dir, q.span, part) else {
            continue;
        };
        let entries = read_part(conn, key, q.dir, range, q.count).await?;
        out.commands += 1;
        out.rows
            .extend(entries.into_iter().map(|entry| Row { part, entry }));
    }
    if keys.len() > 1 {
        match q.dir {
            Direction::Older => out.rows.sort_by_key(|r| std::cmp::Reverse(r.cursor())),
            Direction::Newer => out.rows.sort_by_key(Row::cursor),
        }
    }
    out.rows.truncate(q.count);
    Ok(out)
}

/// The pending entries of `group` among `rows`: one XPENDING per partition
/// with rows, over their id range, COUNT the rows it has there. A
/// partition without the group has none. Returns them with their
/// partition, and the commands sent.
pub async fn pending_of(
    conn: &mut Conn,
    keys: &[String],
    group: &str,
    rows: &[Row],
) -> Result<(Vec<(usize, PendingEntry)>, u32), RedisFailure> {
    let mut out = Vec::new();
    let mut commands = 0;
    for (part, key) in keys.iter().enumerate() {
        let ids = rows.iter().filter(|r| r.part == part).map(|r| r.entry.id);
        let (Some(lo), Some(hi), n) = ids.fold((None, None, 0), |(lo, hi, n), id| {
            (min_of(lo, Some(id)), max_of(hi, Some(id)), n + 1)
        }) else {
            continue;
        };
        commands += 1;
        let (lo, hi) = (lo.to_string(), hi.to_string());
        match xpending_range(conn, key, group, &lo, &hi, n, None).await {
            Ok(list) => out.extend(list.into_iter().map(|p| (part, p))),
            Err(RedisFailure::NoGroup) => {}
            Err(e) => return Err(e),
        }
    }
    Ok((out, commands))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::browse::Cursor;

    fn id(ms: u64) -> EntryId {
        EntryId { ms, seq: 0 }
    }

    #[test]
    fn a_span_limits_each_partition_range() {
        let span = Span {
            lo: Some(id(3)),
            hi: Some(id(9)),
        };
        assert_eq!(
            range_of(Bound::Edge, Direction::Older, span, 0),
            Some((Some(id(3)), Some(id(9))))
        );
        let at = Bound::At(Cursor { id: id(5), part: 0 });
        assert_eq!(
            range_of(at, Direction::Older, span, 0),
            Some((Some(id(3)), Some(id(5))))
        );
        assert_eq!(
            range_of(at, Direction::Newer, span, 0),
            Some((Some(id(5)), Some(id(9))))
        );
        let below = Bound::At(Cursor { id: id(2), part: 0 });
        assert_eq!(range_of(below, Direction::Older, span, 0), None);
        assert_eq!(lo_arg(None), "-");
        assert_eq!(hi_arg(Some(id(4))), "4-0");
    }
}
