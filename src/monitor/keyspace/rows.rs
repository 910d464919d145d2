//! The overview's rows: one per stream, with the figures the issue lists,
//! computed from the last refresh of its key. A dead-letter stream
//! `<stream>:dead` whose `<stream>` is also listed is folded into that
//! row as its dead-letter count instead of getting a row of its own.
//!
//! Partitioned streams (one logical stream in N keys) are the place to
//! extend: [`rows`] turns the known keys into rows, and a row's figures
//! are already sums and maxima over its groups, so a logical row is the
//! same sums over its partitions' keys.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::monitor::keyspace::stats::StreamStats;

/// One row of the overview.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub key: Arc<str>,
    /// `None` until its first refresh.
    pub stats: Option<Arc<StreamStats>>,
    /// When it was last refreshed (local clock, ms).
    pub refreshed_ms: u64,
    /// Entries added per second between its last two refreshes.
    pub added_per_s: Option<f64>,
    /// Length of `<key>:dead`, when that stream exists.
    pub dead: Option<u64>,
    /// `<key>:dead` was found but not read yet: its length is unknown,
    /// not 0.
    pub dead_unread: bool,
    /// Why the last refresh failed (a permission, a key of another type).
    pub problem: Option<String>,
    /// A refusal (ACL) is not asked again before this (local clock, ms).
    pub refused_until_ms: u64,
    /// A partitioned stream's row: its partitions' rows, in order (its own
    /// figures are their sums). Empty for a plain stream.
    pub partitions: Vec<Row>,
    /// A partition's row: the logical stream it belongs to.
    pub partition_of: Option<Arc<str>>,
}

impl Row {
    fn groups(&self) -> &[crate::monitor::keyspace::stats::GroupStats] {
        self.stats.as_ref().map_or(&[], |s| s.groups.as_slice())
    }

    pub fn length(&self) -> Option<u64> {
        self.stats.as_ref().map(|s| s.length)
    }

    pub fn group_count(&self) -> usize {
        self.groups().len()
    }

    pub fn consumers(&self) -> u64 {
        self.groups().iter().map(|g| g.consumers).sum()
    }

    pub fn pending(&self) -> u64 {
        self.groups().iter().map(|g| g.pending).sum()
    }

    /// The largest lag Redis knows; `None` when no group's lag is known.
    pub fn lag(&self) -> Option<u64> {
        self.groups().iter().filter_map(|g| g.lag).max()
    }

    /// The time its figures describe: its last refresh, or `now_ms` when
    /// it has none (local clock, ms). A diagnosis is made at this time,
    /// not at `now_ms`: a consumer seen idle at the refresh may have read
    /// since, and the figures cannot tell (on a big keyspace a row is read
    /// again only every few minutes).
    pub fn as_of(&self, now_ms: u64) -> u64 {
        if self.refreshed_ms == 0 {
            now_ms
        } else {
            self.refreshed_ms.min(now_ms)
        }
    }

    /// Consumers (of any group) stalled or leaking as of the row's last
    /// refresh (see [`Row::as_of`]); a partitioned row counts its
    /// partitions'.
    pub fn stuck(&self, now_ms: u64, stuck_after_ms: u64) -> usize {
        use crate::monitor::diagnosis::Diagnosis;
        let at = self.as_of(now_ms);
        let own = self
            .groups()
            .iter()
            .flat_map(|g| &g.consumer_stats)
            .filter(|c| {
                matches!(
                    c.diagnosis(at, stuck_after_ms),
                    Some(Diagnosis::Stalled | Diagnosis::Leaking)
                )
            })
            .count();
        own + self
            .partitions
            .iter()
            .map(|p| p.stuck(now_ms, stuck_after_ms))
            .sum::<usize>()
    }

    /// Groups whose lag Redis does not know.
    pub fn unknown_lags(&self) -> usize {
        self.groups().iter().filter(|g| g.lag.is_none()).count()
    }

    /// Age of the oldest pending entry over all groups.
    pub fn oldest_pending_ms(&self, now_ms: u64) -> Option<u64> {
        self.groups()
            .iter()
            .filter_map(|g| g.oldest_pending)
            .min()
            .map(|id| id.age_ms(now_ms))
    }

    /// The worst time lag: age of the oldest entry some group has not had.
    pub fn time_lag_ms(&self, now_ms: u64) -> Option<u64> {
        let last = self.stats.as_ref()?.last_generated_id;
        self.groups()
            .iter()
            .filter_map(|g| g.time_lag_ms(now_ms, last))
            .max()
    }

    /// Age of the newest entry (the last generated id's time).
    pub fn last_entry_age_ms(&self, now_ms: u64) -> Option<u64> {
        let last = self.stats.as_ref()?.last_generated_id?;
        (last.ms > 0).then(|| last.age_ms(now_ms))
    }

    /// The `monitor --all --json` object. Field names are a contract; a
    /// partitioned stream adds `"partitions"`, one such object each.
    pub fn to_json(&self, now_ms: u64) -> Value {
        let mut v = self.own_json(now_ms);
        if !self.partitions.is_empty() {
            let parts = self.partitions.iter().map(|p| p.own_json(now_ms));
            v["partitions"] = Value::Array(parts.collect());
        }
        v
    }

    fn own_json(&self, now_ms: u64) -> Value {
        let has_groups = self.group_count() > 0;
        json!({
            "key": &*self.key,
            "length": self.length(),
            "groups": self.group_count(),
            "consumers": self.consumers(),
            "pending": self.pending(),
            "lag": if has_groups { self.lag() } else { Some(0) },
            "unknown_lags": self.unknown_lags(),
            "oldest_pending_ms": self.oldest_pending_ms(now_ms),
            "time_lag_ms": self.time_lag_ms(now_ms),
            "last_entry_ms": self.last_entry_age_ms(now_ms),
            "added_per_s": self.added_per_s,
            "dead_letters": self.dead,
            "problem": self.problem,
        })
    }
}

/// The dead-letter stream of `key`'s stream, if `key` names one.
pub fn dead_of(key: &str) -> Option<&str> {
    key.strip_suffix(":dead").filter(|base| !base.is_empty())
}

/// Rows from what is known per key: every key, except dead-letter streams
/// whose stream is known too (they become that row's `dead`).
pub fn rows(known: &HashMap<Arc<str>, Row>) -> Vec<Row> {
    // The dead-letter streams first (few), so a row needs no key built to
    // find its own: 100,000 rows, 100,000 allocations fewer a poll.
    let dead: HashMap<&str, Option<u64>> = known
        .values()
        .filter_map(|r| dead_of(&r.key).map(|base| (base, r.length())))
        .filter(|(base, _)| known.contains_key(*base))
        .collect();
    known
        .values()
        .filter(|r| dead_of(&r.key).is_none_or(|base| !dead.contains_key(base)))
        .map(|r| {
            let found = dead.get(r.key.as_ref()).copied();
            Row {
                dead: found.flatten(),
                dead_unread: matches!(found, Some(None)),
                ..r.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::keyspace::stats::GroupStats;
    use crate::redis::EntryId;

    fn row(key: &str, length: u64, groups: Vec<GroupStats>) -> Row {
        Row {
            key: key.into(),
            stats: Some(Arc::new(StreamStats {
                length,
                last_generated_id: Some(EntryId { ms: 900, seq: 0 }),
                entries_added: Some(length),
                groups,
            })),
            ..Row::default()
        }
    }

    fn group(pending: u64, lag: Option<u64>, oldest_ms: Option<u64>) -> GroupStats {
        GroupStats {
            consumers: 2,
            pending,
            lag,
            oldest_pending: oldest_ms.map(|ms| EntryId { ms, seq: 0 }),
            ..GroupStats::default()
        }
    }

    #[test]
    fn a_row_sums_its_groups_and_never_turns_unknown_into_zero() {
        let r = row(
            "orders",
            50,
            vec![group(3, None, Some(400)), group(4, Some(7), Some(100))],
        );
        assert_eq!((r.group_count(), r.consumers(), r.pending()), (2, 4, 7));
        assert_eq!((r.lag(), r.unknown_lags()), (Some(7), 1));
        assert_eq!(r.oldest_pending_ms(1_000), Some(900));
        assert_eq!(r.last_entry_age_ms(1_000), Some(100));
        let unknown = row("x", 1, vec![group(0, None, None)]);
        assert_eq!(unknown.lag(), None);
        assert_eq!(unknown.to_json(1_000)["lag"], Value::Null);
        assert_eq!(row("bare", 1, vec![]).to_json(1_000)["lag"], json!(0));
    }

    #[test]
    fn dead_letter_streams_fold_into_their_stream() {
        let known: HashMap<Arc<str>, Row> = [
            row("orders", 50, vec![]),
            row("orders:dead", 3, vec![]),
            row("lonely:dead", 2, vec![]),
        ]
        .into_iter()
        .map(|r| (r.key.clone(), r))
        .collect();
        let mut out = rows(&known);
        out.sort_by(|a, b| a.key.cmp(&b.key));
        let keys: Vec<&str> = out.iter().map(|r| &*r.key).collect();
        assert_eq!(keys, ["lonely:dead", "orders"]);
        assert_eq!(out[1].dead, Some(3));
        assert_eq!(out[0].dead, None);
    }
}
