//! A walk over a whole range of a logical stream, one entry at a time in
//! (id, partition) order: each partition is read in pages (XRANGE or
//! XREVRANGE COUNT `page`) only when its buffered page runs out, so every
//! entry is read once and memory holds at most one page per partition,
//! whatever the range's length. `read` streams its output from it; a
//! search step walks a bounded part of it.

use std::collections::VecDeque;

use super::page::{range_of, read_part};
use super::{Bound, Cursor, Direction, Row, Span};
use crate::redis::reply::RawEntry;
use crate::redis::{Conn, RedisFailure};

/// One partition's side of the walk.
#[derive(Debug, Default)]
struct Part {
    buf: VecDeque<RawEntry>,
    /// Where its next page starts; `None` once it has no more.
    from: Option<Bound>,
}

pub struct Scan {
    keys: Vec<String>,
    dir: Direction,
    span: Span,
    page: usize,
    parts: Vec<Part>,
    /// Commands sent and entries read so far.
    pub commands: u64,
    pub fetched: u64,
}

impl Scan {
    /// A walk over `keys` going `dir` from `from`, within `span`, reading
    /// `page` entries per command.
    pub fn new(keys: Vec<String>, dir: Direction, from: Bound, span: Span, page: usize) -> Self {
        let parts = keys
            .iter()
            .map(|_| Part {
                buf: VecDeque::new(),
                from: Some(from),
            })
            .collect();
        Self {
            keys,
            dir,
            span,
            page: page.max(1),
            parts,
            commands: 0,
            fetched: 0,
        }
    }

    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The next entry of the walk, `None` at its end.
    pub async fn next(&mut self, conn: &mut Conn) -> Result<Option<Row>, RedisFailure> {
        for part in 0..self.parts.len() {
            if self.parts[part].buf.is_empty() && self.parts[part].from.is_some() {
                self.fill(conn, part).await?;
            }
        }
        let fronts = self
            .parts
            .iter()
            .enumerate()
            .filter_map(|(part, p)| p.buf.front().map(|e| Cursor { id: e.id, part }));
        let best = match self.dir {
            Direction::Newer => fronts.min(),
            Direction::Older => fronts.max(),
        };
        Ok(best.and_then(|c| {
            let entry = self.parts[c.part].buf.pop_front()?;
            Some(Row {
                part: c.part,
                entry,
            })
        }))
    }

    /// Read partition `part`'s next page.
    async fn fill(&mut self, conn: &mut Conn, part: usize) -> Result<(), RedisFailure> {
        let Some(from) = self.parts[part].from.take() else {
            return Ok(());
        };
        let Some(range) = range_of(from, self.dir, self.span, part) else {
            return Ok(());
        };
        let key = &self.keys[part];
        let entries = read_part(conn, key, self.dir, range, self.page).await?;
        self.commands += 1;
        self.fetched += entries.len() as u64;
        let p = &mut self.parts[part];
        // A short page is the range's last; otherwise go on after its end.
        if entries.len() >= self.page
            && let Some(last) = entries.last()
        {
            p.from = Some(Bound::After(Cursor { id: last.id, part }));
        }
        p.buf.extend(entries);
        Ok(())
    }
}
