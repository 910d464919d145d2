//! Out of memory as a new user meets it: a Redis with `maxmemory 3mb` and
//! `noeviction`, and a stream that grew until Redis refused XADD (XACK does
//! not delete). OOM is its own state: the producer says exactly how many
//! entries landed and exits 5; workers say Redis is out of memory (not
//! "reconnecting"), keep retrying, and resume by themselves, losing nothing.

mod common;

use std::time::Duration;

use common::standalone::{ServerOptions, TestServer};
use common::{
    Deadline, RunningWorker, connector, pending_count, raw_line, run_bin, server_with,
    test_worker_config, unique,
};
use streamlab::engine::Event;
use streamlab::engine::task::Task;
use streamlab::engine::worker::Behaviour;
use streamlab::redis::memory::memory_state;
use streamlab::redis::{Conn, EntryId, RedisFailure, create_group, xadd_batch, xlen};

const WAIT: Duration = Duration::from_secs(30);
const EXIT_OUT_OF_MEMORY: i32 = 5;

fn small_server() -> TestServer {
    server_with(ServerOptions {
        extra: ["--maxmemory", "3mb", "--maxmemory-policy", "noeviction"]
            .map(String::from)
            .to_vec(),
        ..ServerOptions::default()
    })
}

/// XADD batches until Redis refuses one, then lower maxmemory below what
/// is used so it stays refused: Valkey's used memory dips back under the
/// limit once a refused pipeline's buffers are freed, which lets the odd
/// write through at the edge. Returns how many entries landed.
async fn fill_until_refused(conn: &mut Conn, stream: &str) -> u64 {
    let mut ids: Vec<EntryId> = Vec::new();
    for round in 0..1000 {
        let now = streamlab::redis::id::now_ms();
        let tasks: Vec<Task> = (0..200)
            .map(|s| Task::generate(round * 200 + s, 64, now))
            .collect();
        let fields: Vec<_> = tasks.iter().map(Task::to_fields).collect();
        match xadd_batch(conn, stream, None, &fields).await {
            Ok(batch) => ids.extend(batch),
            Err(RedisFailure::OutOfMemory { refused, .. }) => {
                assert!(refused > 0 && refused <= 200, "{refused}");
                // The refused batch's first XADDs may have landed: count
                // from the server, which this test alone writes.
                let len = xlen(conn, stream).await.expect("XLEN");
                assert_eq!(len, (ids.len() + 200 - refused) as u64);
                let used = memory_state(conn).await.expect("INFO memory").used;
                raw_line(conn, &format!("CONFIG SET maxmemory {}", used * 3 / 4)).await;
                return len;
            }
            Err(e) => panic!("expected OOM, got {e:?}"),
        }
    }
    panic!("3 MB never filled up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_says_how_many_entries_landed_before_redis_refused_and_exits_5() {
    let server = small_server();
    let url = server.url();
    let stream = unique("oom-produce");
    let line = format!("produce --url {url} --stream {stream} --count 100000 --group g");
    let out = run_bin(&line, &[], WAIT).await;
    assert_eq!(
        out.status.code(),
        Some(EXIT_OUT_OF_MEMORY),
        "{}",
        out.stderr
    );
    let mut conn = connector(&url).conn("check");
    let len = xlen(&mut conn, &stream).await.expect("XLEN");
    assert!(len > 0 && len < 100_000, "{len}");
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    assert!(
        error.contains(&format!("added {len} of 100000 entries")),
        "{error}"
    );
    for words in ["out of memory", "maxmemory 3.0 MB", "noeviction", "trim"] {
        assert!(error.contains(words), "{words:?} missing from {error}");
    }
    assert!(!out.stderr.contains("reconnecting"), "{}", out.stderr);
}

/// The waits announced by the out_of_memory events, in order.
fn oom_delays(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::OutOfMemory { delay_ms, .. } => Some(*delay_ms),
            _ => None,
        })
        .collect()
}

fn oom_events(events: &[Event]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::OutOfMemory { detail, .. } => Some(detail.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_waits_out_oom_without_calling_it_a_reconnect_and_resumes_losing_nothing() {
    let server = small_server();
    let stream = unique("oom-worker");
    let connector = connector(&server.url());
    let mut conn = connector.conn("admin");
    create_group(&mut conn, &stream, "g", "0")
        .await
        .expect("group");
    let added = fill_until_refused(&mut conn, &stream).await;
    // Every task fails once and is dead-lettered (max deliveries 1): the
    // dead letter's MULTI/XADD/XACK/EXEC is refused while memory is full.
    // Starting also sends XGROUP CREATE, refused too: the group exists.
    let mut config = test_worker_config(&stream, "g", "w");
    config.max_deliveries = 1;
    let worker = RunningWorker::spawn(&connector, config, Behaviour::new(0, 1.0, 0.0));
    let deadline = Deadline::new("three out_of_memory events", WAIT);
    while oom_events(&worker.events()).len() < 3 {
        deadline.tick().await;
    }
    let events = worker.events();
    // Backing off: the reads between the tries (INFO memory for the
    // detail) succeed, and must not reset the wait to its minimum.
    let delays = oom_delays(&events);
    assert!(
        delays[0] < delays[1] && delays[1] < delays[2],
        "the retries back off: {delays:?}"
    );
    let detail = oom_events(&events)[0];
    assert!(
        detail.contains(" of maxmemory ") && detail.contains("noeviction"),
        "{detail}"
    );
    assert!(detail.contains("trim"), "{detail}");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Reconnecting { .. })),
        "OOM is not a reconnect: {events:?}"
    );

    // What frees it here: a larger maxmemory. The worker resumes alone.
    raw_line(&mut conn, "CONFIG SET maxmemory 0").await;
    let dead = format!("{stream}:dead");
    let deadline = Deadline::new("every entry dead-lettered", WAIT);
    while xlen(&mut conn, &dead).await.unwrap_or(0) < added {
        deadline.tick().await;
    }
    assert_eq!(pending_count(&mut conn, &stream, "g").await, 0, "PEL empty");
    let events = worker.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::MemoryAvailable { .. }))
    );
    let dead_lettered = events
        .iter()
        .filter(|e| matches!(e, Event::DeadLettered { .. }))
        .count();
    assert!(dead_lettered as u64 >= added, "{dead_lettered} of {added}");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_on_a_full_redis_without_its_group_waits_then_creates_it() {
    let server = small_server();
    let filler = unique("oom-filler");
    let stream = unique("oom-late-group");
    let connector = connector(&server.url());
    let mut conn = connector.conn("admin");
    fill_until_refused(&mut conn, &filler).await;
    let worker = RunningWorker::spawn(
        &connector,
        test_worker_config(&stream, "g", "w"),
        Behaviour::new(0, 0.0, 0.0),
    );
    let deadline = Deadline::new("an out_of_memory event", WAIT);
    while oom_events(&worker.events()).is_empty() {
        deadline.tick().await;
    }
    // Trimming what was acked (here: all of the filler) frees memory.
    raw_line(&mut conn, &format!("XTRIM {filler} MAXLEN 0")).await;
    let deadline = Deadline::new("the group created", WAIT);
    while !worker
        .events()
        .iter()
        .any(|e| matches!(e, Event::GroupCreated { created: true, .. }))
    {
        deadline.tick().await;
    }
    let ids = common::add_tasks(&mut conn, &stream, 3).await;
    worker
        .wait_processed("entries after memory came back", &ids, WAIT)
        .await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_consumer_waits_out_oom_to_save_its_offset_then_saves_it() {
    use streamlab::engine::consumer::{BasicConsumer, ConsumerConfig, StartFrom};
    use streamlab::engine::event::VecSink;

    let server = small_server();
    let stream = unique("oom-basic");
    let connector = connector(&server.url());
    let mut conn = connector.conn("admin");
    fill_until_refused(&mut conn, &stream).await;
    let config = ConsumerConfig {
        stream: stream.clone(),
        name: "basic".into(),
        count: 50,
        block: Duration::from_millis(200),
        save_offset: true,
    };
    let sink = std::sync::Arc::new(VecSink::default());
    let reader = connector.blocking_conn("consumer:basic", config.block);
    let (mut consumer, _) =
        BasicConsumer::start(reader, config, StartFrom::Beginning, sink.clone())
            .await
            .expect("start");
    // XREAD still works when Redis is out of memory; the offset SET does not.
    let batch = consumer.next_batch().await.expect("XREAD");
    let last = batch.last().expect("entries").id;
    let commit = tokio::spawn(async move { consumer.commit(&batch).await });
    let events = || sink.0.lock().unwrap().clone();
    let deadline = Deadline::new("two out_of_memory events", WAIT);
    while oom_delays(&events()).len() < 2 {
        deadline.tick().await;
    }
    let delays = oom_delays(&events());
    assert!(delays[0] < delays[1], "the retries back off: {delays:?}");
    raw_line(&mut conn, "CONFIG SET maxmemory 0").await;
    commit.await.unwrap().expect("saved once memory is back");
    let saved = common::raw(&mut conn, &["GET", &format!("{stream}:offset:basic")]).await;
    assert_eq!(
        streamlab::redis::reply::text(&saved),
        Some(last.to_string())
    );
    assert!(
        events()
            .iter()
            .any(|e| matches!(e, Event::MemoryAvailable { .. }))
    );
    assert!(
        !events()
            .iter()
            .any(|e| matches!(e, Event::Reconnecting { .. }))
    );
}
