//! The consumers pane: every consumer Redis lists for the selected group,
//! whether it is one of ours (and in what state), external, stalled or
//! leaking (it holds entries idle past `--stuck-after`; see
//! `monitor::diagnosis`) or a ghost (no pending entries and idle over an
//! hour, or inactive over an hour), the idle time of its oldest pending
//! entry, and for ours the processed-per-second rate.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table};

use crate::monitor::diagnosis::Diagnosis;
use crate::output::fmt;
use crate::supervisor::{WorkerMode, WorkerStatus};
use crate::tui::access::Needs;
use crate::tui::panes::{block, dim, header_style, selected};
use crate::tui::state::{Pane, State};

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let b = titled_block(state);
    let names = state.consumer_names();
    if names.is_empty() {
        let text = if state.can(Needs::Lab) {
            "no consumers: w spawns a worker"
        } else {
            "no consumers"
        };
        let p = Paragraph::new(text).style(dim()).block(b);
        frame.render_widget(p, area);
        return;
    }
    let chosen = state.selected_consumer();
    // The name column gets what the others leave; longer names are cut
    // in the middle, with `…`.
    let name_width = usize::from(area.width.saturating_sub(2 + 7 + 6 + 7 + 8 + 6 + 5));
    let rows = names.iter().map(|name| {
        let (row, color) = consumer_row(state, name, name_width);
        if Some(name) == chosen.as_ref() {
            row.style(selected(state, Pane::Consumers).fg(color))
        } else {
            row
        }
    });
    let widths = [
        Constraint::Min(6),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(6),
    ];
    let header =
        Row::new(["name", "pending", "idle", "oldest", "state", "rate"]).style(header_style());
    frame.render_widget(Table::new(rows, widths).header(header).block(b), area);
}

/// The pane's frame: the group, the lab's keys when they apply, and how
/// many consumers are stalled, leaking or ghosts.
fn titled_block(state: &State) -> ratatui::widgets::Block<'static> {
    let keys = if state.can(Needs::Lab) {
        " (x kill · s stop · f mode)"
    } else {
        ""
    };
    let title = format!(" Consumers of {}{keys} ", group_title(state));
    let b = block(title, Some(Pane::Consumers), state);
    let counts: Vec<String> = [Diagnosis::Stalled, Diagnosis::Leaking, Diagnosis::Ghost]
        .into_iter()
        .filter_map(|d| {
            let n = state
                .group()
                .map_or(0, |g| g.count_diagnosed(d, &state.thresholds));
            let plural = if d == Diagnosis::Ghost && n > 1 {
                "s"
            } else {
                ""
            };
            (n > 0).then(|| format!("{n} {}{plural}", d.label()))
        })
        .collect();
    if counts.is_empty() {
        return b;
    }
    let why = if counts.iter().all(|c| c.contains("ghost")) {
        ": no pending and idle, or inactive, over 1h".to_owned()
    } else {
        let stuck = crate::duration::show(std::time::Duration::from_millis(
            state.thresholds.stuck_after_ms,
        ));
        format!(" (holding entries idle {stuck}+)")
    };
    b.title_bottom(Line::styled(
        format!(" {}{why} ", counts.join(" · ")),
        Style::new().fg(Color::Magenta),
    ))
}

/// The selected group's name for a title, or what stands in for none.
pub fn group_title(state: &State) -> String {
    if state.view.group.is_empty() {
        "(no group)".to_owned()
    } else {
        state.view.group.clone()
    }
}

/// One consumer: pending, idle, its oldest entry's idle, its state and
/// rate, and the colour of its state.
fn consumer_row(state: &State, name: &str, name_width: usize) -> (Row<'static>, Color) {
    let group = state.group();
    let info = group.and_then(|g| g.consumers.iter().find(|c| c.name == name));
    let (pending, idle) = info.map_or_else(
        || ("-".to_owned(), "-".to_owned()),
        |c| (fmt::count(c.pending), fmt::age(c.idle_ms)),
    );
    let oldest = group
        .and_then(|g| g.oldest_pending_of(name))
        .map_or_else(|| "-".to_owned(), |p| fmt::age(p.idle_ms));
    let (kind, color, rate) = describe(state, name);
    let shown = fmt::fit_name(name, name_width.max(6));
    let row = Row::new(vec![shown, pending, idle, oldest, kind, rate]);
    (row.style(Style::new().fg(color)), color)
}

/// Stalled or leaking (ours too while they run: a hung worker is
/// stalled), a ghost (not one of ours), or what [`kind`] says.
fn describe(state: &State, name: &str) -> (String, Color, String) {
    let group = state.group();
    let info = group.and_then(|g| g.consumers.iter().find(|c| c.name == name));
    let diagnosis = info.and_then(|c| group?.diagnosis_of(c, &state.thresholds));
    // One of ours that was killed or stopped says so: that is the why.
    if state.ours(name).is_some_and(|w| !w.status.is_alive()) {
        return kind(state, name);
    }
    match diagnosis {
        Some(Diagnosis::Stalled) => ("stalled".to_owned(), Color::Red, String::new()),
        Some(Diagnosis::Leaking) => ("leaking".to_owned(), Color::Yellow, String::new()),
        Some(Diagnosis::Ghost) if state.ours(name).is_none() => {
            ("ghost".to_owned(), Color::Magenta, String::new())
        }
        _ => kind(state, name),
    }
}

/// (state, colour, processed per second) of one consumer: ours show
/// their lifecycle or mode, anything else is "external".
fn kind(state: &State, name: &str) -> (String, Color, String) {
    let Some(w) = state.ours(name) else {
        return ("external".into(), Color::Gray, String::new());
    };
    let rate = state.rates.worker_per_s.get(name).copied().unwrap_or(0.0);
    let color = match (&w.status, w.mode) {
        (WorkerStatus::Killed | WorkerStatus::Failed(_), _) => Color::Red,
        (WorkerStatus::Stopped | WorkerStatus::Stopping, _) => Color::DarkGray,
        (_, WorkerMode::Slow | WorkerMode::Failing) => Color::Yellow,
        _ => Color::Green,
    };
    let label = match (&w.status, w.mode) {
        (WorkerStatus::Running, mode) if mode != WorkerMode::Normal => mode.label(),
        (status, _) => status.label(),
    };
    let rate = if w.status.is_alive() {
        fmt::rate(rate)
    } else {
        String::new()
    };
    (label.to_owned(), color, rate)
}
