//! A real local Redis Cluster for the tests: three masters (plus replicas
//! where a test needs them) on free ports <= 55535 (the cluster bus listens
//! on port + 10000), joined with `redis-cli --cluster create`, ready when
//! every node says `cluster_state:ok` and agrees on the slots.
//!
//! The nodes run the binary the whole test run uses (`STREAMLAB_TEST_SERVER`
//! in the matrix: Redis 6.2, Valkey 9.1), so the cluster tests run there
//! too; `redis-cli` (7.0) builds the cluster either way.
//!
//! One cluster per test binary, started on first use ([`shared`]). Statics
//! are never dropped, so each node runs under a tiny shell watchdog that
//! reads its stdin, a pipe from the test process: when the test binary
//! exits (or is killed), the pipe closes, `read` returns, and the watchdog
//! kills its node and removes its directory.

#![allow(dead_code, reason = "each cluster test binary uses a different subset")]

#[path = "cluster_nodes.rs"]
mod nodes;
#[path = "cluster_ops.rs"]
mod ops;
use nodes::{make_tls, start_node};
#[allow(
    unused_imports,
    reason = "each cluster test binary uses a different subset"
)]
pub use ops::{migration_is_followed, single_node, stream_on};

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The password of the `lab` ACL user on every node (and of `default`).
pub const PASSWORD: &str = "Cluster-pw-7";

/// One node: its port, the redis-server's pid, and the watchdog that holds
/// it to the test process's life.
pub struct Node {
    pub port: u16,
    pub pid: u32,
    _watchdog: Child,
}

pub struct LocalCluster {
    /// Masters first (as created), then replicas.
    pub nodes: Vec<Node>,
    pub masters: usize,
    /// TLS on every port (clients and the cluster bus), or none.
    pub tls: Option<Tls>,
}

/// A private CA and one certificate for 127.0.0.1 that every node serves.
pub struct Tls {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The cluster of this test binary: `masters` masters, the first
/// `replicas` of them with a replica each, started by the first caller.
pub fn shared(masters: usize, replicas: usize) -> &'static LocalCluster {
    shared_with(masters, replicas, false)
}

/// The same with TLS on every node (client ports, bus and replication).
pub fn shared_tls(masters: usize) -> &'static LocalCluster {
    shared_with(masters, 0, true)
}

fn shared_with(masters: usize, replicas: usize, tls: bool) -> &'static LocalCluster {
    static CLUSTER: OnceLock<LocalCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| LocalCluster::start(masters, replicas, tls.then(make_tls)))
}

/// redis-cli's connection flags for a node.
fn cli_base(port: u16, tls: Option<&Tls>) -> Vec<String> {
    let mut args: Vec<String> = ["-p", &port.to_string(), "--no-auth-warning", "-a", PASSWORD]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
    if let Some(t) = tls {
        args.extend([
            "--tls".to_owned(),
            "--cacert".to_owned(),
            t.ca.display().to_string(),
        ]);
    }
    args
}

impl LocalCluster {
    fn start(masters: usize, replicas: usize, tls: Option<Tls>) -> Self {
        let started = Instant::now();
        let nodes: Vec<Node> = (0..masters + replicas)
            .map(|_| start_node(tls.as_ref()))
            .collect();
        let cluster = Self {
            nodes,
            masters,
            tls,
        };
        let mut create = vec!["--cluster".to_owned(), "create".to_owned()];
        create.extend(
            cluster.nodes[..masters]
                .iter()
                .map(|n| format!("127.0.0.1:{}", n.port)),
        );
        create.extend(["--cluster-replicas", "0", "--cluster-yes"].map(String::from));
        cluster.cli_ok(cluster.nodes[0].port, &create);
        cluster.wait_ok(masters, Duration::from_secs(30));
        // Replica i follows master i.
        let ids: Vec<String> = cluster.nodes[..replicas]
            .iter()
            .map(|n| cluster.node_id(n.port))
            .collect();
        for (replica, id) in cluster.nodes[masters..].iter().zip(&ids) {
            let args = [
                "--cluster",
                "add-node",
                &format!("127.0.0.1:{}", replica.port),
                &format!("127.0.0.1:{}", cluster.nodes[0].port),
                "--cluster-slave",
                "--cluster-master-id",
                id,
            ];
            cluster.cli_ok(cluster.nodes[0].port, &args.map(String::from));
        }
        cluster.wait_ok(cluster.nodes.len(), Duration::from_secs(30));
        for (replica, id) in cluster.nodes[masters..].iter().zip(&ids) {
            cluster.wait_replica_synced(replica.port, Duration::from_secs(30));
            cluster.wait_replica_known(replica.port, id, Duration::from_secs(30));
        }
        eprintln!(
            "cluster: {masters} masters + {replicas} replicas on ports {:?}, ready in {:.1} s",
            cluster.ports(),
            started.elapsed().as_secs_f64()
        );
        cluster
    }

    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// The URL of a node for the `lab` user (`rediss://` with TLS: give
    /// the CA as REDIS_CA_CERT, [`Tls::ca`]).
    pub fn url_of(&self, port: u16) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://lab:{PASSWORD}@127.0.0.1:{port}")
    }

    /// The URL of the first node (any node works: streamlab finds the rest).
    pub fn url(&self) -> String {
        self.url_of(self.nodes[0].port)
    }

    /// Run `redis-cli -p port <args>` as the default user; its stdout.
    pub fn cli(&self, port: u16, args: &[String]) -> String {
        let out = Command::new("redis-cli")
            .args(cli_base(port, self.tls.as_ref()))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli is needed for the cluster tests");
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    fn cli_ok(&self, port: u16, args: &[String]) {
        let out = self.cli(port, args);
        assert!(
            !out.contains("ERR") && !out.contains("[ERR]"),
            "redis-cli {args:?}: {out}"
        );
    }

    /// `redis-cli -p port <line>` (arguments without spaces).
    pub fn cli_line(&self, port: u16, line: &str) -> String {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        self.cli(port, &args)
    }

    pub fn node_id(&self, port: u16) -> String {
        self.cli_line(port, "CLUSTER MYID").trim().to_owned()
    }

    /// The first `known` nodes are up, say `cluster_state:ok`, know each
    /// other, and all report the same owner for every slot.
    fn wait_ok(&self, known: usize, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let infos: Vec<String> = self.nodes[..known]
                .iter()
                .map(|n| self.cli_line(n.port, "CLUSTER INFO"))
                .collect();
            let ok = infos.iter().all(|i| {
                i.contains("cluster_state:ok")
                    && i.contains("cluster_slots_assigned:16384")
                    && i.contains(&format!("cluster_known_nodes:{known}"))
            });
            if ok && self.slots_agree_among(known) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the cluster was not ok within {within:?}: {infos:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Every node reports the same masters serving the same slots.
    pub fn slots_agree(&self) -> bool {
        self.slots_agree_among(self.nodes.len())
    }

    fn slots_agree_among(&self, known: usize) -> bool {
        let views: Vec<String> = self.nodes[..known]
            .iter()
            .map(|n| self.master_view(n.port))
            .collect();
        views.iter().all(|v| !v.is_empty()) && views.windows(2).all(|w| w[0] == w[1])
    }

    /// A node's view of which master serves which slots: sorted lines of
    /// `start[-end] host:port`, from CLUSTER NODES.
    pub fn master_view(&self, port: u16) -> String {
        let mut lines: Vec<String> = Vec::new();
        for line in self.cli_line(port, "CLUSTER NODES").lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [_, addr, flags, _, _, _, _, _, slots @ ..] = parts.as_slice() else {
                continue;
            };
            if !flags.split(',').any(|f| f == "master") || flags.contains("fail") {
                continue;
            }
            let addr = addr.split('@').next().unwrap_or_default();
            // `[slot->-id]` marks a migration in progress, not ownership.
            for range in slots.iter().filter(|r| !r.starts_with('[')) {
                lines.push(format!("{range} {addr}"));
            }
        }
        lines.sort();
        lines.join("\n")
    }

    /// The port of the master serving `slot`, as node `ask` sees it.
    pub fn owner_port(&self, ask: u16, slot: u16) -> u16 {
        self.owner_seen_by(ask, slot).unwrap_or_else(|| {
            panic!(
                "no owner of slot {slot} seen by {ask}: {}",
                self.master_view(ask)
            )
        })
    }

    /// The port of the master serving `slot` as node `ask` sees it, or
    /// `None` while it sees no master serving it (during a failover a node
    /// can list the old master as a replica before it learns the new one).
    pub fn owner_seen_by(&self, ask: u16, slot: u16) -> Option<u16> {
        let view = self.master_view(ask);
        view.lines().find_map(|line| {
            let (range, addr) = line.split_once(' ')?;
            let (start, end) = range.split_once('-').unwrap_or((range, range));
            let (start, end) = (start.parse::<u16>().ok()?, end.parse::<u16>().ok()?);
            (start..=end).contains(&slot).then(|| {
                addr.rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("a port in CLUSTER NODES")
            })
        })
    }

    /// Every node lists `replica` as a replica of `master_id`: until its
    /// master knows it, a CLUSTER FAILOVER on it quietly times out.
    fn wait_replica_known(&self, replica: u16, master_id: &str, within: Duration) {
        let deadline = Instant::now() + within;
        let addr = format!("127.0.0.1:{replica}@");
        loop {
            let known = self.nodes.iter().all(|n| {
                self.cli_line(n.port, "CLUSTER NODES").lines().any(|l| {
                    let parts: Vec<&str> = l.split_whitespace().collect();
                    parts.len() > 3
                        && parts[1].starts_with(&addr)
                        && parts[2].split(',').any(|f| f == "slave")
                        && parts[3] == master_id
                })
            });
            if known {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not every node knows replica {replica} within {within:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_replica_synced(&self, port: u16, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let info = self.cli_line(port, "INFO replication");
            if info.contains("master_link_status:up") && info.contains("master_sync_in_progress:0")
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "replica {port} did not sync within {within:?}: {info}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
