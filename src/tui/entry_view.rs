//! The entry view's text: every field in order (duplicates too), each
//! with its size in bytes, its value escaped (nothing dropped or replaced)
//! or, when it is a JSON object or array, pretty-printed (`r`: raw), and
//! wrapped to the box's width, so no value is cut without a way to see the
//! rest (`j`/`k`, PgUp/PgDn, Home/End scroll). The same lines are counted
//! by `update` (to bound scrolling) and drawn by the overlay.

use crate::engine::browse::Fetched;
use crate::output::entries::{escape, escape_lines, pretty_json};
use crate::tui::action::Intent;
use crate::tui::state::{EntryView, Mode, State};

/// What a display line is, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// A field's name and size.
    Name,
    Value,
    /// A note (deleted, loading).
    Note,
}

/// The entry box's size on a terminal of `size`: nearly all of it.
pub fn box_size(size: (u16, u16)) -> (u16, u16) {
    let (w, h) = size;
    (w.saturating_sub(4).max(40), h.saturating_sub(2).max(8))
}

/// Text lines inside the box (borders and the bottom hint excluded).
pub fn text_size(size: (u16, u16)) -> (usize, usize) {
    let (w, h) = box_size(size);
    (
        usize::from(w.saturating_sub(2)),
        usize::from(h.saturating_sub(3)),
    )
}

/// The view's lines, wrapped to `width` characters.
pub fn lines(view: &EntryView, width: usize) -> Vec<(LineKind, String)> {
    let width = width.max(8);
    let fields = match &view.fields {
        None => return vec![(LineKind::Note, "loading (XRANGE id id)…".into())],
        Some(Fetched::Deleted) => {
            return vec![(
                LineKind::Note,
                "deleted: this id is still pending, but its entry is no longer in the stream (deleted or trimmed while pending). XACK clears it from the PEL (a in the PEL pane, or `streamlab pending ack --deleted` for all of them); on Redis 8.2+ a trim with DELREF removes the ids of the entries it deletes (streamlab trim --trim-mode delref)".into(),
            )];
        }
        Some(Fetched::Fields(f)) => f,
    };
    let mut out = Vec::new();
    for (name, value) in fields {
        let bytes = value.len();
        let unit = if bytes == 1 { "byte" } else { "bytes" };
        let json = (!view.raw).then(|| pretty_json(value)).flatten();
        let kind = if json.is_some() {
            ", JSON (r: raw)"
        } else {
            ""
        };
        let head = format!("{}  ({bytes} {unit}{kind})", escape(name));
        wrap(&mut out, LineKind::Name, &head, width);
        let body: Vec<String> = match json {
            Some(text) => text.lines().map(|l| escape(l.as_bytes())).collect(),
            None => escape_lines(value),
        };
        for line in body {
            wrap(&mut out, LineKind::Value, &format!("  {line}"), width);
        }
    }
    out
}

/// Push `text` cut into pieces of `width` characters (continuations
/// indented like values).
fn wrap(out: &mut Vec<(LineKind, String)>, kind: LineKind, text: &str, width: usize) {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        out.push((kind, text.to_owned()));
        return;
    }
    out.push((kind, chars[..width].iter().collect()));
    for piece in chars[width..].chunks(width.saturating_sub(4).max(1)) {
        out.push((kind, format!("    {}", piece.iter().collect::<String>())));
    }
}

/// A key in the entry view: scroll, or switch between raw and pretty.
pub fn on_intent(state: &mut State, intent: Intent) -> bool {
    let (width, height) = text_size(state.view.size);
    let Mode::Entry(view) = &mut state.view.mode else {
        return false;
    };
    let total = lines(view, width).len();
    let last = total.saturating_sub(height);
    let page = height.max(1);
    view.scroll = match intent {
        Intent::Down => view.scroll + 1,
        Intent::Up => view.scroll.saturating_sub(1),
        Intent::PageDown => view.scroll + page,
        Intent::PageUp => view.scroll.saturating_sub(page),
        Intent::Oldest => 0,
        Intent::Newest => last,
        Intent::Raw => {
            view.raw = !view.raw;
            0
        }
        _ => return false,
    }
    .min(last);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(fields: &[(&[u8], &[u8])]) -> EntryView {
        EntryView {
            fields: Some(Fetched::Fields(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .collect(),
            )),
            ..EntryView::default()
        }
    }

    #[test]
    fn every_byte_shows_and_long_values_wrap() {
        let v = view(&[
            (b"f", b"1"),
            (b"f", b"line1\r\nline2"),
            (b"bin", &[0, 1, 0xff]),
        ]);
        let text: Vec<String> = lines(&v, 40).into_iter().map(|(_, l)| l).collect();
        assert_eq!(
            text,
            vec![
                "f  (1 byte)",
                "  1",
                "f  (12 bytes)",
                "  line1\\r\\n",
                "  line2",
                "bin  (3 bytes)",
                "  \\x00\\x01\\xff",
            ]
        );
        let long = view(&[(b"data", &[b'x'; 100])]);
        let wrapped = lines(&long, 40);
        assert_eq!(wrapped.len(), 1 + 3);
        let shown: usize = wrapped[1..].iter().map(|(_, l)| l.trim().len()).sum();
        assert_eq!(shown, 100, "no byte of the value is lost");
    }

    #[test]
    fn json_is_pretty_unless_raw() {
        let mut v = view(&[(b"p", br#"{"task_id":"3bf9","n":[1,2]}"#)]);
        let pretty = lines(&v, 60);
        assert!(pretty[0].1.contains("JSON"), "{pretty:?}");
        assert!(pretty.len() > 4, "{pretty:?}");
        v.raw = true;
        assert_eq!(lines(&v, 60).len(), 2);
    }
}
