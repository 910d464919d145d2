//! A group worker's settings from the shared flags: what `streamlab worker`
//! and the dashboard's embedded workers both build, with their own defaults.

use std::time::Duration;

use crate::cli::{GlobalArgs, WorkerTuning};
use crate::engine::worker::WorkerConfig;
use crate::failure::Failure;
use crate::redis::{Feature, ServerInfo};

/// Defaults of the headless worker (the dashboard uses faster lab ones).
pub const DEFAULT_CLAIM_EVERY: Duration = Duration::from_secs(5);
pub const DEFAULT_MIN_IDLE: Duration = Duration::from_secs(15);

/// The default consumer name: `<host>-<pid>`, unique per process.
pub fn default_name() -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let host = if host.is_empty() {
        "host".to_owned()
    } else {
        host
    };
    format!("{host}-{}", std::process::id())
}

/// Build a worker config from the shared tuning flags.
pub fn worker_config(
    global: &GlobalArgs,
    name: String,
    tuning: &WorkerTuning,
    claim_every: Duration,
    min_idle: Duration,
) -> WorkerConfig {
    WorkerConfig {
        stream: global.stream.clone(),
        group: global.group(),
        consumer: name,
        count: usize::try_from(tuning.read_count.unwrap_or(100)).unwrap_or(100),
        block: tuning.block,
        claim_every: tuning
            .claim_every
            .unwrap_or(claim_every)
            .max(Duration::from_millis(10)),
        min_idle: tuning.min_idle.unwrap_or(min_idle),
        claim_count: usize::try_from(tuning.claim_count).unwrap_or(100),
        max_deliveries: tuning.max_deliveries,
        ack_delete: tuning.ack_delete,
    }
}

/// `--ack-delete` on a server without XACKDEL: one line, exit 2, before
/// any worker starts.
pub fn check_ack_delete(config: &WorkerConfig, server: Option<&ServerInfo>) -> Result<(), Failure> {
    let Some(why) = server
        .filter(|_| config.ack_delete)
        .and_then(|s| s.missing(Feature::XAckDel))
    else {
        return Ok(());
    };
    Err(Failure::usage(format!(
        "--ack-delete needs XACKDEL (Redis 8.2 or later), and {why}: nothing was sent; without it workers ack with XACK, and trim --safe removes what every group acked"
    )))
}
