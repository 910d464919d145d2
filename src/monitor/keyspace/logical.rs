//! Partitioned streams in the overview: SCAN finds each partition key as
//! a stream of its own; a key named like a partition (`{S.p<i>}`) makes
//! `S` a candidate, the registry record `S:streamlab` (read once per
//! candidate) confirms its layout, and the partitions' rows fold into one
//! row for `S` whose figures are sums over them, with the partitions'
//! own rows kept underneath (the screen expands them).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::engine::partition::naming::parse_partition_key;
use crate::engine::registry;
use crate::monitor::keyspace::rows::Row;
use crate::monitor::keyspace::stats::{GroupStats, StreamStats};
use crate::redis::{Conn, RedisFailure};

/// Registry lookups per poll: a keyspace full of partition-like names
/// costs a bounded number of HGETALLs per poll, not one burst.
pub const LOOKUPS_PER_POLL: usize = 100;

/// What is known of the logical streams whose partitions were seen.
#[derive(Debug, Default)]
pub struct Layouts {
    /// Candidate name -> its partition keys (`None`: not partitioned, or
    /// no record; its keys stay rows of their own).
    known: HashMap<String, Option<Vec<Arc<str>>>>,
    /// Candidates not looked up yet, oldest first.
    todo: Vec<String>,
}

impl Layouts {
    /// Note the logical stream `key` may be a partition of.
    pub fn saw(&mut self, key: &str) {
        if let Some((stream, _)) = parse_partition_key(key)
            && !self.known.contains_key(&stream)
            && !self.todo.contains(&stream)
        {
            self.todo.push(stream);
        }
    }

    /// Read the records of up to `limit` candidates; the commands sent.
    pub async fn look_up(&mut self, conn: &mut Conn, limit: usize) -> Result<u64, RedisFailure> {
        let batch: Vec<String> = self.todo.drain(..self.todo.len().min(limit)).collect();
        for stream in &batch {
            let keys = match registry::read(conn, stream).await {
                Ok(Some(r)) if r.layout.is_partitioned() => {
                    Some(r.layout.partitions.into_iter().map(Into::into).collect())
                }
                Ok(_) => None,
                // Not allowed to read it, or not a hash: show the keys as they are.
                Err(RedisFailure::Auth(_) | RedisFailure::Server(_)) => None,
                Err(e) => return Err(e),
            };
            self.known.insert(stream.clone(), keys);
        }
        Ok(batch.len() as u64)
    }

    /// The partition keys behind a row key on screen (the key itself when
    /// it is not a known logical stream).
    pub fn expand(&self, key: &Arc<str>) -> Vec<Arc<str>> {
        match self.known.get(key.as_ref()) {
            Some(Some(keys)) => keys.clone(),
            _ => vec![key.clone()],
        }
    }

    /// Fold the partitions' rows of every confirmed logical stream into one
    /// row each; other rows pass through.
    pub fn fold(&self, rows: Vec<Row>) -> Vec<Row> {
        let mut owner: HashMap<&str, (&str, usize)> = HashMap::new();
        for (stream, keys) in &self.known {
            for (i, key) in keys.iter().flatten().enumerate() {
                owner.insert(key, (stream, i));
            }
        }
        let mut parts: BTreeMap<&str, Vec<(usize, Row)>> = BTreeMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            match owner.get(row.key.as_ref()) {
                Some(&(stream, i)) => parts.entry(stream).or_default().push((i, row)),
                None => out.push(row),
            }
        }
        out.extend(parts.into_iter().map(|(stream, mut rows)| {
            // A partition SCAN has not reached yet still counts, as a row
            // not read yet: "3 partitions", never 2 summed as if all.
            let keys = self.known.get(stream).and_then(Option::as_deref);
            for (i, key) in keys.unwrap_or_default().iter().enumerate() {
                if !rows.iter().any(|(at, _)| *at == i) {
                    let unseen = Row {
                        key: key.clone(),
                        ..Row::default()
                    };
                    rows.push((i, unseen));
                }
            }
            rows.sort_by_key(|(i, _)| *i);
            logical_row(stream, rows.into_iter().map(|(_, r)| r).collect())
        }));
        out
    }
}

/// One row for `stream` from its partitions' rows.
fn logical_row(stream: &str, mut parts: Vec<Row>) -> Row {
    let key: Arc<str> = stream.into();
    for p in &mut parts {
        p.partition_of = Some(key.clone());
    }
    let refreshed: Vec<&StreamStats> = parts.iter().filter_map(|p| p.stats.as_deref()).collect();
    // Totals only once every partition has been read: a partial sum would
    // read as the whole stream.
    let stats = (refreshed.len() == parts.len()).then(|| Arc::new(merge(&refreshed)));
    Row {
        key,
        stats,
        refreshed_ms: parts.iter().map(|p| p.refreshed_ms).min().unwrap_or(0),
        added_per_s: parts.iter().map(|p| p.added_per_s).sum(),
        dead: parts.iter().filter_map(|p| p.dead).reduce(|a, b| a + b),
        dead_unread: parts.iter().any(|p| p.dead_unread),
        problem: parts.iter().find_map(|p| p.problem.clone()),
        refused_until_ms: parts.iter().map(|p| p.refused_until_ms).max().unwrap_or(0),
        partitions: parts,
        partition_of: None,
    }
}

/// Lengths, pending counts and lags summed (a lag unknown anywhere is
/// unknown), the newest last id, the oldest pending entry, and the oldest
/// entry some partition has not delivered. Consumers: the most any
/// partition has, since a worker reads every partition.
fn merge(parts: &[&StreamStats]) -> StreamStats {
    let mut groups: BTreeMap<&str, Vec<(&GroupStats, bool)>> = BTreeMap::new();
    for p in parts {
        for g in &p.groups {
            let behind = !g.caught_up(p.last_generated_id);
            groups.entry(&g.name).or_default().push((g, behind));
        }
    }
    StreamStats {
        length: parts.iter().map(|p| p.length).sum(),
        last_generated_id: parts.iter().filter_map(|p| p.last_generated_id).max(),
        entries_added: parts.iter().map(|p| p.entries_added).sum(),
        groups: groups
            .into_iter()
            .map(|(name, g)| merge_group(name, &g))
            .collect(),
    }
}

fn merge_group(name: &str, parts: &[(&GroupStats, bool)]) -> GroupStats {
    GroupStats {
        name: name.to_owned(),
        consumers: parts.iter().map(|(g, _)| g.consumers).max().unwrap_or(0),
        pending: parts.iter().map(|(g, _)| g.pending).sum(),
        lag: parts.iter().map(|(g, _)| g.lag).sum(),
        last_delivered_id: None,
        oldest_pending: parts.iter().filter_map(|(g, _)| g.oldest_pending).min(),
        next_undelivered: parts
            .iter()
            .filter(|(_, behind)| *behind)
            .filter_map(|(g, _)| g.next_undelivered)
            .min(),
        next_for: None,
        // Each partition's row keeps its own: counted there, not twice.
        consumer_stats: Vec::new(),
        entries_read: parts.iter().map(|(g, _)| g.entries_read).sum(),
    }
}

#[cfg(test)]
#[path = "logical_tests.rs"]
mod tests;
