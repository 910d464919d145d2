//! The Redis Streams semantics the original demo teaches, each proven by one
//! test against a private redis-server: where a basic consumer starts, what
//! a group sees, what XACK does, how a worker drains, reclaims, acks away
//! deleted ids and dead-letters, and the output contracts of `worker
//! --events json` and `monitor --json --once`.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{
    BinProcess, Deadline, RunningWorker, add_tasks, connector, pending_count, raw,
    read_without_ack, run_bin, server, test_worker_config, unique, wait_pel_empty,
};
use serde_json::Value as Json;
use streamlab::engine::Event;
use streamlab::engine::consumer::{BasicConsumer, ConsumerConfig, StartFrom, StartNote};
use streamlab::engine::event::NullSink;
use streamlab::engine::worker::{Behaviour, WorkerExit};
use streamlab::engine::{dead_key, offset_key};
use streamlab::redis::{
    Conn, EntryId, GroupRead, create_group, get_string, xack, xdel, xlen, xrange, xreadgroup,
};

const WAIT: Duration = Duration::from_secs(10);

fn consumer_config(stream: &str, name: &str) -> ConsumerConfig {
    ConsumerConfig {
        stream: stream.to_owned(),
        name: name.to_owned(),
        count: 100,
        block: Duration::from_millis(200),
        save_offset: false,
    }
}

async fn start_consumer(url: &str, stream: &str, from: StartFrom) -> (BasicConsumer, StartNote) {
    let connector = connector(url);
    let config = consumer_config(stream, "basic");
    let conn = connector.blocking_conn("consumer:basic", config.block);
    BasicConsumer::start(conn, config, from, std::sync::Arc::new(NullSink))
        .await
        .expect("consumer starts")
}

/// Read batches until `n` entries arrived (or the deadline passes).
async fn read_n(consumer: &mut BasicConsumer, n: usize) -> Vec<EntryId> {
    let deadline = Deadline::new(format!("{n} entries for the basic consumer"), WAIT);
    let mut seen = Vec::new();
    while seen.len() < n {
        let batch = consumer.next_batch().await.expect("XREAD");
        consumer.commit(&batch).await.expect("commit");
        seen.extend(batch.iter().map(|e| e.id));
        if seen.len() < n {
            deadline.tick().await;
        }
    }
    seen
}

async fn groups(conn: &mut Conn, stream: &str) -> Vec<streamlab::redis::GroupInfo> {
    let v = raw(conn, &["XINFO", "GROUPS", stream]).await;
    streamlab::redis::parse_groups(&v).expect("XINFO GROUPS")
}

fn deleted_while_pending(events: &[Event]) -> Vec<EntryId> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::DeletedWhilePending { ids, .. } => Some(ids.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_starting_at_dollar_does_not_see_entries_added_before_it() {
    let server = server();
    let stream = unique("dollar");
    let mut admin = connector(&server.url()).conn("admin");
    let before = add_tasks(&mut admin, &stream, 5).await;

    let (mut consumer, note) = start_consumer(&server.url(), &stream, StartFrom::End).await;
    assert_eq!(
        note,
        StartNote::FromEnd(before[4]),
        "`$` means: after the last id now"
    );
    let after = add_tasks(&mut admin, &stream, 2).await;

    assert_eq!(
        read_n(&mut consumer, 2).await,
        after,
        "only entries added after start"
    );
    // Nothing was lost: the earlier entries are still there, just not shown.
    assert_eq!(xlen(&mut admin, &stream).await.unwrap(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_started_at_dollar_carries_its_last_id_forward_between_reads() {
    let server = server();
    let stream = unique("dollar-loop");
    let mut admin = connector(&server.url()).conn("admin");
    add_tasks(&mut admin, &stream, 1).await;
    let (mut consumer, _) = start_consumer(&server.url(), &stream, StartFrom::End).await;
    let first = add_tasks(&mut admin, &stream, 1).await;
    assert_eq!(read_n(&mut consumer, 1).await, first);

    // Added while the consumer is between two reads: re-sending `$` would
    // skip these; carrying the last seen id forward returns them.
    let between = add_tasks(&mut admin, &stream, 3).await;
    assert_eq!(read_n(&mut consumer, 3).await, between);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_without_a_saved_offset_starts_at_dollar_and_warns_about_it() {
    let server = server();
    let stream = unique("dollar-note");
    let url = server.url();
    let mut admin = connector(&url).conn("admin");
    add_tasks(&mut admin, &stream, 3).await;

    let mut consume = BinProcess::spawn(
        &format!("consume --url {url} --stream {stream} --limit 1 --json --block 200ms"),
        &[],
    );
    let deadline = Deadline::new("the start note", WAIT);
    while consume.stderr_lines().is_empty() {
        deadline.tick().await;
    }
    let note = consume.stderr_lines().join("\n");
    assert!(
        note.contains("'$'") && note.contains("--from 0-0"),
        "{note}"
    );
    let new = add_tasks(&mut admin, &stream, 1).await;
    assert!(consume.wait_exit(WAIT).await.success());

    let read: Vec<String> = consume.stdout_lines();
    assert_eq!(read.len(), 1, "{read:?}");
    let v: Json = serde_json::from_str(&read[0]).expect("JSON line");
    assert_eq!(
        v["id"],
        new[0].to_string().as_str(),
        "the new entry, not the backlog"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_starting_at_zero_reads_the_whole_backlog() {
    let server = server();
    let stream = unique("backlog");
    let mut admin = connector(&server.url()).conn("admin");
    let backlog = add_tasks(&mut admin, &stream, 5).await;

    let (mut consumer, note) = start_consumer(&server.url(), &stream, StartFrom::Beginning).await;
    assert_eq!(note, StartNote::FromBeginning);
    assert_eq!(read_n(&mut consumer, 5).await, backlog);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consume_resumes_after_its_saved_offset_when_restarted() {
    let server = server();
    let stream = unique("resume");
    let url = server.url();
    let mut admin = connector(&url).conn("admin");
    let ids = add_tasks(&mut admin, &stream, 5).await;
    let consume = |from: &'static str, limit: &'static str| {
        let (url, stream) = (url.clone(), stream.clone());
        async move {
            let line = format!(
                "consume --url {url} --stream {stream} --name resumer --from {from} --limit {limit} --json --block 200ms"
            );
            let out = run_bin(&line, &[], WAIT).await;
            assert!(out.success(), "consume failed: {}", out.stderr);
            let read: Vec<EntryId> = out
                .stdout
                .lines()
                .map(|l| {
                    let v: Json = serde_json::from_str(l).expect("JSON line");
                    v["id"].as_str().expect("id").parse().expect("entry id")
                })
                .collect();
            (read, out.stderr)
        }
    };

    let (first_run, _) = consume("0-0", "3").await;
    assert_eq!(first_run, ids[..3]);
    let saved = get_string(&mut admin, &offset_key(&stream, "resumer"))
        .await
        .unwrap();
    assert_eq!(
        saved,
        Some(ids[2].to_string()),
        "offset saved after the batch"
    );

    let more = add_tasks(&mut admin, &stream, 2).await;
    let (second_run, note) = consume("saved", "4").await;
    let expected: Vec<EntryId> = ids[3..].iter().chain(&more).copied().collect();
    assert_eq!(second_run, expected, "resumed right after the saved offset");
    assert!(note.contains("resuming"), "start note: {note}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_an_existing_group_is_success_and_changes_nothing() {
    let server = server();
    let stream = unique("busygroup");
    let mut conn = connector(&server.url()).conn("admin");
    add_tasks(&mut conn, &stream, 4).await;

    assert!(
        create_group(&mut conn, &stream, "g", "0").await.unwrap(),
        "created"
    );
    let read = read_without_ack(&mut conn, &stream, "g", "c1", 2).await;

    // BUSYGROUP is reported as "already existed", not as an error...
    assert!(!create_group(&mut conn, &stream, "g", "0").await.unwrap());
    // ...and the second create did not reset the group's position or PEL.
    let g = groups(&mut conn, &stream).await;
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].last_delivered_id, Some(read[1]));
    assert_eq!(g[0].pending, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_created_at_zero_sees_earlier_entries_and_at_dollar_does_not() {
    let server = server();
    let stream = unique("group-zero");
    let mut conn = connector(&server.url()).conn("admin");
    let earlier = add_tasks(&mut conn, &stream, 3).await;
    create_group(&mut conn, &stream, "from-zero", "0")
        .await
        .unwrap();
    create_group(&mut conn, &stream, "from-dollar", "$")
        .await
        .unwrap();

    assert_eq!(
        read_without_ack(&mut conn, &stream, "from-zero", "c", 10).await,
        earlier
    );
    assert!(
        read_without_ack(&mut conn, &stream, "from-dollar", "c", 10)
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xack_removes_entries_from_the_pel_but_not_from_the_stream() {
    let server = server();
    let stream = unique("xack");
    let mut conn = connector(&server.url()).conn("admin");
    let ids = add_tasks(&mut conn, &stream, 3).await;
    create_group(&mut conn, &stream, "g", "0").await.unwrap();
    read_without_ack(&mut conn, &stream, "g", "c", 10).await;
    assert_eq!(pending_count(&mut conn, &stream, "g").await, 3);

    assert_eq!(xack(&mut conn, &stream, "g", &ids).await.unwrap(), 3);
    assert_eq!(pending_count(&mut conn, &stream, "g").await, 0);
    assert_eq!(
        xlen(&mut conn, &stream).await.unwrap(),
        3,
        "acked entries stay"
    );
    let kept: Vec<EntryId> = xrange(&mut conn, &stream, "-", "+", 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(kept, ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_worker_drains_its_own_pending_entries_before_new_ones() {
    let server = server();
    let stream = unique("drain");
    let connector = connector(&server.url());
    let mut conn = connector.conn("admin");
    let old = add_tasks(&mut conn, &stream, 3).await;
    create_group(&mut conn, &stream, "g", "0").await.unwrap();
    // The worker's previous life read these and died before acking.
    assert_eq!(
        read_without_ack(&mut conn, &stream, "g", "w1", 10).await,
        old
    );
    let new = add_tasks(&mut conn, &stream, 3).await;

    let worker = RunningWorker::spawn(
        &connector,
        test_worker_config(&stream, "g", "w1"),
        Behaviour::new(0, 0.0, 0.0),
    );
    let all: Vec<EntryId> = old.iter().chain(&new).copied().collect();
    worker
        .wait_processed("old and new entries", &all, WAIT)
        .await;

    assert_eq!(worker.processed(), all, "own PEL first, in order, then new");
    let events = worker.events();
    let drained_at = events
        .iter()
        .position(|e| matches!(e, Event::PendingDrained { entries: 3, .. }))
        .expect("a pending_drained event for the 3 old entries");
    let first_new_at = events
        .iter()
        .position(|e| matches!(e, Event::Processed { id, .. } if *id == new[0]))
        .expect("new entry processed");
    assert!(drained_at < first_new_at, "drained before reading `>`");
    // `processed` is written before the XACK: the PEL empties just after.
    wait_pel_empty(&mut conn, &stream, "g", WAIT).await;
    assert_eq!(worker.stop().await, WorkerExit::Stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xautoclaim_acks_away_ids_deleted_while_pending_and_reports_them() {
    let server = server();
    let stream = unique("deleted-claim");
    let connector = connector(&server.url());
    let mut conn = connector.conn("admin");
    let ids = add_tasks(&mut conn, &stream, 4).await;
    create_group(&mut conn, &stream, "g", "0").await.unwrap();
    read_without_ack(&mut conn, &stream, "g", "ghost", 10).await;
    let gone = vec![ids[1], ids[2]];
    assert_eq!(xdel(&mut conn, &stream, &gone).await.unwrap(), 2);

    let mut config = test_worker_config(&stream, "g", "rescuer");
    config.min_idle = Duration::from_millis(200);
    config.claim_every = Duration::from_millis(100);
    let worker = RunningWorker::spawn(&connector, config, Behaviour::new(0, 0.0, 0.0));
    worker
        .wait_processed("surviving entries reclaimed", &[ids[0], ids[3]], WAIT)
        .await;
    let deadline = Deadline::new("deleted ids reported", WAIT);
    while deleted_while_pending(&worker.events()).len() < 2 {
        deadline.tick().await;
    }

    assert_eq!(deleted_while_pending(&worker.events()), gone);
    assert!(!worker.processed().iter().any(|id| gone.contains(id)));
    // The survivors' XACK follows their `processed` events: wait for it.
    wait_pel_empty(&mut conn, &stream, "g", WAIT).await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_own_pel_acks_away_ids_deleted_while_pending() {
    let server = server();
    let stream = unique("deleted-drain");
    let connector = connector(&server.url());
    let mut conn = connector.conn("admin");
    let ids = add_tasks(&mut conn, &stream, 3).await;
    create_group(&mut conn, &stream, "g", "0").await.unwrap();
    read_without_ack(&mut conn, &stream, "g", "w", 10).await;
    xdel(&mut conn, &stream, &[ids[1]]).await.unwrap();

    let worker = RunningWorker::spawn(
        &connector,
        test_worker_config(&stream, "g", "w"),
        Behaviour::new(0, 0.0, 0.0),
    );
    worker
        .wait_processed("surviving own entries", &[ids[0], ids[2]], WAIT)
        .await;
    let deadline = Deadline::new("the deleted id reported", WAIT);
    while deleted_while_pending(&worker.events()).is_empty() {
        deadline.tick().await;
    }
    assert_eq!(deleted_while_pending(&worker.events()), vec![ids[1]]);
    wait_pel_empty(&mut conn, &stream, "g", WAIT).await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_failing_max_deliveries_times_is_dead_lettered_and_replay_requeues_it() {
    let server = server();
    let stream = unique("dlq");
    let url = server.url();
    let connector = connector(&url);
    let mut conn = connector.conn("admin");
    let ids = add_tasks(&mut conn, &stream, 2).await;
    let mut config = test_worker_config(&stream, "g", "unlucky");
    config.max_deliveries = 3;
    config.min_idle = Duration::from_millis(200);
    config.claim_every = Duration::from_millis(100);
    let worker = RunningWorker::spawn(&connector, config, Behaviour::new(0, 1.0, 0.0));

    let dead = dead_key(&stream);
    let deadline = Deadline::new("2 dead letters", WAIT);
    while xlen(&mut conn, &dead).await.unwrap() < 2 {
        deadline.tick().await;
    }
    let letters = xrange(&mut conn, &dead, "-", "+", 10).await.unwrap();
    for (letter, id) in letters.iter().zip(&ids) {
        assert_eq!(letter.field_str("original_id"), Some(id.to_string()));
        assert_eq!(letter.field_str("group").as_deref(), Some("g"));
        assert_eq!(letter.field_str("consumer").as_deref(), Some("unlucky"));
        assert_eq!(letter.field_str("deliveries").as_deref(), Some("3"));
        assert!(letter.field_str("error").is_some_and(|e| !e.is_empty()));
    }
    let failures = |id: EntryId| {
        worker
            .events()
            .iter()
            .filter(|e| matches!(e, Event::Failed { id: f, .. } if *f == id))
            .count()
    };
    assert_eq!(failures(ids[0]), 3, "tried exactly max-deliveries times");
    assert_eq!(
        pending_count(&mut conn, &stream, "g").await,
        0,
        "acked once dead"
    );
    assert_eq!(xlen(&mut conn, &stream).await.unwrap(), 2, "original kept");

    // Fix the cause, then replay: each letter becomes a new task again.
    worker.behaviour.set(0, 0.0, 0.0);
    // One first: the output says what is left; then the rest.
    for (count, said) in [("1", "replayed 1"), ("20", "replayed 1")] {
        let out = run_bin(
            &format!("dlq replay --url {url} --stream {stream} --count {count}"),
            &[],
            WAIT,
        )
        .await;
        assert!(out.success(), "dlq replay failed: {}", out.stderr);
        assert!(out.stdout.contains(said), "{}", out.stdout);
        let left = xlen(&mut conn, &dead).await.unwrap();
        assert_eq!(
            out.stdout.contains("1 left there"),
            left == 1,
            "{left} left: {}",
            out.stdout
        );
    }
    assert_eq!(xlen(&mut conn, &dead).await.unwrap(), 0, "DLQ emptied");
    let requeued: Vec<_> = xrange(&mut conn, &stream, &format!("({}", ids[1]), "+", 10)
        .await
        .unwrap();
    assert_eq!(requeued.len(), 2);
    for (entry, id) in requeued.iter().zip(&ids) {
        assert_eq!(entry.field_str("replayed_from"), Some(id.to_string()));
        assert!(entry.field_str("kind").is_some() && entry.field_str("seq").is_some());
    }
    let new_ids: Vec<EntryId> = requeued.iter().map(|e| e.id).collect();
    worker
        .wait_processed("replayed tasks", &new_ids, WAIT)
        .await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_json_events_are_a_ledger_of_every_produced_id() {
    let server = server();
    let stream = unique("ledger");
    let url = server.url();
    let mut conn = connector(&url).conn("admin");
    let produce = format!("produce --url {url} --stream {stream} --count 300 --group g");
    let out = run_bin(&produce, &[], WAIT).await;
    assert!(out.success(), "produce failed: {}", out.stderr);
    let produced: Vec<EntryId> = xrange(&mut conn, &stream, "-", "+", 1000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(produced.len(), 300);

    let mut worker = BinProcess::spawn(
        &format!(
            "worker --url {url} --stream {stream} --group g --name ledger --events json --block 200ms --read-count 50"
        ),
        &[],
    );
    let processed_ids = |lines: &[String]| -> Vec<EntryId> {
        lines
            .iter()
            .filter_map(|l| serde_json::from_str::<Json>(l).ok())
            .filter(|v| v["event"] == "processed")
            .filter_map(|v| v["id"].as_str().and_then(|s| s.parse().ok()))
            .collect()
    };
    let deadline = Deadline::new("every produced id in a processed line", WAIT);
    while !produced
        .iter()
        .all(|id| processed_ids(&worker.stdout_lines()).contains(id))
    {
        deadline.tick().await;
    }
    wait_pel_empty(&mut conn, &stream, "g", WAIT).await;
    worker.terminate();
    assert!(
        worker.wait_exit(WAIT).await.success(),
        "SIGTERM is a clean stop"
    );

    let lines = worker.stdout_lines();
    let parsed: Vec<Json> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        parsed.iter().all(|v| v["event"].is_string()),
        "every line has `event`"
    );
    let mut processed_at: HashMap<String, usize> = HashMap::new();
    let mut acked_at: HashMap<String, usize> = HashMap::new();
    for (i, v) in parsed.iter().enumerate() {
        match v["event"].as_str() {
            Some("processed") => {
                processed_at
                    .entry(v["id"].as_str().unwrap().to_owned())
                    .or_insert(i);
            }
            Some("acked") => {
                for id in v["ids"].as_array().unwrap() {
                    acked_at.entry(id.as_str().unwrap().to_owned()).or_insert(i);
                }
            }
            _ => {}
        }
    }
    for id in &produced {
        let id = id.to_string();
        let p = processed_at
            .get(&id)
            .unwrap_or_else(|| panic!("{id} not processed"));
        let a = acked_at
            .get(&id)
            .unwrap_or_else(|| panic!("{id} not acked"));
        assert!(p < a, "{id}: the processed line is written before the ack");
    }
    assert_eq!(
        processed_at.len(),
        produced.len(),
        "nothing but produced ids"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_json_once_reports_the_documented_fields() {
    let server = server();
    let stream = unique("monitor");
    let url = server.url();
    let mut conn = connector(&url).conn("admin");
    let ids = add_tasks(&mut conn, &stream, 5).await;
    create_group(&mut conn, &stream, "g", "0").await.unwrap();
    read_without_ack(&mut conn, &stream, "g", "c1", 2).await;

    let monitor = format!("monitor --json --once --url {url} --stream {stream}");
    let out = run_bin(&monitor, &[], WAIT).await;
    assert!(out.success(), "monitor failed: {}", out.stderr);
    let v: Json = serde_json::from_str(out.stdout.trim()).expect("one JSON object");

    let s = &v["stream"];
    assert_eq!(s["key"], stream.as_str());
    assert_eq!(s["length"], 5);
    assert_eq!(s["first_id"], ids[0].to_string().as_str());
    assert_eq!(s["last_id"], ids[4].to_string().as_str());
    // Redis 6.2 reports neither entries-added, entries-read nor lag: null
    // (unknown, with the reason), never 0.
    let server = streamlab::redis::server::probe(&mut conn)
        .await
        .expect("probe");
    let on_7 = server.has(streamlab::redis::Feature::Lag);
    let known = |n: u64| if on_7 { Json::from(n) } else { Json::Null };
    assert_eq!(s["entries_added"], known(5));
    let groups = v["groups"].as_array().expect("groups array");
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g["name"], "g");
    assert_eq!(g["pending"], 2);
    assert_eq!(g["last_delivered_id"], ids[1].to_string().as_str());
    assert_eq!(g["entries_read"], known(2));
    assert_eq!(g["lag"], known(3));
    if !on_7 {
        assert_eq!(g["lag_unknown"], "Redis < 7.0 does not report lag");
    }
    assert!(g["oldest_pending_idle_ms"].is_u64());
    let consumers = g["consumers"].as_array().expect("consumers array");
    assert_eq!(consumers.len(), 1);
    assert_eq!(consumers[0]["name"], "c1");
    assert_eq!(consumers[0]["pending"], 2);
    assert!(consumers[0]["idle_ms"].is_u64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_json_reports_lag_as_null_when_redis_does_not_know_it() {
    let server = server();
    let stream = unique("monitor-lag");
    let url = server.url();
    let mut conn = connector(&url).conn("admin");
    let ids = add_tasks(&mut conn, &stream, 4).await;
    create_group(&mut conn, &stream, "g", "0").await.unwrap();
    read_without_ack(&mut conn, &stream, "g", "c1", 1).await;
    // A tombstone past the group's position makes Redis's lag unknowable.
    xdel(&mut conn, &stream, &[ids[2]]).await.unwrap();

    let monitor = format!("monitor --json --once --url {url} --stream {stream}");
    let out = run_bin(&monitor, &[], WAIT).await;
    assert!(out.success(), "monitor failed: {}", out.stderr);
    let v: Json = serde_json::from_str(out.stdout.trim()).expect("one JSON object");
    let g = &v["groups"][0];
    assert!(
        g.get("lag").is_some_and(Json::is_null),
        "lag unknown, not 0: {g}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_with_id_zero_returns_only_this_consumers_own_pending_entries() {
    let server = server();
    let stream = unique("own-pel");
    let mut conn = connector(&server.url()).conn("admin");
    let ids = add_tasks(&mut conn, &stream, 2).await;
    create_group(&mut conn, &stream, "g", "0").await.unwrap();
    read_without_ack(&mut conn, &stream, "g", "c", 10).await;

    // `>` has nothing more for anyone; `0` gives this consumer its own PEL.
    let fresh = xreadgroup(&mut conn, &stream, "g", "c", GroupRead::New, 10, None)
        .await
        .unwrap();
    assert!(fresh.is_empty());
    let own = xreadgroup(
        &mut conn,
        &stream,
        "g",
        "c",
        GroupRead::OwnPendingAfter(EntryId::ZERO),
        10,
        None,
    )
    .await
    .unwrap();
    assert_eq!(own.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
    let other = xreadgroup(
        &mut conn,
        &stream,
        "g",
        "someone-else",
        GroupRead::OwnPendingAfter(EntryId::ZERO),
        10,
        None,
    )
    .await
    .unwrap();
    assert!(other.is_empty(), "a PEL is per consumer");
}

/// At low traffic a batch smaller than COUNT is acked as soon as it is
/// processed; only full batches leave their XACK to ride with the next
/// XREADGROUP. With a 10 s BLOCK, an ack that waited for the next read
/// would still be pending when the 5 s deadline below runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_batch_is_acked_without_waiting_for_the_next_read() {
    let server = server();
    let stream = unique("partial-ack");
    let connector = connector(&server.url());
    let mut conn = connector.conn("admin");
    create_group(&mut conn, &stream, "g", "0").await.unwrap();
    let mut config = common::test_worker_config(&stream, "g", "w");
    config.block = Duration::from_secs(10);
    let worker = common::RunningWorker::spawn(&connector, config, Behaviour::default());
    // Let the worker reach its blocking read first, so the entries arrive
    // while it waits, as they do at low traffic.
    common::wait_for("the worker has started", Duration::from_secs(5), || async {
        worker
            .events()
            .iter()
            .any(|e| matches!(e, Event::PendingDrained { .. }))
    })
    .await;
    let ids = add_tasks(&mut conn, &stream, 3).await;
    worker
        .wait_processed("3 tasks processed", &ids, Duration::from_secs(5))
        .await;
    let deadline = common::Deadline::new("the partial batch acked", Duration::from_secs(5));
    let acked = |events: Vec<Event>| -> u64 {
        events
            .iter()
            .map(|e| match e {
                Event::Acked { count, .. } => *count,
                _ => 0,
            })
            .sum()
    };
    while pending_count(&mut conn, &stream, "g").await > 0 || acked(worker.events()) < 3 {
        deadline.tick().await;
    }
    worker.abort().await;
}
