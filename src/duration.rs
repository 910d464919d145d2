//! Parsing of durations given on the command line, in the environment or
//! typed on the dashboard: `500ms`, `5s`, `2m`, `1h`.
//!
//! A unit is required. A bare number used to mean seconds, so
//! `--min-idle 1000` waited 1000 s where anyone who knows XAUTOCLAIM's
//! millisecond argument meant one second. Only `0` needs no unit: it means
//! the same in every unit.

use std::time::Duration;

/// The longest duration any setting accepts.
const MAX_SECS: f64 = 7.0 * 86_400.0;

/// Parse `<number><unit>` with unit ms, s, m, h or d (a bare `0` is
/// zero), or several in a row as the screen writes ages (`4m30s`,
/// `2h03m`, `3d04h`), so what is shown can be typed back.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let bad = || format!("'{s}' is not a duration: use e.g. 500ms, 5s, 2m, 4m30s or 1h");
    let mut secs = 0.0;
    let mut rest = t;
    let mut parts = 0;
    while !rest.is_empty() || parts == 0 {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(split);
        let value: f64 = num.parse().map_err(|_| bad())?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        secs += match unit.trim() {
            "ms" => value / 1000.0,
            "s" => value,
            "m" => value * 60.0,
            "h" => value * 3600.0,
            "d" => value * 86_400.0,
            "" if value == 0.0 && parts == 0 => 0.0,
            "" if parts == 0 => return Err(missing_unit(num)),
            _ => return Err(bad()),
        };
        parts += 1;
        rest = next;
    }
    if !secs.is_finite() || !(0.0..=MAX_SECS).contains(&secs) {
        return Err(format!("'{s}' is out of range: use at most 7 days"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `d` as a setting would be written (`0s`, `500ms`, `5s`, `2m`, `1h`),
/// so what a command echoes can be given back to it; sub-millisecond
/// durations, which no flag takes, keep Rust's own form.
pub fn show(d: Duration) -> String {
    let ms = d.as_millis();
    if !d.subsec_nanos().is_multiple_of(1_000_000) {
        return format!("{d:?}");
    }
    match ms {
        0 => "0s".to_owned(),
        ms if ms.is_multiple_of(3_600_000) => format!("{}h", ms / 3_600_000),
        ms if ms.is_multiple_of(60_000) => format!("{}m", ms / 60_000),
        ms if ms.is_multiple_of(1000) => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// The message for a bare number: both readings, so the user picks one.
fn missing_unit(num: &str) -> String {
    let as_seconds = num
        .parse::<u64>()
        .ok()
        .filter(|ms| *ms >= 1000 && ms % 1000 == 0)
        .map_or_else(String::new, |ms| format!(" (= {}s)", ms / 1000));
    format!("'{num}' has no unit: write {num}ms{as_seconds} for milliseconds or {num}s for seconds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_rejects_nonsense() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        for bad in ["", "abc", "5 parsecs", "-1s", "99999h", "s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shown_durations_parse_back() {
        for (text, ms) in [
            ("0s", 0),
            ("250ms", 250),
            ("1500ms", 1500),
            ("5s", 5000),
            ("2m", 120_000),
            ("1h", 3_600_000),
        ] {
            let d = Duration::from_millis(ms);
            assert_eq!(show(d), text);
            assert_eq!(parse_duration(text).unwrap(), d);
        }
    }

    /// The PEL filter's title writes `idle ≥ 4m30s`: typing that back works.
    #[test]
    fn ages_as_the_screen_writes_them_parse_back() {
        for (text, ms) in [
            ("4m30s", 270_000),
            ("2h03m", 7_380_000),
            ("1d02h", 93_600_000),
            ("4.2s", 4_200),
            ("1m500ms", 60_500),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
            assert_eq!(
                parse_duration(&show(Duration::from_millis(ms))),
                Ok(Duration::from_millis(ms))
            );
        }
        for bad in ["4m30", "m30s", "4mm", "4m 30s x"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn zero_needs_no_unit() {
        for zero in ["0", "00", "0.0", "0ms", "0s"] {
            assert_eq!(parse_duration(zero).unwrap(), Duration::ZERO, "{zero}");
        }
    }

    #[test]
    fn a_bare_number_is_rejected_with_both_readings() {
        let e = parse_duration("1000").unwrap_err();
        assert_eq!(
            e,
            "'1000' has no unit: write 1000ms (= 1s) for milliseconds or 1000s for seconds"
        );
        let e = parse_duration("3").unwrap_err();
        assert_eq!(
            e,
            "'3' has no unit: write 3ms for milliseconds or 3s for seconds"
        );
        assert!(parse_duration("1.5").unwrap_err().contains("1.5ms"));
    }
}
