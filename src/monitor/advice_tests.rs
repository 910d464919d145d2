//! Advice from INFO text as servers print it.

use super::*;
use crate::redis::server::info_fields;

fn topics(info: &str) -> Vec<(Level, &'static str)> {
    advise(&info_fields(info))
        .into_iter()
        .map(|a| (a.level, a.topic))
        .collect()
}

const SAFE: &str = "used_memory:1000000\r\nmaxmemory:100000000\r\nmaxmemory_policy:noeviction\r\naof_enabled:1\r\nrole:master\r\nconnected_slaves:1\r\n";

#[test]
fn a_queue_safe_server_gets_no_advice() {
    assert_eq!(topics(SAFE), []);
}

#[test]
fn allkeys_eviction_with_a_limit_is_a_warning_without_one_a_note() {
    let lru = SAFE.replace("noeviction", "allkeys-lru");
    assert_eq!(topics(&lru), [(Level::Warn, "eviction")]);
    let unlimited = lru.replace("maxmemory:100000000", "maxmemory:0");
    assert!(topics(&unlimited).contains(&(Level::Info, "eviction")));
    let volatile = SAFE.replace("noeviction", "volatile-ttl");
    assert_eq!(topics(&volatile), [(Level::Info, "eviction")]);
}

#[test]
fn memory_near_or_at_the_limit_is_a_warning() {
    let near = SAFE.replace("used_memory:1000000", "used_memory:95000000");
    let advice = advise(&info_fields(&near));
    assert_eq!(advice.len(), 1);
    assert!(advice[0].message.contains("95% full"), "{advice:?}");
    let full = SAFE.replace("used_memory:1000000", "used_memory:100000001");
    let advice = advise(&info_fields(&full));
    assert!(advice[0].message.starts_with("out of memory"), "{advice:?}");
    assert!(advice[0].message.contains("trim"), "{advice:?}");
}

#[test]
fn no_aof_and_no_snapshot_yet_warns_with_what_info_shows() {
    let bare = SAFE.replace("aof_enabled:1", "aof_enabled:0\r\nrdb_last_bgsave_time_sec:-1\r\nrdb_changes_since_last_save:42\r\nuptime_in_seconds:7");
    let advice = advise(&info_fields(&bare));
    assert_eq!(advice[0].topic, "persistence");
    assert_eq!(advice[0].level, Level::Warn);
    assert!(
        advice[0].message.contains("7 s ago (42 changes"),
        "{advice:?}"
    );
    let snapshots = bare.replace("rdb_last_bgsave_time_sec:-1", "rdb_last_bgsave_time_sec:0");
    assert_eq!(topics(&snapshots), [(Level::Info, "persistence")]);
}

#[test]
fn a_diskless_replica_sync_is_not_taken_for_a_snapshot() {
    // What a primary reports after a diskless sync: a fork, no file.
    let synced = SAFE.replace(
        "aof_enabled:1",
        "aof_enabled:0\r\nrdb_saves:0\r\nrdb_last_bgsave_time_sec:0\r\nuptime_in_seconds:7",
    );
    assert_eq!(topics(&synced), [(Level::Warn, "persistence")]);
    let saved = synced.replace("rdb_saves:0", "rdb_saves:3");
    assert_eq!(topics(&saved), [(Level::Info, "persistence")]);
    // Redis 6.2 has no `rdb_saves`: the last save is still the start.
    let old = synced.replace(
        "rdb_saves:0",
        "server_time_usec:1000007000000\r\nrdb_last_save_time:1000000",
    );
    assert_eq!(topics(&old), [(Level::Warn, "persistence")]);
    let old_saved = old.replace("rdb_last_save_time:1000000", "rdb_last_save_time:1000005");
    assert_eq!(topics(&old_saved), [(Level::Info, "persistence")]);
}

#[test]
fn replicas_and_lone_primaries_are_named() {
    let lone = SAFE.replace("connected_slaves:1", "connected_slaves:0");
    assert_eq!(topics(&lone), [(Level::Info, "replication")]);
    let replica = SAFE.replace("role:master", "role:slave");
    assert_eq!(topics(&replica), [(Level::Warn, "replication")]);
}

#[test]
fn warnings_come_first_and_json_has_the_documented_fields() {
    let mixed = SAFE
        .replace("connected_slaves:1", "connected_slaves:0")
        .replace("noeviction", "allkeys-lru");
    let advice = advise(&info_fields(&mixed));
    assert_eq!(advice[0].level, Level::Warn);
    let json = advice[0].to_json();
    assert_eq!(json["level"], "warn");
    assert_eq!(json["topic"], "eviction");
    assert!(
        json["message"]
            .as_str()
            .is_some_and(|m| m.contains("allkeys-lru"))
    );
}
