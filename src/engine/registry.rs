//! The stream registry: what streamlab records in Redis about the streams
//! it created. One HASH per logical stream at `<stream>:streamlab` (so a
//! hash-tagged `{jobs}` keeps `{jobs}:streamlab` in its cluster slot) with
//! `created_by`, `created_ms`, `version`, `partitions` and one
//! `partition:<i>` field per partition key. A stream without a record is
//! one partition, itself, and was not created by streamlab.

use crate::engine::partition::Layout;
use crate::redis::id::now_ms;
use crate::redis::{Conn, RedisFailure, exists, hgetall, hset_absent};

/// Who created a stream: `produce`, or the dashboard's lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreatedBy {
    Lab,
    Produce,
    /// A value written by another streamlab version; kept as read.
    Other(String),
}

impl CreatedBy {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Lab => "lab",
            Self::Produce => "produce",
            Self::Other(s) => s,
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "lab" => Self::Lab,
            "produce" => Self::Produce,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// One stream's record, as streamlab wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    pub created_by: CreatedBy,
    pub created_ms: u64,
    /// The streamlab version that created it.
    pub version: String,
    pub layout: Layout,
}

/// The key of `stream`'s record.
pub fn record_key(stream: &str) -> String {
    format!("{stream}:streamlab")
}

/// `stream`'s record, if streamlab created it (one HGETALL).
pub async fn read(conn: &mut Conn, stream: &str) -> Result<Option<StreamRecord>, RedisFailure> {
    let key = record_key(stream);
    let fields = match hgetall(conn, &key).await {
        Err(RedisFailure::WrongType(_)) => {
            return Err(RedisFailure::Server(format!(
                "{key} holds another type of value, but streamlab keeps its record of stream '{stream}' there: rename that key or pick another --stream"
            )));
        }
        other => other?,
    };
    if fields.is_empty() {
        return Ok(None);
    }
    // Someone edited or damaged the record: say which key and what to do,
    // rather than guess a layout (which would read the wrong keys).
    decode(stream, &fields).map(Some).map_err(|problem| {
        RedisFailure::Server(format!(
            "{key} is not a record streamlab can read ({problem}): delete that key (then '{stream}' counts as one stream streamlab did not create) or pick another --stream"
        ))
    })
}

/// Record that `by` created `stream` with `layout`, unless a record exists
/// (it is never overwritten). Returns whether this call wrote it.
pub async fn record_created(
    conn: &mut Conn,
    stream: &str,
    by: CreatedBy,
    layout: &Layout,
) -> Result<bool, RedisFailure> {
    let record = StreamRecord {
        created_by: by,
        created_ms: now_ms(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        layout: layout.clone(),
    };
    hset_absent(conn, &record_key(stream), &encode(&record)).await
}

/// The partitions of `stream`: its recorded layout, or the stream itself.
pub async fn resolve(conn: &mut Conn, stream: &str) -> Result<Layout, RedisFailure> {
    Ok(read(conn, stream)
        .await?
        .map_or_else(|| Layout::single(stream), |r| r.layout))
}

/// Where a stream came from, as seen before streamlab writes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// streamlab recorded it; `created_now` when this call did.
    Ours {
        record: StreamRecord,
        created_now: bool,
    },
    /// `existing` (the stream key, or one its new layout would use) holds
    /// data without a record: someone else's, or older than the registry.
    /// Never recorded, so it stays foreign.
    Foreign { existing: String },
}

/// Decide where `stream` came from; when neither a record nor any key of
/// `new` (`Layout::single` for a plain stream) exists, record it as created
/// by `by` with that layout. Call before anything creates the stream.
pub async fn claim(
    conn: &mut Conn,
    stream: &str,
    by: CreatedBy,
    new: &Layout,
) -> Result<Origin, RedisFailure> {
    if let Some(record) = read(conn, stream).await? {
        return Ok(Origin::Ours {
            record,
            created_now: false,
        });
    }
    // One EXISTS per key: on a cluster the keys are in different slots.
    let mut keys = vec![stream];
    keys.extend(
        new.partitions
            .iter()
            .map(String::as_str)
            .filter(|&k| k != stream),
    );
    for key in keys {
        if exists(conn, key).await? {
            let existing = key.to_owned();
            return Ok(Origin::Foreign { existing });
        }
    }
    let created_now = record_created(conn, stream, by, new).await?;
    // Not written by us: another streamlab recorded it a moment ago.
    let record = read(conn, stream).await?.ok_or_else(|| {
        RedisFailure::Reply(format!("registry record {} vanished", record_key(stream)))
    })?;
    Ok(Origin::Ours {
        record,
        created_now,
    })
}

/// The record's HASH fields; `created_by` first (see [`hset_absent`]).
fn encode(record: &StreamRecord) -> Vec<(String, String)> {
    let layout = &record.layout;
    let mut fields = vec![
        (
            "created_by".to_owned(),
            record.created_by.as_str().to_owned(),
        ),
        ("created_ms".to_owned(), record.created_ms.to_string()),
        ("version".to_owned(), record.version.clone()),
        (
            "partitions".to_owned(),
            layout.partition_count().to_string(),
        ),
    ];
    let keys = layout.partitions.iter().enumerate();
    fields.extend(keys.map(|(i, key)| (format!("partition:{i}"), key.clone())));
    fields
}

fn decode(stream: &str, fields: &[(String, Vec<u8>)]) -> Result<StreamRecord, String> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .ok_or_else(|| format!("field {name} is missing"))
    };
    let number = |name: &str| -> Result<u64, String> {
        let text = get(name)?;
        text.parse()
            .map_err(|_| format!("field {name} is {text:?}, not a number"))
    };
    let count = number("partitions")?;
    if count == 0 {
        return Err("field partitions is 0".into());
    }
    let partitions = (0..count)
        .map(|i| get(&format!("partition:{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    // Two partitions on one key would run two readers on it, under one name.
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = partitions.iter().find(|k| !seen.insert(*k)) {
        return Err(format!("partition key {twice} is listed twice"));
    }
    Ok(StreamRecord {
        created_by: CreatedBy::parse(&get("created_by")?),
        created_ms: number("created_ms")?,
        version: get("version")?,
        layout: Layout {
            stream: stream.to_owned(),
            partitions,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(partitions: &[&str]) -> StreamRecord {
        StreamRecord {
            created_by: CreatedBy::Produce,
            created_ms: 1_700_000_000_000,
            version: "0.1.0".into(),
            layout: Layout {
                stream: "jobs".into(),
                partitions: partitions.iter().map(|&p| p.to_owned()).collect(),
            },
        }
    }

    fn as_reply(fields: Vec<(String, String)>) -> Vec<(String, Vec<u8>)> {
        fields
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes()))
            .collect()
    }

    #[test]
    fn a_record_reads_back_as_written() {
        for keys in [&["jobs"][..], &["{jobs.p0}", "{jobs.p1}", "{jobs.p2}"]] {
            let r = record(keys);
            let fields = encode(&r);
            assert_eq!(
                fields[0].0, "created_by",
                "HSETNX decides on the first field"
            );
            assert_eq!(decode("jobs", &as_reply(fields)), Ok(r));
        }
    }

    #[test]
    fn the_record_key_keeps_a_hash_tag_first() {
        assert_eq!(record_key("{jobs}"), "{jobs}:streamlab");
        assert_eq!(record_key("jobs"), "jobs:streamlab");
    }

    #[test]
    fn an_unknown_creator_is_kept_as_written() {
        let mut fields = as_reply(encode(&record(&["jobs"])));
        fields[0].1 = b"bench".to_vec();
        let r = decode("jobs", &fields).expect("decodes");
        assert_eq!(r.created_by, CreatedBy::Other("bench".into()));
        assert_eq!(r.created_by.as_str(), "bench");
    }

    #[test]
    fn a_damaged_record_names_the_field() {
        let full = as_reply(encode(&record(&["{jobs.p0}", "{jobs.p1}"])));
        let without =
            |name: &str| -> Vec<_> { full.iter().filter(|(k, _)| k != name).cloned().collect() };
        let err = decode("jobs", &without("partition:1")).expect_err("missing key");
        assert!(err.contains("partition:1"), "{err}");
        let err = decode("jobs", &without("partitions")).expect_err("no count");
        assert!(err.contains("partitions"), "{err}");
        let mut zero = full.clone();
        zero[3].1 = b"0".to_vec();
        assert!(decode("jobs", &zero).is_err());
        let mut twice = full.clone();
        twice[5].1 = b"{jobs.p0}".to_vec();
        let err = decode("jobs", &twice).expect_err("one key twice");
        assert!(err.contains("{jobs.p0} is listed twice"), "{err}");
        let mut word = full;
        word[1].1 = b"soon".to_vec();
        let err = decode("jobs", &word).expect_err("not a number");
        assert!(err.contains("created_ms") && err.contains("soon"), "{err}");
    }
}
