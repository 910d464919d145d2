//! One overview row's figures as text, in column order: the table of
//! `monitor --all` and the dashboard's overview pane print the same cells.

use crate::monitor::keyspace::rows::Row;
use crate::output::fmt;

/// The columns after the key, in screen order: heading, width, and the
/// priority with which it is kept on a narrow screen (0 first).
pub const COLUMNS: [(&str, u16, u8); 10] = [
    ("length", 9, 4),
    ("groups", 6, 8),
    ("consumers", 9, 9),
    ("pending", 9, 0),
    ("lag", 9, 1),
    ("oldest pend", 11, 3),
    ("time lag", 8, 2),
    ("last entry", 10, 5),
    ("added/s", 8, 6),
    ("dead", 6, 7),
];
/// The figures of one row, in [`COLUMNS`] order.
pub fn cells(r: &Row, now_ms: u64) -> [String; 10] {
    let Some(stats) = &r.stats else {
        let waiting = if r.problem.is_some() { "n/a" } else { "…" };
        return std::array::from_fn(|_| waiting.to_owned());
    };
    let age = |ms: Option<u64>| ms.map_or_else(|| "-".to_owned(), fmt::age);
    let lag = match (r.group_count(), r.lag(), r.unknown_lags()) {
        (0, _, _) => "-".to_owned(),
        (_, None, _) => "unknown".to_owned(),
        (_, Some(l), 0) => fmt::count(l),
        (_, Some(l), _) => format!("{}+?", fmt::count(l)),
    };
    [
        fmt::count(stats.length),
        r.group_count().to_string(),
        fmt::count(r.consumers()),
        fmt::count(r.pending()),
        lag,
        age(r.oldest_pending_ms(now_ms)),
        age(r.time_lag_ms(now_ms)),
        age(r.last_entry_age_ms(now_ms)),
        match r.added_per_s {
            Some(rate) => fmt::rate(rate),
            // Redis < 7.0 counts no entries added: not knowable, not pending.
            None if stats.entries_added.is_none() => "?".to_owned(),
            None => "…".to_owned(),
        },
        r.dead.map_or_else(String::new, fmt::count),
    ]
}
