//! Bulk actions on the PEL: Space marks the selected entry, `*` every
//! entry matching the filter (the engine walks the whole PEL), and
//! `a` / `c` / `R` / `d` then act on the marks after one confirmation
//! listing the count and the commands; 100 entries or more need the
//! stream's name typed. `R` on a single entry requeues it: a copy (same
//! fields, byte for byte) added to the stream and the original acked in
//! one MULTI/EXEC, so a library that reads only `>` gets it again.

use super::{Done, SELECT_ENTRY, acting_key, other_consumer, prompt};
use crate::engine::dead_key;
use crate::engine::repair::Repair;
use crate::monitor::pel_walk::PendingFilter;
use crate::redis::{EntryId, PendingEntry, ServerMode, command_line, xack_cmd, xclaim_cmd};
use crate::supervisor::EngineCommand;
use crate::tui::confirm::{Confirmation, ask};
use crate::tui::state::{Marks, Pane, Prompt, State};

/// Marked entries from which the stream's name must be typed.
pub const TYPED_FROM: usize = 100;
/// The reason a dead letter written by a bulk action carries.
pub const BY_BULK: &str = "dead-lettered by hand from the dashboard (bulk)";
/// Ids a command line shows before `… (N ids)`.
const IDS_SHOWN: usize = 6;

/// Space: mark or unmark the selected pending entry.
pub fn mark(state: &mut State) -> Done {
    if state.view.focus != Pane::Pending {
        return Err("Tab to Pending to mark entries (Space marks the selected one)".into());
    }
    let p = state.selected_pending().cloned().ok_or(SELECT_ENTRY)?;
    let marks = own_marks(state);
    if marks.entries.remove(&p.id).is_none() {
        marks.entries.insert(p.id, p);
    }
    let n = marks.entries.len();
    state.status = Some(format!("{n} marked: a/c/R/d act on them, Esc unmarks"));
    Ok(Vec::new())
}

/// The marks of the group on screen, started afresh if they were another's.
fn own_marks(state: &mut State) -> &mut Marks {
    let (stream, group) = (&state.view.stream, &state.view.group);
    let m = &mut state.view.marks;
    if m.stream != *stream || m.group != *group {
        *m = Marks {
            stream: stream.clone(),
            group: group.clone(),
            ..Marks::default()
        };
    }
    m
}

/// `*`: ask the engine for every entry matching the filter (all pages);
/// with marks already, clear them.
pub fn mark_all(state: &mut State) -> Done {
    if !state.marked().is_empty() {
        state.view.marks = Marks::default();
        state.status = Some("marks cleared".into());
        return Ok(Vec::new());
    }
    let f = &state.view.filter;
    let filter = PendingFilter {
        consumer: f.consumer.clone(),
        min_idle_ms: f.min_idle_ms.unwrap_or(0),
        ..PendingFilter::default()
    };
    state.status = Some("marking every matching entry (walking the PEL)…".into());
    Ok(vec![EngineCommand::MarkMatching {
        group: state.view.group.clone(),
        filter,
    }])
}

/// Take the engine's answer to `*` for the group on screen.
pub fn on_marked(state: &mut State, group: &str, entries: Vec<PendingEntry>, complete: bool) {
    if group != state.view.group {
        return;
    }
    let n = entries.len();
    let marks = own_marks(state);
    marks.entries = entries.into_iter().map(|p| (p.id, p)).collect();
    marks.truncated = !complete;
    let more = if complete {
        ""
    } else {
        " (the first ones: there are more)"
    };
    state.status = Some(format!(
        "{n} marked over the whole PEL{more}: a/c/R/d act on them, Esc or * unmarks"
    ));
}

/// The marked entries, or the selected one.
fn targets(state: &State) -> Result<Vec<PendingEntry>, String> {
    let marked: Vec<PendingEntry> = state.marked().into_iter().cloned().collect();
    if !marked.is_empty() {
        return Ok(marked);
    }
    state
        .selected_pending()
        .cloned()
        .map(|p| vec![p])
        .ok_or_else(|| SELECT_ENTRY.to_owned())
}

pub fn ack(state: &mut State) -> Done {
    let entries: Vec<PendingEntry> = state.marked().into_iter().cloned().collect();
    let key = acting_key(state);
    let group = state.view.group.clone();
    let commands = id_lines(&entries, |ids| command_line(&xack_cmd(&key, &group, ids)));
    let effects = vec![format!(
        "{} leave the PEL of {group}; they stay in the stream and are not delivered again",
        count(entries.len())
    )];
    confirm(state, "Ack", commands, effects, Repair::Ack, entries);
    Ok(Vec::new())
}

/// `c` with marks: ask which consumer takes them.
pub fn claim(state: &mut State) -> Done {
    let group = state.view.group.clone();
    let first = state
        .marked()
        .first()
        .map(|p| p.consumer.clone())
        .unwrap_or_default();
    let suggestion = other_consumer(state, &first).unwrap_or_default();
    prompt(state, Prompt::ClaimMarkedTo { group }, suggestion)
}

pub fn claim_to(state: &mut State, group: String, to: &str) -> Done {
    if to.is_empty() {
        return Err("type the consumer that takes the marked entries".into());
    }
    let entries: Vec<PendingEntry> = state.marked().into_iter().cloned().collect();
    let key = acting_key(state);
    let commands = id_lines(&entries, |ids| {
        command_line(&xclaim_cmd(&key, &group, to, 0, ids))
    });
    let effects = vec![format!(
        "{to} owns {} instead of their consumers; each delivery count goes up by one",
        count(entries.len())
    )];
    let repair = Repair::Claim {
        to: to.to_owned(),
        min_idle_ms: 0,
    };
    confirm(state, "Claim", commands, effects, repair, entries);
    Ok(Vec::new())
}

/// `R`: requeue the marked entries, or the selected one.
pub fn requeue(state: &mut State) -> Done {
    let entries = targets(state)?;
    let key = acting_key(state);
    let group = state.view.group.clone();
    let mut commands = vec!["MULTI".to_owned()];
    for p in entries.iter().take(2) {
        commands.push(format!(
            "XADD {key} * <the fields of {}, byte for byte>",
            p.id
        ));
        commands.push(command_line(&xack_cmd(&key, &group, &[p.id])));
    }
    if entries.len() > 2 {
        commands.push(format!("… the same for {} more", count(entries.len() - 2)));
    }
    commands.push("EXEC (one per 100 entries)".into());
    let effects = vec![
        format!(
            "{} added again to {key} as new entries (same fields, same order) and the originals acked, in one transaction each batch",
            count(entries.len())
        ),
        "a library that reads only `>` (FastStream, taskiq, streaq) delivers them again; entries deleted from the stream stay pending".into(),
    ];
    confirm(
        state,
        "Requeue",
        commands,
        effects,
        Repair::Requeue,
        entries,
    );
    Ok(Vec::new())
}

/// `d` with marks.
pub fn dead_letter(state: &mut State) -> Done {
    let entries: Vec<PendingEntry> = state.marked().into_iter().cloned().collect();
    let key = acting_key(state);
    let dead = dead_key(&key);
    let group = state.view.group.clone();
    let split = state
        .server
        .as_ref()
        .is_some_and(|s| s.mode == ServerMode::Cluster)
        && crate::redis::topology::key_slot(&key) != crate::redis::topology::key_slot(&dead);
    let mut commands = Vec::new();
    for p in entries.iter().take(2) {
        let add = format!(
            "XADD {dead} * original_id {} group {group} consumer {} deliveries {} error \"{BY_BULK}\" f:<field> <value>...",
            p.id, p.consumer, p.deliveries
        );
        let ack = command_line(&xack_cmd(&key, &group, &[p.id]));
        if split {
            commands.extend([add, ack]);
        } else {
            commands.extend(["MULTI".into(), add, ack, "EXEC".into()]);
        }
    }
    if entries.len() > 2 {
        commands.push(format!("… the same for {} more", count(entries.len() - 2)));
    }
    let how = if split {
        "then acked (a crash between leaves a duplicate dead letter, never a lost entry)"
    } else {
        "and acked in one transaction each"
    };
    let effects = vec![format!(
        "{} copied to {dead} with their fields {how}; they stay in {key}",
        count(entries.len())
    )];
    let repair = Repair::DeadLetter {
        error: BY_BULK.into(),
    };
    confirm(state, "Dead-letter", commands, effects, repair, entries);
    Ok(Vec::new())
}

fn count(n: usize) -> String {
    crate::words::entries(n as u64)
}

/// One command line per batch of 500 ids, each showing a few ids.
fn id_lines(entries: &[PendingEntry], line: impl Fn(&[EntryId]) -> String) -> Vec<String> {
    entries
        .chunks(500)
        .take(3)
        .map(|batch| {
            let ids: Vec<EntryId> = batch.iter().map(|p| p.id).collect();
            let shown = line(&ids[..ids.len().min(IDS_SHOWN)]);
            if ids.len() > IDS_SHOWN {
                format!("{shown} … ({} ids)", ids.len())
            } else {
                shown
            }
        })
        .collect()
}

/// Ask once for the whole bulk action: `y`, or the stream's name for 100
/// entries or more.
fn confirm(
    state: &mut State,
    title: &str,
    commands: Vec<String>,
    effects: Vec<String>,
    repair: Repair,
    entries: Vec<PendingEntry>,
) {
    let n = entries.len();
    let title = format!("{title} {}", count(n));
    let command = EngineCommand::Repair {
        group: state.view.group.clone(),
        repair,
        entries,
    };
    let c = if n >= TYPED_FROM {
        let why = "100 entries or more: type the stream's name to confirm";
        Confirmation::typed(title, commands, effects, command, why)
    } else {
        Confirmation::plain(title, commands, effects, command)
    };
    ask(state, c);
}

#[cfg(test)]
#[path = "bulk_tests.rs"]
mod tests;
