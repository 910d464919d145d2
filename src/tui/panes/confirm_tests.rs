//! Every admin confirmation drawn into ratatui's TestBackend (insta
//! snapshots): the exact commands, their effects, and how to confirm
//! (`y`, or the stream's name typed in a red frame).

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::engine::retention::{Cost, EntryCount, GroupLimit, Hold, Plan, Removal};
use crate::supervisor::Outcome;
use crate::tui::action::{Action, Intent};
use crate::tui::fixture::{self, NOW, id};
use crate::tui::panes::overlay;
use crate::tui::state::{Mode, Pane, State};
use crate::tui::update::update;

fn drawn(state: &State) -> TestBackend {
    assert!(
        matches!(state.view.mode, Mode::Confirm(_)),
        "{:?}",
        state.view.mode
    );
    let mut t = Terminal::new(TestBackend::new(100, 22)).unwrap();
    t.draw(|f| overlay::render(f, f.area(), state)).unwrap();
    t.backend().clone()
}

fn keys(state: &mut State, intents: &[Intent]) {
    for i in intents {
        update(state, Action::Key(*i));
    }
}

/// Replace a prompt's text, then accept it.
fn answer(state: &mut State, text: &str) {
    if let Mode::Input { text: t, .. } = &mut state.view.mode {
        *t = text.to_owned();
    }
    keys(state, &[Intent::Submit]);
}

#[test]
fn ack() {
    let mut s = fixture::state();
    keys(&mut s, &[Intent::Ack]);
    insta::assert_snapshot!(drawn(&s));
}

#[test]
fn claim_to_a_new_consumer() {
    let mut s = fixture::state();
    s.view.pel_row = 2;
    keys(&mut s, &[Intent::Claim]);
    answer(&mut s, "night-shift");
    insta::assert_snapshot!(drawn(&s));
}

#[test]
fn dead_letter() {
    let mut s = fixture::state();
    keys(&mut s, &[Intent::DeadLetter]);
    insta::assert_snapshot!(drawn(&s));
}

#[test]
fn delete_a_consumer_claiming_its_entries_first() {
    let mut s = fixture::state();
    s.view.focus = Pane::Consumers;
    s.view.consumer = Some("host-7".into());
    keys(&mut s, &[Intent::DeleteConsumer]);
    answer(&mut s, "w1");
    insta::assert_snapshot!(drawn(&s));
}

#[test]
fn delete_a_consumer_with_its_entries_half_typed() {
    let mut s = fixture::state();
    s.view.focus = Pane::Consumers;
    s.view.consumer = Some("w3".into());
    keys(&mut s, &[Intent::DeleteConsumer]);
    answer(&mut s, "");
    for c in "tas".chars() {
        update(&mut s, Action::Char(c));
    }
    insta::assert_snapshot!(drawn(&s));
}

#[test]
fn setid_back_to_the_start() {
    let mut s = fixture::state();
    keys(&mut s, &[Intent::SetId]);
    answer(&mut s, "0");
    insta::assert_snapshot!(drawn(&s));
}

#[test]
fn destroy_a_group() {
    let mut s = fixture::state();
    keys(&mut s, &[Intent::DestroyGroup]);
    insta::assert_snapshot!(drawn(&s));
}

#[test]
fn safe_trim_from_a_plan() {
    let mut s = fixture::state();
    let plan = Plan {
        key: "tasks".into(),
        minid: id(40_000, 0),
        length: 1_234,
        limits: vec![
            GroupLimit {
                group: "workers".into(),
                keep_from: id(40_000, 0),
                hold: Hold::Pending(id(40_000, 0)),
            },
            GroupLimit {
                group: "audit".into(),
                keep_from: id(10_000, 1),
                hold: Hold::DeliveredUpTo(id(10_000, 0)),
            },
        ],
        unknown: Vec::new(),
        removal: Removal {
            count: EntryCount::Exact(412),
            first: Some(id(60_000, 0)),
            last: Some(id(40_001, 7)),
        },
        cost: Cost {
            commands: 5,
            entries_read: 12,
        },
        mode: None,
    };
    keys(&mut s, &[Intent::TrimSafe]);
    update(
        &mut s,
        Action::Outcome {
            outcome: Outcome::TrimPlan(Box::new(plan)),
            at_ms: NOW,
        },
    );
    insta::assert_snapshot!(drawn(&s));
}
