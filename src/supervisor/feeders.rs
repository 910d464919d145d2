//! The embedded producer (bursts on request, continuous production at a
//! rate) and the basic consumer, each one task with its own connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{ADMIN_TIMEOUT, BasicReport, SupervisorConfig};
use crate::engine::consumer::{BasicConsumer, ConsumerConfig, StartFrom};
use crate::engine::event::{Event, SharedSink};
use crate::engine::producer::{MAX_BATCH, Producer, ProducerConfig, ProducerStats};
use crate::redis::{Conn, Connector, EntryId};

enum ProducerCmd {
    Burst(u64),
    Rate(Option<f64>),
}

pub(super) struct ProducerHandle {
    tx: UnboundedSender<ProducerCmd>,
    stats: Arc<ProducerStats>,
    task: JoinHandle<()>,
}

impl ProducerHandle {
    pub(super) fn burst(&self, n: u64) {
        let _ = self.tx.send(ProducerCmd::Burst(n));
    }

    pub(super) fn set_rate(&self, rate: Option<f64>) {
        let _ = self.tx.send(ProducerCmd::Rate(rate));
    }

    pub(super) fn produced(&self) -> u64 {
        self.stats.produced.load(Ordering::Relaxed)
    }

    pub(super) fn abort(&self) {
        self.task.abort();
    }
}

pub(super) fn spawn_producer(
    conn: Conn,
    lab: &SupervisorConfig,
    sink: SharedSink,
    cancel: CancellationToken,
) -> ProducerHandle {
    let config = ProducerConfig {
        layout: lab.layout.clone(),
        spread: lab.spread.clone(),
        retention: lab.retention,
        payload_bytes: 0,
        first_seq: 1,
    };
    let producer = Producer::new(conn, config, sink.clone());
    let stats = producer.stats.clone();
    let (tx, rx) = unbounded_channel();
    let task = tokio::spawn(producer_loop(producer, rx, sink, cancel));
    ProducerHandle { tx, stats, task }
}

/// One producer serves both bursts and the continuous rate, so task
/// sequence numbers never repeat. A command interrupts rate production
/// (dropping its future), is handled, and production resumes.
async fn producer_loop(
    mut producer: Producer,
    mut rx: UnboundedReceiver<ProducerCmd>,
    sink: SharedSink,
    cancel: CancellationToken,
) {
    let mut rate: Option<f64> = None;
    loop {
        let cmd = match rate {
            Some(r) => tokio::select! {
                cmd = rx.recv() => cmd,
                done = producer.produce_at_rate(r, None, &cancel) => match done {
                    Ok(_) => return,
                    Err(e) => {
                        emit_error(&sink, format!("continuous production stopped: {e}"));
                        rate = None;
                        continue;
                    }
                },
            },
            None => tokio::select! {
                cmd = rx.recv() => cmd,
                () = cancel.cancelled() => return,
            },
        };
        match cmd {
            None => return,
            Some(ProducerCmd::Rate(r)) => rate = r,
            Some(ProducerCmd::Burst(n)) => burst(&mut producer, n, &sink).await,
        }
    }
}

async fn burst(producer: &mut Producer, n: u64, sink: &SharedSink) {
    let mut left = n;
    let mut last = None;
    let mut retried = false;
    while left > 0 {
        let size = usize::try_from(left.min(MAX_BATCH as u64)).unwrap_or(MAX_BATCH);
        match tokio::time::timeout(ADMIN_TIMEOUT, producer.send_batch(size)).await {
            Ok(Ok(id)) => last = id.or(last),
            // An idle socket broken by a server restart or CLIENT KILL fails
            // on first use (P right after a restart said "broken pipe"); the
            // failed call dropped it, so one more try dials a fresh one.
            Ok(Err(e)) if e.is_connection() && !retried => {
                retried = true;
                continue;
            }
            Ok(Err(e)) => return emit_error(sink, format!("enqueue failed: {e}")),
            Err(_) => {
                let msg = format!("enqueue: Redis did not answer within {ADMIN_TIMEOUT:?}");
                return emit_error(sink, msg);
            }
        }
        left -= size as u64;
    }
    if let Some(last_id) = last {
        sink.emit(Event::Produced { count: n, last_id });
    }
}

fn emit_error(sink: &SharedSink, message: String) {
    sink.emit(Event::Error {
        role: "producer".into(),
        message,
    });
}

/// The basic consumer's progress, written by its task.
#[derive(Default)]
struct BasicShared {
    started: AtomicBool,
    offset_ms: AtomicU64,
    offset_seq: AtomicU64,
    read: AtomicU64,
}

impl BasicShared {
    fn set_offset(&self, id: EntryId) {
        self.offset_ms.store(id.ms, Ordering::Relaxed);
        self.offset_seq.store(id.seq, Ordering::Relaxed);
        self.started.store(true, Ordering::Relaxed);
    }
}

pub(super) struct BasicHandle {
    shared: Arc<BasicShared>,
    task: JoinHandle<()>,
}

impl BasicHandle {
    pub(super) fn report(&self, name: &str) -> BasicReport {
        let s = &self.shared;
        BasicReport {
            name: name.to_owned(),
            offset: s.started.load(Ordering::Relaxed).then(|| EntryId {
                ms: s.offset_ms.load(Ordering::Relaxed),
                seq: s.offset_seq.load(Ordering::Relaxed),
            }),
            read: s.read.load(Ordering::Relaxed),
        }
    }

    pub(super) fn abort(&self) {
        self.task.abort();
    }
}

/// The basic consumer: one reader per partition (offsets saved per
/// partition), all counted into one report, in one task.
pub(super) fn spawn_basic(
    connector: &Connector,
    config: &SupervisorConfig,
    sink: &SharedSink,
    cancel: CancellationToken,
) -> BasicHandle {
    let shared = Arc::new(BasicShared::default());
    let layout = &config.layout;
    let loops: Vec<_> = layout
        .partitions
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let cc = ConsumerConfig {
                stream: key.clone(),
                name: config.basic_name.clone(),
                count: 100,
                block: config.worker.block,
                save_offset: true,
            };
            let role = match layout.is_partitioned() {
                true => format!("consumer:{}:p{i}", cc.name),
                false => format!("consumer:{}", cc.name),
            };
            let reader = Reader {
                connector: connector.clone(),
                role,
                config: cc,
            };
            basic_loop(reader, sink.clone(), shared.clone(), cancel.clone())
        })
        .collect();
    let task = tokio::spawn(async move {
        futures_util::future::join_all(loops).await;
    });
    BasicHandle { shared, task }
}

/// One partition's basic consumer: where it connects and what it reads.
struct Reader {
    connector: Connector,
    role: String,
    config: ConsumerConfig,
}

/// Resume from the saved offset (else `$`), then read and save forever.
async fn basic_loop(
    reader: Reader,
    sink: SharedSink,
    shared: Arc<BasicShared>,
    cancel: CancellationToken,
) {
    let Some(mut consumer) = start_basic(&reader, &sink, &cancel).await else {
        return;
    };
    let config = &reader.config;
    shared.set_offset(consumer.last_seen());
    loop {
        let batch = tokio::select! {
            () = cancel.cancelled() => return,
            b = consumer.next_batch() => b,
        };
        let result = match batch {
            Ok(b) => consumer.commit(&b).await.map(|()| b.len() as u64),
            Err(e) => Err(e),
        };
        match result {
            Ok(n) => {
                shared.read.fetch_add(n, Ordering::Relaxed);
                shared.set_offset(consumer.last_seen());
            }
            Err(e) => {
                emit_basic_error(&sink, &config.name, &e.to_string());
                if pause(&cancel).await {
                    return;
                }
            }
        }
    }
}

/// Resolve the start id, retrying each second while Redis is away;
/// `None` when cancelled first.
async fn start_basic(
    reader: &Reader,
    sink: &SharedSink,
    cancel: &CancellationToken,
) -> Option<BasicConsumer> {
    let config = &reader.config;
    loop {
        let conn = reader.connector.blocking_conn(&reader.role, config.block);
        let start = BasicConsumer::start(conn, config.clone(), StartFrom::Saved, sink.clone());
        let started = tokio::select! {
            () = cancel.cancelled() => return None,
            s = start => s,
        };
        match started {
            Ok((c, _)) => return Some(c),
            Err(e) => emit_basic_error(sink, &config.name, &e.to_string()),
        }
        if pause(cancel).await {
            return None;
        }
    }
}

fn emit_basic_error(sink: &SharedSink, name: &str, message: &str) {
    sink.emit(Event::Error {
        role: name.to_owned(),
        message: format!("{message} (retrying in 1s)"),
    });
}

/// Wait a second before retrying; true when cancelled meanwhile.
async fn pause(cancel: &CancellationToken) -> bool {
    tokio::select! {
        () = cancel.cancelled() => true,
        () = tokio::time::sleep(Duration::from_secs(1)) => false,
    }
}
