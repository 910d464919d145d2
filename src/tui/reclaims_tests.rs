use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::monitor::LinkState;
use crate::monitor::poller::PollState;
use crate::redis::ConsumerInfo;
use crate::tui::action::Action;
use crate::tui::fixture::{self, NOW, pending};
use crate::tui::update::update;

fn counts(pairs: &[(&str, u64)]) -> HashMap<String, u64> {
    pairs.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
}

#[test]
fn gains_beyond_the_new_reads_were_claimed_from_those_that_lost() {
    // A foreign XAUTOCLAIM of 111: 103 from c1, 8 from c2.
    let before = counts(&[("c1", 200), ("c2", 8), ("c3", 0)]);
    let after = counts(&[("c1", 97), ("c3", 111)]);
    let moves = counted(&before, &after, 0, &mut HashMap::new());
    assert_eq!(
        moves,
        [Counted {
            to: "c3".into(),
            count: 111,
            from: vec![("c1".into(), 103), ("c2".into(), 8)],
        }]
    );
}

#[test]
fn reads_and_acks_alone_are_no_reclaim() {
    // 30 new reads spread over two consumers, some acks: nobody gained
    // more than the reads explain.
    let before = counts(&[("a", 10), ("b", 10)]);
    let after = counts(&[("a", 25), ("b", 4)]);
    assert!(counted(&before, &after, 30, &mut HashMap::new()).is_empty());
    // The same gain with no new reads is a claim (from b, which lost 6;
    // the rest from no loss seen: acks hid it).
    let moves = counted(&before, &after, 0, &mut HashMap::new());
    assert_eq!(moves[0].to, "a");
    assert_eq!(moves[0].from, [("b".to_owned(), 6), ("?".to_owned(), 9)]);
}

#[test]
fn the_dashboards_own_moves_are_subtracted() {
    let before = counts(&[("dead", 40), ("w2", 0)]);
    let after = counts(&[("w2", 40)]);
    let mut expected = counts(&[("w2", 40)]);
    assert!(counted(&before, &after, 0, &mut expected).is_empty());
    assert_eq!(expected["w2"], 0, "the expectation is used up");
}

fn consumer(name: &str, pending: u64) -> ConsumerInfo {
    ConsumerInfo {
        name: name.into(),
        pending,
        idle_ms: 10,
        inactive_ms: None,
    }
}

fn poll(s: &mut State, snapshot: Snapshot) {
    let roster = s.roster.clone();
    let poll = PollState {
        snapshot: Some(Arc::new(snapshot)),
        partitions: Vec::new(),
        link: LinkState::Connected,
        server: None,
        health: None,
        polls: 2,
        commands_total: 0,
    };
    update(
        s,
        Action::Poll {
            poll,
            roster,
            now_ms: NOW,
        },
    );
}

fn inferred(s: &State) -> Vec<String> {
    s.log
        .iter()
        .filter(|l| l.text.starts_with("(inferred)"))
        .map(|l| l.text.clone())
        .collect()
}

/// A foreign XAUTOCLAIM moves more entries than the page on screen holds:
/// one line counts them all, with the ids the page shows.
#[test]
fn every_entry_a_foreign_claim_moved_is_counted_not_only_the_page() {
    let mut s = fixture::state();
    s.log.clear();
    s.snapshot = None;
    let mut first = fixture::snapshot();
    let g = &mut first.groups[1];
    g.consumers = vec![consumer("c1", 200), consumer("c2", 8)];
    g.pel_page = Some(vec![
        pending(9_000, "c1", 9_000, 1),
        pending(8_000, "c2", 8_000, 1),
    ]);
    poll(&mut s, first.clone());
    let mut second = first;
    second.taken_ms += 500;
    let g = &mut second.groups[1];
    g.consumers = vec![consumer("c1", 97), consumer("c3", 111)];
    g.pel_page = Some(vec![
        pending(9_000, "c3", 10, 2),
        pending(8_000, "c3", 10, 2),
    ]);
    poll(&mut s, second);
    let lines = inferred(&s);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("(inferred) c3 reclaimed 111 from c1 (103), c2 (8): "),
        "{}",
        lines[0]
    );
}

#[test]
fn a_consumer_deleted_by_the_dashboard_is_not_reported_again() {
    let mut s = fixture::state();
    s.log.clear();
    s.snapshot = None;
    let mut first = fixture::snapshot();
    let g = &mut first.groups[1];
    g.consumers = vec![consumer("dead", 40), consumer("ext", 0)];
    g.pel_page = Some(vec![pending(9_000, "dead", 9_000, 1)]);
    poll(&mut s, first.clone());
    // `D` on `dead`, its entries claimed to `ext` first.
    s.now_ms = NOW;
    expect(&mut s, "ext", 40);
    let mut second = first;
    second.taken_ms += 500;
    let g = &mut second.groups[1];
    g.consumers = vec![consumer("ext", 40)];
    g.pel_page = Some(vec![pending(9_000, "ext", 10, 2)]);
    poll(&mut s, second);
    assert!(inferred(&s).is_empty(), "{:?}", s.log);
    assert!(s.own_moves.is_empty(), "the expected move was seen");
}
