//! The entries screen (`e` on a stream): the stream's entries, newest
//! first, a page of the rows on screen at a time; each entry's status in
//! the selected group; go to an id, a time or an age; search in bounded
//! steps. Every move asks the supervisor for one page (one XREVRANGE or
//! XRANGE per partition, and one XPENDING of the page's range), and the
//! answer replaces or extends the rows here: `update` never waits.
//!
//! A partitioned stream is browsed whole: its partitions merged by id
//! (the time every id carries), each row naming its partition, so a search
//! finds an entry wherever it landed (README "Browsing entries").

use crate::engine::browse::matcher::{Matcher, parse_search};
use crate::engine::browse::page::{Page, PageQuery};
use crate::engine::browse::position::{Position, parse_position};
use crate::engine::browse::search::{SEARCH_BUDGET, SearchQuery, SearchStep};
use crate::engine::browse::status::{Status, status_of};
use crate::engine::browse::{Bound, Cursor, Direction, Fetched, Row, Span};
use crate::output::entries::local_time;
use crate::output::fmt::count;
use crate::redis::{EntryId, PendingEntry};
use crate::supervisor::{BrowseRequest, EngineCommand, SearchRequest};
use crate::tui::action::Intent;
use crate::tui::state::{EntryView, Mode, Prompt, Screen, State};

/// One row on screen: the entry and where it stands in the group.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRow {
    pub row: Row,
    pub status: Option<Status>,
    /// Its pending entry in the group, when the page's XPENDING listed it.
    pub pending: Option<PendingEntry>,
}

/// What the page on its way will do to the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apply {
    /// Replace them (a page going older), selecting this row.
    Replace(Select),
    /// Replace them with a page going newer (oldest first: reversed).
    ReplaceReversed(Select),
    /// Put the newer rows above the ones shown, keeping the page's size.
    Prepend(Select),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    First,
    Last,
    /// Keep the selected row's index.
    Same,
}

/// A search and how far it got.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub matcher: Matcher,
    pub dir: Direction,
    /// Where the next step starts.
    pub reached: Option<Cursor>,
    /// Entries examined since the last match (or the search's start).
    pub examined: u64,
    /// A step is on its way (Esc stops waiting for it).
    pub running: bool,
}

/// The entries screen's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntriesView {
    /// The logical stream's partition keys (one for a plain stream).
    pub keys: Vec<String>,
    /// The rows on screen, newest first.
    pub rows: Vec<EntryRow>,
    pub selected: usize,
    /// Rows that fit (the page size asked for).
    pub height: usize,
    /// At the newest entry: new ones are shown as they come.
    pub following: bool,
    /// The request on its way and what its answer does.
    pub waiting: Option<(u64, Apply)>,
    /// The last request number (answers to older ones are dropped).
    pub seq: u64,
    pub search: Option<Search>,
    /// A line under the rows: where a search got, or why a move did nothing.
    pub note: Option<String>,
    /// Commands the last move took, and all since the dashboard started.
    pub last_cost: u32,
    pub commands_total: u64,
}

impl EntriesView {
    pub fn selected_row(&self) -> Option<&EntryRow> {
        self.rows
            .get(self.selected.min(self.rows.len().saturating_sub(1)))
    }

    pub fn is_partitioned(&self) -> bool {
        self.keys.len() > 1
    }
}

/// `e` on the stream screen: open the entries, newest first, following.
pub fn open(state: &mut State) -> Vec<EngineCommand> {
    let keys = if state.partitions.is_empty() {
        vec![state.view.stream.clone()]
    } else {
        state.partitions.iter().map(|p| p.key.clone()).collect()
    };
    let seq = state.entries.seq;
    state.entries = EntriesView {
        keys,
        following: true,
        height: state.entries.height.max(1),
        seq,
        commands_total: state.entries.commands_total,
        ..EntriesView::default()
    };
    state.screen = Screen::Entries;
    state.status =
        Some("entries newest first: j/k move, g goes to, / searches, Esc goes back".into());
    newest(state)
}

fn query(from: Bound, dir: Direction, count: usize) -> PageQuery {
    PageQuery {
        from,
        dir,
        count: count.max(1),
        span: Span::default(),
    }
}

/// Ask for a page; its answer is applied as `apply` says.
fn request(state: &mut State, q: PageQuery, apply: Apply) -> Vec<EngineCommand> {
    let e = &mut state.entries;
    e.seq += 1;
    e.waiting = Some((e.seq, apply));
    e.note = None;
    let group = (!state.view.group.is_empty()).then(|| state.view.group.clone());
    vec![EngineCommand::Browse(BrowseRequest {
        seq: e.seq,
        keys: e.keys.clone(),
        query: q,
        group,
    })]
}

fn newest(state: &mut State) -> Vec<EngineCommand> {
    state.entries.following = true;
    let h = state.entries.height;
    request(
        state,
        query(Bound::Edge, Direction::Older, h),
        Apply::Replace(Select::First),
    )
}

fn oldest(state: &mut State) -> Vec<EngineCommand> {
    state.entries.following = false;
    let h = state.entries.height;
    let q = query(Bound::Edge, Direction::Newer, h);
    request(state, q, Apply::ReplaceReversed(Select::Last))
}

/// A key on the entries screen (no overlay open).
pub fn on_intent(state: &mut State, intent: Intent) -> Vec<EngineCommand> {
    match intent {
        Intent::Down => down(state),
        Intent::Up => up(state),
        Intent::PageDown => page_down(state),
        Intent::PageUp => page_up(state),
        Intent::Oldest => oldest(state),
        Intent::Newest => newest(state),
        Intent::GoTo => prompt(state, Prompt::GoTo),
        Intent::Filter => prompt(state, Prompt::Search),
        Intent::NextMatch => step_search(state, Direction::Older),
        Intent::PrevMatch => step_search(state, Direction::Newer),
        Intent::View => view(state),
        Intent::Close => close(state),
        _ => Vec::new(),
    }
}

fn prompt(state: &mut State, prompt: Prompt) -> Vec<EngineCommand> {
    state.view.mode = Mode::Input {
        prompt,
        text: String::new(),
    };
    Vec::new()
}

fn down(state: &mut State) -> Vec<EngineCommand> {
    let e = &mut state.entries;
    e.following = false;
    if e.selected + 1 < e.rows.len() {
        e.selected += 1;
        return Vec::new();
    }
    // At the bottom: the page moves one row older.
    let Some(second) = e.rows.get(1).map(|r| r.row.cursor()) else {
        return Vec::new();
    };
    let q = query(Bound::At(second), Direction::Older, e.height);
    request(state, q, Apply::Replace(Select::Last))
}

fn up(state: &mut State) -> Vec<EngineCommand> {
    let e = &mut state.entries;
    if e.selected > 0 {
        e.selected -= 1;
        return Vec::new();
    }
    let Some(top) = e.rows.first().map(|r| r.row.cursor()) else {
        return newest(state);
    };
    request(
        state,
        query(Bound::After(top), Direction::Newer, 1),
        Apply::Prepend(Select::First),
    )
}

fn page_down(state: &mut State) -> Vec<EngineCommand> {
    let e = &mut state.entries;
    e.following = false;
    let Some(last) = e.rows.last().map(|r| r.row.cursor()) else {
        return Vec::new();
    };
    let q = query(Bound::After(last), Direction::Older, e.height);
    request(state, q, Apply::Replace(Select::First))
}

fn page_up(state: &mut State) -> Vec<EngineCommand> {
    let e = &state.entries;
    let Some(top) = e.rows.first().map(|r| r.row.cursor()) else {
        return newest(state);
    };
    let q = query(Bound::After(top), Direction::Newer, e.height);
    request(state, q, Apply::Prepend(Select::Same))
}

/// The `g` prompt's answer: the newest entry at or before the position.
pub fn go_to(state: &mut State, text: &str) -> Vec<EngineCommand> {
    let at = match parse_position(text, state.now_ms, &state.tz.0) {
        Ok(at) => at,
        Err(e) => {
            state.status = Some(e);
            return Vec::new();
        }
    };
    match at {
        Position::Start => oldest(state),
        Position::End => newest(state),
        other => {
            let id = other.upper().unwrap_or(EntryId::ZERO);
            state.entries.following = false;
            state.status = Some(format!(
                "at {} ({}): the newest entry at or before it, older ones below",
                text.trim(),
                local_time(id.ms, &state.tz.0)
            ));
            // Every partition's entries with that very id are included.
            let c = Cursor {
                id,
                part: usize::MAX,
            };
            let h = state.entries.height;
            request(
                state,
                query(Bound::At(c), Direction::Older, h),
                Apply::Replace(Select::First),
            )
        }
    }
}

/// The `/` prompt's answer: start a search below the selected row.
pub fn start_search(state: &mut State, text: &str) -> Vec<EngineCommand> {
    let matcher = match parse_search(text) {
        Ok(m) => m,
        Err(e) => {
            state.status = Some(e);
            return Vec::new();
        }
    };
    let reached = state.entries.selected_row().map(|r| r.row.cursor());
    state.entries.search = Some(Search {
        matcher,
        dir: Direction::Older,
        // The selected row itself is examined too.
        reached: reached.and_then(|c| after_of(c, Direction::Newer)),
        examined: 0,
        running: false,
    });
    send_step(state)
}

/// The place just past `c` going the other way, so a walk from it
/// includes `c` itself.
fn after_of(c: Cursor, dir: Direction) -> Option<Cursor> {
    match dir {
        Direction::Newer => Some(Cursor {
            id: c.id,
            part: c.part.checked_add(1)?,
        }),
        Direction::Older => c.part.checked_sub(1).map(|part| Cursor { id: c.id, part }),
    }
}

/// `n` (older) / `N` (newer): the next step of the search.
fn step_search(state: &mut State, dir: Direction) -> Vec<EngineCommand> {
    let selected = state.entries.selected_row().map(|r| r.row.cursor());
    let Some(search) = &mut state.entries.search else {
        state.status = Some("no search yet: / searches (field=value, field~text, or text)".into());
        return Vec::new();
    };
    if search.dir != dir {
        // Turning round starts from the selected row.
        search.dir = dir;
        search.reached = selected;
        search.examined = 0;
    }
    send_step(state)
}

fn send_step(state: &mut State) -> Vec<EngineCommand> {
    let e = &mut state.entries;
    let Some(search) = &mut e.search else {
        return Vec::new();
    };
    search.running = true;
    e.seq += 1;
    e.waiting = None;
    e.note = Some(format!("searching {}…", search.matcher.describe()));
    vec![EngineCommand::Search(SearchRequest {
        seq: e.seq,
        keys: e.keys.clone(),
        query: SearchQuery {
            after: search.reached,
            dir: search.dir,
            matcher: search.matcher.clone(),
            budget: SEARCH_BUDGET,
        },
    })]
}

/// Enter: the whole entry, from the row already on screen.
fn view(state: &mut State) -> Vec<EngineCommand> {
    let Some(r) = state.entries.selected_row() else {
        state.status = Some("no entry selected".into());
        return Vec::new();
    };
    let key = state
        .entries
        .is_partitioned()
        .then(|| state.entries.keys[r.row.part].clone());
    state.view.mode = Mode::Entry(EntryView {
        id: r.row.entry.id,
        key,
        fields: Some(Fetched::Fields(r.row.entry.fields.clone())),
        scroll: 0,
        raw: false,
    });
    Vec::new()
}

/// Esc: stop a running search, else back to the stream screen.
fn close(state: &mut State) -> Vec<EngineCommand> {
    if let Some(s) = &mut state.entries.search
        && s.running
    {
        s.running = false;
        state.entries.seq += 1;
        state.entries.note = Some(format!(
            "search for {} stopped: n goes on",
            s.matcher.describe()
        ));
        return Vec::new();
    }
    state.screen = Screen::Stream;
    state.entries.waiting = None;
    state.status = Some("back on the stream: e shows its entries".into());
    Vec::new()
}

/// A page arrived: apply it if it answers the request still waited for.
pub fn on_page(
    state: &mut State,
    seq: u64,
    page: Page,
    pending: Vec<(usize, PendingEntry)>,
    commands: u32,
) {
    let e = &mut state.entries;
    e.commands_total += u64::from(commands);
    e.last_cost = commands;
    let Some((waited, apply)) = e.waiting else {
        return;
    };
    if waited != seq {
        return;
    }
    e.waiting = None;
    let rows: Vec<EntryRow> = page
        .rows
        .into_iter()
        .map(|row| {
            let p = pending
                .iter()
                .find(|(part, p)| *part == row.part && p.id == row.entry.id)
                .map(|(_, p)| p.clone());
            EntryRow {
                row,
                status: None,
                pending: p,
            }
        })
        .collect();
    let h = e.height.max(1);
    match apply {
        Apply::Replace(select) => place(e, rows, select),
        Apply::ReplaceReversed(select) => place(e, rows.into_iter().rev().collect(), select),
        Apply::Prepend(select) => {
            let asked_a_page = select == Select::Same;
            let reached_newest = if asked_a_page {
                rows.len() < h
            } else {
                rows.is_empty()
            };
            let mut all: Vec<EntryRow> = rows.into_iter().rev().collect();
            let added = all.len();
            all.append(&mut e.rows);
            all.truncate(h);
            e.rows = all;
            e.selected = if asked_a_page { 0 } else { e.selected };
            e.following = reached_newest && e.selected == 0;
            if added == 0 && !asked_a_page {
                e.note = Some("this is the newest entry: new ones appear here".into());
            }
        }
    }
    refresh_statuses(state);
}

fn place(e: &mut EntriesView, rows: Vec<EntryRow>, select: Select) {
    if rows.is_empty() && !e.rows.is_empty() && !e.following {
        e.note = Some("no more entries this way".into());
        return;
    }
    e.rows = rows;
    e.selected = match select {
        Select::First => 0,
        Select::Last => e.rows.len().saturating_sub(1),
        Select::Same => e.selected.min(e.rows.len().saturating_sub(1)),
    };
}

/// A search step arrived.
pub fn on_search(state: &mut State, seq: u64, step: SearchStep) -> Vec<EngineCommand> {
    let e = &mut state.entries;
    e.commands_total += u64::from(step.commands);
    e.last_cost = step.commands;
    let tz = state.tz.0.clone();
    let Some(search) = &mut e.search else {
        return Vec::new();
    };
    if seq != e.seq || !search.running {
        return Vec::new();
    }
    search.running = false;
    search.examined += step.examined as u64;
    search.reached = step.reached;
    let what = search.matcher.describe();
    let way = match search.dir {
        Direction::Older => ("back", "oldest"),
        Direction::Newer => ("forward", "newest"),
    };
    if let Some(found) = step.found {
        let c = found.cursor();
        search.examined = 0;
        e.following = false;
        let h = e.height;
        let q = query(Bound::At(c), Direction::Older, h);
        let commands = request(state, q, Apply::Replace(Select::First));
        state.entries.note = Some(format!(
            "match for {what} at {}: n next (older), N previous (newer)",
            local_time(c.id.ms, &tz)
        ));
        return commands;
    }
    let examined = count(search.examined);
    e.note = Some(if step.exhausted {
        format!(
            "no match for {what}: searched {examined} entries to the {} entry",
            way.1
        )
    } else {
        let to = step
            .reached
            .map(|c| local_time(c.id.ms, &tz))
            .unwrap_or_default();
        format!(
            "searched {examined} entries {} to {to}, no match yet: n goes on",
            way.0
        )
    });
    Vec::new()
}

/// Each row's status from the group's last-delivered id (polled, per
/// partition) and the page's pending entries.
pub fn refresh_statuses(state: &mut State) {
    let group = state.view.group.clone();
    let last: Vec<Option<EntryId>> = (0..state.entries.keys.len())
        .map(|part| {
            let snap = if state.partitions.is_empty() {
                state.snapshot.as_deref()
            } else {
                state.partitions.get(part).map(|p| &*p.snapshot)
            };
            snap?.group_info(&group)?.last_delivered_id
        })
        .collect();
    for r in &mut state.entries.rows {
        r.status = (!group.is_empty()).then(|| {
            let ld = last.get(r.row.part).copied().flatten();
            status_of(r.row.entry.id, ld, r.pending.as_ref())
        });
    }
}

/// A poll arrived: statuses follow the group, and at the newest entry the
/// page follows new entries (one page when the stream's last id moved).
pub fn on_poll(state: &mut State) -> Vec<EngineCommand> {
    if state.screen != Screen::Entries {
        return Vec::new();
    }
    refresh_statuses(state);
    let e = &state.entries;
    let last = state
        .snapshot
        .as_ref()
        .and_then(|s| s.stream.as_ref())
        .and_then(|s| s.last_id);
    let top = e.rows.first().map(|r| r.row.entry.id);
    let moved = last.is_some() && last != top;
    if e.following && e.selected == 0 && e.waiting.is_none() && moved {
        return newest(state);
    }
    Vec::new()
}

/// Whether the row matches the search on screen (it is highlighted).
pub fn highlighted(state: &State, row: &EntryRow) -> bool {
    state
        .entries
        .search
        .as_ref()
        .is_some_and(|s| s.matcher.matches(&row.row.entry.fields))
}

#[cfg(test)]
#[path = "entries_tests.rs"]
pub(crate) mod tests;
