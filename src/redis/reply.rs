//! Decoding of raw replies into plain types, tolerant of RESP2 and RESP3
//! shapes and of nils that Redis returns on some histories.

use std::collections::HashMap;

use ::redis::Value;

use crate::redis::errors::{RedisFailure, classify};
use crate::redis::id::EntryId;

/// One stream entry. `fields` is `None` when the entry was deleted while it
/// sat in a PEL: XREADGROUP and XCLAIM then return the id with a nil body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: EntryId,
    pub fields: Option<Vec<(String, Vec<u8>)>>,
}

impl Entry {
    /// The value of field `name`, if present.
    pub fn field(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .as_ref()?
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The value of field `name` as text (lossy for binary values).
    pub fn field_str(&self, name: &str) -> Option<String> {
        self.field(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// One stream entry exactly as Redis holds it: field names and values as
/// bytes, in order, duplicates included (`XADD k * f 1 f 2` keeps both).
/// What the entries browser, the entry view and `read` show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    pub id: EntryId,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

/// An entry list (XRANGE, XREVRANGE) with byte-exact names. A nil body
/// (an entry deleted while pending, seen only through a PEL) is skipped:
/// a range never returns one.
pub fn into_raw_entries(v: Value) -> Result<Vec<RawEntry>, RedisFailure> {
    let list = match v {
        Value::Nil => return Ok(Vec::new()),
        Value::Array(list) | Value::Set(list) => list,
        other => return Err(bad("entry list", &other)),
    };
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let (Value::Array(pair) | Value::Set(pair)) = item else {
            if matches!(item, Value::Nil) {
                continue;
            }
            return Err(bad("stream entry", &item));
        };
        let mut pair = pair.into_iter();
        let (Some(id_v), Some(body), None) = (pair.next(), pair.next(), pair.next()) else {
            return Err(bad("stream entry", &Value::Nil));
        };
        let id = id_of(&id_v).ok_or_else(|| bad("entry id", &id_v))?;
        if let Some(fields) = into_raw_fields(body) {
            out.push(RawEntry { id, fields });
        }
    }
    Ok(out)
}

/// The entries of the first (only) stream of an XREAD reply, byte-exact.
pub fn into_raw_read_reply(v: Value) -> Result<Vec<RawEntry>, RedisFailure> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::Map(streams) => streams
            .into_iter()
            .next()
            .map_or(Ok(Vec::new()), |(_, e)| into_raw_entries(e)),
        Value::Array(streams) => match streams.into_iter().next() {
            None => Ok(Vec::new()),
            Some(Value::Array(kb) | Value::Set(kb)) if kb.len() == 2 => kb
                .into_iter()
                .nth(1)
                .map_or(Ok(Vec::new()), into_raw_entries),
            Some(other) => Err(bad("XREAD stream", &other)),
        },
        other => Err(bad("XREAD reply", &other)),
    }
}

/// Field/value pairs as bytes; `None` for a nil body.
fn into_raw_fields(v: Value) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    match v {
        Value::Map(pairs) => Some(
            pairs
                .into_iter()
                .filter_map(|(k, v)| Some((into_bytes(k)?, into_bytes(v)?)))
                .collect(),
        ),
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len() / 2);
            let mut it = a.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                if let (Some(k), Some(v)) = (into_bytes(k), into_bytes(v)) {
                    out.push((k, v));
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// One reply of an `ignore_errors` pipeline: an error reply becomes that
/// command's [`RedisFailure`], so each command's failure is told apart.
pub fn checked(v: &Value) -> Result<&Value, RedisFailure> {
    match v {
        Value::ServerError(_) => Err(classify(&v.clone().extract_error().err().unwrap_or_else(
            || ::redis::RedisError::from((::redis::ErrorKind::Parse, "error reply")),
        ))),
        other => Ok(other),
    }
}

pub fn bad(what: &str, v: &Value) -> RedisFailure {
    let mut shown = format!("{v:?}");
    // On a char boundary: `truncate` panics inside a multi-byte character,
    // and a malformed reply may carry any text (found by tests/props.rs).
    let mut end = shown.len().min(120);
    while !shown.is_char_boundary(end) {
        end -= 1;
    }
    shown.truncate(end);
    RedisFailure::Reply(format!("{what}: {shown}"))
}

/// Text of a bulk/simple string reply.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Okay => Some("OK".into()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

/// An integer reply, also accepting integers sent as strings.
pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::BulkString(_) | Value::SimpleString(_) => text(v)?.parse().ok(),
        Value::Double(d) if d.is_finite() => Some(d.round() as i64),
        _ => None,
    }
}

/// A non-negative count; nil and negatives become `None`.
pub fn count(v: &Value) -> Option<u64> {
    int(v).and_then(|i| u64::try_from(i).ok())
}

pub fn id(v: &Value) -> Option<EntryId> {
    text(v)?.parse().ok()
}

/// Elements of an array-like reply.
pub fn items(v: &Value) -> Option<&[Value]> {
    match v {
        Value::Array(a) | Value::Set(a) => Some(a),
        _ => None,
    }
}

/// A flat `[k1, v1, k2, v2, ...]` array or a RESP3 map, as a lookup table.
pub fn table(v: &Value) -> Option<HashMap<String, &Value>> {
    match v {
        Value::Map(pairs) => Some(
            pairs
                .iter()
                .filter_map(|(k, v)| Some((text(k)?, v)))
                .collect(),
        ),
        Value::Array(a) => Some(
            a.chunks(2)
                .filter_map(|kv| match kv {
                    [k, v] => Some((text(k)?, v)),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    }
}

/// Field/value pairs of an entry body (array or map); binary-safe values.
pub fn fields(v: &Value) -> Option<Vec<(String, Vec<u8>)>> {
    into_fields(v.clone())
}

/// One `[id, fields|nil]` entry.
pub fn entry(v: &Value) -> Result<Entry, RedisFailure> {
    into_entry(v.clone())
}

/// A list of entries, as XRANGE and XCLAIM return. Nil items (XCLAIM of a
/// deleted id before Redis 7) are skipped.
pub fn entries(v: &Value) -> Result<Vec<Entry>, RedisFailure> {
    into_entries(v.clone())
}

/// The entries of the first (only) stream in an XREAD/XREADGROUP reply.
/// Nil means BLOCK timed out with nothing new.
pub fn read_reply(v: &Value) -> Result<Vec<Entry>, RedisFailure> {
    into_read_reply(v.clone())
}

// The `into_*` decoders take the reply by value and move its byte buffers
// into the entries: the drain decodes every field of every entry, and
// copying them (as the borrowing versions above do) cost one allocation
// and one copy per field on top of the ones the RESP parser already made.

/// Text of a reply, by value: a valid UTF-8 bulk string becomes a `String`
/// without a copy; anything else decodes like [`text`].
fn into_text(v: Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(
            String::from_utf8(b)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        ),
        Value::SimpleString(s) => Some(s),
        Value::VerbatimString { text, .. } => Some(text),
        other => text(&other),
    }
}

fn into_bytes(v: Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b),
        other => into_text(other).map(String::into_bytes),
    }
}

/// An entry id, parsed straight from the reply's bytes (no `String`).
pub fn id_of(v: &Value) -> Option<EntryId> {
    match v {
        Value::BulkString(b) => EntryId::from_canonical(b).or_else(|| id(v)),
        other => id(other),
    }
}

/// [`fields`], by value.
pub fn into_fields(v: Value) -> Option<Vec<(String, Vec<u8>)>> {
    match v {
        Value::Map(pairs) => Some(
            pairs
                .into_iter()
                .filter_map(|(k, v)| Some((into_text(k)?, into_bytes(v)?)))
                .collect(),
        ),
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len() / 2);
            let mut it = a.into_iter();
            // Pairs in order; a trailing odd element is ignored.
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                if let (Some(k), Some(v)) = (into_text(k), into_bytes(v)) {
                    out.push((k, v));
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// Fields of an entry as bytes, names too, in the order Redis keeps them,
/// duplicates included: what a faithful copy of the entry needs (a
/// [`RawEntry`]'s fields).
pub type RawFields = Vec<(Vec<u8>, Vec<u8>)>;

/// [`entry`], by value.
pub fn into_entry(v: Value) -> Result<Entry, RedisFailure> {
    if !matches!(items(&v), Some([_, _])) {
        return Err(bad("stream entry", &v));
    }
    let (Value::Array(pair) | Value::Set(pair)) = v else {
        return Err(bad("stream entry", &v));
    };
    let mut pair = pair.into_iter();
    let (Some(id_v), Some(body)) = (pair.next(), pair.next()) else {
        return Err(bad("stream entry", &Value::Nil));
    };
    Ok(Entry {
        id: id_of(&id_v).ok_or_else(|| bad("entry id", &id_v))?,
        fields: into_fields(body),
    })
}

/// [`entries`], by value.
pub fn into_entries(v: Value) -> Result<Vec<Entry>, RedisFailure> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::Array(list) | Value::Set(list) => list
            .into_iter()
            .filter(|e| !matches!(e, Value::Nil))
            .map(into_entry)
            .collect(),
        other => Err(bad("entry list", &other)),
    }
}

/// [`read_reply`], by value.
pub fn into_read_reply(v: Value) -> Result<Vec<Entry>, RedisFailure> {
    match v {
        Value::Nil => Ok(Vec::new()),
        Value::Map(streams) => streams
            .into_iter()
            .next()
            .map_or(Ok(Vec::new()), |(_, e)| into_entries(e)),
        Value::Array(streams) => match streams.into_iter().next() {
            None => Ok(Vec::new()),
            Some(stream) => {
                if !matches!(items(&stream), Some([_, _])) {
                    return Err(bad("XREAD stream", &stream));
                }
                match stream {
                    Value::Array(kb) | Value::Set(kb) => {
                        kb.into_iter().nth(1).map_or(Ok(Vec::new()), into_entries)
                    }
                    other => Err(bad("XREAD stream", &other)),
                }
            }
        },
        other => Err(bad("XREAD reply", &other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn read_reply_keeps_nil_bodies_of_deleted_entries() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("tasks"),
            Value::Array(vec![
                Value::Array(vec![
                    bulk("1-0"),
                    Value::Array(vec![bulk("kind"), bulk("email")]),
                ]),
                Value::Array(vec![bulk("2-0"), Value::Nil]),
            ]),
        ])]);
        let got = read_reply(&reply).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].field_str("kind").as_deref(), Some("email"));
        assert_eq!(got[1].fields, None);
        assert_eq!(read_reply(&Value::Nil).unwrap(), vec![]);
    }

    #[test]
    fn binary_field_values_survive() {
        let body = Value::Array(vec![
            bulk("payload"),
            Value::BulkString(vec![0xff, 0x00, 0xfe]),
        ]);
        let e = entry(&Value::Array(vec![bulk("5-1"), body])).unwrap();
        assert_eq!(e.field("payload"), Some(&[0xff, 0x00, 0xfe][..]));
    }

    #[test]
    fn raw_entries_keep_binary_names_order_and_duplicates() {
        let body = Value::Array(vec![
            bulk("f"),
            bulk("1"),
            Value::BulkString(vec![0xff, b'n']),
            Value::BulkString(vec![0, 1]),
            bulk("f"),
            bulk("2"),
        ]);
        let list = Value::Array(vec![Value::Array(vec![bulk("7-1"), body]), Value::Nil]);
        let got = into_raw_entries(list).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, EntryId { ms: 7, seq: 1 });
        let names: Vec<&[u8]> = got[0].fields.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(names, vec![&b"f"[..], &[0xff, b'n'][..], &b"f"[..]]);
        assert_eq!(got[0].fields[1].1, vec![0, 1]);
        assert!(into_raw_entries(Value::Int(1)).is_err());
    }

    #[test]
    fn malformed_replies_are_errors_not_panics() {
        assert!(entry(&Value::Int(3)).is_err());
        assert!(entry(&Value::Array(vec![bulk("nope"), Value::Nil])).is_err());
        assert!(read_reply(&Value::Int(1)).is_err());
    }
}
