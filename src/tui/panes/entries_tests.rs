//! The entries screen and the entry view, drawn into ratatui's
//! TestBackend and compared with committed insta snapshots.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::engine::browse::matcher::parse_search;
use crate::engine::browse::{Direction, Fetched};
use crate::tui::entries::Search;
use crate::tui::fixture::{self, id};
use crate::tui::state::{EntryView, Mode, Screen, State};
use crate::tui::ui;

fn screen(width: u16, height: u16, state: &State) -> TestBackend {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| ui::render(f, state)).unwrap();
    t.backend().clone()
}

/// The fixture on its entries screen: a page with every status, a value
/// that holds control bytes, a search whose match is highlighted.
fn entries_state() -> State {
    let mut s = crate::tui::entries::tests::opened();
    s.entries.rows[1]
        .row
        .entry
        .fields
        .push((b"note".to_vec(), b"line1\r\nline2\x00".to_vec()));
    s.entries.selected = 1;
    s.entries.following = false;
    s.entries.search = Some(Search {
        matcher: parse_search("order_id=3").unwrap(),
        dir: Direction::Older,
        reached: None,
        examined: 0,
        running: false,
    });
    s.entries.note =
        Some("searched 10,000 entries back to 22:13:39, no match yet: n goes on".into());
    s.status = None;
    s
}

#[test]
fn entries_view() {
    insta::assert_snapshot!(screen(130, 24, &entries_state()));
}

#[test]
fn entries_view_of_a_partitioned_stream() {
    let mut s = entries_state();
    s.entries.keys = vec!["{tasks.p0}".into(), "{tasks.p1}".into()];
    for (i, r) in s.entries.rows.iter_mut().enumerate() {
        r.row.part = i % 2;
    }
    s.entries.search = None;
    s.entries.note = None;
    insta::assert_snapshot!(screen(130, 24, &s));
}

fn entry(fields: &[(&[u8], &[u8])], scroll: usize, raw: bool) -> State {
    let mut s = fixture::state();
    s.screen = Screen::Entries;
    s.view.mode = Mode::Entry(EntryView {
        id: id(12_000, 0),
        key: None,
        fields: Some(Fetched::Fields(
            fields
                .iter()
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect(),
        )),
        scroll,
        raw,
    });
    s
}

const TASKIQ: &[u8] = br#"{"task_id": "3bf9c1d2e4f5", "task_name": "reports:build", "labels": {"retry": 3}, "args": [1, 2.50, "x"], "kwargs": {}}"#;

#[test]
fn entry_view_escapes_and_pretty_json() {
    let all: Vec<u8> = (0..=255).collect();
    let fields: [(&[u8], &[u8]); 5] = [
        (b"f", b"1"),
        (b"f", b"2"),
        (b"msg", b"line1\r\nline2\tend"),
        (b"pickled", &[0x80, 0x04, 0x95, b'K', b'H', 0x00, 0xff]),
        (b"__data__", TASKIQ),
    ];
    insta::assert_snapshot!(screen(100, 30, &entry(&fields, 0, false)));
    let bytes = [(&b"all"[..], all.as_slice())];
    insta::assert_snapshot!(
        "entry_view_every_byte",
        screen(100, 24, &entry(&bytes, 0, false))
    );
}

#[test]
fn entry_view_raw_and_scrolled() {
    let long = "x".repeat(500);
    let fields: [(&[u8], &[u8]); 2] = [(b"__data__", TASKIQ), (b"long", long.as_bytes())];
    insta::assert_snapshot!(screen(80, 24, &entry(&fields, 0, true)));
    insta::assert_snapshot!(
        "entry_view_scrolled",
        screen(80, 24, &entry(&fields, 4, true))
    );
}

#[test]
fn entry_view_of_a_deleted_entry() {
    let mut s = entry(&[], 0, false);
    if let Mode::Entry(v) = &mut s.view.mode {
        v.fields = Some(Fetched::Deleted);
    }
    insta::assert_snapshot!(screen(100, 24, &s));
}
