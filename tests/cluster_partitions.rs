//! Partitioned streams on a real local 3-master cluster (one per test
//! binary): `--partitions 3` puts one partition on each master, the record
//! and every derived key stay in their partition's slot, a worker drains
//! every partition with a ledger (every id by partition processed, every
//! PEL empty), dead letters move atomically within a partition's slot,
//! `monitor --json` names the node of each partition, and the lab's
//! dashboard shows one row per partition, each on its own master.

#[path = "common/cluster.rs"]
mod cluster;
mod common;
#[path = "common/partitions.rs"]
mod partitions;
#[path = "common/tmux.rs"]
mod tmux;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{BinOutput, BinProcess, Deadline, connector, pending_count, run_bin, unique};
use partitions::{drain_with_worker, ids_by_partition, ledger, partition_keys};
use serde_json::Value as Json;
use streamlab::engine::dead_key;
use streamlab::engine::registry::{self, CreatedBy, record_key};
use streamlab::redis::topology::key_slot;
use streamlab::redis::{Conn, EntryId, exists, xlen};

const WAIT: Duration = Duration::from_secs(60);

fn cluster() -> &'static cluster::LocalCluster {
    cluster::shared(3, 0)
}

async fn run_ok(stream: &str, rest: &str) -> BinOutput {
    let line = format!("--url {} --stream {stream} {rest}", cluster().url());
    let out = run_bin(&line, &[], WAIT).await;
    assert!(
        out.success(),
        "{rest}\nstdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
    out
}

/// A 3-partition stream of `count` tasks with group `g`; its keys.
async fn partitioned(stream: &str, count: u64) -> (Conn, Vec<String>) {
    run_ok(
        stream,
        &format!("produce --partitions 3 --count {count} --group g"),
    )
    .await;
    let mut conn = connector(&cluster().url()).conn("test");
    let keys = partition_keys(&mut conn, stream).await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    (conn, keys)
}

/// The port of the master serving `key`, as the cluster itself says.
fn owner(key: &str) -> u16 {
    let c = cluster();
    let port = c.nodes[0].port;
    let said = c.cli(port, &["CLUSTER".into(), "KEYSLOT".into(), key.into()]);
    let slot: u16 = said.trim().parse().expect("a slot");
    assert_eq!(slot, key_slot(key), "{key}: our slot is the server's");
    c.owner_port(port, slot)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_partitions_on_three_masters_drain_with_a_ledger() {
    let stream = unique("spread");
    let (mut conn, keys) = partitioned(&stream, 900).await;
    let masters: BTreeSet<u16> = keys.iter().map(|k| owner(k)).collect();
    assert_eq!(masters.len(), 3, "one partition per master: {keys:?}");
    assert_eq!(exists(&mut conn, &record_key(&stream)).await, Ok(true));
    for key in &keys {
        assert_eq!(
            owner(&dead_key(key)),
            owner(key),
            "{key}: dead letters share its slot"
        );
        assert_eq!(xlen(&mut conn, key).await, Ok(300), "{key}");
    }
    let produced = ids_by_partition(&mut conn, &keys).await;
    drain_with_worker(&mut conn, &cluster().url(), &stream, &produced, WAIT).await;

    let v: Json =
        serde_json::from_str(run_ok(&stream, "monitor --json --once").await.stdout.trim())
            .expect("one JSON object");
    assert_eq!(v["stream"]["length"], 900);
    assert_eq!(v["groups"][0]["pending"], 0);
    assert_eq!(v["groups"][0]["lag"], 0);
    for (part, key) in v["partitions"]
        .as_array()
        .expect("partitions")
        .iter()
        .zip(&keys)
    {
        assert_eq!(part["key"], key.as_str());
        assert_eq!(part["node"], format!("127.0.0.1:{}", owner(key)).as_str());
    }
    // The basic consumer reads every partition too.
    let out = run_ok(
        &stream,
        "consume --from 0-0 --limit 900 --json --no-save --block 200ms",
    )
    .await;
    let read: BTreeSet<(String, EntryId)> = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .filter_map(|v| {
            Some((
                v["stream"].as_str()?.to_owned(),
                v["id"].as_str()?.parse().ok()?,
            ))
        })
        .collect();
    assert_eq!(read, produced);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_move_within_each_partitions_slot() {
    let stream = unique("dead");
    let (mut conn, keys) = partitioned(&stream, 30).await;
    let produced = ids_by_partition(&mut conn, &keys).await;
    let line = format!(
        "worker --url {} --stream {stream} --group g --name f --fail-rate 1 --max-deliveries 1 --block 200ms --events json",
        cluster().url()
    );
    let mut worker = BinProcess::spawn(&line, &[]);
    let deadline = Deadline::new("every entry dead-lettered", WAIT);
    while ledger(&worker.stdout_lines(), "dead_lettered", "id").len() < produced.len() {
        deadline.tick().await;
    }
    worker.terminate();
    assert!(worker.wait_exit(WAIT).await.success());
    let dead: BTreeSet<_> = ledger(&worker.stdout_lines(), "dead_lettered", "id")
        .into_iter()
        .collect();
    assert_eq!(dead, produced);
    for key in &keys {
        let own = produced.iter().filter(|(k, _)| k == key).count() as u64;
        assert_eq!(xlen(&mut conn, &dead_key(key)).await, Ok(own), "{key}");
        assert_eq!(pending_count(&mut conn, key, "g").await, 0, "{key}");
    }
    // Replayed onto their own partitions, again within one slot each.
    run_ok(&stream, "dlq replay --count 100").await;
    for key in &keys {
        assert_eq!(xlen(&mut conn, &dead_key(key)).await, Ok(0), "{key}");
        assert_eq!(
            xlen(&mut conn, key).await,
            Ok(20),
            "{key}: 10 tasks and 10 replays"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_on_a_cluster_fills_drains_and_shows_each_partition_on_its_master() {
    let stream = unique("lab-spread");
    let url = cluster().url();
    let line = common::screen_line(&["--url", &url, "--stream", &stream, "--partitions", "3"]);
    let t = tmux::Tmux::start(&line, 160, 50);
    t.wait("the partitions pane", WAIT, |s| s.contains("Partitions (3"));
    let mut conn = connector(&url).conn("test");
    let record = registry::read(&mut conn, &stream)
        .await
        .expect("read")
        .expect("recorded");
    assert_eq!(record.created_by, CreatedBy::Lab);
    let keys = record.layout.partitions;
    let masters: BTreeSet<u16> = keys.iter().map(|k| owner(k)).collect();
    assert_eq!(masters.len(), 3, "one partition per master: {keys:?}");

    t.keys("P");
    let deadline = Deadline::new("the burst of 100 spread and drained", WAIT);
    loop {
        let mut total = 0;
        let mut pending = 0;
        for key in &keys {
            total += xlen(&mut conn, key).await.expect("XLEN");
            pending += pending_count(&mut conn, key, "workers").await;
        }
        if total == 100 && pending == 0 {
            break;
        }
        deadline.tick().await;
    }
    // Each partition's row names the master the cluster says serves it.
    let rows: Vec<(&str, String)> = keys
        .iter()
        .map(|k| (k.as_str(), format!("127.0.0.1:{}", owner(k))))
        .collect();
    let screen = t.wait("every partition's row with its node", WAIT, |s| {
        s.contains("length 100")
            && rows
                .iter()
                .all(|(key, node)| s.lines().any(|l| l.contains(key) && l.contains(node)))
    });
    assert!(!screen.contains("CROSSSLOT"), "{screen}");
    t.keys("q");
    t.wait("a clean exit", WAIT, |s| s.contains("EXITED 0"));
}
