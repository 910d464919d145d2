//! Walking the keyspace with SCAN, which is per node: on a cluster every
//! master holds its own keys and its own cursor, so a walk visits each
//! master in turn, one bounded SCAN call per step. A single server is one
//! master, so the same walk works there.

use ::redis::{Value, cmd};

use crate::redis::connect::Conn;
use crate::redis::errors::RedisFailure;
use crate::redis::reply::{bad, items, text};
use crate::redis::topology::NodeAddr;

/// What one SCAN asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanFilter {
    /// MATCH pattern, if any.
    pub pattern: Option<String>,
    /// TYPE, e.g. `stream` (Redis 6.0+).
    pub key_type: Option<String>,
    /// COUNT: the work the server does per call, not a result size.
    pub count: usize,
}

/// One SCAN call at `node` from `cursor`: the next cursor (0 when this
/// node is done) and the keys it returned.
pub async fn scan_node(
    conn: &mut Conn,
    node: &NodeAddr,
    cursor: u64,
    filter: &ScanFilter,
) -> Result<(u64, Vec<String>), RedisFailure> {
    let mut c = cmd("SCAN");
    c.arg(cursor);
    if let Some(p) = &filter.pattern {
        c.arg("MATCH").arg(p);
    }
    c.arg("COUNT").arg(filter.count.max(1));
    if let Some(t) = &filter.key_type {
        c.arg("TYPE").arg(t);
    }
    let v = conn.run_on(node, &c, "SCAN", false).await?;
    parse_scan(&v)
}

fn parse_scan(v: &Value) -> Result<(u64, Vec<String>), RedisFailure> {
    let [cursor, keys] = items(v).ok_or_else(|| bad("SCAN", v))? else {
        return Err(bad("SCAN", v));
    };
    let cursor = text(cursor)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad("SCAN cursor", cursor))?;
    let keys = items(keys)
        .ok_or_else(|| bad("SCAN keys", keys))?
        .iter()
        .filter_map(text)
        .collect();
    Ok((cursor, keys))
}

/// A walk over every master's keys, one SCAN call per [`KeyScan::step`],
/// so a caller bounds its cost per poll. Keys may repeat (SCAN's own
/// guarantee), and a key added or moved during the walk may be missed.
#[derive(Debug, Clone)]
pub struct KeyScan {
    nodes: Vec<NodeAddr>,
    at: usize,
    cursor: u64,
}

impl KeyScan {
    /// A walk over the masters this connection's connector knows now.
    pub async fn new(conn: &mut Conn) -> Result<Self, RedisFailure> {
        let masters = conn.masters().await?;
        Ok(Self::over(masters.into_iter().map(|m| m.addr).collect()))
    }

    /// A walk over `nodes` (masters, in order).
    pub fn over(nodes: Vec<NodeAddr>) -> Self {
        Self {
            nodes,
            at: 0,
            cursor: 0,
        }
    }

    /// Whether every node has been walked to its end.
    pub fn done(&self) -> bool {
        self.at >= self.nodes.len()
    }

    /// The node the next step asks.
    pub fn node(&self) -> Option<&NodeAddr> {
        self.nodes.get(self.at)
    }

    /// One SCAN call; empty once [`done`](Self::done).
    pub async fn step(
        &mut self,
        conn: &mut Conn,
        filter: &ScanFilter,
    ) -> Result<Vec<String>, RedisFailure> {
        let Some(node) = self.nodes.get(self.at).cloned() else {
            return Ok(Vec::new());
        };
        let (next, keys) = scan_node(conn, &node, self.cursor, filter).await?;
        self.cursor = next;
        if next == 0 {
            self.at += 1;
        }
        Ok(keys)
    }

    /// Walk to the end, collecting every key (tests and small keyspaces).
    pub async fn all(
        &mut self,
        conn: &mut Conn,
        filter: &ScanFilter,
    ) -> Result<Vec<String>, RedisFailure> {
        let mut keys = Vec::new();
        while !self.done() {
            keys.extend(self.step(conn, filter).await?);
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_replies_decode() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let v = Value::Array(vec![bulk("17"), Value::Array(vec![bulk("a"), bulk("b")])]);
        assert_eq!(parse_scan(&v).unwrap(), (17, vec!["a".into(), "b".into()]));
        assert!(parse_scan(&Value::Array(vec![bulk("x"), Value::Array(vec![])])).is_err());
        assert!(parse_scan(&Value::Nil).is_err());
    }
}
