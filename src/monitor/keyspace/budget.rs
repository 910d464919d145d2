//! The overview's budget of Redis time: how much a poll may spend, what a
//! command is estimated to cost, and how SCAN's COUNT follows the time a
//! step takes. Pure arithmetic (no I/O), so it is tested on its own.
//!
//! The client cannot see Redis's command time, so it paces by a proxy
//! that is never below it: a round trip's time minus the latency floor
//! (the fastest `PING` seen lately: network and the server's turn, with
//! nearly no command time). What is left is the command time plus the
//! client's own reading of the reply, an upper bound of what INFO
//! commandstats will count.

use std::collections::VecDeque;
use std::time::Duration;

/// Redis time per second of wall time once the first pass is done.
pub const STEADY_US_PER_S: f64 = 2_000.0;
/// Redis time per second during the first pass (stated in the README and
/// on screen): the overview fills faster, at a bounded rate still.
pub const WARMUP_US_PER_S: f64 = 10_000.0;
/// The share of the steady budget that goes to SCAN (finding new
/// streams); the rest refreshes rows.
pub const SCAN_SHARE: f64 = 0.25;
/// One SCAN step aims at this much Redis time, well below the 0.5 ms
/// no single command may take (a step's time varies with the keys it meets).
pub const STEP_TARGET_US: f64 = 250.0;
/// One pipelined batch of refreshes aims at this much Redis time: Redis
/// runs a pipeline's commands back to back, so a batch is one stall.
pub const BATCH_TARGET_US: f64 = 250.0;
/// Refreshes in one pipeline at most (bounds one reply's size).
pub const BATCH_MAX: usize = 100;
/// SCAN's COUNT stays within these bounds, and starts at [`COUNT_START`].
pub const COUNT_MIN: usize = 10;
pub const COUNT_MAX: usize = 1_000;
pub const COUNT_START: usize = 100;
/// No command is counted as free, however fast its round trip was.
pub const MIN_COMMAND_US: f64 = 1.0;
/// What a refresh is assumed to cost until one has been measured.
const REFRESH_START_US: f64 = 20.0;
/// How many recent PINGs the latency floor is the fastest of (one a
/// poll: about five minutes). A long window keeps the floor low, which
/// errs toward counting more, never less.
const FLOOR_SAMPLES: usize = 300;
/// Weight of a new measurement in a moving average.
const EWMA_WEIGHT: f64 = 0.2;
/// How much of the past the batch cost fit keeps at each new batch.
const RATIO_DECAY: f64 = 0.9;
/// A batch counts as at most this many times its current estimate
/// (a client-side stall, the process descheduled, is not the server's
/// time); a lasting rise still gets through, this much per batch.
pub const OUTLIER_FACTOR: f64 = 4.0;

/// A bucket of Redis time (µs): it fills at a rate per second of wall
/// time up to a cap, and each round trip's estimated cost is taken out.
/// It may go into debt (a batch cost more than foreseen), bounded by the
/// cap, which later polls pay back by doing less.
#[derive(Debug, Clone, Default)]
pub struct Bucket {
    credit_us: f64,
}

impl Bucket {
    /// Add `elapsed` worth of `rate_us_per_s`, at most `cap_us` in all.
    pub fn refill(&mut self, elapsed: Duration, rate_us_per_s: f64, cap_us: f64) {
        self.credit_us = (self.credit_us + elapsed.as_secs_f64() * rate_us_per_s).min(cap_us);
    }

    pub fn spend(&mut self, us: f64, cap_us: f64) {
        self.credit_us = (self.credit_us - us).max(-cap_us);
    }

    pub fn credit_us(&self) -> f64 {
        self.credit_us
    }

    /// Whether something estimated at `us` fits now.
    pub fn affords(&self, us: f64) -> bool {
        self.credit_us >= us
    }
}

/// How much a bucket may hold: two polls' worth (at least two seconds'),
/// so a slow poll does not lose its share, and a pause (another screen
/// shown) does not save up a burst.
pub fn cap_us(rate_us_per_s: f64, interval: Duration) -> f64 {
    rate_us_per_s * 2.0 * interval.as_secs_f64().max(1.0)
}

/// The fill rates (SCAN, refreshes) in µs per second for the phase the
/// overview is in, given the steady and warm-up budgets. During the first
/// pass the warm-up budget is split between finding streams and reading
/// them; once every stream was found, SCAN goes back to its steady share
/// and reading the rest takes the remainder of the warm-up budget; after
/// that, the steady budget.
pub fn rates(scan_complete: bool, all_read: bool, steady: f64, warmup: f64) -> (f64, f64) {
    let steady_scan = steady * SCAN_SHARE;
    match (scan_complete, all_read) {
        (false, _) => (warmup / 2.0, warmup / 2.0),
        (true, false) => (steady_scan, (warmup - steady_scan).max(0.0)),
        (true, true) => (steady_scan, steady - steady_scan),
    }
}

/// The Redis time a round trip is counted as: its time less the latency
/// floor of each of its `round_trips`, and never less than
/// [`MIN_COMMAND_US`] per command.
pub fn redis_time(elapsed: Duration, floor_us: f64, round_trips: usize, commands: usize) -> f64 {
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let (trips, commands) = (round_trips as f64, commands as f64);
    let us = elapsed.as_secs_f64() * 1e6 - floor_us * trips;
    us.max(commands * MIN_COMMAND_US)
}

/// SCAN's next COUNT after a step of `count` took `step_us`: scaled
/// toward [`STEP_TARGET_US`], at most halved or doubled at once, within
/// [`COUNT_MIN`]..=[`COUNT_MAX`].
pub fn adapt_count(count: usize, step_us: f64) -> usize {
    #[expect(clippy::cast_precision_loss, reason = "a count below 10^4")]
    let current = count.max(1) as f64;
    let scaled = current * STEP_TARGET_US / step_us.max(MIN_COMMAND_US);
    let bounded = scaled.clamp(current / 2.0, current * 2.0);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped to a small positive range first"
    )]
    let next = bounded.round() as usize;
    next.clamp(COUNT_MIN, COUNT_MAX)
}

/// What the next SCAN step is expected to cost before it is afforded:
/// what steps cost lately, but never more than half the bucket's cap (an
/// estimate above the cap, after a stall, would never be afforded, and
/// SCAN would stop for good).
pub fn expected_step(recent_us: f64, cap_us: f64) -> f64 {
    recent_us.min(cap_us / 2.0)
}

/// How many refreshes fit in `credit_us` at `per_key_us` each.
pub fn fits(credit_us: f64, per_key_us: f64) -> usize {
    if credit_us <= 0.0 {
        return 0;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a positive count of keys"
    )]
    let n = (credit_us / per_key_us.max(MIN_COMMAND_US)).floor() as usize;
    n
}

/// Refreshes per pipeline: a batch's estimated time near
/// [`BATCH_TARGET_US`], between 1 and [`BATCH_MAX`].
pub fn batch_size(per_key_us: f64) -> usize {
    fits(BATCH_TARGET_US, per_key_us).clamp(1, BATCH_MAX)
}

/// How many rotation refreshes a poll of `elapsed` needs so that `keys`
/// are each read within `cycle`: no faster than that, even when the
/// budget would allow it (a small keyspace costs what it did).
pub fn cycle_share(keys: usize, elapsed: Duration, cycle: Duration) -> usize {
    let polls = (cycle.as_secs_f64() / elapsed.as_secs_f64().max(1e-3)).max(1.0);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "a count of keys, rounded up"
    )]
    let share = (keys as f64 / polls).ceil() as usize;
    share
}

/// The period within which each of `keys` rows is read again: the
/// rotation's lap at `per_key_us` each, with `rotation_us_per_s` of the
/// budget left for it and a quarter to spare (costs vary from lap to
/// lap), never shorter than `cycle`; rounded up to 10 s (to the minute
/// past 10 minutes) so it reads as the promise it is.
pub fn revisit(keys: usize, per_key_us: f64, rotation_us_per_s: f64, cycle: Duration) -> Duration {
    #[expect(clippy::cast_precision_loss, reason = "a count of keys")]
    let lap_s = LAP_MARGIN * keys as f64 * per_key_us / rotation_us_per_s.max(1.0);
    round_up(Duration::from_secs_f64(
        lap_s.max(cycle.as_secs_f64()).min(1e9),
    ))
}

/// A period rounded up to 10 s, to the minute past 10 minutes.
pub fn round_up(period: Duration) -> Duration {
    let secs = period.as_secs_f64();
    let step = if secs > 600.0 { 60.0 } else { 10.0 };
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a positive number of seconds"
    )]
    let rounded = ((secs / step).ceil() * step) as u64;
    Duration::from_secs(rounded)
}

/// Weight of a poll in the rotation's measured pace (about 20 polls).
const ROTATION_WEIGHT: f64 = 0.05;
/// Polls measured before the pace counts in the published period.
const MEASURED_POLLS: u32 = 10;

/// The published period's margin over the estimated lap.
const LAP_MARGIN: f64 = 1.25;

/// A moving average (exponentially weighted).
#[derive(Debug, Clone, Copy)]
pub struct Ewma(pub f64);

impl Ewma {
    pub fn add(&mut self, sample: f64) {
        self.0 += EWMA_WEIGHT * (sample - self.0);
    }
}

/// The cost of refreshes per key over recent batches, each batch weighing
/// as many keys as it holds (recent ones more). An average of per-batch
/// ratios would let small batches (a round trip's fixed part spread over
/// few keys) raise the estimate, which shrinks batches further: the
/// rotation starved so on a debug build. A batch far above the estimate
/// (a stall of the client process) is clipped.
#[derive(Debug, Clone, Copy)]
pub struct BatchCost {
    /// Decayed sums of keys and of their time (µs).
    keys: f64,
    us: f64,
}

impl BatchCost {
    pub fn new(start_us_per_key: f64) -> Self {
        Self {
            keys: 1.0,
            us: start_us_per_key,
        }
    }

    /// µs per key.
    pub fn per_key(&self) -> f64 {
        self.us / self.keys.max(1e-9)
    }

    /// The estimated time of a batch of `keys`.
    pub fn of(&self, keys: usize) -> f64 {
        #[expect(clippy::cast_precision_loss, reason = "a batch's size")]
        let keys = keys as f64;
        self.per_key() * keys
    }

    /// A batch of `keys` measured at `us`.
    pub fn add(&mut self, keys: usize, us: f64) {
        if keys == 0 {
            return;
        }
        let us = us.min(OUTLIER_FACTOR * self.of(keys));
        #[expect(clippy::cast_precision_loss, reason = "a batch's size")]
        let n = keys as f64;
        // Decay by batches of about BATCH_MAX keys, whatever their size.
        let d = RATIO_DECAY.powf(n / 100.0);
        self.keys = self.keys * d + n;
        self.us = self.us * d + us;
    }
}

/// What the client knows of the cost of its commands.
#[derive(Debug, Clone)]
pub struct Costs {
    /// Recent PING round trips (µs); the floor is the fastest.
    pings: VecDeque<f64>,
    /// The fastest round trip of any kind seen (µs): no round trip is
    /// faster than the latency, so the floor is never above it (a PING
    /// that waited behind the process's other work would set it too high,
    /// and every estimate too low).
    fastest_us: f64,
    /// Redis time of one stream's refresh (its XINFO, and its share of
    /// the XRANGEs for time lags).
    pub refresh: BatchCost,
    /// Redis time of one SCAN step.
    pub scan_us: Ewma,
    /// Redis time spent on the rows on screen, per second of wall time.
    pub visible_us_per_s: Ewma,
    /// Keys the rotation went past per second, once the first pass is
    /// done, and over how many polls.
    rotated_per_s: Ewma,
    rotated_polls: u32,
}

impl Default for Costs {
    fn default() -> Self {
        Self {
            pings: VecDeque::new(),
            fastest_us: f64::INFINITY,
            refresh: BatchCost::new(REFRESH_START_US),
            scan_us: Ewma(STEP_TARGET_US),
            visible_us_per_s: Ewma(0.0),
            rotated_per_s: Ewma(0.0),
            rotated_polls: 0,
        }
    }
}

impl Costs {
    pub fn ping(&mut self, elapsed: Duration) {
        if self.pings.len() == FLOOR_SAMPLES {
            self.pings.pop_front();
        }
        self.pings.push_back(elapsed.as_secs_f64() * 1e6);
        self.round_trips(elapsed, 1);
    }

    /// `trips` round trips took `elapsed` in all.
    pub fn round_trips(&mut self, elapsed: Duration, trips: usize) {
        if trips > 0 {
            #[expect(clippy::cast_precision_loss, reason = "a few round trips")]
            let each = elapsed.as_secs_f64() * 1e6 / trips as f64;
            self.fastest_us = self.fastest_us.min(each);
        }
    }

    /// The rotation went past `keys` in a poll of `elapsed`.
    pub fn rotated(&mut self, keys: usize, elapsed: Duration) {
        #[expect(clippy::cast_precision_loss, reason = "a count of keys")]
        let rate = keys as f64 / elapsed.as_secs_f64().max(1e-3);
        if self.rotated_polls == 0 {
            self.rotated_per_s = Ewma(rate);
        } else {
            self.rotated_per_s.0 += ROTATION_WEIGHT * (rate - self.rotated_per_s.0);
        }
        self.rotated_polls = self.rotated_polls.saturating_add(1);
    }

    /// The lap of `keys` at the rotation's measured pace, once enough polls
    /// measured it (`None` before, or when it stood still).
    pub fn measured_lap(&self, keys: usize) -> Option<Duration> {
        if self.rotated_polls < MEASURED_POLLS || self.rotated_per_s.0 <= 0.0 {
            return None;
        }
        #[expect(clippy::cast_precision_loss, reason = "a count of keys")]
        let secs = keys as f64 / self.rotated_per_s.0;
        Some(Duration::from_secs_f64(secs.min(1e9)))
    }

    /// The latency floor (µs): the fastest recent PING, never above the
    /// fastest round trip ever seen; 0 before any.
    pub fn floor_us(&self) -> f64 {
        let pings = self.pings.iter().copied().reduce(f64::min);
        pings.map_or(0.0, |p| p.min(self.fastest_us))
    }

    /// Redis time of one stream's refresh (its XINFO, and its share of
    /// the XRANGEs for time lags) on recent batches.
    pub fn refresh_us(&self) -> f64 {
        self.refresh.per_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_fills_with_wall_time_up_to_its_cap_and_pays_back_debt() {
        let cap = cap_us(STEADY_US_PER_S, Duration::from_secs(1));
        assert!((cap - 4_000.0).abs() < 1e-6);
        let mut b = Bucket::default();
        b.refill(Duration::from_secs(1), STEADY_US_PER_S, cap);
        assert!(b.affords(2_000.0) && !b.affords(2_001.0));
        // A long pause saves up no more than the cap.
        b.refill(Duration::from_secs(60), STEADY_US_PER_S, cap);
        assert!((b.credit_us() - cap).abs() < 1e-6);
        // A batch that cost more than foreseen is debt...
        b.spend(5_000.0, cap);
        assert!(!b.affords(0.0));
        // ...paid back before anything else fits.
        b.refill(Duration::from_millis(500), STEADY_US_PER_S, cap);
        assert!(!b.affords(1.0));
        b.refill(Duration::from_secs(1), STEADY_US_PER_S, cap);
        assert!(b.affords(1_000.0));
        // Debt is bounded by the cap.
        b.spend(1e9, cap);
        assert!((b.credit_us() + cap).abs() < 1e-6);
    }

    #[test]
    fn rates_are_the_warm_up_budget_then_the_steady_one() {
        let total = |(s, r): (f64, f64)| s + r;
        let rates = |found, read| rates(found, read, STEADY_US_PER_S, WARMUP_US_PER_S);
        assert!((total(rates(false, false)) - WARMUP_US_PER_S).abs() < 1e-6);
        assert!((total(rates(true, false)) - WARMUP_US_PER_S).abs() < 1e-6);
        assert!((total(rates(true, true)) - STEADY_US_PER_S).abs() < 1e-6);
        let (scan, _) = rates(true, true);
        assert!((scan - STEADY_US_PER_S * SCAN_SHARE).abs() < 1e-6);
    }

    #[test]
    fn a_round_trip_counts_its_time_less_the_latency_floor_never_zero() {
        // 100 pipelined commands in 700 µs, 200 µs of it the network.
        assert!((redis_time(700 * Duration::from_micros(1), 200.0, 1, 100) - 500.0).abs() < 1e-6);
        // Faster than the floor (jitter): still 1 µs a command.
        assert!((redis_time(Duration::from_micros(150), 200.0, 1, 100) - 100.0).abs() < 1e-6);
        // One at a time (a cluster): a floor per round trip.
        assert!((redis_time(Duration::from_micros(1_000), 90.0, 10, 10) - 100.0).abs() < 1e-6);
    }

    #[test]
    fn the_floor_is_the_fastest_recent_ping() {
        let mut c = Costs::default();
        assert!(c.floor_us().abs() < 1e-9, "no floor before a PING");
        c.ping(Duration::from_micros(80));
        c.ping(Duration::from_micros(50));
        c.ping(Duration::from_micros(300));
        assert!((c.floor_us() - 50.0).abs() < 1e-6);
        // The fast one ages out after FLOOR_SAMPLES others...
        for _ in 0..FLOOR_SAMPLES {
            c.ping(Duration::from_micros(90));
        }
        assert!(
            (c.floor_us() - 50.0).abs() < 1e-6,
            "...but was a round trip"
        );
        let mut slow = Costs::default();
        slow.ping(Duration::from_micros(400));
        // A batch of 4 round trips in 600 µs: no round trip takes 400 µs.
        slow.round_trips(Duration::from_micros(600), 4);
        assert!((slow.floor_us() - 150.0).abs() < 1e-6);
    }

    #[test]
    fn the_cost_per_key_weighs_batches_by_size_and_clips_stalls() {
        let mut c = BatchCost::new(20.0);
        for _ in 0..100 {
            c.add(100, 400.0);
        }
        assert!((c.per_key() - 4.0).abs() < 0.1, "{}", c.per_key());
        // Small batches, 60 µs of fixed part each, move it little.
        for _ in 0..10 {
            c.add(1, 64.0);
        }
        assert!(c.per_key() < 10.0, "{}", c.per_key());
        // A 30 ms stall on a batch of one is clipped.
        c.add(1, 30_000.0);
        assert!(c.per_key() < 10.0, "{}", c.per_key());
        // A lasting rise (streams with many consumers) gets through.
        for _ in 0..60 {
            c.add(100, 2_000.0);
        }
        assert!((c.per_key() - 20.0).abs() < 1.0, "{}", c.per_key());
        c.add(0, 1e9);
        assert!((c.of(100) - 2_000.0).abs() < 100.0);
    }

    #[test]
    fn the_measured_lap_follows_the_rotation_once_measured() {
        let mut c = Costs::default();
        for _ in 0..MEASURED_POLLS - 1 {
            c.rotated(8, Duration::from_secs(1));
        }
        assert_eq!(c.measured_lap(100_000), None, "not measured enough yet");
        c.rotated(8, Duration::from_secs(1));
        assert_eq!(c.measured_lap(100_000), Some(Duration::from_secs(12_500)));
    }

    #[test]
    fn count_shrinks_on_slow_steps_and_grows_on_fast_ones_within_bounds() {
        // 2.2 ms for COUNT 500 (the figure): halved at once...
        assert_eq!(adapt_count(500, 2_200.0), 250);
        // ...and again until a step is near the target.
        assert_eq!(adapt_count(250, 1_100.0), 125);
        assert_eq!(adapt_count(125, 550.0), 63);
        assert_eq!(adapt_count(63, 250.0), 63);
        // A fast step grows it, at most doubled.
        assert_eq!(adapt_count(100, 30.0), 200);
        assert_eq!(adapt_count(100, 200.0), 125);
        // Never outside the bounds.
        assert_eq!(adapt_count(COUNT_MAX, 1.0), COUNT_MAX);
        assert_eq!(adapt_count(COUNT_MIN, 1e6), COUNT_MIN);
        assert_eq!(adapt_count(0, 0.0), COUNT_MIN);
    }

    #[test]
    fn a_scan_step_is_always_affordable_again_after_a_stall() {
        let cap = cap_us(STEADY_US_PER_S * SCAN_SHARE, Duration::from_secs(1));
        let mut b = Bucket::default();
        // A 4 ms stall pushed the estimate above what the bucket can hold.
        let expected = expected_step(4_000.0, cap);
        b.refill(Duration::from_secs(60), STEADY_US_PER_S * SCAN_SHARE, cap);
        assert!(b.affords(expected), "{expected} of {cap}");
        assert!((expected_step(250.0, cap) - 250.0).abs() < 1e-9);
    }

    #[test]
    fn refreshes_fit_the_credit_and_batches_fit_the_stall_target() {
        assert_eq!(fits(1_500.0, 5.0), 300);
        assert_eq!(fits(-10.0, 5.0), 0);
        assert_eq!(fits(4.0, 5.0), 0);
        // 3.2 µs a stream: 78 in a batch; 20 µs: 12; huge: one at a time.
        assert_eq!(batch_size(3.2), 78);
        assert_eq!(batch_size(20.0), 12);
        assert_eq!(batch_size(10_000.0), 1);
        assert_eq!(batch_size(0.01), BATCH_MAX);
    }

    #[test]
    fn the_rotation_goes_no_faster_than_the_cycle() {
        let cycle = Duration::from_secs(50);
        assert_eq!(cycle_share(10_000, Duration::from_secs(1), cycle), 200);
        assert_eq!(cycle_share(10, Duration::from_secs(1), cycle), 1);
        assert_eq!(cycle_share(10_000, Duration::from_secs(100), cycle), 10_000);
    }

    #[test]
    fn the_revisit_period_grows_with_the_keyspace_and_is_rounded_up() {
        let cycle = Duration::from_secs(50);
        let rate = STEADY_US_PER_S * (1.0 - SCAN_SHARE) - 250.0;
        // 10,000 streams at 4 µs: 32 s of lap (40 s with the margin),
        // the cycle's 50 s stand.
        assert_eq!(revisit(10_000, 4.0, rate, cycle), cycle);
        // 100,000: 320 s, 400 s with the margin, said as 6m40s.
        assert_eq!(revisit(100_000, 4.0, rate, cycle), Duration::from_secs(400));
        // A million: 4,000 s, to the minute.
        assert_eq!(
            revisit(1_000_000, 4.0, rate, cycle),
            Duration::from_secs(4_020)
        );
        assert!(revisit(200_000, 4.0, rate, cycle) > revisit(100_000, 4.0, rate, cycle));
        // Nothing left for the rotation: long, never a division by zero.
        assert!(revisit(10, 4.0, 0.0, cycle) >= cycle);
    }
}
