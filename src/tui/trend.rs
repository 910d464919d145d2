//! Per-group trends, derived when a snapshot arrives: each group's lag
//! history (its sparkline), its ack rate, and when its backlog (entries
//! not yet delivered plus those delivered and not acked) clears at that
//! rate, net of what producers add meanwhile.

use std::collections::{HashMap, VecDeque};

use crate::monitor::{GroupSnapshot, Snapshot};

/// Lag samples kept per group.
pub const LAG_HISTORY: usize = 120;
/// Weight of the newest ack-rate sample (acks come in batches).
const SMOOTHING: f64 = 0.4;
/// A backlog the group works through in this long at its ack rate is what
/// it has in flight, not a queue to clear.
const IN_FLIGHT_SECONDS: f64 = 2.0;
/// Rates within this share of the ack rate balance: a smaller difference
/// is noise of two smoothed rates, and dividing by it gave "clears in"
/// figures of thousands of days on a steady queue.
const BALANCED: f64 = 0.05;

/// One group's trend.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupTrend {
    /// Known lags, oldest first (an unknown lag adds no sample: never 0).
    pub lag: VecDeque<u64>,
    /// Acks per second, smoothed; `None` until two polls knew entries-read.
    pub acked_per_s: Option<f64>,
    last: Option<Sample>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample {
    at_ms: u64,
    entries_read: Option<u64>,
    pending: u64,
}

/// When a group's backlog clears.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Eta {
    /// Nothing undelivered, nothing pending.
    Clear,
    /// In this many milliseconds at the current rates.
    In(u64),
    /// Acks do not keep up with production: the backlog grows this fast.
    Growing(f64),
    /// Acks keep pace with production and the backlog is what is in
    /// flight (done within [`IN_FLIGHT_SECONDS`] at the ack rate).
    KeepingUp,
    /// Acks and production balance over a backlog larger than that: it
    /// neither clears nor grows noticeably.
    Steady,
    /// A backlog, and no acks at all.
    Stalled,
    /// Redis does not know the lag.
    Unknown,
    /// Two polls have not been seen yet.
    Measuring,
}

/// Take one snapshot into the trends of its groups (and forget groups
/// that are gone).
pub fn on_snapshot(trends: &mut HashMap<String, GroupTrend>, snap: &Snapshot) {
    trends.retain(|name, _| snap.group(name).is_some());
    for g in &snap.groups {
        let trend = trends.entry(g.info.name.clone()).or_default();
        trend.push(g, snap.taken_ms);
    }
}

impl GroupTrend {
    fn push(&mut self, g: &GroupSnapshot, at_ms: u64) {
        if let Some(lag) = g.info.lag {
            self.lag.push_back(lag);
            while self.lag.len() > LAG_HISTORY {
                self.lag.pop_front();
            }
        }
        let now = Sample {
            at_ms,
            entries_read: g.info.entries_read,
            pending: g.info.pending,
        };
        if let Some(before) = self.last
            && let (Some(read), Some(read_before)) = (now.entries_read, before.entries_read)
            && now.at_ms > before.at_ms
        {
            // Acked = newly read minus growth of the PEL (claims change neither).
            let acked =
                (read.saturating_sub(read_before) + before.pending).saturating_sub(now.pending);
            #[expect(clippy::cast_precision_loss, reason = "a rate for display")]
            let rate = acked as f64 * 1000.0 / (now.at_ms - before.at_ms) as f64;
            self.acked_per_s = Some(match self.acked_per_s {
                Some(old) => old + SMOOTHING * (rate - old),
                None => rate,
            });
        }
        self.last = Some(now);
    }

    /// When `g`'s backlog clears, with entries added at `added_per_s`.
    pub fn eta(&self, g: &GroupSnapshot, added_per_s: f64) -> Eta {
        let Some(lag) = g.info.lag else {
            return Eta::Unknown;
        };
        let backlog = lag + g.info.pending;
        if backlog == 0 {
            return Eta::Clear;
        }
        let Some(acked) = self.acked_per_s else {
            return Eta::Measuring;
        };
        let net = acked - added_per_s;
        #[expect(clippy::cast_precision_loss, reason = "a count against a rate")]
        let backlog_f = backlog as f64;
        if acked < 0.05 {
            Eta::Stalled
        } else if net.abs() <= BALANCED * acked {
            if backlog_f <= acked * IN_FLIGHT_SECONDS {
                Eta::KeepingUp
            } else {
                Eta::Steady
            }
        } else if net < 0.0 {
            Eta::Growing(-net)
        } else {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss,
                reason = "a positive duration in ms"
            )]
            let ms = (backlog as f64 / net * 1000.0).round() as u64;
            Eta::In(ms)
        }
    }
}

/// A sparkline of `values` in `width` cells (the newest at the right),
/// scaled to their own maximum; a zero is the lowest bar.
pub fn sparkline(values: &VecDeque<u64>, width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let shown: Vec<u64> = values
        .iter()
        .skip(values.len().saturating_sub(width))
        .copied()
        .collect();
    let max = shown.iter().copied().max().unwrap_or(0).max(1);
    shown
        .iter()
        .map(|v| {
            let i = usize::try_from(v.saturating_mul(7) / max).unwrap_or(7);
            BARS[i.min(7)]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::GroupInfo;

    fn group(lag: Option<u64>, read: Option<u64>, pending: u64) -> GroupSnapshot {
        GroupSnapshot {
            info: GroupInfo {
                name: "g".into(),
                lag,
                entries_read: read,
                pending,
                ..GroupInfo::default()
            },
            ..GroupSnapshot::default()
        }
    }

    fn trend(samples: &[(u64, GroupSnapshot)]) -> GroupTrend {
        let mut t = GroupTrend::default();
        for (at, g) in samples {
            t.push(g, *at);
        }
        t
    }

    #[test]
    fn acks_are_reads_minus_pel_growth_and_the_backlog_clears_net_of_production() {
        // 1 s apart: 100 read, PEL 10 -> 30, so 80 acked.
        let t = trend(&[
            (0, group(Some(500), Some(1_000), 10)),
            (1_000, group(Some(420), Some(1_100), 30)),
        ]);
        assert_eq!(t.acked_per_s, Some(80.0));
        let now = group(Some(420), Some(1_100), 30);
        // 450 to clear at 80 - 20 = 60 a second: 7.5 s.
        assert_eq!(t.eta(&now, 20.0), Eta::In(7_500));
        assert_eq!(t.eta(&now, 100.0), Eta::Growing(20.0));
        assert_eq!(t.eta(&group(Some(0), Some(1_100), 0), 20.0), Eta::Clear);
        assert_eq!(t.lag, [500, 420]);
    }

    #[test]
    fn an_unknown_lag_is_never_a_zero_and_gives_no_eta() {
        let t = trend(&[(0, group(None, None, 5)), (1_000, group(None, None, 5))]);
        assert!(t.lag.is_empty());
        assert_eq!(t.acked_per_s, None);
        assert_eq!(t.eta(&group(None, None, 5), 0.0), Eta::Unknown);
        let stuck = trend(&[
            (0, group(Some(9), Some(10), 5)),
            (1_000, group(Some(9), Some(10), 5)),
        ]);
        assert_eq!(stuck.eta(&group(Some(9), Some(10), 5), 0.0), Eta::Stalled);
    }

    #[test]
    fn a_steady_queue_is_keeping_up_not_clearing_in_days() {
        // 20 read and 20 acked a second, one entry in flight, 20 added.
        let t = trend(&[
            (0, group(Some(0), Some(1_000), 1)),
            (1_000, group(Some(0), Some(1_020), 1)),
        ]);
        assert_eq!(t.acked_per_s, Some(20.0));
        let now = group(Some(0), Some(1_020), 1);
        assert_eq!(t.eta(&now, 19.99), Eta::KeepingUp);
        assert_eq!(t.eta(&now, 20.5), Eta::KeepingUp);
        let deep = group(Some(5_000), Some(1_020), 1);
        assert_eq!(t.eta(&deep, 19.99), Eta::Steady);
        assert_eq!(t.eta(&deep, 10.0), Eta::In(500_100));
    }

    #[test]
    fn sparklines_scale_to_their_maximum_and_keep_the_newest() {
        let v: VecDeque<u64> = [0, 1, 2, 4, 8].into();
        assert_eq!(sparkline(&v, 10), "▁▁▂▄█");
        assert_eq!(sparkline(&v, 2), "▄█");
        assert_eq!(sparkline(&VecDeque::new(), 5), "");
    }
}
