//! What the redis crate's own cluster client (redis 1.8.1, `cluster-async`)
//! does against a local cluster. Not part of streamlab's build:
//! scripts/cluster-client-compare.sh copies it into a throwaway cargo
//! project as its main.rs, builds it and runs each mode.
//!
//!   probe sockets SEED_PORT ROLES   one connection per role, held until killed
//!   probe block SEED_PORT           a BLOCK 3000 read vs a clone and a separate connection
//!   probe multi SEED_PORT           MULTI/EXEC after MOVED and during a migration (ASK)
//!   probe drain SEED_PORT ENTRIES ROUNDS
//!                                   client CPU of a drain: cluster vs plain connection

use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::{ClusterClient, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{cmd, pipe, RedisResult, Value};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    let seed: u16 = arg(2).parse().expect("a seed port");
    let client = ClusterClient::new(vec![url(seed)]).expect("a cluster client");
    match arg(1).as_str() {
        "sockets" => sockets(&client, arg(3).parse().expect("a number of roles")).await,
        "block" => block(&client, seed).await,
        "multi" => multi(&client, seed).await,
        "drain" => {
            let entries = arg(3).parse().expect("a number of entries");
            drain(&client, seed, entries, arg(4).parse().unwrap_or(3)).await
        }
        other => panic!("unknown mode {other:?}"),
    }
}

fn url(port: u16) -> String {
    format!("redis://127.0.0.1:{port}")
}

/// One connection the way a role would get its own: a separate
/// `get_async_connection_with_config` call (not a clone).
async fn role_connection(client: &ClusterClient) -> ClusterConnection {
    let config = ClusterConfig::new().set_response_timeout(Duration::from_secs(10));
    client
        .get_async_connection_with_config(config)
        .await
        .expect("a cluster connection")
}

async fn plain(port: u16) -> MultiplexedConnection {
    let client = redis::Client::open(url(port)).expect("a client");
    let config =
        redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(10)));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .expect("a connection")
}

async fn run<C: ConnectionLike>(c: &mut C, args: &[&str]) -> RedisResult<Value> {
    let mut command = cmd(args[0]);
    for a in &args[1..] {
        command.arg(*a);
    }
    command.query_async(c).await
}

/// `roles` connections, each used once on the stream `{jobs}`, then held so
/// the script can count every node's client sockets.
async fn sockets(client: &ClusterClient, roles: usize) {
    let mut held = Vec::new();
    for _ in 0..roles {
        let mut c = role_connection(client).await;
        run(&mut c, &["XLEN", "{jobs}"]).await.expect("XLEN");
        held.push(c);
    }
    println!("ready: {roles} connections");
    // The script kills this process once it has counted; 120 s is a backstop.
    tokio::time::sleep(Duration::from_secs(120)).await;
    drop(held);
}

/// The cluster's nodes from CLUSTER NODES: (id, port, is master, slot ranges).
struct Node {
    id: String,
    port: u16,
    master: bool,
    slots: Vec<(u16, u16)>,
}

async fn nodes(seed: u16) -> Vec<Node> {
    let text: String = cmd("CLUSTER")
        .arg("NODES")
        .query_async(&mut plain(seed).await)
        .await
        .expect("CLUSTER NODES");
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let port = f
                .get(1)?
                .split(['@', ','])
                .next()?
                .rsplit(':')
                .next()?
                .parse()
                .ok()?;
            let slots = f
                .iter()
                .skip(8)
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| {
                    let (a, b) = s.split_once('-').unwrap_or((s, s));
                    Some((a.parse().ok()?, b.parse().ok()?))
                })
                .collect();
            Some(Node {
                id: f[0].to_owned(),
                port,
                master: f[2].contains("master"),
                slots,
            })
        })
        .collect()
}

async fn slot_of(seed: u16, key: &str) -> u16 {
    cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(&mut plain(seed).await)
        .await
        .expect("CLUSTER KEYSLOT")
}

fn owner(nodes: &[Node], slot: u16) -> &Node {
    nodes
        .iter()
        .find(|n| n.master && n.slots.iter().any(|&(a, b)| a <= slot && slot <= b))
        .expect("an owner for every slot")
}

async fn timed_xlen(c: &mut impl ConnectionLike, key: &str) -> f64 {
    let started = Instant::now();
    run(c, &["XLEN", key]).await.expect("XLEN");
    started.elapsed().as_secs_f64() * 1e3
}

/// XREADGROUP BLOCK 3000 on one connection; meanwhile an XLEN of the same
/// stream on a clone of it, on a connection of its own, and on the clone to
/// a key of another master.
async fn block(client: &ClusterClient, seed: u16) {
    let all = nodes(seed).await;
    let jobs = owner(&all, slot_of(seed, "{jobs}").await).port;
    let mut elsewhere = String::new();
    for i in 0.. {
        let key = format!("{{other{i}}}");
        if owner(&all, slot_of(seed, &key).await).port != jobs {
            elsewhere = key;
            break;
        }
    }
    let reader = role_connection(client).await;
    let mut clone = reader.clone();
    let mut separate = role_connection(client).await;
    let _ = run(
        &mut separate,
        &["XGROUP", "CREATE", "{jobs}", "block", "$", "MKSTREAM"],
    )
    .await;
    timed_xlen(&mut clone, "{jobs}").await;
    timed_xlen(&mut clone, &elsewhere).await;
    timed_xlen(&mut separate, "{jobs}").await;

    let mut r = reader.clone();
    let read = tokio::spawn(async move {
        let started = Instant::now();
        let args = [
            "XREADGROUP",
            "GROUP",
            "block",
            "c",
            "BLOCK",
            "3000",
            "STREAMS",
            "{jobs}",
            ">",
        ];
        run(&mut r, &args).await.expect("XREADGROUP");
        started.elapsed().as_secs_f64() * 1e3
    });
    // Wait until the node reports the read blocked (deadline 5 s).
    let mut node = plain(jobs).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info: String = cmd("INFO")
            .arg("clients")
            .query_async(&mut node)
            .await
            .expect("INFO");
        if info.contains("blocked_clients:1") {
            break;
        }
        assert!(Instant::now() < deadline, "the read never blocked");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let separate_ms = timed_xlen(&mut separate, "{jobs}").await;
    let other_node_ms = timed_xlen(&mut clone, &elsewhere).await;
    let clone_ms = timed_xlen(&mut clone, "{jobs}").await;
    let read_ms = read.await.expect("the read");
    println!("block: XREADGROUP BLOCK 3000 returned after {read_ms:.0} ms");
    println!(
        "block: XLEN, same node, separate get_async_connection_with_config: {separate_ms:.2} ms"
    );
    println!("block: XLEN, another master's key, clone of the reader: {other_node_ms:.2} ms");
    println!("block: XLEN, same node, clone of the reader: {clone_ms:.0} ms");
}

fn show(r: &RedisResult<Value>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(e) => format!("error: {e}"),
    }
}

async fn transaction(c: &mut impl ConnectionLike, key: &str) -> RedisResult<Value> {
    pipe()
        .atomic()
        .cmd("XADD")
        .arg(key)
        .arg("*")
        .arg("f")
        .arg("v")
        .query_async(c)
        .await
}

/// CLUSTER SETSLOT on every master, the given one first.
async fn setslot(all: &[Node], first: u16, args: &[&str]) {
    let mut order: Vec<u16> = all.iter().filter(|n| n.master).map(|n| n.port).collect();
    order.sort_by_key(|&p| p != first);
    for port in order {
        let mut c = plain(port).await;
        let mut full = vec!["CLUSTER", "SETSLOT"];
        full.extend_from_slice(args);
        run(&mut c, &full).await.expect("CLUSTER SETSLOT");
    }
}

/// A MULTI/EXEC whose queued XADD gets MOVED (the slot was given to another
/// master after the connection read the map) or ASK (the slot is being
/// migrated and the key is not on the old owner), on the crate's cluster
/// connection and on its plain connection to the old owner.
async fn multi(client: &ClusterClient, seed: u16) {
    for (case, key) in [("MOVED", "{tx-moved}"), ("ASK", "{tx-ask}")] {
        let all = nodes(seed).await;
        let slot = slot_of(seed, key).await;
        let from = owner(&all, slot);
        let to = all
            .iter()
            .find(|n| n.master && n.port != from.port)
            .expect("another master");
        let slot_s = slot.to_string();
        let mut cluster = role_connection(client).await;
        let mut old_owner = plain(from.port).await;
        // The connection has read the map and the key's slot is empty.
        run(&mut cluster, &["DEL", key]).await.expect("DEL");
        // A migration of the (empty) slot as redis-cli does one: IMPORTING,
        // MIGRATING, then (for MOVED) NODE on the new owner first.
        let mut target = plain(to.port).await;
        run(
            &mut target,
            &["CLUSTER", "SETSLOT", &slot_s, "IMPORTING", &from.id],
        )
        .await
        .expect("IMPORTING");
        run(
            &mut old_owner,
            &["CLUSTER", "SETSLOT", &slot_s, "MIGRATING", &to.id],
        )
        .await
        .expect("MIGRATING");
        if case == "MOVED" {
            setslot(&all, to.port, &[&slot_s, "NODE", &to.id]).await;
        }
        println!(
            "multi {case}: cluster connection, MULTI XADD EXEC: {}",
            show(&transaction(&mut cluster, key).await)
        );
        // Nothing refreshes the map in the background: the same, 1 s later.
        tokio::time::sleep(Duration::from_secs(1)).await;
        println!(
            "multi {case}: cluster connection, the same 1 s later: {}",
            show(&transaction(&mut cluster, key).await)
        );
        println!(
            "multi {case}: plain connection to the old owner, MULTI XADD EXEC: {}",
            show(&transaction(&mut old_owner, key).await)
        );
        let single = run(&mut cluster, &["XADD", key, "*", "f", "v"]).await;
        println!(
            "multi {case}: cluster connection, XADD alone: {}",
            show(&single)
                .split(' ')
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        );
        println!(
            "multi {case}: cluster connection, MULTI XADD EXEC after it: {}",
            show(&transaction(&mut cluster, key).await)
        );
        if case == "ASK" {
            // Finish the migration: the key now lives on the importing node.
            setslot(&all, to.port, &[&slot_s, "NODE", &to.id]).await;
        }
    }
}

/// User + system CPU seconds of this process so far.
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after = stat.rsplit_once(") ").expect("a stat line").1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = std::env::var("CLK_TCK")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(100.0);
    (f[11].parse::<f64>().expect("utime") + f[12].parse::<f64>().expect("stime")) / ticks
}

/// Entries shaped like streamlab's: kind, payload, created_ms, seq.
async fn fill(c: &mut impl ConnectionLike, key: &str, entries: usize) {
    let payload = "x".repeat(32);
    for start in (0..entries).step_by(1000) {
        let mut p = pipe();
        for seq in start..(start + 1000).min(entries) {
            p.cmd("XADD")
                .arg(key)
                .arg("*")
                .arg("kind")
                .arg("task")
                .arg("payload")
                .arg(&payload)
                .arg("created_ms")
                .arg(1_700_000_000_000u64)
                .arg("seq")
                .arg(seq)
                .ignore();
        }
        p.query_async::<()>(c).await.expect("XADD");
    }
}

/// Read and ack every entry through `group`, 500 per XREADGROUP; entries,
/// seconds and CPU seconds.
async fn drain_group(c: &mut impl ConnectionLike, key: &str, group: &str) -> (usize, f64, f64) {
    run(c, &["XGROUP", "CREATE", key, group, "0"])
        .await
        .expect("XGROUP CREATE");
    let (cpu0, t0) = (cpu_s(), Instant::now());
    let mut got = 0;
    loop {
        let args = [
            "XREADGROUP",
            "GROUP",
            group,
            "c",
            "COUNT",
            "500",
            "STREAMS",
            key,
            ">",
        ];
        let reply = run(c, &args).await.expect("XREADGROUP");
        let ids = entry_ids(reply);
        if ids.is_empty() {
            break;
        }
        got += ids.len();
        let mut ack = cmd("XACK");
        ack.arg(key).arg(group).arg(&ids);
        ack.query_async::<()>(c).await.expect("XACK");
    }
    (got, t0.elapsed().as_secs_f64(), cpu_s() - cpu0)
}

fn entry_ids(reply: Value) -> Vec<Vec<u8>> {
    let Value::Array(streams) = reply else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    for s in streams {
        let Value::Array(mut kv) = s else { continue };
        let Some(Value::Array(entries)) = kv.pop() else {
            continue;
        };
        for e in entries {
            if let Value::Array(mut parts) = e {
                if let Value::BulkString(id) = parts.swap_remove(0) {
                    ids.push(id);
                }
            }
        }
    }
    ids
}

/// The same drain through the cluster connection and through a plain
/// connection to the stream's master (both parse with the crate's parser),
/// alternating for `rounds` rounds; medians.
async fn drain(client: &ClusterClient, seed: u16, entries: usize, rounds: usize) {
    let key = "{drain}";
    let all = nodes(seed).await;
    let node = owner(&all, slot_of(seed, key).await).port;
    let mut cluster = role_connection(client).await;
    let mut direct = plain(node).await;
    run(&mut cluster, &["DEL", key]).await.expect("DEL");
    fill(&mut cluster, key, entries).await;
    let (mut on_cluster, mut on_plain) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        on_cluster.push(drain_group(&mut cluster, key, &format!("c{round}")).await);
        on_plain.push(drain_group(&mut direct, key, &format!("p{round}")).await);
    }
    for (name, runs) in [
        ("cluster connection", on_cluster),
        ("plain connection", on_plain),
    ] {
        assert!(runs.iter().all(|r| r.0 == entries), "every entry drained");
        let median = |f: &dyn Fn(&(usize, f64, f64)) -> f64| {
            let mut v: Vec<f64> = runs.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        println!(
            "drain: {name}: {:.0} entries/s, client CPU {:.2} us per entry",
            median(&|r| r.0 as f64 / r.1),
            median(&|r| r.2 * 1e6 / r.0 as f64)
        );
    }
    run(&mut cluster, &["DEL", key]).await.expect("DEL");
}
