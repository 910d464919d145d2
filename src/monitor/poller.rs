//! The background poller: polls every `refresh`, publishes the latest
//! result on a `watch` channel, and never lets a stalled Redis stall its
//! readers (each poll is bounded by a timeout).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::monitor::partitioned::{LayoutCache, PartitionRow, poll_focus};
use crate::monitor::poll::PelQuery;
use crate::monitor::snapshot::Snapshot;
use crate::redis::server::server_info;
use crate::redis::{Connector, ServerInfo};

/// Longest a poll may take before the link is reported as stalled.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(2);

/// The state of the poller's link to Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Connected,
    /// Polls are failing; the last snapshot is stale.
    Reconnecting {
        error: String,
        failures: u32,
    },
}

/// What the poller publishes.
#[derive(Debug, Clone)]
pub struct PollState {
    pub snapshot: Option<Arc<Snapshot>>,
    /// A partitioned stream's partitions (`snapshot` holds their totals);
    /// empty for a plain stream.
    pub partitions: Vec<PartitionRow>,
    pub link: Link,
    /// The probed server (name, version, mode, features).
    pub server: Option<ServerInfo>,
    pub polls: u64,
    pub commands_total: u64,
}

/// Which stream to poll, and which page of which group's PEL with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamFocus {
    pub key: String,
    pub page: Option<PelQuery>,
    /// On a partitioned stream, the partition whose PEL page is fetched.
    pub partition: usize,
}

pub struct PollerHandle {
    pub state: watch::Receiver<PollState>,
    /// The stream (and PEL page) the dashboard shows; `None` pauses the
    /// poller (the overview is on screen instead).
    pub focus: watch::Sender<Option<StreamFocus>>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Start polling `key` (or nothing yet, paused) every `refresh` until
/// `cancel`; `focus` on the handle moves it to another stream or pauses it.
pub fn spawn_poller(
    connector: &Connector,
    key: Option<String>,
    refresh: Duration,
    cancel: CancellationToken,
) -> PollerHandle {
    let initial = PollState {
        snapshot: None,
        partitions: Vec::new(),
        link: Link::Connecting,
        server: connector.server().cloned(),
        polls: 0,
        commands_total: 0,
    };
    let (tx, rx) = watch::channel(initial);
    let focus = key.map(|key| StreamFocus {
        key,
        page: None,
        partition: 0,
    });
    let (focus_tx, mut focus_rx) = watch::channel(focus);
    let mut conn = connector.conn("monitor");
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(refresh);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failures = 0;
        let mut layouts = LayoutCache::default();
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = tick.tick() => {}
            }
            // Known from `Session::open`; a connector made without a
            // session (tests) is probed here once.
            if tx.borrow().server.is_none()
                && let Ok(Ok(info)) =
                    tokio::time::timeout(POLL_TIMEOUT, server_info(&mut conn)).await
            {
                tx.send_modify(|s| s.server = Some(info));
            }
            let Some(focus) = focus_rx.borrow_and_update().clone() else {
                // Paused: wait until a stream is on screen again.
                tokio::select! {
                    () = cancel.cancelled() => break,
                    _ = focus_rx.changed() => continue,
                }
            };
            let poll = poll_focus(&mut conn, &focus, &mut layouts);
            let result = tokio::time::timeout(POLL_TIMEOUT, poll).await;
            match result {
                Ok(Ok((snap, partitions))) => {
                    failures = 0;
                    let commands = u64::from(snap.commands);
                    tx.send_modify(|s| {
                        s.snapshot = Some(Arc::new(snap));
                        s.partitions = partitions;
                        s.link = Link::Connected;
                        s.polls += 1;
                        s.commands_total += commands;
                    });
                }
                Ok(Err(e)) => {
                    failures += 1;
                    tx.send_modify(|s| {
                        s.link = Link::Reconnecting {
                            error: e.to_string(),
                            failures,
                        }
                    });
                }
                Err(_) => {
                    conn.disconnect();
                    failures += 1;
                    let error = format!("Redis did not answer within {POLL_TIMEOUT:?}");
                    tx.send_modify(|s| s.link = Link::Reconnecting { error, failures });
                }
            }
        }
    });
    PollerHandle {
        state: rx,
        focus: focus_tx,
        task,
    }
}
