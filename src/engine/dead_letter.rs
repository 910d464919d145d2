//! The dead-letter entry format, in one place: what the worker and the
//! dashboard write to `<stream>:dead`, and what `dlq replay` reads back.

use crate::redis::EntryId;
use crate::redis::reply::Entry;

/// The error of an entry dead-lettered by hand from the dashboard.
pub const BY_HAND: &str = "dead-lettered by hand from the dashboard";

/// Why and by whom an entry is dead-lettered.
pub struct DeadLetter<'a> {
    pub group: &'a str,
    pub consumer: &'a str,
    pub deliveries: u64,
    pub error: &'a str,
}

impl DeadLetter<'_> {
    /// Fields of the dead-letter entry for `id`: the reason first, then the
    /// original fields prefixed `f:` so a replay can rebuild the task.
    pub fn fields(
        &self,
        id: EntryId,
        original: Option<&[(String, Vec<u8>)]>,
    ) -> Vec<(String, Vec<u8>)> {
        let mut fields: Vec<(String, Vec<u8>)> = vec![
            ("original_id".into(), id.to_string().into_bytes()),
            ("group".into(), self.group.as_bytes().to_vec()),
            ("consumer".into(), self.consumer.as_bytes().to_vec()),
            (
                "deliveries".into(),
                self.deliveries.to_string().into_bytes(),
            ),
            ("error".into(), self.error.as_bytes().to_vec()),
        ];
        for (k, v) in original.into_iter().flatten() {
            fields.push((format!("f:{k}"), v.clone()));
        }
        fields
    }
}

/// The task fields a dead letter carries, plus `replayed_from`: what
/// `dlq replay` adds back to the stream.
pub fn replay_fields(dead: &Entry) -> Vec<(String, Vec<u8>)> {
    let mut fields: Vec<(String, Vec<u8>)> = dead
        .fields
        .iter()
        .flatten()
        .filter_map(|(k, v)| k.strip_prefix("f:").map(|k| (k.to_owned(), v.clone())))
        .collect();
    if let Some(orig) = dead.field_str("original_id") {
        fields.push(("replayed_from".into(), orig.into_bytes()));
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_restores_the_original_fields_and_names_the_source() {
        let why = DeadLetter {
            group: "g",
            consumer: "w1",
            deliveries: 5,
            error: "boom",
        };
        let id = EntryId { ms: 7, seq: 1 };
        let original = vec![("kind".to_owned(), b"email".to_vec())];
        let dead = Entry {
            id: EntryId { ms: 9, seq: 0 },
            fields: Some(why.fields(id, Some(&original))),
        };
        assert_eq!(dead.field_str("deliveries").as_deref(), Some("5"));
        assert_eq!(
            replay_fields(&dead),
            vec![
                ("kind".to_owned(), b"email".to_vec()),
                ("replayed_from".to_owned(), b"7-1".to_vec())
            ]
        );
    }
}
