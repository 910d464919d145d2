//! A fixed dashboard state for tests and the frame-time example: no clock,
//! no server, every figure chosen so each pane has something to show.

use std::sync::Arc;
use std::time::Duration;

use crate::monitor::keyspace::rows::Row;
use crate::monitor::keyspace::stats::{GroupStats, StreamStats};
use crate::monitor::{GroupSnapshot, LinkState, Snapshot};
use crate::redis::server::Identity;
use crate::redis::{
    ConsumerInfo, EntryId, GroupInfo, PendingEntry, PendingSummary, ServerInfo, ServerMode,
    ServerName, StreamInfo, Version,
};
use crate::supervisor::{BasicReport, Roster, WorkerMode, WorkerReport, WorkerStatus};
use crate::tui::access::Access;
use crate::tui::state::{Lab, LogKind, Production, State};
use crate::tui::trend::GroupTrend;

/// "Now" in every fixture: ids below are a minute or less older.
pub const NOW: u64 = 1_700_000_060_000;

pub fn id(ms_before_now: u64, seq: u64) -> EntryId {
    EntryId {
        ms: NOW - ms_before_now,
        seq,
    }
}

/// The server the fixtures pretend to poll.
pub fn redis_7_2() -> ServerInfo {
    let identity = Identity {
        name: ServerName::Redis,
        version: Version::new(7, 2, 4),
        mode: ServerMode::Standalone,
    };
    ServerInfo::derive(identity, None)
}

pub fn lab() -> Lab {
    Lab {
        url: "redis://default:***@cache.example.com:6379".into(),
        stream: "tasks".into(),
        group: "workers".into(),
        refresh: Duration::from_millis(500),
        min_idle: Duration::from_secs(5),
        claim_every: Duration::from_secs(1),
        max_deliveries: 5,
        work_ms: 50,
        basic_name: "basic".into(),
        ack_delete: false,
        producer_trim: None,
    }
}

pub fn pending(ms_before_now: u64, consumer: &str, idle_ms: u64, deliveries: u64) -> PendingEntry {
    PendingEntry {
        id: id(ms_before_now, 0),
        consumer: consumer.into(),
        idle_ms,
        deliveries,
    }
}

pub fn consumer(name: &str, pending: u64, idle_ms: u64) -> ConsumerInfo {
    ConsumerInfo {
        name: name.into(),
        pending,
        idle_ms,
        inactive_ms: None,
    }
}

fn workers_group() -> GroupSnapshot {
    let page = vec![
        pending(40_000, "w3", 39_000, 1),
        pending(39_000, "w3", 38_500, 4),
        pending(30_000, "host-7", 29_000, 5),
        pending(12_000, "w1", 800, 1),
        pending(11_000, "w2", 9_000, 2),
        pending(3_000, "w2", 2_500, 1),
    ];
    GroupSnapshot {
        info: GroupInfo {
            name: "workers".into(),
            consumers: 4,
            pending: 6,
            last_delivered_id: Some(id(2_000, 0)),
            entries_read: Some(4_990),
            lag: Some(10),
        },
        consumers: vec![
            consumer("host-7", 1, 120_000),
            consumer("w1", 1, 300),
            consumer("w2", 2, 1_200),
            consumer("w3", 2, 39_000),
            consumer("old-host", 0, 7_200_000),
        ],
        pending: PendingSummary {
            count: 6,
            min: Some(id(40_000, 0)),
            max: Some(id(3_000, 0)),
            consumers: vec![],
        },
        oldest_pending: Some(page[0].clone()),
        next_undelivered: Some(id(1_500, 0)),
        pel_page: Some(page),
        deleted_in_page: Vec::new(),
        deleted_pending: None,
        ..GroupSnapshot::default()
    }
}

fn audit_group() -> GroupSnapshot {
    GroupSnapshot {
        info: GroupInfo {
            name: "audit".into(),
            consumers: 0,
            pending: 0,
            last_delivered_id: Some(id(50_000, 0)),
            entries_read: None,
            lag: None,
        },
        ..GroupSnapshot::default()
    }
}

pub fn snapshot() -> Snapshot {
    Snapshot {
        key: "tasks".into(),
        taken_ms: NOW - 200,
        stream: Some(StreamInfo {
            length: 1_234,
            first_id: Some(id(60_000, 0)),
            last_id: Some(id(500, 3)),
            last_generated_id: Some(id(500, 3)),
            entries_added: Some(5_000),
            max_deleted_id: Some(id(60_001, 0)),
            groups: 2,
        }),
        groups: vec![audit_group(), workers_group()],
        groups_omitted: 0,
        more_groups: Vec::new(),
        commands: 7,
        poll_us: 640,
    }
}

pub fn worker(name: &str, status: WorkerStatus, mode: WorkerMode, processed: u64) -> WorkerReport {
    WorkerReport {
        name: name.into(),
        status,
        mode,
        processed,
        acked: processed,
    }
}

pub fn roster() -> Roster {
    Roster {
        events_dropped: 0,
        ack_deleted: 0,
        ack_kept: 0,
        workers: vec![
            worker("w1", WorkerStatus::Running, WorkerMode::Normal, 2_000),
            worker("w2", WorkerStatus::Running, WorkerMode::Slow, 900),
            worker("w3", WorkerStatus::Killed, WorkerMode::Normal, 1_500),
        ],
        produced: 5_000,
        basic: Some(BasicReport {
            name: "basic".into(),
            offset: Some(id(2_500, 1)),
            read: 4_800,
        }),
    }
}

/// A busy dashboard: three workers (one killed), an external consumer,
/// a second group whose lag Redis does not know, and a few log lines.
pub fn state() -> State {
    let mut s = State::new(
        lab(),
        Production {
            on: true,
            rate: 20.0,
        },
        NOW,
    );
    s.link = Some(LinkState::Connected);
    s.server = Some(redis_7_2());
    s.snapshot = Some(Arc::new(snapshot()));
    s.roster = roster();
    s.polls = 120;
    s.rates.produced_per_s = 20.0;
    s.rates.acked_per_s = 18.5;
    s.rates.commands_per_s = 14.0;
    s.rates.basic_per_s = 20.0;
    s.rates.produced = (0..60).map(|i| 15 + (i % 7) * 2).collect();
    s.rates.acked = (0..60).map(|i| 12 + (i % 5) * 3).collect();
    s.rates.worker_per_s = [("w1".to_owned(), 19.5), ("w2".to_owned(), 1.0)].into();
    s.view.size = (120, 40);
    s.trends.insert("workers".into(), workers_trend());
    s.view.pel_rows = 10;
    add_log(&mut s);
    s.status = Some("w2 is now slow (1000 ms per task, 0% fail)".into());
    s
}

/// The same stream seen from a watch (`access` is `Watch` or
/// `WatchWrites`): nothing of the lab's (no parts, production, worker
/// rates, dead-letter limit, or a status line about a worker), and only
/// what a watch can log: reclaims it inferred, and a loss it noticed.
pub fn watch(access: Access) -> State {
    let full = state();
    let mut s = State::new(
        Lab {
            url: full.lab.url.clone(),
            stream: full.lab.stream.clone(),
            group: full.lab.group.clone(),
            refresh: full.lab.refresh,
            // As `watch` sets it: the watched consumers' limit is unknown.
            max_deliveries: u64::MAX,
            ..Lab::default()
        },
        Production::default(),
        NOW,
    );
    s.access = access;
    s.link = full.link;
    s.server = full.server;
    s.snapshot = full.snapshot;
    s.polls = full.polls;
    s.rates.produced_per_s = full.rates.produced_per_s;
    s.rates.acked_per_s = full.rates.acked_per_s;
    s.rates.commands_per_s = full.rates.commands_per_s;
    s.rates.produced = full.rates.produced;
    s.rates.acked = full.rates.acked;
    s.view.size = full.view.size;
    s.trends = full.trends;
    add_watch_log(&mut s);
    s
}

fn add_watch_log(s: &mut State) {
    for (ago, kind, text) in [
        (
            9_000,
            LogKind::Reclaim,
            "(inferred) w1 reclaimed 2 from w3: 1699999990000-0, 1699999991000-0",
        ),
        (
            6_000,
            LogKind::Reclaim,
            "(inferred) host-9 reclaimed 1 from host-7: 1699999992000-0",
        ),
        (
            2_000,
            LogKind::Failure,
            "group 'audit' on 'tasks' was reset: its last delivered id went from 1700000030000-0 back to 1700000010000-0 (destroyed and re-created, XGROUP SETID, or lost with the server's data)",
        ),
    ] {
        s.push_log(NOW - ago, kind, text.into());
    }
}

/// The workers group's lag over the last polls, acking 25 a second.
pub fn workers_trend() -> GroupTrend {
    let mut t = GroupTrend::default();
    t.lag = [40, 36, 30, 31, 24, 20, 18, 15, 12, 10].into();
    t.acked_per_s = Some(25.0);
    t
}

fn add_log(s: &mut State) {
    for (ago, kind, text) in [
        (
            30_000,
            LogKind::Lifecycle,
            "spawned w3: XREADGROUP as consumer 'w3' of group 'workers'",
        ),
        (
            20_000,
            LogKind::Failure,
            "w2 failed 1699999971000-0 (delivery 2): simulated task failure",
        ),
        (
            15_000,
            LogKind::Lifecycle,
            "killed w3 (crash): its pending entries stay until another worker's XAUTOCLAIM takes them",
        ),
        (
            9_000,
            LogKind::Reclaim,
            "w1 reclaimed 2 from w3: 1699999990000-0, 1699999991000-0",
        ),
        (
            6_000,
            LogKind::Reclaim,
            "(inferred) host-9 reclaimed 1 from host-7: 1699999992000-0",
        ),
        (
            2_000,
            LogKind::Dead,
            "dead-lettered 1699999980000-0 after 6 deliveries: simulated task failure",
        ),
    ] {
        s.push_log(NOW - ago, kind, text.into());
    }
}

/// A stream row for the overview: `groups` as (pending, lag) pairs.
pub fn stream_row(key: &str, length: u64, groups: &[(u64, Option<u64>)]) -> Row {
    let groups = groups
        .iter()
        .enumerate()
        .map(|(i, (pending, lag))| GroupStats {
            name: format!("g{i}"),
            consumers: 2,
            pending: *pending,
            lag: *lag,
            last_delivered_id: Some(id(30_000, 0)),
            oldest_pending: (*pending > 0).then(|| id(45_000 + 1_000 * i as u64, 0)),
            next_undelivered: lag.filter(|l| *l > 0).map(|_| id(29_000, 0)),
            next_for: Some(Some(id(30_000, 0))),
            consumer_stats: Vec::new(),
            entries_read: None,
        })
        .collect();
    Row {
        key: key.into(),
        stats: Some(Arc::new(StreamStats {
            length,
            last_generated_id: Some(id(1_000, 0)),
            entries_added: Some(length),
            groups,
        })),
        refreshed_ms: NOW - 300,
        added_per_s: Some(2.5),
        ..Row::default()
    }
}

/// An overview of a busy database: a foreign `orders` stream with pending
/// work and dead letters, a group whose lag Redis does not know, a stream
/// without groups, and one not read yet.
pub fn overview_rows() -> Vec<Row> {
    let mut orders = stream_row("orders", 50, &[(5, Some(35))]);
    orders.dead = Some(3);
    let not_read = Row {
        key: "events:new".into(),
        ..Row::default()
    };
    vec![
        stream_row("audit", 1_200, &[]),
        stream_row("tasks", 1_234, &[(6, Some(10)), (0, None)]),
        orders,
        stream_row("billing:eu", 12, &[(0, Some(0))]),
        not_read,
    ]
}
