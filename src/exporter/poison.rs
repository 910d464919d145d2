//! `streamlab_group_poison_entries`: entries delivered at least
//! `--poison-after` times, counted on the first page of each group's PEL
//! (`XPENDING key group - + COUNT` [`PAGE`], the oldest entries, where
//! entries that keep failing stay). A few groups a poll, in turn
//! ([`PROBES_PER_POLL`]), and only groups with something pending, so the
//! cost per poll is bounded whatever the keyspace or PEL size; a PEL
//! longer than the page makes the count a lower bound.

use std::collections::{HashMap, HashSet};

use crate::exporter::{GroupKey, key_rows};
use crate::monitor::keyspace::rows::Row;
use crate::monitor::keyspace::send_reads;
use crate::redis::{Conn, RedisFailure, parse_pending_range, xpending_range_cmd};

/// PEL entries read per group probed.
pub const PAGE: usize = 100;
/// Groups probed per poll.
pub const PROBES_PER_POLL: usize = 10;

/// The counts so far and where the rotation stands.
#[derive(Debug, Default)]
pub struct PoisonProbe {
    counts: HashMap<GroupKey, u64>,
    /// The last group probed: the next poll starts after it.
    cursor: Option<GroupKey>,
}

impl PoisonProbe {
    /// Poison counts of the groups probed (a group with an empty PEL has
    /// none and is not listed).
    pub fn counts(&self) -> &HashMap<GroupKey, u64> {
        &self.counts
    }

    /// Probe the next groups in turn; returns the commands sent.
    pub async fn step(
        &mut self,
        conn: &mut Conn,
        rows: &[Row],
        poison_after: u64,
    ) -> Result<u64, RedisFailure> {
        let due = self.due(rows);
        let pages: Vec<_> = due
            .iter()
            .map(|(key, group)| xpending_range_cmd(key, group, "-", "+", PAGE, None))
            .collect();
        // One pipeline on a single server, one by one on a cluster.
        let cluster = conn.connector().is_cluster().await?;
        let answers = send_reads(conn, &pages, cluster, "XPENDING").await?;
        for (key, answer) in due.iter().zip(answers) {
            match answer {
                Ok(reply) => {
                    let page = parse_pending_range(&reply)?;
                    let poison = page.iter().filter(|p| p.deliveries >= poison_after).count();
                    self.counts.insert(key.clone(), poison as u64);
                }
                // The group or key went away, or the ACL refuses: no count.
                Err(_) => {
                    self.counts.remove(key);
                }
            }
            self.cursor = Some(key.clone());
        }
        Ok(due.len() as u64)
    }

    /// The groups to probe now: those with pending entries, in key order,
    /// after the last one probed (wrapping around). Counts of groups gone
    /// or emptied are dropped.
    fn due(&mut self, rows: &[Row]) -> Vec<GroupKey> {
        let mut pending: Vec<GroupKey> = key_rows(rows)
            .filter_map(|r| Some((r, r.stats.as_ref()?)))
            .flat_map(|(r, s)| {
                s.groups
                    .iter()
                    .filter(|g| g.pending > 0)
                    .map(|g| (r.key.clone(), g.name.clone()))
            })
            .collect();
        pending.sort();
        let listed: HashSet<&GroupKey> = pending.iter().collect();
        self.counts.retain(|k, _| listed.contains(k));
        let start = self
            .cursor
            .as_ref()
            .map_or(0, |c| pending.partition_point(|k| k <= c));
        let take = PROBES_PER_POLL.min(pending.len());
        pending
            .iter()
            .cycle()
            .skip(start)
            .take(take)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::monitor::keyspace::stats::{GroupStats, StreamStats};

    fn row(key: &str, pending: &[u64]) -> Row {
        let groups = pending
            .iter()
            .enumerate()
            .map(|(i, p)| GroupStats {
                name: format!("g{i}"),
                pending: *p,
                ..GroupStats::default()
            })
            .collect();
        Row {
            key: key.into(),
            stats: Some(Arc::new(StreamStats {
                groups,
                ..StreamStats::default()
            })),
            ..Row::default()
        }
    }

    #[test]
    fn groups_with_pending_entries_are_probed_in_turn_a_few_a_poll() {
        let rows: Vec<Row> = (0..15).map(|i| row(&format!("s{i:02}"), &[1, 0])).collect();
        let mut probe = PoisonProbe::default();
        let first = probe.due(&rows);
        assert_eq!(first.len(), PROBES_PER_POLL);
        assert!(
            first.iter().all(|(_, g)| g == "g0"),
            "empty PELs are skipped"
        );
        probe.cursor = first.last().cloned();
        let second = probe.due(&rows);
        // The next five, then around to the start.
        assert_eq!(&*second[0].0, "s10");
        assert_eq!(&*second[5].0, "s00");
    }
}
