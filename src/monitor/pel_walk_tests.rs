use super::*;

fn id(ms: u64) -> EntryId {
    EntryId { ms, seq: 0 }
}

fn entry(ms: u64, deliveries: u64) -> PendingEntry {
    PendingEntry {
        id: id(ms),
        consumer: "c".into(),
        idle_ms: 10,
        deliveries,
    }
}

fn known(n: usize) -> Vec<Option<bool>> {
    vec![Some(false); n]
}

#[test]
fn a_pass_ends_on_a_short_page_and_its_poison_stands_until_walked_again() {
    let mut w = GroupWalk::default();
    w.take(&[entry(1, 1), entry(2, 4)], &known(2), 3, true);
    let r = w.report();
    assert!(!r.complete, "half way through the first pass");
    assert_eq!((r.scanned, r.poison.len()), (2, 1));
    w.take(&[entry(3, 3)], &known(1), 3, false);
    let r = w.report();
    assert!(r.complete);
    assert_eq!(r.scanned, 3);
    let ids: Vec<u64> = r.poison.iter().map(|p| p.id.ms).collect();
    assert_eq!(ids, [2, 3]);
    // The next pass: entry 2 was acked meanwhile; entry 3 is not walked
    // yet, so the last pass's word on it stands.
    w.take(&[entry(1, 1), entry(2, 1)], &known(2), 3, true);
    let ids: Vec<u64> = w.report().poison.iter().map(|p| p.id.ms).collect();
    assert_eq!(ids, [3]);
    assert_eq!(w.cursor, Some(EntryId { ms: 2, seq: 1 }));
}

#[test]
fn deleted_and_unchecked_entries_are_counted_per_pass() {
    let mut w = GroupWalk::default();
    w.take(
        &[entry(1, 1), entry(2, 1), entry(3, 1)],
        &[Some(true), None, Some(false)],
        3,
        false,
    );
    let r = w.report();
    assert_eq!((r.deleted, r.unchecked, r.scanned), (1, 1, 3));
}

#[test]
fn a_step_walks_the_group_asked_for_first_and_the_others_in_turn() {
    let mut snap = Snapshot::default();
    for name in ["a", "b", "c", "d", "e", "f"] {
        let mut g = GroupSnapshot::default();
        g.info.name = name.into();
        g.pending.count = 1;
        snap.groups.push(g);
    }
    let mut w = PelWalker::default();
    assert_eq!(w.choose(&snap, Some("e")), ["e", "a", "b", "c"]);
    assert_eq!(w.choose(&snap, Some("e")), ["e", "d", "f", "a"]);
    assert_eq!(w.choose(&snap, Some("e")), ["e", "b", "c", "d"]);
    assert_eq!(w.choose(&snap, None).len(), WALK_GROUPS_PER_STEP);
}
