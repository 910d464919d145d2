//! `streamlab bench`: produce, drain and end-to-end throughput of the real
//! engine, and end-to-end latency at a fixed offered rate, all in one
//! process against the configured Redis.
//!
//! Each phase uses its own fresh stream key (deleted afterwards), so phases
//! never see each other's entries and a production stream is never touched.
//! With `--partitions N` a throughput phase's stream is N keys placed over
//! the masters as `produce --partitions` places them; the latency phase
//! stays one key (it measures one entry's way, not capacity).

pub mod latency;
pub mod throughput;

use serde::Serialize;

/// What one bench run measured. Field names are a contract with scripts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BenchReport {
    pub tasks: u64,
    pub workers: u64,
    pub producers: u64,
    pub batch: u64,
    pub client_threads: u64,
    /// Partition keys of each throughput phase (1: a plain stream).
    pub partitions: u64,
    pub produce_per_s: f64,
    pub drain_per_s: f64,
    pub e2e_per_s: f64,
    pub rate: f64,
    pub latency_samples: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub redis_version: String,
}

/// Entries per second, guarding against a zero duration.
#[expect(clippy::cast_precision_loss, reason = "rates are reported as floats")]
pub fn per_second(n: u64, elapsed: std::time::Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64().max(1e-9)
}
