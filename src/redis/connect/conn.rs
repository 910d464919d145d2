//! [`Conn`]: one role's connection, reconnecting with capped backoff, and
//! on a cluster routing each request to the node that owns its key.
//!
//! A `Conn` holds at most one socket per node: a blocking reader that reads
//! one stream keeps exactly one socket, to that stream's node, of its own.

use std::sync::Arc;
use std::time::Duration;

use ::redis::{Cmd, Pipeline, Value};

use super::cluster_map::{Mode, SEED};
use super::link::{Link, Replayed, has_error};
use super::redirect::{Hops, Redirect};
use super::route::{self, Route};
use super::slot_map::{NodeId, SlotMap};
use super::{Connector, retry_delay};
use crate::redis::errors::{RedisFailure, classify};
use crate::redis::read_only;
use crate::redis::topology::NodeAddr;

/// One role's connection: dials lazily, drops a socket after a connection
/// error so the next call reconnects, and tracks the backoff between tries.
pub struct Conn {
    pub(super) connector: Connector,
    role: String,
    pub(super) response_timeout: Duration,
    /// One socket per node this role has talked to (one, off a cluster).
    pub(super) links: Vec<(NodeId, Link)>,
    /// The slot map this connection routes by, and the epoch it was read at.
    pub(super) map: Arc<SlotMap>,
    pub(super) epoch: u64,
    /// The node of the last answered request: keyless commands go there.
    pub(super) last_node: Option<NodeId>,
    /// Reconnect attempts since the last successful command.
    attempts: u32,
    /// Behind Sentinel: the generation of the master the seed's socket
    /// was dialled to (a newer one means a failover: redial).
    seed_generation: u64,
    /// Commands sent, for the monitor's own-cost figure.
    pub commands_sent: u64,
    /// Whether the last request got as far as a socket: if it failed, it
    /// may still have run (its reply was lost).
    reached_socket: bool,
}

impl Conn {
    pub(super) fn new(connector: Connector, role: String, response_timeout: Duration) -> Self {
        let map = connector.cluster().map();
        Self {
            connector,
            role,
            response_timeout,
            links: Vec::new(),
            map,
            epoch: u64::MAX,
            last_node: None,
            attempts: 0,
            seed_generation: 0,
            commands_sent: 0,
            reached_socket: false,
        }
    }

    /// Whether the last request reached a socket. One that failed before
    /// (no connection, the sentinels naming nobody) did not run; one that
    /// failed after may have (a socket closed before the reply came).
    pub fn request_reached_socket(&self) -> bool {
        self.reached_socket
    }

    pub fn role(&self) -> &str {
        &self.role
    }

    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    /// Open a socket now (useful to fail fast at start-up); the first
    /// connection of a connector also finds out whether it is a cluster.
    pub async fn connect(&mut self) -> Result<(), RedisFailure> {
        self.ensure_mode().await?;
        if self.links.is_empty() {
            self.link_index(SEED).await?;
        }
        Ok(())
    }

    /// Open the socket to the node that serves `key` now (a bench dials
    /// before its clock starts).
    pub async fn connect_for(&mut self, key: &str) -> Result<(), RedisFailure> {
        let node = self
            .node_for(Route::Slot(crate::redis::topology::key_slot(key)))
            .await?;
        self.link_index(node).await.map(|_| ())
    }

    /// Whether `keys` can be changed together in one MULTI/EXEC: always on
    /// a single server; on a cluster only when they share a slot (a common
    /// hash tag such as `{jobs}` and `{jobs}:dead`).
    pub async fn one_slot(&mut self, keys: &[&str]) -> Result<bool, RedisFailure> {
        self.ensure_mode().await?;
        if self.connector.cluster().mode() != Mode::Cluster {
            return Ok(true);
        }
        let mut slots = keys.iter().map(|k| crate::redis::topology::key_slot(k));
        let first = slots.next();
        Ok(slots.all(|s| Some(s) == first))
    }

    /// Throw every socket away (after a timeout the caller imposed), so the
    /// next call dials fresh ones.
    pub fn disconnect(&mut self) {
        self.links.clear();
        self.last_node = None;
    }

    /// The delay to wait before the next reconnect attempt; doubles each
    /// call up to [`super::BACKOFF_MAX`] and resets after a successful command.
    pub fn next_backoff(&mut self) -> Duration {
        self.attempts = self.attempts.saturating_add(1);
        retry_delay(self.attempts)
    }

    /// Run one command, at the node that serves its key. `writes` names
    /// whether it modifies data, so a read-only connector can refuse it
    /// before it reaches the server.
    pub async fn run(
        &mut self,
        cmd: &Cmd,
        name: &'static str,
        writes: bool,
    ) -> Result<Value, RedisFailure> {
        self.reached_socket = false;
        let result = self.run_routed(cmd, name, writes).await;
        result.map_err(|e| e.naming_key(route::keys(cmd).next()))
    }

    async fn run_routed(
        &mut self,
        cmd: &Cmd,
        name: &'static str,
        writes: bool,
    ) -> Result<Value, RedisFailure> {
        self.guard(name, writes, || read_only::is_read(cmd))?;
        // Routed only once the mode is known: a fresh connector's first
        // request must not be judged by cluster rules on a single server.
        self.ensure_mode().await?;
        let route = self.route(|| route::of_command(cmd))?;
        self.commands_sent += 1;
        let mut node = self.node_for(route).await?;
        let (mut asking, mut hops) = (false, Hops::default());
        loop {
            let i = self.link_index(node).await?;
            let timeout = self.response_timeout;
            let link = &mut self.links[i].1;
            let sent = if asking {
                link.commands_of(&[cmd], true, timeout)
                    .await
                    .map(|mut v| v.pop().unwrap_or(Value::Nil))
            } else {
                link.command(cmd, timeout).await
            };
            let reply = match sent {
                Ok(v) if !has_error(&v) => return self.settle(node, Ok(v)),
                Ok(v) => v,
                Err(e) => return self.settle(node, Err(e)),
            };
            if let Value::ServerError(e) = &reply
                && let Some(redirect) = Redirect::of(e, &self.connector.cluster().addr(node))
                && let Some(next) = self
                    .follow(redirect, route, route::keys(cmd).next(), &mut hops)
                    .await?
            {
                (node, asking) = next;
                continue;
            }
            return self.settle(node, cmd.query_async(&mut Replayed(vec![reply])).await);
        }
    }

    /// Run a pipeline (one round trip) or a MULTI/EXEC, at the node that
    /// serves its keys; refused if they span slots. `commands` is how many
    /// it holds.
    pub async fn run_pipeline(
        &mut self,
        pipe: &Pipeline,
        name: &'static str,
        writes: bool,
        commands: usize,
    ) -> Result<Vec<Value>, RedisFailure> {
        self.reached_socket = false;
        self.guard(name, writes, || read_only::pipeline_is_read(pipe))?;
        self.ensure_mode().await?;
        let route = self.route(|| route::of_pipeline(pipe))?;
        self.commands_sent += commands as u64;
        let result = if pipe.is_transaction() {
            self.transaction(pipe, route).await
        } else {
            self.pipeline(pipe, route).await
        };
        result.map_err(|e| e.naming_key(super::pipeline::first_key(pipe)))
    }

    /// Run one command at a named node, without following redirects: what
    /// is asked of every node in turn (SCAN, INFO) or of one on purpose.
    pub async fn run_on(
        &mut self,
        node: &NodeAddr,
        cmd: &Cmd,
        name: &'static str,
        writes: bool,
    ) -> Result<Value, RedisFailure> {
        self.guard(name, writes, || read_only::is_read(cmd))?;
        self.ensure_mode().await?;
        self.commands_sent += 1;
        let node = self.connector.cluster().intern(node);
        let i = self.link_index(node).await?;
        let timeout = self.response_timeout;
        let result = match self.links[i].1.command(cmd, timeout).await {
            Ok(v) if !has_error(&v) => Ok(v),
            Ok(v) => cmd.query_async(&mut Replayed(vec![v])).await,
            Err(e) => Err(e),
        };
        self.settle(node, result)
    }

    /// Where a request goes: computed only once the server is known to be
    /// a cluster (or not yet known), so a single server pays nothing.
    fn route(
        &self,
        of: impl FnOnce() -> Result<Route, RedisFailure>,
    ) -> Result<Route, RedisFailure> {
        match self.connector.cluster().mode() {
            Mode::Standalone => Ok(Route::Any),
            _ => of(),
        }
    }

    /// The index of this connection's socket to `node`, dialled if needed.
    pub(super) async fn link_index(&mut self, node: NodeId) -> Result<usize, RedisFailure> {
        if let Some(i) = self.links.iter().position(|(n, _)| *n == node) {
            // A request abandoned half-way (its future dropped by a caller's
            // timeout) leaves replies in flight: never reuse that socket.
            // Behind Sentinel, one to a master another connection saw
            // replaced is dropped too.
            if !self.links[i].1.is_poisoned() && !self.seed_replaced(node) {
                self.reached_socket = true;
                return Ok(i);
            }
            self.links.swap_remove(i);
        }
        let addr = self.address_to_dial(node).await?;
        let mut link = self
            .connector
            .dial(&self.role, self.response_timeout, &addr)
            .await?;
        if node == SEED
            && let Some(sentinels) = self.connector.sentinels()
        {
            sentinels
                .confirm_master(&mut link, self.response_timeout, &addr)
                .await?;
            self.seed_generation = sentinels.generation();
        }
        self.links.push((node, link));
        self.reached_socket = true;
        Ok(self.links.len() - 1)
    }

    /// Where `node` is: behind Sentinel the seed is asked of the sentinels
    /// on every (re)connect; any other node is where the map says.
    async fn address_to_dial(&self, node: NodeId) -> Result<NodeAddr, RedisFailure> {
        match self.connector.sentinels() {
            Some(sentinels) if node == SEED => {
                let addr = sentinels.resolve().await?;
                super::sentinel_watch::start(sentinels);
                self.connector.cluster().set_seed(&addr);
                Ok(addr)
            }
            _ => Ok(self.connector.cluster().addr(node)),
        }
    }

    /// Whether the seed's socket goes to a master the sentinels have
    /// since replaced.
    fn seed_replaced(&self, node: NodeId) -> bool {
        node == SEED
            && self
                .connector
                .sentinels()
                .is_some_and(|s| s.generation() != self.seed_generation)
    }

    /// Behind Sentinel: forget the master's socket, so the next request
    /// asks the sentinels again.
    pub(super) fn drop_seed(&mut self) {
        self.links.retain(|(n, _)| *n != SEED);
        if self.last_node == Some(SEED) {
            self.last_node = None;
        }
    }

    /// A read-only connector refuses a command marked as writing, and any
    /// command not on the read-only list (see [`read_only`]), unsent. The
    /// list is only consulted on read-only connectors (off the hot paths).
    fn guard(
        &self,
        name: &'static str,
        writes: bool,
        reads: impl FnOnce() -> bool,
    ) -> Result<(), RedisFailure> {
        if self.connector.is_read_only() && (writes || !reads()) {
            return Err(RedisFailure::ReadOnlyMode(name));
        }
        Ok(())
    }

    pub(super) fn settle<T>(
        &mut self,
        node: NodeId,
        result: Result<T, ::redis::RedisError>,
    ) -> Result<T, RedisFailure> {
        match result {
            Ok(v) => {
                self.attempts = 0;
                self.last_node = Some(node);
                Ok(v)
            }
            Err(e) => {
                let failure = classify(&e);
                if matches!(failure, RedisFailure::Connection(_)) {
                    // After a client-side timeout the server may still answer
                    // on this socket later; never reuse it. On a cluster the
                    // node may be gone for good: re-read the map.
                    self.links.retain(|(n, _)| *n != node);
                    if self.last_node == Some(node) {
                        self.last_node = None;
                    }
                    if self.connector.cluster().mode() == Mode::Cluster {
                        self.connector.cluster().mark_stale();
                    }
                }
                Err(failure)
            }
        }
    }
}
