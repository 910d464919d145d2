//! Text events of a worker or consumer on a partitioned stream: ids repeat
//! across partitions, so each line about an entry, a group or a reader
//! starts with the partition key it happened on (JSON carries `stream`).

use crate::engine::event::{Event, EventSink, describe};

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
        | Event::OffsetSaved { stream, .. } => Some(stream),
        Event::Reconnecting { stream, .. }
        | Event::Reconnected { stream, .. }
        | Event::OutOfMemory { stream, .. }
        | Event::MemoryAvailable { stream, .. } => stream.as_deref(),
        _ => None,
    }
}

/// Human-readable lines on stdout, each prefixed with its partition key.
pub struct PartitionTextSink;

impl EventSink for PartitionTextSink {
    fn emit(&self, event: Event) {
        crate::stdout::line(&line(&event));
    }

    fn flush(&self) {
        use std::io::Write as _;
        crate::stdout::noted(std::io::stdout().flush());
    }

    fn is_closed(&self) -> bool {
        crate::stdout::closed()
    }
}

/// The event's text, starting with the key it happened on when it names one.
pub fn line(event: &Event) -> String {
    match stream_of(event) {
        Some(key) => format!("{key}: {}", describe(event)),
        None => describe(event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::EntryId;

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
        let reconnect = Event::Reconnected {
            role: "w".into(),
            stream: Some("{jobs.p1}".into()),
        };
        assert_eq!(line(&reconnect), "{jobs.p1}: w: reconnected");
    }
}
