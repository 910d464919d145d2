//! Stream entry ids (`<ms>-<seq>`), parsed so they can be compared and aged.

use std::fmt;
use std::str::FromStr;

/// A stream entry id. Ordering is the stream's own order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EntryId {
    pub ms: u64,
    pub seq: u64,
}

impl EntryId {
    pub const ZERO: EntryId = EntryId { ms: 0, seq: 0 };

    /// Parse the canonical `ms-seq` form straight from reply bytes; `None`
    /// for anything else (callers fall back to [`FromStr`], which is
    /// lenient). Every drained entry's id goes through here, and the
    /// generic path (UTF-8 check, trim, split, two `parse`) cost ~5x more.
    pub fn from_canonical(b: &[u8]) -> Option<Self> {
        fn number(digits: &[u8]) -> Option<u64> {
            if digits.is_empty() || digits.len() > 20 {
                return None;
            }
            digits.iter().try_fold(0u64, |n, &d| {
                d.is_ascii_digit()
                    .then_some(())
                    .and_then(|()| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
            })
        }
        let dash = b.iter().position(|&c| c == b'-')?;
        Some(Self {
            ms: number(&b[..dash])?,
            seq: number(&b[dash + 1..])?,
        })
    }

    /// The smallest id after this one (`None` past the largest id), so a
    /// range can continue after its last entry without the `(` syntax of
    /// Redis 6.2+.
    pub fn next(self) -> Option<Self> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(Self { ms: self.ms, seq }),
            None => Some(Self {
                ms: self.ms.checked_add(1)?,
                seq: 0,
            }),
        }
    }

    /// The largest id before this one (`None` before `0-0`).
    pub fn prev(self) -> Option<Self> {
        match self.seq.checked_sub(1) {
            Some(seq) => Some(Self { ms: self.ms, seq }),
            None => Some(Self {
                ms: self.ms.checked_sub(1)?,
                seq: u64::MAX,
            }),
        }
    }

    /// Milliseconds between this id's timestamp and `now_ms` (0 if in the future).
    pub fn age_ms(self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.ms)
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl FromStr for EntryId {
    type Err = String;

    /// Accepts `ms-seq` and a bare `ms` (which Redis reads as `ms-0`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
        let bad = || {
            format!(
                "'{s}' is not a stream id: expected <milliseconds>-<sequence>, e.g. 1700000000000-0"
            )
        };
        Ok(Self {
            ms: ms.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

/// Writes `ms-seq` straight into the command buffer: the worker's XACK
/// carries hundreds of ids per call, and `to_string()` per id was one
/// allocation each.
impl ::redis::ToRedisArgs for EntryId {
    fn write_redis_args<W>(&self, out: &mut W)
    where
        W: ?Sized + ::redis::RedisWrite,
    {
        let mut buf = [0u8; 41];
        let mut end = buf.len();
        for (i, n) in [self.seq, self.ms].into_iter().enumerate() {
            if i == 1 {
                end -= 1;
                buf[end] = b'-';
            }
            let mut n = n;
            loop {
                end -= 1;
                // `n % 10` is below 10, so the cast cannot truncate.
                buf[end] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
        }
        out.write_arg(&buf[end..]);
    }
}

impl serde::Serialize for EntryId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Milliseconds since the Unix epoch, as Redis stamps ids.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_orders_and_prints_ids() {
        let a: EntryId = "1700000000000-5".parse().unwrap();
        let b: EntryId = "1700000000001".parse().unwrap();
        assert!(a < b);
        assert_eq!(b.to_string(), "1700000000001-0");
        assert_eq!(a.age_ms(1_700_000_000_100), 100);
        assert!("12-x".parse::<EntryId>().is_err());
        assert!("$".parse::<EntryId>().is_err());
    }

    #[test]
    fn neighbours_step_over_the_sequence_boundary() {
        let id = |ms, seq| EntryId { ms, seq };
        assert_eq!(id(5, 1).next(), Some(id(5, 2)));
        assert_eq!(id(5, u64::MAX).next(), Some(id(6, 0)));
        assert_eq!(id(u64::MAX, u64::MAX).next(), None);
        assert_eq!(id(5, 1).prev(), Some(id(5, 0)));
        assert_eq!(id(6, 0).prev(), Some(id(5, u64::MAX)));
        assert_eq!(EntryId::ZERO.prev(), None);
    }

    #[test]
    fn canonical_ids_parse_from_bytes_like_from_str() {
        for text in [
            "0-0",
            "1700000000000-5",
            "18446744073709551615-18446744073709551615",
        ] {
            assert_eq!(
                EntryId::from_canonical(text.as_bytes()),
                Some(text.parse().unwrap())
            );
        }
        for odd in [
            "",
            "-",
            "5",
            "5-",
            "-5",
            "1-2-3",
            " 1-2",
            "+1-2",
            "18446744073709551616-0",
        ] {
            assert_eq!(EntryId::from_canonical(odd.as_bytes()), None, "{odd}");
        }
    }

    #[test]
    fn ids_as_command_arguments_match_display() {
        use ::redis::ToRedisArgs;
        for id in [
            EntryId::ZERO,
            EntryId { ms: 1, seq: 10 },
            EntryId {
                ms: u64::MAX,
                seq: u64::MAX,
            },
            "1700000000000-5".parse().unwrap(),
        ] {
            assert_eq!(id.to_redis_args(), vec![id.to_string().into_bytes()]);
        }
    }
}
