//! Engine events as the headless commands print them: one JSON object per
//! line (`--events json`), or one line of plain words, which the dashboard's
//! event log shows too. On a partitioned stream ids repeat across
//! partitions, so a text line about an entry, a group or a reader starts
//! with the partition key it happened on (JSON always carries `stream`).

use std::io::Write;
use std::sync::Mutex;

use crate::engine::event::{Event, EventSink};
use crate::output::stdout;
use crate::redis::EntryId;

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
        stdout::noted(writeln!(out, "{line}"));
    }

    fn flush(&self) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        stdout::noted(out.flush());
    }

    fn is_closed(&self) -> bool {
        stdout::closed()
    }
}

/// Plain-words lines on stdout (headless commands without `--json`).
pub struct TextSink {
    /// Start each line with the stream key it happened on (partitioned
    /// streams, where ids repeat across partitions).
    pub name_partitions: bool,
}

impl TextSink {
    /// Lines for one stream: the key goes without saying.
    pub const PLAIN: Self = Self {
        name_partitions: false,
    };
    /// Lines for a partitioned stream, each naming its partition key.
    pub const PARTITIONED: Self = Self {
        name_partitions: true,
    };
}

impl EventSink for TextSink {
    fn emit(&self, event: Event) {
        let text = if self.name_partitions {
            line(&event)
        } else {
            describe(&event)
        };
        stdout::line(&text);
    }

    fn flush(&self) {
        stdout::noted(std::io::stdout().flush());
    }

    fn is_closed(&self) -> bool {
        stdout::closed()
    }
}

/// The stream key an event happened on, when it names one.
pub fn stream_of(event: &Event) -> Option<&str> {
    match event {
        Event::WorkerStarted { stream, .. }
        | Event::PendingDrained { stream, .. }
        | Event::Processed { stream, .. }
        | Event::Acked { stream, .. }
        | Event::Failed { stream, .. }
        | Event::Reclaimed { stream, .. }
        | Event::DeadLettered { stream, .. }
        | Event::DeletedWhilePending { stream, .. }
        | Event::GroupCreated { stream, .. }
        | Event::GroupRecreated { stream, .. }
        | Event::Crashed { stream, .. }
        | Event::WorkerStopped { stream, .. }
        | Event::Consumed { stream, .. }
        | Event::OffsetSaved { stream, .. }
        | Event::RestoredAfterFailover { stream, .. } => Some(stream),
        Event::Reconnecting { stream, .. }
        | Event::Reconnected { stream, .. }
        | Event::OutOfMemory { stream, .. }
        | Event::MemoryAvailable { stream, .. } => stream.as_deref(),
        _ => None,
    }
}

/// The event's text, starting with the key it happened on when it names one.
pub fn line(event: &Event) -> String {
    match stream_of(event) {
        Some(key) => format!("{key}: {}", describe(event)),
        None => describe(event),
    }
}

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
            consumer,
            count,
            deleted,
            kept,
            ..
        } => {
            let mut line = format!("{consumer} acked {count}");
            if let Some(deleted) = deleted {
                line.push_str(&format!(", deleted {deleted} from the stream"));
            }
            if let Some(kept) = kept.as_deref().filter(|k| !k.is_empty()) {
                line.push_str(&format!(
                    ", kept {} another group still needs: {}",
                    kept.len(),
                    ids(kept)
                ));
            }
            line
        }
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
        Event::RestoredAfterFailover {
            checked, missing, ..
        } => match missing {
            0 => format!(
                "producer: after the failover all {} it added lately are on the new master",
                crate::words::entries(*checked)
            ),
            n => format!(
                "producer: after the failover {} of the {checked} it added lately were missing on the new master (the old one acknowledged them and never passed them on): added again",
                crate::words::entries(*n)
            ),
        },
        Event::Failover { master, old, new } => format!(
            "failover: the sentinels moved master '{master}' from {old} to {new}; every connection follows"
        ),
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
    fn entry_lines_name_their_partition_and_others_do_not() {
        let processed = Event::Processed {
            stream: "{jobs.p1}".into(),
            id: EntryId { ms: 5, seq: 0 },
            consumer: "w".into(),
            deliveries: 1,
            kind: "email".into(),
            seq: Some(1),
        };
        assert_eq!(
            line(&processed),
            "{jobs.p1}: w processed 5-0 (email, delivery 1)"
        );
        assert_eq!(describe(&processed), "w processed 5-0 (email, delivery 1)");
        let reconnect = Event::Reconnected {
            role: "w".into(),
            stream: Some("{jobs.p1}".into()),
        };
        assert_eq!(line(&reconnect), "{jobs.p1}: w: reconnected");
        let produced = Event::Produced {
            count: 3,
            last_id: EntryId { ms: 7, seq: 0 },
        };
        assert_eq!(line(&produced), "produced 3 (last 7-0)");
    }
}
