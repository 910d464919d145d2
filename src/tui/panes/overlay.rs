//! Overlays drawn over the panes: the key help (generated from the
//! keymap), a prompt, a confirmation, and an entry's fields.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::access::{Unmet, unmet};
use crate::tui::hints::help;
use crate::tui::keymap::Scope;
use crate::tui::panes::dim;
use crate::tui::state::{Mode, Prompt, State};

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    match &state.view.mode {
        Mode::Normal => {}
        Mode::Help => help_box(frame, area, state),
        Mode::Server => super::server::render(frame, area, state),
        Mode::Input { prompt, text } => input(frame, area, prompt, text),
        Mode::Confirm(c) => super::confirm::render(frame, area, c),
        Mode::Entry { id, fields } => entry(frame, area, &id.to_string(), fields.as_ref()),
    }
}

fn popup(frame: &mut Frame, area: Rect, width: u16, height: u16, title: &str) -> Rect {
    framed(frame, area, (width, height), title, Color::Cyan)
}

/// A cleared box of `size` in the middle of `area`; returns its inside.
pub(super) fn framed(
    frame: &mut Frame,
    area: Rect,
    size: (u16, u16),
    title: &str,
    color: Color,
) -> Rect {
    let (width, height) = size;
    let r = area.centered(
        Constraint::Length(width.min(area.width)),
        Constraint::Length(height.min(area.height)),
    );
    frame.render_widget(Clear, r);
    let b = Block::bordered()
        .title(format!(" {title} "))
        .border_style(Style::new().fg(color));
    let inner = b.inner(r);
    frame.render_widget(b, r);
    inner
}

fn help_box(frame: &mut Frame, area: Rect, state: &State) {
    let keys = help(Scope::of(&Mode::Normal, state.screen));
    let rows = u16::try_from(keys.len()).unwrap_or(40);
    // On a short terminal the list goes in two columns (descriptions cut).
    let columns = if rows + 3 > area.height { 2 } else { 1 };
    let per_column = keys.len().div_ceil(columns);
    let height = u16::try_from(per_column).unwrap_or(40) + 3;
    let inner = popup(
        frame,
        area,
        76 * u16::try_from(columns).unwrap_or(1),
        height,
        "Keys (Esc closes)",
    );
    let [list, note] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    let parts = Layout::horizontal(vec![Constraint::Fill(1); columns]).split(list);
    for (chunk, part) in keys.chunks(per_column).zip(parts.iter()) {
        let lines: Vec<Line> = chunk
            .iter()
            .map(|h| key_line(&h.keys, h.what, unmet(h.needs, state)))
            .collect();
        frame.render_widget(Paragraph::new(lines), *part);
    }
    let text = if keys.iter().any(|h| unmet(h.needs, state).is_some()) {
        "greyed keys cannot act here; pressing one says how to enable it"
    } else {
        "in prompts: Enter accepts, Esc cancels · confirmations: y / n"
    };
    frame.render_widget(Line::styled(text, dim()), note);
}

/// A key and what it does; one that cannot act here is greyed out and
/// says what it needs.
fn key_line<'a>(keys: &str, what: &'a str, unmet: Option<Unmet>) -> Line<'a> {
    let Some(why) = unmet else {
        return Line::from(vec![
            Span::styled(
                format!("{keys:>10}  "),
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ),
            Span::raw(what),
        ]);
    };
    Line::from(vec![
        Span::styled(format!("{keys:>10}  "), dim()),
        Span::styled(format!("[{}] ", why.tag()), Style::new().fg(Color::Red)),
        Span::styled(what, dim()),
    ])
}

fn input(frame: &mut Frame, area: Rect, prompt: &Prompt, text: &str) {
    let (title, hint) = prompt_words(prompt);
    let inner = popup(frame, area, 76, 5, &title);
    let lines = vec![
        Line::from(vec![
            Span::raw("> "),
            Span::raw(text.to_owned()),
            Span::styled("█", Style::new().fg(Color::Cyan)),
        ]),
        Line::styled(hint, dim()),
        Line::styled("Enter accepts · Esc cancels", dim()),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A prompt's title and its hint line.
fn prompt_words(prompt: &Prompt) -> (String, &'static str) {
    match prompt {
        Prompt::Trim => (
            "Trim: MAXLEN, MINID, safe or acked?".into(),
            "1000 keeps 1000 · an id: below it goes · safe · acked · 1000 acked (8.2)",
        ),
        Prompt::Filter => (
            "Filter the PEL".into(),
            "a consumer name and/or a min idle, e.g. w1 5s (empty clears)",
        ),
        Prompt::ClaimTo { group, id, owner } => (
            format!("Claim {id} (owner {owner}) to which consumer of {group}?"),
            "a consumer name; one that does not exist yet is created",
        ),
        Prompt::MovePendingTo {
            consumer, pending, ..
        } => (
            format!("Delete {consumer}: who takes its {pending} pending entries?"),
            "a consumer (claimed there first) · empty: drop them (stream name typed)",
        ),
        Prompt::SetId { group } => (
            format!("XGROUP SETID {group} to which id?"),
            "an id (ms-seq), 0 (the stream's start) or $ (its end)",
        ),
        Prompt::StreamFilter => (
            "Filter streams by name".into(),
            "a glob: orders*, *:eu, tasks-[0-9] (empty clears)",
        ),
    }
}

fn entry(frame: &mut Frame, area: Rect, id: &str, fields: Option<&Option<Vec<(String, String)>>>) {
    let lines: Vec<Line> = match fields {
        None => vec![Line::styled("loading (XRANGE id id)…", dim())],
        Some(None) => vec![
            Line::raw("deleted: not in the stream any more (deleted or trimmed while pending)."),
            Line::raw("Its id stays in the PEL until acked: `a` acks it; on Redis 8.2+ a trim"),
            Line::raw("with DELREF removes such ids too (streamlab trim --trim-mode delref)."),
        ],
        Some(Some(f)) => f
            .iter()
            .map(|(k, v)| {
                Line::from(vec![
                    Span::styled(format!("{k:>12}  "), Style::new().fg(Color::Yellow)),
                    Span::raw(v.clone()),
                ])
            })
            .collect(),
    };
    // Rows as wrapped, so no line is cut (the popup is 72 wide, 70 inside).
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(70).max(1)).sum();
    let height = u16::try_from(rows).unwrap_or(20).clamp(1, 20) + 2;
    let inner = popup(frame, area, 72, height, &format!("Entry {id} (Esc closes)"));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
