//! The event log: which engine events and supervisor outcomes are worth a
//! line, and how each is coloured. Per-entry events (processed, acked,
//! read) would drown the rest; they show as rates instead.

use crate::engine::Event;
use crate::output::events::{describe, line, stream_of};
use crate::supervisor::{EngineCommand, Outcome, Roster};
use crate::tui::state::{LogKind, Mode, State};
use crate::tui::{admin, entries, outcomes};

pub fn on_event(state: &mut State, event: &Event, at_ms: u64) {
    if let Event::Failover { new, .. } = event
        && let Some(sentinel) = &mut state.sentinel
    {
        sentinel.address = Some(new.clone());
    }
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
        | Event::GroupRecreated { .. }
        | Event::Failover { .. } => LogKind::Failure,
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

/// Take the supervisor's roster, saying in the log when engine events
/// were dropped because the screen fell behind (the log misses them).
pub fn on_roster(state: &mut State, roster: Roster, at_ms: u64) {
    let missed = roster
        .events_dropped
        .saturating_sub(state.roster.events_dropped);
    if missed > 0 {
        state.push_log(
            at_ms,
            LogKind::Failure,
            format!("{missed} engine events not shown: the screen fell behind"),
        );
    }
    state.roster = roster;
}

/// An outcome arrived; a search step that found a match asks for the
/// page it is on.
pub fn on_outcome(state: &mut State, outcome: Outcome, at_ms: u64) -> Vec<EngineCommand> {
    match outcome {
        Outcome::Done(done) => {
            match &done {
                crate::supervisor::Done::Repaired { .. } => {
                    state.view.marks = crate::tui::state::Marks::default();
                }
                crate::supervisor::Done::ScenarioStarted {
                    production: Some(rate),
                    ..
                } => {
                    state.production = crate::tui::state::Production {
                        on: true,
                        rate: *rate,
                    };
                }
                _ => {}
            }
            let text = outcomes::done(&done);
            state.status = Some(text.clone());
            state.push_log(at_ms, LogKind::Lifecycle, text);
        }
        Outcome::Refused(refusal) => {
            let text = outcomes::refused(&refusal);
            state.status = Some(text.clone());
            state.push_log(at_ms, LogKind::Failure, text);
        }
        Outcome::TrimPlan(plan) => admin::on_plan(state, &plan),
        Outcome::Marked {
            group,
            entries,
            complete,
        } => admin::bulk::on_marked(state, &group, entries, complete),
        Outcome::AckedPlan(plan) => admin::on_acked_plan(state, &plan),
        Outcome::Entry { id, fields } => {
            if let Mode::Entry(view) = &mut state.view.mode
                && view.id == id
            {
                view.fields = Some(fields);
            }
        }
        Outcome::Page {
            seq,
            page,
            pending,
            commands,
        } => entries::on_page(state, seq, page, pending, commands),
        Outcome::Searched { seq, step } => return entries::on_search(state, seq, step),
    }
    Vec::new()
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

    #[test]
    fn events_the_screen_missed_are_said_once() {
        let mut state = fixture::state();
        let mut roster = state.roster.clone();
        roster.events_dropped = 7;
        on_roster(&mut state, roster.clone(), 1);
        assert_eq!(
            state.log.front().map(|l| l.text.as_str()),
            Some("7 engine events not shown: the screen fell behind")
        );
        let lines = state.log.len();
        on_roster(&mut state, roster, 2);
        assert_eq!(state.log.len(), lines, "no new loss, no new line");
    }
}
