//! Throughput phases built on the real engine: P producers pipelining
//! XADD batches, W group workers (XREADGROUP COUNT + batched XACK).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::engine::event::NullSink;
use crate::engine::producer::{Producer, ProducerConfig};
use crate::engine::worker::{Behaviour, Worker, WorkerConfig, WorkerStats};
use crate::redis::{Connector, RedisFailure, create_group};

/// How a throughput phase is shaped.
#[derive(Debug, Clone)]
pub struct Shape {
    pub tasks: u64,
    pub producers: u64,
    pub workers: u64,
    pub batch: usize,
    pub read_count: usize,
}

/// Add `shape.tasks` entries to `key` with `shape.producers` connections;
/// returns the elapsed time. `progress` is bumped as batches land.
pub async fn produce(
    connector: &Connector,
    key: &str,
    shape: &Shape,
    progress: &Arc<std::sync::atomic::AtomicU64>,
) -> Result<Duration, RedisFailure> {
    let started = Instant::now();
    let per = shape.tasks / shape.producers.max(1);
    let mut handles = Vec::new();
    for p in 0..shape.producers.max(1) {
        let share = if p == 0 {
            shape.tasks - per * (shape.producers.max(1) - 1)
        } else {
            per
        };
        let config = ProducerConfig {
            stream: key.to_owned(),
            retention: None,
            payload_bytes: 0,
            first_seq: p * per + 1,
        };
        let mut producer = Producer::new(
            connector.conn(format!("bench-producer-{p}")),
            config,
            Arc::new(NullSink),
        );
        let batch = shape.batch;
        let progress = progress.clone();
        handles.push(tokio::spawn(async move {
            let mut done = 0;
            while done < share {
                let n = usize::try_from((share - done).min(batch as u64)).unwrap_or(batch);
                producer.send_batch(n).await?;
                done += n as u64;
                progress.fetch_add(n as u64, Ordering::Relaxed);
            }
            Ok::<(), RedisFailure>(())
        }));
    }
    for h in handles {
        h.await
            .map_err(|e| RedisFailure::Server(format!("producer task died: {e}")))??;
    }
    Ok(started.elapsed())
}

/// Running workers of one phase.
pub struct Workers {
    pub stats: Vec<Arc<WorkerStats>>,
    cancel: CancellationToken,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

impl Workers {
    /// Start `shape.workers` engine workers on `key` (group `bench`, created at 0).
    pub async fn start(
        connector: &Connector,
        key: &str,
        shape: &Shape,
    ) -> Result<Self, RedisFailure> {
        create_group(&mut connector.conn("bench-admin"), key, "bench", "0").await?;
        let cancel = CancellationToken::new();
        let mut stats = Vec::new();
        let mut handles = Vec::new();
        for w in 0..shape.workers.max(1) {
            let config = WorkerConfig {
                stream: key.to_owned(),
                group: "bench".into(),
                consumer: format!("bench-{w}"),
                count: shape.read_count,
                block: Duration::from_millis(200),
                claim_every: Duration::from_secs(3600),
                min_idle: Duration::from_secs(3600),
                claim_count: 100,
                max_deliveries: 5,
            };
            let conn = connector.blocking_conn(format!("bench-worker-{w}"), config.block);
            let worker = Worker::new(
                conn,
                config,
                Arc::new(Behaviour::default()),
                Arc::new(NullSink),
            );
            stats.push(worker.stats.clone());
            let token = cancel.clone();
            handles.push(tokio::spawn(async move {
                worker.run(token).await;
            }));
        }
        Ok(Self {
            stats,
            cancel,
            handles,
        })
    }

    pub fn acked(&self) -> u64 {
        self.stats
            .iter()
            .map(|s| s.acked.load(Ordering::Relaxed))
            .sum()
    }

    /// Wait until `target` entries are acked (or `limit` passes).
    pub async fn wait_acked(&self, target: u64, limit: Duration) -> Result<(), RedisFailure> {
        let deadline = Instant::now() + limit;
        while self.acked() < target {
            if Instant::now() > deadline {
                return Err(RedisFailure::Server(format!(
                    "only {} of {target} acked within {limit:?}",
                    self.acked()
                )));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok(())
    }

    pub async fn stop(self) {
        self.cancel.cancel();
        for h in self.handles {
            let _ = h.await;
        }
    }
}
