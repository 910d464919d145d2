//! streamlab on a real local Redis Cluster (three masters, one per test
//! binary, an ACL user with a password on every node): detection from any
//! node's URL, the slot of a key as the server computes it, every command
//! routed to the slot's owner, one socket per node per role, cross-slot
//! requests refused before they are sent, and REDIS_CLUSTER=false.

#[path = "common/cluster.rs"]
mod cluster;
mod common;

use std::collections::HashMap;
use std::time::Duration;

use redis::Value;
use streamlab::redis::config::{RedisInputs, RedisSettings};
use streamlab::redis::reply::text;
use streamlab::redis::topology::{Master, key_slot};
use streamlab::redis::{Conn, Connector, RedisFailure, xlen};

use common::{raw, unique};

fn cluster() -> &'static cluster::LocalCluster {
    cluster::shared(3, 0)
}

fn connector_with(url: &str, cluster_mode: Option<&str>) -> Connector {
    let settings = RedisSettings::from_inputs(&RedisInputs {
        url: Some(url.to_owned()),
        cluster: cluster_mode.map(str::to_owned),
        ..RedisInputs::default()
    })
    .expect("valid url");
    Connector::new(settings).expect("connector")
}

/// Clients named `name` on each node, by port.
fn clients_named(name: &str) -> HashMap<u16, usize> {
    let c = cluster();
    c.ports()
        .into_iter()
        .map(|p| {
            let list = c.cli_line(p, "CLIENT LIST");
            let n = list
                .lines()
                .filter(|l| l.contains(&format!(" name={name} ")))
                .count();
            (p, n)
        })
        .collect()
}

#[tokio::test]
async fn the_slot_of_a_key_is_the_one_the_server_computes() {
    let c = cluster();
    let connector = connector_with(&c.url(), None);
    let mut conn = connector.conn("keyslot");
    for key in [
        "tasks",
        "jobs",
        "{jobs}",
        "{jobs}:dead",
        "{jobs}:offset:c1",
        "tasks:dead",
        "foo{}{bar}",
        "foo{{bar}}zap",
        "foo{bar}{zap}",
        "{}",
        "}{",
        "",
        "a-rather-long-key-with-unicode-ü-and-more",
    ] {
        let v = raw(&mut conn, &["CLUSTER", "KEYSLOT", key]).await;
        let Value::Int(server) = v else {
            panic!("CLUSTER KEYSLOT {key}: {v:?}")
        };
        assert_eq!(i64::from(key_slot(key)), server, "slot of {key:?}");
    }
}

#[tokio::test]
async fn any_node_s_url_finds_the_cluster_and_its_masters() {
    let c = cluster();
    for port in c.ports() {
        let connector = connector_with(&c.url_of(port), None);
        assert!(connector.is_cluster().await.expect("detected"));
        let masters = connector.masters().await.expect("masters");
        assert_eq!(masters.len(), 3, "{masters:?}");
        let slots: usize = masters.iter().map(Master::slot_count).sum();
        assert_eq!(slots, 16384);
        let mut ports: Vec<u16> = masters.iter().map(|m| m.addr.port).collect();
        ports.sort_unstable();
        let mut expected = c.ports();
        expected.sort_unstable();
        assert_eq!(ports, expected);
        let key = cluster::stream_on(&masters[1], "probe", false);
        assert_eq!(connector.node_of(&key), Some(masters[1].addr.clone()));
    }
}

#[tokio::test]
async fn every_command_goes_to_the_node_that_owns_its_key() {
    let c = cluster();
    let connector = connector_with(&c.url(), None);
    let masters = connector.masters().await.expect("masters");
    let role = unique("router").replace(':', "_");
    let mut conn = connector.conn(role.clone());
    let base = unique("routed");
    for m in &masters {
        let key = cluster::stream_on(m, &base, false);
        common::add_tasks(&mut conn, &key, 3).await;
        assert_eq!(xlen(&mut conn, &key).await.expect("XLEN"), 3);
        // Written where the slot lives, and only there.
        let mut direct = connector_with(&c.url_of(m.addr.port), Some("false")).conn("direct");
        let exists = raw(&mut direct, &["EXISTS", &key]).await;
        assert_eq!(exists, Value::Int(1), "{key} on {}", m.addr);
    }
    // One socket per node for this role, not one per command.
    let sockets = clients_named(&format!("streamlab:{role}"));
    assert!(sockets.values().all(|&n| n == 1), "{sockets:?}");
}

/// Clients named `name` that the server reports blocked (`flags=b`), by port.
fn blocked_named(name: &str) -> HashMap<u16, usize> {
    let c = cluster();
    c.ports()
        .into_iter()
        .map(|p| {
            let list = c.cli_line(p, "CLIENT LIST");
            let n = list
                .lines()
                .filter(|l| l.contains(&format!(" name={name} ")))
                .filter(|l| {
                    l.split(' ')
                        .find_map(|f| f.strip_prefix("flags="))
                        .is_some_and(|flags| flags.contains('b'))
                })
                .count();
            (p, n)
        })
        .collect()
}

#[tokio::test]
async fn a_blocking_reader_keeps_one_socket_to_its_stream_s_node_only() {
    let c = cluster();
    let connector = connector_with(&c.url(), None);
    let masters = connector.masters().await.expect("masters");
    // The stream lives on the second master, not on the URL's node.
    let stream = cluster::stream_on(&masters[1], &unique("blocking"), false);
    let mut admin = connector.conn("admin");
    raw(
        &mut admin,
        &["XGROUP", "CREATE", &stream, "g", "$", "MKSTREAM"],
    )
    .await;
    let role = unique("reader").replace(':', "_");
    // Nothing is ever added: the read stays blocked until it is aborted
    // (a minute is far longer than anything below waits).
    let block = Duration::from_secs(60);
    let mut reader = connector.blocking_conn(role.clone(), block);
    let read = tokio::spawn(async move {
        let got = streamlab::redis::xreadgroup(
            &mut reader,
            &stream,
            "g",
            "c",
            streamlab::redis::GroupRead::New,
            10,
            Some(u64::try_from(block.as_millis()).expect("ms")),
        )
        .await;
        (got, reader)
    });
    let name = format!("streamlab:{role}");
    common::wait_for(
        "the reader blocked on the server",
        Duration::from_secs(10),
        || {
            let blocked = blocked_named(&name);
            async move { blocked.values().sum::<usize>() == 1 }
        },
    )
    .await;
    let sockets = clients_named(&name);
    assert_eq!(sockets.get(&masters[1].addr.port), Some(&1), "{sockets:?}");
    assert_eq!(sockets.values().sum::<usize>(), 1, "{sockets:?}");
    // A command for another key on the same node, from another role, is not
    // held up behind the blocked read: it completes while the read is still
    // blocked on the server and has not returned.
    let other = cluster::stream_on(&masters[1], &unique("other"), false);
    raw(&mut admin, &["SET", &other, "v"]).await;
    assert!(!read.is_finished(), "the read returned before the SET did");
    let blocked = blocked_named(&name);
    assert_eq!(
        blocked.get(&masters[1].addr.port),
        Some(&1),
        "the read still blocked after the SET: {blocked:?}"
    );
    let mut direct = connector_with(&c.url_of(masters[1].addr.port), Some("false")).conn("direct");
    assert_eq!(
        raw(&mut direct, &["GET", &other]).await,
        Value::BulkString(b"v".to_vec())
    );
    read.abort();
}

#[tokio::test]
async fn a_request_across_slots_is_refused_before_it_is_sent() {
    let c = cluster();
    let connector = connector_with(&c.url(), None);
    let mut conn = connector.conn("crossslot");
    let a = unique("cross-a");
    let b = (0..)
        .map(|i| format!("{a}-b{i}"))
        .find(|k| key_slot(k) != key_slot(&a))
        .expect("another slot");
    let mut pipe = redis::pipe();
    pipe.atomic();
    pipe.cmd("XADD").arg(&a).arg("*").arg("f").arg("v");
    pipe.cmd("XADD").arg(&b).arg("*").arg("f").arg("v");
    let refused = conn.run_pipeline(&pipe, "XADD", true, 4).await;
    let Err(RedisFailure::CrossSlot(message)) = refused else {
        panic!("expected CROSSSLOT, got {refused:?}")
    };
    assert!(message.contains(&a) && message.contains(&b), "{message}");
    assert!(RedisFailure::CrossSlot(message).is_fatal());
    // Nothing was written.
    for key in [&a, &b] {
        assert_eq!(raw(&mut conn, &["EXISTS", key]).await, Value::Int(0));
    }
    // With a shared hash tag the same transaction runs.
    let tag = format!("{{{a}}}");
    let mut pipe = redis::pipe();
    pipe.atomic();
    pipe.cmd("XADD").arg(&tag).arg("*").arg("f").arg("v");
    pipe.cmd("XADD")
        .arg(format!("{tag}:dead"))
        .arg("*")
        .arg("f")
        .arg("v");
    conn.run_pipeline(&pipe, "XADD", true, 4)
        .await
        .expect("one slot");
}

#[tokio::test]
async fn redis_cluster_false_talks_to_the_url_s_node_only() {
    let c = cluster();
    let connector = connector_with(&c.url(), None);
    let masters = connector.masters().await.expect("masters");
    let elsewhere = masters
        .iter()
        .find(|m| m.addr.port != c.nodes[0].port)
        .expect("another master");
    let key = cluster::stream_on(elsewhere, &unique("single"), false);
    let single = connector_with(&c.url(), Some("false"));
    assert!(!single.is_cluster().await.expect("mode"));
    let mut conn: Conn = single.conn("single");
    let refused = xlen(&mut conn, &key).await;
    let Err(failure @ RedisFailure::WrongNode(message)) = &refused else {
        panic!("expected the node's MOVED as a setting to fix, got {refused:?}")
    };
    assert!(failure.is_fatal(), "retrying cannot help");
    assert!(
        message.contains("unset REDIS_CLUSTER")
            && message.contains(&format!("key '{key}' is served by {}", elsewhere.addr)),
        "{message}"
    );
    // The binary says it in one line, exit 2.
    let out = common::run_bin(
        &format!(
            "--url {} --cluster false --stream {key} monitor --once",
            c.url()
        ),
        &[],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    assert!(
        out.stderr.starts_with("error: REDIS_CLUSTER=false"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(cluster::PASSWORD), "{}", out.stderr);
    let info = raw(&mut conn, &["INFO", "server"]).await;
    let info = text(&info).unwrap_or_default();
    assert!(info.contains("tcp_port:"), "{info}");
}

/// A user allowed neither INFO nor CLUSTER (a monitoring user, say): the
/// cluster is recognised from HELLO, and the slot map is learned from the
/// nodes' MOVED replies instead of CLUSTER SLOTS.
#[tokio::test]
async fn a_user_without_info_or_cluster_is_still_routed() {
    let c = cluster();
    let user = unique("limited").replace(':', "_");
    for port in c.ports() {
        let setuser = format!("ACL SETUSER {user} on >Limited-pw-3 ~* +@all -info -cluster");
        assert!(c.cli_line(port, &setuser).contains("OK"));
    }
    let url = format!("redis://{user}:Limited-pw-3@127.0.0.1:{}", c.nodes[0].port);
    let connector = connector_with(&url, None);
    assert!(
        connector
            .is_cluster()
            .await
            .expect("detected through HELLO")
    );
    // Without CLUSTER SLOTS the masters are unknown: said as a permission
    // to grant, not as a connection to retry.
    let refused = connector.masters().await.expect_err("no slot map");
    assert!(
        matches!(&refused, RedisFailure::Auth(m) if m.contains("+cluster|slots")),
        "{refused:?}"
    );
    let masters = connector_with(&c.url(), None)
        .masters()
        .await
        .expect("masters");
    let mut conn = connector.conn("limited");
    for m in &masters {
        let key = cluster::stream_on(m, &unique("limited"), false);
        common::add_tasks(&mut conn, &key, 2).await;
        assert_eq!(xlen(&mut conn, &key).await.expect("XLEN"), 2);
        // Keys on the URL's own node never draw a MOVED; the others did.
        if m.addr.port != c.nodes[0].port {
            assert_eq!(
                connector.node_of(&key),
                Some(m.addr.clone()),
                "learned from MOVED"
            );
        }
    }
}

#[tokio::test]
async fn a_single_server_runs_a_fresh_connector_s_first_pipeline_across_slots() {
    // Keys of different slots in one pipeline are fine off a cluster; a
    // connector that has not yet asked the server what it is must not
    // refuse them by cluster rules.
    let server = common::server();
    let connector = common::connector(&server.url());
    let mut conn = connector.conn("fresh");
    let (a, b) = (unique("slot-a"), unique("slot-b"));
    assert_ne!(key_slot(&a), key_slot(&b), "the test needs two slots");
    let mut pipe = redis::pipe();
    pipe.cmd("XADD").arg(&a).arg("*").arg("f").arg("v");
    pipe.cmd("XADD").arg(&b).arg("*").arg("f").arg("v");
    conn.run_pipeline(&pipe, "XADD", true, 2)
        .await
        .expect("a single server takes a pipeline across slots");
    assert_eq!(xlen(&mut conn, &a).await.expect("XLEN"), 1);
    assert_eq!(xlen(&mut conn, &b).await.expect("XLEN"), 1);
}

/// One pipeline over a slot caught mid-migration, some of its keys already
/// MIGRATEd to the target and the others still at the source: the source
/// runs the commands on its keys and answers ASK for the moved ones, which
/// alone are sent again (with ASKING) at the target. Every command runs
/// exactly once (the counters and explicit stream ids would show a second
/// run, or a lost one) and the replies come back in the pipeline's order.
#[tokio::test]
async fn a_pipeline_partly_redirected_by_ask_runs_each_command_once_in_order() {
    let c = cluster();
    let connector = connector_with(&c.url(), None);
    let masters = connector.masters().await.expect("masters");
    let (from, to) = (masters[0].addr.port, masters[1].addr.port);
    let tag = cluster::stream_on(&masters[0], &unique("half"), true);
    let slot = key_slot(&tag);
    let [moved, stayed, moved_log, stayed_log] =
        [":moved", ":stayed", ":moved-log", ":stayed-log"].map(|k| format!("{tag}{k}"));
    let mut conn = connector.conn("half");
    raw(&mut conn, &["SET", &moved, "20"]).await;
    raw(&mut conn, &["SET", &stayed, "10"]).await;
    for log in [&moved_log, &stayed_log] {
        raw(&mut conn, &["XADD", log, "1-0", "f", "v"]).await;
    }
    c.begin_partial_migration(slot, from, to, &[&moved, &moved_log]);
    let asks = c.error_count(from, "ASK");

    // Moved and not-moved keys interleaved, each increment different, so a
    // reply in the wrong place or a command run twice shows in the values.
    let mut pipe = redis::pipe();
    pipe.cmd("INCRBY").arg(&stayed).arg(1);
    pipe.cmd("INCRBY").arg(&moved).arg(10);
    pipe.cmd("XADD")
        .arg(&moved_log)
        .arg("2-0")
        .arg("f")
        .arg("v");
    pipe.cmd("INCRBY").arg(&stayed).arg(100);
    pipe.cmd("XADD")
        .arg(&stayed_log)
        .arg("2-0")
        .arg("f")
        .arg("v");
    pipe.cmd("INCRBY").arg(&moved).arg(1000);
    let replies = conn
        .run_pipeline(&pipe, "INCRBY", true, 6)
        .await
        .expect("the pipeline runs");
    let id = || Value::BulkString(b"2-0".to_vec());
    assert_eq!(
        replies,
        vec![
            Value::Int(11),
            Value::Int(30),
            id(),
            Value::Int(111),
            id(),
            Value::Int(1030)
        ]
    );
    // The three commands on moved keys were refused once each, the others
    // not at all: the pipeline really was split between the two nodes.
    assert_eq!(c.error_count(from, "ASK") - asks, 3);
    assert_eq!(c.cli_line(from, &format!("GET {stayed}")).trim(), "111");

    // Settle the slot at the target, then read every key where it lives.
    c.migrate_rest(slot, from, to);
    c.end_migration(slot, to);
    let text = |v: Value| match v {
        Value::BulkString(b) => String::from_utf8(b).expect("utf-8"),
        other => panic!("not a string: {other:?}"),
    };
    assert_eq!(text(raw(&mut conn, &["GET", &moved]).await), "1030");
    assert_eq!(text(raw(&mut conn, &["GET", &stayed]).await), "111");
    for log in [&moved_log, &stayed_log] {
        let entries = streamlab::redis::xrange(&mut conn, log, "-", "+", 10)
            .await
            .expect("XRANGE");
        let ids: Vec<String> = entries.iter().map(|e| e.id.to_string()).collect();
        assert_eq!(ids, ["1-0", "2-0"], "{log}");
    }
}

/// A slot that moved while this connector was not looking: its map still
/// names the old owner, which answers MOVED to the transaction's queued
/// command (and EXECABORT to EXEC). The crate's own transaction reading
/// gives up there; `Conn` reads reply by reply, learns the new owner and
/// sends the whole MULTI again, where it runs exactly once (an explicit id
/// could not be added twice) and the map now names the new owner.
#[tokio::test]
async fn a_transaction_sent_on_a_stale_map_follows_moved_and_runs_once() {
    let c = cluster();
    let connector = connector_with(&c.url(), None);
    let masters = connector.masters().await.expect("masters");
    let (from, to) = (masters[0].addr.port, masters[1].addr.port);
    let stream = cluster::stream_on(&masters[0], &unique("stale"), true);
    let slot = key_slot(&stream);
    let mut conn = connector.conn("stale");
    raw(&mut conn, &["XADD", &stream, "1-0", "f", "v"]).await;
    assert_eq!(connector.node_of(&stream).map(|n| n.port), Some(from));

    // Move the whole slot behind the connector's back.
    c.begin_migration(slot, from, to);
    c.migrate_rest(slot, from, to);
    c.end_migration(slot, to);
    assert_eq!(
        connector.node_of(&stream).map(|n| n.port),
        Some(from),
        "the map is stale until a reply says otherwise"
    );
    let moved_before = c.error_count(from, "MOVED");

    let mut multi = redis::pipe();
    multi.atomic();
    multi.cmd("XADD").arg(&stream).arg("2-0").arg("f").arg("v");
    multi.cmd("XLEN").arg(&stream);
    let exec = conn
        .run_pipeline(&multi, "XADD", true, 4)
        .await
        .expect("the MULTI follows MOVED");
    assert_eq!(
        exec,
        vec![Value::BulkString(b"2-0".to_vec()), Value::Int(2)],
        "both queued commands ran once, at the new owner"
    );
    assert!(
        c.error_count(from, "MOVED") > moved_before,
        "the old owner answered MOVED: the stale path was the one taken"
    );
    assert_eq!(connector.node_of(&stream).map(|n| n.port), Some(to));
    let ids: Vec<String> = streamlab::redis::xrange(&mut conn, &stream, "-", "+", 10)
        .await
        .expect("XRANGE")
        .iter()
        .map(|e| e.id.to_string())
        .collect();
    assert_eq!(ids, ["1-0", "2-0"]);
}
