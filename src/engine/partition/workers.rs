//! One consumer on every partition of a logical stream: a worker loop per
//! partition key, each on its own blocking connection (one XREADGROUP with
//! several keys is refused on a cluster unless they share a slot, and a
//! blocked read holds up everything else on its socket). Each loop drains,
//! claims and dead-letters on its own partition; they share the consumer
//! name, the simulated behaviour and the event sink.

use std::sync::Arc;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::Layout;
use crate::engine::event::SharedSink;
use crate::engine::worker::{Behaviour, Worker, WorkerConfig, WorkerExit, WorkerStats};
use crate::redis::Connector;

/// The connection role of partition `index`'s loop: `worker:<name>` for a
/// plain stream (as before partitions), `worker:<name>:p<index>` otherwise.
pub fn reader_role(consumer: &str, layout: &Layout, index: usize) -> String {
    if layout.is_partitioned() {
        format!("worker:{consumer}:p{index}")
    } else {
        format!("worker:{consumer}")
    }
}

/// Run `config`'s consumer on every partition of `layout` until `cancel`
/// (all loops finish their batch and ack it), a simulated crash in any
/// loop (the others are aborted mid-flight, as when a process dies), or a
/// fatal error (the others stop gracefully; the first error is returned).
/// Every loop counts into `stats`.
pub async fn run_on_partitions(
    connector: &Connector,
    layout: &Layout,
    config: &WorkerConfig,
    behaviour: &Arc<Behaviour>,
    sink: &SharedSink,
    cancel: &CancellationToken,
    stats: &Arc<WorkerStats>,
) -> WorkerExit {
    let stop = cancel.child_token();
    let mut loops = JoinSet::new();
    for (index, key) in layout.partitions.iter().enumerate() {
        let mut config = config.clone();
        config.stream.clone_from(key);
        let role = reader_role(&config.consumer, layout, index);
        let conn = connector.blocking_conn(role, config.block);
        let mut worker = Worker::new(conn, config, behaviour.clone(), sink.clone());
        worker.stats = stats.clone();
        loops.spawn(worker.run(stop.clone()));
    }
    let mut exit = WorkerExit::Stopped;
    while let Some(ended) = loops.join_next().await {
        match ended {
            // Like a crash: no loop can report, so none may ack any more.
            Ok(end @ (WorkerExit::Crashed | WorkerExit::OutputClosed)) => {
                loops.abort_all();
                return end;
            }
            Ok(WorkerExit::Fatal(e)) if exit == WorkerExit::Stopped => {
                stop.cancel();
                exit = WorkerExit::Fatal(e);
            }
            // A loop that panicked is a bug: stop the others, report it.
            Err(e) if e.is_panic() && exit == WorkerExit::Stopped => {
                stop.cancel();
                let message = format!(
                    "a partition's worker loop panicked (a bug in streamlab: please report it): {e}"
                );
                exit = WorkerExit::Fatal(crate::redis::RedisFailure::Server(message));
            }
            _ => {}
        }
    }
    exit
}
