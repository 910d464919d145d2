//! `streamlab exporter`: the overview's figures as Prometheus metrics. A
//! background task runs the keyspace engine (the overview's SCAN and
//! refresh rotation, read-only) and a bounded poison probe, and publishes
//! what it knows on a `watch`; each scrape of `/metrics` encodes the latest
//! of it and never sends a command to Redis, so Redis's cost is the poll's,
//! whatever the number of scrapers or their interval.

pub mod clears;
pub mod http;
pub mod metrics;
pub mod poison;
pub mod poller;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::monitor::diagnosis::Thresholds;
use crate::monitor::keyspace::KeyspaceConfig;
use crate::monitor::keyspace::rows::Row;
use crate::redis::Connector;

/// What the exporter exports and how it polls.
#[derive(Debug, Clone)]
pub struct ExporterConfig {
    /// The overview engine's settings (`--match`, `--interval`).
    pub keyspace: KeyspaceConfig,
    /// `--stuck-after` and `--poison-after`.
    pub thresholds: Thresholds,
    /// `--no-consumer-metrics` turns this off.
    pub consumer_metrics: bool,
}

/// Poll Redis through `connector` (read-only) and serve `/metrics` on
/// `listener` until `cancel`.
pub async fn run(
    listener: TcpListener,
    connector: &Connector,
    config: ExporterConfig,
    cancel: CancellationToken,
) {
    let state = poller::spawn(connector, &config, cancel.clone());
    let options = metrics::RenderOptions {
        stuck_after_ms: config.thresholds.stuck_after_ms,
        consumer_metrics: config.consumer_metrics,
    };
    http::serve(listener, state, options, cancel).await;
}

/// Milliseconds as the seconds Prometheus expects.
#[expect(clippy::cast_precision_loss, reason = "a duration as a float")]
pub fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// A duration as seconds.
pub fn secs_of(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// A group of one key: (the stream's or partition's key, the group's name).
pub type GroupKey = (Arc<str>, String);

/// The rows that stand for one key each: a plain stream's row, or each
/// partition's row of a partitioned stream (its own row only sums them).
pub fn key_rows(rows: &[Row]) -> impl Iterator<Item = &Row> {
    rows.iter().flat_map(|r| {
        if r.partitions.is_empty() {
            std::slice::from_ref(r)
        } else {
            r.partitions.as_slice()
        }
    })
}
