//! The event log: which engine events and supervisor outcomes are worth a
//! line, and how each is coloured. Per-entry events (processed, acked,
//! read) would drown the rest; they show as rates instead.

use crate::engine::Event;
use crate::engine::supervisor::Outcome;
use crate::output::events::{describe, line, stream_of};
use crate::tui::admin;
use crate::tui::state::{LogKind, Mode, State};

pub fn on_event(state: &mut State, event: &Event, at_ms: u64) {
    let kind = match event {
        Event::Processed { .. }
        | Event::Acked { .. }
        | Event::Consumed { .. }
        | Event::OffsetSaved { .. }
        | Event::PendingDrained { entries: 0, .. }
        | Event::GroupCreated { created: false, .. } => return,
        Event::Reclaimed { .. } => LogKind::Reclaim,
        Event::DeadLettered { .. } => LogKind::Dead,
        Event::Failed { .. }
        | Event::Crashed { .. }
        | Event::Error { .. }
        | Event::Reconnecting { .. }
        | Event::OutOfMemory { .. }
        | Event::GroupRecreated { .. } => LogKind::Failure,
        Event::WorkerStarted { .. }
        | Event::WorkerStopped { .. }
        | Event::Reconnected { .. }
        | Event::MemoryAvailable { .. } => LogKind::Lifecycle,
        _ => LogKind::Info,
    };
    let key = match event {
        Event::Failed { consumer, .. } => Some(format!("failed:{consumer}")),
        Event::Reconnecting { role, .. } => Some(format!("reconnecting:{role}")),
        Event::OutOfMemory { role, .. } => Some(format!("oom:{role}")),
        _ => None,
    };
    // The lab's events name a partition key on a partitioned stream (ids
    // repeat across partitions): say which, as the headless worker does.
    let on_a_partition = stream_of(event).is_some_and(|s| s != state.lab.stream);
    let text = if on_a_partition {
        line(event)
    } else {
        describe(event)
    };
    state.push_log_keyed(at_ms, kind, text, key);
}

pub fn on_outcome(state: &mut State, outcome: Outcome, at_ms: u64) {
    match outcome {
        Outcome::Note(text) => {
            state.status = Some(text.clone());
            state.push_log(at_ms, LogKind::Lifecycle, text);
        }
        Outcome::Failed(text) => {
            state.status = Some(text.clone());
            state.push_log(at_ms, LogKind::Failure, text);
        }
        Outcome::TrimPlan(plan) => admin::on_plan(state, &plan),
        Outcome::Entry { id, fields } => {
            if let Mode::Entry {
                id: shown,
                fields: slot,
            } = &mut state.view.mode
                && *shown == id
            {
                *slot = Some(fields);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixture;

    #[test]
    fn lines_name_the_partition_an_event_happened_on() {
        let mut state = fixture::state();
        state.lab.stream = "jobs".into();
        for (stream, text) in [
            ("{jobs.p1}", "{jobs.p1}: w1 started"),
            ("jobs", "w1 started"),
        ] {
            let started = Event::WorkerStarted {
                stream: stream.into(),
                consumer: "w1".into(),
            };
            on_event(&mut state, &started, 1);
            assert_eq!(state.log.front().map(|l| l.text.as_str()), Some(text));
        }
    }
}
