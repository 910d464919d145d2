//! The basic single consumer: XREAD BLOCK after the last id it has seen,
//! saving its offset after each batch so a restart resumes where it stopped.
//!
//! `$` is resolved once, at start, to the stream's last generated id, and
//! the last seen id is carried forward from then on: re-sending `$` in a
//! loop would skip whatever arrived between two reads.

use std::time::Duration;

use crate::engine::event::{Event, SharedSink};
use crate::engine::offset_key;
use crate::engine::task::Task;
use crate::redis::connect::retry_delay;
use crate::redis::memory::out_of_memory_detail;
use crate::redis::reply::Entry;
use crate::redis::{Conn, EntryId, RedisFailure, get_string, set_string, xinfo_stream, xread};

/// Where the consumer starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
    /// Only entries added after start (`$`).
    End,
    /// The whole backlog (`0-0`).
    Beginning,
    /// The offset saved by an earlier run, else `$`.
    Saved,
    /// Strictly after this id.
    After(EntryId),
}

impl std::str::FromStr for StartFrom {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "$" => Ok(Self::End),
            "0" | "0-0" => Ok(Self::Beginning),
            "saved" => Ok(Self::Saved),
            other => other
                .parse()
                .map(Self::After)
                .map_err(|e| format!("--from: {e}, or one of '$', 0-0, saved")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    pub stream: String,
    pub name: String,
    pub count: usize,
    pub block: Duration,
    pub save_offset: bool,
}

pub struct BasicConsumer {
    conn: Conn,
    config: ConsumerConfig,
    last: EntryId,
    sink: SharedSink,
}

/// How the start id was chosen, for the note printed at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartNote {
    ResumedFromSaved(EntryId),
    NoSavedOffsetUsingEnd(EntryId),
    FromEnd(EntryId),
    FromBeginning,
    FromId(EntryId),
}

impl BasicConsumer {
    /// Resolve `from` to a concrete id and return the consumer.
    pub async fn start(
        mut conn: Conn,
        config: ConsumerConfig,
        from: StartFrom,
        sink: SharedSink,
    ) -> Result<(Self, StartNote), RedisFailure> {
        let (last, note) = match from {
            StartFrom::Beginning => (EntryId::ZERO, StartNote::FromBeginning),
            StartFrom::After(id) => (id, StartNote::FromId(id)),
            StartFrom::End => {
                let end = stream_end(&mut conn, &config.stream).await?;
                (end, StartNote::FromEnd(end))
            }
            StartFrom::Saved => {
                let key = offset_key(&config.stream, &config.name);
                match get_string(&mut conn, &key)
                    .await?
                    .and_then(|s| s.parse().ok())
                {
                    Some(id) => (id, StartNote::ResumedFromSaved(id)),
                    None => {
                        let end = stream_end(&mut conn, &config.stream).await?;
                        (end, StartNote::NoSavedOffsetUsingEnd(end))
                    }
                }
            }
        };
        Ok((
            Self {
                conn,
                config,
                last,
                sink,
            },
            note,
        ))
    }

    pub fn last_seen(&self) -> EntryId {
        self.last
    }

    /// Wait up to BLOCK for entries after the last seen id. Connection
    /// errors are retried here with backoff; an empty result means BLOCK
    /// passed with nothing new.
    pub async fn next_batch(&mut self) -> Result<Vec<Entry>, RedisFailure> {
        let block_ms = u64::try_from(self.config.block.as_millis()).unwrap_or(u64::MAX);
        let mut attempt = 0;
        loop {
            match xread(
                &mut self.conn,
                &self.config.stream,
                self.last,
                self.config.count,
                block_ms,
            )
            .await
            {
                Ok(entries) => {
                    if attempt > 0 {
                        self.sink.emit(Event::Reconnected {
                            role: self.conn.role().to_owned(),
                            stream: Some(self.config.stream.clone()),
                        });
                    }
                    for e in &entries {
                        let task = Task::from_entry(e);
                        self.sink.emit(Event::Consumed {
                            stream: self.config.stream.clone(),
                            id: e.id,
                            consumer: self.config.name.clone(),
                            kind: task
                                .as_ref()
                                .map_or_else(|| "deleted".into(), |t| t.kind.clone()),
                            seq: task.and_then(|t| t.seq),
                        });
                    }
                    return Ok(entries);
                }
                Err(e) if e.is_connection() => {
                    attempt += 1;
                    let delay = self.conn.next_backoff();
                    self.sink.emit(Event::Reconnecting {
                        role: self.conn.role().to_owned(),
                        stream: Some(self.config.stream.clone()),
                        attempt,
                        delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        error: e.to_string(),
                    });
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Mark a batch as handled: carry the last id forward and save it.
    pub async fn commit(&mut self, batch: &[Entry]) -> Result<(), RedisFailure> {
        let Some(last) = batch.last() else {
            return Ok(());
        };
        self.last = last.id;
        if self.config.save_offset {
            self.save_offset(last.id).await?;
            self.sink.emit(Event::OffsetSaved {
                stream: self.config.stream.clone(),
                consumer: self.config.name.clone(),
                id: last.id,
            });
        }
        Ok(())
    }
}

impl BasicConsumer {
    /// SET the offset. Redis out of memory refuses the SET: wait it out
    /// with backoff (saying so, not "reconnecting") rather than stop, so
    /// the consumer resumes by itself once memory is freed.
    async fn save_offset(&mut self, id: EntryId) -> Result<(), RedisFailure> {
        let key = offset_key(&self.config.stream, &self.config.name);
        let mut attempt = 0;
        loop {
            match set_string(&mut self.conn, &key, &id.to_string()).await {
                Ok(()) if attempt > 0 => {
                    let role = self.conn.role().to_owned();
                    self.sink.emit(Event::MemoryAvailable {
                        role,
                        stream: Some(self.config.stream.clone()),
                    });
                    return Ok(());
                }
                Ok(()) => return Ok(()),
                Err(e) if e.is_out_of_memory() => {
                    attempt += 1;
                    let delay = retry_delay(attempt);
                    self.sink.emit(Event::OutOfMemory {
                        role: self.conn.role().to_owned(),
                        stream: Some(self.config.stream.clone()),
                        attempt,
                        delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        detail: out_of_memory_detail(&mut self.conn).await,
                    });
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The id `$` stands for right now: the last id ever generated (entries
/// deleted since still count), or 0-0 when the stream does not exist yet.
async fn stream_end(conn: &mut Conn, stream: &str) -> Result<EntryId, RedisFailure> {
    Ok(xinfo_stream(conn, stream)
        .await?
        .and_then(|i| i.last_generated_id)
        .unwrap_or(EntryId::ZERO))
}
