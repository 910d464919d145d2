//! The probe's parsing and the decisions it drives, from INFO and HELLO
//! text as Redis 6.0/6.2/7.0 and Valkey 9.1 print it.

use super::*;
use crate::redis::{Retention, TrimMode};

const REDIS_62: &str = "# Server\r\nredis_version:6.2.14\r\nredis_mode:standalone\r\n# Cluster\r\ncluster_enabled:0\r\n";
const VALKEY_91: &str = "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:9.1.2\r\nserver_mode:standalone\r\n";
const REDIS_60: &str = "# Server\r\nredis_version:6.0.20\r\nredis_mode:standalone\r\n";
const CLUSTER_70: &str = "redis_version:7.0.15\r\nredis_mode:cluster\r\ncluster_enabled:1\r\n";

fn from_info(text: &str) -> ServerInfo {
    let identity = identity_from_info(&info_fields(text)).expect("an identity");
    ServerInfo::derive(identity, None)
}

#[test]
fn info_names_redis_and_valkey_with_their_own_version() {
    let redis = from_info(REDIS_62);
    assert_eq!(
        (redis.name, redis.version),
        (ServerName::Redis, Version::new(6, 2, 14))
    );
    assert_eq!(redis.to_string(), "Redis 6.2.14");
    let valkey = from_info(VALKEY_91);
    // Not the redis_version:7.2.4 it keeps for old clients.
    assert_eq!(
        (valkey.name, valkey.version),
        (ServerName::Valkey, Version::new(9, 1, 2))
    );
    assert_eq!(valkey.to_string(), "Valkey 9.1.2");
    let cluster = from_info(CLUSTER_70);
    assert_eq!(cluster.mode, ServerMode::Cluster);
    assert_eq!(cluster.to_string(), "Redis 7.0.15 (cluster)");
}

#[test]
fn missing_features_say_why_in_words() {
    let redis = from_info(REDIS_62);
    assert_eq!(
        redis.missing(Feature::Lag).as_deref(),
        Some("Redis < 7.0 does not report lag")
    );
    assert_eq!(redis.missing(Feature::XAutoClaim), None);
    let valkey = from_info(VALKEY_91);
    assert_eq!(valkey.missing(Feature::ConsumerInactive), None);
    assert_eq!(
        valkey.missing(Feature::XAckDel).as_deref(),
        Some("Valkey 9.1.2 has no XACKDEL")
    );
}

#[test]
fn a_server_older_than_6_2_is_refused_naming_version_and_what_is_missing() {
    let old = from_info(REDIS_60);
    let refusal = old.check_supported().expect_err("refused");
    assert!(refusal.contains("Redis 6.0.20"), "{refusal}");
    assert!(refusal.contains("XAUTOCLAIM"), "{refusal}");
    assert!(refusal.contains("6.2"), "{refusal}");
    assert!(from_info(REDIS_62).check_supported().is_ok());
    assert!(from_info(VALKEY_91).check_supported().is_ok());
}

#[test]
fn command_info_overrides_the_version_for_commands() {
    let identity = identity_from_info(&info_fields(VALKEY_91)).expect("identity");
    let found: HashMap<String, bool> = [("xautoclaim", true), ("xackdel", true), ("xdelex", false)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let info = ServerInfo::derive(identity, Some(&found));
    assert!(
        info.has(Feature::XAckDel),
        "a Valkey that ships XACKDEL gets it"
    );
    assert!(!info.has(Feature::XDelEx));
    assert!(
        !info.has(Feature::XAddIdmp),
        "options are never assumed on Valkey"
    );
}

#[test]
fn hello_gives_the_same_identity_as_info() {
    let pairs = |kv: &[(&str, &str)]| {
        Value::Array(
            kv.iter()
                .flat_map(|(k, v)| {
                    [
                        Value::BulkString(k.as_bytes().to_vec()),
                        Value::BulkString(v.as_bytes().to_vec()),
                    ]
                })
                .collect(),
        )
    };
    let hello = pairs(&[
        ("server", "valkey"),
        ("version", "9.1.2"),
        ("mode", "standalone"),
    ]);
    let identity = identity_from_hello(&hello).expect("identity");
    assert_eq!(Some(identity), identity_from_info(&info_fields(VALKEY_91)));
    let cluster = pairs(&[
        ("server", "redis"),
        ("version", "7.0.15"),
        ("mode", "cluster"),
    ]);
    assert_eq!(
        identity_from_hello(&cluster).map(|i| i.mode),
        Some(ServerMode::Cluster)
    );
}

#[test]
fn json_has_the_documented_fields() {
    let json = from_info(REDIS_62).to_json();
    assert_eq!(json["name"], "redis");
    assert_eq!(json["version"], "6.2.14");
    assert_eq!(json["mode"], "standalone");
    assert_eq!(
        json["features"],
        serde_json::json!(["xautoclaim", "xpending_idle"])
    );
}

#[test]
fn trim_modes_are_refused_before_8_2_and_exact_where_approximate_ones_do_nothing() {
    let redis_82 = "redis_version:8.2.3\r\nredis_mode:standalone\r\n";
    let redis_85 = "redis_version:8.6.0\r\nredis_mode:standalone\r\n";
    let acked = Retention::max_len(100, false).with_mode(Some(TrimMode::Acked));
    for old in [REDIS_62, VALKEY_91, CLUSTER_70] {
        let why = from_info(old).fit_retention(acked).expect_err("refused");
        assert!(why.contains("Redis 8.2"), "{why}");
        assert!(why.contains("ACKED"), "{why}");
    }
    // Without a mode nothing changes anywhere.
    let plain = Retention::max_len(100, false);
    assert_eq!(from_info(REDIS_62).fit_retention(plain), Ok((plain, None)));
    let (fitted, note) = from_info(redis_82).fit_retention(acked).expect("8.2 trims");
    assert!(fitted.exact, "~ with ACKED removes nothing on 8.2.3");
    assert!(note.is_some_and(|n| n.contains("14656")));
    let keepref = plain.with_mode(Some(TrimMode::KeepRef));
    assert_eq!(
        from_info(redis_82).fit_retention(keepref),
        Ok((keepref, None))
    );
    let (later, note) = from_info(redis_85).fit_retention(acked).expect("trims");
    assert!(!later.exact && note.is_none());
}
