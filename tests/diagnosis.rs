//! The consumer diagnosis and the poison scan against real servers, with
//! consumers driven the way queue libraries drive them: one that reads and
//! never acks (then dies), one that acks only some of what it reads and
//! reads on (FastStream, taskiq and streaq leave failed tasks so), and
//! `monitor --group` as scripts use it.

mod common;

use std::time::Duration;

use common::{
    Deadline, add_tasks, connector, raw, read_without_ack, run_bin, server, unique, wait_for,
};
use serde_json::Value as Json;
use streamlab::redis::{Conn, EntryId, GroupRead, create_group, xack, xreadgroup};

const WAIT: Duration = Duration::from_secs(20);

async fn monitor_json(url: &str, stream: &str, extra: &str) -> Json {
    let line = format!("monitor --json --once --url {url} --stream {stream} {extra}");
    let out = run_bin(&line, &[], WAIT).await;
    assert!(out.success(), "monitor failed: {}", out.stderr);
    serde_json::from_str(out.stdout.trim()).expect("one JSON object")
}

fn consumer<'a>(v: &'a Json, group: &str, name: &str) -> &'a Json {
    v["groups"]
        .as_array()
        .and_then(|gs| gs.iter().find(|g| g["name"] == group))
        .and_then(|g| g["consumers"].as_array())
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no consumer {group}/{name} in {v}"))
}

/// A consumer that acks some of each batch it reads and leaves the rest
/// pending, as a library that does not retry its failures: reads `>`,
/// acks all but the ids in `keep`.
async fn read_and_ack_all_but(
    conn: &mut Conn,
    stream: &str,
    group: &str,
    name: &str,
    keep: &[EntryId],
) -> usize {
    let batch = xreadgroup(conn, stream, group, name, GroupRead::New, 100, None)
        .await
        .expect("XREADGROUP");
    let ack: Vec<EntryId> = batch
        .iter()
        .map(|e| e.id)
        .filter(|id| !keep.contains(id))
        .collect();
    xack(conn, stream, group, &ack).await.expect("XACK");
    batch.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_reader_is_stalled_and_one_that_reads_on_past_its_failures_is_leaking() {
    let redis = server();
    let url = redis.url();
    let stream = unique("diag");
    let mut conn = connector(&url).conn("driver");
    add_tasks(&mut conn, &stream, 6).await;
    create_group(&mut conn, &stream, "billing", "0")
        .await
        .unwrap();
    // billing-2 reads three and dies without acking.
    read_without_ack(&mut conn, &stream, "billing", "billing-2", 3).await;
    // billing-1 reads the other three, one of them fails and stays pending.
    let failed = raw(&mut conn, &["XRANGE", &stream, "-", "+", "COUNT", "4"]).await;
    let failed: EntryId = streamlab::redis::reply::entries(&failed).unwrap()[3].id;
    read_and_ack_all_but(&mut conn, &stream, "billing", "billing-1", &[failed]).await;
    // billing-1 reads on: a new task now and then, acked, for as long as
    // it takes the stuck entries to pass --stuck-after.
    let deadline = Deadline::new("both diagnosed", WAIT);
    let v = loop {
        add_tasks(&mut conn, &stream, 1).await;
        read_and_ack_all_but(&mut conn, &stream, "billing", "billing-1", &[]).await;
        let v = monitor_json(&url, &stream, "--stuck-after 1s").await;
        let dead = consumer(&v, "billing", "billing-2");
        let live = consumer(&v, "billing", "billing-1");
        if dead["diagnosis"] == "stalled" && live["diagnosis"] == "leaking" {
            break v;
        }
        deadline.tick().await;
    };
    let dead = consumer(&v, "billing", "billing-2");
    let live = consumer(&v, "billing", "billing-1");
    assert!(
        dead["oldest_pending_idle_ms"].as_u64().unwrap() >= 1000,
        "{v}"
    );
    assert!(
        live["oldest_pending_idle_ms"].as_u64().unwrap() >= 1000,
        "{v}"
    );
    assert_eq!(live["pending"], 1, "only the failed task is left: {v}");
    // With the default threshold (5m) nothing is stuck yet.
    let calm = monitor_json(&url, &stream, "").await;
    assert_eq!(
        consumer(&calm, "billing", "billing-2")["diagnosis"],
        Json::Null
    );
    assert_eq!(
        consumer(&calm, "billing", "billing-1")["diagnosis"],
        Json::Null
    );
    // The text report says the same.
    let line = format!("monitor --once --url {url} --stream {stream} --stuck-after 1s");
    let out = run_bin(&line, &[], WAIT).await;
    assert!(
        out.stdout.contains("consumer 'billing-2'") && out.stdout.contains("stalled"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_group_prints_that_group_only_and_an_unknown_one_is_an_error() {
    let redis = server();
    let url = redis.url();
    let stream = unique("only");
    let mut conn = connector(&url).conn("driver");
    add_tasks(&mut conn, &stream, 4).await;
    for g in ["billing", "audit"] {
        create_group(&mut conn, &stream, g, "0").await.unwrap();
    }
    read_without_ack(&mut conn, &stream, "billing", "c1", 3).await;

    let v = monitor_json(&url, &stream, "--group billing --pel-page 2").await;
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{v}");
    assert_eq!(groups[0]["name"], "billing");
    let page = groups[0]["pel_page"].as_array().expect("the page printed");
    assert_eq!(page.len(), 2, "{v}");
    assert_eq!(page[0]["consumer"], "c1");
    assert_eq!(page[0]["deliveries"], 1);

    let text = format!("monitor --once --url {url} --stream {stream} --group audit");
    let out = run_bin(&text, &[], WAIT).await;
    assert!(out.success(), "{}", out.stderr);
    assert!(out.stdout.contains("group 'audit'"), "{}", out.stdout);
    assert!(!out.stdout.contains("group 'billing'"), "{}", out.stdout);

    let bad = format!("monitor --json --once --url {url} --stream {stream} --group bililng");
    let out = run_bin(&bad, &[], WAIT).await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = out.stderr.trim();
    assert!(err.starts_with("error: --group bililng"), "{err}");
    assert!(err.contains("audit, billing"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

/// XCLAIM to the same consumer, `times` times: each adds a delivery, as a
/// reclaimer that keeps taking the same failing entries back does.
async fn redeliver(conn: &mut Conn, stream: &str, group: &str, id: EntryId, times: usize) {
    for _ in 0..times {
        let at = id.to_string();
        raw(conn, &["XCLAIM", stream, group, "reclaimer", "0", &at]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_entries_are_found_over_the_whole_pel_in_bounded_pages() {
    let redis = server();
    let url = redis.url();
    let stream = unique("poison");
    let mut conn = connector(&url).conn("driver");
    add_tasks(&mut conn, &stream, 1200).await;
    create_group(&mut conn, &stream, "g", "0").await.unwrap();
    let ids = read_without_ack(&mut conn, &stream, "g", "c1", 1200).await;
    // Three entries far apart in the PEL (well past one page) loop.
    let looping = [ids[10], ids[700], ids[1150]];
    for id in looping {
        redeliver(&mut conn, &stream, "g", id, 2).await;
    }
    // Another twice only: below the threshold.
    redeliver(&mut conn, &stream, "g", ids[300], 1).await;

    let v = monitor_json(&url, &stream, "").await;
    let g = &v["groups"][0];
    assert_eq!(g["poison_scan"]["complete"], true, "{g}");
    assert_eq!(g["poison_scan"]["scanned"], 1200, "{g}");
    let poison = g["poison"].as_array().expect("poison array");
    let found: Vec<&str> = poison.iter().map(|p| p["id"].as_str().unwrap()).collect();
    let wanted: Vec<String> = looping.iter().map(ToString::to_string).collect();
    assert_eq!(found, wanted, "{g}");
    for p in poison {
        assert_eq!(p["deliveries"], 3, "{p}");
        assert_eq!(p["consumer"], "reclaimer");
        assert!(p["idle_ms"].is_u64(), "{p}");
    }
    let strict = monitor_json(&url, &stream, "--poison-after 4").await;
    assert_eq!(strict["groups"][0]["poison"], Json::Array(vec![]));
    // A running monitor walks one page (100) a poll: the first polls see
    // part of the PEL, and once the walk has been through it all, every
    // poison entry.
    let line = format!("monitor --json --polls 14 --interval 50ms --url {url} --stream {stream}");
    let out = run_bin(&line, &[], WAIT).await;
    let polls: Vec<Json> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let scan = |v: &Json| v["groups"][0]["poison_scan"].clone();
    assert_eq!(
        scan(&polls[0]),
        serde_json::json!({"complete": false, "scanned": 100})
    );
    let last = polls.last().expect("14 polls");
    assert_eq!(scan(last)["complete"], true, "{last}");
    assert_eq!(
        last["groups"][0]["poison"].as_array().map(Vec::len),
        Some(3)
    );
    // The text report names them too.
    let line = format!("monitor --once --url {url} --stream {stream}");
    let out = run_bin(&line, &[], WAIT).await;
    assert!(
        out.stdout.contains("poison: 3 entries (whole PEL"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(&wanted[1]), "{}", out.stdout);
}

/// A running `monitor --group` started before anything exists waits for
/// the stream, then for the group (a producer may create the stream before
/// a worker creates its group), saying so, instead of calling the group
/// unknown, then prints it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_monitor_waits_for_a_stream_that_does_not_exist_yet() {
    let redis = server();
    let url = redis.url();
    let stream = unique("later");
    let line = format!("monitor --json --interval 100ms --url {url} --stream {stream} --group g");
    let monitor = common::BinProcess::spawn(&line, &[]);
    wait_for("a poll of the missing stream", WAIT, || {
        let printed = monitor
            .stdout_lines()
            .iter()
            .any(|l| l.contains("\"exists\":false"));
        async move { printed }
    })
    .await;
    // A producer creates the stream before any worker creates the group:
    // the monitor says so once and waits, it does not end.
    let mut conn = connector(&url).conn("driver");
    add_tasks(&mut conn, &stream, 2).await;
    wait_for("the note that the group does not exist yet", WAIT, || {
        let noted = monitor
            .stderr_lines()
            .iter()
            .any(|l| l.contains("--group g") && l.contains("no such group yet"));
        async move { noted }
    })
    .await;
    create_group(&mut conn, &stream, "g", "0").await.unwrap();
    wait_for("the group printed", WAIT, || {
        let printed = monitor
            .stdout_lines()
            .iter()
            .any(|l| l.contains("\"name\":\"g\"") && l.contains("\"length\":2"));
        async move { printed }
    })
    .await;
}
