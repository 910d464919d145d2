//! Partition rows folded into one logical row, and the names that make
//! a stream a candidate, on rows built by hand.

use super::*;
use crate::redis::EntryId;

fn id(ms: u64) -> EntryId {
    EntryId { ms, seq: 0 }
}

fn group(pending: u64, lag: Option<u64>, delivered: u64, next: Option<u64>) -> GroupStats {
    GroupStats {
        name: "g".into(),
        consumers: 2,
        pending,
        lag,
        last_delivered_id: Some(id(delivered)),
        oldest_pending: (pending > 0).then(|| id(delivered - 5)),
        next_undelivered: next.map(id),
        next_for: None,
        consumer_stats: Vec::new(),
        entries_read: None,
    }
}

fn row(key: &str, length: u64, last: u64, g: GroupStats) -> Row {
    Row {
        key: key.into(),
        stats: Some(Arc::new(StreamStats {
            length,
            last_generated_id: Some(id(last)),
            entries_added: Some(length),
            groups: vec![g],
        })),
        added_per_s: Some(2.0),
        ..Row::default()
    }
}

/// `jobs` confirmed as 3 partitions; `{other.p0}` named like one, but
/// its stream has no record.
fn layouts() -> Layouts {
    let mut l = Layouts::default();
    let keys: Vec<Arc<str>> = ["{jobs.p0}", "{jobs.p1}", "{jobs.p2}"]
        .map(Into::into)
        .into();
    l.known.insert("jobs".into(), Some(keys));
    l.known.insert("other".into(), None);
    l
}

#[test]
fn partition_rows_fold_into_one_row_with_their_sums() {
    let rows = vec![
        row("{jobs.p2}", 30, 300, group(1, Some(0), 300, None)),
        row("plain", 5, 50, group(0, Some(0), 50, None)),
        row("{jobs.p0}", 10, 100, group(4, Some(3), 90, Some(95))),
        row("{other.p0}", 7, 70, group(0, None, 70, None)),
        Row {
            dead: Some(2),
            ..row("{jobs.p1}", 20, 200, group(2, Some(1), 190, Some(199)))
        },
    ];
    let mut out = layouts().fold(rows);
    out.sort_by(|a, b| a.key.cmp(&b.key));
    let keys: Vec<&str> = out.iter().map(|r| &*r.key).collect();
    assert_eq!(
        keys,
        ["jobs", "plain", "{other.p0}"],
        "unconfirmed names stay rows"
    );
    let jobs = &out[0];
    let parts: Vec<&str> = jobs.partitions.iter().map(|r| &*r.key).collect();
    assert_eq!(
        parts,
        ["{jobs.p0}", "{jobs.p1}", "{jobs.p2}"],
        "in partition order"
    );
    assert!(
        jobs.partitions
            .iter()
            .all(|p| p.partition_of.as_deref() == Some("jobs"))
    );
    assert_eq!(
        (jobs.length(), jobs.pending(), jobs.lag()),
        (Some(60), 7, Some(4))
    );
    assert_eq!(jobs.consumers(), 2, "the same workers read every partition");
    assert_eq!((jobs.dead, jobs.added_per_s), (Some(2), Some(6.0)));
    assert_eq!(jobs.oldest_pending_ms(1_000), Some(915));
    // The oldest entry some partition has not delivered (p2 is caught up).
    assert_eq!(jobs.time_lag_ms(1_000), Some(905));
    let json = jobs.to_json(1_000);
    assert_eq!(json["partitions"].as_array().map(Vec::len), Some(3));
    assert_eq!(json["partitions"][1]["key"], "{jobs.p1}");
    assert!(
        out[1].to_json(1_000).get("partitions").is_none(),
        "plain rows unchanged"
    );
}

#[test]
fn an_unknown_lag_on_a_partition_is_unknown_in_total() {
    let rows = vec![
        row("{jobs.p0}", 10, 100, group(0, Some(3), 90, None)),
        row("{jobs.p1}", 10, 100, group(0, None, 90, None)),
        row("{jobs.p2}", 10, 100, group(0, Some(1), 90, None)),
    ];
    let out = layouts().fold(rows);
    assert_eq!(out[0].stats.as_ref().map(|s| s.groups[0].lag), Some(None));
}

#[test]
fn a_partition_not_found_yet_counts_and_holds_back_the_totals() {
    let rows = vec![
        row("{jobs.p0}", 10, 100, group(0, Some(0), 100, None)),
        row("{jobs.p2}", 10, 100, group(0, Some(0), 100, None)),
    ];
    let out = layouts().fold(rows);
    let parts: Vec<&str> = out[0].partitions.iter().map(|r| &*r.key).collect();
    assert_eq!(parts, ["{jobs.p0}", "{jobs.p1}", "{jobs.p2}"]);
    assert!(out[0].stats.is_none(), "no total of 2 of 3 partitions");
    assert_eq!(out[0].length(), None);
}

#[test]
fn candidates_come_from_names_and_expand_to_their_keys() {
    let mut l = Layouts::default();
    for key in ["{a.p0}", "{a.p1.4}", "plain", "{b.p0}:dead", "{%7Bx%7D.p2}"] {
        l.saw(key);
    }
    assert_eq!(l.todo, ["a", "{x}"]);
    let expanded = layouts().expand(&Arc::from("jobs"));
    assert_eq!(expanded.len(), 3);
    assert_eq!(
        layouts().expand(&Arc::from("plain")),
        vec![Arc::<str>::from("plain")]
    );
}
