//! Every command on a real local Redis Cluster, given the URL of a node
//! that does not own the stream: produce, worker (claims, dead letters,
//! hash-tagged or not), consume (its offset key), monitor, trim, dlq list
//! and replay, bench, the overview of every master's streams, the
//! dashboard's lab and watch. One cluster per binary.

#[path = "common/cluster.rs"]
mod cluster;
mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use streamlab::engine::worker::Behaviour;
use streamlab::redis::topology::{Master, key_slot};
use streamlab::redis::{Connector, get_string, xlen};

use common::{
    BinProcess, RunningWorker, pending_count, run_bin, test_worker_config, unique, wait_for,
};

const WAIT: Duration = Duration::from_secs(30);

fn cluster() -> &'static cluster::LocalCluster {
    cluster::shared(3, 0)
}

/// The masters, and the URL of a node that is not `master`.
async fn masters() -> (Connector, Vec<Master>) {
    let connector = common::connector(&cluster().url());
    let masters = connector.masters().await.expect("masters");
    (connector, masters)
}

fn url_not_of(m: &Master) -> String {
    let c = cluster();
    let port = c
        .ports()
        .into_iter()
        .find(|p| *p != m.addr.port)
        .expect("another node");
    c.url_of(port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_worker_and_monitor_work_from_another_node_s_url() {
    let (connector, masters) = masters().await;
    let m = &masters[2];
    let stream = cluster::stream_on(m, &unique("flow"), false);
    let url = url_not_of(m);
    let out = run_bin(
        &format!("--url {url} --stream {stream} --group workers produce --count 40"),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    let mut worker = BinProcess::spawn(
        &format!(
            "--url {url} --stream {stream} --group workers worker --name w1 --events json --block 500ms"
        ),
        &[],
    );
    wait_for("40 processed", WAIT, || {
        let n = worker
            .stdout_lines()
            .iter()
            .filter(|l| l.contains("\"event\":\"processed\""))
            .count();
        async move { n == 40 }
    })
    .await;
    let mut conn = connector.conn("check");
    wait_for("the PEL to empty", WAIT, || {
        let mut c = connector.conn("pel");
        let stream = stream.clone();
        async move { pending_count(&mut c, &stream, "workers").await == 0 }
    })
    .await;
    let monitor = run_bin(
        &format!("--url {url} --stream {stream} --group workers monitor --json --once"),
        &[],
        WAIT,
    )
    .await;
    assert!(monitor.success(), "{}", monitor.stderr);
    assert!(
        monitor.stdout.contains("\"length\":40"),
        "{}",
        monitor.stdout
    );
    worker.terminate();
    assert!(worker.wait_exit(WAIT).await.success());
    assert_eq!(xlen(&mut conn, &stream).await.expect("XLEN"), 40);
}

/// Entries that keep failing are dead-lettered with the stream's PEL left
/// empty, whether `<stream>:dead` shares the stream's slot (hash tag: one
/// MULTI/EXEC) or not (XADD, then XACK).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_move_with_and_without_a_hash_tag() {
    let (connector, masters) = masters().await;
    for (tagged, m) in [(false, &masters[0]), (true, &masters[1])] {
        let stream = cluster::stream_on(m, &unique("dead"), tagged);
        let dead = format!("{stream}:dead");
        let mut conn = connector.conn("dead-check");
        assert_eq!(
            conn.one_slot(&[&stream, &dead]).await.expect("mode"),
            tagged,
            "{stream}"
        );
        let ids = common::add_tasks(&mut conn, &stream, 12).await;
        let mut config = test_worker_config(&stream, "g", "w1");
        config.max_deliveries = 1;
        let w = RunningWorker::spawn(&connector, config, Behaviour::new(0, 1.0, 0.0));
        wait_for("every entry dead-lettered", WAIT, || {
            let mut c = connector.conn("dead-len");
            let dead = dead.clone();
            async move { xlen(&mut c, &dead).await.unwrap_or(0) == 12 }
        })
        .await;
        w.stop().await;
        assert_eq!(pending_count(&mut conn, &stream, "g").await, 0, "{stream}");
        let letters = streamlab::redis::xrange(&mut conn, &dead, "-", "+", 100)
            .await
            .expect("XRANGE");
        let originals: Vec<String> = letters
            .iter()
            .filter_map(|e| e.field_str("original_id"))
            .collect();
        let expected: Vec<String> = ids.iter().map(ToString::to_string).collect();
        assert_eq!(originals, expected, "{stream}");

        // dlq replay puts them back as new entries and empties the DLQ.
        let url = url_not_of(m);
        let out = run_bin(
            &format!("--url {url} --stream {stream} dlq replay --count 100"),
            &[],
            WAIT,
        )
        .await;
        assert!(out.success(), "{}", out.stderr);
        assert_eq!(xlen(&mut conn, &dead).await.expect("XLEN"), 0);
        assert_eq!(xlen(&mut conn, &stream).await.expect("XLEN"), 24);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_saves_its_offset_on_the_offset_key_s_own_node() {
    let (connector, masters) = masters().await;
    let m = &masters[1];
    let stream = cluster::stream_on(m, &unique("consume"), false);
    let offset = format!("{stream}:offset:c1");
    assert_ne!(key_slot(&offset), key_slot(&stream));
    let mut conn = connector.conn("consume-check");
    let ids = common::add_tasks(&mut conn, &stream, 15).await;
    let url = url_not_of(m);
    let out = run_bin(
        &format!("--url {url} --stream {stream} consume --from 0-0 --name c1 --limit 15 --json"),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 15, "{}", out.stdout);
    let saved = get_string(&mut conn, &offset).await.expect("GET");
    assert_eq!(saved, Some(ids[14].to_string()));
    // Saved where its own slot lives.
    let owner = connector.node_of(&offset).expect("known owner");
    let mut direct = cluster::single_node(&cluster().url_of(owner.port)).conn("direct");
    let exists = common::raw(&mut direct, &["EXISTS", &offset]).await;
    assert_eq!(exists, redis::Value::Int(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trim_and_the_overview_of_every_master() {
    let (connector, masters) = masters().await;
    let base = unique("scan");
    let mut conn = connector.conn("scan");
    let streams: Vec<String> = masters
        .iter()
        .map(|m| cluster::stream_on(m, &base, false))
        .collect();
    for s in &streams {
        common::add_tasks(&mut conn, s, 5).await;
    }
    let trim = run_bin(
        &format!(
            "--url {} --stream {} trim --maxlen 2 --exact",
            url_not_of(&masters[0]),
            streams[0]
        ),
        &[],
        WAIT,
    )
    .await;
    assert!(trim.success(), "{}", trim.stderr);
    assert_eq!(xlen(&mut conn, &streams[0]).await.expect("XLEN"), 2);

    // The overview SCANs every master: all three streams, one row each.
    let all = run_bin(
        &format!(
            "--url {} monitor --all --match {base}-* --once --json",
            cluster().url()
        ),
        &[],
        WAIT,
    )
    .await;
    assert!(all.success(), "{}", all.stderr);
    let doc: serde_json::Value = serde_json::from_str(all.stdout.trim()).expect("JSON");
    let mut found: Vec<String> = doc["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter_map(|r| r["key"].as_str().map(str::to_owned))
        .collect();
    found.sort();
    let mut expected = streams.clone();
    expected.sort();
    assert_eq!(found, expected, "{doc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_runs_on_a_cluster() {
    let (_, masters) = masters().await;
    let url = url_not_of(&masters[0]);
    let out = run_bin(
        &format!(
            "--url {url} --stream {} bench --tasks 3000 --latency-for 1s --json",
            unique("bench")
        ),
        &[],
        Duration::from_secs(120),
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("JSON report");
    for key in ["produce_per_s", "drain_per_s", "e2e_per_s", "p50_ms"] {
        assert!(
            report[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {report}"
        );
    }
    // Over 3 partitions, one per master; every key removed afterwards.
    let stream = unique("bench-parts");
    let out = run_bin(
        &format!("--url {url} --stream {stream} bench --tasks 3000 --partitions 3 --latency-for 1s --json"),
        &[],
        Duration::from_secs(120),
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("JSON report");
    assert_eq!(report["partitions"], 3, "{report}");
    assert!(
        report["drain_per_s"].as_f64().is_some_and(|v| v > 0.0),
        "{report}"
    );
    let all = run_bin(
        &format!("--url {url} monitor --all --match *{stream}* --once --json"),
        &[],
        WAIT,
    )
    .await;
    let doc: serde_json::Value = serde_json::from_str(all.stdout.trim()).expect("JSON");
    assert_eq!(
        doc["streams"].as_array().map(Vec::len),
        Some(0),
        "left behind: {doc}"
    );
}

/// The dashboard on a cluster: its lab (a new stream, on a master the URL
/// does not name) produces, its worker drains, `watch` shows the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_lab_and_watch_run_on_a_cluster() {
    let (connector, masters) = masters().await;
    let m = &masters[2];
    let stream = cluster::stream_on(m, &unique("dash"), false);
    let url = url_not_of(m);
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("log").display().to_string();
    let args = common::screen_line(&[
        "--url",
        &url,
        "--stream",
        &stream,
        "--workers",
        "1",
        "--log-file",
        &log,
    ]);
    let t = tmux::Tmux::start(&args, 160, 45);
    let within = Duration::from_secs(30);
    t.wait("the dashboard is up", within, |s| s.contains("● connected"));
    t.keys("P");
    t.wait("100 entries produced and polled", within, |s| {
        s.contains("length 100")
    });
    wait_for("the lab's worker to drain them", within, || {
        let mut c = connector.conn("dash-pel");
        let stream = stream.clone();
        async move {
            let groups = c
                .run(&streamlab::redis::xinfo_groups_cmd(&stream), "XINFO", false)
                .await
                .and_then(|v| streamlab::redis::parse_groups(&v))
                .unwrap_or_default();
            let last = streamlab::redis::xinfo_stream(&mut c, &stream)
                .await
                .ok()
                .flatten()
                .and_then(|i| i.last_generated_id);
            // (entries-read would say 100, but Redis 6.2 lacks it.)
            groups
                .iter()
                .any(|g| g.pending == 0 && last.is_some() && g.last_delivered_id == last)
        }
    })
    .await;
    t.keys("q");
    let end = t.wait("a clean exit", within, |s| s.contains("EXITED"));
    assert!(end.contains("EXITED 0"), "{end}");

    let watch = common::screen_line(&["watch", "--url", &url, "--stream", &stream]);
    let w = tmux::Tmux::start(&watch, 160, 45);
    let screen = w.wait("watch shows the stream", within, |s| {
        s.contains("● connected") && s.contains("length 100")
    });
    // The header names the server as a cluster, once.
    let header = screen.lines().next().unwrap_or_default();
    assert!(header.contains(", cluster)"), "{header}");
    w.keys("q");
    let end = w.wait("a clean exit", within, |s| s.contains("EXITED"));
    assert!(end.contains("EXITED 0"), "{end}");
}

/// `pending` on a cluster, from a node that does not own the stream: the
/// requeue's XADD and XACK name the same key, so they stay one MULTI; a
/// dead letter of a stream without a hash tag goes to another slot, so it
/// is written first and then acked (duplicates, never loss).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_requeue_is_one_multi_and_dead_letter_splits_across_slots() {
    let (connector, masters) = masters().await;
    let m = &masters[1];
    let stream = cluster::stream_on(m, &unique("pend"), false);
    assert_ne!(key_slot(&stream), key_slot(&format!("{stream}:dead")));
    let url = url_not_of(m);
    let mut conn = connector.conn("setup");
    common::add_tasks(&mut conn, &stream, 4).await;
    streamlab::redis::create_group(&mut conn, &stream, "g", "0")
        .await
        .unwrap();
    common::read_without_ack(&mut conn, &stream, "g", "gone", 4).await;
    let base = format!("--url {url} --stream {stream} --group g --count 1");
    let dry = run_bin(&format!("pending requeue {base} --dry-run"), &[], WAIT).await;
    assert!(dry.stdout.starts_with("MULTI\n"), "{}", dry.stdout);
    let dry = run_bin(&format!("pending dead-letter {base} --dry-run"), &[], WAIT).await;
    assert!(!dry.stdout.contains("MULTI"), "{}", dry.stdout);
    assert!(
        dry.stdout.starts_with(&format!("XADD {stream}:dead")),
        "{}",
        dry.stdout
    );
    let out = run_bin(&format!("pending requeue {base} --yes"), &[], WAIT).await;
    assert!(
        out.stdout.starts_with("requeued 1 entry"),
        "{} {}",
        out.stdout,
        out.stderr
    );
    let out = run_bin(&format!("pending dead-letter {base} --yes"), &[], WAIT).await;
    assert!(
        out.stdout.starts_with("dead-lettered 1 entry"),
        "{} {}",
        out.stdout,
        out.stderr
    );
    assert_eq!(pending_count(&mut conn, &stream, "g").await, 2);
    assert_eq!(xlen(&mut conn, &format!("{stream}:dead")).await.unwrap(), 1);
    assert_eq!(xlen(&mut conn, &stream).await.unwrap(), 5);
}
