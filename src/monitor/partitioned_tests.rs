//! Folding partitions into totals, on snapshots built by hand.

use super::*;
use crate::redis::{EntryId, PendingEntry};

fn id(ms: u64) -> EntryId {
    EntryId { ms, seq: 0 }
}

fn consumer(name: &str, pending: u64, idle_ms: u64) -> ConsumerInfo {
    ConsumerInfo {
        name: name.into(),
        pending,
        idle_ms,
        inactive_ms: None,
    }
}

/// A partition with `length` entries (ids `first..=last`) and group `g`.
fn part(
    key: &str,
    length: u64,
    first: u64,
    last: u64,
    lag: Option<u64>,
    c: &[ConsumerInfo],
) -> Snapshot {
    let pending: u64 = c.iter().map(|c| c.pending).sum();
    Snapshot {
        key: key.into(),
        taken_ms: 1000 + length,
        stream: Some(StreamInfo {
            length,
            first_id: Some(id(first)),
            last_id: Some(id(last)),
            last_generated_id: Some(id(last)),
            entries_added: Some(length),
            max_deleted_id: None,
            groups: 1,
        }),
        groups: vec![GroupSnapshot {
            info: GroupInfo {
                name: "g".into(),
                consumers: c.len() as u64,
                pending,
                last_delivered_id: Some(id(last)),
                entries_read: lag.map(|l| length - l),
                lag,
            },
            consumers: c.to_vec(),
            pending: PendingSummary {
                count: pending,
                min: (pending > 0).then(|| id(first)),
                max: (pending > 0).then(|| id(last)),
                consumers: c.iter().map(|c| (c.name.clone(), c.pending)).collect(),
            },
            oldest_pending: (pending > 0).then(|| PendingEntry {
                id: id(first),
                consumer: c[0].name.clone(),
                idle_ms: first * 10,
                deliveries: 1,
            }),
            next_undelivered: lag.filter(|&l| l > 0).map(|_| id(last)),
            pel_page: None,
            deleted_in_page: Vec::new(),
            deleted_pending: None,
            ..GroupSnapshot::default()
        }],
        groups_omitted: 0,
        more_groups: Vec::new(),
        commands: 4,
        poll_us: 100,
    }
}

#[test]
fn totals_sum_what_adds_up_and_keep_the_extremes() {
    let parts = [
        part(
            "{s.p0}",
            10,
            5,
            50,
            Some(2),
            &[consumer("w1", 3, 40), consumer("w2", 1, 5)],
        ),
        part("{s.p1}", 7, 8, 90, Some(4), &[consumer("w1", 2, 10)]),
    ];
    let t = totals("s", &parts);
    assert_eq!(t.key, "s");
    let info = t.stream.as_ref().unwrap();
    assert_eq!(
        (info.length, info.entries_added, info.groups),
        (17, Some(17), 1)
    );
    assert_eq!((info.first_id, info.last_id), (Some(id(5)), Some(id(90))));
    let g = &t.groups[0];
    assert_eq!(
        (g.info.pending, g.pending.count, g.info.lag),
        (6, 6, Some(6))
    );
    assert_eq!(g.info.entries_read, Some(11));
    assert_eq!(
        g.info.last_delivered_id, None,
        "meaningless across partitions"
    );
    assert_eq!(g.info.consumers, 2);
    let w1 = g.consumers.iter().find(|c| c.name == "w1").unwrap();
    assert_eq!(
        (w1.pending, w1.idle_ms),
        (5, 10),
        "pending summed, latest activity kept"
    );
    assert_eq!(g.oldest_pending.as_ref().map(|p| p.idle_ms), Some(80));
    assert_eq!(g.pending.min, Some(id(5)));
    assert_eq!((t.commands, t.taken_ms), (8, 1010));
}

#[test]
fn a_lag_unknown_anywhere_is_unknown_in_total() {
    let parts = [
        part("{s.p0}", 10, 1, 2, Some(2), &[consumer("w", 1, 1)]),
        part("{s.p1}", 10, 1, 2, None, &[consumer("w", 1, 1)]),
    ];
    let g = &totals("s", &parts).groups[0];
    assert_eq!((g.info.lag, g.info.entries_read), (None, None));
}

#[test]
fn missing_partitions_count_as_empty() {
    let mut empty = Snapshot {
        key: "{s.p1}".into(),
        ..Snapshot::default()
    };
    let parts = [part("{s.p0}", 4, 1, 2, Some(0), &[]), empty.clone()];
    assert_eq!(totals("s", &parts).stream.map(|s| s.length), Some(4));
    empty.key = "{s.p0}".into();
    assert_eq!(
        totals("s", &[empty]).stream,
        None,
        "no partition exists: no stream"
    );
}

#[test]
fn json_lists_each_partition_with_its_node_and_the_totals_on_top() {
    let parts = [
        part("{s.p0}", 10, 5, 50, Some(2), &[consumer("w1", 3, 40)]),
        part("{s.p1}", 7, 8, 90, Some(4), &[consumer("w1", 2, 10)]),
    ];
    let nodes = ["127.0.0.1:7000".to_owned(), "127.0.0.1:7001".to_owned()];
    let v = to_json("s", &parts, &nodes, &Thresholds::default());
    assert_eq!(v["stream"]["key"], "s");
    assert_eq!(v["stream"]["length"], 17);
    assert_eq!(v["groups"][0]["pending"], 5);
    assert_eq!(v["groups"][0]["lag"], 6);
    let rows = v["partitions"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["key"], "{s.p1}");
    assert_eq!(rows[1]["node"], "127.0.0.1:7001");
    assert_eq!(rows[1]["length"], 7);
    assert_eq!(rows[1]["groups"][0]["name"], "g");
    assert_eq!(rows[1]["groups"][0]["pending"], 2);
    assert_eq!(rows[1]["groups"][0]["last_delivered_id"], "90-0");
}
