//! The basic consumer on every partition: one [`BasicConsumer`] per
//! partition key (one XREAD naming several keys is CROSSSLOT on a cluster,
//! and a blocked read holds up its socket), each in its own task, handing
//! its batches to one reader in arrival order. A batch's offset is saved
//! only after the reader says how much of it it handled (and the reader
//! waits for that), so a crash re-reads at most the batches in hand, as
//! with a single stream.

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::engine::consumer::BasicConsumer;
use crate::redis::RedisFailure;
use crate::redis::reply::Entry;

/// One partition's batch, waiting for the reader to handle it.
pub struct Delivery {
    /// The partition key the entries come from.
    pub stream: String,
    pub entries: Vec<Entry>,
    handled: oneshot::Sender<Handled>,
}

/// The entries the reader handled, and where the commit's result goes.
type Handled = (Vec<Entry>, oneshot::Sender<Result<(), RedisFailure>>);

impl Delivery {
    /// The first `taken` entries were handled: the partition's consumer
    /// saves its offset after them (this waits for that) and reads on.
    pub async fn done(mut self, taken: usize) -> Result<(), RedisFailure> {
        self.entries.truncate(taken);
        let (tx, committed) = oneshot::channel();
        if self.handled.send((self.entries, tx)).is_err() {
            return Err(gone());
        }
        committed.await.unwrap_or_else(|_| Err(gone()))
    }
}

/// Batches from every partition's consumer.
pub struct Fanin {
    deliveries: mpsc::Receiver<Result<Delivery, RedisFailure>>,
    readers: JoinSet<()>,
}

impl Fanin {
    /// Start reading with `consumers`, one per partition (already started).
    pub fn start(consumers: Vec<(String, BasicConsumer)>) -> Self {
        let (tx, deliveries) = mpsc::channel(consumers.len().max(1));
        let mut readers = JoinSet::new();
        for (stream, consumer) in consumers {
            readers.spawn(read_partition(stream, consumer, tx.clone()));
        }
        Self {
            deliveries,
            readers,
        }
    }

    /// The next batch from any partition; an error ends that partition's
    /// reading (the caller decides whether to go on).
    pub async fn next(&mut self) -> Option<Result<Delivery, RedisFailure>> {
        self.deliveries.recv().await
    }

    /// Stop every partition's consumer (unhandled batches are not saved).
    pub fn stop(mut self) {
        self.readers.abort_all();
    }
}

async fn read_partition(
    stream: String,
    mut consumer: BasicConsumer,
    tx: mpsc::Sender<Result<Delivery, RedisFailure>>,
) {
    loop {
        let entries = match consumer.next_batch().await {
            Ok(entries) if entries.is_empty() => continue,
            Ok(entries) => entries,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        let (handled, taken) = oneshot::channel();
        let delivery = Delivery {
            stream: stream.clone(),
            entries,
            handled,
        };
        if tx.send(Ok(delivery)).await.is_err() {
            return;
        }
        let Ok((handled, committed)) = taken.await else {
            return;
        };
        let result = consumer.commit(&handled).await;
        let failed = result.is_err();
        let _ = committed.send(result);
        if failed {
            return;
        }
    }
}

fn gone() -> RedisFailure {
    RedisFailure::Connection("a partition's consumer stopped before saving its offset".into())
}
