//! The entries screen's update: what each key asks the supervisor for,
//! and what each answer does to the rows, the statuses and the notes.

use super::*;
use crate::engine::browse::search::SearchStep;
use crate::redis::reply::RawEntry;
use crate::supervisor::Outcome;
use crate::tui::action::Action;
use crate::tui::fixture::{self, NOW, id};
use crate::tui::update::press::{key, typed};
use crate::tui::update::update;

/// Entries 60 s to 1 s old, one a second, newest first.
pub(crate) fn rows(from_s: u64, to_s: u64) -> Vec<Row> {
    (from_s..=to_s)
        .map(|s| Row {
            part: 0,
            entry: RawEntry {
                id: id(s * 1000, 0),
                fields: vec![
                    (b"order_id".to_vec(), s.to_string().into_bytes()),
                    (b"kind".to_vec(), b"email".to_vec()),
                ],
            },
        })
        .collect()
}

fn answer(
    s: &mut State,
    rows: Vec<Row>,
    pending: Vec<(usize, PendingEntry)>,
) -> Vec<EngineCommand> {
    let seq = s.entries.seq;
    update(
        s,
        Action::Outcome {
            outcome: Outcome::Page {
                seq,
                page: Page { rows, commands: 1 },
                pending,
                commands: 2,
            },
            at_ms: NOW,
        },
    )
}

fn searched(s: &mut State, step: SearchStep) -> Vec<EngineCommand> {
    let seq = s.entries.seq;
    update(
        s,
        Action::Outcome {
            outcome: Outcome::Searched { seq, step },
            at_ms: NOW,
        },
    )
}

fn browse(cmds: &[EngineCommand]) -> &BrowseRequest {
    match cmds {
        [EngineCommand::Browse(b)] => b,
        other => panic!("not one page request: {other:?}"),
    }
}

/// The fixture opened on its entries, 5 rows a page, the newest page shown.
pub(crate) fn opened() -> State {
    let mut s = fixture::state();
    s.view.group = "workers".into();
    s.entries.height = 5;
    let cmds = key(&mut s, Intent::Entries);
    let b = browse(&cmds);
    assert_eq!(b.keys, vec!["tasks".to_owned()]);
    assert_eq!(b.query.from, Bound::Edge);
    assert_eq!(b.query.dir, Direction::Older);
    assert_eq!(b.query.count, 5);
    assert_eq!(b.group.as_deref(), Some("workers"));
    let pending = vec![(0, fixture::pending(3_000, "w2", 2_500, 2))];
    answer(&mut s, rows(1, 5), pending);
    s
}

#[test]
fn e_opens_the_newest_page_with_each_entry_s_status() {
    let s = opened();
    assert_eq!(s.screen, Screen::Entries);
    assert!(s.entries.following);
    let statuses: Vec<String> = s
        .entries
        .rows
        .iter()
        .map(|r| crate::tui::panes::entries::words(r.status.as_ref().unwrap()))
        .collect();
    // The fixture's workers group delivered up to 2 s ago.
    assert_eq!(
        statuses,
        vec![
            "undelivered",
            "acked",
            "pending w2 ×2 2.5s",
            "acked",
            "acked"
        ]
    );
    assert_eq!(s.entries.last_cost, 2);
    assert_eq!(s.entries.commands_total, 2);
}

#[test]
fn moving_past_the_page_asks_for_the_next_one_and_only_that() {
    let mut s = opened();
    for _ in 0..4 {
        assert!(key(&mut s, Intent::Down).is_empty());
    }
    assert!(!s.entries.following);
    let cmds = key(&mut s, Intent::Down);
    let b = browse(&cmds);
    assert_eq!(b.query.from, Bound::At(s.entries.rows[1].row.cursor()));
    answer(&mut s, rows(2, 6), Vec::new());
    assert_eq!(s.entries.selected, 4);
    let cmds = key(&mut s, Intent::PageDown);
    let b = browse(&cmds);
    assert_eq!(b.query.from, Bound::After(s.entries.rows[4].row.cursor()));
    answer(&mut s, rows(7, 11), Vec::new());
    assert_eq!(s.entries.selected, 0);
    // Newer: prepended above the rows shown, the page keeps its size.
    let cmds = key(&mut s, Intent::Up);
    assert_eq!(browse(&cmds).query.dir, Direction::Newer);
    answer(&mut s, rows(6, 6), Vec::new());
    let ids: Vec<EntryId> = s.entries.rows.iter().map(|r| r.row.entry.id).collect();
    assert_eq!(
        ids,
        vec![
            id(6000, 0),
            id(7000, 0),
            id(8000, 0),
            id(9000, 0),
            id(10_000, 0)
        ]
    );
}

#[test]
fn an_answer_to_an_older_request_is_dropped() {
    let mut s = opened();
    key(&mut s, Intent::PageDown);
    let stale = s.entries.seq;
    key(&mut s, Intent::Oldest);
    update(
        &mut s,
        Action::Outcome {
            outcome: Outcome::Page {
                seq: stale,
                page: Page {
                    rows: rows(30, 34),
                    commands: 1,
                },
                pending: Vec::new(),
                commands: 1,
            },
            at_ms: NOW,
        },
    );
    assert_eq!(s.entries.rows[0].row.entry.id, id(1000, 0));
    // Home: the oldest page, oldest row selected.
    answer(&mut s, rows(56, 60).into_iter().rev().collect(), Vec::new());
    assert_eq!(s.entries.rows[0].row.entry.id, id(56_000, 0));
    assert_eq!(s.entries.selected, 4);
}

#[test]
fn at_the_newest_new_entries_are_followed_and_not_when_scrolled() {
    let mut s = opened();
    let poll = |s: &mut State| crate::tui::entries::on_poll(s);
    // The fixture's stream ends at an id newer than the page's top.
    assert_eq!(browse(&poll(&mut s)).query.from, Bound::Edge);
    answer(&mut s, rows(1, 5), Vec::new());
    key(&mut s, Intent::Down);
    assert!(poll(&mut s).is_empty(), "scrolled: not following");
    let cmds = key(&mut s, Intent::Newest);
    assert!(s.entries.following);
    assert_eq!(browse(&cmds).query.from, Bound::Edge);
}

#[test]
fn g_goes_to_a_time_and_refuses_nonsense() {
    let mut s = opened();
    key(&mut s, Intent::GoTo);
    typed(&mut s, "1700000030000");
    let cmds = key(&mut s, Intent::Submit);
    let c = Cursor {
        id: EntryId {
            ms: 1_700_000_030_000,
            seq: u64::MAX,
        },
        part: usize::MAX,
    };
    assert_eq!(browse(&cmds).query.from, Bound::At(c));
    key(&mut s, Intent::GoTo);
    typed(&mut s, "soon");
    assert!(key(&mut s, Intent::Submit).is_empty());
    assert!(
        s.status
            .as_deref()
            .unwrap_or_default()
            .contains("is not a position")
    );
}

#[test]
fn a_search_goes_in_bounded_steps_and_says_how_far_it_got() {
    let mut s = opened();
    key(&mut s, Intent::Filter);
    typed(&mut s, "order_id=42");
    let cmds = key(&mut s, Intent::Submit);
    let [EngineCommand::Search(r)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(r.query.budget, 10_000);
    assert_eq!(r.query.dir, Direction::Older);
    let reached = Cursor {
        id: id(41_000, 0),
        part: 0,
    };
    let step = SearchStep {
        examined: 10_000,
        reached: Some(reached),
        commands: 10,
        ..SearchStep::default()
    };
    assert!(searched(&mut s, step).is_empty());
    let note = s.entries.note.clone().unwrap_or_default();
    assert_eq!(
        note,
        "searched 10,000 entries back to 2023-11-14 22:13:39.000, no match yet: n goes on"
    );
    // n goes on from there; a match moves the page to it, the note stays.
    let cmds = key(&mut s, Intent::NextMatch);
    let [EngineCommand::Search(r)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(r.query.after, Some(reached));
    let found = rows(42, 42).remove(0);
    let at = found.cursor();
    let step = SearchStep {
        found: Some(found),
        examined: 1,
        reached: Some(at),
        ..SearchStep::default()
    };
    let cmds = searched(&mut s, step);
    assert_eq!(browse(&cmds).query.from, Bound::At(at));
    answer(&mut s, rows(42, 46), Vec::new());
    assert!(
        s.entries
            .note
            .clone()
            .unwrap_or_default()
            .starts_with("match for order_id=42")
    );
    assert!(highlighted(&s, &s.entries.rows[0]));
    assert!(!highlighted(&s, &s.entries.rows[1]));
}

#[test]
fn esc_stops_a_running_search_then_goes_back() {
    let mut s = opened();
    key(&mut s, Intent::Filter);
    typed(&mut s, "email");
    key(&mut s, Intent::Submit);
    key(&mut s, Intent::Close);
    assert_eq!(s.screen, Screen::Entries);
    assert!(
        s.entries
            .note
            .clone()
            .unwrap_or_default()
            .contains("stopped")
    );
    // The step's late answer changes nothing.
    let found = rows(9, 9).remove(0);
    let step = SearchStep {
        found: Some(found),
        ..SearchStep::default()
    };
    let seq = s.entries.seq - 1;
    let cmds = update(
        &mut s,
        Action::Outcome {
            outcome: Outcome::Searched { seq, step },
            at_ms: NOW,
        },
    );
    assert!(cmds.is_empty());
    key(&mut s, Intent::Close);
    assert_eq!(s.screen, Screen::Stream);
}

#[test]
fn enter_opens_the_whole_entry_from_the_row() {
    let mut s = opened();
    key(&mut s, Intent::Down);
    assert!(key(&mut s, Intent::View).is_empty());
    let Mode::Entry(v) = &s.view.mode else {
        panic!("{:?}", s.view.mode)
    };
    assert_eq!(v.id, id(2000, 0));
    assert_eq!(v.key, None);
    assert!(matches!(&v.fields, Some(Fetched::Fields(f)) if f.len() == 2));
    key(&mut s, Intent::Close);
    assert_eq!(s.view.mode, Mode::Normal);
    assert_eq!(s.screen, Screen::Entries);
}
