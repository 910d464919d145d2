//! Which consumers are stuck, from figures a poll already has: a pure
//! function of one consumer's XINFO CONSUMERS row and the idle time of its
//! oldest pending entry, so the dashboard, `monitor --json` and any other
//! reader call a consumer the same thing.
//!
//! What the figures mean depends on the server:
//! - `idle` is the time since the consumer last *tried* to read on Redis
//!   7.2+ and Valkey (a read that returns nothing counts), but since it
//!   last *got* entries on Redis 6.2 and 7.0 (measured: an empty
//!   `XREADGROUP ... BLOCK 100` leaves 7.0's idle growing, Valkey 9.1's
//!   back at 0);
//! - `inactive` (Redis 7.2+, Valkey) is the time since it last got entries.
//!
//! Every entry a consumer holds was delivered no later than its last
//! successful read, so its oldest pending entry has been idle at least
//! `inactive` (or, where that is not reported, `idle`): a consumer that
//! was not probed for its oldest entry can still be called stalled.

use crate::redis::ConsumerInfo;

/// `--stuck-after` unless given: how long a pending entry may sit before
/// its consumer is diagnosed.
pub const DEFAULT_STUCK_AFTER_MS: u64 = 5 * 60 * 1000;
/// `--poison-after` unless given: deliveries that make an entry poison.
pub const DEFAULT_POISON_AFTER: u64 = 3;

/// The thresholds every diagnosis reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// A pending entry idle this long is stuck.
    pub stuck_after_ms: u64,
    /// An entry delivered this many times is poison.
    pub poison_after: u64,
}

impl Thresholds {
    pub fn new(stuck_after: std::time::Duration, poison_after: u64) -> Self {
        Self {
            stuck_after_ms: u64::try_from(stuck_after.as_millis()).unwrap_or(u64::MAX),
            poison_after,
        }
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            stuck_after_ms: DEFAULT_STUCK_AFTER_MS,
            poison_after: DEFAULT_POISON_AFTER,
        }
    }
}

/// What is wrong with a consumer, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Diagnosis {
    /// It holds entries idle past the threshold and has not read for as
    /// long: dead, hung, or blocked in a read with no timeout.
    Stalled,
    /// It holds entries idle past the threshold while it keeps reading:
    /// it leaves some entries unacked and nothing retries them.
    Leaking,
    /// No pending entries and idle for an hour or more, or no successful
    /// read for an hour or more ([`crate::monitor::is_ghost`]).
    Ghost,
}

impl Diagnosis {
    /// The word in `monitor --json` (`"diagnosis"`) and on screen.
    pub fn label(self) -> &'static str {
        match self {
            Self::Stalled => "stalled",
            Self::Leaking => "leaking",
            Self::Ghost => "ghost",
        }
    }
}

/// Diagnose `c`, whose oldest pending entry has been idle
/// `oldest_pending_idle_ms` (when it was read). Holding stuck entries
/// comes first: a consumer that holds them is stalled or leaking even if
/// it also looks like a ghost.
pub fn diagnose(
    c: &ConsumerInfo,
    oldest_pending_idle_ms: Option<u64>,
    stuck_after_ms: u64,
) -> Option<Diagnosis> {
    if c.pending > 0 && oldest_idle_at_least(c, oldest_pending_idle_ms) >= stuck_after_ms {
        return Some(if c.idle_ms >= stuck_after_ms {
            Diagnosis::Stalled
        } else {
            Diagnosis::Leaking
        });
    }
    crate::monitor::is_ghost(c).then_some(Diagnosis::Ghost)
}

/// What is known of the oldest pending entry's idle time: the figure read,
/// or at least the time since the consumer last got entries.
fn oldest_idle_at_least(c: &ConsumerInfo, read: Option<u64>) -> u64 {
    let since_last_success = c.inactive_ms.unwrap_or(c.idle_ms);
    read.unwrap_or(0).max(since_last_success)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60_000;
    const STUCK: u64 = 5 * MIN;

    fn consumer(pending: u64, idle_ms: u64, inactive_ms: Option<u64>) -> ConsumerInfo {
        ConsumerInfo {
            name: "c".into(),
            pending,
            idle_ms,
            inactive_ms,
        }
    }

    #[test]
    fn a_consumer_that_holds_old_entries_and_does_not_read_is_stalled() {
        // Killed 4m34s ago on 7.0, holding entries delivered before that.
        let dead = consumer(12, 6 * MIN, None);
        assert_eq!(
            diagnose(&dead, Some(6 * MIN), STUCK),
            Some(Diagnosis::Stalled)
        );
        // Not probed: the time since its last read is a lower bound.
        assert_eq!(diagnose(&dead, None, STUCK), Some(Diagnosis::Stalled));
    }

    #[test]
    fn a_consumer_that_holds_old_entries_and_keeps_reading_is_leaking() {
        // FastStream: failed tasks stay pending, new ones are read and acked.
        let leaky = consumer(3, 200, Some(400));
        assert_eq!(
            diagnose(&leaky, Some(20 * MIN), STUCK),
            Some(Diagnosis::Leaking)
        );
        // Its oldest entry was not read: nothing says it is stuck.
        assert_eq!(diagnose(&leaky, None, STUCK), None);
    }

    #[test]
    fn fresh_entries_or_none_are_healthy() {
        assert_eq!(diagnose(&consumer(40, 100, None), Some(2_000), STUCK), None);
        assert_eq!(diagnose(&consumer(0, 100, None), None, STUCK), None);
        // Just under the threshold.
        assert_eq!(
            diagnose(&consumer(1, STUCK - 1, None), Some(STUCK - 1), STUCK),
            None
        );
        assert_eq!(
            diagnose(&consumer(1, 10, None), Some(STUCK), STUCK),
            Some(Diagnosis::Leaking)
        );
    }

    #[test]
    fn inactive_sharpens_the_call_on_7_2_and_later() {
        // Valkey: it polls (idle 150 ms) but has got nothing for 20 minutes,
        // so everything it holds is at least that old: leaking, unprobed.
        let polling = consumer(2, 150, Some(20 * MIN));
        assert_eq!(diagnose(&polling, None, STUCK), Some(Diagnosis::Leaking));
        // Blocked in a read with no timeout: no attempt for 10 minutes.
        let blocked = consumer(2, 10 * MIN, Some(10 * MIN));
        assert_eq!(
            diagnose(&blocked, Some(10 * MIN), STUCK),
            Some(Diagnosis::Stalled)
        );
    }

    #[test]
    fn ghosts_hold_nothing_and_stuck_entries_win_over_ghostliness() {
        let hour = 60 * MIN;
        assert_eq!(
            diagnose(&consumer(0, 2 * hour, None), None, STUCK),
            Some(Diagnosis::Ghost)
        );
        assert_eq!(
            diagnose(&consumer(4, 2 * hour, Some(2 * hour)), None, STUCK),
            Some(Diagnosis::Stalled)
        );
    }

    #[test]
    fn thresholds_default_to_five_minutes_and_three_deliveries() {
        let t = Thresholds::default();
        assert_eq!((t.stuck_after_ms, t.poison_after), (5 * MIN, 3));
        assert_eq!(Diagnosis::Leaking.label(), "leaking");
    }
}
