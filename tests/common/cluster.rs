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

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
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

/// Certificates made with the `openssl` CLI: a CA, and a node certificate
/// for IP 127.0.0.1 (the address the nodes announce) signed by it.
fn make_tls() -> Tls {
    let dir = std::env::temp_dir().join(format!("streamlab-cluster-{}-tls", std::process::id()));
    std::fs::create_dir_all(&dir).expect("certificate directory");
    std::fs::write(
        dir.join("san.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("openssl extension file");
    for line in [
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=streamlab-test-ca",
        "req -newkey rsa:2048 -nodes -keyout node.key -out node.csr -subj /CN=127.0.0.1",
        "x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out node.crt -days 2 -extfile san.cnf",
    ] {
        let out = Command::new("openssl")
            .args(line.split_whitespace())
            .current_dir(&dir)
            .output()
            .expect("the openssl CLI is needed for the TLS cluster");
        assert!(
            out.status.success(),
            "openssl {line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Tls {
        ca: dir.join("ca.crt"),
        cert: dir.join("node.crt"),
        key: dir.join("node.key"),
        dir,
    }
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
        let view = self.master_view(ask);
        for line in view.lines() {
            let Some((range, addr)) = line.split_once(' ') else {
                continue;
            };
            let (start, end) = range.split_once('-').unwrap_or((range, range));
            let (Ok(start), Ok(end)) = (start.parse::<u16>(), end.parse::<u16>()) else {
                continue;
            };
            if (start..=end).contains(&slot) {
                let port = addr.rsplit(':').next().and_then(|p| p.parse().ok());
                return port.expect("a port in CLUSTER NODES");
            }
        }
        panic!("no owner of slot {slot} seen by {ask}: {view}");
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

impl LocalCluster {
    /// First half of a slot migration by hand, as `redis-cli --cluster
    /// reshard` does it: SETSLOT IMPORTING on the target, MIGRATING on
    /// the source, then MIGRATE every key of the slot. Clients meet ASK
    /// for the moved keys until [`end_migration`](Self::end_migration).
    pub fn begin_migration(&self, slot: u16, from: u16, to: u16) {
        let (from_id, to_id) = (self.node_id(from), self.node_id(to));
        self.setslot(to, slot, "IMPORTING", &from_id);
        self.setslot(from, slot, "MIGRATING", &to_id);
        loop {
            let listed = self.cli_line(from, &format!("CLUSTER GETKEYSINSLOT {slot} 100"));
            let keys: Vec<String> = listed
                .lines()
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect();
            if keys.is_empty() {
                return;
            }
            let mut migrate: Vec<String> = [
                "MIGRATE",
                "127.0.0.1",
                &to.to_string(),
                "",
                "0",
                "5000",
                "AUTH",
                PASSWORD,
                "KEYS",
            ]
            .iter()
            .map(|a| (*a).to_owned())
            .collect();
            migrate.extend(keys);
            let out = self.cli(from, &migrate);
            assert!(out.contains("OK"), "MIGRATE: {out}");
        }
    }

    /// Second half: SETSLOT NODE on every master, then wait until every
    /// node says `to` owns the slot.
    pub fn end_migration(&self, slot: u16, to: u16) {
        let to_id = self.node_id(to);
        for port in self.master_ports() {
            self.setslot(port, slot, "NODE", &to_id);
        }
        self.wait_owner(slot, to, Duration::from_secs(30));
    }

    fn setslot(&self, port: u16, slot: u16, how: &str, id: &str) {
        let out = self.cli_line(port, &format!("CLUSTER SETSLOT {slot} {how} {id}"));
        assert!(out.contains("OK"), "SETSLOT {slot} {how} on {port}: {out}");
    }

    /// Ports of the nodes that are masters now.
    pub fn master_ports(&self) -> Vec<u16> {
        self.ports()
            .into_iter()
            .filter(|p| self.cli_line(*p, "ROLE").starts_with("master"))
            .collect()
    }

    /// Ports of the nodes that are replicas now.
    pub fn replica_ports(&self) -> Vec<u16> {
        self.ports()
            .into_iter()
            .filter(|p| self.cli_line(*p, "ROLE").starts_with("slave"))
            .collect()
    }

    /// Until every node says `owner` serves `slot`.
    pub fn wait_owner(&self, slot: u16, owner: u16, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let owners: Vec<u16> = self
                .ports()
                .into_iter()
                .map(|p| self.owner_port(p, slot))
                .collect();
            if owners.iter().all(|o| *o == owner) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "slot {slot}: owners {owners:?}, not {owner}, after {within:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// CLUSTER FAILOVER on `replica`, until it is master of its old
    /// master's slots on every node. Returns the old master's port.
    pub fn failover(&self, replica: u16) -> u16 {
        let info = self.cli_line(replica, "INFO replication");
        let primary: u16 = info
            .lines()
            .find_map(|l| l.trim().strip_prefix("master_port:")?.parse().ok())
            .unwrap_or_else(|| panic!("{replica} is not a replica: {info}"));
        let slot = self
            .master_view(primary)
            .lines()
            .find(|l| l.ends_with(&format!(":{primary}")))
            .and_then(|l| l.split(['-', ' ']).next()?.parse::<u16>().ok())
            .expect("the master serves a slot");
        let out = self.cli_line(replica, "CLUSTER FAILOVER");
        assert!(out.contains("OK"), "CLUSTER FAILOVER: {out}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.cli_line(replica, "ROLE").starts_with("master") {
            assert!(Instant::now() < deadline, "{replica} did not take over");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.wait_owner(slot, replica, Duration::from_secs(30));
        primary
    }
}

/// Every kind of request follows a slot migration through `connector`:
/// ASK for a command, a pipeline and a MULTI/EXEC on the moved key,
/// TRYAGAIN for a MULTI/EXEC over two keys of the moving slot (one not
/// there yet) until the slot is settled, then MOVED. Moves a slot of the
/// first master to the second.
pub async fn migration_is_followed(c: &LocalCluster, connector: &streamlab::redis::Connector) {
    use streamlab::redis::topology::key_slot;
    use streamlab::redis::{EntryId, dead_letter, xadd_batch, xlen};
    let masters = connector.masters().await.expect("masters");
    let (from, to) = (&masters[0], &masters[1]);
    let stream = (0..)
        .map(|i| format!("{{{}-{i}}}", crate::common::unique("move")))
        .find(|k| from.owns(key_slot(k)))
        .expect("a name on the first master");
    let dead = format!("{stream}:dead");
    let mut conn = connector.conn("mover");
    let ids = crate::common::add_tasks(&mut conn, &stream, 4).await;
    crate::common::raw(&mut conn, &["XGROUP", "CREATE", &stream, "g", "0"]).await;
    crate::common::read_without_ack(&mut conn, &stream, "g", "c", 4).await;
    let slot = key_slot(&stream);
    c.begin_migration(slot, from.addr.port, to.addr.port);
    // The key is on the importing node now: ASK.
    assert_eq!(xlen(&mut conn, &stream).await.expect("XLEN via ASK"), 4);
    let batch = vec![vec![("kind", b"x".to_vec())]; 3];
    let added = xadd_batch(&mut conn, &stream, None, &batch)
        .await
        .expect("XADD via ASK");
    assert_eq!(added.len(), 3);
    let mut multi = ::redis::pipe();
    multi.atomic();
    multi.cmd("XADD").arg(&stream).arg("*").arg("kind").arg("y");
    multi.cmd("XLEN").arg(&stream);
    let exec = conn
        .run_pipeline(&multi, "XADD", true, 4)
        .await
        .expect("MULTI/EXEC via ASK");
    assert_eq!(exec.get(1), Some(&::redis::Value::Int(8)), "{exec:?}");
    // A MULTI over the stream and `:dead`, which is not there yet: the
    // importing node answers TRYAGAIN until the slot is settled, and
    // streamlab waits and sends it again.
    let mut mover = connector.conn("mover-dead");
    let (stream_k, dead_k, first) = (stream.clone(), dead.clone(), ids[0]);
    let moving = tokio::spawn(async move {
        dead_letter(
            &mut mover,
            &stream_k,
            &dead_k,
            "g",
            first,
            &[("error", b"x")],
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.end_migration(slot, to.addr.port);
    let moved: EntryId = moving
        .await
        .expect("the task ran")
        .expect("MULTI/EXEC after TRYAGAIN");
    assert!(moved > EntryId::ZERO);
    // Then MOVED: the map learns the new owner.
    assert_eq!(xlen(&mut conn, &stream).await.expect("XLEN after MOVED"), 8);
    assert_eq!(
        connector.node_of(&stream).map(|n| n.port),
        Some(to.addr.port)
    );
    assert_eq!(
        crate::common::pending_count(&mut conn, &stream, "g").await,
        3
    );
    assert!(
        c.cli_line(to.addr.port, "INFO commandstats")
            .contains("cmdstat_asking:"),
        "ASKING reached the importing node"
    );
}

/// A connector that talks to `url`'s node only (REDIS_CLUSTER=false):
/// to see what one node holds.
pub fn single_node(url: &str) -> streamlab::redis::Connector {
    let settings = streamlab::config::RedisSettings::from_inputs(&streamlab::config::RedisInputs {
        url: Some(url.to_owned()),
        cluster: Some("false".into()),
        ..Default::default()
    })
    .expect("valid url");
    streamlab::redis::Connector::new(settings).expect("connector")
}

/// A port p with p and p + 10000 free, p <= 55535.
fn free_cluster_port() -> u16 {
    for _ in 0..200 {
        let port = fastrand::u16(20_000..=55_535);
        let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
        if free(port) && free(port + 10_000) {
            return port;
        }
    }
    panic!("no free port pair for a cluster node");
}

/// Start one cluster-enabled node under its watchdog; retried on another
/// port if someone took this one first.
fn start_node(tls: Option<&Tls>) -> Node {
    for _ in 0..10 {
        let port = free_cluster_port();
        let dir: PathBuf =
            std::env::temp_dir().join(format!("streamlab-cluster-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("node directory");
        let password = format!(">{PASSWORD}");
        // The watchdog: start the node, print its pid, wait for stdin to
        // close (the test process is gone), then kill it and clean up.
        let script = r#"dir=$1; shift
extra=$1; shift
server=$1; shift
"$server" "$@" </dev/null >"$dir/log" 2>&1 &
echo $!
read -r _
kill -9 $! 2>/dev/null
rm -rf "$dir" $extra"#;
        // With TLS the port serves TLS only, and the bus and replication
        // use it too: every node the same way.
        let mut listen: Vec<String> = match tls {
            None => vec!["--port".into(), port.to_string()],
            Some(t) => [
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--tls-cluster",
                "yes",
                "--tls-replication",
                "yes",
                "--tls-auth-clients",
                "no",
            ]
            .iter()
            .map(|a| (*a).to_owned())
            .chain([
                "--tls-cert-file".to_owned(),
                t.cert.display().to_string(),
                "--tls-key-file".to_owned(),
                t.key.display().to_string(),
                "--tls-ca-cert-file".to_owned(),
                t.ca.display().to_string(),
            ])
            .collect(),
        };
        listen.extend(["--bind".to_owned(), "127.0.0.1".to_owned()]);
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("watchdog")
            .arg(&dir)
            // The certificates go with the nodes (the same path each time).
            .arg(tls.map(|t| t.dir.display().to_string()).unwrap_or_default())
            // The matrix's server (STREAMLAB_TEST_SERVER), else redis-server.
            .arg(crate::common::server_binary_name())
            .args(&listen)
            .args([
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
                "--save",
                "",
                "--appendonly",
                "no",
                "--repl-diskless-sync-delay",
                "0",
                "--requirepass",
                PASSWORD,
                "--masterauth",
                PASSWORD,
                // redis-server joins the words after an option into one
                // config line: `user lab on >pw ~* &* +@all`.
                "--user",
                "lab",
                "on",
                &password,
                "~*",
                "&*",
                "+@all",
                "--dir",
            ])
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh starts");
        let mut line = String::new();
        let stdout = watchdog.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the watchdog prints the pid");
        let pid: u32 = line.trim().parse().expect("a pid");
        let node = Node {
            port,
            pid,
            _watchdog: watchdog,
        };
        if wait_ping(port, tls, Duration::from_secs(10)) {
            return node;
        }
        // Port taken between the check and the start: the node died.
        // Dropping `node` closes the pipe, so its watchdog cleans up.
    }
    panic!("could not start a cluster node");
}

fn wait_ping(port: u16, tls: Option<&Tls>, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let out = Command::new("redis-cli")
            .args(cli_base(port, tls))
            .arg("PING")
            .stdin(Stdio::null())
            .output();
        if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("PONG")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
