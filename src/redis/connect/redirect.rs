//! A cluster changing under a [`Conn`]: where a request goes now, and
//! following what the nodes answer while slots move or masters fail over
//! (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, LOADING, UNBLOCKED, READONLY). Each of these means the
//! command did not run, so sending it again is safe; a bounded number of
//! times, then the caller's own backoff takes over.

use std::time::Duration;

use ::redis::{RedisError, ServerError};

use super::Conn;
use super::cluster_map::{Mode, SEED};
use super::route::Route;
use super::slot_map::NodeId;
use crate::redis::errors::RedisFailure;
use crate::redis::topology::{NodeAddr, SLOT_COUNT};

/// Redirects and waits followed for one request before giving up.
const MAX_HOPS: u32 = 10;
/// First wait after TRYAGAIN / CLUSTERDOWN / LOADING; doubles, capped.
const WAIT_MIN: Duration = Duration::from_millis(20);
const WAIT_MAX: Duration = Duration::from_millis(640);

/// What a node said instead of running the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Redirect {
    /// The slot lives at `to` now.
    Moved { slot: u16, to: NodeAddr },
    /// The slot is being migrated to `to`: ask there, this once.
    Ask { to: NodeAddr },
    /// Busy (a multi-key command mid-migration, a failover, a restart):
    /// wait and send again.
    Wait,
    /// The node is no longer the slot's master (a blocked read woken by a
    /// migration or failover, a write at a demoted master): re-read the map.
    Reroute,
}

impl Redirect {
    /// `from` is the node that answered (an address without a host in
    /// MOVED/ASK means that node's host).
    pub(super) fn of(e: &ServerError, from: &NodeAddr) -> Option<Self> {
        let target = || {
            let (slot, addr) = e.details()?.trim().split_once(' ')?;
            let addr = match addr.strip_prefix(':') {
                Some(port) => NodeAddr::new(from.host.clone(), port.parse().ok()?),
                None => NodeAddr::parse(addr)?,
            };
            // A slot past the map (a broken proxy) would index past it.
            let slot = slot.parse().ok().filter(|s| *s < SLOT_COUNT)?;
            Some((slot, addr))
        };
        match e.code() {
            "MOVED" => target().map(|(slot, to)| Self::Moved { slot, to }),
            "ASK" => target().map(|(_, to)| Self::Ask { to }),
            "TRYAGAIN" | "CLUSTERDOWN" | "LOADING" | "MASTERDOWN" => Some(Self::Wait),
            "UNBLOCKED" | "READONLY" => Some(Self::Reroute),
            _ => None,
        }
    }

    /// The redirect inside a failed transaction (a queued command's error).
    pub(super) fn of_error(e: &RedisError, from: &NodeAddr) -> Option<Self> {
        let errors = e.clone().into_server_errors()?;
        errors.first().and_then(|(_, e)| Self::of(e, from))
    }
}

/// Redirects followed so far for one request.
#[derive(Debug, Default)]
pub(super) struct Hops(u32);

impl Conn {
    /// Follow `redirect`: the node (and whether to send ASKING) to try
    /// next, or `None` to hand the error to the caller.
    pub(super) async fn follow(
        &mut self,
        redirect: Redirect,
        route: Route,
        key: Option<&[u8]>,
        hops: &mut Hops,
    ) -> Result<Option<(NodeId, bool)>, RedisFailure> {
        hops.0 += 1;
        if self.connector.sentinels().is_some() && redirect == Redirect::Reroute {
            return self.follow_sentinels(hops).await.map(Some);
        }
        if hops.0 > MAX_HOPS || !self.on_a_cluster(&redirect, key)? {
            return Ok(None);
        }
        let cluster = self.connector.cluster();
        tracing::debug!(role = self.role(), ?redirect, "cluster redirect");
        match redirect {
            Redirect::Moved { slot, to } => {
                cluster.learn(slot, &to);
                // Nodes learn a slot's new owner one at a time (SETSLOT
                // NODE node by node, a failover's new epoch): for a moment
                // two of them send a request back and forth. Follow at
                // once the first time, then give them time to agree
                // instead of spending every hop in a millisecond.
                if hops.0 > 1 {
                    tokio::time::sleep(WAIT_MIN.saturating_mul(hops.0)).await;
                }
                let node = cluster.intern(&to);
                Ok(Some((self.node_for(route).await.unwrap_or(node), false)))
            }
            Redirect::Ask { to } => Ok(Some((cluster.intern(&to), true))),
            Redirect::Wait => {
                cluster.mark_stale();
                let wait = WAIT_MIN
                    .saturating_mul(1 << (hops.0 - 1).min(8))
                    .min(WAIT_MAX);
                tokio::time::sleep(wait).await;
                Ok(Some((self.node_for(route).await?, false)))
            }
            Redirect::Reroute => {
                cluster.mark_stale();
                // A failover or migration takes a moment to settle on every
                // node: do not spin on a map that has not changed yet.
                if hops.0 > 1 {
                    tokio::time::sleep(WAIT_MIN.saturating_mul(hops.0)).await;
                }
                Ok(Some((self.node_for(route).await?, false)))
            }
        }
    }

    /// Behind Sentinel, READONLY (a write at a demoted master) or
    /// UNBLOCKED (a blocked read there) means the sentinels are failing
    /// the master over: the command did not run. Drop the socket, wait a
    /// moment and send it again where the sentinels say; after the hops,
    /// a connection error, so the caller backs off and retries.
    async fn follow_sentinels(&mut self, hops: &Hops) -> Result<(NodeId, bool), RedisFailure> {
        let was = self.connector.cluster().addr(SEED);
        self.drop_seed();
        if hops.0 > MAX_HOPS {
            let name = self
                .connector
                .sentinels()
                .map_or("", |s| s.master_name())
                .to_owned();
            return Err(RedisFailure::Connection(format!(
                "{was} still refuses as a replica (READONLY or UNBLOCKED): the sentinels are failing '{name}' over"
            )));
        }
        tokio::time::sleep(WAIT_MIN.saturating_mul(hops.0)).await;
        Ok((SEED, false))
    }

    /// Whether `redirect` is one to follow: always on a cluster. A MOVED
    /// from a server taken for a single node (its INFO was refused) means
    /// it is a cluster after all, unless the user said it is not (an
    /// error naming the key and the fix). Anything else is not ours to
    /// retry off a cluster.
    fn on_a_cluster(&self, redirect: &Redirect, key: Option<&[u8]>) -> Result<bool, RedisFailure> {
        let cluster = self.connector.cluster();
        if cluster.mode() == Mode::Cluster {
            return Ok(true);
        }
        let (Redirect::Moved { to, .. } | Redirect::Ask { to }) = redirect else {
            return Ok(false);
        };
        if cluster.forced() == Some(false) {
            let key = key.map_or_else(
                || "this key".to_owned(),
                |k| format!("key '{}'", String::from_utf8_lossy(k)),
            );
            return Err(RedisFailure::WrongNode(format!(
                "REDIS_CLUSTER=false, but {} is a Redis Cluster node and {key} is served by {to}: unset REDIS_CLUSTER so streamlab routes every key (other keys may live on other nodes)",
                cluster.addr(SEED)
            )));
        }
        cluster.set_mode(Mode::Cluster);
        Ok(true)
    }

    /// The node a request should go to now.
    pub(super) async fn node_for(&mut self, route: Route) -> Result<NodeId, RedisFailure> {
        self.ensure_mode().await?;
        let cluster = self.connector.cluster();
        if cluster.mode() != Mode::Cluster {
            return Ok(SEED);
        }
        if cluster.claim_refresh() {
            self.refresh().await;
        }
        let cluster = self.connector.cluster();
        let epoch = cluster.epoch();
        if epoch != self.epoch {
            self.map = cluster.map();
            self.epoch = epoch;
        }
        let owner = match route {
            Route::Slot(slot) => self.map.owner(slot),
            Route::Any => None,
        };
        Ok(owner
            .or(self.last_node)
            .or_else(|| self.links.first().map(|(n, _)| *n))
            .or_else(|| self.map.any_master())
            .unwrap_or(SEED))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::redis::Value;

    fn server_error(line: &str) -> ServerError {
        match ::redis::parse_redis_value(line.as_bytes()).expect("an error reply parses") {
            Value::ServerError(e) => e,
            other => panic!("not an error: {other:?}"),
        }
    }

    #[test]
    fn redirects_are_read_from_the_error_replies() {
        let from = NodeAddr::new("10.0.0.1", 7000);
        let moved = server_error("-MOVED 3999 127.0.0.1:6381\r\n");
        assert_eq!(
            Redirect::of(&moved, &from),
            Some(Redirect::Moved {
                slot: 3999,
                to: NodeAddr::new("127.0.0.1", 6381)
            })
        );
        // No host: the node that answered, another port.
        let ask = server_error("-ASK 3999 :6382\r\n");
        assert_eq!(
            Redirect::of(&ask, &from),
            Some(Redirect::Ask {
                to: NodeAddr::new("10.0.0.1", 6382)
            })
        );
        for wait in [
            "-TRYAGAIN Multiple keys request during rehashing of slot\r\n",
            "-CLUSTERDOWN The cluster is down\r\n",
            "-LOADING Redis is loading the dataset in memory\r\n",
        ] {
            assert_eq!(
                Redirect::of(&server_error(wait), &from),
                Some(Redirect::Wait)
            );
        }
        for reroute in [
            "-UNBLOCKED the stream key no longer exists\r\n",
            "-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n",
            "-READONLY You can't write against a read only replica.\r\n",
        ] {
            assert_eq!(
                Redirect::of(&server_error(reroute), &from),
                Some(Redirect::Reroute)
            );
        }
        // A slot no cluster has is no redirect to follow.
        let past = server_error("-MOVED 16384 127.0.0.1:6381\r\n");
        assert_eq!(Redirect::of(&past, &from), None);
        let other = server_error("-NOGROUP No such key\r\n");
        assert_eq!(Redirect::of(&other, &from), None);
        let aborted: RedisError = moved.into();
        assert!(matches!(
            Redirect::of_error(&aborted, &from),
            Some(Redirect::Moved { .. })
        ));
    }
}
