//! Refreshing known streams: one `XINFO STREAM key FULL COUNT 1` each, then
//! one XRANGE per group whose time lag is stale. On a single server they go
//! in pipelines sized so one batch stays a short stall (`budget::batch_size`);
//! on a cluster one at a time, each routed to its slot's owner (a pipeline
//! may not mix slots). Each batch's Redis time is estimated and returned. A key that vanished or
//! holds another type is dropped; any other error stays on its row.

use std::sync::Arc;
use std::time::Instant;

use ::redis::{Cmd, Value};

use super::budget::{batch_size, redis_time};
use super::{Keyspace, PollCost};
use crate::monitor::keyspace::rows::Row;
use crate::monitor::keyspace::stats::{StreamStats, parse_full, xinfo_full_cmd};
use crate::redis::errors::classify;
use crate::redis::id::now_ms;
use crate::redis::reply::entries;
use crate::redis::{Conn, RedisFailure, is_no_such_key, xrange_cmd};

/// How long a key the ACL refuses is left alone before it is asked again:
/// every refused command grows the server's ACL LOG, and a permission is
/// rarely granted within a minute.
pub const REFUSED_RETRY_MS: u64 = 60_000;

/// Why a refused key cannot be read, and the rule that would allow it.
pub fn refused(key: &str, error: &str) -> String {
    format!(
        "refused by the ACL ({error}): the user needs read access to '{key}', e.g. `ACL SETUSER <user> %R~{key}` (Redis 7+) or `~{key}`; asked again in a minute"
    )
}

impl Keyspace {
    /// Refresh `keys`, counting into `cost`; returns their estimated
    /// Redis time (µs).
    pub(super) async fn refresh(
        &mut self,
        conn: &mut Conn,
        keys: &[Arc<str>],
        cost: &mut PollCost,
    ) -> Result<f64, RedisFailure> {
        let mut spent = 0.0;
        for chunk in keys.chunks(batch_size(self.costs.refresh_us())) {
            // Only the round trips are timed, not the reading of the rows.
            let infos: Vec<Cmd> = chunk.iter().map(|k| xinfo_full_cmd(k)).collect();
            let started = Instant::now();
            let replies = send(conn, &infos, self.cluster, "XINFO").await?;
            let mut elapsed = started.elapsed();
            let now = now_ms();
            for (key, reply) in chunk.iter().zip(replies) {
                self.apply(key, reply, now);
            }
            let lagging = self.time_lag_requests(chunk);
            let ranges: Vec<Cmd> = lagging
                .iter()
                .map(|(key, _, after)| xrange_cmd(key, after, "+", 1))
                .collect();
            let started = Instant::now();
            let replies = send(conn, &ranges, self.cluster, "XRANGE").await?;
            elapsed += started.elapsed();
            for ((key, group, _), reply) in lagging.iter().zip(replies) {
                self.apply_next(key, *group, reply);
            }
            let commands = infos.len() + ranges.len();
            let trips = match (self.cluster, ranges.is_empty()) {
                (true, _) => commands,
                (false, true) => 1,
                (false, false) => 2,
            };
            self.costs.round_trips(elapsed, trips);
            let us = redis_time(elapsed, self.costs.floor_us(), trips, commands);
            self.costs.refresh.add(chunk.len(), us);
            spent += us;
            cost.commands += commands as u64;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "µs, positive"
        )]
        let whole = spent as u64;
        cost.redis_us += whole;
        Ok(spent)
    }

    /// Take one stream's XINFO FULL reply into its row.
    fn apply(&mut self, key: &Arc<str>, reply: Result<Value, RedisFailure>, now: u64) {
        let parsed = reply.and_then(|v| parse_full(&v));
        let gone = |e: &RedisFailure| match e {
            RedisFailure::Server(m) => is_no_such_key(m),
            RedisFailure::WrongType(_) => true,
            _ => false,
        };
        match parsed {
            Err(e) if gone(&e) => {
                self.known.remove(key);
            }
            Err(RedisFailure::Auth(m)) => {
                if let Some(row) = self.known.get_mut(key) {
                    row.problem = Some(refused(key, &m));
                    row.refused_until_ms = now + REFUSED_RETRY_MS;
                }
            }
            Err(e) => {
                if let Some(row) = self.known.get_mut(key) {
                    row.problem = Some(e.to_string());
                }
            }
            Ok(stats) => {
                if let Some(row) = self.known.get_mut(key) {
                    update_row(row, stats, now);
                }
            }
        }
    }

    /// (key, group index, XRANGE start) for groups whose time lag is stale.
    fn time_lag_requests(&self, keys: &[Arc<str>]) -> Vec<(Arc<str>, usize, String)> {
        let mut out = Vec::new();
        for key in keys {
            let Some(stats) = self.known.get(key).and_then(|r| r.stats.as_ref()) else {
                continue;
            };
            for (i, g) in stats.groups.iter().enumerate() {
                if let Some(after) = g.time_lag_basis(stats.last_generated_id) {
                    out.push((key.clone(), i, after));
                }
            }
        }
        out
    }

    fn apply_next(&mut self, key: &Arc<str>, group: usize, reply: Result<Value, RedisFailure>) {
        let Some(row) = self.known.get_mut(key) else {
            return;
        };
        let Some(stats) = row.stats.as_mut() else {
            return;
        };
        let stats = Arc::make_mut(stats);
        if let Some(g) = stats.groups.get_mut(group) {
            let next = reply.and_then(|v| entries(&v));
            g.next_undelivered = next.ok().and_then(|e| e.first().map(|e| e.id));
            g.next_for = Some(g.last_delivered_id);
        }
    }
}

/// One command's answer: its reply, or the error Redis gave for it.
pub type Answer = Result<Value, RedisFailure>;

/// Send read commands and return each answer in order: one pipeline on a
/// single server; one by one on a cluster, where a pipeline may not span
/// slots. A connection failure fails them all.
pub async fn send(
    conn: &mut Conn,
    cmds: &[Cmd],
    cluster: bool,
    name: &'static str,
) -> Result<Vec<Answer>, RedisFailure> {
    if cmds.is_empty() {
        return Ok(Vec::new());
    }
    if !cluster {
        let mut pipe = ::redis::pipe();
        pipe.ignore_errors();
        for c in cmds {
            pipe.add_command(c.clone());
        }
        let replies = conn.run_pipeline(&pipe, name, false, cmds.len()).await?;
        return Ok(replies.into_iter().map(answer).collect());
    }
    let mut out = Vec::with_capacity(cmds.len());
    for c in cmds {
        match conn.run(c, name, false).await {
            Err(e) if e.is_connection() => return Err(e),
            other => out.push(other),
        }
    }
    Ok(out)
}

/// A pipelined reply: an error reply becomes that command's error.
fn answer(v: Value) -> Answer {
    match v {
        Value::ServerError(_) => Err(v.extract_error().map_or_else(
            |e| classify(&e),
            |_| RedisFailure::Reply("error reply".into()),
        )),
        other => Ok(other),
    }
}

/// A fresh refresh into `row`: the rate since the last one, and each
/// group's cached next-undelivered id while its last-delivered id stands.
fn update_row(row: &mut Row, mut stats: StreamStats, now: u64) {
    if let Some(old) = &row.stats {
        for g in &mut stats.groups {
            if let Some(before) = old.groups.iter().find(|o| o.name == g.name)
                && before.next_for == Some(g.last_delivered_id)
            {
                g.next_undelivered = before.next_undelivered;
                g.next_for = before.next_for;
            }
        }
        let added = match (stats.entries_added, old.entries_added) {
            (Some(now_added), Some(before)) => Some(now_added.saturating_sub(before)),
            // Redis < 7.0 has no count of entries added, and the length
            // says nothing on a trimmed stream (it stays put while entries
            // arrive): only a last id that did not move is sure, as none.
            _ if stats.last_generated_id == old.last_generated_id => Some(0),
            _ => None,
        };
        let dt = now.saturating_sub(row.refreshed_ms);
        if dt > 0 {
            #[expect(clippy::cast_precision_loss, reason = "a rate for display")]
            let rate = added.map(|n| n as f64 * 1000.0 / dt as f64);
            row.added_per_s = rate;
        }
    }
    row.stats = Some(Arc::new(stats));
    row.refreshed_ms = now;
    row.problem = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::EntryId;

    fn stats(length: u64, last_ms: u64, added: Option<u64>) -> StreamStats {
        StreamStats {
            length,
            last_generated_id: Some(EntryId {
                ms: last_ms,
                seq: 0,
            }),
            entries_added: added,
            groups: Vec::new(),
        }
    }

    /// Two refreshes a second apart; the row's rate after the second.
    fn rate(before: StreamStats, after: StreamStats) -> Option<f64> {
        let mut row = Row::default();
        update_row(&mut row, before, 1_000);
        update_row(&mut row, after, 2_000);
        row.added_per_s
    }

    #[test]
    fn the_added_rate_is_counted_or_unknown_never_a_guessed_zero() {
        // Redis 7.0+: from entries-added, even on a trimmed stream.
        assert_eq!(
            rate(stats(25, 1, Some(100)), stats(25, 2, Some(140))),
            Some(40.0)
        );
        // Redis 6.2, trimmed to 25 while entries arrive: unknown, not 0.
        assert_eq!(rate(stats(25, 1, None), stats(25, 2, None)), None);
        // Redis 6.2, the last id unmoved: surely none added.
        assert_eq!(rate(stats(25, 1, None), stats(25, 1, None)), Some(0.0));
    }
}
