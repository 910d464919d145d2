//! Overlays drawn over the panes: the key help (generated from the
//! keymap), a prompt, a confirmation, and an entry's fields.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::tui::access::{Unmet, unmet};
use crate::tui::entry_view::{self, LineKind};
use crate::tui::hints::help;
use crate::tui::keymap::Scope;
use crate::tui::panes::dim;
use crate::tui::state::{EntryView, Mode, Prompt, State};

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    match &state.view.mode {
        Mode::Normal => {}
        Mode::Help => help_box(frame, area, state),
        Mode::Server => super::server::render(frame, area, state),
        Mode::Input { prompt, text } => input(frame, area, prompt, text),
        Mode::Confirm(c) => super::confirm::render(frame, area, c),
        Mode::Entry(view) => entry(frame, area, view),
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
    let lines: Vec<Line> = keys
        .iter()
        .map(|h| key_line(&h.keys, h.what, unmet(h.needs, state)))
        .collect();
    let widest = lines.iter().map(Line::width).max().unwrap_or(40);
    let room = usize::from(area.width.saturating_sub(2));
    // One column as wide as the longest line allows; on a short terminal
    // two. Lines longer than a column wrap instead of being cut.
    let one = widest.min(room);
    let (columns, width) = if rows_when_wrapped(&lines, one) + 3 <= usize::from(area.height) {
        (1, one)
    } else {
        (2, widest.min(room / 2))
    };
    let per_column = lines.len().div_ceil(columns);
    let chunks: Vec<&[Line]> = lines.chunks(per_column.max(1)).collect();
    let rows = chunks
        .iter()
        .map(|c| rows_when_wrapped(c, width))
        .max()
        .unwrap_or(1);
    let size = (
        u16::try_from(width * columns + 2).unwrap_or(u16::MAX),
        u16::try_from(rows + 3).unwrap_or(u16::MAX),
    );
    let inner = framed(frame, area, size, "Keys (Esc closes)", Color::Cyan);
    let [list, note] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    let parts = Layout::horizontal(vec![Constraint::Fill(1); columns]).split(list);
    for (chunk, part) in chunks.into_iter().zip(parts.iter()) {
        let p = Paragraph::new(chunk.to_vec()).wrap(Wrap { trim: false });
        frame.render_widget(p, *part);
    }
    let text = if keys.iter().any(|h| unmet(h.needs, state).is_some()) {
        "greyed keys cannot act here; pressing one says how to enable it"
    } else {
        "in prompts: Enter accepts, Esc cancels · confirmations: y / n"
    };
    frame.render_widget(Line::styled(text, dim()), note);
}

/// Screen rows `lines` take in `width` columns, wrapped at words (a wrapped
/// row is counted as up to 10 columns short, for the word pushed on).
fn rows_when_wrapped(lines: &[Line], width: usize) -> usize {
    lines
        .iter()
        .map(|l| match l.width() {
            w if w <= width => 1,
            w => w.div_ceil(width.saturating_sub(10).max(1)),
        })
        .sum()
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
        Prompt::ClaimMarkedTo { group } => (
            format!("Claim the marked entries to which consumer of {group}?"),
            "a consumer name; one that does not exist yet is created",
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
        Prompt::Scenario => (
            "Start which scenario?".into(),
            "crash · poison · stall · leak · backlog (on the lab's stream; the log says what to watch)",
        ),
        Prompt::StreamFilter => (
            "Filter streams by name".into(),
            "a glob: orders*, *:eu, tasks-[0-9] (empty clears)",
        ),
        Prompt::GoTo => (
            "Go to".into(),
            "an id, a time (2026-12-05 07:58 local, or RFC 3339), an age (15m), - or +",
        ),
        Prompt::Search => (
            "Search the entries (older from the selected one)".into(),
            "field=value, field~text (contains), or text in any field or value",
        ),
    }
}

/// The whole entry in a box over nearly all the screen: every field,
/// escaped or pretty-printed, wrapped, scrolled.
fn entry(frame: &mut Frame, area: Rect, view: &EntryView) {
    let on = view
        .key
        .as_ref()
        .map_or_else(String::new, |k| format!(" on {k}"));
    let size = entry_view::box_size((area.width, area.height));
    let inner = popup(
        frame,
        area,
        size.0,
        size.1,
        &format!("Entry {}{on}", view.id),
    );
    let [text, hint] = Layout::vertical([Constraint::Fill(1), Constraint::Length(1)]).areas(inner);
    let all = entry_view::lines(view, usize::from(text.width));
    let shown: Vec<Line> = all
        .iter()
        .skip(view.scroll)
        .take(usize::from(text.height))
        .map(|(kind, line)| match kind {
            LineKind::Name => Line::styled(line.clone(), Style::new().fg(Color::Yellow)),
            LineKind::Value => Line::raw(line.clone()),
            LineKind::Note => Line::styled(line.clone(), Style::new().fg(Color::Red)),
        })
        .collect();
    frame.render_widget(Paragraph::new(shown).wrap(Wrap { trim: false }), text);
    let last = (view.scroll + usize::from(text.height)).min(all.len());
    let mode = if view.raw { "pretty JSON" } else { "raw" };
    let words = format!(
        "lines {}-{last} of {} · j/k/PgUp/PgDn/Home/End · r {mode} · Esc",
        (view.scroll + 1).min(last.max(1)),
        all.len()
    );
    frame.render_widget(Line::styled(words, dim()), hint);
}
