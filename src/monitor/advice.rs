//! Queue-safety advice from what INFO tells (memory, persistence,
//! replication). Streams used as queues need what a cache does not: keys
//! that are never evicted, pending entries that survive a restart, room
//! to grow. CONFIG is often disabled on managed Redis, so nothing here
//! depends on it: every message states what INFO shows, never a guess
//! about settings it cannot see.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::redis::connect::Conn;
use crate::redis::errors::RedisFailure;
use crate::redis::memory::{MemoryState, OOM_REMEDY};
use crate::redis::reply::text;
use crate::redis::server::info_fields;

/// What the dashboard's header shows about the server's health: memory
/// (out of memory is its own state) and the advice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Health {
    pub memory: Option<MemoryState>,
    pub advice: Vec<Advice>,
}

impl Health {
    /// Out of memory: at maxmemory with a policy that evicts nothing, so
    /// Redis refuses XADD.
    pub fn out_of_memory(&self) -> bool {
        self.memory
            .as_ref()
            .is_some_and(|m| m.policy == "noeviction" && m.fill().is_some_and(|f| f >= 1.0))
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Advice> {
        self.advice.iter().filter(|a| a.level == Level::Warn)
    }
}

/// One INFO (default sections): memory and advice.
pub async fn server_health(conn: &mut Conn) -> Result<Health, RedisFailure> {
    let v = conn.run(&::redis::cmd("INFO"), "INFO", false).await?;
    let fields = info_fields(&text(&v).unwrap_or_default());
    Ok(Health {
        memory: MemoryState::from_fields(&fields),
        advice: advise(&fields),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Warn,
    Info,
}

/// One piece of advice: how serious, about what, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    pub level: Level,
    /// `eviction`, `persistence`, `memory`, `replication`.
    pub topic: &'static str,
    pub message: String,
}

/// Used memory at or above this share of maxmemory earns a warning.
pub const MEMORY_NEAR: f64 = 0.9;

impl Advice {
    fn warn(topic: &'static str, message: String) -> Self {
        Self {
            level: Level::Warn,
            topic,
            message,
        }
    }

    fn info(topic: &'static str, message: String) -> Self {
        Self {
            level: Level::Info,
            topic,
            message,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "level": match self.level { Level::Warn => "warn", Level::Info => "info" },
            "topic": self.topic,
            "message": self.message,
        })
    }
}

/// Everything INFO's fields (any sections) say about queue safety,
/// warnings first.
pub fn advise(fields: &HashMap<String, String>) -> Vec<Advice> {
    let mut all = Vec::new();
    if let Some(memory) = MemoryState::from_fields(fields) {
        all.extend(eviction(&memory));
        all.extend(room(&memory));
    }
    all.extend(persistence(fields));
    all.extend(replication(fields));
    all.sort_by_key(|a| a.level);
    all
}

fn eviction(m: &MemoryState) -> Option<Advice> {
    let policy = m.policy.as_str();
    let limit = if m.max == 0 {
        " (no maxmemory is set yet, so nothing is evicted now)"
    } else {
        ""
    };
    if policy.starts_with("allkeys-") {
        let message = format!(
            "maxmemory-policy {policy} may evict any key, a stream with its pending entries included{limit}: queues need noeviction"
        );
        Some(if m.max == 0 {
            Advice::info("eviction", message)
        } else {
            Advice::warn("eviction", message)
        })
    } else if policy.starts_with("volatile-") {
        Some(Advice::info(
            "eviction",
            format!(
                "maxmemory-policy {policy} evicts keys that have a TTL{limit}: never EXPIRE a stream key, or use noeviction"
            ),
        ))
    } else {
        None
    }
}

fn room(m: &MemoryState) -> Option<Advice> {
    let Some(fill) = m.fill() else {
        return Some(Advice::info(
            "memory",
            "no maxmemory is set: a stream that is never trimmed grows until the machine runs out of memory".into(),
        ));
    };
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a percentage for display"
    )]
    let percent = (fill * 100.0).round() as u64;
    if fill >= 1.0 && m.policy == "noeviction" {
        Some(Advice::warn(
            "memory",
            format!(
                "out of memory ({}): Redis refuses XADD; {OOM_REMEDY}",
                m.describe()
            ),
        ))
    } else if fill >= MEMORY_NEAR {
        Some(Advice::warn(
            "memory",
            format!(
                "memory {percent}% full ({}): XADD will soon fail or keys be evicted; {OOM_REMEDY}",
                m.describe()
            ),
        ))
    } else {
        None
    }
}

fn persistence(fields: &HashMap<String, String>) -> Option<Advice> {
    let get = |k: &str| fields.get(k).map(String::as_str);
    if get("aof_enabled")? == "1" {
        return None;
    }
    // `rdb_saves` (Redis 7.0+, Valkey) counts snapshots written to disk. A
    // diskless replica sync also forks and sets `rdb_last_bgsave_time_sec`
    // without writing a file, so that field cannot tell. Redis 6.2 lacks
    // `rdb_saves`; there the last save time is still the start time when
    // nothing was saved since (it is set at start, then by each save).
    let never_saved = match get("rdb_saves") {
        Some(saves) => saves == "0",
        None => {
            saved_at_start_only(fields).unwrap_or(get("rdb_last_bgsave_time_sec") == Some("-1"))
        }
    };
    let unsaved: u64 = get("rdb_changes_since_last_save")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if never_saved {
        let uptime = get("uptime_in_seconds").unwrap_or("?");
        Some(Advice::warn(
            "persistence",
            format!(
                "AOF is off and no RDB snapshot was taken since the server started {uptime} s ago{}: a restart now loses every pending task; use appendonly yes",
                if unsaved > 0 {
                    format!(" ({unsaved} changes not on disk)")
                } else {
                    String::new()
                }
            ),
        ))
    } else {
        Some(Advice::info(
            "persistence",
            format!(
                "AOF is off: RDB snapshots only ({unsaved} changes since the last one), so a crash loses tasks added or acked since; appendonly yes keeps them"
            ),
        ))
    }
}

/// Whether the last save time is the server's start (to the second, and a
/// second of rounding): `None` when INFO lacks a field it needs.
fn saved_at_start_only(fields: &HashMap<String, String>) -> Option<bool> {
    let number = |k: &str| fields.get(k)?.parse::<u64>().ok();
    let now = number("server_time_usec")? / 1_000_000;
    let started = now.checked_sub(number("uptime_in_seconds")?)?;
    Some(number("rdb_last_save_time")? <= started + 1)
}

fn replication(fields: &HashMap<String, String>) -> Option<Advice> {
    let get = |k: &str| fields.get(k).map(String::as_str);
    match get("role")? {
        "slave" | "replica" => Some(Advice::warn(
            "replication",
            "this server is a replica: it refuses writes (XADD, XACK); point REDIS_URL at the primary".into(),
        )),
        _ if get("connected_slaves") == Some("0") => Some(Advice::info(
            "replication",
            "no replica is connected: tasks on this server exist nowhere else".into(),
        )),
        _ => None,
    }
}

#[cfg(test)]
#[path = "advice_tests.rs"]
mod tests;
