//! `streamlab worker`: one consumer-group worker until SIGINT/SIGTERM.

use std::sync::Arc;

use crate::cli::{EventsFormat, GlobalArgs, WorkerArgs};
use crate::duration::show;
use crate::engine::event::{NullSink, SharedSink};
use crate::engine::partition::Layout;
use crate::engine::partition::workers::run_on_partitions;
use crate::engine::worker::{Behaviour, WorkerConfig, WorkerExit};
use crate::failure::{ExitKind, Failure};
use crate::output::events::{JsonLinesSink, TextSink};
use crate::setup::failover::report_failovers;
use crate::setup::session::Session;
use crate::setup::signals::shutdown_on_signal;
use crate::setup::streams::resolve_stream;
use crate::setup::worker::{
    DEFAULT_CLAIM_EVERY, DEFAULT_MIN_IDLE, check_ack_delete, default_name, worker_config,
};

pub async fn run(global: &GlobalArgs, args: &WorkerArgs) -> Result<(), Failure> {
    let name = args.name.clone().unwrap_or_else(default_name);
    // Listening before connecting: a SIGTERM while the worker connects (a
    // supervisor replacing it) is a clean stop, not a kill by the signal.
    let cancel = shutdown_on_signal();
    let session = tokio::select! {
        opened = Session::open(global) => opened?,
        () = cancel.cancelled() => return Ok(()),
    };
    let config = worker_config(
        global,
        name.clone(),
        &args.tuning,
        DEFAULT_CLAIM_EVERY,
        DEFAULT_MIN_IDLE,
    );
    check_ack_delete(&config, session.connector.server())?;
    let layout = resolve_stream(&session.connector, &global.stream).await?;
    let sink = event_sink(args.events, &layout);
    if args.events != EventsFormat::Json {
        crate::stderr_line!("{}", banner(&config, &layout));
    }
    let behaviour = Arc::new(Behaviour::new(
        args.work_ms,
        args.fail_rate,
        args.crash_rate,
    ));
    let stats = Arc::default();
    let connector = &session.connector;
    let failovers = report_failovers(connector, sink.clone(), cancel.clone());
    let exit = run_on_partitions(
        connector, &layout, &config, &behaviour, &sink, &cancel, &stats,
    )
    .await;
    if let Some(reporter) = failovers {
        reporter.abort();
    }
    sink.flush();
    drop(session);
    match exit {
        WorkerExit::Stopped => Ok(()),
        WorkerExit::Crashed => Err(Failure::new(
            ExitKind::Crashed,
            format!(
                "worker '{name}' crashed on purpose (--crash-rate); its unacked entries stay pending for XAUTOCLAIM"
            ),
        )),
        WorkerExit::Fatal(e) => Err(e.into()),
        WorkerExit::OutputClosed => {
            crate::stderr_line!(
                "note: stdout was closed by its reader: stopped without acking the entries in hand (they stay pending for XAUTOCLAIM)"
            );
            Ok(())
        }
    }
}

/// Where events go: JSON lines, text (prefixed with the partition key on
/// a partitioned stream), or nowhere.
fn event_sink(format: EventsFormat, layout: &Layout) -> SharedSink {
    match format {
        EventsFormat::Json => Arc::new(JsonLinesSink::stdout()),
        EventsFormat::Text if layout.is_partitioned() => Arc::new(TextSink::PARTITIONED),
        EventsFormat::Text => Arc::new(TextSink::PLAIN),
        EventsFormat::None => Arc::new(NullSink),
    }
}

/// The line on stderr saying what this worker does.
fn banner(config: &WorkerConfig, layout: &Layout) -> String {
    format!(
        "worker '{}' on stream '{}'{} group '{}' (claim every {}, min idle {}, max deliveries {}{}); Ctrl-C stops after in-flight work",
        config.consumer,
        config.stream,
        partitions_note(layout),
        config.group,
        show(config.claim_every),
        show(config.min_idle),
        config.max_deliveries,
        if config.ack_delete {
            ", acks with XACKDEL ACKED: an entry leaves the stream once every group acked it"
        } else {
            ""
        }
    )
}

/// ` (3 partitions: {a.p0}, ...)` for a partitioned stream, else nothing.
pub fn partitions_note(layout: &Layout) -> String {
    if layout.is_partitioned() {
        format!(
            " ({} partitions: {})",
            layout.partition_count(),
            layout.partitions.join(", ")
        )
    } else {
        String::new()
    }
}
