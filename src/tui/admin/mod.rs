//! The admin actions as confirmations: ack, claim (to a consumer the user
//! chooses), dead-letter, trim (MAXLEN, MINID, safe), XGROUP SETID and
//! DESTROY, and deleting a consumer. Each builds the exact commands from
//! the same builders the engine sends ([`crate::redis::command_line`]) and
//! says in words what they do; data-losing ones ask for the stream's name.
//! Nothing here talks to Redis: a trim to a MINID is planned by the engine
//! first ([`EngineCommand::PlanTrim`]) and confirmed when the plan arrives.

use crate::engine::dead_key;
use crate::engine::dead_letter::{BY_HAND, DeadLetter};
use crate::monitor::{GroupSnapshot, Snapshot};
use crate::redis::topology::key_slot;
use crate::redis::{EntryId, ServerMode, command_line, xack_cmd, xadd_cmd, xclaim_cmd};
use crate::supervisor::EngineCommand;
use crate::tui::confirm::{Confirmation, ask};
use crate::tui::state::{Mode, Prompt, State};

pub mod bulk;
mod group;
mod trim;

pub use group::{delete_consumer, destroy, set_id};
pub use trim::{on_acked_plan, on_plan, trim, trim_safe};

pub(super) type Done = Result<Vec<EngineCommand>, String>;

/// The key the engine's one-shot commands act on: on a partitioned stream
/// the selected partition's (the engine was told it, see tui/partitions),
/// else the stream's. Confirmations name it, so what they show is sent.
pub(super) fn acting_key(state: &State) -> String {
    state
        .selected_partition()
        .map_or_else(|| state.view.stream.clone(), str::to_owned)
}

/// The last poll of that key: the selected partition's figures, not the
/// totals, since an action changes only that partition.
pub(super) fn acting_snapshot(state: &State) -> Option<&Snapshot> {
    match state.selected_partition() {
        Some(key) => state
            .partitions
            .iter()
            .find(|p| p.key == key)
            .map(|p| &*p.snapshot),
        None => state.snapshot.as_deref(),
    }
}

/// The selected group on that key.
pub(super) fn acting_group(state: &State) -> Option<&GroupSnapshot> {
    acting_snapshot(state)?.group(&state.view.group)
}

const SELECT_ENTRY: &str = "select a pending entry first (Tab to Pending, j/k)";

pub(super) fn prompt(state: &mut State, prompt: Prompt, text: String) -> Done {
    state.view.mode = Mode::Input { prompt, text };
    Ok(Vec::new())
}

pub fn ack(state: &mut State) -> Done {
    let p = state.selected_pending().cloned().ok_or(SELECT_ENTRY)?;
    let (key, group) = (acting_key(state), state.view.group.clone());
    let c = Confirmation::plain(
        "Ack",
        vec![command_line(&xack_cmd(&key, &group, &[p.id]))],
        vec![format!(
            "{} (owner {}, {}) leaves the PEL of {group}; it stays in the stream",
            p.id,
            p.consumer,
            crate::words::count(p.deliveries, "delivery", "deliveries")
        )],
        EngineCommand::Ack { group, id: p.id },
    );
    ask(state, c);
    Ok(Vec::new())
}

/// `c`: ask which consumer takes the entry (another one is suggested).
pub fn claim(state: &mut State) -> Done {
    let p = state.selected_pending().cloned().ok_or(SELECT_ENTRY)?;
    let suggestion = other_consumer(state, &p.consumer).unwrap_or_default();
    let group = state.view.group.clone();
    let to = Prompt::ClaimTo {
        group,
        id: p.id,
        owner: p.consumer,
    };
    prompt(state, to, suggestion)
}

fn claim_to(state: &mut State, group: String, id: EntryId, owner: &str, to: &str) -> Done {
    if to.is_empty() || to == owner {
        return Err(format!(
            "type the consumer that takes {id} (not {owner}, its owner)"
        ));
    }
    let key = &acting_key(state);
    let mut effects = vec![format!(
        "{to} owns {id} instead of {owner}; its delivery count goes up by one"
    )];
    if !state.consumer_names().iter().any(|n| n == to) {
        effects.push(format!(
            "{to} is not a consumer of {group} yet: XCLAIM creates it"
        ));
    }
    let c = Confirmation::plain(
        "Claim",
        vec![command_line(&xclaim_cmd(key, &group, to, 0, &[id]))],
        effects,
        EngineCommand::Claim {
            group,
            id,
            to: to.to_owned(),
        },
    );
    ask(state, c);
    Ok(Vec::new())
}

/// Another consumer: a running worker of ours first, else any other one.
pub fn other_consumer(state: &State, not: &str) -> Option<String> {
    let ours = state
        .roster
        .workers
        .iter()
        .find(|w| w.name != not && w.status.is_alive() && state.view.group == state.lab.group)
        .map(|w| w.name.clone());
    ours.or_else(|| state.consumer_names().into_iter().find(|n| n != not))
}

pub fn dead_letter(state: &mut State) -> Done {
    let p = state.selected_pending().cloned().ok_or(SELECT_ENTRY)?;
    let (key, group) = (acting_key(state), state.view.group.clone());
    let dead = dead_key(&key);
    let letter = DeadLetter {
        group: &group,
        consumer: &p.consumer,
        deliveries: p.deliveries,
        error: BY_HAND,
    };
    let fields = letter.fields(p.id, None);
    let refs: Vec<(&str, &[u8])> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let id = p.id.to_string();
    let xadd = format!(
        "{} f:<field> <value>...",
        command_line(&xadd_cmd(&dead, None, &refs))
    );
    let xack = command_line(&xack_cmd(&key, &group, &[p.id]));
    let fetch = format!("XRANGE {key} {id} {id} COUNT 1");
    // On a cluster no MULTI holds two slots: the engine copies, then acks.
    let split = state
        .server
        .as_ref()
        .is_some_and(|s| s.mode == ServerMode::Cluster)
        && key_slot(&key) != key_slot(&dead);
    let (commands, how) = if split {
        (
            vec![fetch, xadd, xack],
            "then acked (a crash between the two leaves a duplicate dead letter, never a lost entry)",
        )
    } else {
        (
            vec![fetch, "MULTI".into(), xadd, xack, "EXEC".into()],
            "and acked in one transaction",
        )
    };
    let c = Confirmation::plain(
        "Dead-letter",
        commands,
        vec![format!(
            "{id} is copied to {dead} with its fields {how}; it stays in {key}"
        )],
        EngineCommand::DeadLetter {
            group,
            id: p.id,
            owner: p.consumer,
            deliveries: p.deliveries,
        },
    );
    ask(state, c);
    Ok(Vec::new())
}

/// Enter in one of the admin prompts.
pub fn submit(state: &mut State, prompt: Prompt, text: &str) -> Done {
    match prompt {
        Prompt::Trim => trim::trim_text(state, text),
        Prompt::ClaimTo { group, id, owner } => claim_to(state, group, id, &owner, text.trim()),
        Prompt::MovePendingTo {
            group,
            consumer,
            pending,
        } => group::move_pending(state, group, consumer, pending, text.trim()),
        Prompt::SetId { group } => group::set_id_to(state, group, text),
        Prompt::ClaimMarkedTo { group } => bulk::claim_to(state, group, text.trim()),
        Prompt::Filter
        | Prompt::StreamFilter
        | Prompt::Scenario
        | Prompt::GoTo
        | Prompt::Search => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests;
