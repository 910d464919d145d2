//! Figures derived when a snapshot arrives: rates, sparkline history, the
//! poller's own cost, poison entries crossing the threshold, and reclaims
//! by other clients (`reclaims`).

use std::sync::Arc;

use crate::monitor::Snapshot;
use crate::monitor::poller::PollState;
use crate::tui::state::{HISTORY, LogKind, PelFilter, Previous, State};
use crate::tui::{navigate, reclaims, trend};

pub fn on_poll(state: &mut State, poll: PollState, now_ms: u64) {
    state.now_ms = now_ms;
    state.link = Some(poll.link);
    if poll.server.is_some() {
        state.server = poll.server;
    }
    if poll.health.is_some() {
        state.health = poll.health;
    }
    let Some(snap) = poll.snapshot else { return };
    if snap.key == state.view.stream {
        state.partitions = poll.partitions;
    }
    if state
        .snapshot
        .as_ref()
        .is_some_and(|s| Arc::ptr_eq(s, &snap))
    {
        return; // only the link changed
    }
    if snap.key != state.view.stream {
        return; // polled before another stream was opened
    }
    // Data lost on the server between polls (deleted, or a restart without
    // persistence): said in plain words, as `monitor` does.
    let lost = state
        .snapshot
        .as_ref()
        .map(|old| crate::monitor::loss::losses(old, &snap))
        .unwrap_or_default();
    for note in lost {
        state.push_log(snap.taken_ms, LogKind::Failure, note);
    }
    // The header's cost counts the entries view's pages and searches too.
    let commands_total = poll.commands_total + state.entries.commands_total;
    if let Some(prev) = state.previous.take() {
        rates(state, &prev, &snap, commands_total);
        reclaims::infer(state, &prev, &snap);
    }
    state.previous = Some(remember(state, &snap, commands_total));
    trend::on_snapshot(&mut state.trends, &snap);
    state.polls = poll.polls;
    state.snapshot = Some(snap);
    select_a_group(state);
    note_poison(state);
}

/// On a stream whose groups do not include the selected one (opened from
/// the overview, or `--group` names none of them), select its first group.
/// The lab's own group stays selected on the lab's stream: its workers
/// create it.
fn select_a_group(state: &mut State) {
    let lab_group = state.on_lab_stream() && state.view.group == state.lab.group;
    // A scenario's group is created a moment after the screen turns to it.
    let awaited = state.awaited_group.as_ref() == Some(&state.view.group);
    if state.group_names().contains(&state.view.group) {
        state.awaited_group = None;
    }
    if lab_group || awaited || state.group_names().contains(&state.view.group) {
        return;
    }
    let Some(snap) = &state.snapshot else { return };
    if let Some(first) = snap.groups.first() {
        state.view.group.clone_from(&first.info.name);
        state.view.consumer = None;
        navigate::set_filter(state, PelFilter::default());
    }
}

/// Log the entries of the group on screen that crossed `--poison-after`
/// since the last poll (or were found by the PEL walk), once each.
fn note_poison(state: &mut State) {
    let after = state.thresholds.poison_after;
    let Some(g) = state.group() else { return };
    let walked = g.poison.iter().flat_map(|scan| scan.poison.iter());
    let paged = g
        .pel_page
        .iter()
        .flatten()
        .filter(|p| p.deliveries >= after);
    let found: Vec<(crate::redis::EntryId, u64, String)> = walked
        .chain(paged)
        .map(|p| (p.id, p.deliveries, p.consumer.clone()))
        .collect();
    let group = state.view.group.clone();
    let seen = &mut state.poison_seen;
    if seen.0 != group {
        *seen = (group, std::collections::HashSet::new());
    }
    let mut new: Vec<(crate::redis::EntryId, u64, String)> = Vec::new();
    for f in found {
        if seen.1.insert(f.0) {
            new.push(f);
        }
    }
    if seen.1.len() > 10_000 {
        seen.1.clear();
    }
    if let Some(line) = poison_line(&new, after) {
        let at = state.now_ms;
        state.push_log(at, LogKind::Dead, line);
    }
}

/// One log line for entries newly seen at or past the poison threshold.
fn poison_line(new: &[(crate::redis::EntryId, u64, String)], after: u64) -> Option<String> {
    match new {
        [] => None,
        [(id, n, owner)] => Some(format!(
            "poison: {id} delivered {n} times (now {owner}'s): it keeps coming back; `streamlab pending list --min-deliveries {after}` lists such entries"
        )),
        many => {
            let ids: Vec<String> = many.iter().take(3).map(|(id, ..)| id.to_string()).collect();
            Some(format!(
                "poison: {} entries delivered {after}+ times ({}{}): `streamlab pending list --min-deliveries {after}` lists them",
                many.len(),
                ids.join(", "),
                if many.len() > 3 { ", ..." } else { "" }
            ))
        }
    }
}

/// The group whose acks the stream pane's sparkline counts: the lab's on
/// its own stream, else the one selected.
pub fn ack_group(state: &State) -> &str {
    if state.on_lab_stream() {
        &state.lab.group
    } else {
        &state.view.group
    }
}

/// Weight of the newest sample in the rates shown: workers ack in
/// batches, so a single poll interval alone makes the figures jump.
const SMOOTHING: f64 = 0.4;

fn per_s(delta: u64, dt: f64) -> f64 {
    #[expect(clippy::cast_precision_loss, reason = "rates for display")]
    let d = delta as f64;
    d / dt
}

fn rates(state: &mut State, prev: &Previous, snap: &Snapshot, commands_total: u64) {
    if snap.taken_ms <= prev.taken_ms {
        return;
    }
    #[expect(clippy::cast_precision_loss, reason = "milliseconds between polls")]
    let dt = (snap.taken_ms - prev.taken_ms) as f64 / 1000.0;
    let (produced, acked) = throughput(state, prev, snap);
    let read = state.roster.basic.as_ref().map_or(0, |b| b.read);
    let workers: Vec<(String, f64)> = state
        .roster
        .workers
        .iter()
        .map(|w| {
            let before = prev.processed.get(&w.name).copied().unwrap_or(w.processed);
            (
                w.name.clone(),
                per_s(w.processed.saturating_sub(before), dt),
            )
        })
        .collect();
    let r = &mut state.rates;
    let first = r.samples == 0;
    r.samples += 1;
    let smooth = |old: f64, new: f64| {
        if first {
            new
        } else {
            old + SMOOTHING * (new - old)
        }
    };
    r.produced_per_s = smooth(r.produced_per_s, per_s(produced, dt));
    push(&mut r.produced, r.produced_per_s);
    match acked {
        Some(acked) => {
            let new = per_s(acked, dt);
            r.acked_per_s = if r.acked.is_empty() {
                new
            } else {
                smooth(r.acked_per_s, new)
            };
            push(&mut r.acked, r.acked_per_s);
        }
        // Another group's figures: its history starts again, or the
        // difference between two groups' counts shows as a spike.
        None => {
            r.acked.clear();
            r.acked_per_s = 0.0;
        }
    }
    let commands = per_s(commands_total.saturating_sub(prev.commands_total), dt);
    r.commands_per_s = smooth(r.commands_per_s, commands);
    r.basic_per_s = smooth(
        r.basic_per_s,
        per_s(read.saturating_sub(prev.basic_read), dt),
    );
    r.worker_per_s = workers
        .into_iter()
        .map(|(name, new)| {
            let old = r.worker_per_s.get(&name).copied().unwrap_or(new);
            (name, smooth(old, new))
        })
        .collect();
}

/// Entries added to the stream and acked in the lab's group since `prev`,
/// from what Redis reports, so other clients' work counts too; no ack
/// figure when `prev` counted another group's.
fn throughput(state: &State, prev: &Previous, snap: &Snapshot) -> (u64, Option<u64>) {
    let info = snap.stream.clone().unwrap_or_default();
    let produced = match (info.entries_added, prev.entries_added) {
        (Some(now), Some(before)) => now.saturating_sub(before),
        _ => info.length.saturating_sub(prev.length),
    };
    let group = snap.group(ack_group(state));
    // Acked = newly read minus growth of the PEL (claims change neither).
    let acked = match (group.and_then(|g| g.info.entries_read), prev.entries_read) {
        (Some(read), Some(before)) => {
            let pending = group.map_or(0, |g| g.pending.count);
            (read.saturating_sub(before) + prev.pending).saturating_sub(pending)
        }
        _ => acked_ours(state).saturating_sub(prev.acked_ours),
    };
    (
        produced,
        (prev.acked_group == ack_group(state)).then_some(acked),
    )
}

fn push(history: &mut std::collections::VecDeque<u64>, rate: f64) {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a non-negative rate, rounded for the sparkline"
    )]
    history.push_back(rate.round().max(0.0) as u64);
    while history.len() > HISTORY {
        history.pop_front();
    }
}

fn acked_ours(state: &State) -> u64 {
    state.roster.workers.iter().map(|w| w.acked).sum()
}

fn remember(state: &State, snap: &Snapshot, commands_total: u64) -> Previous {
    let info = snap.stream.clone().unwrap_or_default();
    let group = snap.group(ack_group(state));
    let shown = snap.group(&state.view.group);
    let owners = shown
        .and_then(|g| g.pel_page.as_ref())
        .map(|page| {
            page.iter()
                .map(|p| (p.id, (p.consumer.clone(), p.deliveries)))
                .collect()
        })
        .unwrap_or_default();
    Previous {
        taken_ms: snap.taken_ms,
        entries_added: info.entries_added,
        length: info.length,
        entries_read: group.and_then(|g| g.info.entries_read),
        pending: group.map_or(0, |g| g.pending.count),
        commands_total,
        acked_ours: acked_ours(state),
        processed: state
            .roster
            .workers
            .iter()
            .map(|w| (w.name.clone(), w.processed))
            .collect(),
        basic_read: state.roster.basic.as_ref().map_or(0, |b| b.read),
        owners_group: state.view.group.clone(),
        owners,
        acked_group: ack_group(state).to_owned(),
        consumers: reclaims::pending_by_consumer(snap, &state.view.group),
        group_reads: shown.and_then(|g| g.info.entries_read),
        group_last_delivered: shown.and_then(|g| g.info.last_delivered_id),
    }
}

#[cfg(test)]
#[path = "derive_tests.rs"]
mod tests;
