//! When each group's backlog clears (`streamlab_group_clears_in_seconds`),
//! from two refreshes of its stream: the ack rate is the entries the group
//! read minus the growth of its PEL (claims change neither), the
//! production rate the entries added, and the backlog (not yet delivered
//! plus delivered and not acked) clears at their difference. The same
//! reasoning as the dashboard's "clears in" (tui/trend.rs), over the
//! refreshes the exporter's rotation makes instead of every poll.

use std::collections::{HashMap, HashSet};

use crate::exporter::{GroupKey, key_rows};
use crate::monitor::keyspace::rows::Row;

/// Below this many acks a second, nothing is being worked through.
const STALLED_ACKS: f64 = 0.05;
/// Rates within this share of the ack rate balance (noise of two rates).
const BALANCED: f64 = 0.05;
/// A backlog worked through within this long at the ack rate is what is
/// in flight, not a queue that waits.
const IN_FLIGHT_SECONDS: f64 = 2.0;

/// One refresh's figures for a group.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample {
    at_ms: u64,
    entries_read: Option<u64>,
    pending: u64,
    entries_added: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Track {
    last: Sample,
    /// Lag plus pending at the last refresh; `None` when the lag is unknown.
    backlog: Option<u64>,
    /// Rates between the last two refreshes, when both knew them.
    acked_per_s: Option<f64>,
    added_per_s: f64,
}

/// The groups' last samples, kept between polls.
#[derive(Debug, Default)]
pub struct ClearsTracker {
    groups: HashMap<GroupKey, Track>,
}

impl ClearsTracker {
    /// Take in the groups of rows refreshed since the last call; forget
    /// groups that are gone.
    pub fn update(&mut self, rows: &[Row]) {
        let mut seen = HashSet::new();
        for row in key_rows(rows) {
            let Some(stats) = &row.stats else { continue };
            for g in &stats.groups {
                let key: GroupKey = (row.key.clone(), g.name.clone());
                let now = Sample {
                    at_ms: row.refreshed_ms,
                    entries_read: g.entries_read,
                    pending: g.pending,
                    entries_added: stats.entries_added,
                };
                let backlog = g.lag.map(|lag| lag + g.pending);
                let track = match self.groups.get(&key) {
                    Some(t) if t.last.at_ms == now.at_ms => *t,
                    Some(t) => next(t.last, now, backlog),
                    None => Track {
                        last: now,
                        backlog,
                        acked_per_s: None,
                        added_per_s: 0.0,
                    },
                };
                self.groups.insert(key.clone(), track);
                seen.insert(key);
            }
        }
        self.groups.retain(|k, _| seen.contains(k));
    }

    /// Seconds until each group clears, for the groups where it is known.
    pub fn figures(&self) -> HashMap<GroupKey, f64> {
        self.groups
            .iter()
            .filter_map(|(k, t)| {
                clears_in(t.backlog, t.acked_per_s, t.added_per_s).map(|s| (k.clone(), s))
            })
            .collect()
    }
}

/// The track after a new refresh `now` following `before`.
fn next(before: Sample, now: Sample, backlog: Option<u64>) -> Track {
    let dt_s = now.at_ms.saturating_sub(before.at_ms) as f64 / 1000.0;
    let acked = match (now.entries_read, before.entries_read) {
        (Some(read), Some(read_before)) if dt_s > 0.0 => {
            let acked =
                (read.saturating_sub(read_before) + before.pending).saturating_sub(now.pending);
            Some(acked as f64 / dt_s)
        }
        _ => None,
    };
    let added = match (now.entries_added, before.entries_added) {
        (Some(a), Some(b)) if dt_s > 0.0 => a.saturating_sub(b) as f64 / dt_s,
        _ => 0.0,
    };
    Track {
        last: now,
        backlog,
        acked_per_s: acked,
        added_per_s: added,
    }
}

/// Seconds until a backlog clears at these rates: 0 when there is none,
/// +Inf when it never does (no acks, or production keeps up with them
/// over more than what is in flight), `None` when unknown (the lag is
/// unknown, or two refreshes have not been seen yet).
pub fn clears_in(backlog: Option<u64>, acked_per_s: Option<f64>, added_per_s: f64) -> Option<f64> {
    let backlog = backlog? as f64;
    if backlog == 0.0 {
        return Some(0.0);
    }
    let acked = acked_per_s?;
    if acked < STALLED_ACKS {
        return Some(f64::INFINITY);
    }
    let net = acked - added_per_s;
    if net.abs() <= BALANCED * acked {
        // Keeping pace: what is there is in flight, or a queue that stays.
        return Some(if backlog <= acked * IN_FLIGHT_SECONDS {
            backlog / acked
        } else {
            f64::INFINITY
        });
    }
    Some(if net < 0.0 {
        f64::INFINITY
    } else {
        backlog / net
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backlog_clears_at_acks_net_of_production() {
        // 450 to clear at 80 acked - 20 added a second: 7.5 s.
        assert_eq!(clears_in(Some(450), Some(80.0), 20.0), Some(7.5));
        assert_eq!(clears_in(Some(0), None, 5.0), Some(0.0));
        assert_eq!(clears_in(Some(450), Some(80.0), 100.0), Some(f64::INFINITY));
        assert_eq!(clears_in(Some(450), Some(0.0), 0.0), Some(f64::INFINITY));
    }

    #[test]
    fn unknown_stays_unknown_and_a_steady_queue_is_in_flight() {
        assert_eq!(clears_in(None, Some(80.0), 0.0), None);
        assert_eq!(clears_in(Some(3), None, 0.0), None);
        // 20 a second in and out, one entry in flight: 0.05 s.
        assert_eq!(clears_in(Some(1), Some(20.0), 20.0), Some(0.05));
        assert_eq!(
            clears_in(Some(5_000), Some(20.0), 20.0),
            Some(f64::INFINITY)
        );
    }

    #[test]
    fn acks_are_reads_minus_pel_growth_between_two_refreshes() {
        let before = Sample {
            at_ms: 1_000,
            entries_read: Some(1_000),
            pending: 10,
            entries_added: Some(2_000),
        };
        let now = Sample {
            at_ms: 2_000,
            entries_read: Some(1_100),
            pending: 30,
            entries_added: Some(2_020),
        };
        let t = next(before, now, Some(450));
        assert_eq!((t.acked_per_s, t.added_per_s), (Some(80.0), 20.0));
    }
}
