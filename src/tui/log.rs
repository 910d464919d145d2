//! The event log: which engine events and supervisor outcomes are worth a
//! line, and how each is coloured. Per-entry events (processed, acked,
//! read) would drown the rest; they show as rates instead.

use crate::engine::Event;
use crate::engine::event::describe;
use crate::engine::supervisor::Outcome;
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
    state.push_log_keyed(at_ms, kind, describe(event), key);
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
