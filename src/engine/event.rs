//! What engine parts report ([`Event`]), and the sinks that carry reports
//! without printing them (a channel, memory, nowhere). Printing sinks are
//! the output layer's (`crate::output::events`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::redis::EntryId;
use crate::redis::topology::NodeAddr;

/// Something that happened in the engine, named for what happened.
/// Serialized as one JSON object with an `event` tag (`worker --events json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    WorkerStarted {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        consumer: String,
    },
    /// The worker finished reading its own PEL (after a restart) and now reads `>`.
    PendingDrained {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        consumer: String,
        entries: u64,
    },
    Processed {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        id: EntryId,
        consumer: String,
        deliveries: u64,
        kind: String,
        seq: Option<u64>,
    },
    Acked {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        ids: Vec<EntryId>,
        consumer: String,
        count: u64,
        /// `--ack-delete` (XACKDEL ... ACKED): how many left the stream too.
        #[serde(skip_serializing_if = "Option::is_none")]
        deleted: Option<u64>,
        /// `--ack-delete`: acked but kept in the stream, because another
        /// group has not read or acked them yet.
        #[serde(skip_serializing_if = "Option::is_none")]
        kept: Option<Vec<EntryId>>,
    },
    Failed {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        id: EntryId,
        consumer: String,
        deliveries: u64,
        error: String,
    },
    Reclaimed {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        ids: Vec<EntryId>,
        from: Vec<String>,
        to: String,
        inferred: bool,
    },
    DeadLettered {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        id: EntryId,
        consumer: String,
        deliveries: u64,
        error: String,
        dead_id: EntryId,
    },
    DeletedWhilePending {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        ids: Vec<EntryId>,
        consumer: String,
    },
    GroupCreated {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        group: String,
        created: bool,
    },
    GroupRecreated {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        group: String,
        reason: String,
    },
    Reconnecting {
        role: String,
        /// The stream key the role was working on, when it works on one
        /// (a partition's key when partitioned); absent for the producer.
        #[serde(skip_serializing_if = "Option::is_none")]
        stream: Option<String>,
        attempt: u32,
        delay_ms: u64,
        error: String,
    },
    Reconnected {
        role: String,
        /// The stream key the role was working on, when it works on one
        /// (a partition's key when partitioned); absent for the producer.
        #[serde(skip_serializing_if = "Option::is_none")]
        stream: Option<String>,
    },
    /// Redis refused a command for lack of memory (OOM). The connection is
    /// fine; the role backs off and retries, losing nothing.
    OutOfMemory {
        role: String,
        /// The stream key the role was working on, when it works on one
        /// (a partition's key when partitioned); absent for the producer.
        #[serde(skip_serializing_if = "Option::is_none")]
        stream: Option<String>,
        attempt: u32,
        delay_ms: u64,
        /// Used vs maxmemory, the policy, and what frees memory.
        detail: String,
    },
    /// The first success after [`Event::OutOfMemory`]: work resumed.
    MemoryAvailable {
        role: String,
        /// The stream key the role was working on, when it works on one
        /// (a partition's key when partitioned); absent for the producer.
        #[serde(skip_serializing_if = "Option::is_none")]
        stream: Option<String>,
    },
    /// A simulated crash (`--crash-rate`, or a kill from the dashboard).
    Crashed {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        consumer: String,
        id: Option<EntryId>,
    },
    WorkerStopped {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        consumer: String,
        reason: String,
    },
    Consumed {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        id: EntryId,
        consumer: String,
        kind: String,
        seq: Option<u64>,
    },
    OffsetSaved {
        /// The stream key it happened on (a partition's key when partitioned).
        stream: String,
        consumer: String,
        id: EntryId,
    },
    Produced {
        count: u64,
        last_id: EntryId,
    },
    Trimmed {
        removed: u64,
    },
    /// After a failover the producer checked its recent entries on the new
    /// master: `missing` of `checked` were lost by Redis in the switch
    /// (acknowledged by the old master, never passed on) and were added
    /// again.
    RestoredAfterFailover {
        stream: String,
        checked: u64,
        missing: u64,
    },
    /// Redis Sentinel named another master: every connection follows it
    /// (each on its next request).
    Failover {
        /// The master's name as the sentinels know it.
        master: String,
        old: NodeAddr,
        new: NodeAddr,
    },
    Error {
        role: String,
        message: String,
    },
}

impl Event {
    /// One of the events every entry causes (processed, acked, read,
    /// offset saved), as opposed to those about groups and readers.
    pub fn is_per_entry(&self) -> bool {
        matches!(
            self,
            Self::Processed { .. }
                | Self::Acked { .. }
                | Self::Consumed { .. }
                | Self::OffsetSaved { .. }
        )
    }
}

/// Where events go. `flush` must make everything emitted so far durable to
/// the reader (stdout written, channel sent) before it returns: a worker
/// calls it between writing `processed` lines and sending XACK.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: Event);
    fn flush(&self) {}
    /// False when events are dropped anyway, so hot paths can skip
    /// building per-entry events (benchmarks, quiet runs).
    fn enabled(&self) -> bool {
        true
    }
    /// True once the events' reader has gone away (stdout closed): a
    /// worker then stops before acking what it could not report.
    fn is_closed(&self) -> bool {
        false
    }
}

/// Drops every event (quiet headless runs, benchmarks).
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&self, _event: Event) {}

    fn enabled(&self) -> bool {
        false
    }
}

/// Sends events to the dashboard over a bounded channel.
///
/// Per-entry events (processed, acked, read, offset saved) are not sent:
/// the dashboard counts work from the workers' own counters and Redis's
/// figures, and at tens of thousands a second they would fill any queue.
/// The rest are sent when there is room; a screen that falls that far
/// behind loses lines of its event log, counted in [`Self::dropped`],
/// instead of memory growing without bound.
pub struct ChannelSink {
    tx: tokio::sync::mpsc::Sender<Event>,
    dropped: Arc<AtomicU64>,
}

impl ChannelSink {
    pub fn new(tx: tokio::sync::mpsc::Sender<Event>) -> Self {
        Self {
            tx,
            dropped: Arc::default(),
        }
    }

    /// How many events found the channel full, shared with the reader.
    pub fn dropped(&self) -> Arc<AtomicU64> {
        self.dropped.clone()
    }
}

impl EventSink for ChannelSink {
    fn emit(&self, event: Event) {
        if event.is_per_entry() {
            return;
        }
        if let Err(tokio::sync::mpsc::error::TrySendError::Full(_)) = self.tx.try_send(event) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Collects events in memory (tests).
#[derive(Default)]
pub struct VecSink(pub Mutex<Vec<Event>>);

impl VecSink {
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

impl EventSink for VecSink {
    fn emit(&self, event: Event) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event);
    }
}

pub type SharedSink = Arc<dyn EventSink>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_event_and_id() {
        let e = Event::Processed {
            stream: "{jobs.p1}".into(),
            id: EntryId { ms: 5, seq: 1 },
            consumer: "w1".into(),
            deliveries: 1,
            kind: "email".into(),
            seq: Some(3),
        };
        let json: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(json["event"], "processed");
        assert_eq!(json["id"], "5-1");
        assert_eq!(json["stream"], "{jobs.p1}");
    }

    #[test]
    fn the_dashboard_channel_skips_per_entry_events_and_counts_overflow() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let sink = ChannelSink::new(tx);
        let started = |consumer: &str| Event::WorkerStarted {
            stream: "s".into(),
            consumer: consumer.into(),
        };
        sink.emit(Event::Acked {
            stream: "s".into(),
            ids: vec![EntryId { ms: 1, seq: 0 }],
            consumer: "w1".into(),
            count: 1,
            deleted: None,
            kept: None,
        });
        sink.emit(started("w1"));
        sink.emit(started("w2"));
        assert_eq!(rx.try_recv().ok(), Some(started("w1")));
        assert!(
            rx.try_recv().is_err(),
            "the ack and the overflow were not queued"
        );
        assert_eq!(sink.dropped().load(Ordering::Relaxed), 1);
    }
}
