//! One poll within the budget: a PING for the latency floor, the rows on
//! screen (always), registry lookups, SCAN steps and the rotation's
//! refreshes, each round trip's estimated Redis time taken out of its
//! bucket ([`budget`]). The buckets fill with wall time, so a poll late
//! or early spends what the time since the last one earned.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::redis::cmd;

use super::budget::{self, adapt_count, batch_size, cap_us, cycle_share, fits, redis_time};
use super::logical::LOOKUPS_PER_POLL;
use super::{Keyspace, PollCost};
use crate::redis::{Conn, RedisFailure};

/// SCAN steps per node in one poll at most during the first pass (the
/// budget decides; this bounds how long one poll can take).
const WARMUP_STEPS: usize = 50;

impl Keyspace {
    pub(super) async fn paced_poll(
        &mut self,
        conn: &mut Conn,
        visible: &[Arc<str>],
        elapsed: Duration,
    ) -> Result<PollCost, RedisFailure> {
        let mut cost = PollCost::default();
        self.nodes(conn).await?;
        self.probe(conn, &mut cost).await?;
        let scan_complete = self.scan_complete();
        let all_read = self.settle();
        let (scan_rate, refresh_rate) = self.rates(scan_complete, all_read);
        let interval = self.config.interval;
        let refresh_cap = cap_us(refresh_rate, interval);
        self.scan_bucket
            .refill(elapsed, scan_rate, cap_us(scan_rate, interval));
        self.refresh_bucket
            .refill(elapsed, refresh_rate, refresh_cap);

        // The rows on screen, whatever the budget says (the screen bounds them).
        let (mut seen, shown) = self.shown(visible);
        let spent = self.refresh(conn, &shown, &mut cost).await?;
        self.refresh_bucket.spend(spent, refresh_cap);
        // What they cost by the per-key model, not this poll's measure: one
        // stalled batch must not read as a screen that costs more.
        let batch = budget::batch_size(self.costs.refresh_us());
        let modelled: f64 = shown
            .chunks(batch)
            .map(|c| self.costs.refresh.of(c.len()))
            .sum();
        self.costs
            .visible_us_per_s
            .add(modelled / elapsed.as_secs_f64().max(1e-3));
        cost.visible = shown.len();
        cost.refreshed = shown.len();

        if self.refresh_bucket.affords(0.0) {
            let started = Instant::now();
            let n = self.layouts.look_up(conn, LOOKUPS_PER_POLL).await?;
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            let spent = redis_time(started.elapsed(), self.costs.floor_us(), n, n);
            self.charge_refresh(spent, refresh_cap, &mut cost);
            cost.commands += n as u64;
        }

        let steps = if scan_complete { 1 } else { WARMUP_STEPS };
        self.scan(conn, steps, true, &mut cost).await?;

        let target = if all_read {
            cycle_share(self.known.len(), elapsed, self.config.cycle)
        } else {
            usize::MAX
        };
        let taken = self
            .rotate(conn, target, &mut seen, refresh_cap, &mut cost)
            .await?;
        if all_read {
            self.costs.rotated(taken, elapsed);
        }
        // `STREAMLAB_LOG=streamlab::monitor::keyspace=debug` and
        // `--log-file`: what each poll spent and why it stopped.
        tracing::debug!(
            ?cost,
            elapsed_ms = elapsed.as_millis(),
            taken,
            target,
            floor_us = self.costs.floor_us(),
            per_key_us = self.costs.refresh_us(),
            refresh_credit_us = self.refresh_bucket.credit_us(),
            scan_credit_us = self.scan_bucket.credit_us(),
            "overview poll"
        );
        Ok(cost)
    }

    /// A PING: the latency floor the other round trips are measured
    /// against. The first one may pay for dialling, so it is not kept.
    pub(super) async fn probe(
        &mut self,
        conn: &mut Conn,
        cost: &mut PollCost,
    ) -> Result<(), RedisFailure> {
        let ping = cmd("PING");
        if self.costs.floor_us() <= 0.0 {
            conn.run(&ping, "PING", false).await?;
            cost.commands += 1;
        }
        let started = Instant::now();
        conn.run(&ping, "PING", false).await?;
        self.costs.ping(started.elapsed());
        cost.commands += 1;
        cost.redis_us += budget::MIN_COMMAND_US as u64;
        Ok(())
    }

    fn charge_refresh(&mut self, us: f64, cap: f64, cost: &mut PollCost) {
        self.refresh_bucket.spend(us, cap);
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "µs, positive"
        )]
        let us = us as u64;
        cost.redis_us += us;
    }

    /// The keys on screen (and their dead-letter streams), and the set of
    /// keys this poll must not refresh again: those, and keys the ACL
    /// refused a while ago.
    fn shown(&self, visible: &[Arc<str>]) -> (HashSet<Arc<str>>, Vec<Arc<str>>) {
        let now = crate::redis::id::now_ms();
        let mut seen: HashSet<Arc<str>> = self
            .known
            .iter()
            .filter(|(_, r)| r.refused_until_ms > now)
            .map(|(k, _)| k.clone())
            .collect();
        let mut due = Vec::new();
        for key in visible.iter().flat_map(|k| self.layouts.expand(k)) {
            let dead = format!("{key}:dead");
            for k in [key.as_ref(), dead.as_str()] {
                if let Some((k, _)) = self.known.get_key_value(k)
                    && seen.insert(k.clone())
                {
                    due.push(k.clone());
                }
            }
        }
        (seen, due)
    }

    /// Up to `steps` SCAN steps on each node: while the SCAN bucket
    /// affords one when `paced`, and one pass per node at most. Each step's
    /// time sets the node's next COUNT.
    pub(super) async fn scan(
        &mut self,
        conn: &mut Conn,
        steps: usize,
        paced: bool,
        cost: &mut PollCost,
    ) -> Result<(), RedisFailure> {
        self.nodes(conn).await?;
        let pattern = self.config.pattern.clone();
        let interval = self.config.interval;
        let (scan_rate, _) = self.rates(self.scan_complete(), self.first_pass_done());
        let cap = cap_us(scan_rate, interval);
        let start_count = self.config.scan_count;
        let mut found = Vec::new();
        for (addr, scan) in self.nodes.iter_mut().flatten() {
            let before = scan.cycles;
            for _ in 0..steps {
                let expected = budget::expected_step(self.costs.scan_us.0, cap);
                if paced && !self.scan_bucket.affords(expected) {
                    break;
                }
                if scan.count == 0 {
                    scan.count = start_count;
                }
                let started = Instant::now();
                let keys = scan.step(conn, addr, pattern.as_deref(), scan.count);
                found.extend(keys.await?);
                self.costs.round_trips(started.elapsed(), 1);
                let us = redis_time(started.elapsed(), self.costs.floor_us(), 1, 1);
                scan.count = adapt_count(scan.count, us);
                // A stall of the process is not the step's cost.
                let seen = us.min(budget::OUTLIER_FACTOR * self.costs.scan_us.0);
                self.costs.scan_us.add(seen);
                self.scan_bucket.spend(us, cap);
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "µs, positive"
                )]
                let whole = us as u64;
                cost.redis_us += whole;
                cost.commands += 1;
                cost.scan_steps += 1;
                if scan.cycles > before {
                    self.ask_nodes = true;
                    break;
                }
            }
        }
        self.learn(found);
        Ok(())
    }

    /// The rotation: keys from the queue's front (never-read ones first),
    /// in batches sized to the stall target, while the refresh bucket
    /// affords them and at most `target` of them; how many it went past
    /// (those on screen, refreshed already, included).
    async fn rotate(
        &mut self,
        conn: &mut Conn,
        target: usize,
        seen: &mut HashSet<Arc<str>>,
        cap: f64,
        cost: &mut PollCost,
    ) -> Result<usize, RedisFailure> {
        let queued = self.queue.len();
        let (mut taken, mut popped) = (0, 0);
        while taken < target && popped < queued {
            let per_key = self.costs.refresh_us();
            let mut room = fits(self.refresh_bucket.credit_us(), per_key).min(batch_size(per_key));
            if room == 0 && popped == 0 {
                // One key a poll whatever the bucket holds: a screen that
                // costs the whole budget, or an estimate above the
                // bucket's cap (a slow or remote Redis), must not stop the
                // rotation for good; the key's measured cost corrects the
                // estimate and is charged as debt.
                room = 1;
            }
            if room == 0 {
                break;
            }
            let mut batch = Vec::with_capacity(room);
            while batch.len() < room && taken < target && popped < queued {
                let Some(key) = self.queue.pop_front() else {
                    break;
                };
                popped += 1;
                if !self.known.contains_key(&key) {
                    continue; // deleted since it was queued
                }
                self.queue.push_back(key.clone());
                taken += 1;
                if seen.insert(key.clone()) {
                    batch.push(key);
                }
            }
            let spent = self.refresh(conn, &batch, cost).await?;
            self.refresh_bucket.spend(spent, cap);
            cost.refreshed += batch.len();
        }
        Ok(taken)
    }
}
