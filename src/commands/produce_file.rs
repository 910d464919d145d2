//! `streamlab produce --from-file FILE`: replay the entries `streamlab read
//! --json` printed (an incident's entries, say) into a stream, so the lab's
//! workers can run them again. Each entry's fields are added as they were,
//! bytes and order and duplicates included, with a new id, or with
//! `--keep-ids` its own id when that is above the stream's last one. The
//! stream is opened exactly as `produce` opens it (created and recorded
//! when absent, so the lab may run on it; never recorded when it existed).

use std::io::BufRead;
use std::path::Path;

use crate::cli::{GlobalArgs, ProduceArgs};
use crate::commands::produce::create_groups;
use crate::engine::partition::Layout;
use crate::engine::partition::spread::Spread;
use crate::engine::registry::CreatedBy;
use crate::failure::Failure;
use crate::output::entries::{JsonEntry, parse_json_line};
use crate::redis::{Conn, EntryId, RawXadd, xadd_raw_batch, xinfo_stream, xlen};
use crate::setup::session::Session;
use crate::setup::streams::{open_stream, spread_of};

/// Entries sent per pipeline.
const BATCH: usize = 512;

pub async fn run(global: &GlobalArgs, args: &ProduceArgs, file: &Path) -> Result<(), Failure> {
    let shown = file.display().to_string();
    // A file is checked whole before anything is added; stdin as it comes.
    if shown != "-" {
        for entry in entries(file, &shown)? {
            entry?;
        }
    }
    let session = Session::open(global).await?;
    let mut conn = session.connector.conn("producer");
    let (_, layout) = open_stream(
        &mut conn,
        &global.stream,
        CreatedBy::Produce,
        &args.partitioning,
    )
    .await?;
    if let Some(group) = &global.group {
        create_groups(&mut conn, &layout, group).await?;
    }
    let spread = spread_of(&args.partitioning);
    let mut replay = Replay::new(conn, layout, spread, args.keep_ids).await?;
    let mut lines = entries(file, &shown)?;
    loop {
        let mut batch = Vec::with_capacity(BATCH);
        for entry in lines.by_ref().take(BATCH) {
            match entry {
                Ok(e) => batch.push(e),
                Err(e) => {
                    let added = replay.added;
                    return Err(Failure::usage(format!(
                        "{e} ({added} entries before it were added)"
                    )));
                }
            }
        }
        if batch.is_empty() {
            break;
        }
        replay.add(batch).await?;
    }
    replay.report(&global.stream, &shown).await;
    Ok(())
}

/// The file's entries, one per non-empty line; a line that is not a
/// `read --json` entry is an error naming it.
fn entries(
    file: &Path,
    shown: &str,
) -> Result<impl Iterator<Item = Result<JsonEntry, Failure>>, Failure> {
    let cannot = |e: std::io::Error| {
        Failure::usage(format!(
            "--from-file {shown}: cannot read it ({e}): check the path"
        ))
    };
    let reader: Box<dyn BufRead> = if shown == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(file).map_err(cannot)?,
        ))
    };
    let shown = shown.to_owned();
    Ok(reader
        .lines()
        .enumerate()
        .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .map(move |(i, line)| {
            let line = line.map_err(|e| {
                Failure::usage(format!("--from-file {shown}: cannot read it ({e})"))
            })?;
            parse_json_line(&line).map_err(|e| {
                Failure::usage(format!(
                    "--from-file {shown} line {}: {e}; it takes the lines `streamlab read --json` prints",
                    i + 1
                ))
            })
        }))
}

/// Entries on their way to the stream's partitions.
struct Replay {
    conn: Conn,
    layout: Layout,
    spread: Spread,
    keep_ids: bool,
    /// Per partition, the highest id it holds (read only with --keep-ids).
    last: Vec<EntryId>,
    seq: u64,
    added: u64,
    kept: u64,
}

impl Replay {
    async fn new(
        mut conn: Conn,
        layout: Layout,
        spread: Spread,
        keep_ids: bool,
    ) -> Result<Self, Failure> {
        let mut last = Vec::with_capacity(layout.partitions.len());
        for key in &layout.partitions {
            let info = if keep_ids {
                xinfo_stream(&mut conn, key).await?
            } else {
                None
            };
            last.push(
                info.and_then(|i| i.last_generated_id)
                    .unwrap_or(EntryId::ZERO),
            );
        }
        Ok(Self {
            conn,
            layout,
            spread,
            keep_ids,
            last,
            seq: 0,
            added: 0,
            kept: 0,
        })
    }

    /// The partition an entry goes to, as `produce` spreads its own.
    fn partition_of(&mut self, entry: &JsonEntry) -> usize {
        let value = match &self.spread {
            Spread::ByField(name) => entry
                .fields
                .iter()
                .find(|(k, _)| k == name.as_bytes())
                .map(|(_, v)| v.as_slice()),
            Spread::RoundRobin => None,
        };
        let n = self.layout.partitions.len();
        let part = self
            .spread
            .partition_of(n, self.seq, value.unwrap_or_default());
        self.seq += 1;
        part
    }

    async fn add(&mut self, batch: Vec<JsonEntry>) -> Result<(), Failure> {
        let mut parts: Vec<Vec<JsonEntry>> =
            self.layout.partitions.iter().map(|_| Vec::new()).collect();
        for entry in batch {
            let part = self.partition_of(&entry);
            parts[part].push(entry);
        }
        for (part, entries) in parts.into_iter().enumerate() {
            self.send(part, &entries).await?;
        }
        Ok(())
    }

    /// XADD `entries` to partition `part`, in one round trip unless
    /// `--keep-ids` meets an entry that cannot keep its id: that one gets a
    /// new id (`*`), which may be above ids kept after it, so the round
    /// trip ends there and the next ids are checked against the id Redis
    /// really gave.
    async fn send(&mut self, part: usize, entries: &[JsonEntry]) -> Result<(), Failure> {
        let key = self.layout.partitions[part].clone();
        let mut rest = entries;
        while !rest.is_empty() {
            let mut adds = Vec::with_capacity(rest.len());
            let mut highest = self.last[part];
            for entry in rest {
                let id = entry.id.filter(|i| self.keep_ids && *i > highest);
                highest = id.unwrap_or(highest);
                adds.push(RawXadd {
                    id,
                    fields: &entry.fields,
                });
                if self.keep_ids && id.is_none() {
                    break;
                }
            }
            let ids = xadd_raw_batch(&mut self.conn, &key, &adds).await?;
            self.kept += adds.iter().filter(|a| a.id.is_some()).count() as u64;
            self.added += ids.len() as u64;
            if let Some(max) = ids.iter().max() {
                self.last[part] = self.last[part].max(*max);
            }
            rest = &rest[adds.len()..];
        }
        Ok(())
    }

    async fn report(&mut self, stream: &str, shown: &str) {
        let mut len = 0;
        for key in &self.layout.partitions {
            len += xlen(&mut self.conn, key).await.unwrap_or(0);
        }
        let ids = if self.keep_ids {
            format!(
                " ({} kept their ids, {} got new ones)",
                self.kept,
                self.added - self.kept
            )
        } else {
            String::new()
        };
        crate::stdout_line!(
            "added {} entries from {shown} to '{stream}'{ids}; stream length now {len}",
            self.added
        );
    }
}
