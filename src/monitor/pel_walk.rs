//! Walking a group's PEL in bounded pages, in rotation: poison entries
//! (delivered at least `--poison-after` times) and entries deleted while
//! pending, found at a cost per poll that does not grow with the PEL.
//!
//! Each step reads one page per group (`XPENDING key group <cursor> + COUNT
//! n`, never IDLE, which walks the whole PEL until it finds COUNT matches)
//! and moves the group's cursor past it; a short page ends a pass and the
//! next step starts again from the PEL's start. What a group reports
//! merges the two most recent passes: entries below the cursor come from
//! the pass under way, the rest from the last complete one, so an entry
//! acked since is dropped when the walk next passes it.
//!
//! Whether a pending id's entry is gone ([`deleted_flags`]) is decided by
//! [`crate::monitor::dangling`]: from XINFO STREAM's figures the poll
//! already has where they tell (below the first entry: gone; above
//! `max-deleted-entry-id`: there), else one `XRANGE id id` per id, at most
//! [`DELETED_CHECKS_PER_STEP`] a walk step; the rest stay unknown.

use std::collections::HashMap;

use crate::monitor::dangling;
use crate::monitor::snapshot::{GroupSnapshot, Snapshot};
use crate::redis::{
    Conn, EntryId, PendingEntry, RedisFailure, StreamInfo, parse_pending_range, xpending_range_cmd,
};

/// Entries per page in the dashboard's and `monitor`'s walk.
pub const WALK_PAGE: usize = 100;
/// Groups one step walks a page of (the others wait for their turn).
pub const WALK_GROUPS_PER_STEP: usize = 4;
/// Per-id existence checks one step may send.
pub const DELETED_CHECKS_PER_STEP: usize = 32;

/// One group's poison entries and how much of its PEL they were drawn from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoisonScan {
    /// Entries delivered at least the threshold's times, by id.
    pub poison: Vec<PendingEntry>,
    /// Whether the walk has been through the whole PEL at least once.
    pub complete: bool,
    /// PEL entries read: in the last complete pass, or so far when none is.
    pub scanned: u64,
    /// Of those, entries found deleted while pending.
    pub deleted: u64,
    /// Of those, entries whose existence was not checked (budget).
    pub unchecked: u64,
}

/// One pass over a group's PEL.
#[derive(Debug, Clone, Default)]
struct Pass {
    poison: Vec<PendingEntry>,
    scanned: u64,
    deleted: u64,
    unchecked: u64,
}

#[derive(Debug, Clone, Default)]
struct GroupWalk {
    /// Where the next page starts; `None` at the PEL's start.
    cursor: Option<EntryId>,
    current: Pass,
    last: Option<Pass>,
}

impl GroupWalk {
    /// The merged view: the pass under way below the cursor, the last
    /// complete pass above it.
    fn report(&self) -> PoisonScan {
        let mut poison = self.current.poison.clone();
        if let (Some(last), Some(cursor)) = (&self.last, self.cursor) {
            poison.extend(last.poison.iter().filter(|p| p.id >= cursor).cloned());
        } else if let (Some(last), None) = (&self.last, self.cursor) {
            poison.clone_from(&last.poison);
        }
        let shown = self.last.as_ref().unwrap_or(&self.current);
        PoisonScan {
            poison,
            complete: self.last.is_some(),
            scanned: shown.scanned,
            deleted: shown.deleted,
            unchecked: shown.unchecked,
        }
    }

    /// Take in one page read from the cursor; `full` when it held as many
    /// entries as asked (the pass goes on).
    fn take(
        &mut self,
        page: &[PendingEntry],
        deleted: &[Option<bool>],
        poison_after: u64,
        full: bool,
    ) {
        let c = &mut self.current;
        c.scanned += page.len() as u64;
        c.deleted += deleted.iter().filter(|d| **d == Some(true)).count() as u64;
        c.unchecked += deleted.iter().filter(|d| d.is_none()).count() as u64;
        c.poison.extend(
            page.iter()
                .filter(|p| p.deliveries >= poison_after)
                .cloned(),
        );
        match page.last() {
            Some(p) if full => self.cursor = p.id.next(),
            _ => {
                self.last = Some(std::mem::take(&mut self.current));
                self.cursor = None;
            }
        }
    }
}

/// The walker of one stream's groups, kept between polls.
#[derive(Debug, Default)]
pub struct PelWalker {
    key: String,
    groups: HashMap<String, GroupWalk>,
    /// The group whose turn is next.
    turn: usize,
}

impl PelWalker {
    /// Walk one page of up to [`WALK_GROUPS_PER_STEP`] groups of `snap`
    /// (the first `first` of them when named, the others in turn) and
    /// put every group's merged report on `snap`.
    pub async fn step(
        &mut self,
        conn: &mut Conn,
        snap: &mut Snapshot,
        poison_after: u64,
        first: Option<&str>,
    ) -> Result<(), RedisFailure> {
        self.follow(snap);
        let chosen = self.choose(snap, first);
        for name in chosen {
            self.walk_page(conn, snap, &name, WALK_PAGE, poison_after)
                .await?;
            snap.commands += 1;
        }
        self.report(snap);
        Ok(())
    }

    /// Walk every group of `snap` to the end of a pass, `max_pages` pages
    /// of `page` entries each at most (`monitor --once`).
    pub async fn complete(
        &mut self,
        conn: &mut Conn,
        snap: &mut Snapshot,
        poison_after: u64,
        page: usize,
        max_pages: usize,
    ) -> Result<(), RedisFailure> {
        self.follow(snap);
        let names: Vec<String> = walkable(snap).map(|g| g.info.name.clone()).collect();
        for name in names {
            for _ in 0..max_pages {
                self.walk_page(conn, snap, &name, page, poison_after)
                    .await?;
                snap.commands += 1;
                if self.groups.get(&name).is_some_and(|g| g.last.is_some()) {
                    break;
                }
            }
        }
        self.report(snap);
        Ok(())
    }

    /// Forget the walk of another stream, and of groups no longer there.
    fn follow(&mut self, snap: &Snapshot) {
        if self.key != snap.key {
            self.key.clone_from(&snap.key);
            self.groups.clear();
        }
        // A group gone, or whose PEL emptied, starts again from nothing.
        self.groups
            .retain(|name, _| walkable(snap).any(|g| g.info.name == *name));
    }

    fn choose(&mut self, snap: &Snapshot, first: Option<&str>) -> Vec<String> {
        let names: Vec<&str> = walkable(snap).map(|g| g.info.name.as_str()).collect();
        let mut chosen: Vec<String> = first
            .filter(|f| names.contains(f))
            .map(str::to_owned)
            .into_iter()
            .collect();
        let others: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| Some(*n) != first)
            .collect();
        let room = WALK_GROUPS_PER_STEP
            .saturating_sub(chosen.len())
            .min(others.len());
        for i in 0..room {
            chosen.push(others[(self.turn + i) % others.len()].to_owned());
        }
        self.turn = self.turn.wrapping_add(room);
        chosen
    }

    async fn walk_page(
        &mut self,
        conn: &mut Conn,
        snap: &Snapshot,
        group: &str,
        count: usize,
        poison_after: u64,
    ) -> Result<(), RedisFailure> {
        let walk = self.groups.entry(group.to_owned()).or_default();
        let start = walk
            .cursor
            .map_or_else(|| "-".to_owned(), |c| c.to_string());
        let c = xpending_range_cmd(&snap.key, group, &start, "+", count, None);
        let page = parse_pending_range(&conn.run(&c, "XPENDING", false).await?)?;
        let ids: Vec<EntryId> = page.iter().map(|p| p.id).collect();
        let deleted = deleted_flags(
            conn,
            &snap.key,
            snap.stream.as_ref(),
            &ids,
            DELETED_CHECKS_PER_STEP,
        )
        .await?;
        let walk = self.groups.entry(group.to_owned()).or_default();
        walk.take(&page, &deleted, poison_after, page.len() >= count);
        Ok(())
    }

    /// Put the last walk's reports on `snap` without walking (a poll
    /// between two steps), forgetting groups gone or emptied.
    pub fn report_last(&mut self, snap: &mut Snapshot) {
        self.follow(snap);
        self.report(snap);
    }

    fn report(&self, snap: &mut Snapshot) {
        for g in &mut snap.groups {
            let empty = PoisonScan {
                complete: g.pending.count == 0,
                ..PoisonScan::default()
            };
            let walked = self.groups.get(&g.info.name).map(GroupWalk::report);
            g.poison = Some(walked.unwrap_or(empty));
        }
    }
}

/// Groups with entries to walk; an empty PEL is a complete, empty scan.
fn walkable(snap: &Snapshot) -> impl Iterator<Item = &GroupSnapshot> {
    snap.groups.iter().filter(|g| g.pending.count > 0)
}

/// For each of `ids` (pending ids of `key`, whose XINFO STREAM figures are
/// `info`, `None` when the key is gone): `Some(true)` when its entry is no
/// longer in the stream, `Some(false)` when it is, `None` when telling
/// would take more than `max_checks` commands (see
/// [`crate::monitor::dangling`]).
pub async fn deleted_flags(
    conn: &mut Conn,
    key: &str,
    info: Option<&StreamInfo>,
    ids: &[EntryId],
    max_checks: usize,
) -> Result<Vec<Option<bool>>, RedisFailure> {
    let Some(info) = info else {
        return Ok(vec![Some(true); ids.len()]);
    };
    let (flags, _) = dangling::deleted_flags_up_to(conn, key, info, ids, max_checks).await?;
    Ok(flags)
}

/// Which pending entries a listing or a repair picks (`streamlab pending`,
/// the dashboard's `*`). Idle time and deliveries are filtered here, on
/// pages read without XPENDING's IDLE option.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingFilter {
    pub consumer: Option<String>,
    pub min_idle_ms: u64,
    pub min_deliveries: u64,
    /// Only these ids; the PEL is then looked up id by id, not walked.
    pub ids: Option<Vec<EntryId>>,
}

impl PendingFilter {
    pub fn matches(&self, p: &PendingEntry) -> bool {
        p.idle_ms >= self.min_idle_ms
            && p.deliveries >= self.min_deliveries
            && self.consumer.as_ref().is_none_or(|c| *c == p.consumer)
    }
}

/// Entries per XPENDING page (or ids per pipeline) when selecting.
pub const SELECT_PAGE: usize = 500;

/// The matching entries of a group's PEL, a page at a time, in id order.
/// A page is read from where the last one ended, so entries acked or
/// claimed behind the walk (a repair acting page by page) do not move it.
#[derive(Debug)]
pub struct Selector {
    key: String,
    group: String,
    filter: PendingFilter,
    /// Where the next XPENDING page starts; `None` once the walk is done.
    cursor: Option<EntryId>,
    /// With `ids`: how many were looked up so far.
    looked_up: usize,
    /// Asked-for ids that were not pending.
    pub not_pending: Vec<EntryId>,
}

impl Selector {
    pub fn new(key: &str, group: &str, filter: PendingFilter) -> Self {
        Self {
            key: key.to_owned(),
            group: group.to_owned(),
            filter,
            cursor: Some(EntryId::ZERO),
            looked_up: 0,
            not_pending: Vec::new(),
        }
    }

    /// The next page's matches (possibly none); `None` when the PEL (or
    /// the id list) has been read to its end.
    pub async fn next_page(
        &mut self,
        conn: &mut Conn,
    ) -> Result<Option<Vec<PendingEntry>>, RedisFailure> {
        if self.filter.ids.is_some() {
            return self.look_up(conn).await;
        }
        let Some(start) = self.cursor else {
            return Ok(None);
        };
        let consumer = self.filter.consumer.as_deref();
        let c = xpending_range_cmd(
            &self.key,
            &self.group,
            &start.to_string(),
            "+",
            SELECT_PAGE,
            consumer,
        );
        let page = parse_pending_range(&conn.run(&c, "XPENDING", false).await?)?;
        self.cursor = match page.last() {
            Some(last) if page.len() >= SELECT_PAGE => last.id.next(),
            _ => None,
        };
        Ok(Some(
            page.into_iter()
                .filter(|p| self.filter.matches(p))
                .collect(),
        ))
    }

    /// The next chunk of `ids`, each looked up with `XPENDING key group id
    /// id 1` (pipelined).
    async fn look_up(
        &mut self,
        conn: &mut Conn,
    ) -> Result<Option<Vec<PendingEntry>>, RedisFailure> {
        let ids = self.filter.ids.as_deref().unwrap_or_default();
        let chunk: Vec<EntryId> = ids
            .iter()
            .skip(self.looked_up)
            .take(SELECT_PAGE)
            .copied()
            .collect();
        if chunk.is_empty() {
            return Ok(None);
        }
        self.looked_up += chunk.len();
        let mut pipe = ::redis::pipe();
        let consumer = self.filter.consumer.as_deref();
        for id in &chunk {
            let at = id.to_string();
            pipe.add_command(xpending_range_cmd(
                &self.key,
                &self.group,
                &at,
                &at,
                1,
                consumer,
            ));
        }
        let replies = conn
            .run_pipeline(&pipe, "XPENDING", false, chunk.len())
            .await?;
        let mut found = Vec::new();
        for (id, reply) in chunk.into_iter().zip(&replies) {
            match parse_pending_range(reply)?.into_iter().next() {
                Some(p) if self.filter.matches(&p) => found.push(p),
                Some(_) => {}
                None => self.not_pending.push(id),
            }
        }
        Ok(Some(found))
    }
}

#[cfg(test)]
#[path = "pel_walk_tests.rs"]
mod tests;
