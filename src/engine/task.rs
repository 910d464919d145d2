//! The task carried by a stream entry: `kind`, `payload`, `created_ms`, `seq`.
//!
//! Parsing is lenient because streams are shared with other clients: a
//! missing or non-numeric field is `None`, binary values are kept as bytes.

use crate::redis::reply::Entry;

const KINDS: [&str; 4] = ["email", "resize", "report", "webhook"];
/// The kind of task the `poison` scenario's workers can never do.
pub const POISON_KIND: &str = "poison";

/// The kind of generated task `seq`: kinds rotate.
pub fn kind_of(seq: u64) -> &'static str {
    KINDS[(seq % KINDS.len() as u64) as usize]
}

/// Append generated task `seq`'s payload to `out`: `{"task":seq}` padded
/// with dots to `payload_bytes`. Appending lets the producer keep a whole
/// batch's payloads in one buffer.
pub fn write_payload(seq: u64, payload_bytes: usize, out: &mut Vec<u8>) {
    use std::io::Write as _;
    let start = out.len();
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{{\"task\":{seq}}}");
    if out.len() - start < payload_bytes {
        out.resize(start + payload_bytes, b'.');
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub kind: String,
    pub payload: Vec<u8>,
    pub created_ms: Option<u64>,
    pub seq: Option<u64>,
}

impl Task {
    /// A generated task: kinds rotate, the payload is padded to `payload_bytes`.
    pub fn generate(seq: u64, payload_bytes: usize, now_ms: u64) -> Self {
        let mut payload = Vec::new();
        write_payload(seq, payload_bytes, &mut payload);
        Self {
            kind: kind_of(seq).to_owned(),
            payload,
            created_ms: Some(now_ms),
            seq: Some(seq),
        }
    }

    /// Field/value pairs for XADD.
    pub fn to_fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        let mut f = vec![
            ("kind", self.kind.clone().into_bytes()),
            ("payload", self.payload.clone()),
        ];
        if let Some(ms) = self.created_ms {
            f.push(("created_ms", ms.to_string().into_bytes()));
        }
        if let Some(seq) = self.seq {
            f.push(("seq", seq.to_string().into_bytes()));
        }
        f
    }

    /// Read a task from an entry; `None` when the entry was deleted.
    pub fn from_entry(entry: &Entry) -> Option<Self> {
        entry.fields.as_ref()?;
        let number = |name: &str| entry.field_str(name).and_then(|s| s.trim().parse().ok());
        Some(Self {
            kind: entry.field_str("kind").unwrap_or_else(|| "unknown".into()),
            payload: entry
                .field("payload")
                .map(<[u8]>::to_vec)
                .unwrap_or_default(),
            created_ms: number("created_ms"),
            seq: number("seq"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::EntryId;

    #[test]
    fn generated_task_round_trips_through_fields() {
        let t = Task::generate(7, 64, 1000);
        assert_eq!(t.payload.len(), 64);
        let fields = t
            .to_fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let e = Entry {
            id: EntryId { ms: 1, seq: 0 },
            fields: Some(fields),
        };
        assert_eq!(Task::from_entry(&e), Some(t));
    }

    #[test]
    fn foreign_entries_parse_leniently() {
        let e = Entry {
            id: EntryId::ZERO,
            fields: Some(vec![
                ("seq".into(), b"x".to_vec()),
                ("data".into(), vec![0xff]),
            ]),
        };
        let t = Task::from_entry(&e).unwrap();
        assert_eq!(
            (t.kind.as_str(), t.seq, t.created_ms),
            ("unknown", None, None)
        );
        assert_eq!(
            Task::from_entry(&Entry {
                id: EntryId::ZERO,
                fields: None
            }),
            None
        );
    }
}
