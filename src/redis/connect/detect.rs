//! Finding out, once per connector, whether the server is a cluster, and
//! reading its slot map (CLUSTER SLOTS) into the shared map.

use ::redis::{Value, cmd};

use super::Conn;
use super::cluster_map::{Mode, SEED};
use super::slot_map::{NodeId, parse_cluster_slots};
use crate::redis::errors::RedisFailure;
use crate::redis::reply::text;
use crate::redis::topology::Master;

/// INFO's `cluster_enabled:1`, or HELLO's `mode` `cluster`.
fn says_cluster(v: &Value) -> bool {
    if let Some(info) = text(v) {
        return info.contains("cluster_enabled:1");
    }
    let pairs: Vec<(String, String)> = match v {
        Value::Array(items) => items
            .chunks(2)
            .filter_map(|kv| Some((text(kv.first()?)?, text(kv.get(1)?)?)))
            .collect(),
        Value::Map(items) => items
            .iter()
            .filter_map(|(k, v)| Some((text(k)?, text(v)?)))
            .collect(),
        _ => Vec::new(),
    };
    pairs.iter().any(|(k, v)| k == "mode" && v == "cluster")
}

impl Conn {
    /// Find out once per connector whether the server is a cluster:
    /// `cluster_enabled:1` in INFO, or for a user not allowed INFO, `mode`
    /// `cluster` in HELLO (a @connection command). A server that answers
    /// neither is taken for a single node until a MOVED says otherwise.
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
            let link = &mut self.links[i].1;
            let info = link.command(cmd("INFO").arg("cluster"), timeout).await;
            let reply = match info {
                Ok(Value::ServerError(_)) => link.command(&cmd("HELLO"), timeout).await,
                other => other,
            };
            match reply {
                Ok(v) if says_cluster(&v) => Mode::Cluster,
                Ok(_) => Mode::Standalone,
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
    pub(super) async fn refresh(&mut self) -> bool {
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
            match reply {
                Ok(Value::ServerError(e)) => {
                    tracing::warn!(node = %asked, error = %e, "CLUSTER SLOTS refused");
                    return false;
                }
                Ok(v) => match parse_cluster_slots(&v, &asked) {
                    Ok(ranges) if !ranges.is_empty() => {
                        self.connector.cluster().install(&ranges);
                        return true;
                    }
                    _ => continue,
                },
                Err(e) => {
                    let _ = self.settle::<()>(node, Err(e));
                }
            }
        }
        false
    }

    /// Every master with its slots, re-reading the map first if it is stale
    /// or empty. A single server is one master owning every slot.
    pub async fn masters(&mut self) -> Result<Vec<Master>, RedisFailure> {
        self.ensure_mode().await?;
        let cluster = self.connector.cluster();
        if cluster.mode() == Mode::Cluster
            && (cluster.claim_refresh() || cluster.masters().is_empty())
        {
            self.refresh().await;
        }
        let masters = self.connector.cluster().masters();
        if masters.is_empty() {
            return Err(RedisFailure::Server(
                "cannot read the cluster's slot map (CLUSTER SLOTS refused or no node answered): the user needs +cluster|slots".into(),
            ));
        }
        Ok(masters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_is_recognised_in_info_and_in_hello() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        assert!(says_cluster(&bulk("# Cluster\r\ncluster_enabled:1\r\n")));
        assert!(!says_cluster(&bulk("# Cluster\r\ncluster_enabled:0\r\n")));
        let hello = |mode: &str| {
            Value::Array(vec![
                bulk("server"),
                bulk("redis"),
                bulk("mode"),
                bulk(mode),
            ])
        };
        assert!(says_cluster(&hello("cluster")));
        assert!(!says_cluster(&hello("standalone")));
        assert!(says_cluster(&Value::Map(vec![(
            bulk("mode"),
            bulk("cluster")
        )])));
    }
}
