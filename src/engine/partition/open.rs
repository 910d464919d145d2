//! Opening a logical stream for a command that may create it (`produce`,
//! the lab): find its recorded layout, or create and record one with the
//! requested number of partitions; a request that contradicts what exists
//! is refused, naming both.

use super::Layout;
use super::placement::place;
use crate::engine::registry::{self, CreatedBy, Origin};
use crate::redis::Conn;
use crate::redis::RedisFailure;
use crate::redis::topology::Master;

/// Why a stream could not be opened as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    Redis(RedisFailure),
    /// The request contradicts the stream as it exists (a usage error).
    Layout(String),
}

impl From<RedisFailure> for OpenError {
    fn from(e: RedisFailure) -> Self {
        Self::Redis(e)
    }
}

/// A stream as `open` found (or made) it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub origin: Origin,
    pub layout: Layout,
}

/// Open `stream`, creating it with `partitions` (placed over `masters`)
/// when it does not exist; `None` accepts whatever layout it has.
pub async fn open(
    conn: &mut Conn,
    stream: &str,
    by: CreatedBy,
    partitions: Option<usize>,
    masters: &[Master],
) -> Result<Opened, OpenError> {
    let new = match partitions {
        Some(n) if n > 1 => Layout {
            stream: stream.to_owned(),
            partitions: place(stream, n, masters).map_err(OpenError::Layout)?,
        },
        _ => Layout::single(stream),
    };
    let origin = registry::claim(conn, stream, by, &new).await?;
    if let Some(n) = partitions {
        check(stream, n, &origin).map_err(OpenError::Layout)?;
    }
    let layout = match &origin {
        Origin::Ours { record, .. } => record.layout.clone(),
        Origin::Foreign { .. } => Layout::single(stream),
    };
    Ok(Opened { origin, layout })
}

/// Refuse `--partitions n` on a stream that exists with another layout.
fn check(stream: &str, n: usize, origin: &Origin) -> Result<(), String> {
    match origin {
        Origin::Ours { record, .. } if record.layout.partition_count() != n => {
            let have = &record.layout;
            Err(format!(
                "stream '{stream}' already has {} ({}); --partitions {n} asks for {}: drop --partitions, or pick another --stream",
                plural(have.partition_count()),
                have.partitions.join(", "),
                plural(n)
            ))
        }
        Origin::Foreign { existing } if n > 1 && existing == stream => Err(format!(
            "stream '{stream}' already exists as 1 partition (itself; streamlab did not create it); --partitions {n} asks for {}: drop --partitions, or pick another --stream",
            plural(n)
        )),
        Origin::Foreign { existing } if n > 1 => Err(format!(
            "cannot create '{stream}' with {}: its partition key '{existing}' already holds data streamlab did not record; delete that key, or pick another --stream",
            plural(n)
        )),
        _ => Ok(()),
    }
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 partition".into()
    } else {
        format!("{n} partitions")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::registry::StreamRecord;

    fn ours(keys: &[&str]) -> Origin {
        Origin::Ours {
            record: StreamRecord {
                created_by: CreatedBy::Produce,
                created_ms: 1,
                version: "0".into(),
                layout: Layout {
                    stream: "jobs".into(),
                    partitions: keys.iter().map(|&k| k.to_owned()).collect(),
                },
            },
            created_now: false,
        }
    }

    #[test]
    fn another_layout_is_refused_naming_both() {
        let err = check("jobs", 2, &ours(&["{jobs.p0}", "{jobs.p1}", "{jobs.p2}"]))
            .expect_err("3 is not 2");
        assert!(
            err.contains("3 partitions ({jobs.p0}, {jobs.p1}, {jobs.p2})"),
            "{err}"
        );
        assert!(
            err.contains("--partitions 2 asks for 2 partitions"),
            "{err}"
        );
        assert_eq!(check("jobs", 3, &ours(&["a", "b", "c"])), Ok(()));
        let err = check("jobs", 3, &ours(&["jobs"])).expect_err("1 is not 3");
        assert!(err.contains("1 partition (jobs)"), "{err}");
    }

    #[test]
    fn a_foreign_stream_is_one_partition() {
        let foreign = |k: &str| Origin::Foreign {
            existing: k.to_owned(),
        };
        assert_eq!(check("jobs", 1, &foreign("jobs")), Ok(()));
        let err = check("jobs", 4, &foreign("jobs")).expect_err("not ours");
        assert!(err.contains("already exists as 1 partition"), "{err}");
        let err = check("jobs", 4, &foreign("{jobs.p2}")).expect_err("key taken");
        assert!(err.contains("'{jobs.p2}'"), "{err}");
    }
}
