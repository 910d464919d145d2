//! Consumer and group administration: deleting a consumer (claiming its
//! pending entries to a consumer the user names first, or dropping them
//! with the stream's name typed), XGROUP SETID and XGROUP DESTROY.

use super::{Done, acting_group, acting_key, other_consumer, prompt};
use crate::redis::{
    EntryId, command_line, xgroup_delconsumer_cmd, xgroup_destroy_cmd, xgroup_setid_cmd,
};
use crate::supervisor::{EngineCommand, PendingOfDeleted};
use crate::tui::confirm::{Confirmation, ask};
use crate::tui::state::{Prompt, State};

/// `D`: delete the selected consumer; one with pending entries first
/// asks who takes them.
pub fn delete_consumer(state: &mut State) -> Done {
    let name = state
        .selected_consumer()
        .ok_or("select a consumer first (Tab to Consumers, j/k)")?;
    if state.ours(&name).is_some_and(|w| w.status.is_alive()) {
        return Err(format!(
            "{name} runs here: stop it first (s), then delete it"
        ));
    }
    let group = state.view.group.clone();
    let pending = acting_group(state)
        .and_then(|g| g.consumers.iter().find(|c| c.name == name))
        .map_or(0, |c| c.pending);
    if pending > 0 {
        let suggestion = other_consumer(state, &name).unwrap_or_default();
        let ask_to = Prompt::MovePendingTo {
            group,
            consumer: name,
            pending,
        };
        return prompt(state, ask_to, suggestion);
    }
    let key = &acting_key(state);
    let c = Confirmation::plain(
        "Delete consumer",
        vec![command_line(&xgroup_delconsumer_cmd(key, &group, &name))],
        vec![format!(
            "{name} has no pending entries: nothing is lost (refused if it has some by then)"
        )],
        EngineCommand::DeleteConsumer {
            group,
            consumer: name,
            pending: PendingOfDeleted::MustBeNone,
        },
    );
    ask(state, c);
    Ok(Vec::new())
}

pub(super) fn move_pending(
    state: &mut State,
    group: String,
    consumer: String,
    pending: u64,
    to: &str,
) -> Done {
    if to == consumer {
        // XCLAIM to itself would move nothing and still count a delivery
        // and reset the idle time of every entry, before the delete fails.
        return Err(format!(
            "{consumer} is the consumer being deleted: name another one to take its {pending} pending entries, or clear the name to drop them"
        ));
    }
    let key = acting_key(state);
    let delete = command_line(&xgroup_delconsumer_cmd(&key, &group, &consumer));
    let c = if to.is_empty() {
        Confirmation::losing(
            "Delete consumer",
            vec![delete],
            vec![format!(
                "its {pending} pending entries leave the PEL of {group} with it and are never delivered again"
            )],
            EngineCommand::DeleteConsumer {
                group,
                consumer,
                pending: PendingOfDeleted::Drop,
            },
        )
    } else {
        Confirmation::plain(
            "Delete consumer",
            vec![
                format!(
                    "XPENDING {key} {group} - + 500 {consumer}, then XCLAIM {key} {group} {to} 0 <those ids>, until it holds none"
                ),
                delete,
            ],
            vec![format!(
                "its {pending} pending entries move to {to} first, then {consumer} is deleted: nothing is lost"
            )],
            EngineCommand::DeleteConsumer {
                group,
                consumer,
                pending: PendingOfDeleted::ClaimTo(to.to_owned()),
            },
        )
    };
    ask(state, c);
    Ok(Vec::new())
}

/// `S`: move the selected group's last-delivered id.
pub fn set_id(state: &mut State) -> Done {
    let g = acting_group(state).ok_or("no group selected (Tab to Groups, j/k)")?;
    let current = g
        .info
        .last_delivered_id
        .map_or_else(|| "0".to_owned(), |id| id.to_string());
    let group = state.view.group.clone();
    prompt(state, Prompt::SetId { group }, current)
}

pub(super) fn set_id_to(state: &mut State, group: String, text: &str) -> Done {
    let id = text.trim();
    let to = match id {
        "$" => None,
        _ => Some(id.parse::<EntryId>()?),
    };
    let info = acting_group(state)
        .map(|g| g.info.clone())
        .unwrap_or_default();
    let last = info.last_delivered_id.unwrap_or(EntryId::ZERO);
    let moved = match to {
        None => format!(
            "{group} skips every entry not yet delivered to it ({} of them): they are never delivered to it",
            info.lag
                .map_or_else(|| "how many is unknown".to_owned(), |n| n.to_string())
        ),
        Some(to) if to < last => format!(
            "{group} is delivered every entry after {to} up to {last} again: the ones it had are processed twice (a group created at $ never had those before it)"
        ),
        Some(to) if to > last => format!(
            "{group} skips the entries after {last} up to {to}: they are never delivered to it"
        ),
        Some(_) => format!("{group} is already at {last}: nothing moves"),
    };
    let key = &acting_key(state);
    let c = Confirmation::losing(
        "XGROUP SETID",
        vec![command_line(&xgroup_setid_cmd(key, &group, id))],
        vec![
            moved,
            "its PEL stays as it is; Redis may report its lag as unknown until it catches up"
                .into(),
        ],
        EngineCommand::SetId {
            group,
            id: id.to_owned(),
        },
    );
    ask(state, c);
    Ok(Vec::new())
}

/// `X`: destroy the selected group.
pub fn destroy(state: &mut State) -> Done {
    let g = acting_group(state).ok_or("no group selected (Tab to Groups, j/k)")?;
    let (consumers, pending) = (g.info.consumers, g.info.pending);
    let group = state.view.group.clone();
    let key = &acting_key(state);
    let c = Confirmation::losing(
        "XGROUP DESTROY",
        vec![command_line(&xgroup_destroy_cmd(key, &group))],
        vec![
            format!(
                "drops {group}: its {}, its position and its PEL of {}",
                crate::words::count(consumers, "consumer", "consumers"),
                crate::words::entries(pending)
            ),
            format!(
                "the entries stay in {key}; a worker reading {group} re-creates it from 0 and processes them all again"
            ),
        ],
        EngineCommand::DestroyGroup { group },
    );
    ask(state, c);
    Ok(Vec::new())
}
