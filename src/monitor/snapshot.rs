//! The plain data one poll produces, and its JSON form for `monitor --json`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::monitor::dangling::DeletedPending;
use crate::monitor::diagnosis::{Diagnosis, Thresholds, diagnose};
use crate::monitor::pel_walk::PoisonScan;
use crate::redis::{
    ConsumerInfo, EntryId, Feature, GroupInfo, PendingEntry, PendingSummary, ServerInfo, StreamInfo,
};

/// Why a group's lag is unknown: the server never reports it (Redis < 7.0),
/// or this stream's history keeps Redis from computing it.
pub fn lag_unknown_reason(server: Option<&ServerInfo>) -> String {
    server.and_then(|s| s.missing(Feature::Lag)).unwrap_or_else(|| {
        "Redis does not know (new group on an empty stream, XDEL/XTRIM past the group, XGROUP SETID, a failover)"
            .to_owned()
    })
}

/// A consumer idle (or, where Redis 7.2+ reports it, inactive) this long
/// is a ghost candidate.
pub const GHOST_AFTER_MS: u64 = 3_600_000;

/// A consumer that looks abandoned: no pending entries and idle over an
/// hour, or no successful read (`inactive`) for over an hour. XINFO keeps
/// listing such consumers until someone deletes them.
pub fn is_ghost(c: &ConsumerInfo) -> bool {
    (c.pending == 0 && c.idle_ms >= GHOST_AFTER_MS)
        || c.inactive_ms.is_some_and(|ms| ms >= GHOST_AFTER_MS)
}

/// What Redis reported about one stream at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub key: String,
    /// Milliseconds since the epoch when the poll finished (local clock).
    pub taken_ms: u64,
    /// `None` when the key does not exist.
    pub stream: Option<StreamInfo>,
    pub groups: Vec<GroupSnapshot>,
    /// Groups beyond the per-poll cap, not polled in detail.
    pub groups_omitted: usize,
    /// Those groups as XINFO GROUPS reports them (so each can be chosen,
    /// and is then polled in detail).
    pub more_groups: Vec<GroupInfo>,
    /// Commands this poll sent (the poller's own cost).
    pub commands: u32,
    /// Round-trip time of the whole poll, in microseconds.
    pub poll_us: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupSnapshot {
    pub info: GroupInfo,
    pub consumers: Vec<ConsumerInfo>,
    pub pending: PendingSummary,
    /// The PEL's first entry (smallest id), with its idle time.
    pub oldest_pending: Option<PendingEntry>,
    /// The first entry after last-delivered-id: its age is the time lag.
    pub next_undelivered: Option<EntryId>,
    /// The requested page of the PEL, for the group the dashboard shows.
    pub pel_page: Option<Vec<PendingEntry>>,
    /// Each probed consumer's oldest pending entry (XPENDING - + 1
    /// <consumer>, at most [`crate::monitor::poll::MAX_PROBES`] a poll).
    pub oldest_by_consumer: BTreeMap<String, PendingEntry>,
    /// Poison entries found by the PEL walk ([`crate::monitor::pel_walk`]);
    /// `None` when this poll did not walk.
    pub poison: Option<PoisonScan>,
    /// Ids of that page whose stream entry is gone (dangling references,
    /// see [`crate::monitor::dangling`]).
    pub deleted_in_page: Vec<EntryId>,
    /// How many pending entries are gone from the stream; `None` when not
    /// counted (`monitor` counts, the dashboard marks its page).
    pub deleted_pending: Option<DeletedPending>,
}

impl GroupSnapshot {
    /// Age of the oldest entry not yet delivered to the group, read from its id.
    pub fn time_lag_ms(&self, now_ms: u64) -> Option<u64> {
        self.next_undelivered.map(|id| id.age_ms(now_ms))
    }

    /// Age of the oldest pending entry, read from its id.
    pub fn oldest_pending_age_ms(&self, now_ms: u64) -> Option<u64> {
        self.pending.min.map(|id| id.age_ms(now_ms))
    }

    /// Consumer `name`'s oldest pending entry (smallest id), when this poll
    /// read it: probed, or the group's oldest when `name` holds it.
    pub fn oldest_pending_of(&self, name: &str) -> Option<&PendingEntry> {
        self.oldest_by_consumer
            .get(name)
            .or_else(|| self.oldest_pending.as_ref().filter(|p| p.consumer == name))
    }

    /// What [`diagnose`] says about consumer `c` of this group.
    pub fn diagnosis_of(&self, c: &ConsumerInfo, t: &Thresholds) -> Option<Diagnosis> {
        let oldest = self.oldest_pending_of(&c.name).map(|p| p.idle_ms);
        diagnose(c, oldest, t.stuck_after_ms)
    }

    /// How many of its consumers have diagnosis `which`.
    pub fn count_diagnosed(&self, which: Diagnosis, t: &Thresholds) -> usize {
        self.consumers
            .iter()
            .filter(|c| self.diagnosis_of(c, t) == Some(which))
            .count()
    }
}

impl Snapshot {
    pub fn group(&self, name: &str) -> Option<&GroupSnapshot> {
        self.groups.iter().find(|g| g.info.name == name)
    }

    /// Every group as XINFO GROUPS reported it, polled in detail or not.
    pub fn group_infos(&self) -> impl Iterator<Item = &GroupInfo> {
        let detailed = self.groups.iter().map(|g| &g.info);
        detailed.chain(self.more_groups.iter())
    }

    pub fn group_info(&self, name: &str) -> Option<&GroupInfo> {
        self.group_infos().find(|g| g.name == name)
    }

    /// The `monitor --json` object with the default thresholds.
    pub fn to_json(&self) -> Value {
        self.to_json_with(&Thresholds::default())
    }

    /// The `monitor --json` object. Field names are a contract with scripts.
    pub fn to_json_with(&self, t: &Thresholds) -> Value {
        let opt_id = |id: Option<EntryId>| id.map(|i| i.to_string());
        let s = self.stream.clone().unwrap_or_default();
        json!({
            "stream": {
                "key": self.key,
                "exists": self.stream.is_some(),
                "length": s.length,
                "first_id": opt_id(s.first_id),
                "last_id": opt_id(s.last_id),
                "last_generated_id": opt_id(s.last_generated_id),
                "entries_added": s.entries_added,
                "groups": s.groups,
            },
            "groups": self.groups.iter().map(|g| self.group_json(g, t)).collect::<Vec<_>>(),
            "groups_omitted": self.groups_omitted,
            "poll": { "commands": self.commands, "round_trip_us": self.poll_us, "taken_ms": self.taken_ms },
        })
    }

    /// [`Self::to_json`] plus the top-level `"server"` and, for each group
    /// whose lag is null, `"lag_unknown"`: why.
    pub fn to_json_on(&self, server: Option<&ServerInfo>, t: &Thresholds) -> Value {
        let mut v = self.to_json_with(t);
        if let Some(s) = server {
            v["server"] = s.to_json();
        }
        if let Some(groups) = v["groups"].as_array_mut() {
            for g in groups.iter_mut().filter(|g| g["lag"].is_null()) {
                g["lag_unknown"] = lag_unknown_reason(server).into();
            }
        }
        v
    }

    fn group_json(&self, g: &GroupSnapshot, t: &Thresholds) -> Value {
        let mut v = self.group_figures(g, t);
        let scan = g.poison.clone().unwrap_or_default();
        v["poison"] = scan
            .poison
            .iter()
            .map(|p| {
                json!({
                    "id": p.id.to_string(),
                    "consumer": p.consumer,
                    "deliveries": p.deliveries,
                    "idle_ms": p.idle_ms,
                })
            })
            .collect();
        v["poison_scan"] = json!({ "complete": scan.complete, "scanned": scan.scanned });
        if let Some(page) = &g.pel_page {
            v["pel_page"] = page.iter().map(pending_json).collect();
        }
        v
    }

    fn group_figures(&self, g: &GroupSnapshot, t: &Thresholds) -> Value {
        json!({
            "name": g.info.name,
            "pending": g.pending.count.max(g.info.pending),
            "last_delivered_id": g.info.last_delivered_id.map(|i| i.to_string()),
            "entries_read": g.info.entries_read,
            "lag": g.info.lag,
            "time_lag_ms": g.time_lag_ms(self.taken_ms),
            "oldest_pending_id": g.pending.min.map(|i| i.to_string()),
            "oldest_pending_idle_ms": g.oldest_pending.as_ref().map(|p| p.idle_ms),
            "consumers": g.consumers.iter().map(|c| json!({
                "name": c.name,
                "pending": c.pending,
                "idle_ms": c.idle_ms,
                "inactive_ms": c.inactive_ms,
                "ghost": is_ghost(c),
                "oldest_pending_idle_ms": g.oldest_pending_of(&c.name).map(|p| p.idle_ms),
                "diagnosis": g.diagnosis_of(c, t).map(Diagnosis::label),
            })).collect::<Vec<_>>(),
            "deleted_pending": g.deleted_pending.map(|d| d.count),
            "deleted_pending_exact": g.deleted_pending.map(|d| d.exact),
        })
    }
}

/// One PEL row as `monitor --json` prints it.
pub fn pending_json(p: &PendingEntry) -> Value {
    json!({
        "id": p.id.to_string(),
        "consumer": p.consumer,
        "idle_ms": p.idle_ms,
        "deliveries": p.deliveries,
    })
}

#[cfg(test)]
mod ghost_tests {
    use super::*;

    fn consumer(pending: u64, idle_ms: u64, inactive_ms: Option<u64>) -> ConsumerInfo {
        ConsumerInfo {
            name: "c".into(),
            pending,
            idle_ms,
            inactive_ms,
        }
    }

    #[test]
    fn ghosts_are_idle_and_empty_or_long_inactive() {
        let hour = GHOST_AFTER_MS;
        assert!(is_ghost(&consumer(0, hour, None)));
        assert!(
            !is_ghost(&consumer(3, 2 * hour, None)),
            "it still holds entries"
        );
        assert!(
            is_ghost(&consumer(3, 10, Some(hour))),
            "no read for an hour"
        );
        assert!(!is_ghost(&consumer(0, hour - 1, Some(hour - 1))));
    }
}
