//! Partitioned streams on one private redis-server (N partitions on one
//! node is a valid layout): `produce --partitions` creates and records the
//! keys and spreads entries round-robin or by a field; a contradicting
//! `--partitions` is refused naming both layouts; a worker found the
//! partitions from the name alone and leaves a ledger of every (partition,
//! id), with claims and dead letters per partition.

mod common;
#[path = "common/partitions.rs"]
mod partitions;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{
    BinOutput, BinProcess, Deadline, add_tasks, connector, pending_count, run_bin, server, unique,
};
use partitions::{drain_with_worker, ids_by_partition, ledger, partition_keys};
use serde_json::Value as Json;
use streamlab::engine::dead_key;
use streamlab::engine::registry::{self, CreatedBy};
use streamlab::redis::{Conn, exists, parse_groups, xinfo_groups_cmd, xlen, xrange};

const WAIT: Duration = Duration::from_secs(30);

fn assert_ok(out: &BinOutput) {
    assert!(
        out.success(),
        "stdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
}

async fn produce(url: &str, stream: &str, rest: &str) -> BinOutput {
    run_bin(
        &format!("--url {url} --stream {stream} produce {rest}"),
        &[],
        WAIT,
    )
    .await
}

#[tokio::test]
async fn produce_creates_records_and_fills_every_partition_round_robin() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let stream = unique("rr");
    assert_ok(&produce(&url, &stream, "--partitions 3 --count 30 --group g").await);
    let record = registry::read(&mut conn, &stream)
        .await
        .expect("read")
        .expect("a record");
    assert_eq!(record.created_by, CreatedBy::Produce);
    let keys = record.layout.partitions;
    let want: Vec<String> = (0..3).map(|i| format!("{{{stream}.p{i}}}")).collect();
    assert_eq!(keys, want);
    for key in &keys {
        assert_eq!(xlen(&mut conn, key).await, Ok(10), "{key}");
        let groups = parse_groups(&raw_value(&mut conn, &xinfo_groups_cmd(key)).await).unwrap();
        assert_eq!(
            groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            ["g"],
            "{key}"
        );
    }
    assert_eq!(
        exists(&mut conn, &stream).await,
        Ok(false),
        "no key under the logical name"
    );
    // A later run without --partitions uses the recorded layout.
    assert_ok(&produce(&url, &stream, "--count 3").await);
    let lengths = lengths(&mut conn, &keys).await;
    assert_eq!(lengths, [11, 11, 11]);
}

async fn raw_value(conn: &mut Conn, cmd: &redis::Cmd) -> redis::Value {
    conn.run(cmd, "TEST", false).await.expect("command")
}

async fn lengths(conn: &mut Conn, keys: &[String]) -> Vec<u64> {
    let mut out = Vec::new();
    for key in keys {
        out.push(xlen(conn, key).await.expect("XLEN"));
    }
    out
}

#[tokio::test]
async fn partition_by_sends_one_value_to_one_partition_in_order() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let stream = unique("by");
    assert_ok(
        &produce(
            &url,
            &stream,
            "--partitions 3 --partition-by kind --count 200",
        )
        .await,
    );
    let mut home: BTreeMap<String, String> = BTreeMap::new();
    for key in partition_keys(&mut conn, &stream).await {
        let mut last_seq: BTreeMap<String, u64> = BTreeMap::new();
        for e in xrange(&mut conn, &key, "-", "+", 1000).await.unwrap() {
            let kind = e.field_str("kind").expect("kind");
            let seq: u64 = e.field_str("seq").expect("seq").parse().unwrap();
            let first = home.entry(kind.clone()).or_insert_with(|| key.clone());
            assert_eq!(*first, key, "kind {kind} in two partitions");
            let before = last_seq.insert(kind.clone(), seq);
            assert!(
                before.is_none_or(|b| b < seq),
                "{kind} out of order in {key}"
            );
        }
    }
    let used: BTreeSet<&String> = home.values().collect();
    assert!(used.len() > 1, "the kinds spread over partitions: {home:?}");
    // On a stream of one partition it says it does nothing.
    let plain = unique("plain");
    let out = produce(&url, &plain, "--partition-by kind --count 2").await;
    assert_ok(&out);
    assert!(
        out.stderr.contains("--partition-by kind has no effect"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn maxlen_bounds_the_logical_stream_by_partition_shares() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let stream = unique("maxlen");
    assert_ok(&produce(&url, &stream, "--partitions 2 --count 3000 --maxlen 1000").await);
    for key in partition_keys(&mut conn, &stream).await {
        let len = xlen(&mut conn, &key).await.unwrap();
        // MAXLEN ~ 500 per partition (not 1000 each): trimmed in whole nodes.
        assert!((500..1000).contains(&len), "{key}: {len}");
    }
}

#[tokio::test]
async fn another_layout_is_refused_naming_both() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let stream = unique("clash");
    assert_ok(&produce(&url, &stream, "--partitions 3 --count 3").await);
    let out = produce(&url, &stream, "--partitions 2 --count 3").await;
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    let line = out.stderr.trim();
    assert!(
        line.starts_with("error: ") && !line.contains('\n'),
        "{line}"
    );
    assert!(
        line.contains(&format!("{{{stream}.p2}}")) && line.contains("3 partitions"),
        "{line}"
    );
    assert!(line.contains("--partitions 2"), "{line}");

    let foreign = unique("plain");
    add_tasks(&mut conn, &foreign, 2).await;
    let out = produce(&url, &foreign, "--partitions 4 --count 1").await;
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("already exists as 1 partition"),
        "{}",
        out.stderr
    );
    assert_eq!(xlen(&mut conn, &foreign).await, Ok(2), "nothing written");
    // Agreeing with what exists is fine.
    assert_ok(&produce(&url, &foreign, "--partitions 1 --count 1").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_reads_every_partition_and_leaves_a_ledger() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let stream = unique("ledger");
    assert_ok(&produce(&url, &stream, "--partitions 3 --count 600 --group g").await);
    let keys = partition_keys(&mut conn, &stream).await;
    let produced = ids_by_partition(&mut conn, &keys).await;
    assert_eq!(produced.len(), 600);
    let printed = drain_with_worker(&mut conn, &url, &stream, &produced, WAIT).await;
    let acked: usize = printed
        .iter()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .filter(|v| v["event"] == "acked")
        .map(|v| {
            assert!(keys.iter().any(|k| v["stream"] == k.as_str()), "{v}");
            v["ids"].as_array().map_or(0, Vec::len)
        })
        .sum();
    assert_eq!(acked, 600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_and_dead_letters_happen_on_each_partition() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let stream = unique("claims");
    assert_ok(&produce(&url, &stream, "--partitions 3 --count 30 --group g").await);
    let keys = partition_keys(&mut conn, &stream).await;
    let produced = ids_by_partition(&mut conn, &keys).await;
    // A worker that holds a batch on every partition, then dies.
    let slow = format!(
        "worker --url {url} --stream {stream} --group g --name slow --work-ms 60000 --read-count 5 --block 200ms --events json"
    );
    let mut slow = BinProcess::spawn(&slow, &[]);
    let deadline = Deadline::new("the slow worker holding entries on every partition", WAIT);
    for key in &keys {
        while pending_count(&mut conn, key, "g").await == 0 {
            deadline.tick().await;
        }
    }
    slow.kill9().await;
    // Its successor fails everything once: claimed entries (delivery 2)
    // and new ones alike go to their own partition's dead letters.
    let rescue = format!(
        "worker --url {url} --stream {stream} --group g --name rescue --fail-rate 1 --max-deliveries 1 --min-idle 300ms --claim-every 200ms --block 200ms --events json"
    );
    let mut rescue = BinProcess::spawn(&rescue, &[]);
    let deadline = Deadline::new("every entry dead-lettered", WAIT);
    while ledger(&rescue.stdout_lines(), "dead_lettered", "id").len() < produced.len() {
        deadline.tick().await;
    }
    let lines = rescue.stdout_lines();
    let dead: BTreeSet<_> = ledger(&lines, "dead_lettered", "id").into_iter().collect();
    assert_eq!(dead, produced);
    let reclaimed: BTreeSet<String> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .filter(|v| v["event"] == "reclaimed")
        .filter_map(|v| v["stream"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        reclaimed,
        keys.iter().cloned().collect(),
        "a reclaim on each partition"
    );
    for key in &keys {
        let in_partition = produced.iter().filter(|(k, _)| k == key).count() as u64;
        assert_eq!(
            xlen(&mut conn, &dead_key(key)).await,
            Ok(in_partition),
            "{key}"
        );
        assert_eq!(pending_count(&mut conn, key, "g").await, 0, "{key}");
    }
    rescue.terminate();
    assert!(rescue.wait_exit(WAIT).await.success());
}

#[tokio::test]
async fn text_events_name_the_partition() {
    let redis = server();
    let url = redis.url();
    let stream = unique("text");
    assert_ok(&produce(&url, &stream, "--partitions 2 --count 4 --group g").await);
    let line = format!("worker --url {url} --stream {stream} --group g --name t --block 200ms");
    let mut worker = BinProcess::spawn(&line, &[]);
    let deadline = Deadline::new("a processed line for each partition", WAIT);
    let wanted = |i: usize| format!("{{{stream}.p{i}}}: t processed ");
    while !(0..2).all(|i| {
        worker
            .stdout_lines()
            .iter()
            .any(|l| l.starts_with(&wanted(i)))
    }) {
        deadline.tick().await;
    }
    worker.terminate();
    assert!(worker.wait_exit(WAIT).await.success());
}
