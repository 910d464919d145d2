//! `streamlab watch`: the dashboard as a read-only console. No producer,
//! basic consumer or worker runs, no offset is saved, and every connection
//! comes from a read-only connector that refuses writing commands before
//! they are sent; `--allow-writes` gives the one-shot admin actions a
//! connector that may write (each action is still confirmed on screen).

use std::time::Duration;

use crate::cli::{GlobalArgs, WatchArgs};
use crate::engine::partition::Layout;
use crate::engine::partition::spread::Spread;
use crate::engine::worker::WorkerConfig;
use crate::failure::Failure;
use crate::monitor::diagnosis::Thresholds;
use crate::redis::id::now_ms;
use crate::setup::session::Session;
use crate::supervisor::{Supervisor, SupervisorConfig};
use crate::tui::access::Access;
use crate::tui::state::{Lab, Production, Screen, State};

pub async fn run(global: &GlobalArgs, args: &WatchArgs) -> Result<(), Failure> {
    crate::tui::terminal::check()?;
    let session = Session::open(global).await?;
    let access = if args.allow_writes {
        Access::WatchWrites
    } else {
        Access::Watch
    };
    // The overview is a watch's home; a stream named on the command line
    // (or in the environment) opens directly, and Esc goes to the overview.
    let home = Home {
        screen: if global.stream_given {
            Screen::Stream
        } else {
            Screen::Overview
        },
        pattern: args.pattern.clone(),
    };
    let view = Viewing {
        refresh: args.refresh,
        thresholds: Thresholds::new(args.diagnosis.stuck_after, args.diagnosis.poison_after),
    };
    show_watch(session, global, view, access, None, home).await
}

/// How a watch polls and judges what it sees.
pub struct Viewing {
    pub refresh: Duration,
    pub thresholds: Thresholds,
}

/// Where a watch opens, and what its overview lists.
struct Home {
    screen: Screen,
    pattern: Option<String>,
}

/// The dashboard on a stream its lab may not touch (see `lab_gate`): a
/// read-only watch whose header says why.
pub async fn instead_of_lab(
    session: Session,
    global: &GlobalArgs,
    view: Viewing,
    reason: String,
) -> Result<(), Failure> {
    let home = Home {
        screen: Screen::Stream,
        pattern: None,
    };
    show_watch(session, global, view, Access::Watch, Some(reason), home).await
}

async fn show_watch(
    session: Session,
    global: &GlobalArgs,
    view: Viewing,
    access: Access,
    reason: Option<String>,
    home: Home,
) -> Result<(), Failure> {
    let read_only = session.connector.read_only();
    let admin = if access == Access::WatchWrites {
        session.connector.clone()
    } else {
        read_only.clone()
    };
    let mut state = State::new(
        lab(&session, global, view.refresh),
        Production::default(),
        now_ms(),
    );
    state.thresholds = view.thresholds;
    state.access = access;
    state.tz = crate::tui::state::Tz(jiff::tz::TimeZone::system());
    state.watch_reason = reason;
    state.screen = home.screen;
    state.overview.pattern = home.pattern;
    let config = SupervisorConfig {
        worker: admin_target(global),
        // A watch runs no embedded part: nothing reads or spreads.
        layout: Layout::single(&global.stream),
        spread: Spread::RoundRobin,
        work_ms: 0,
        basic_name: String::new(),
        retention: None,
    };
    let start = |events, outcomes| Supervisor::watch(admin, config, events, outcomes);
    super::show(session, &read_only, state, start).await
}

fn lab(session: &Session, global: &GlobalArgs, refresh: Duration) -> Lab {
    Lab {
        url: super::header_url(session),
        stream: global.stream.clone(),
        group: global.group(),
        refresh,
        // The watched consumers' own dead-letter limit is not known here:
        // no PEL row is highlighted as near it.
        max_deliveries: u64::MAX,
        ..Lab::default()
    }
}

/// The stream the admin actions act on; no worker is ever started from it.
fn admin_target(global: &GlobalArgs) -> WorkerConfig {
    WorkerConfig {
        stream: global.stream.clone(),
        group: global.group(),
        consumer: String::new(),
        count: 1,
        block: Duration::from_secs(1),
        claim_every: Duration::from_secs(1),
        min_idle: Duration::from_secs(1),
        claim_count: 1,
        max_deliveries: u64::MAX,
        ack_delete: false,
    }
}
