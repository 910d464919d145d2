//! Reclaims by other clients, inferred between two polls so that every
//! entry moved is counted, not only those on the PEL page on screen.
//!
//! Counts first: a consumer's pending count goes up by what it reads and
//! what it claims, and down by what it acks and what is claimed from it.
//! New reads are known for the whole group (entries-read, or none at all
//! when the last-delivered id did not move), so whatever a consumer gained
//! beyond them was claimed: a lower bound, exact when nothing else
//! happened. The owners whose counts fell are where it came from, the
//! biggest losses first. Then the ids, where the poll read them for free:
//! entries on the page on screen whose owner changed.
//!
//! Not reported again: claims by the dashboard's own workers (they report
//! their reclaims as events) and the dashboard's own claims (`c`, `D`, the
//! bulk actions), which are expected moves subtracted from the counts.

use std::collections::{BTreeMap, HashMap};

use crate::monitor::Snapshot;
use crate::redis::EntryId;
use crate::tui::state::{LogKind, Previous, State};

/// How long a move the dashboard sent may take to show in a poll.
const EXPECT_FOR_MS: u64 = 10_000;

/// A move the dashboard itself made (or is about to), so the next polls
/// do not report it as someone else's reclaim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnMove {
    pub to: String,
    pub count: u64,
    pub at_ms: u64,
}

/// Entries some consumer claimed between two polls, and from whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub to: String,
    pub count: u64,
    /// Owners and how many each lost to it; `?` for what no loss explains.
    pub from: Vec<(String, u64)>,
}

/// Note that the dashboard moves `count` entries to `to`.
pub fn expect(state: &mut State, to: &str, count: u64) {
    let at_ms = state.now_ms;
    state
        .own_moves
        .retain(|m| at_ms.saturating_sub(m.at_ms) < EXPECT_FOR_MS);
    state.own_moves.push(OwnMove {
        to: to.to_owned(),
        count,
        at_ms,
    });
}

/// What each consumer of the group on screen held, for the next poll.
pub fn pending_by_consumer(snap: &Snapshot, group: &str) -> HashMap<String, u64> {
    snap.group(group)
        .map(|g| {
            g.consumers
                .iter()
                .map(|c| (c.name.clone(), c.pending))
                .collect()
        })
        .unwrap_or_default()
}

/// Entries delivered to the group between two polls: entries-read's rise,
/// none when the last-delivered id stood still, else unknown.
fn new_reads(prev: &Previous, snap: &Snapshot, group: &str) -> Option<u64> {
    let g = snap.group(group)?;
    match (g.info.entries_read, prev.group_reads) {
        (Some(now), Some(before)) => Some(now.saturating_sub(before)),
        _ if g.info.last_delivered_id == prev.group_last_delivered => Some(0),
        _ => None,
    }
}

/// The moves the counts prove, before and after, given `reads` new reads.
/// `expected` (the dashboard's own moves by target) is consumed as it
/// explains gains.
pub fn counted(
    before: &HashMap<String, u64>,
    after: &HashMap<String, u64>,
    reads: u64,
    expected: &mut HashMap<String, u64>,
) -> Vec<Counted> {
    let mut gains: Vec<(String, u64)> = Vec::new();
    let mut losses: Vec<(String, u64)> = Vec::new();
    let names = before
        .keys()
        .chain(after.keys().filter(|k| !before.contains_key(*k)));
    for name in names {
        let (b, a) = (
            before.get(name).copied().unwrap_or(0),
            after.get(name).copied().unwrap_or(0),
        );
        if a > b {
            let mut gain = (a - b).saturating_sub(reads);
            if let Some(own) = expected.get_mut(name) {
                let explained = gain.min(*own);
                (gain, *own) = (gain - explained, *own - explained);
            }
            if gain > 0 {
                gains.push((name.clone(), gain));
            }
        } else if b > a {
            losses.push((name.clone(), b - a));
        }
    }
    gains.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    losses.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    gains
        .into_iter()
        .map(|(to, count)| Counted {
            from: take_from(&mut losses, count, &to),
            to,
            count,
        })
        .collect()
}

/// Attribute `count` entries to the owners that lost some (biggest first,
/// never `to` itself); what they cannot explain comes from `?`.
fn take_from(losses: &mut [(String, u64)], count: u64, to: &str) -> Vec<(String, u64)> {
    let mut left = count;
    let mut from = Vec::new();
    for (name, lost) in losses.iter_mut().filter(|(n, _)| n != to) {
        if left == 0 {
            break;
        }
        let n = left.min(*lost);
        if n > 0 {
            from.push((name.clone(), n));
            (*lost, left) = (*lost - n, left - n);
        }
    }
    if left > 0 {
        from.push(("?".to_owned(), left));
    }
    from
}

/// Log every reclaim by another client between `prev` and `snap`.
pub fn infer(state: &mut State, prev: &Previous, snap: &Snapshot) {
    let group = state.view.group.clone();
    if prev.owners_group != group {
        return;
    }
    let mut page = page_moves(state, prev, snap);
    let mut expected = expected_by_target(state);
    // The dashboard's own claims show on the page too.
    page.retain(|to, _| !expected.contains_key(to));
    let after = pending_by_consumer(snap, &group);
    let moves = new_reads(prev, snap, &group)
        .map(|reads| counted(&prev.consumers, &after, reads, &mut expected))
        .unwrap_or_default();
    consume_expected(state, &expected);
    for m in moves {
        if state.ours(&m.to).is_some() {
            continue;
        }
        let ids = page.remove(&m.to).unwrap_or_default();
        let line = counted_line(&m, &ids);
        state.push_log(snap.taken_ms, LogKind::Reclaim, line);
    }
    // Moves seen on the page that the counts did not show (the claimer
    // also acked, or reads were unknown).
    for (to, ids) in page {
        let from: Vec<String> = ids.iter().map(|(_, f)| f.clone()).collect();
        let m = Counted {
            to,
            count: ids.len() as u64,
            from: tally(&from),
        };
        state.push_log(snap.taken_ms, LogKind::Reclaim, counted_line(&m, &ids));
    }
}

/// The dashboard's own pending moves, summed by target.
fn expected_by_target(state: &State) -> HashMap<String, u64> {
    let mut by: HashMap<String, u64> = HashMap::new();
    for m in &state.own_moves {
        *by.entry(m.to.clone()).or_default() += m.count;
    }
    by
}

/// Keep only what the counts have not explained yet.
fn consume_expected(state: &mut State, left: &HashMap<String, u64>) {
    let mut left = left.clone();
    for m in &mut state.own_moves {
        let room = left.get_mut(&m.to).map_or(0, |l| {
            let keep = (*l).min(m.count);
            *l -= keep;
            keep
        });
        m.count = room;
    }
    state.own_moves.retain(|m| m.count > 0);
}

/// Entries on both pages whose owner changed, by new owner, with the old
/// one; skipping our workers' claims and the dashboard's own.
fn page_moves(
    state: &mut State,
    prev: &Previous,
    snap: &Snapshot,
) -> BTreeMap<String, Vec<(EntryId, String)>> {
    let mut moves: BTreeMap<String, Vec<(EntryId, String)>> = BTreeMap::new();
    let Some(page) = snap
        .group(&state.view.group)
        .and_then(|g| g.pel_page.clone())
    else {
        return moves;
    };
    for p in page {
        let Some((owner, deliveries)) = prev.owners.get(&p.id) else {
            continue;
        };
        if *owner == p.consumer || p.deliveries < *deliveries {
            continue;
        }
        if state.claimed_by_hand.remove(&p.id) || state.ours(&p.consumer).is_some() {
            continue;
        }
        moves
            .entry(p.consumer)
            .or_default()
            .push((p.id, owner.clone()));
    }
    moves
}

fn tally(names: &[String]) -> Vec<(String, u64)> {
    let mut by: BTreeMap<&str, u64> = BTreeMap::new();
    for n in names {
        *by.entry(n).or_default() += 1;
    }
    by.into_iter().map(|(n, c)| (n.to_owned(), c)).collect()
}

/// `(inferred) c3 reclaimed 111 from c1 (103), c2 (8): ids on screen...`
fn counted_line(m: &Counted, ids: &[(EntryId, String)]) -> String {
    let from: Vec<String> = match m.from.as_slice() {
        [(one, _)] => vec![one.clone()],
        many => many.iter().map(|(n, c)| format!("{n} ({c})")).collect(),
    };
    let mut line = format!(
        "(inferred) {} reclaimed {} from {}",
        m.to,
        m.count,
        from.join(", ")
    );
    if !ids.is_empty() {
        let shown: Vec<String> = ids.iter().take(3).map(|(id, _)| id.to_string()).collect();
        let more = ids.len().saturating_sub(3);
        line.push_str(&format!(": {}", shown.join(", ")));
        if more > 0 {
            line.push_str(&format!(" +{more}"));
        }
    }
    line
}

#[cfg(test)]
#[path = "reclaims_tests.rs"]
mod tests;
