//! What engine parts report, and where the reports go.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::redis::EntryId;

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
    Error {
        role: String,
        message: String,
    },
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

/// Writes events as JSON lines to stdout.
pub struct JsonLinesSink {
    out: Mutex<std::io::BufWriter<std::io::Stdout>>,
}

impl JsonLinesSink {
    pub fn stdout() -> Self {
        Self {
            out: Mutex::new(std::io::BufWriter::new(std::io::stdout())),
        }
    }
}

impl EventSink for JsonLinesSink {
    fn emit(&self, event: Event) {
        let Ok(line) = serde_json::to_string(&event) else {
            return;
        };
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        crate::stdout::noted(writeln!(out, "{line}"));
    }

    fn flush(&self) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        crate::stdout::noted(out.flush());
    }

    fn is_closed(&self) -> bool {
        crate::stdout::closed()
    }
}

/// Sends events into a tokio channel (the dashboard).
pub struct ChannelSink(pub tokio::sync::mpsc::UnboundedSender<Event>);

impl EventSink for ChannelSink {
    fn emit(&self, event: Event) {
        let _ = self.0.send(event);
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

/// Human-readable lines on stdout (headless commands without `--json`).
pub struct TextSink;

impl EventSink for TextSink {
    fn emit(&self, event: Event) {
        crate::stdout::line(&describe(&event));
    }

    fn flush(&self) {
        crate::stdout::noted(std::io::stdout().flush());
    }

    fn is_closed(&self) -> bool {
        crate::stdout::closed()
    }
}

pub type SharedSink = Arc<dyn EventSink>;

/// One plain-words line for an event (text output and the dashboard log).
pub fn describe(event: &Event) -> String {
    let ids = |ids: &[EntryId]| {
        let mut s = ids
            .iter()
            .take(3)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if ids.len() > 3 {
            s.push_str(&format!(" (+{} more)", ids.len() - 3));
        }
        s
    };
    match event {
        Event::WorkerStarted { consumer, .. } => format!("{consumer} started"),
        Event::PendingDrained {
            consumer, entries, ..
        } => {
            format!("{consumer} drained {entries} of its own pending entries")
        }
        Event::Processed {
            id,
            consumer,
            deliveries,
            kind,
            ..
        } => format!("{consumer} processed {id} ({kind}, delivery {deliveries})"),
        Event::Acked {
            consumer, count, ..
        } => format!("{consumer} acked {count}"),
        Event::Failed {
            id,
            consumer,
            deliveries,
            error,
            ..
        } => format!("{consumer} failed {id} (delivery {deliveries}): {error}"),
        Event::Reclaimed {
            ids: list,
            from,
            to,
            inferred,
            ..
        } => format!(
            "{}{to} reclaimed {} from {}: {}",
            if *inferred { "(inferred) " } else { "" },
            list.len(),
            if from.is_empty() {
                "?".to_owned()
            } else {
                from.join(", ")
            },
            ids(list)
        ),
        Event::DeadLettered {
            id,
            deliveries,
            error,
            ..
        } => format!("dead-lettered {id} after {deliveries} deliveries: {error}"),
        Event::DeletedWhilePending {
            ids: list,
            consumer,
            ..
        } => format!(
            "{consumer} acked away {} ids deleted while pending: {}",
            list.len(),
            ids(list)
        ),
        Event::GroupCreated { group, created, .. } => {
            if *created {
                format!("group {group} created")
            } else {
                format!("group {group} already exists")
            }
        }
        Event::GroupRecreated { group, reason, .. } => {
            format!("group {group} re-created: {reason}")
        }
        Event::Reconnecting {
            role,
            attempt,
            delay_ms,
            error,
            ..
        } => format!("{role}: reconnecting (attempt {attempt}, in {delay_ms} ms): {error}"),
        Event::Reconnected { role, .. } => format!("{role}: reconnected"),
        Event::OutOfMemory {
            role,
            attempt,
            delay_ms,
            detail,
            ..
        } => format!(
            "{role}: Redis is out of memory, retrying (attempt {attempt}, in {delay_ms} ms): {detail}"
        ),
        Event::MemoryAvailable { role, .. } => {
            format!("{role}: Redis accepts writes again, resumed")
        }
        Event::Crashed { consumer, id, .. } => match id {
            Some(id) => format!("{consumer} crashed while processing {id}"),
            None => format!("{consumer} crashed"),
        },
        Event::WorkerStopped {
            consumer, reason, ..
        } => format!("{consumer} stopped: {reason}"),
        Event::Consumed {
            id, consumer, kind, ..
        } => format!("{consumer} read {id} ({kind})"),
        Event::OffsetSaved { consumer, id, .. } => format!("{consumer} saved offset {id}"),
        Event::Produced { count, last_id } => format!("produced {count} (last {last_id})"),
        Event::Trimmed { removed } => format!("trimmed {}", crate::words::entries(*removed)),
        Event::Error { role, message } => format!("{role}: {message}"),
    }
}

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
}
