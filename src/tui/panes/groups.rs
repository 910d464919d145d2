//! The groups pane: one row per consumer group with what XINFO GROUPS and
//! the XPENDING summary report, lags read from entry ids, each group's lag
//! trend (a sparkline over the last polls) and when its backlog clears at
//! the current ack rate. Every group is listed and selectable; groups past
//! the poll's detail cap show XINFO GROUPS' figures until selected.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table, TableState};

use crate::monitor::snapshot::lag_unknown_reason;
use crate::monitor::{GroupSnapshot, LinkState};
use crate::output::fmt;
use crate::redis::GroupInfo;
use crate::tui::access::Needs;
use crate::tui::panes::{block, dim, header_style, selected};
use crate::tui::state::{Pane, State};
use crate::tui::trend::{Eta, sparkline};

/// Cells of the lag sparkline.
const TREND_WIDTH: u16 = 8;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let snap = state.snapshot.as_ref();
    let names = state.group_names();
    if names.is_empty() {
        let text = if let Some(LinkState::Refused { error }) = &state.link {
            // Not "no groups": the groups could not be read.
            format!(
                "cannot read '{}': {error}; the user needs read access to it (e.g. `ACL SETUSER <user> %R~{}`), asked again in a minute",
                state.view.stream, state.view.stream
            )
        } else if state.can(Needs::Lab) {
            format!(
                "no consumer groups yet: w spawns a worker, which creates '{}'",
                state.lab.group
            )
        } else {
            "no consumer groups on this stream".to_owned()
        };
        let b = titled_block(state, &[]);
        let p = Paragraph::new(text)
            .style(dim())
            .wrap(ratatui::widgets::Wrap { trim: true });
        frame.render_widget(p.block(b), area);
        return;
    }
    let infos: Vec<&GroupInfo> = snap.into_iter().flat_map(|s| s.group_infos()).collect();
    let b = titled_block(state, &infos);
    // A narrow screen drops the last delivered id and entries read first.
    let keep: Vec<usize> = (0..COLUMNS.len())
        .filter(|i| area.width >= 110 || !matches!(i, 3 | 4))
        .collect();
    let name_width = name_width(area.width, &keep, &infos);
    let rows: Vec<Row> = infos
        .into_iter()
        .map(|info| {
            let style = if info.name == state.view.group {
                selected(state, Pane::Groups)
            } else {
                Style::new()
            };
            let detail = snap.and_then(|s| s.group(&info.name));
            let mut cells = cells(info, detail, state);
            cells[0] = fmt::fit_name(&info.name, usize::from(name_width));
            Row::new(keep.iter().map(|i| cells[*i].clone())).style(style)
        })
        .collect();
    let widths = keep.iter().map(|i| match i {
        0 => Constraint::Length(name_width),
        _ => COLUMNS[*i].1,
    });
    let header = Row::new(keep.iter().map(|i| COLUMNS[*i].0)).style(header_style());
    let table = Table::new(rows, widths).header(header).block(b);
    let mut at =
        TableState::default().with_selected(names.iter().position(|n| *n == state.view.group));
    frame.render_stateful_widget(table, area, &mut at);
}

/// The group column: as wide as the longest name, from 12 up to what the
/// other columns leave (the last keeps [`OLDEST_MIN`]); longer names are
/// cut in the middle, with `…`.
fn name_width(area_width: u16, keep: &[usize], infos: &[&GroupInfo]) -> u16 {
    let others: u16 = keep
        .iter()
        .filter(|i| **i != 0 && **i != COLUMNS.len() - 1)
        .map(|i| match COLUMNS[*i].1 {
            Constraint::Length(n) => n + 1,
            _ => 1,
        })
        .sum();
    let room = area_width.saturating_sub(2 + others + OLDEST_MIN + 1);
    let longest = infos
        .iter()
        .map(|g| g.name.chars().count())
        .max()
        .unwrap_or(0);
    u16::try_from(longest)
        .unwrap_or(u16::MAX)
        .clamp(12, room.max(12))
}

/// Columns the "oldest pending" column keeps when names are long.
const OLDEST_MIN: u16 = 22;

/// The pane's frame: how many groups wait to be polled in detail, and
/// why a lag or entries-read is unknown when one of `infos` has none.
fn titled_block(state: &State, infos: &[&GroupInfo]) -> ratatui::widgets::Block<'static> {
    let omitted = state.snapshot.as_ref().map_or(0, |s| s.groups_omitted);
    let title = if omitted > 0 {
        format!(" Groups (+{omitted} polled in detail when selected) ")
    } else {
        " Groups ".to_owned()
    };
    let b = block(title, Some(Pane::Groups), state);
    if !infos
        .iter()
        .any(|g| g.lag.is_none() || g.entries_read.is_none())
    {
        return b;
    }
    // Why it can be unknown, on the pane's bottom border.
    let why = format!(" * unknown: {} ", lag_unknown_reason(state.server.as_ref()));
    b.title_bottom(Line::styled(why, Style::new().fg(Color::Yellow)))
}

/// Headings and widths, in [`cells`] order.
const COLUMNS: [(&str, Constraint); 10] = [
    ("group", Constraint::Length(12)),
    ("cons", Constraint::Length(5)),
    ("pending", Constraint::Length(8)),
    ("last delivered", Constraint::Length(17)),
    ("read", Constraint::Length(9)),
    ("lag", Constraint::Length(9)),
    ("trend", Constraint::Length(TREND_WIDTH)),
    ("clears in", Constraint::Length(10)),
    ("time lag", Constraint::Length(8)),
    ("oldest pending", Constraint::Fill(1)),
];

/// One group's figures; `detail` is its full poll, when it had one.
fn cells(info: &GroupInfo, detail: Option<&GroupSnapshot>, state: &State) -> [String; 10] {
    let now_ms = state.now_ms;
    let lag = info.lag.map_or_else(|| "unknown*".to_owned(), fmt::count);
    let read = info
        .entries_read
        .map_or_else(|| "unknown*".to_owned(), fmt::count);
    let trend = state.trends.get(&info.name);
    let spark = trend.map_or_else(String::new, |t| sparkline(&t.lag, TREND_WIDTH.into()));
    let eta = match (trend, detail) {
        (Some(t), Some(g)) => eta(t.eta(g, state.rates.produced_per_s)),
        _ => "…".to_owned(),
    };
    let Some(g) = detail else {
        return [
            info.name.clone(),
            info.consumers.to_string(),
            fmt::count(info.pending),
            fmt::id(info.last_delivered_id),
            read,
            lag,
            spark,
            eta,
            "…".into(),
            "… (select it)".into(),
        ];
    };
    let time_lag = g
        .time_lag_ms(now_ms)
        .map_or_else(|| "none".to_owned(), fmt::age);
    let oldest = oldest_pending(g, now_ms);
    [
        info.name.clone(),
        g.consumers.len().to_string(),
        fmt::count(g.pending.count.max(info.pending)),
        fmt::id(info.last_delivered_id),
        read,
        lag,
        spark,
        eta,
        time_lag,
        oldest,
    ]
}

/// The oldest pending entry: its age, and its idle time and owner when
/// the PEL page shows it.
fn oldest_pending(g: &GroupSnapshot, now_ms: u64) -> String {
    match (g.oldest_pending_age_ms(now_ms), &g.oldest_pending) {
        (Some(age), Some(p)) => format!(
            "{} old, idle {} ({})",
            fmt::age(age),
            fmt::age(p.idle_ms),
            p.consumer
        ),
        (Some(age), None) => format!("{} old", fmt::age(age)),
        _ => "none".to_owned(),
    }
}

/// When the backlog clears, in a few characters.
fn eta(eta: Eta) -> String {
    match eta {
        Eta::Clear => "clear".into(),
        Eta::In(ms) => fmt::age(ms),
        Eta::Growing(per_s) => format!("+{}", fmt::rate(per_s)),
        Eta::KeepingUp => "keeping up".into(),
        Eta::Steady => "steady".into(),
        Eta::Stalled => "no acks".into(),
        Eta::Unknown => "unknown*".into(),
        Eta::Measuring => "…".into(),
    }
}
