//! `streamlab produce`: XADD tasks, a count or at a rate, with a progress bar.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{GlobalArgs, ProduceArgs};
use crate::commands::stderr_is_terminal;
use crate::engine::event::SharedSink;
use crate::engine::partition::Layout;
use crate::engine::producer::{MAX_BATCH, Producer, ProducerConfig, ProducerStats};
use crate::engine::registry::CreatedBy;
use crate::failure::{ExitKind, Failure};
use crate::output::events::TextSink;
use crate::redis::memory::out_of_memory_detail;
use crate::redis::{EntryId, create_group, xlen};
use crate::setup::failover::report_failovers;
use crate::setup::session::Session;
use crate::setup::signals::shutdown_on_signal;
use crate::setup::streams::open_stream;
use crate::setup::streams::spread_of;
use crate::setup::trimming::{Limits, producer_retention};

pub async fn run(global: &GlobalArgs, args: &ProduceArgs) -> Result<(), Failure> {
    if let Some(file) = &args.from_file {
        return crate::commands::produce_file::run(global, args, file).await;
    }
    let session = Session::open(global).await?;
    // Refused before anything is sent (the stream is not even created).
    let limits = limits(args)?;
    producer_retention(limits, 1, session.connector.server())?;
    let mut conn = session.connector.conn("producer");
    let (_, layout) = open_stream(
        &mut conn,
        &global.stream,
        CreatedBy::Produce,
        &args.partitioning,
    )
    .await?;
    if let (Some(field), false) = (&args.partitioning.partition_by, layout.is_partitioned()) {
        crate::stderr_line!(
            "note: --partition-by {field} has no effect: '{}' is one partition (create it with --partitions N to spread it)",
            global.stream
        );
    }
    let config = producer_config(args, limits, &layout, &session)?;
    if let Some(group) = &global.group {
        create_groups(&mut conn, &layout, group).await?;
    }
    let sink: SharedSink = Arc::new(TextSink::PLAIN);
    let mut producer = Producer::new(conn, config, sink.clone());
    let cancel = shutdown_on_signal();
    let failovers = report_failovers(&session.connector, sink, cancel.clone());
    let started = Instant::now();
    let result = with_progress(args, producer.stats.clone(), async {
        match args.rate {
            Some(rate) => producer.produce_at_rate(rate, args.count, &cancel).await,
            None => produce_in_chunks(&mut producer, args.count.unwrap_or(10), &cancel).await,
        }
    })
    .await;
    if let Some(reporter) = failovers {
        reporter.abort();
    }
    match result {
        Ok(done) => {
            report(&session, global, &layout, done, started).await;
            let resent = producer.stats.resent.load(Ordering::Relaxed);
            if resent > 0 {
                crate::stdout_line!(
                    "{} sent again after a connection error: a batch whose reply was lost may have landed too, so those may be in the stream twice",
                    crate::words::entries(resent)
                );
            }
            Ok(())
        }
        Err(e) if e.is_out_of_memory() => {
            let added = producer.stats.produced.load(Ordering::Relaxed);
            Err(out_of_memory(&session, global, args, added).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// The producer's settings. `--maxlen` bounds the logical stream: each
/// partition keeps its share. A trim mode the server lacks is refused
/// here, before anything is sent.
fn producer_config(
    args: &ProduceArgs,
    limits: Limits,
    layout: &Layout,
    session: &Session,
) -> Result<ProducerConfig, Failure> {
    let server = session.connector.server();
    let (retention, notes) = producer_retention(limits, layout.partition_count(), server)?;
    for note in notes {
        crate::stderr_line!("note: {note}");
    }
    Ok(ProducerConfig {
        spread: spread_of(&args.partitioning),
        retention,
        payload_bytes: usize::try_from(args.payload_bytes).unwrap_or(usize::MAX),
        first_seq: 1,
        layout: layout.clone(),
    })
}

/// `--maxlen`, `--minid` and `--trim-mode` as given.
fn limits(args: &ProduceArgs) -> Result<Limits, Failure> {
    let minid = args
        .minid
        .as_deref()
        .map(str::parse::<EntryId>)
        .transpose()
        .map_err(|e| Failure::usage(format!("--minid: {e}")))?;
    Ok(Limits {
        maxlen: args.maxlen,
        minid,
        mode: args.trim_mode.mode(),
    })
}

/// Run `work` with a progress bar on a terminal (long runs only).
async fn with_progress<T>(
    args: &ProduceArgs,
    stats: Arc<ProducerStats>,
    work: impl std::future::Future<Output = T>,
) -> T {
    let bar = progress_bar(args);
    let ticker = bar.clone().map(|bar| {
        tokio::spawn(async move {
            loop {
                bar.set_position(stats.produced.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    });
    let out = work.await;
    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    out
}

/// `added N tasks ... stream length now L` (over every partition).
async fn report(
    session: &Session,
    global: &GlobalArgs,
    layout: &Layout,
    done: u64,
    started: Instant,
) {
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let mut admin = session.connector.conn("producer");
    let mut len = 0;
    for key in &layout.partitions {
        len += xlen(&mut admin, key).await.unwrap_or(0);
    }
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    let rate = done as f64 / secs;
    let over = match layout.partition_count() {
        1 => String::new(),
        n => format!(" over {n} partitions"),
    };
    crate::stdout_line!(
        "added {done} tasks to '{}'{over} in {secs:.2}s ({rate:.0}/s); stream length now {len}",
        global.stream
    );
}

/// Redis refused to grow: say exactly how many entries landed before it
/// did, how full it is and what frees it; exit 5.
async fn out_of_memory(
    session: &Session,
    global: &GlobalArgs,
    args: &ProduceArgs,
    added: u64,
) -> Failure {
    let mut conn = session.connector.conn("producer");
    let detail = out_of_memory_detail(&mut conn).await;
    let asked = match (args.count, args.rate) {
        (Some(n), _) => format!(" of {n}"),
        (None, Some(_)) => String::new(),
        (None, None) => " of 10".to_owned(),
    };
    Failure::new(
        ExitKind::OutOfMemory,
        format!(
            "Redis is out of memory: added {added}{asked} entries to '{}' before it refused the rest ({detail})",
            global.stream
        ),
    )
}

/// Create `group` (from id 0) on every partition, saying what happened.
pub(crate) async fn create_groups(
    conn: &mut crate::redis::Conn,
    layout: &Layout,
    group: &str,
) -> Result<(), Failure> {
    for key in &layout.partitions {
        let created = create_group(conn, key, group, "0").await?;
        let what = if created { "created" } else { "already exists" };
        crate::stdout_line!(
            "group '{group}' on '{key}' {what} (reads from id 0, so it sees earlier entries)"
        );
    }
    Ok(())
}

async fn produce_in_chunks(
    producer: &mut Producer,
    count: u64,
    cancel: &tokio_util::sync::CancellationToken,
) -> Result<u64, crate::redis::RedisFailure> {
    let mut done = 0;
    while done < count && !cancel.is_cancelled() {
        let chunk = (count - done).min(MAX_BATCH as u64 * 8);
        done += producer.produce_count(chunk, cancel).await?;
    }
    Ok(done)
}

fn progress_bar(args: &ProduceArgs) -> Option<ProgressBar> {
    let long = args.rate.is_some() || args.count.unwrap_or(10) >= 5_000;
    if !long || !stderr_is_terminal() {
        return None;
    }
    let bar = match (args.rate, args.count) {
        (Some(_), None) => ProgressBar::new_spinner(),
        (_, count) => ProgressBar::new(count.unwrap_or(10)),
    };
    let style = ProgressStyle::with_template(
        "{spinner} {pos}/{len} tasks  {per_sec}  {elapsed_precise}  (Ctrl-C stops)",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}
