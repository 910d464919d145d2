//! The dashboard's words for what the supervisor reports: one line for the
//! status bar and the event log per outcome, naming the command sent where
//! there was one.

use crate::duration::show;
use crate::supervisor::{ClaimStop, Done, Refusal};
use crate::words::entries;

/// What was done, as the status line says it.
pub fn done(done: &Done) -> String {
    match done {
        Done::Spawned {
            name,
            group,
            partitions,
        } => {
            let on = match partitions {
                1 => String::new(),
                n => format!(" on each of {n} partitions"),
            };
            format!("spawned {name}: XREADGROUP as consumer '{name}' of group '{group}'{on}")
        }
        Done::Killed {
            name,
            min_idle,
            claim_every,
        } => format!(
            "killed {name} (crash): its pending entries stay until another worker's XAUTOCLAIM takes them (idle >= {}, every {})",
            show(*min_idle),
            show(*claim_every)
        ),
        Done::Stopping { name } => {
            format!("stopping {name}: it finishes and acks the batch in hand")
        }
        Done::ModeSet {
            name,
            mode,
            work_ms,
            fail_rate,
        } => format!(
            "{name} is now {} ({work_ms} ms per task, {:.0}% fail)",
            mode.label(),
            fail_rate * 100.0
        ),
        Done::Trimmed { command, removed } => format!(
            "{command}: removed {} (any still pending stay in their PEL as deleted)",
            entries(*removed)
        ),
        Done::IdSet { command, group, id } => format!(
            "{command}: group {group} now reads after {id} (its lag is unknown to Redis until it catches up)"
        ),
        Done::GroupDestroyed { command, group } => {
            format!("{command}: group {group}, its consumers and its PEL are gone")
        }
        Done::ConsumerDeleted {
            command,
            consumer,
            claimed_to,
            dropped,
        } => deleted(command, consumer, claimed_to.as_ref(), *dropped),
        Done::Acked { id, group } => {
            format!("acked {id} by hand: it left the PEL of group {group} and stays in the stream")
        }
        Done::Claimed { id, to } => {
            format!("claimed {id} to {to} by hand (XCLAIM, delivery count +1)")
        }
        Done::DeadLettered {
            id,
            dead_key,
            dead_id,
        } => format!("dead-lettered {id} by hand to {dead_key} as {dead_id} (and acked)"),
        Done::ScenarioStarted {
            scenario,
            group,
            production,
        } => crate::tui::scenarios::what_to_watch(*scenario, group, *production),
        Done::Repaired {
            what,
            group,
            to,
            done,
            not_pending,
            gone,
        } => repaired(what, group, to.as_deref(), *done, *not_pending, *gone),
    }
}

/// A bulk action's result, with what it could not do.
fn repaired(
    what: &str,
    group: &str,
    to: Option<&str>,
    done: u64,
    not_pending: u64,
    gone: u64,
) -> String {
    let to = to.map_or_else(String::new, |t| format!(" to {t}"));
    let mut line = format!("{what} {}{to} in group {group}", entries(done));
    if not_pending > 0 {
        line.push_str(&format!(
            "; {} no longer pending by then",
            entries(not_pending)
        ));
    }
    if gone > 0 {
        line.push_str(&format!(
            "; {} deleted from the stream: nothing to copy, left pending (a acks them)",
            entries(gone)
        ));
    }
    line
}

fn deleted(
    command: &str,
    consumer: &str,
    claimed_to: Option<&(String, u64)>,
    dropped: u64,
) -> String {
    let claimed = claimed_to.map_or_else(String::new, |(to, moved)| {
        format!("; {moved} pending entries claimed to {to} first")
    });
    let lost = if dropped > 0 {
        format!("; {dropped} pending entries left the PEL with it and will not be delivered again")
    } else {
        String::new()
    };
    format!("{command}: deleted {consumer}{claimed}{lost}")
}

/// Why it was not done, as the status line says it.
pub fn refused(refusal: &Refusal) -> String {
    match refusal {
        Refusal::NoLab => "no lab runs here: nothing started".to_owned(),
        Refusal::NotAlive { name, status } => format!("{name} is already {}", status.label()),
        Refusal::NotOurs { name } => format!("{name} is not one of this dashboard's workers"),
        Refusal::NoSafeTrim { key, why } => format!("no safe trim of {key}: {why}"),
        Refusal::NoSuchGroup { command, group } => format!("{command}: there was no group {group}"),
        Refusal::ConsumerHoldsEntries { consumer } => format!(
            "not deleted: {consumer} holds pending entries now; claim them first (D again offers to)"
        ),
        Refusal::ClaimStopped(ClaimStop::WouldNotMove { id, to }) => {
            format!("not deleted: {id} would not move to {to}")
        }
        Refusal::ClaimStopped(ClaimStop::TooMany { from, limit }) => format!(
            "not deleted: {from} holds more than {limit} pending entries: claim them with XAUTOCLAIM (a worker) instead"
        ),
        Refusal::NoLongerPending { action, id } => {
            format!("{action} {id}: it was no longer pending")
        }
        Refusal::ScenarioNeedsPlainStream { scenario } => format!(
            "scenario {scenario}: scenarios run on a plain lab stream, not a partitioned one (start the lab on another --stream)"
        ),
        Refusal::Redis { what, error } => format!("{what}: {error}"),
        Refusal::TimedOut { what, after } => {
            format!("{what}: Redis did not answer within {after:?}")
        }
    }
}
