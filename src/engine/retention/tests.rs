//! The planner's arithmetic, without a server: limits, the safe MINID and
//! the refusals. Counting against real streams is in tests/retention.rs.

use super::count::nearest_known_lag;
use super::*;

fn id(ms: u64) -> EntryId {
    EntryId { ms, seq: 0 }
}

fn group(name: &str, last: u64, oldest: OldestPending, lag: Option<u64>) -> GroupPosition {
    GroupPosition {
        name: name.to_owned(),
        last_delivered: Some(id(last)),
        oldest_pending: oldest,
        lag,
        pending: 0,
    }
}

#[test]
fn a_group_needs_its_oldest_pending_entry_else_what_follows_its_last_delivered() {
    let pending = group("a", 50, OldestPending::Id(id(20)), None)
        .limit()
        .unwrap();
    assert_eq!(
        (pending.keep_from, pending.hold),
        (id(20), Hold::Pending(id(20)))
    );
    let done = group("b", 30, OldestPending::Nothing, None)
        .limit()
        .unwrap();
    assert_eq!(done.keep_from, EntryId { ms: 30, seq: 1 });
    assert_eq!(done.hold, Hold::DeliveredUpTo(id(30)));
}

#[test]
fn after_setid_backwards_the_undelivered_entries_count_even_below_a_pending_one() {
    // SETID 10 with entry 40 still pending: 11.. will be delivered again.
    let l = group("a", 10, OldestPending::Id(id(40)), None)
        .limit()
        .unwrap();
    assert_eq!(l.keep_from, EntryId { ms: 10, seq: 1 });
}

#[test]
fn the_safe_minid_is_the_lowest_limit_over_all_groups() {
    let groups = [
        group("fast", 90, OldestPending::Nothing, Some(10)),
        group("slow", 60, OldestPending::Id(id(25)), Some(40)),
        group("idle", 30, OldestPending::Nothing, Some(70)),
    ];
    let (minid, limits) = safe_minid(&groups).unwrap();
    assert_eq!(minid, id(25));
    assert_eq!(limits.len(), 3);
}

#[test]
fn no_group_or_an_unknown_position_is_refused_naming_the_group() {
    assert_eq!(safe_minid(&[]), Err(Refusal::NoGroups));
    let groups = [
        group("ok", 9, OldestPending::Nothing, None),
        group(
            "billing",
            9,
            OldestPending::Unknown("XPENDING failed: NOPERM".into()),
            None,
        ),
    ];
    let refusal = safe_minid(&groups).unwrap_err();
    assert!(refusal.to_string().contains("'billing'"), "{refusal}");
    assert!(refusal.to_string().contains("NOPERM"), "{refusal}");
    let mut no_id = group("audit", 1, OldestPending::Nothing, None);
    no_id.last_delivered = None;
    assert!(
        matches!(safe_minid(&[no_id]), Err(Refusal::Unknown { group, .. }) if group == "audit")
    );
}

#[test]
fn a_known_lag_at_the_minid_counts_without_a_scan() {
    // The slowest group delivered up to 30 with nothing pending: the MINID
    // is 30-1 and its lag is exactly what stays.
    let groups = [group("g", 30, OldestPending::Nothing, Some(70))];
    assert_eq!(
        nearest_known_lag(&groups, EntryId { ms: 30, seq: 1 }),
        Some((None, 70))
    );
    // A pending entry at 20: only [20, 30] needs a scan.
    assert_eq!(nearest_known_lag(&groups, id(20)), Some((Some(id(30)), 70)));
    // A group whose last delivered is below the MINID says nothing about it.
    assert_eq!(nearest_known_lag(&groups, id(40)), None);
    let unknown = [group("g", 30, OldestPending::Nothing, None)];
    assert_eq!(nearest_known_lag(&unknown, id(20)), None);
}

#[test]
fn counts_read_plainly() {
    assert_eq!(EntryCount::Exact(5).to_string(), "5");
    let at_least = |min, about| EntryCount::AtLeast { min, about };
    assert_eq!(at_least(5_000, None).to_string(), "at least 5000");
    assert_eq!(
        at_least(5_000, Some(40_000)).to_string(),
        "at least 5000 (about 40000 judging by id times)"
    );
    assert!(EntryCount::Exact(0).is_zero());
    assert!(!at_least(0, None).is_zero());
}

#[test]
fn the_estimate_by_id_time_is_the_share_of_the_time_span() {
    use super::count::by_id_time;
    assert_eq!(by_id_time(1000, id(100), id(200), id(150)), Some(500));
    assert_eq!(by_id_time(1000, id(100), id(200), id(500)), Some(1000));
    assert_eq!(by_id_time(1000, id(100), id(100), id(100)), None);
}
