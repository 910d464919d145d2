//! A confirmation box: the exact commands, what they do, and how to
//! confirm (`y`, or typing the stream's name for an action that loses
//! data, in a red frame).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::dim;
use super::overlay::framed;
use crate::tui::confirm::Confirmation;

const WIDTH: u16 = 90;

pub fn render(frame: &mut Frame, area: Rect, c: &Confirmation) {
    let lines = lines(c);
    let inner_width = usize::from(WIDTH.min(area.width).saturating_sub(2)).max(1);
    let rows: usize = lines
        .iter()
        .map(|l| l.width().div_ceil(inner_width).max(1))
        .sum();
    let height = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(2);
    let color = if c.loses_data() {
        Color::Red
    } else {
        Color::Cyan
    };
    let inner = framed(frame, area, (WIDTH, height), &c.title, color);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn lines(c: &Confirmation) -> Vec<Line<'_>> {
    let mut lines = vec![Line::styled("sends:", dim())];
    let command = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
    lines.extend(
        c.commands
            .iter()
            .map(|cmd| Line::styled(format!("  {cmd}"), command)),
    );
    lines.push(Line::raw(""));
    lines.extend(c.effects.iter().map(|e| Line::raw(e.as_str())));
    lines.push(Line::raw(""));
    match &c.typed {
        None => lines.push(Line::styled(
            "y confirms · n or Esc cancels",
            Style::new().fg(Color::Yellow),
        )),
        Some(typed) => {
            lines.push(Line::styled(
                c.typed_why,
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ));
            lines.push(Line::from(vec![
                Span::raw("> "),
                Span::raw(typed.as_str()),
                Span::styled("█", Style::new().fg(Color::Red)),
            ]));
            lines.push(Line::styled("Enter confirms · Esc cancels", dim()));
        }
    }
    lines
}
