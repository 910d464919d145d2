//! The overview pane: one row per stream, the columns that fit the width
//! (most telling first), sorted and filtered as the overview state says.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row as TableRow, Table};

use crate::monitor::overview::rows::Row;
use crate::monitor::snapshot::lag_unknown_reason;
use crate::tui::fmt;
use crate::tui::panes::{dim, header_style};
use crate::tui::state::State;

/// The columns after the key, in screen order: heading, width, and the
/// priority with which it is kept on a narrow screen (0 first).
const COLUMNS: [(&str, u16, u8); 10] = [
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
/// The key column never gets narrower than this.
const MIN_KEY: u16 = 20;

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

/// Which columns fit in `width` (indices into [`COLUMNS`], screen order).
pub fn fitting(width: u16) -> Vec<usize> {
    let mut room = width.saturating_sub(2 + MIN_KEY);
    let mut by_priority: Vec<usize> = (0..COLUMNS.len()).collect();
    by_priority.sort_by_key(|i| COLUMNS[*i].2);
    let mut kept = Vec::new();
    for i in by_priority {
        let need = COLUMNS[i].1 + 1;
        if need <= room {
            room -= need;
            kept.push(i);
        }
    }
    kept.sort_unstable();
    kept
}

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let o = &state.overview;
    let shown = o.order.len();
    let filter = o
        .filter
        .as_ref()
        .map_or_else(String::new, |f| format!(" matching {f}"));
    let title = format!(
        " Streams{filter}: {} of {} · sorted by {} ",
        fmt::count(shown as u64),
        fmt::count(o.rows.len() as u64),
        o.sort.label()
    );
    let mut block = super::block(title, None, state);
    if let Some(problem) = o.selected_row().and_then(|r| r.problem.as_ref()) {
        block = block.title_bottom(Line::styled(format!(" {problem} "), dim()));
    }
    // An unknown lag says why once, for the rows on screen that have one.
    if o.page().any(|r| r.stats.is_some() && r.unknown_lags() > 0) {
        let why = lag_unknown_reason(state.server.as_ref());
        let note = Line::styled(format!(" lag unknown: {why} "), dim());
        block = block.title_bottom(note);
    }
    if o.order.is_empty() {
        let text = if !o.scan_complete {
            "looking for streams (SCAN … TYPE stream, in steps)…"
        } else if o.filter.is_some() {
            "no stream matches the filter (Esc clears it)"
        } else {
            "no streams in this database"
        };
        frame.render_widget(Paragraph::new(text).style(dim()).block(block), area);
        return;
    }
    let columns = fitting(area.width);
    let mut widths = vec![Constraint::Fill(1)];
    widths.extend(columns.iter().map(|i| Constraint::Length(COLUMNS[*i].1)));
    let mut heading = vec!["stream"];
    heading.extend(columns.iter().map(|i| COLUMNS[*i].0));
    let chosen = o.cursor();
    let rows = o.page().enumerate().map(|(n, r)| {
        let all = cells(r, state.now_ms);
        let mut line = vec![o.label(r)];
        line.extend(columns.iter().map(|i| all[*i].clone()));
        let row = TableRow::new(line).style(style(r));
        if o.top + n == chosen {
            row.style(super::selected_style())
        } else {
            row
        }
    });
    let table = Table::new(rows, widths)
        .header(TableRow::new(heading).style(header_style()))
        .block(block);
    frame.render_widget(table, area);
}

/// The overview's header: server and link, what is listed, its cost.
pub fn header(frame: &mut Frame, area: Rect, state: &State) {
    let o = &state.overview;
    let taken = (o.taken_ms > 0).then_some(o.taken_ms);
    let scope = o.pattern.as_ref().map_or_else(
        || "every stream".to_owned(),
        |p| format!("streams matching {p}"),
    );
    let progress = if !o.scan_complete {
        "  scanning the keyspace (SCAN … TYPE stream, in steps)…".to_owned()
    } else if o.unrefreshed > 0 {
        format!("  {} not read yet", fmt::count(o.unrefreshed as u64))
    } else {
        String::new()
    };
    let lines = vec![
        super::header::server_line(state, o.link.as_ref(), taken),
        Line::from(vec![
            Span::raw(format!(" {scope}  ")),
            Span::styled(state.access.label(), Style::new().fg(Color::Green)),
            Span::styled(progress, dim()),
        ]),
        Line::raw(format!(
            " overview: {} cmds last poll = {:.0} cmds/s, rtt {:.1}ms; rows on screen each poll, the rest in rotation",
            o.commands_per_poll,
            o.commands_per_s,
            micros_as_ms(o.round_trip_us)
        )),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

#[expect(clippy::cast_precision_loss, reason = "microseconds for display")]
fn micros_as_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Streams with pending entries stand out; dead letters are red.
fn style(r: &Row) -> Style {
    if r.dead.is_some_and(|d| d > 0) {
        Style::new().fg(Color::Red)
    } else if r.pending() > 0 {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new()
    }
}
