//! `streamlab bench`: runs the phases of [`crate::bench`] and prints a
//! report (text, or one JSON object with `--json`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::bench::throughput::{Shape, Workers, produce};
use crate::bench::{BenchReport, latency, per_second};
use crate::cli::{BenchArgs, BenchPhase, GlobalArgs};
use crate::commands::stderr_is_terminal;
use crate::engine::partition::Layout;
use crate::engine::partition::placement::place;
use crate::failure::Failure;
use crate::redis::{Connector, RedisFailure};
use crate::setup::session::Session;

/// The longest a drain may take before the bench gives up.
const DRAIN_LIMIT: Duration = Duration::from_secs(300);

pub async fn run(global: &GlobalArgs, args: &BenchArgs) -> Result<(), Failure> {
    let session = Session::open(global).await?;
    let connector = session.connector.clone();
    let mut admin = connector.conn("bench-admin");
    let shape = Shape {
        tasks: args.tasks,
        producers: args.producers,
        workers: args.workers,
        batch: usize::try_from(args.batch).unwrap_or(1000),
        read_count: usize::try_from(args.read_count).unwrap_or(500),
    };
    let base = format!("{}:bench:{}", global.stream, std::process::id());
    let mut report = BenchReport {
        tasks: shape.tasks,
        workers: shape.workers,
        producers: shape.producers,
        batch: args.batch,
        client_threads: args.client_threads,
        rate: args.rate,
        redis_version: connector
            .server()
            .map(|s| s.version.to_string())
            .unwrap_or_default(),
        ..BenchReport::default()
    };
    report.partitions = args.partitions;
    let drain = layout(&connector, &format!("{base}:drain"), args.partitions).await?;
    let e2e = layout(&connector, &format!("{base}:e2e"), args.partitions).await?;
    let result = phases(&connector, &base, [&drain, &e2e], &shape, args, &mut report).await;
    let latency_key = format!("{base}:latency");
    let keys = drain.partitions.iter().chain(&e2e.partitions);
    for key in keys.chain([&latency_key]) {
        let _ = admin.run(::redis::cmd("DEL").arg(key), "DEL", true).await;
    }
    result?;
    if args.json {
        crate::stdout_line!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else {
        print_text(&report);
    }
    Ok(())
}

/// The stream of one phase: `key` itself, or `partitions` keys placed over
/// the masters (one master owning every slot on a single server).
async fn layout(connector: &Connector, key: &str, partitions: u64) -> Result<Layout, Failure> {
    if partitions <= 1 {
        return Ok(Layout::single(key));
    }
    let masters = connector.masters().await?;
    let n = usize::try_from(partitions).unwrap_or(1);
    let keys = place(key, n, &masters).map_err(Failure::runtime)?;
    Ok(Layout {
        stream: key.to_owned(),
        partitions: keys,
    })
}

async fn phases(
    connector: &Connector,
    base: &str,
    [drain_layout, e2e_layout]: [&Layout; 2],
    shape: &Shape,
    args: &BenchArgs,
    report: &mut BenchReport,
) -> Result<(), RedisFailure> {
    let wants = |p: BenchPhase| args.phases.contains(&p);
    // Asks the server whether a phase's entries are all delivered and acked.
    let mut admin = connector.conn("bench-watch");
    let progress = Arc::new(AtomicU64::new(0));
    let bar = bar("produce", shape.tasks, &progress);
    if wants(BenchPhase::Produce) || wants(BenchPhase::Drain) {
        let produced_in = produce(connector, drain_layout, shape, &progress).await?;
        report.produce_per_s = per_second(shape.tasks, produced_in);
    }

    if wants(BenchPhase::Drain) {
        set_phase(bar.as_ref(), "drain", &progress);
        let started = Instant::now();
        let workers = Workers::start(connector, drain_layout, shape).await?;
        let watcher = mirror(&workers, &progress);
        workers
            .wait_drained(&mut admin, drain_layout, DRAIN_LIMIT)
            .await?;
        report.drain_per_s = per_second(shape.tasks, started.elapsed());
        watcher.abort();
        workers.stop().await;
    }

    if wants(BenchPhase::E2e) {
        set_phase(bar.as_ref(), "end-to-end", &progress);
        let started = Instant::now();
        let workers = Workers::start(connector, e2e_layout, shape).await?;
        let watcher = mirror(&workers, &progress);
        produce(connector, e2e_layout, shape, &Arc::new(AtomicU64::new(0))).await?;
        workers
            .wait_drained(&mut admin, e2e_layout, DRAIN_LIMIT)
            .await?;
        report.e2e_per_s = per_second(shape.tasks, started.elapsed());
        watcher.abort();
        workers.stop().await;
    }

    if wants(BenchPhase::Latency) {
        if let Some(bar) = &bar {
            bar.set_message(format!("latency at {}/s", args.rate));
        }
        let mut samples = latency::measure(
            connector,
            &format!("{base}:latency"),
            args.rate,
            args.latency_for,
        )
        .await?;
        report.latency_samples = samples.0.len() as u64;
        report.p50_ms = samples.quantile_ms(0.5);
        report.p99_ms = samples.quantile_ms(0.99);
        report.p999_ms = samples.quantile_ms(0.999);
        report.max_ms = samples.quantile_ms(1.0);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(())
}

/// Copy the workers' acked total into `progress` for the bar.
fn mirror(workers: &Workers, progress: &Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    let stats = workers.stats.clone();
    let progress = progress.clone();
    tokio::spawn(async move {
        loop {
            progress.store(
                stats.iter().map(|s| s.acked.load(Ordering::Relaxed)).sum(),
                Ordering::Relaxed,
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

fn bar(phase: &str, len: u64, progress: &Arc<AtomicU64>) -> Option<ProgressBar> {
    if !stderr_is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len).with_message(phase.to_owned());
    let style = ProgressStyle::with_template("{msg:12} {bar:30} {pos}/{len} {per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    let (b, p) = (bar.clone(), progress.clone());
    tokio::spawn(async move {
        while !b.is_finished() {
            b.set_position(p.load(Ordering::Relaxed));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    Some(bar)
}

fn set_phase(bar: Option<&ProgressBar>, phase: &str, progress: &Arc<AtomicU64>) {
    progress.store(0, Ordering::Relaxed);
    if let Some(bar) = bar {
        bar.set_message(phase.to_owned());
        bar.set_position(0);
    }
}

fn print_text(r: &BenchReport) {
    crate::stdout_line!(
        "streamlab bench against Redis {} ({} tasks, {} partition(s), {} producers x batch {}, {} workers, {} client threads)",
        r.redis_version,
        r.tasks,
        r.partitions,
        r.producers,
        r.batch,
        r.workers,
        r.client_threads
    );
    crate::stdout_line!("  produce     {:>12.0} entries/s", r.produce_per_s);
    crate::stdout_line!("  drain       {:>12.0} entries/s", r.drain_per_s);
    crate::stdout_line!("  end-to-end  {:>12.0} entries/s", r.e2e_per_s);
    crate::stdout_line!(
        "  latency at {}/s over {} samples: p50 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms",
        r.rate,
        r.latency_samples,
        r.p50_ms,
        r.p99_ms,
        r.p999_ms,
        r.max_ms
    );
}
