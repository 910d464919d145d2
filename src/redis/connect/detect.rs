//! Finding out, once per connector, whether the server is a cluster, and
//! reading its slot map (CLUSTER SLOTS) into the shared map.
//!
//! The question is the server probe's own (`redis/server.rs`): one INFO
//! (or HELLO) names the server, its version and its mode, so the answer
//! is kept on the connector and the probe asks nothing more of it.

use ::redis::{Value, cmd};

use super::Conn;
use super::cluster_map::{Mode, SEED};
use super::link::Link;
use super::slot_map::{NodeId, parse_cluster_slots};
use crate::redis::errors::RedisFailure;
use crate::redis::reply::text;
use crate::redis::server::{
    Identity, ServerMode, identity_from_hello, identity_from_info, info_fields,
};
use crate::redis::topology::Master;

/// What a re-read of the slot map came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refresh {
    Installed,
    /// A node refused CLUSTER SLOTS (an ACL without it): why.
    Refused(String),
    /// No node answered, or none with a usable map.
    NoAnswer,
}

/// Who the server is, from INFO (default sections: server and cluster), or
/// for a user not allowed INFO from HELLO (a @connection command); `None`
/// when neither names a version.
async fn ask_identity(
    link: &mut Link,
    timeout: std::time::Duration,
) -> ::redis::RedisResult<Option<Identity>> {
    let info = link.command(&cmd("INFO"), timeout).await;
    let refused =
        matches!(&info, Ok(Value::ServerError(_))) || matches!(&info, Err(e) if e.code().is_some());
    if refused {
        let hello = link.command(&cmd("HELLO"), timeout).await?;
        return Ok(identity_from_hello(&hello));
    }
    Ok(identity_from_info(&info_fields(
        &text(&info?).unwrap_or_default(),
    )))
}

impl Conn {
    /// Find out once per connector whether the server is a cluster, asking
    /// who it is (see [`ask_identity`]; kept for the probe). A server that
    /// answers neither is taken for a single node until a MOVED says
    /// otherwise.
    pub(super) async fn ensure_mode(&mut self) -> Result<(), RedisFailure> {
        let cluster = self.connector.cluster();
        if cluster.mode() != Mode::Unknown {
            return Ok(());
        }
        let mode = if cluster.forced() == Some(true) {
            Mode::Cluster
        } else {
            let i = self.link_index(SEED).await?;
            let timeout = self.response_timeout;
            match ask_identity(&mut self.links[i].1, timeout).await {
                Ok(Some(identity)) => {
                    let mode = match identity.mode {
                        ServerMode::Cluster => Mode::Cluster,
                        ServerMode::Standalone => Mode::Standalone,
                    };
                    self.connector.learn_identity(identity);
                    mode
                }
                Ok(None) => Mode::Standalone,
                Err(e) if e.code().is_some() => Mode::Standalone,
                Err(e) => return self.settle(SEED, Err(e)),
            }
        };
        let cluster = self.connector.cluster();
        if mode == Mode::Cluster && cluster.mode() != Mode::Cluster {
            cluster.set_mode(Mode::Cluster);
            cluster.mark_stale();
            self.refresh().await;
        } else if cluster.mode() == Mode::Unknown {
            cluster.set_mode(mode);
        }
        Ok(())
    }

    /// Re-read the slot map (CLUSTER SLOTS) from the first node that
    /// answers: those this connection already talks to, then the known
    /// masters, then the URL's node. Best effort: on failure the old map
    /// stays and MOVED replies keep correcting it.
    pub(super) async fn refresh(&mut self) -> Refresh {
        let cluster = self.connector.cluster();
        let mut candidates: Vec<NodeId> = self.links.iter().map(|(n, _)| *n).collect();
        let map = cluster.map();
        let known = map.masters().into_iter().map(|m| m.0);
        for node in known.chain([SEED]) {
            if !candidates.contains(&node) {
                candidates.push(node);
            }
        }
        for node in candidates.into_iter().take(6) {
            let Ok(i) = self.link_index(node).await else {
                continue;
            };
            let timeout = self.response_timeout;
            let asked = self.connector.cluster().addr(node);
            let reply = self.links[i]
                .1
                .command(cmd("CLUSTER").arg("SLOTS"), timeout)
                .await;
            let refused = match reply {
                Ok(Value::ServerError(e)) => e.to_string(),
                Err(e) if e.code().is_some() => e.to_string(),
                Ok(v) => match parse_cluster_slots(&v, &asked) {
                    Ok(ranges) if !ranges.is_empty() => {
                        self.connector.cluster().install(&ranges);
                        return Refresh::Installed;
                    }
                    _ => continue,
                },
                Err(e) => {
                    let _ = self.settle::<()>(node, Err(e));
                    continue;
                }
            };
            // Every node has the same ACL: asking the others is no use.
            tracing::warn!(node = %asked, error = %refused, "CLUSTER SLOTS refused");
            return Refresh::Refused(refused);
        }
        Refresh::NoAnswer
    }

    /// Every master with its slots, re-reading the map first if it is stale
    /// or empty. A single server is one master owning every slot.
    pub async fn masters(&mut self) -> Result<Vec<Master>, RedisFailure> {
        self.ensure_mode().await?;
        let cluster = self.connector.cluster();
        let mut refreshed = None;
        if cluster.mode() == Mode::Cluster
            && (cluster.claim_refresh() || cluster.masters().is_empty())
        {
            refreshed = Some(self.refresh().await);
        }
        let masters = self.connector.cluster().masters();
        if masters.is_empty() {
            return Err(match refreshed {
                // No command of @read, @connection or INFO names the nodes.
                // The fix first: a narrow header cuts the end.
                Some(Refresh::Refused(why)) => RedisFailure::Auth(format!(
                    "the user needs +cluster|slots (besides +@read +@connection +info for a read-only one): streamlab reads the cluster's masters with CLUSTER SLOTS (the overview, info, partitions), and it is refused ({why})"
                )),
                _ => RedisFailure::Connection(
                    "no node of the cluster answered CLUSTER SLOTS, so its masters are unknown"
                        .into(),
                ),
            });
        }
        Ok(masters)
    }
}
