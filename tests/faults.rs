//! Faults a group worker must survive without losing entries, each made
//! with the real server's own levers: kill -9 of a worker process, XGROUP
//! DESTROY under a running worker, CLIENT KILL of its connection, a server
//! restarted without its data, a BLOCK longer than the redis crate's
//! 500 ms default response timeout, and SIGTERM in the middle of a batch.

mod common;

use std::time::Duration;

use common::{
    BinProcess, Deadline, RunningWorker, add_tasks, client_fields, client_id, connector,
    pending_count, raw, server, test_worker_config, unique,
};
use streamlab::engine::Event;
use streamlab::engine::worker::Behaviour;
use streamlab::redis::{EntryId, create_group, xpending_range};

const WAIT: Duration = Duration::from_secs(10);

fn count_events(events: &[Event], wanted: fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| wanted(e)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xautoclaim_recovers_the_entries_of_a_killed_worker_process() {
    let server = server();
    let stream = unique("killed");
    let url = server.url();
    let connector = connector(&url);
    let mut conn = connector.conn("admin");
    let ids = add_tasks(&mut conn, &stream, 5).await;
    create_group(&mut conn, &stream, "g", "0").await.unwrap();

    // A worker that reads everything, then sits in a long task.
    let mut victim = BinProcess::spawn(
        &format!(
            "worker --url {url} --stream {stream} --group g --name victim --work-ms 60000 --block 200ms --events none"
        ),
        &[],
    );
    let deadline = Deadline::new("the victim holds all 5 entries", WAIT);
    loop {
        let held = xpending_range(&mut conn, &stream, "g", "-", "+", 10, Some("victim"))
            .await
            .unwrap();
        if held.len() == 5 {
            break;
        }
        deadline.tick().await;
    }
    victim.kill9().await;
    assert!(
        !victim.wait_exit(WAIT).await.success(),
        "killed, not stopped"
    );
    assert_eq!(
        pending_count(&mut conn, &stream, "g").await,
        5,
        "still pending"
    );

    let mut config = test_worker_config(&stream, "g", "rescuer");
    config.min_idle = Duration::from_millis(300);
    config.claim_every = Duration::from_millis(100);
    let rescuer = RunningWorker::spawn(&connector, config, Behaviour::new(0, 0.0, 0.0));
    rescuer
        .wait_processed("the victim's entries", &ids, WAIT)
        .await;

    let mut reclaimed: Vec<EntryId> = Vec::new();
    for e in rescuer.events() {
        if let Event::Reclaimed { ids, from, to, .. } = e {
            assert_eq!((from, to.as_str()), (vec!["victim".to_owned()], "rescuer"));
            reclaimed.extend(ids);
        }
    }
    assert_eq!(reclaimed, ids, "every entry reclaimed from the dead worker");
    let deadline = Deadline::new("PEL empty", WAIT);
    while pending_count(&mut conn, &stream, "g").await > 0 {
        deadline.tick().await;
    }
    rescuer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_recreates_a_group_destroyed_under_it_and_keeps_processing() {
    let server = server();
    let stream = unique("destroyed");
    let connector = connector(&server.url());
    let mut conn = connector.conn("admin");
    let worker = RunningWorker::spawn(
        &connector,
        test_worker_config(&stream, "g", "survivor"),
        Behaviour::new(0, 0.0, 0.0),
    );
    let before = add_tasks(&mut conn, &stream, 3).await;
    worker
        .wait_processed("entries before the destroy", &before, WAIT)
        .await;

    raw(&mut conn, &["XGROUP", "DESTROY", &stream, "g"]).await;
    let after = add_tasks(&mut conn, &stream, 3).await;
    worker
        .wait_processed("entries after the destroy", &after, WAIT)
        .await;

    let recreated = count_events(
        &worker.events(),
        |e| matches!(e, Event::GroupRecreated { group, .. } if group == "g"),
    );
    assert_eq!(
        recreated, 1,
        "one group_recreated event says the server lost it"
    );
    let deadline = Deadline::new("PEL of the re-created group empty", WAIT);
    while pending_count(&mut conn, &stream, "g").await > 0 {
        deadline.tick().await;
    }
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_reconnects_after_client_kill_and_keeps_processing() {
    let server = server();
    let stream = unique("client-kill");
    let connector = connector(&server.url());
    let mut conn = connector.conn("admin");
    let worker = RunningWorker::spawn(
        &connector,
        test_worker_config(&stream, "g", "kicked"),
        Behaviour::new(0, 0.0, 0.0),
    );
    let before = add_tasks(&mut conn, &stream, 2).await;
    worker
        .wait_processed("entries before the kill", &before, WAIT)
        .await;
    let name = "streamlab:worker:kicked";
    let old_id = client_id(&mut conn, name)
        .await
        .expect("worker connection named");

    raw(&mut conn, &["CLIENT", "KILL", "ID", &old_id]).await;
    let deadline = Deadline::new("the worker on a new connection", WAIT);
    while client_id(&mut conn, name)
        .await
        .is_none_or(|id| id == old_id)
    {
        deadline.tick().await;
    }
    let after = add_tasks(&mut conn, &stream, 3).await;
    worker
        .wait_processed("entries after the kill", &after, WAIT)
        .await;

    let events = worker.events();
    assert!(count_events(&events, |e| matches!(e, Event::Reconnecting { .. })) >= 1);
    assert!(count_events(&events, |e| matches!(e, Event::Reconnected { .. })) >= 1);
    let deadline = Deadline::new("PEL empty", WAIT);
    while pending_count(&mut conn, &stream, "g").await > 0 {
        deadline.tick().await;
    }
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_survives_a_server_restart_that_lost_the_group() {
    let mut server = server();
    let stream = unique("restart");
    let connector = connector(&server.url());
    let worker = RunningWorker::spawn(
        &connector,
        test_worker_config(&stream, "g", "steady"),
        Behaviour::new(0, 0.0, 0.0),
    );
    let before = add_tasks(&mut connector.conn("admin"), &stream, 2).await;
    worker
        .wait_processed("entries before the restart", &before, WAIT)
        .await;

    server.restart_empty().expect("restart redis-server");
    let mut conn = connector.conn("admin");
    let after = add_tasks(&mut conn, &stream, 3).await;
    worker
        .wait_processed("entries after the restart", &after, WAIT)
        .await;

    let recreated = count_events(&worker.events(), |e| {
        matches!(e, Event::GroupRecreated { .. })
    });
    assert_eq!(recreated, 1, "the lost group is re-created and reported");
    let deadline = Deadline::new("PEL empty", WAIT);
    while pending_count(&mut conn, &stream, "g").await > 0 {
        deadline.tick().await;
    }
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_longer_than_500ms_delivers_entries_added_during_it() {
    let server = server();
    let stream = unique("long-block");
    let connector = connector(&server.url());
    let mut conn = connector.conn("admin");
    let mut config = test_worker_config(&stream, "g", "patient");
    // Reclaims off: an entry stuck in the PEL must stay visible as stuck.
    config.block = Duration::from_secs(3);
    let worker = RunningWorker::spawn(&connector, config, Behaviour::new(0, 0.0, 0.0));
    let name = "streamlab:worker:patient";
    let blocked = |fields: Option<std::collections::HashMap<String, String>>| {
        fields.is_some_and(|f| {
            f.get("flags").is_some_and(|fl| fl.contains('b'))
                && f.get("cmd").is_some_and(|c| c == "xreadgroup")
        })
    };
    let deadline = Deadline::new("the worker blocked in XREADGROUP", WAIT);
    while !blocked(client_fields(&mut conn, name).await) {
        deadline.tick().await;
    }
    let id_at_block = client_id(&mut conn, name).await;

    // Deliberate: the scenario is an entry arriving well past 500 ms into
    // the block, where a 500 ms client-side timeout would already have fired.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        blocked(client_fields(&mut conn, name).await),
        "still blocked"
    );
    assert_eq!(
        client_id(&mut conn, name).await,
        id_at_block,
        "same connection"
    );
    let ids = add_tasks(&mut conn, &stream, 3).await;
    worker
        .wait_processed("entries added mid-block", &ids, WAIT)
        .await;

    let deadline = Deadline::new("PEL empty", WAIT);
    while pending_count(&mut conn, &stream, "g").await > 0 {
        deadline.tick().await;
    }
    let timeouts = count_events(&worker.events(), |e| {
        matches!(e, Event::Reconnecting { .. })
    });
    assert_eq!(timeouts, 0, "no client-side timeout during the block");
    assert_eq!(client_id(&mut conn, name).await, id_at_block);
    worker.abort().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_worker_finish_and_ack_its_in_flight_batch_then_exit_zero() {
    let server = server();
    let stream = unique("sigterm");
    let url = server.url();
    let mut conn = connector(&url).conn("admin");
    let ids = add_tasks(&mut conn, &stream, 2).await;
    create_group(&mut conn, &stream, "g", "0").await.unwrap();
    let mut worker = BinProcess::spawn(
        &format!(
            "worker --url {url} --stream {stream} --group g --name graceful --work-ms 700 --read-count 2 --block 200ms --events json"
        ),
        &[],
    );
    // Both entries read: the batch is in hand, its work takes 1.4 s.
    let deadline = Deadline::new("the worker holding its batch", WAIT);
    while pending_count(&mut conn, &stream, "g").await < 2 {
        deadline.tick().await;
    }
    worker.terminate();
    assert!(
        worker.wait_exit(WAIT).await.success(),
        "exit 0 after SIGTERM"
    );

    let processed: Vec<String> = worker
        .stdout_lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "processed")
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect();
    let expected: Vec<String> = ids.iter().map(ToString::to_string).collect();
    assert_eq!(processed, expected, "in-flight work finished");
    assert_eq!(pending_count(&mut conn, &stream, "g").await, 0, "and acked");
}
