//! Throughput phases built on the real engine: P producers pipelining
//! XADD batches, W group workers (XREADGROUP COUNT + batched XACK).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::engine::event::NullSink;
use crate::engine::partition::Layout;
use crate::engine::partition::spread::Spread;
use crate::engine::producer::{Producer, ProducerConfig};
use crate::engine::worker::{Behaviour, Worker, WorkerConfig, WorkerStats};
use crate::redis::{
    Conn, Connector, RedisFailure, create_group, parse_groups, parse_stream_info, xinfo_groups_cmd,
    xinfo_stream_cmd,
};

/// How a throughput phase is shaped.
#[derive(Debug, Clone)]
pub struct Shape {
    pub tasks: u64,
    pub producers: u64,
    pub workers: u64,
    pub batch: usize,
    pub read_count: usize,
}

/// Add `shape.tasks` entries to `layout`'s keys (round-robin) with
/// `shape.producers` connections; returns the elapsed time. `progress` is
/// bumped as batches land.
pub async fn produce(
    connector: &Connector,
    layout: &Layout,
    shape: &Shape,
    progress: &Arc<std::sync::atomic::AtomicU64>,
) -> Result<Duration, RedisFailure> {
    let per = shape.tasks / shape.producers.max(1);
    // Dial every connection before the clock starts: the phase measures
    // adding entries, not 4 connects (10 ms of a 0.2 s phase).
    let mut producers = Vec::new();
    for p in 0..shape.producers.max(1) {
        let share = if p == 0 {
            shape.tasks - per * (shape.producers.max(1) - 1)
        } else {
            per
        };
        let config = ProducerConfig {
            layout: layout.clone(),
            spread: Spread::RoundRobin,
            retention: None,
            payload_bytes: 0,
            first_seq: p * per + 1,
        };
        let mut conn = connector.conn(format!("bench-producer-{p}"));
        for key in &layout.partitions {
            conn.connect_for(key).await?;
        }
        producers.push((Producer::new(conn, config, Arc::new(NullSink)), share));
    }
    let started = Instant::now();
    let mut handles = Vec::new();
    for (mut producer, share) in producers {
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
    /// Start `shape.workers` engine workers on every key of `layout` (group
    /// `bench`, created at 0): a reader per worker and partition, each on
    /// its own blocking connection, as `worker` runs on a partitioned stream.
    pub async fn start(
        connector: &Connector,
        layout: &Layout,
        shape: &Shape,
    ) -> Result<Self, RedisFailure> {
        let mut admin = connector.conn("bench-admin");
        for key in &layout.partitions {
            create_group(&mut admin, key, "bench", "0").await?;
        }
        let cancel = CancellationToken::new();
        let mut stats = Vec::new();
        let mut handles = Vec::new();
        for w in 0..shape.workers.max(1) {
            for (p, key) in layout.partitions.iter().enumerate() {
                let worker = reader(connector, key, w, p, shape).await?;
                stats.push(worker.stats.clone());
                let token = cancel.clone();
                handles.push(tokio::spawn(async move {
                    worker.run(token).await;
                }));
            }
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

    /// Wait until the server has delivered every entry of `layout` to the
    /// group and holds none pending (or `limit` passes). The server is asked
    /// rather than the workers' counters: a batch's XACK rides with the next
    /// XREADGROUP, which blocks once the stream is empty, so the last acks
    /// reach the counters only a BLOCK later (200 ms of a 0.4 s drain).
    pub async fn wait_drained(
        &self,
        conn: &mut Conn,
        layout: &Layout,
        limit: Duration,
    ) -> Result<(), RedisFailure> {
        let deadline = Instant::now() + limit;
        let mut left: Vec<&String> = layout.partitions.iter().collect();
        while !left.is_empty() {
            // A drained partition stays drained: ask only about the rest.
            if drained(conn, left[0]).await? {
                left.remove(0);
                continue;
            }
            if Instant::now() > deadline {
                return Err(RedisFailure::Server(format!(
                    "not drained within {limit:?} ({} acked)",
                    self.acked()
                )));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
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

/// Worker `w`'s reader of partition `p` (`key`), its socket dialled.
async fn reader(
    connector: &Connector,
    key: &str,
    w: u64,
    p: usize,
    shape: &Shape,
) -> Result<Worker, RedisFailure> {
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
        ack_delete: false,
    };
    let mut conn = connector.blocking_conn(format!("bench-worker-{w}:p{p}"), config.block);
    conn.connect_for(key).await?;
    Ok(Worker::new(
        conn,
        config,
        Arc::new(Behaviour::default()),
        Arc::new(NullSink),
    ))
}

/// Whether group `bench` has been delivered `key`'s last entry and has
/// acked everything (XINFO STREAM + XINFO GROUPS, one round trip).
async fn drained(conn: &mut Conn, key: &str) -> Result<bool, RedisFailure> {
    let mut pipe = ::redis::pipe();
    pipe.add_command(xinfo_stream_cmd(key))
        .add_command(xinfo_groups_cmd(key));
    let replies = conn.run_pipeline(&pipe, "XINFO", false, 2).await?;
    let [stream, groups] = replies.as_slice() else {
        return Err(RedisFailure::Reply("XINFO: expected 2 replies".into()));
    };
    let last = parse_stream_info(stream)?.last_generated_id;
    Ok(parse_groups(groups)?
        .iter()
        .any(|g| g.name == "bench" && g.pending == 0 && g.last_delivered_id == last))
}
