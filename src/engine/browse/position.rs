//! Where a walk through a stream starts or stops, as a person writes it:
//! an id (`1700000000000-0`) or its millisecond part, `-` / `+` (the
//! stream's ends), an RFC 3339 time (`2026-12-05T07:58:00Z`), a local time
//! (`2026-12-05 07:58`), or an age (`15m`: that long ago). Times become
//! ids through the milliseconds every id starts with.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::redis::EntryId;

/// A parsed position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// `-`: before the oldest entry.
    Start,
    /// `+`: after the newest entry.
    End,
    /// A whole id.
    Id(EntryId),
    /// A millisecond: a time, an age, or an id's millisecond part alone
    /// (which Redis reads as its first id as a start, its last as an end).
    Ms(u64),
}

impl Position {
    /// The first id at or after this position (`None`: the stream's start).
    pub fn lower(self) -> Option<EntryId> {
        match self {
            Self::Start => None,
            Self::End => Some(EntryId {
                ms: u64::MAX,
                seq: u64::MAX,
            }),
            Self::Id(id) => Some(id),
            Self::Ms(ms) => Some(EntryId { ms, seq: 0 }),
        }
    }

    /// The last id at or before this position (`None`: the stream's end).
    pub fn upper(self) -> Option<EntryId> {
        match self {
            Self::Start => Some(EntryId::ZERO),
            Self::End => None,
            Self::Id(id) => Some(id),
            Self::Ms(ms) => Some(EntryId { ms, seq: u64::MAX }),
        }
    }
}

/// What a position may be, for error messages.
pub const POSITION_FORMS: &str = "an id (1700000000000-0, or its milliseconds), - or +, an RFC 3339 time (2026-12-05T07:58:00Z), a local time (2026-12-05 07:58) or an age (15m, 2h)";

/// Parse `text` as a position, `now_ms` and `tz` giving ages and local
/// times their meaning.
pub fn parse_position(text: &str, now_ms: u64, tz: &TimeZone) -> Result<Position, String> {
    let t = text.trim();
    let bad = || format!("'{t}' is not a position: use {POSITION_FORMS}");
    match t {
        "" => return Err(bad()),
        "-" => return Ok(Position::Start),
        "+" => return Ok(Position::End),
        _ => {}
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map(Position::Ms).map_err(|_| bad());
    }
    if let Some((ms, seq)) = t.split_once('-')
        && !ms.is_empty()
        && !seq.is_empty()
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && !seq.contains('-')
    {
        return t.parse().map(Position::Id).map_err(|_| bad());
    }
    if let Some(age) = age_ms(t) {
        return Ok(Position::Ms(now_ms.saturating_sub(age)));
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return millis(ts).map(Position::Ms).ok_or_else(bad);
    }
    let local = t.parse::<DateTime>().or_else(|_| {
        t.parse::<jiff::civil::Date>()
            .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
    });
    if let Ok(dt) = local {
        let ts = dt.to_zoned(tz.clone()).map_err(|_| bad())?.timestamp();
        return millis(ts).map(Position::Ms).ok_or_else(bad);
    }
    Err(bad())
}

/// Milliseconds since the epoch; `None` before it (no id is).
fn millis(ts: Timestamp) -> Option<u64> {
    u64::try_from(ts.as_millisecond()).ok()
}

/// `15m`, `2h`, `90s`, `500ms`, `3d` as milliseconds.
fn age_ms(t: &str) -> Option<u64> {
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let per = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(per)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    fn at(text: &str) -> Result<Position, String> {
        parse_position(text, NOW, &TimeZone::fixed(jiff::tz::offset(2)))
    }

    #[test]
    fn every_form_parses() {
        let id = EntryId {
            ms: 1_700_000_000_000,
            seq: 3,
        };
        assert_eq!(at("1700000000000-3"), Ok(Position::Id(id)));
        assert_eq!(at("1700000000000"), Ok(Position::Ms(1_700_000_000_000)));
        assert_eq!(at("-"), Ok(Position::Start));
        assert_eq!(at(" + "), Ok(Position::End));
        assert_eq!(at("15m"), Ok(Position::Ms(NOW - 900_000)));
        assert_eq!(at("2h"), Ok(Position::Ms(NOW - 7_200_000)));
        assert_eq!(at("1d"), Ok(Position::Ms(NOW - 86_400_000)));
        // 2026-12-05T07:58:00Z
        let utc = 1_796_457_480_000;
        assert_eq!(at("2026-12-05T07:58:00Z"), Ok(Position::Ms(utc)));
        assert_eq!(at("2026-12-05T09:58:00+02:00"), Ok(Position::Ms(utc)));
        // Local (UTC+2 here): 09:58 local is 07:58 UTC.
        assert_eq!(at("2026-12-05 09:58"), Ok(Position::Ms(utc)));
        assert_eq!(at("2026-12-05T09:58"), Ok(Position::Ms(utc)));
        assert_eq!(
            at("2026-12-05"),
            Ok(Position::Ms(utc - (9 * 60 + 58) * 60_000))
        );
    }

    #[test]
    fn nonsense_is_refused_naming_the_forms() {
        for bad in [
            "",
            "yesterday",
            "12-x",
            "15 minutes",
            "2026-13-40",
            "1-2-3",
            "-5",
            "5y",
        ] {
            let err = at(bad).expect_err(bad);
            assert!(
                err.contains("is not a position") && err.contains("RFC 3339"),
                "{err}"
            );
        }
    }

    #[test]
    fn bounds_follow_redis_reading_of_incomplete_ids() {
        assert_eq!(Position::Ms(7).lower(), Some(EntryId { ms: 7, seq: 0 }));
        assert_eq!(
            Position::Ms(7).upper(),
            Some(EntryId {
                ms: 7,
                seq: u64::MAX
            })
        );
        assert_eq!(Position::Start.lower(), None);
        assert_eq!(Position::End.upper(), None);
    }
}
