//! `update` as a plain function: keys in, state and engine commands out.

use super::update;
use crate::engine::browse::Fetched;
use crate::supervisor::{EngineCommand, Outcome, WorkerMode};
use crate::tui::action::{Action, Intent};
use crate::tui::fixture::{self, NOW, id};
use crate::tui::navigate::{after, pel_query};
use crate::tui::state::{EntryView, Mode, Pane, State};
use crate::tui::update::press::{key, status, typed};

fn select_consumer(state: &mut State, name: &str) {
    state.view.focus = Pane::Consumers;
    state.view.consumer = Some(name.into());
}

#[test]
fn enqueue_keys_ask_for_one_and_a_burst() {
    let mut s = fixture::state();
    assert_eq!(
        key(&mut s, Intent::EnqueueOne),
        vec![EngineCommand::Enqueue(1)]
    );
    assert_eq!(
        key(&mut s, Intent::EnqueueBurst),
        vec![EngineCommand::Enqueue(100)]
    );
}

#[test]
fn production_toggles_and_the_rate_walks_its_ladder() {
    let mut s = fixture::state();
    assert_eq!(
        key(&mut s, Intent::ToggleProduction),
        vec![EngineCommand::SetProduction(None)]
    );
    // While stopped, the rate changes without telling the engine.
    assert!(key(&mut s, Intent::RateUp).is_empty());
    assert!((s.production.rate - 50.0).abs() < f64::EPSILON);
    assert_eq!(
        key(&mut s, Intent::ToggleProduction),
        vec![EngineCommand::SetProduction(Some(50.0))]
    );
    assert_eq!(
        key(&mut s, Intent::RateDown),
        vec![EngineCommand::SetProduction(Some(20.0))]
    );
    s.production.rate = 1.0;
    key(&mut s, Intent::RateDown);
    assert!(
        (s.production.rate - 1.0).abs() < f64::EPSILON,
        "never below the ladder"
    );
}

#[test]
fn kill_stop_and_mode_act_on_our_selected_worker_only() {
    let mut s = fixture::state();
    select_consumer(&mut s, "w1");
    assert_eq!(
        key(&mut s, Intent::Kill),
        vec![EngineCommand::Kill("w1".into())]
    );
    assert_eq!(
        key(&mut s, Intent::Stop),
        vec![EngineCommand::Stop("w1".into())]
    );
    assert_eq!(
        key(&mut s, Intent::CycleMode),
        vec![EngineCommand::SetMode("w1".into(), WorkerMode::Slow)]
    );
    // A second `f` before the supervisor's next report moves on.
    assert_eq!(
        key(&mut s, Intent::CycleMode),
        vec![EngineCommand::SetMode("w1".into(), WorkerMode::Failing)]
    );
    assert_eq!(
        key(&mut s, Intent::CycleMode),
        vec![EngineCommand::SetMode("w1".into(), WorkerMode::Normal)]
    );
    select_consumer(&mut s, "host-7");
    assert!(key(&mut s, Intent::Kill).is_empty());
    assert!(s.status.as_deref().unwrap_or_default().contains("external"));
    select_consumer(&mut s, "w3");
    assert!(key(&mut s, Intent::Kill).is_empty());
    assert!(status(&s).contains("already killed"), "{:?}", s.status);
}

#[test]
fn trim_asks_for_maxlen_then_wants_the_stream_name_typed() {
    let mut s = fixture::state();
    assert!(key(&mut s, Intent::Trim).is_empty());
    typed(&mut s, "1x");
    key(&mut s, Intent::Backspace);
    typed(&mut s, "000");
    assert!(key(&mut s, Intent::Submit).is_empty());
    let Mode::Confirm(c) = &s.view.mode else {
        panic!("expected a confirmation, got {:?}", s.view.mode);
    };
    assert_eq!(c.commands, vec!["XTRIM tasks MAXLEN = 1000".to_owned()]);
    assert!(
        c.effects[0].contains("oldest 234 of 1234"),
        "{:?}",
        c.effects
    );
    assert!(c.loses_data());
    // y is a character here, not a confirmation.
    assert!(key(&mut s, Intent::Yes).is_empty());
    typed(&mut s, "task");
    assert!(key(&mut s, Intent::Submit).is_empty(), "not the name yet");
    assert!(status(&s).contains("'tasks' exactly"), "{:?}", s.status);
    typed(&mut s, "s");
    let retention = crate::redis::Retention::max_len(1000, true);
    assert_eq!(
        key(&mut s, Intent::Submit),
        vec![EngineCommand::Trim(retention)]
    );
    assert_eq!(s.view.mode, Mode::Normal);
}

#[test]
fn a_bad_maxlen_is_refused_in_words() {
    let mut s = fixture::state();
    key(&mut s, Intent::Trim);
    typed(&mut s, "lots");
    assert!(key(&mut s, Intent::Submit).is_empty());
    assert_eq!(s.view.mode, Mode::Normal);
    assert!(
        status(&s).contains("not a length, an id, `safe` or `acked`"),
        "{:?}",
        s.status
    );
}

#[test]
fn pel_actions_confirm_and_can_be_cancelled() {
    let mut s = fixture::state();
    s.view.focus = Pane::Pending;
    s.view.pel_row = 2; // host-7's entry, 5 deliveries
    assert!(key(&mut s, Intent::Ack).is_empty());
    assert!(key(&mut s, Intent::No).is_empty());
    assert_eq!(s.status.as_deref(), Some("cancelled"));
    key(&mut s, Intent::DeadLetter);
    let dead = key(&mut s, Intent::Yes);
    assert_eq!(
        dead,
        vec![EngineCommand::DeadLetter {
            group: "workers".into(),
            id: id(30_000, 0),
            owner: "host-7".into(),
            deliveries: 5,
        }]
    );
}

#[test]
fn claim_goes_to_a_running_worker_of_ours_and_is_not_inferred_later() {
    let mut s = fixture::state();
    s.view.pel_row = 3; // owned by w1: the target is w2, the other live one
    key(&mut s, Intent::Claim);
    let Mode::Input { text, .. } = &s.view.mode else {
        panic!("claim asks for the consumer: {:?}", s.view.mode);
    };
    assert_eq!(text, "w2", "a live worker of ours is suggested");
    key(&mut s, Intent::Submit);
    let cmds = key(&mut s, Intent::Yes);
    let target = id(12_000, 0);
    assert_eq!(
        cmds,
        vec![EngineCommand::Claim {
            group: "workers".into(),
            id: target,
            to: "w2".into()
        }]
    );
    assert!(s.claimed_by_hand.contains(&target));
}

#[test]
fn enter_views_an_entry_fetched_on_demand() {
    let mut s = fixture::state();
    s.view.focus = Pane::Pending;
    let cmds = key(&mut s, Intent::View);
    let first = id(40_000, 0);
    assert_eq!(cmds, vec![EngineCommand::FetchEntry(first)]);
    let loading = EntryView {
        id: first,
        ..EntryView::default()
    };
    assert_eq!(s.view.mode, Mode::Entry(loading.clone()));
    let fields = Fetched::Fields(vec![(b"kind".to_vec(), b"email".to_vec())]);
    update(
        &mut s,
        Action::Outcome {
            outcome: Outcome::Entry {
                id: first,
                fields: fields.clone(),
            },
            at_ms: NOW,
        },
    );
    let shown = EntryView {
        fields: Some(fields),
        ..loading
    };
    assert_eq!(s.view.mode, Mode::Entry(shown));
    key(&mut s, Intent::Close);
    assert_eq!(s.view.mode, Mode::Normal);
}

#[test]
fn enter_on_a_consumer_filters_the_pel_to_it() {
    let mut s = fixture::state();
    select_consumer(&mut s, "w2");
    assert!(key(&mut s, Intent::View).is_empty());
    assert_eq!(s.view.focus, Pane::Pending);
    assert_eq!(pel_query(&s).consumer.as_deref(), Some("w2"));
}

#[test]
fn filter_sets_consumer_server_side_and_min_idle_client_side() {
    let mut s = fixture::state();
    s.view.pel_pages.push(id(20_000, 0));
    key(&mut s, Intent::Filter);
    typed(&mut s, "w3 30s");
    key(&mut s, Intent::Submit);
    assert_eq!(s.view.filter.consumer.as_deref(), Some("w3"));
    assert_eq!(s.view.filter.min_idle_ms, Some(30_000));
    assert!(s.view.pel_pages.is_empty(), "a new filter starts at page 1");
    let q = pel_query(&s);
    assert_eq!(
        (q.consumer.as_deref(), q.start, q.count),
        (Some("w3"), None, 10)
    );
    // The fixture page is unfiltered; the idle filter applies on screen.
    assert_eq!(s.pel_rows().len(), 2);
    key(&mut s, Intent::Close);
    assert_eq!(s.view.filter, Default::default());
}

/// The title writes `idle ≥ 4m30s`; typing that back works, and the
/// error of a bad filter before leaves the footer.
#[test]
fn the_idle_the_title_shows_can_be_typed_back_and_a_good_filter_clears_the_error() {
    let mut s = fixture::state();
    key(&mut s, Intent::Filter);
    typed(&mut s, "4m30");
    key(&mut s, Intent::Submit);
    assert!(status(&s).contains("not a duration"), "{}", status(&s));
    key(&mut s, Intent::Filter);
    for _ in 0..8 {
        key(&mut s, Intent::Backspace);
    }
    typed(&mut s, "4m30s");
    key(&mut s, Intent::Submit);
    assert_eq!(s.view.filter.min_idle_ms, Some(270_000));
    assert!(!status(&s).contains("not a duration"), "{}", status(&s));
}

#[test]
fn paging_walks_the_pel_by_id_and_back() {
    let mut s = fixture::state();
    s.view.pel_rows = 6; // the fixture page is full at 6
    key(&mut s, Intent::PageDown);
    let start = after(id(3_000, 0));
    assert_eq!(pel_query(&s).start, Some(start));
    assert_eq!(
        start,
        crate::redis::EntryId {
            ms: NOW - 3_000,
            seq: 1
        }
    );
    key(&mut s, Intent::PageUp);
    assert_eq!(pel_query(&s).start, None);
    s.view.pel_rows = 10;
    key(&mut s, Intent::PageDown);
    assert_eq!(pel_query(&s).start, None, "a short page is the last one");
}

#[test]
fn focus_cycles_and_selection_follows_names() {
    let mut s = fixture::state();
    assert_eq!(s.view.focus, Pane::Consumers);
    key(&mut s, Intent::FocusNext);
    assert_eq!(s.view.focus, Pane::Pending);
    key(&mut s, Intent::FocusPrev);
    key(&mut s, Intent::FocusPrev);
    assert_eq!(s.view.focus, Pane::Groups);
    key(&mut s, Intent::Up);
    assert_eq!(s.view.group, "audit");
    key(&mut s, Intent::Down);
    key(&mut s, Intent::FocusNext);
    assert_eq!(s.selected_consumer().as_deref(), Some("host-7"));
    key(&mut s, Intent::Down);
    key(&mut s, Intent::Down);
    assert_eq!(s.selected_consumer().as_deref(), Some("w2"));
    for _ in 0..10 {
        key(&mut s, Intent::Down);
    }
    assert_eq!(
        s.selected_consumer().as_deref(),
        Some("old-host"),
        "stops at the end"
    );
}

#[test]
fn quit_and_help() {
    let mut s = fixture::state();
    key(&mut s, Intent::Help);
    assert_eq!(s.view.mode, Mode::Help);
    key(&mut s, Intent::Close);
    key(&mut s, Intent::Quit);
    assert!(s.quit);
}

#[test]
fn resize_sets_the_pel_page_to_what_fits() {
    let mut s = fixture::state();
    update(
        &mut s,
        Action::Resize {
            width: 120,
            height: 40,
        },
    );
    let tall = s.view.pel_rows;
    update(
        &mut s,
        Action::Resize {
            width: 80,
            height: 24,
        },
    );
    assert!(s.view.pel_rows < tall && s.view.pel_rows >= 1);
    assert_eq!(pel_query(&s).count, s.view.pel_rows);
}

#[test]
fn a_read_only_watch_refuses_writes_and_lab_keys_and_says_how_to_enable_them() {
    use crate::tui::access::Access;
    let mut s = fixture::watch(Access::Watch);
    s.view.focus = Pane::Pending;
    for intent in [Intent::Ack, Intent::Claim, Intent::DeadLetter, Intent::Trim] {
        assert!(key(&mut s, intent).is_empty(), "{intent:?}");
        assert_eq!(
            s.view.mode,
            Mode::Normal,
            "{intent:?}: no confirmation opens"
        );
        let why = s.status.clone().unwrap_or_default();
        assert!(
            why.contains("read-only") && why.contains("--allow-writes"),
            "{why}"
        );
    }
    for intent in [
        Intent::EnqueueBurst,
        Intent::Spawn,
        Intent::Kill,
        Intent::RateUp,
    ] {
        assert!(key(&mut s, intent).is_empty(), "{intent:?}");
        let why = s.status.clone().unwrap_or_default();
        assert!(why.contains("the lab's own producer"), "{why}");
    }
    assert_eq!(
        s.production,
        crate::tui::state::Production::default(),
        "nothing changed"
    );
    // Looking around still works: viewing an entry only reads it.
    assert_eq!(
        key(&mut s, Intent::View),
        vec![EngineCommand::FetchEntry(id(40_000, 0))]
    );
}

#[test]
fn allow_writes_enables_the_admin_actions_but_not_the_lab() {
    use crate::tui::access::Access;
    let mut s = fixture::watch(Access::WatchWrites);
    s.view.focus = Pane::Pending;
    key(&mut s, Intent::Ack);
    assert!(matches!(s.view.mode, Mode::Confirm(_)), "{:?}", s.view.mode);
    assert_eq!(
        key(&mut s, Intent::Yes),
        vec![EngineCommand::Ack {
            group: "workers".into(),
            id: id(40_000, 0)
        }]
    );
    assert!(key(&mut s, Intent::Spawn).is_empty());
    let why = s.status.unwrap_or_default();
    assert!(
        why.starts_with("w: a watch runs no lab") && why.contains("(spawn a worker"),
        "{why}"
    );
}

#[test]
fn enter_on_the_overview_opens_a_stream_afresh_and_esc_comes_back() {
    use crate::tui::access::Access;
    use crate::tui::state::Screen;
    let mut s = fixture::watch(Access::Watch);
    s.screen = Screen::Overview;
    s.overview.rows = std::sync::Arc::new(fixture::overview_rows());
    s.overview.set_height(10);
    s.overview.arrange(NOW);
    key(&mut s, Intent::Down); // tasks, then orders
    let cmds = key(&mut s, Intent::View);
    assert_eq!(cmds, vec![EngineCommand::Focus("orders".into())]);
    assert_eq!(s.screen, Screen::Stream);
    assert_eq!(
        (s.view.stream.as_str(), s.view.group.as_str()),
        ("orders", "g0")
    );
    assert!(
        s.snapshot.is_none(),
        "nothing of the stream shown before stays"
    );
    // A poll of the stream shown before arrives late: it is not shown.
    let late = crate::monitor::poller::PollState {
        snapshot: Some(std::sync::Arc::new(fixture::snapshot())),
        partitions: Vec::new(),
        link: crate::monitor::LinkState::Connected,
        server: None,
        health: None,
        polls: 1,
        commands_total: 5,
    };
    update(
        &mut s,
        Action::Poll {
            poll: late,
            roster: Default::default(),
            now_ms: NOW,
        },
    );
    assert!(
        s.snapshot.is_none(),
        "a snapshot of 'tasks' is not 'orders'"
    );
    key(&mut s, Intent::Close);
    assert_eq!(s.screen, Screen::Overview);
    assert_eq!(s.overview.selected_row().map(|r| &*r.key), Some("orders"));
}

#[test]
fn a_lab_watches_other_streams_read_only() {
    let mut s = fixture::state();
    s.view.stream = "orders".into();
    s.view.focus = Pane::Pending;
    assert!(key(&mut s, Intent::Ack).is_empty());
    assert!(
        s.status
            .clone()
            .unwrap_or_default()
            .contains("only to its own stream")
    );
    assert!(key(&mut s, Intent::Spawn).is_empty());
    assert!(s.status.unwrap_or_default().contains("lab's own producer"));
}
