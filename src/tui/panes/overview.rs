//! The overview pane: one row per stream, the columns that fit the width
//! (most telling first), sorted and filtered as the overview state says.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row as TableRow, Table};

use crate::monitor::keyspace::rows::Row;
use crate::monitor::snapshot::lag_unknown_reason;
use crate::output::fmt;
use crate::output::stream_cells::{COLUMNS, cells};
use crate::tui::panes::{dim, header_style};
use crate::tui::state::State;

/// The key column never gets narrower than this.
const MIN_KEY: u16 = 20;

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
    let used: u16 = columns.iter().map(|i| COLUMNS[*i].1 + 1).sum();
    let key_width = usize::from(area.width.saturating_sub(2 + used));
    let rows = o.page().enumerate().map(|(n, r)| {
        let all = cells(r, state.now_ms);
        let mut line = vec![key_cell(state, r, key_width)];
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

/// A stream's name in `width` columns (its middle cut with `…` when
/// longer, so names sharing a prefix stay apart), with `⚠N` when N of its
/// consumers are stalled or leaking.
fn key_cell(state: &State, r: &Row, width: usize) -> String {
    let stuck = r.stuck(state.now_ms, state.thresholds.stuck_after_ms);
    let mark = if stuck > 0 {
        format!(" ⚠{stuck}")
    } else {
        String::new()
    };
    let room = width.saturating_sub(mark.chars().count());
    format!("{}{mark}", fmt::fit_name(&state.overview.label(r), room))
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
        Line::raw(format!(" overview: {}", cost_line(o))),
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

/// What the overview costs Redis and how fresh its rows are: `each row
/// refreshed within 4m10s` once the first pass is done (the period grows
/// with the keyspace), the first pass's stated budget before.
pub fn cost_line(o: &crate::tui::overview::OverviewView) -> String {
    #[expect(clippy::cast_precision_loss, reason = "a budget for display")]
    let budget_ms = o.budget_us_per_s as f64 / 1000.0;
    let freshness = o.refresh_within.map_or_else(
        || format!("first pass at up to {budget_ms:.0} ms of Redis time/s"),
        |p| format!("each row refreshed within {}", fmt::age(duration_ms(p))),
    );
    format!(
        "{freshness}, rows on screen every poll; {:.0} cmds/s, ~{:.1} of {budget_ms:.0} ms Redis time/s, rtt {:.1}ms",
        o.commands_per_s,
        o.redis_ms_per_s,
        micros_as_ms(o.round_trip_us)
    )
}

fn duration_ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
