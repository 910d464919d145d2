//! `streamlab watch`: the dashboard as a read-only console. No producer,
//! basic consumer or worker runs, no offset is saved, and every connection
//! comes from a read-only connector that refuses writing commands before
//! they are sent; `--allow-writes` gives the one-shot admin actions a
//! connector that may write (each action is still confirmed on screen).

use std::time::Duration;

use crate::cli::{GlobalArgs, WatchArgs};
use crate::engine::supervisor::{Supervisor, SupervisorConfig};
use crate::engine::worker::WorkerConfig;
use crate::failure::Failure;
use crate::redis::id::now_ms;
use crate::session::Session;
use crate::tui::access::Access;
use crate::tui::state::{Lab, Production, State};

pub async fn run(global: &GlobalArgs, args: &WatchArgs) -> Result<(), Failure> {
    let session = Session::open(global).await?;
    let read_only = session.connector.read_only();
    let (access, admin) = if args.allow_writes {
        (Access::WatchWrites, session.connector.clone())
    } else {
        (Access::Watch, read_only.clone())
    };
    let mut state = State::new(lab(&session, global, args), Production::default(), now_ms());
    state.access = access;
    let config = SupervisorConfig {
        worker: admin_target(global),
        work_ms: 0,
        basic_name: String::new(),
    };
    let start = |events, outcomes| Supervisor::watch(admin, config, events, outcomes);
    super::show(session, &read_only, state, start).await
}

fn lab(session: &Session, global: &GlobalArgs, args: &WatchArgs) -> Lab {
    let mut url = session.connector.settings().to_string();
    if session.embedded.is_some() {
        url.push_str(" [private server, data goes away on exit]");
    }
    Lab {
        url,
        stream: global.stream.clone(),
        group: global.group(),
        refresh: args.refresh,
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
    }
}
