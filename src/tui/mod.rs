//! The live dashboard (`streamlab` with no subcommand): an embedded
//! producer, basic consumer and N group workers run in this process, and
//! the screen shows what Redis reports about them (and about any other
//! client on the same stream), polled at a bounded cost.
//!
//! Shape: [`state`] is plain data; [`update::update`] changes it and
//! returns engine commands; [`ui::render`] draws it; [`app`] is the loop
//! that connects input, engine, poller and screen.

pub mod access;
pub mod action;
pub mod admin;
pub mod app;
pub mod confirm;
pub mod derive;
pub mod engine_intents;
pub mod entries;
pub mod entry_view;
// Test data, not compiled into the binary: unit tests get it by cfg(test),
// the frame-time example through the `test-support` feature.
#[cfg(any(test, feature = "test-support"))]
#[doc(hidden)]
pub mod fixture;
pub mod hints;
pub mod keymap;
pub mod lab_gate;
pub mod layout;
pub mod log;
pub mod navigate;
pub mod outcomes;
pub mod overview;
pub mod panes;
pub mod partitions;
pub mod reclaims;
pub mod scenarios;
pub mod screens;
pub mod state;
pub mod terminal;
pub mod trend;
pub mod ui;
pub mod update;
pub mod watch;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{Sender, channel};
use tokio_util::sync::CancellationToken;

use crate::cli::{DashboardArgs, GlobalArgs};
use crate::engine::Event;
use crate::engine::event::ChannelSink;
use crate::engine::worker::WorkerConfig;
use crate::failure::Failure;
use crate::monitor::diagnosis::Thresholds;
use crate::monitor::keyspace::KeyspaceConfig;
use crate::monitor::keyspace::poller::spawn_keyspace;
use crate::monitor::spawn_poller;
use crate::redis::Connector;
use crate::redis::id::now_ms;
use crate::setup::failover::report_failovers;
use crate::setup::session::Session;
use crate::setup::streams::spread_of;
use crate::setup::trimming::{Limits, producer_retention};
use crate::setup::worker::{check_ack_delete, worker_config};
use crate::supervisor::{Outcome, Scenario, Supervisor, SupervisorConfig};
use crate::tui::lab_gate::Gate;
use crate::tui::state::{Lab, LogKind, Production, Screen, State};

/// Lab defaults: recovery shows within seconds (headless workers use 15s/5s).
pub const LAB_MIN_IDLE: Duration = Duration::from_secs(5);
pub const LAB_CLAIM_EVERY: Duration = Duration::from_secs(1);
pub const LAB_READ_COUNT: usize = 10;
/// Engine events waiting for the screen (per-entry events are not sent):
/// a lab's lifecycle events come a few a second, so a full queue means the
/// screen stopped reading, and what overflows is counted, not kept.
const EVENTS_QUEUE: usize = 1024;
/// Outcomes waiting for the screen: one per key press.
const OUTCOMES_QUEUE: usize = 64;
/// How long quitting waits for workers to finish the batch in hand.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The lab: the dashboard with its embedded parts.
pub async fn run(global: &GlobalArgs, args: &DashboardArgs) -> Result<(), Failure> {
    terminal::check()?;
    let session = Session::open_lab(global).await?;
    // Before any embedded part creates the stream, so a new one is ours.
    let partitions = &args.partitioning;
    let layout = match lab_gate::decide(&session, &global.stream, args.lab, partitions).await? {
        Gate::Lab(layout) => layout,
        Gate::Watch { .. } if partitions.partitions.is_some_and(|n| n > 1) => {
            return Err(Failure::usage(format!(
                "--partitions: stream '{}' already exists and streamlab did not create it, so it stays one partition: drop --partitions, or pick another --stream",
                global.stream
            )));
        }
        Gate::Watch { .. } if args.scenario.is_some() => {
            return Err(Failure::usage(format!(
                "--scenario: stream '{}' already exists and streamlab did not create it, so the lab (and a scenario) does not run on it: pick another --stream, or add --lab",
                global.stream
            )));
        }
        Gate::Watch { reason } => {
            tracing::info!(stream = %global.stream, "watch, not lab: {reason}");
            let view = watch::Viewing {
                refresh: args.refresh,
                thresholds: thresholds(args),
            };
            return watch::instead_of_lab(session, global, view, reason).await;
        }
    };
    let worker = lab_worker(global, args);
    let server = session.connector.server();
    check_ack_delete(&worker, server)?;
    let limits = Limits {
        maxlen: args.maxlen,
        minid: None,
        mode: args.trim_mode.mode(),
    };
    let (retention, notes) = producer_retention(limits, layout.partition_count(), server)?;
    let mut lab = lab(&session, global, args, &worker);
    lab.producer_trim = retention.map(|r| trim_words(&r));
    let config = SupervisorConfig {
        worker,
        layout,
        spread: spread_of(partitions),
        work_ms: args.work_ms,
        basic_name: lab.basic_name.clone(),
        retention,
    };
    let production = Production {
        on: args.produce,
        rate: args.produce_rate,
    };
    let mut state = State::new(lab, production, now_ms());
    state.thresholds = thresholds(args);
    for note in notes {
        state.push_log(now_ms(), LogKind::Lifecycle, note);
    }
    state.tz = crate::tui::state::Tz(jiff::tz::TimeZone::system());
    let scenario = args.scenario.as_deref().and_then(Scenario::from_name);
    let scenario_commands = scenario.map(|s| scenarios::start(&mut state, s));
    let connector = session.connector.clone();
    let start = |events, outcomes| {
        let mut sup = Supervisor::new(connector.clone(), config, events, outcomes);
        sup.start(args.workers, args.produce.then_some(args.produce_rate));
        for c in scenario_commands.into_iter().flatten() {
            sup.apply(c);
        }
        sup
    };
    show(session, &connector, state, start).await
}

/// The overview polls at most once a second: its share of refreshes per
/// poll follows the interval, but the rows on screen are refreshed every
/// poll, so a faster poll would cost more for no new information.
const OVERVIEW_MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Run the screen until the user quits: the stream and overview pollers on
/// `poll_with` (the overview always read-only), the supervisor `start`
/// builds, then an orderly stop of all three.
async fn show(
    session: Session,
    poll_with: &Connector,
    mut state: State,
    start: impl FnOnce(Sender<Event>, Sender<Outcome>) -> Supervisor,
) -> Result<(), Failure> {
    // Probed at `Session::open`: the header names the server from the
    // first frame. Left to the stream poller, it waited for that poller's
    // first message, which on the overview (the poller paused) is only the
    // health INFO: never sent for a user the ACL refuses INFO, and 5 s
    // late after a failed first read.
    state.server = poll_with.server().cloned();
    state.sentinel = poll_with.sentinel();
    let (events_tx, events) = channel(EVENTS_QUEUE);
    let (outcomes_tx, outcomes) = channel(OUTCOMES_QUEUE);
    let cancel = CancellationToken::new();
    let failovers = Arc::new(ChannelSink::new(events_tx.clone()));
    let _reporter = report_failovers(poll_with, failovers, cancel.clone());
    // Paused from the start when the overview is shown first.
    let key = (state.screen == Screen::Stream).then(|| state.view.stream.clone());
    let poller = spawn_poller(
        poll_with,
        key,
        state.lab.refresh,
        state.thresholds,
        cancel.clone(),
    );
    let interval = state.lab.refresh.max(OVERVIEW_MIN_INTERVAL);
    let config = KeyspaceConfig::new(state.overview.pattern.clone(), interval);
    let overview = spawn_keyspace(&poll_with.read_only(), config, cancel.clone());
    let mut sup = start(events_tx, outcomes_tx);
    let mut ch = app::Channels {
        events,
        outcomes,
        poll: poller.state,
        focus: poller.focus,
        overview: overview.state,
        visible: overview.visible,
    };
    let result = match terminal::TerminalGuard::enter() {
        Ok(mut guard) => app::run(&mut guard.terminal, &mut state, &mut sup, &mut ch).await,
        Err(report) => Err(Failure::unexpected(report)),
    };
    // The terminal is restored by now; stopping the engine may take a moment.
    cancel.cancel();
    sup.shutdown(SHUTDOWN_GRACE).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), poller.task).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), overview.task).await;
    drop(session);
    result
}

fn thresholds(args: &DashboardArgs) -> Thresholds {
    Thresholds::new(args.diagnosis.stuck_after, args.diagnosis.poison_after)
}

/// The embedded workers' settings: the shared flags with lab defaults.
fn lab_worker(global: &GlobalArgs, args: &DashboardArgs) -> WorkerConfig {
    let mut worker = worker_config(
        global,
        String::new(),
        &args.tuning,
        LAB_CLAIM_EVERY,
        LAB_MIN_IDLE,
    );
    if args.tuning.read_count.is_none() {
        // Small batches keep a normal worker's entries well under min-idle,
        // so reclaims on screen come from kills and slow mode, not batching.
        worker.count = LAB_READ_COUNT;
    }
    worker
}

fn lab(session: &Session, global: &GlobalArgs, args: &DashboardArgs, worker: &WorkerConfig) -> Lab {
    Lab {
        url: header_url(session),
        stream: global.stream.clone(),
        group: global.group(),
        refresh: args.refresh,
        min_idle: worker.min_idle,
        claim_every: worker.claim_every,
        max_deliveries: worker.max_deliveries,
        work_ms: args.work_ms,
        basic_name: "basic".into(),
        ack_delete: worker.ack_delete,
        producer_trim: None,
    }
}

/// `MAXLEN ~ 1000 ACKED`: the retention as XADD carries it.
fn trim_words(retention: &crate::redis::Retention) -> String {
    let line = crate::redis::command_line(&crate::redis::xtrim_cmd("k", retention));
    line.trim_start_matches("XTRIM k ").to_owned()
}

/// The server as the header names it: the redacted URL, and whether it is
/// the private embedded server.
fn header_url(session: &Session) -> String {
    let mut url = session.connector.settings().to_string();
    if session.embedded.is_some() {
        url.push_str(" [private server, data goes away on exit]");
    }
    url
}
