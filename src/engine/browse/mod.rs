//! Looking at a stream's entries at a bounded cost, for the dashboard's
//! entries view and `streamlab read`: where to start ([`position`]), what
//! to look for ([`matcher`]), pages of a logical stream merged over its
//! partitions ([`page`]), the whole-range scan `read` streams ([`scan`]),
//! bounded search steps ([`search`]) and each entry's place in a group
//! ([`status`]).
//!
//! A logical stream is its list of partition keys (one for a plain
//! stream). Ids repeat across partitions, so a place in it is an id and a
//! partition ([`Cursor`]), ordered by id first: merging partitions by id
//! is merging them by the time the ids carry.

pub mod glob;
pub mod matcher;
pub mod page;
pub mod position;
pub mod scan;
pub mod search;
pub mod status;

use crate::redis::EntryId;
use crate::redis::reply::RawEntry;

/// A place in a logical stream: an id, and the partition (index into its
/// keys) that holds it. Ordered by id, then partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cursor {
    pub id: EntryId,
    pub part: usize,
}

/// One entry of a logical stream, with the partition it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub part: usize,
    pub entry: RawEntry,
}

impl Row {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            id: self.entry.id,
            part: self.part,
        }
    }
}

/// Which way a page or a scan goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Towards older entries (XREVRANGE): newest first.
    Older,
    /// Towards newer entries (XRANGE): oldest first.
    Newer,
}

/// Where a page or scan starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The end it walks away from: the newest entry going older, the
    /// oldest going newer.
    Edge,
    /// At this place, included.
    At(Cursor),
    /// Just past this place (the next one in the walking direction).
    After(Cursor),
}

/// The ids a walk may not leave (inclusive); `None` is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub lo: Option<EntryId>,
    pub hi: Option<EntryId>,
}

/// What partition `part` contributes to a walk from `from` going `dir`:
/// the id its range starts at (`None` when it starts at the span's edge),
/// or nothing at all (`Err`) when no id is left on that side.
fn start_in(from: Bound, dir: Direction, part: usize) -> Result<Option<EntryId>, ()> {
    let (c, included) = match from {
        Bound::Edge => return Ok(None),
        Bound::At(c) => (c, true),
        Bound::After(c) => (c, false),
    };
    // Rows of partition `part` with this id come before or after `c` in
    // the (id, partition) order; only the ones on the walk's side count.
    let same_id_counts = match dir {
        Direction::Older => part < c.part || (included && part == c.part),
        Direction::Newer => part > c.part || (included && part == c.part),
    };
    if same_id_counts {
        return Ok(Some(c.id));
    }
    match dir {
        Direction::Older => c.id.prev().map(Some).ok_or(()),
        Direction::Newer => c.id.next().map(Some).ok_or(()),
    }
}

/// An entry's fields as the entry view gets them, or word that the entry
/// is gone (an id still pending whose entry was deleted or trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    Fields(Vec<(Vec<u8>, Vec<u8>)>),
    Deleted,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(ms: u64, part: usize) -> Cursor {
        Cursor {
            id: EntryId { ms, seq: 0 },
            part,
        }
    }

    #[test]
    fn each_partition_starts_where_the_merged_order_says() {
        let id = |ms| Ok(Some(EntryId { ms, seq: 0 }));
        let before = Ok(Some(EntryId {
            ms: 4,
            seq: u64::MAX,
        }));
        let after = Ok(Some(EntryId { ms: 5, seq: 1 }));
        // Going older from (5-0, partition 1), included.
        assert_eq!(start_in(Bound::At(c(5, 1)), Direction::Older, 0), id(5));
        assert_eq!(start_in(Bound::At(c(5, 1)), Direction::Older, 1), id(5));
        assert_eq!(start_in(Bound::At(c(5, 1)), Direction::Older, 2), before);
        // Excluded: partition 1's own 5-0 is behind us.
        assert_eq!(start_in(Bound::After(c(5, 1)), Direction::Older, 1), before);
        assert_eq!(start_in(Bound::After(c(5, 1)), Direction::Older, 0), id(5));
        // Going newer.
        assert_eq!(start_in(Bound::After(c(5, 1)), Direction::Newer, 2), id(5));
        assert_eq!(start_in(Bound::After(c(5, 1)), Direction::Newer, 1), after);
        assert_eq!(start_in(Bound::At(c(5, 1)), Direction::Newer, 1), id(5));
        assert_eq!(
            start_in(Bound::After(c(0, 0)), Direction::Older, 0),
            Err(())
        );
        assert_eq!(start_in(Bound::Edge, Direction::Older, 3), Ok(None));
    }
}
