//! Text formats shared by the panes: ages, ids, counts, rates, clock times.

use crate::redis::EntryId;

/// A duration in milliseconds, short: `850ms`, `4.2s`, `37s`, `4m05s`, `2h03m`, `3d04h`.
pub fn age(ms: u64) -> String {
    let s = ms / 1000;
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..10_000 => format!("{}.{}s", s, (ms % 1000) / 100),
        10_000..60_000 => format!("{s}s"),
        60_000..3_600_000 => format!("{}m{:02}s", s / 60, s % 60),
        3_600_000..86_400_000 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

pub fn id(id: Option<EntryId>) -> String {
    id.map_or_else(|| "-".to_owned(), |i| i.to_string())
}

/// `1234567` as `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A per-second rate: one decimal below 10, whole above.
pub fn rate(r: f64) -> String {
    if r < 10.0 {
        format!("{r:.1}/s")
    } else {
        format!("{r:.0}/s")
    }
}

/// Time of day (UTC, like stream ids) of a millisecond timestamp.
pub fn clock(ms: u64) -> String {
    let s = (ms / 1000) % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
}

/// `text` in at most `width` characters, cut at the end with `…`.
pub fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A name in at most `width` characters, its middle replaced by `…` when
/// it is longer: names that share a long prefix (`streaq:emails:queues:low`
/// and `:high`) stay told apart by their ends.
pub fn fit_name(name: &str, width: usize) -> String {
    let n = name.chars().count();
    if n <= width {
        return name.to_owned();
    }
    if width < 5 {
        return cut(name, width);
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let start: String = name.chars().take(head).collect();
    let end: String = name.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(age(850), "850ms");
        assert_eq!(age(4_250), "4.2s");
        assert_eq!(age(245_000), "4m05s");
        assert_eq!(age(7_380_000), "2h03m");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(rate(2.54), "2.5/s");
        assert_eq!(rate(120.4), "120/s");
        assert_eq!(clock(1_700_000_000_000), "22:13:20");
    }

    #[test]
    fn long_names_keep_their_ends_and_say_they_were_cut() {
        let low = fit_name("streaq:emails:queues:low", 20);
        let high = fit_name("streaq:emails:queues:high", 20);
        assert_eq!(low.chars().count(), 20);
        assert!(low.contains('…') && low.ends_with(":low"), "{low}");
        assert_ne!(low, high);
        assert_eq!(fit_name("short", 20), "short");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
    }
}
