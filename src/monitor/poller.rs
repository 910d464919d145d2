//! The background poller: polls every `refresh`, publishes the latest
//! result on a `watch` channel, and never lets a stalled Redis stall its
//! readers (each poll is bounded by a timeout).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::monitor::POLL_TIMEOUT;
use crate::monitor::advice::{Health, server_health};
use crate::monitor::diagnosis::Thresholds;
use crate::monitor::partitioned::{LayoutCache, PartitionRow, poll_focus};
use crate::monitor::pel_walk::PelWalker;
use crate::monitor::poll::PelQuery;
use crate::monitor::snapshot::Snapshot;
use crate::redis::server::server_info;
use crate::redis::{Connector, ServerInfo};

/// How often the poller walks a page of the PELs (poison entries).
pub const WALK_EVERY: Duration = Duration::from_secs(1);

/// How long a stream the ACL refuses is left before it is polled again.
pub const REFUSED_RETRY: Duration = Duration::from_secs(60);

/// How often the poller reads INFO for the header's memory state and
/// advice: one command every 5 s, whatever the refresh.
pub const HEALTH_EVERY: Duration = Duration::from_secs(5);

/// The state of the poller's link to Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Connected,
    /// Polls are failing; the last snapshot is stale.
    Reconnecting {
        error: String,
        failures: u32,
    },
    /// The server refuses the polls in a way retrying cannot mend (an ACL
    /// without a command they need): polling goes on, in case it is granted.
    Refused {
        error: String,
    },
}

impl LinkState {
    /// The link after a failed poll, the `failures`-th in a row.
    pub fn failed(error: &crate::redis::RedisFailure, failures: u32) -> Self {
        if error.is_fatal() {
            Self::Refused {
                error: error.to_string(),
            }
        } else {
            Self::Reconnecting {
                error: error.to_string(),
                failures,
            }
        }
    }
}

/// What the poller publishes.
#[derive(Debug, Clone)]
pub struct PollState {
    pub snapshot: Option<Arc<Snapshot>>,
    /// A partitioned stream's partitions (`snapshot` holds their totals);
    /// empty for a plain stream.
    pub partitions: Vec<PartitionRow>,
    pub link: LinkState,
    /// The probed server (name, version, mode, features).
    pub server: Option<ServerInfo>,
    /// Memory and advice from INFO, every [`HEALTH_EVERY`]; `None` until
    /// read, or when the ACL refuses INFO.
    pub health: Option<Health>,
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
    /// `--stuck-after`: consumers are probed only where it can matter.
    pub stuck_after_ms: u64,
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
/// Polls also walk a page of the PELs (at most once a second) for
/// entries delivered `t.poison_after` times or more ([`PelWalker`]).
pub fn spawn_poller(
    connector: &Connector,
    key: Option<String>,
    refresh: Duration,
    t: Thresholds,
    cancel: CancellationToken,
) -> PollerHandle {
    let initial = PollState {
        snapshot: None,
        partitions: Vec::new(),
        link: LinkState::Connecting,
        server: connector.server().cloned(),
        health: None,
        polls: 0,
        commands_total: 0,
    };
    let (tx, rx) = watch::channel(initial);
    let focus = key.map(|key| StreamFocus {
        key,
        page: None,
        partition: 0,
        stuck_after_ms: t.stuck_after_ms,
    });
    let (focus_tx, mut focus_rx) = watch::channel(focus);
    let mut conn = connector.conn("monitor");
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(refresh);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failures = 0;
        let mut layouts = LayoutCache::default();
        let mut walker = PelWalker::default();
        let mut next_walk: Option<tokio::time::Instant> = None;
        let mut refused: Option<(String, tokio::time::Instant)> = None;
        let mut next_health = Some(tokio::time::Instant::now());
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = tick.tick() => {}
            }
            // Known from `Session::open`; a connector made without a
            // session (tests) is probed here once.
            // (The borrow ends before the probe: held across it, the
            // send below would wait for it forever.)
            let probed = tx.borrow().server.is_some();
            if !probed
                && let Ok(Ok(info)) =
                    tokio::time::timeout(POLL_TIMEOUT, server_info(&mut conn)).await
            {
                tx.send_modify(|s| s.server = Some(info));
            }
            if next_health.is_some_and(|at| at <= tokio::time::Instant::now()) {
                next_health = read_health(&mut conn, &tx).await;
            }
            let Some(focus) = focus_rx.borrow_and_update().clone() else {
                // Paused: wait until a stream is on screen again (the
                // header's health still refreshes meanwhile).
                tokio::select! {
                    () = cancel.cancelled() => break,
                    _ = focus_rx.changed() => continue,
                    () = sleep_until(next_health) => continue,
                }
            };
            // A stream the ACL refuses is asked again once a minute, not
            // every tick: each refusal grows the server's ACL LOG.
            if let Some(until) = refused
                .as_ref()
                .filter(|(k, _)| *k == focus.key)
                .map(|r| r.1)
                && tokio::time::Instant::now() < until
            {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    _ = focus_rx.changed() => continue,
                    () = tokio::time::sleep_until(until) => {}
                    () = sleep_until(next_health) => continue,
                }
            }
            let poll = async {
                let (mut snap, rows) = poll_focus(&mut conn, &focus, &mut layouts).await?;
                // A partitioned stream's totals have no PEL of their own.
                // Once a second at most: a step reads up to 4 pages.
                let due = next_walk.is_none_or(|at| tokio::time::Instant::now() >= at);
                if rows.is_empty() && due {
                    let first = focus.page.as_ref().map(|q| q.group.as_str());
                    walker
                        .step(&mut conn, &mut snap, t.poison_after, first)
                        .await?;
                    next_walk = Some(tokio::time::Instant::now() + WALK_EVERY);
                } else if rows.is_empty() {
                    walker.report_last(&mut snap);
                }
                Ok((snap, rows))
            };
            let result = tokio::time::timeout(POLL_TIMEOUT, poll).await;
            match result {
                Ok(Ok((snap, partitions))) => {
                    failures = 0;
                    refused = None;
                    let commands = u64::from(snap.commands);
                    tx.send_modify(|s| {
                        s.snapshot = Some(Arc::new(snap));
                        s.partitions = partitions;
                        s.link = LinkState::Connected;
                        s.polls += 1;
                        s.commands_total += commands;
                    });
                }
                Ok(Err(e)) => {
                    failures += 1;
                    if matches!(e, crate::redis::RedisFailure::Auth(_)) {
                        let until = tokio::time::Instant::now() + REFUSED_RETRY;
                        refused = Some((focus.key.clone(), until));
                    }
                    tx.send_modify(|s| s.link = LinkState::failed(&e, failures));
                }
                Err(_) => {
                    conn.disconnect();
                    failures += 1;
                    let error = format!("Redis did not answer within {POLL_TIMEOUT:?}");
                    tx.send_modify(|s| s.link = LinkState::Reconnecting { error, failures });
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

/// Publish INFO's memory and advice; returns when to read them again
/// (`None`, never, when the ACL refuses INFO).
async fn read_health(
    conn: &mut crate::redis::Conn,
    tx: &watch::Sender<PollState>,
) -> Option<tokio::time::Instant> {
    let next = tokio::time::Instant::now() + HEALTH_EVERY;
    match tokio::time::timeout(POLL_TIMEOUT, server_health(conn)).await {
        Ok(Ok(health)) => {
            tx.send_modify(|s| {
                s.health = Some(health);
                s.commands_total += 1;
            });
            Some(next)
        }
        Ok(Err(e)) if e.is_fatal() => None,
        // A failing link shows in the polls; try again later.
        _ => Some(next),
    }
}

/// Sleep until `at`, or forever when there is nothing to wake for.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
