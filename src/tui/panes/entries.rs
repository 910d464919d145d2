//! The entries screen's table: the page of entries on screen, newest
//! first: id, local time with its age, the partition on a partitioned
//! stream, the entry's status in the selected group, and the fields on one
//! line (cut with `…`; Enter shows them whole). Rows matching the search
//! are highlighted; the line under them says where a search got.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table};

use crate::engine::browse::status::Status;
use crate::output::entries::{one_line, time_with_age};
use crate::output::fmt;
use crate::tui::entries::{EntryRow, highlighted};
use crate::tui::panes::{block, dim, header_style, selected_style};
use crate::tui::state::State;

const ID: u16 = 20;
const TIME: u16 = 30;
const STATUS: u16 = 26;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let e = &state.entries;
    let keys = " j/k PgUp/PgDn Home/End · g go to · / search · n/N · Enter open · Esc back ";
    let b = block(title(state), None, state).title_bottom(Line::styled(keys, dim()));
    let inner = b.inner(area);
    frame.render_widget(b, area);
    let [table_area, note_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    if let Some(note) = &e.note {
        frame.render_widget(
            Line::styled(format!(" {note}"), Style::new().fg(Color::Cyan)),
            note_area,
        );
    }
    if e.rows.is_empty() {
        let text = if e.waiting.is_some() {
            "loading…"
        } else {
            "no entries"
        };
        frame.render_widget(Paragraph::new(text).style(dim()), table_area);
        return;
    }
    let part_width = if e.is_partitioned() {
        let longest = e.keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
        u16::try_from(longest).unwrap_or(20).clamp(4, 24)
    } else {
        0
    };
    let with_status = !state.view.group.is_empty();
    let mut widths = vec![Constraint::Length(ID), Constraint::Length(TIME)];
    let mut header = vec!["id".to_owned(), "time".to_owned()];
    if part_width > 0 {
        widths.push(Constraint::Length(part_width));
        header.push("partition".into());
    }
    if with_status {
        widths.push(Constraint::Length(STATUS));
        header.push(format!("in {}", state.view.group));
    }
    let used: u16 = widths
        .iter()
        .map(|c| match c {
            Constraint::Length(n) => n + 1,
            _ => 1,
        })
        .sum();
    let fields_width = usize::from(table_area.width.saturating_sub(used).max(8));
    widths.push(Constraint::Fill(1));
    header.push("fields".into());
    let rows = e.rows.iter().enumerate().map(|(i, r)| {
        let cells = cells(state, r, part_width > 0, with_status, fields_width);
        let mut style = Style::new();
        if highlighted(state, r) {
            style = style.fg(Color::Yellow).add_modifier(Modifier::BOLD);
        }
        if i == e.selected.min(e.rows.len() - 1) {
            style = style.patch(selected_style());
        }
        Row::new(cells).style(style)
    });
    let table = Table::new(rows, widths).header(Row::new(header).style(header_style()));
    frame.render_widget(table, table_area);
}

fn title(state: &State) -> String {
    let e = &state.entries;
    let order = if e.following {
        "newest first · following new entries"
    } else {
        "newest first · scrolled (End follows)"
    };
    let parts = if e.is_partitioned() {
        format!(" ({} partitions, merged by id time)", e.keys.len())
    } else {
        String::new()
    };
    let length = state
        .snapshot
        .as_ref()
        .and_then(|s| s.stream.as_ref())
        .map_or_else(String::new, |s| {
            format!(" · {} entries", fmt::count(s.length))
        });
    let loading = if e.waiting.is_some() {
        " · loading…"
    } else {
        ""
    };
    format!(
        " Entries of {}{parts}{length} · {order}{loading} ",
        state.view.stream
    )
}

fn cells(state: &State, r: &EntryRow, partition: bool, status: bool, width: usize) -> Vec<String> {
    let id = r.row.entry.id;
    let mut out = vec![
        id.to_string(),
        time_with_age(id.ms, state.now_ms, &state.tz.0),
    ];
    if partition {
        out.push(
            state
                .entries
                .keys
                .get(r.row.part)
                .cloned()
                .unwrap_or_default(),
        );
    }
    if status {
        out.push(r.status.as_ref().map_or_else(String::new, words));
    }
    out.push(cut(&one_line(&r.row.entry.fields), width));
    out
}

/// A status as the column says it.
pub fn words(s: &Status) -> String {
    match s {
        Status::Acked => "acked".into(),
        Status::Pending {
            consumer,
            deliveries,
            idle_ms,
        } => format!("pending {consumer} ×{deliveries} {}", fmt::age(*idle_ms)),
        Status::Undelivered => "undelivered".into(),
        Status::NoGroup => "no such group".into(),
    }
}

/// `text` cut to `width` characters, the cut marked with `…`.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}
