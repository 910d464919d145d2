//! Stream entries as text and JSON, the same for `streamlab read`, the
//! dashboard's entries view and its entry view: every byte shown (control
//! characters escaped as `\r`, `\n`, `\t`, `\x00`; bytes that are not
//! UTF-8 as `\xNN`; a backslash as `\\`), times local with their age, and
//! the JSON lines `read --json` writes and `produce --from-file` reads
//! back: `{"stream", "id", "ms", "fields": [[name, value], ...]}`, each
//! name or value a JSON string when it is UTF-8, else `{"base64": "..."}`.
//! Pairs, not an object: order and duplicate names are data.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;

use crate::output::fmt::age;
use crate::redis::EntryId;

/// Field/value pairs as bytes.
pub type Fields = [(Vec<u8>, Vec<u8>)];

/// `bytes` with nothing hidden: printable text as it is, control
/// characters and a backslash escaped, bytes that are not UTF-8 as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn push_char(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() && u32::from(c) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c if c.is_control() => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// [`escape`], broken into display lines after each `\n` (which still
/// shows, escaped, at the end of its line).
pub fn escape_lines(bytes: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = bytes.split_inclusive(|&b| b == b'\n').map(escape).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// A JSON object or array, re-indented two spaces a level without being
/// rebuilt: keys keep their order and duplicates, numbers their spelling.
/// `None` when `bytes` is not a JSON object or array.
pub fn pretty_json(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    if !(text.starts_with('{') || text.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    Some(reindent(text))
}

fn reindent(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // An empty object or array stays on one line.
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if chars.peek().is_some_and(|n| *n == '}' || *n == ']') {
                    continue;
                }
                depth += 1;
                newline(&mut out, depth);
            }
            '}' | ']' => {
                if !out.ends_with(['{', '[']) {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth);
                }
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// A millisecond timestamp in `tz`: `2026-12-05 07:58:03.120`.
pub fn local_time(ms: u64, tz: &TimeZone) -> String {
    let Ok(ts) = Timestamp::from_millisecond(i64::try_from(ms).unwrap_or(i64::MAX)) else {
        return format!("{ms} ms");
    };
    ts.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// `07:58:03 (4m05s ago)`, or with the date when it is not today's.
pub fn time_with_age(ms: u64, now_ms: u64, tz: &TimeZone) -> String {
    let full = local_time(ms, tz);
    let today = local_time(now_ms, tz);
    let shown = if full.get(..10) == today.get(..10) {
        full.get(11..19).unwrap_or(&full).to_owned()
    } else {
        full.get(..16).unwrap_or(&full).to_owned()
    };
    format!("{shown} ({} ago)", age(now_ms.saturating_sub(ms)))
}

/// The fields on one line: `name=value name=value`, every byte escaped.
pub fn one_line(fields: &Fields) -> String {
    let mut out = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&escape(k));
        out.push('=');
        out.push_str(&escape(v));
    }
    out
}

/// One `read` table line: id, local time, the partition key when the
/// stream has several, the fields.
pub fn table_line(key: Option<&str>, id: EntryId, fields: &Fields, tz: &TimeZone) -> String {
    let time = local_time(id.ms, tz);
    let id = id.to_string();
    match key {
        Some(k) => format!("{id:<20} {time}  {k}  {}", one_line(fields)),
        None => format!("{id:<20} {time}  {}", one_line(fields)),
    }
}

/// Append one `read --json` line (with its newline) to `out`.
pub fn push_json_line(out: &mut Vec<u8>, stream: &str, id: EntryId, fields: &Fields) {
    out.extend_from_slice(b"{\"stream\":");
    push_json_str(out, stream);
    let _ = std::io::Write::write_fmt(
        out,
        format_args!(",\"id\":\"{id}\",\"ms\":{},\"fields\":[", id.ms),
    );
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        push_json_bytes(out, k);
        out.push(b',');
        push_json_bytes(out, v);
        out.push(b']');
    }
    out.extend_from_slice(b"]}\n");
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// A JSON string when `b` is UTF-8, else `{"base64": "..."}`.
fn push_json_bytes(out: &mut Vec<u8>, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(s) => push_json_str(out, s),
        Err(_) => {
            out.extend_from_slice(b"{\"base64\":\"");
            out.extend_from_slice(STANDARD.encode(b).as_bytes());
            out.extend_from_slice(b"\"}");
        }
    }
}

/// One entry read back from a `read --json` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonEntry {
    pub stream: String,
    pub id: Option<EntryId>,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Parse one `read --json` line; the error says what is wrong with it.
pub fn parse_json_line(line: &str) -> Result<JsonEntry, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e})"))?;
    let stream = v["stream"].as_str().unwrap_or_default().to_owned();
    let id = match &v["id"] {
        Value::String(s) => Some(s.parse().map_err(|e: String| format!("\"id\": {e}"))?),
        Value::Null => None,
        _ => return Err("\"id\" is not a string".into()),
    };
    let pairs = v["fields"]
        .as_array()
        .ok_or("no \"fields\" array of [name, value] pairs")?;
    let mut fields = Vec::with_capacity(pairs.len());
    for (i, pair) in pairs.iter().enumerate() {
        let [k, val] = pair.as_array().map(Vec::as_slice).unwrap_or_default() else {
            return Err(format!("field {} is not a [name, value] pair", i + 1));
        };
        fields.push((json_bytes(k, i)?, json_bytes(val, i)?));
    }
    if fields.is_empty() {
        return Err("an entry needs at least one field (XADD refuses none)".into());
    }
    Ok(JsonEntry { stream, id, fields })
}

fn json_bytes(v: &Value, i: usize) -> Result<Vec<u8>, String> {
    let bad = || {
        format!(
            "field {}: a name or value must be a string or {{\"base64\": \"...\"}}",
            i + 1
        )
    };
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Object(o) => {
            let b64 = o.get("base64").and_then(Value::as_str).ok_or_else(bad)?;
            STANDARD
                .decode(b64)
                .map_err(|e| format!("field {}: bad base64 ({e})", i + 1))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_dropped_or_replaced() {
        assert_eq!(escape(b"line1\r\nline2"), "line1\\r\\nline2");
        assert_eq!(escape(b"\x00\x01abc"), "\\x00\\x01abc");
        assert_eq!(escape(&[0x80, b'K', b'H', 0xff]), "\\x80KH\\xff");
        assert_eq!(escape("tab\there é \\".as_bytes()), "tab\\there é \\\\");
        assert_eq!(escape("\u{85}".as_bytes()), "\\u{85}");
        assert_eq!(escape_lines(b"a\r\nb\n"), vec!["a\\r\\n", "b\\n"]);
        assert_eq!(escape_lines(b""), vec![""]);
    }

    #[test]
    fn json_is_reindented_keeping_order_and_duplicates() {
        let got = pretty_json(br#"{"b":1,"a":[1, 2.50,{}],"b":"x,{y}"}"#).unwrap();
        assert_eq!(
            got,
            "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2.50,\n    {}\n  ],\n  \"b\": \"x,{y}\"\n}"
        );
        assert_eq!(pretty_json(b"[]").as_deref(), Some("[]"));
        assert_eq!(pretty_json(b"42"), None);
        assert_eq!(pretty_json(b"{\"task_id\": \"3bf9"), None);
        assert_eq!(pretty_json(&[0xff]), None);
        assert_eq!(
            pretty_json(br#"{"s":"a\"b"}"#).unwrap(),
            "{\n  \"s\": \"a\\\"b\"\n}"
        );
    }

    #[test]
    fn json_lines_round_trip_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let fields = vec![
            (b"f".to_vec(), b"1".to_vec()),
            (b"f".to_vec(), b"a\r\n\x00b".to_vec()),
            (b"bin".to_vec(), all.clone()),
            (vec![0xff], b"v".to_vec()),
        ];
        let id = EntryId {
            ms: 1_700_000_000_000,
            seq: 2,
        };
        let mut out = Vec::new();
        push_json_line(&mut out, "orders", id, &fields);
        let line = String::from_utf8(out).unwrap();
        assert!(line.ends_with("}\n"));
        assert!(line.starts_with(r#"{"stream":"orders","id":"1700000000000-2","ms":1700000000000,"fields":[["f","1"],["f","a\r\n\u0000b"],["bin",{"base64":"#), "{line}");
        let back = parse_json_line(line.trim_end()).unwrap();
        assert_eq!(back.fields, fields);
        assert_eq!(back.id, Some(id));
        assert_eq!(back.stream, "orders");
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        assert!(parse_json_line("nope").unwrap_err().contains("not JSON"));
        assert!(
            parse_json_line(r#"{"fields":[]}"#)
                .unwrap_err()
                .contains("at least one")
        );
        assert!(
            parse_json_line(r#"{"fields":[["a"]]}"#)
                .unwrap_err()
                .contains("pair")
        );
        assert!(
            parse_json_line(r#"{"fields":[["a",3]]}"#)
                .unwrap_err()
                .contains("string")
        );
        assert!(
            parse_json_line(r#"{"id":"x","fields":[["a","b"]]}"#)
                .unwrap_err()
                .contains("\"id\"")
        );
    }

    #[test]
    fn times_are_local_with_their_age() {
        let tz = TimeZone::fixed(jiff::tz::offset(1));
        // 2026-12-05T07:58:03.120Z
        let ms = 1_796_457_483_120;
        assert_eq!(local_time(ms, &tz), "2026-12-05 08:58:03.120");
        assert_eq!(time_with_age(ms, ms + 245_000, &tz), "08:58:03 (4m05s ago)");
        assert_eq!(
            time_with_age(ms, ms + 86_400_000, &tz),
            "2026-12-05 08:58 (1d00h ago)"
        );
    }
}
