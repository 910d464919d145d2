//! What the worker does about errors: back off and reconnect, wait for
//! memory (OOM: the link is fine, Redis refuses to grow), re-create a group
//! the server lost (NOGROUP), or stop on errors retrying cannot fix.

use tokio_util::sync::CancellationToken;

use crate::engine::event::Event;
use crate::engine::worker::{Worker, WorkerExit};
use crate::redis::connect::retry_delay;
use crate::redis::memory::out_of_memory_detail;
use crate::redis::{EntryId, RedisFailure, create_group};

impl Worker {
    pub(super) async fn ensure_group(
        &mut self,
        cancel: &CancellationToken,
    ) -> Result<(), WorkerExit> {
        loop {
            match create_group(&mut self.conn, &self.config.stream, &self.config.group, "0").await {
                Ok(created) => {
                    self.note_success();
                    self.sink.emit(Event::GroupCreated {
                        stream: self.config.stream.clone(),
                        group: self.config.group.clone(),
                        created,
                    });
                    return Ok(());
                }
                Err(e) => self.recover(e, cancel).await?,
            }
            if cancel.is_cancelled() {
                return Err(WorkerExit::Stopped);
            }
        }
    }

    /// Decide what an error means: back off and reconnect, re-create a lost
    /// group, or give up. Returns Err only when the worker must stop.
    pub(super) async fn recover(
        &mut self,
        error: RedisFailure,
        cancel: &CancellationToken,
    ) -> Result<(), WorkerExit> {
        match error {
            RedisFailure::NoGroup => {
                let group = self.config.group.clone();
                match create_group(&mut self.conn, &self.config.stream, &group, "0").await {
                    Ok(_) => {
                        let reason = format!(
                            "the server no longer had group '{group}' (destroyed, or the server lost its data); re-created from 0, so entries still in the stream are delivered again"
                        );
                        self.sink.emit(Event::GroupRecreated {
                            stream: self.config.stream.clone(),
                            group,
                            reason,
                        });
                        // Said now, not with the next batch: an idle worker
                        // may not have one for a while.
                        self.sink.flush();
                        self.claim_cursor = EntryId::ZERO;
                        Ok(())
                    }
                    Err(e) => Box::pin(self.recover(e, cancel)).await,
                }
            }
            RedisFailure::OutOfMemory { .. } => {
                self.wait_for_memory(cancel).await;
                Ok(())
            }
            e if e.is_fatal() => {
                self.sink.emit(Event::Error {
                    role: self.config.consumer.clone(),
                    message: e.to_string(),
                });
                Err(WorkerExit::Fatal(e))
            }
            e => {
                self.attempt += 1;
                let delay = self.conn.next_backoff();
                self.sink.emit(Event::Reconnecting {
                    role: self.config.consumer.clone(),
                    stream: Some(self.config.stream.clone()),
                    attempt: self.attempt,
                    delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    error: e.to_string(),
                });
                // While Redis is away no batch comes to flush the sink:
                // without this, `--events json` showed nothing until it returned.
                self.sink.flush();
                tokio::select! {
                    () = cancel.cancelled() => {}
                    () = tokio::time::sleep(delay) => {}
                }
                Ok(())
            }
        }
    }

    /// Back off like a reconnect, but say what it is: Redis is out of
    /// memory (how full, which policy, what frees it). The command is
    /// retried by the caller's loop, so nothing is lost or skipped.
    async fn wait_for_memory(&mut self, cancel: &CancellationToken) {
        self.attempt += 1;
        self.waiting_for_memory = true;
        let delay = retry_delay(self.attempt);
        let detail = out_of_memory_detail(&mut self.conn).await;
        self.sink.emit(Event::OutOfMemory {
            role: self.config.consumer.clone(),
            stream: Some(self.config.stream.clone()),
            attempt: self.attempt,
            delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            detail,
        });
        self.sink.flush();
        tokio::select! {
            () = cancel.cancelled() => {}
            () = tokio::time::sleep(delay) => {}
        }
    }

    pub(super) fn note_success(&mut self) {
        if std::mem::take(&mut self.waiting_for_memory) {
            self.attempt = 0;
            self.sink.emit(Event::MemoryAvailable {
                role: self.config.consumer.clone(),
                stream: Some(self.config.stream.clone()),
            });
        } else if self.attempt > 0 {
            self.attempt = 0;
            self.sink.emit(Event::Reconnected {
                role: self.config.consumer.clone(),
                stream: Some(self.config.stream.clone()),
            });
        }
    }
}
