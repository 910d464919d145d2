//! The overview's background poller for the dashboard: polls while the
//! overview is on screen (the dashboard says which rows are, and `None`
//! pauses it), publishes the rows on a `watch`, and never lets a stalled
//! Redis stall the screen (each poll is bounded by a timeout).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::monitor::LinkState;
use crate::monitor::POLL_TIMEOUT;
use crate::monitor::keyspace::rows::Row;
use crate::monitor::keyspace::{Keyspace, KeyspaceConfig, PollCost};
use crate::redis::id::now_ms;
use crate::redis::{Conn, Connector};

/// What the overview poller publishes.
#[derive(Debug, Clone, Default)]
pub struct KeyspaceState {
    pub rows: Arc<Vec<Row>>,
    pub link: Option<LinkState>,
    pub taken_ms: u64,
    pub polls: u64,
    pub last: PollCost,
    pub commands_total: u64,
    /// Every node's keyspace walked at least once.
    pub scan_complete: bool,
    /// Streams found but not refreshed yet.
    pub unrefreshed: usize,
    /// Within what every row is read again, once the first pass is done
    /// (it grows with the keyspace; see `Keyspace::refresh_within`).
    pub refresh_within: Option<Duration>,
    /// The budget of the phase under way: Redis time per second (µs).
    pub budget_us_per_s: u64,
    /// Estimated Redis time of every poll so far (µs, an upper bound).
    pub redis_us_total: u64,
}

pub struct OverviewHandle {
    pub state: watch::Receiver<KeyspaceState>,
    /// The keys on screen; `None` pauses polling (another screen is shown).
    pub visible: watch::Sender<Option<Vec<Arc<str>>>>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Start the overview poller on `connector` (every master of a cluster).
pub fn spawn_keyspace(
    connector: &Connector,
    config: KeyspaceConfig,
    cancel: CancellationToken,
) -> OverviewHandle {
    let (tx, rx) = watch::channel(KeyspaceState::default());
    let (visible_tx, visible_rx) = watch::channel::<Option<Vec<Arc<str>>>>(None);
    let conn = connector.conn("overview");
    let interval = config.interval;
    let overview = Keyspace::new(config);
    let task = tokio::spawn(run(conn, overview, interval, tx, visible_rx, cancel));
    OverviewHandle {
        state: rx,
        visible: visible_tx,
        task,
    }
}

/// Poll every interval while rows are on screen, until `cancel`.
async fn run(
    mut conn: Conn,
    mut overview: Keyspace,
    interval: Duration,
    tx: watch::Sender<KeyspaceState>,
    mut visible_rx: watch::Receiver<Option<Vec<Arc<str>>>>,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failures = 0;
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = tick.tick() => {}
        }
        let Some(visible) = visible_rx.borrow_and_update().clone() else {
            // Paused: wait for the overview to come back on screen.
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = visible_rx.changed() => continue,
            }
        };
        let polled = tokio::time::timeout(POLL_TIMEOUT, overview.poll(&mut conn, &visible)).await;
        let link = match polled {
            Ok(Ok(cost)) => {
                failures = 0;
                publish(&tx, &overview, cost);
                continue;
            }
            Ok(Err(e)) => LinkState::failed(&e, failures + 1),
            Err(_) => {
                conn.disconnect();
                let error = format!("Redis did not answer within {POLL_TIMEOUT:?}");
                LinkState::Reconnecting {
                    error,
                    failures: failures + 1,
                }
            }
        };
        failures += 1;
        tx.send_modify(|s| s.link = Some(link));
    }
}

/// A poll that succeeded: its rows, cost and progress, for the screen.
fn publish(tx: &watch::Sender<KeyspaceState>, overview: &Keyspace, cost: PollCost) {
    let rows = Arc::new(overview.rows());
    let unrefreshed = rows.iter().filter(|r| r.stats.is_none()).count();
    let complete = overview.scan_complete();
    let refresh_within = overview.refresh_within();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "µs per second, small and positive"
    )]
    let budget = overview.budget_us_per_s() as u64;
    tx.send_modify(|s| {
        s.rows = rows;
        s.link = Some(LinkState::Connected);
        s.taken_ms = now_ms();
        s.polls += 1;
        s.last = cost;
        s.commands_total += cost.commands;
        s.scan_complete = complete;
        s.unrefreshed = unrefreshed;
        s.refresh_within = refresh_within;
        s.budget_us_per_s = budget;
        s.redis_us_total += cost.redis_us;
    });
}
