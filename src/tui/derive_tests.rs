//! What arrives from the poller and the engine: rates from two
//! snapshots, inferred reclaims, and which events reach the log.

use std::sync::Arc;

use crate::engine::Event;
use crate::monitor::LinkState;
use crate::monitor::poller::PollState;
use crate::tui::action::Action;
use crate::tui::fixture::{self, NOW, id, pending};
use crate::tui::state::{LogKind, State};
use crate::tui::update::update;

fn poll_with(snapshot: crate::monitor::Snapshot, commands_total: u64) -> PollState {
    PollState {
        snapshot: Some(Arc::new(snapshot)),
        partitions: Vec::new(),
        link: LinkState::Connected,
        server: Some(crate::tui::fixture::redis_7_2()),
        health: None,
        polls: 2,
        commands_total,
    }
}

fn poll(s: &mut State, snapshot: crate::monitor::Snapshot, commands_total: u64) {
    let roster = s.roster.clone();
    let poll = poll_with(snapshot, commands_total);
    update(
        s,
        Action::Poll {
            poll,
            roster,
            now_ms: NOW,
        },
    );
}

#[test]
fn rates_come_from_two_snapshots() {
    let mut s = fixture::state();
    s.snapshot = None;
    let first = fixture::snapshot();
    poll(&mut s, first.clone(), 100);
    let mut second = first;
    second.taken_ms += 1_000;
    if let Some(info) = second.stream.as_mut() {
        info.entries_added = info.entries_added.map(|n| n + 40);
    }
    let g = &mut second.groups[1];
    g.info.entries_read = g.info.entries_read.map(|n| n + 30);
    g.pending.count += 5; // 30 read, PEL grew by 5: 25 acked
    s.roster.workers[0].processed += 12;
    poll(&mut s, second, 107);
    let r = &s.rates;
    assert!((r.produced_per_s - 40.0).abs() < 1e-9);
    assert!((r.acked_per_s - 25.0).abs() < 1e-9);
    assert!((r.commands_per_s - 7.0).abs() < 1e-9);
    assert!((r.worker_per_s["w1"] - 12.0).abs() < 1e-9);
    assert_eq!(r.produced.back(), Some(&40));
}

#[test]
fn owner_changes_between_polls_are_inferred_reclaims() {
    let mut s = fixture::state();
    s.snapshot = None;
    let mut first = fixture::snapshot();
    let page = vec![
        pending(9_000, "ext-a", 9_000, 1),
        pending(8_000, "ext-a", 8_000, 1),
        pending(7_000, "w3", 7_000, 1),
    ];
    first.groups[1].pel_page = Some(page);
    poll(&mut s, first.clone(), 0);
    let mut second = first;
    second.taken_ms += 500;
    second.groups[1].pel_page = Some(vec![
        pending(9_000, "ext-b", 10, 2),
        pending(8_000, "ext-a", 8_500, 1),
        // Taken by our own w1: its worker reports that itself.
        pending(7_000, "w1", 10, 2),
    ]);
    poll(&mut s, second, 0);
    let inferred: Vec<_> = s
        .log
        .iter()
        .filter(|l| l.text.contains("(inferred)"))
        .collect();
    assert_eq!(inferred.len(), 2, "{:?}", s.log); // one from the fixture
    assert_eq!(inferred[0].kind, LogKind::Reclaim);
    assert!(
        inferred[0].text.contains("ext-b reclaimed 1 from ext-a"),
        "{}",
        inferred[0].text
    );
}

#[test]
fn per_entry_events_count_but_do_not_flood_the_log() {
    let mut s = fixture::state();
    let before = s.log.len();
    let processed = Event::Processed {
        stream: "tasks".into(),
        id: id(1, 0),
        consumer: "w1".into(),
        deliveries: 1,
        kind: "email".into(),
        seq: Some(1),
    };
    update(
        &mut s,
        Action::Engine {
            event: processed,
            at_ms: NOW,
        },
    );
    assert_eq!(s.log.len(), before);
    let reclaim = Event::Reclaimed {
        stream: "tasks".into(),
        ids: vec![id(1, 0)],
        from: vec!["w3".into()],
        to: "w1".into(),
        inferred: false,
    };
    update(
        &mut s,
        Action::Engine {
            event: reclaim,
            at_ms: NOW,
        },
    );
    assert_eq!(s.log[0].kind, LogKind::Reclaim);
    assert!(s.log[0].text.starts_with("w1 reclaimed 1 from w3"));
}

#[test]
fn repeated_failures_of_one_worker_share_a_line() {
    let mut s = fixture::state();
    let before = s.log.len();
    for n in 1..=3 {
        let event = Event::Failed {
            stream: "tasks".into(),
            id: id(n, 0),
            consumer: "w2".into(),
            deliveries: 1,
            error: "boom".into(),
        };
        update(
            &mut s,
            Action::Engine {
                event,
                at_ms: NOW + n,
            },
        );
    }
    assert_eq!(s.log.len(), before + 1);
    assert_eq!((s.log[0].repeats, s.log[0].at_ms), (2, NOW + 3));
    assert!(
        s.log[0].text.contains(&id(3, 0).to_string()),
        "the newest one shows"
    );
}

/// Selecting another group in a watch: its acks are counted from its own
/// figures, never as the difference between two groups' counts.
#[test]
fn selecting_another_group_does_not_spike_the_acked_rate() {
    let mut s = fixture::state();
    s.access = crate::tui::access::Access::Watch;
    s.snapshot = None;
    let mut first = fixture::snapshot();
    first.groups[0].info.entries_read = Some(100_000);
    poll(&mut s, first.clone(), 0);
    let mut second = first.clone();
    second.taken_ms += 1_000;
    second.groups[1].info.entries_read = second.groups[1].info.entries_read.map(|n| n + 3);
    poll(&mut s, second.clone(), 0);
    assert!(
        (s.rates.acked_per_s - 3.0).abs() < 1e-9,
        "{}",
        s.rates.acked_per_s
    );
    s.view.group = "audit".into();
    let mut third = second;
    third.taken_ms += 1_000;
    poll(&mut s, third.clone(), 0);
    assert!(
        s.rates.acked_per_s < 1.0,
        "spiked to {}",
        s.rates.acked_per_s
    );
    assert!(s.rates.acked.iter().all(|n| *n < 10), "{:?}", s.rates.acked);
    let mut fourth = third;
    fourth.taken_ms += 1_000;
    fourth.groups[0].info.entries_read = Some(100_002);
    poll(&mut s, fourth, 0);
    assert!(
        (s.rates.acked_per_s - 2.0).abs() < 1e-9,
        "{}",
        s.rates.acked_per_s
    );
}
