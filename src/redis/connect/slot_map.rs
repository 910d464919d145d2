//! The slot map: which node owns each of the 16,384 slots, read from
//! CLUSTER SLOTS and corrected slot by slot from MOVED replies.

use std::collections::BTreeMap;

use ::redis::Value;

use crate::redis::errors::RedisFailure;
use crate::redis::reply::{bad, count, items, text};
use crate::redis::topology::{NodeAddr, SLOT_COUNT};

/// A node, numbered by [`super::cluster_map::ClusterMap`] (never reused),
/// so routing compares integers, not host names.
pub(crate) type NodeId = u16;

/// One range of CLUSTER SLOTS' reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SlotRange {
    pub start: u16,
    pub end: u16,
    pub master: NodeAddr,
    pub id: String,
    pub replicas: Vec<NodeAddr>,
}

/// Decode CLUSTER SLOTS. A node announced without an endpoint (empty,
/// `?` or nil) is the one that answered: `asked`.
pub(crate) fn parse_cluster_slots(
    v: &Value,
    asked: &NodeAddr,
) -> Result<Vec<SlotRange>, RedisFailure> {
    let rows = items(v).ok_or_else(|| bad("CLUSTER SLOTS", v))?;
    rows.iter()
        .map(|row| {
            let parts = items(row).ok_or_else(|| bad("CLUSTER SLOTS range", row))?;
            let [start, end, master, replicas @ ..] = parts else {
                return Err(bad("CLUSTER SLOTS range", row));
            };
            let slot = |v: &Value| {
                count(v)
                    .and_then(|n| u16::try_from(n).ok())
                    .filter(|n| *n < SLOT_COUNT)
                    .ok_or_else(|| bad("CLUSTER SLOTS slot", v))
            };
            let (master, id) = node(master, asked)?;
            Ok(SlotRange {
                start: slot(start)?,
                end: slot(end)?,
                master,
                id,
                replicas: replicas
                    .iter()
                    .map(|r| node(r, asked).map(|(addr, _)| addr))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// `[host, port, id, ...]` of one node.
fn node(v: &Value, asked: &NodeAddr) -> Result<(NodeAddr, String), RedisFailure> {
    let parts = items(v).ok_or_else(|| bad("CLUSTER SLOTS node", v))?;
    let [host, port, rest @ ..] = parts else {
        return Err(bad("CLUSTER SLOTS node", v));
    };
    let host = text(host).filter(|h| !h.is_empty() && h != "?");
    let port = count(port)
        .and_then(|p| u16::try_from(p).ok())
        .ok_or_else(|| bad("CLUSTER SLOTS port", v))?;
    let id = rest.first().and_then(text).unwrap_or_default();
    Ok((
        NodeAddr::new(host.unwrap_or_else(|| asked.host.clone()), port),
        id,
    ))
}

/// Owners by slot, plus what is known of each master.
#[derive(Debug, Clone, Default)]
pub(crate) struct SlotMap {
    /// One entry per slot once anything is known; empty before.
    owner: Vec<Option<NodeId>>,
    masters: BTreeMap<NodeId, MasterInfo>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct MasterInfo {
    pub id: String,
    pub replicas: Vec<NodeId>,
}

impl SlotMap {
    /// A map where `node` owns every slot (a single server).
    pub(crate) fn single(node: NodeId) -> Self {
        Self {
            owner: vec![Some(node); usize::from(SLOT_COUNT)],
            masters: BTreeMap::from([(node, MasterInfo::default())]),
        }
    }

    /// Build from CLUSTER SLOTS' ranges; `intern` numbers the nodes.
    pub(crate) fn from_ranges(
        ranges: &[SlotRange],
        mut intern: impl FnMut(&NodeAddr) -> NodeId,
    ) -> Self {
        let mut map = Self {
            owner: vec![None; usize::from(SLOT_COUNT)],
            masters: BTreeMap::new(),
        };
        for r in ranges {
            let master = intern(&r.master);
            for s in r.start..=r.end {
                map.owner[usize::from(s)] = Some(master);
            }
            let info = map.masters.entry(master).or_default();
            info.id.clone_from(&r.id);
            for replica in &r.replicas {
                let replica = intern(replica);
                if !info.replicas.contains(&replica) {
                    info.replicas.push(replica);
                }
            }
        }
        map
    }

    pub(crate) fn owner(&self, slot: u16) -> Option<NodeId> {
        self.owner.get(usize::from(slot)).copied().flatten()
    }

    /// A copy where `node` owns `slot` (learned from MOVED).
    pub(crate) fn with_owner(&self, slot: u16, node: NodeId) -> Self {
        let mut map = self.clone();
        if map.owner.is_empty() {
            map.owner = vec![None; usize::from(SLOT_COUNT)];
        }
        map.owner[usize::from(slot)] = Some(node);
        map.masters.entry(node).or_default();
        map
    }

    /// Some node known to own slots (for keyless commands).
    pub(crate) fn any_master(&self) -> Option<NodeId> {
        self.owner.iter().flatten().next().copied()
    }

    /// Masters with their slot ranges, in slot order of their first range.
    pub(crate) fn masters(&self) -> Vec<(NodeId, &MasterInfo, Vec<std::ops::RangeInclusive<u16>>)> {
        let mut ranges: BTreeMap<NodeId, Vec<std::ops::RangeInclusive<u16>>> = BTreeMap::new();
        let mut s: u16 = 0;
        while s < SLOT_COUNT {
            let Some(node) = self.owner(s) else {
                s += 1;
                continue;
            };
            let start = s;
            while s + 1 < SLOT_COUNT && self.owner(s + 1) == Some(node) {
                s += 1;
            }
            ranges.entry(node).or_default().push(start..=s);
            s += 1;
        }
        let mut out: Vec<_> = ranges
            .into_iter()
            .filter_map(|(node, r)| self.masters.get(&node).map(|info| (node, info, r)))
            .collect();
        out.sort_by_key(|(_, _, r)| r.first().map(|r| *r.start()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    fn node_v(host: &str, port: i64, id: &str) -> Value {
        Value::Array(vec![
            bulk(host),
            Value::Int(port),
            bulk(id),
            Value::Array(vec![]),
        ])
    }

    #[test]
    fn cluster_slots_decode_into_masters_with_ranges() {
        let reply = Value::Array(vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(5460),
                node_v("127.0.0.1", 7001, "a"),
                node_v("127.0.0.1", 7004, "d"),
            ]),
            Value::Array(vec![
                Value::Int(5461),
                Value::Int(16383),
                node_v("", 7002, "b"),
            ]),
        ]);
        let asked = NodeAddr::new("10.0.0.9", 7002);
        let ranges = parse_cluster_slots(&reply, &asked).expect("parses");
        assert_eq!(ranges[1].master, asked, "an empty host is the node asked");
        let mut nodes: Vec<NodeAddr> = Vec::new();
        let map = SlotMap::from_ranges(&ranges, |a| {
            let i = nodes.iter().position(|n| n == a).unwrap_or_else(|| {
                nodes.push(a.clone());
                nodes.len() - 1
            });
            NodeId::try_from(i).expect("few nodes")
        });
        assert_eq!(map.owner(0), Some(0));
        assert_eq!(map.owner(5461), Some(2));
        let masters = map.masters();
        assert_eq!(masters.len(), 2);
        assert_eq!(masters[0].1.id, "a");
        assert_eq!(masters[0].1.replicas, vec![1]);
        assert_eq!(masters[0].2, vec![0..=5460]);
        // A migrated slot splits the ranges.
        let moved = map.with_owner(100, 2);
        let masters = moved.masters();
        assert_eq!(masters[0].2, vec![0..=99, 101..=5460]);
        assert_eq!(masters[1].2, vec![100..=100, 5461..=16383]);
    }

    #[test]
    fn malformed_replies_are_errors() {
        let asked = NodeAddr::new("h", 1);
        assert!(parse_cluster_slots(&Value::Int(1), &asked).is_err());
        let bad_slot = Value::Array(vec![Value::Array(vec![
            Value::Int(0),
            Value::Int(20000),
            node_v("h", 1, "a"),
        ])]);
        assert!(parse_cluster_slots(&bad_slot, &asked).is_err());
    }
}
