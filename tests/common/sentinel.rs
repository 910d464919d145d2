//! A real local Redis Sentinel set for the tests: a master, a replica
//! (`--replicaof`) and three sentinels (`redis-server <conf> --sentinel`,
//! each with its own writable config file, which sentinels rewrite),
//! quorum 2, `down-after-milliseconds 1000`, `failover-timeout 5000`.
//! Ready when every sentinel knows the replica and the two other
//! sentinels. All run the binary the test run uses (STREAMLAB_TEST_SERVER
//! in the matrix), on free ports, killed on drop.
//!
//! Failovers are the real ones: `SENTINEL FAILOVER` on a sentinel, or
//! kill -9 of the master (the sentinels agree it is down and promote the
//! replica); each waits until every sentinel names the new master and it
//! says it is one.

#![allow(
    dead_code,
    reason = "each sentinel test binary uses a different subset"
)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::standalone::{ServerOptions, TestServer, free_port};
use streamlab::redis::Connector;
use streamlab::redis::config::{RedisInputs, RedisSettings};

use crate::common;

pub const MASTER: &str = "mymaster";
const READY_WITHIN: Duration = Duration::from_secs(40);

/// Passwords of a set that asks for them: the data nodes' and the
/// sentinels' own.
#[derive(Debug, Clone, Copy)]
pub struct Auth {
    pub data: &'static str,
    pub sentinel: &'static str,
}

pub struct SentinelSet {
    /// The servers by the port they started on; `master` and `replica`
    /// are their roles at the start.
    pub master: TestServer,
    pub replica: TestServer,
    pub sentinels: Vec<Sentinel>,
    pub auth: Option<Auth>,
}

/// One sentinel process.
pub struct Sentinel {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
    pub log: PathBuf,
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> PathBuf {
    common::server_binary().unwrap_or_else(|| "redis-server".into())
}

impl SentinelSet {
    pub fn start() -> Self {
        Self::start_with(None, &[])
    }

    /// A set whose data nodes and sentinels want passwords; `extra` lines
    /// go into every sentinel's configuration (ACL users).
    pub fn start_with(auth: Option<Auth>, extra: &[&str]) -> Self {
        let started = Instant::now();
        let mut data_args = Vec::new();
        if let Some(a) = auth {
            data_args = vec![
                "--requirepass".to_owned(),
                a.data.to_owned(),
                "--masterauth".to_owned(),
                a.data.to_owned(),
            ];
        }
        let master = common::server_with(ServerOptions {
            extra: data_args.clone(),
            ..ServerOptions::default()
        });
        let mut replica_args = data_args;
        replica_args.extend([
            "--replicaof".to_owned(),
            "127.0.0.1".to_owned(),
            master.port.to_string(),
        ]);
        let replica = common::server_with(ServerOptions {
            extra: replica_args,
            ..ServerOptions::default()
        });
        let mut set = Self {
            master,
            replica,
            sentinels: Vec::new(),
            auth,
        };
        set.wait_replica_synced();
        for _ in 0..3 {
            set.sentinels.push(set.spawn_sentinel(extra));
        }
        set.wait_ready();
        eprintln!(
            "sentinel set: master {}, replica {}, sentinels {}; ready in {:.1} s",
            set.master.port,
            set.replica.port,
            set.list(),
            started.elapsed().as_secs_f64()
        );
        set
    }

    fn spawn_sentinel(&self, extra: &[&str]) -> Sentinel {
        let dir = tempfile::Builder::new()
            .prefix("streamlab-sentinel-")
            .tempdir()
            .expect("temp dir");
        let port = free_port().expect("a free port");
        let log = dir.path().join("sentinel.log");
        let mut conf = format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nlogfile {}\n\
             sentinel monitor {MASTER} 127.0.0.1 {} 2\n\
             sentinel down-after-milliseconds {MASTER} 1000\n\
             sentinel failover-timeout {MASTER} 5000\n",
            dir.path().display(),
            log.display(),
            self.master.port
        );
        if let Some(a) = self.auth {
            conf.push_str(&format!(
                "requirepass {}\nsentinel auth-pass {MASTER} {}\n",
                a.sentinel, a.data
            ));
        }
        for line in extra {
            conf.push_str(line);
            conf.push('\n');
        }
        let path = dir.path().join("sentinel.conf");
        std::fs::write(&path, conf).expect("write sentinel.conf");
        let child = Command::new(binary())
            .arg(&path)
            .arg("--sentinel")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a sentinel");
        Sentinel {
            port,
            child,
            _dir: dir,
            log,
        }
    }

    /// `127.0.0.1:a,127.0.0.1:b,127.0.0.1:c`
    pub fn list(&self) -> String {
        self.sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The flags that point streamlab at this set (passwords not
    /// included: give them in the environment, as a user would).
    pub fn args(&self) -> String {
        format!("--sentinel {} --sentinel-master {MASTER}", self.list())
    }

    /// The environment that gives streamlab this set's passwords.
    pub fn env(&self) -> Vec<(&'static str, &'static str)> {
        self.auth.map_or_else(Vec::new, |a| {
            vec![
                ("REDIS_PASSWORD", a.data),
                ("REDIS_SENTINEL_PASSWORD", a.sentinel),
            ]
        })
    }

    /// An in-test connector that finds the master through the sentinels.
    pub fn connector(&self) -> Connector {
        let settings = RedisSettings::from_inputs(&RedisInputs {
            sentinel: Some(self.list()),
            sentinel_master: Some(MASTER.into()),
            password: self.auth.map(|a| a.data.to_owned()),
            sentinel_password: self.auth.map(|a| a.sentinel.to_owned()),
            ..RedisInputs::default()
        })
        .expect("sentinel settings");
        Connector::new(settings).expect("connector")
    }

    /// A plain connection to one sentinel (or, with `data`, one server).
    fn client(&self, port: u16, data: bool) -> redis::RedisResult<redis::Connection> {
        let password = self.auth.map(|a| if data { a.data } else { a.sentinel });
        let url = match password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{port}"),
            None => format!("redis://127.0.0.1:{port}"),
        };
        redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(2))
    }

    /// Run one command on a sentinel.
    pub fn ask(&self, sentinel: usize, args: &[&str]) -> redis::RedisResult<redis::Value> {
        let mut c = redis::cmd(args[0]);
        c.arg(&args[1..]);
        c.query(&mut self.client(self.sentinels[sentinel].port, false)?)
    }

    /// Run one command on the data node at `port`.
    pub fn on_node(&self, port: u16, args: &[&str]) -> redis::RedisResult<redis::Value> {
        let mut c = redis::cmd(args[0]);
        c.arg(&args[1..]);
        c.query(&mut self.client(port, true)?)
    }

    /// The master's port as sentinel `i` names it (`None`: unreachable).
    pub fn named_by(&self, i: usize) -> Option<u16> {
        let v = self
            .ask(i, &["SENTINEL", "get-master-addr-by-name", MASTER])
            .ok()?;
        let items = streamlab::redis::reply::items(&v)?;
        streamlab::redis::reply::text(items.get(1)?)?.parse().ok()
    }

    /// The role (`master`, `slave`) of the server at `port`.
    pub fn role(&self, port: u16) -> Option<String> {
        let v = self.on_node(port, &["ROLE"]).ok()?;
        streamlab::redis::reply::items(&v)?
            .first()
            .and_then(streamlab::redis::reply::text)
    }

    fn wait_replica_synced(&self) {
        wait("the replica to sync", || {
            let v = self.on_node(self.replica.port, &["INFO", "replication"]);
            v.ok()
                .and_then(|v| streamlab::redis::reply::text(&v))
                .is_some_and(|t| t.contains("master_link_status:up"))
        });
    }

    /// Every sentinel knows the replica and the two others.
    fn wait_ready(&self) {
        let count = |i: usize, what: &str| -> usize {
            self.ask(i, &["SENTINEL", what, MASTER])
                .ok()
                .and_then(|v| streamlab::redis::reply::items(&v).map(<[redis::Value]>::len))
                .unwrap_or(0)
        };
        wait("every sentinel to know the replica and the others", || {
            (0..self.sentinels.len())
                .all(|i| count(i, "replicas") == 1 && count(i, "sentinels") == 2)
        });
    }

    /// `SENTINEL FAILOVER` (retried while the sentinels are not ready for
    /// one), then wait until every sentinel names the replica and it is a
    /// master. Returns the new master's port.
    pub fn failover(&self) -> u16 {
        let to = self.replica.port;
        wait("SENTINEL FAILOVER to be accepted", || {
            self.ask(0, &["SENTINEL", "FAILOVER", MASTER]).is_ok()
        });
        self.wait_master_is(to);
        to
    }

    /// kill -9 of the master; the sentinels promote the replica. Returns
    /// the new master's port.
    pub fn kill_master(&mut self) -> u16 {
        self.master.kill();
        let to = self.replica.port;
        self.wait_master_is(to);
        to
    }

    pub fn wait_master_is(&self, port: u16) {
        wait(&format!("every sentinel to name {port} the master"), || {
            (0..self.sentinels.len()).all(|i| self.named_by(i) == Some(port))
                && self.role(port).as_deref() == Some("master")
        });
    }
}

/// Poll `done` every 50 ms for up to [`READY_WITHIN`]; panic naming `what`.
fn wait(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + READY_WITHIN;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out after {READY_WITHIN:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
