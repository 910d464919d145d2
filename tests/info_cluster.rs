//! `streamlab info` on a local cluster (3 masters): memory and persistence
//! are per node, so every master is asked and each piece of advice names
//! its node; one master with allkeys-lru earns exactly one eviction warning.
//! The human report names the server once, as a cluster, and every master's
//! memory.

#[path = "common/cluster.rs"]
mod cluster;
mod common;

use std::time::Duration;

use common::run_bin;
use serde_json::Value as Json;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn every_master_is_asked_and_advice_names_its_node() {
    let c = cluster::shared(3, 0);
    let risky = c.master_ports()[1];
    for setting in ["maxmemory 256mb", "maxmemory-policy allkeys-lru"] {
        let out = c.cli_line(risky, &format!("CONFIG SET {setting}"));
        assert!(out.contains("OK"), "{out}");
    }
    let out = run_bin(&format!("info --json --url {}", c.url()), &[], WAIT).await;
    assert!(out.success(), "{}", out.stderr);
    let v: Json = serde_json::from_str(out.stdout.trim()).expect("one JSON object");
    assert_eq!(v["server"]["mode"], "cluster");
    let nodes = v["nodes"].as_array().expect("nodes on a cluster");
    assert_eq!(nodes.len(), 3, "{v}");
    let evictions: Vec<&str> = v["advice"]
        .as_array()
        .expect("advice")
        .iter()
        .filter(|a| a["topic"] == "eviction")
        .filter_map(|a| a["message"].as_str())
        .collect();
    assert_eq!(evictions.len(), 1, "{evictions:?}");
    assert!(
        evictions[0].starts_with(&format!("127.0.0.1:{risky}: ")),
        "{evictions:?}"
    );
    assert!(!out.stdout.contains(cluster::PASSWORD));

    let human = run_bin(&format!("info --url {}", c.url()), &[], WAIT).await;
    assert!(human.success(), "{}", human.stderr);
    let name = match v["server"]["name"].as_str() {
        Some("valkey") => "Valkey",
        _ => "Redis",
    };
    let version = v["server"]["version"].as_str().unwrap_or_default();
    let first = human.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("server    {name} {version} (cluster) at ")),
        "{}",
        human.stdout
    );
    for port in c.master_ports() {
        assert!(
            human
                .stdout
                .contains(&format!("memory    127.0.0.1:{port}: used ")),
            "{}",
            human.stdout
        );
    }
}
