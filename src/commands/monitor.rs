//! `streamlab monitor`: the demo's monitor_cg, as a table or JSON.

use std::fmt::Write as _;

use crate::cli::{GlobalArgs, MonitorArgs};
use crate::commands::shutdown_on_signal;
use crate::failure::Failure;
use crate::monitor::loss::losses;
use crate::monitor::poll::MAX_PAGE;
use crate::monitor::{PelQuery, Snapshot, poll_once};
use crate::session::Session;

pub async fn run(global: &GlobalArgs, args: &MonitorArgs) -> Result<(), Failure> {
    let session = Session::open(global).await?;
    let mut conn = session.connector.read_only().conn("monitor");
    let cancel = shutdown_on_signal();
    let mut tick = tokio::time::interval(args.interval);
    let page = args.pel_page.map(|n| PelQuery {
        group: global.group(),
        start: None,
        count: usize::try_from(n).unwrap_or(MAX_PAGE),
        consumer: None,
    });
    let mut polls = 0;
    let mut last: Option<Snapshot> = None;
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = tick.tick() => {}
        }
        polls += 1;
        match poll_once(&mut conn, &global.stream, page.as_ref()).await {
            Ok(snap) => {
                // Compared with the last good poll, so a loss during an
                // outage is reported once the server answers again.
                for note in last.as_ref().map(|b| losses(b, &snap)).unwrap_or_default() {
                    eprintln!("warning: {note}");
                }
                if args.json {
                    let mut json = snap.to_json();
                    if let Some(server) = session.connector.server() {
                        json["server"] = server.to_json();
                    }
                    println!("{json}");
                } else {
                    print!("{}", table(&snap));
                }
                last = Some(snap);
            }
            Err(e) if args.once => return Err(e.into()),
            Err(e) => eprintln!("poll failed (retrying): {e}"),
        }
        if args.once || args.polls.is_some_and(|n| polls >= n) {
            break;
        }
    }
    Ok(())
}

/// A readable multi-line report of one snapshot.
pub fn table(s: &Snapshot) -> String {
    let mut out = String::new();
    let Some(info) = &s.stream else {
        let _ = writeln!(out, "stream '{}' does not exist (yet)", s.key);
        return out;
    };
    let id = |i: Option<crate::redis::EntryId>| i.map_or_else(|| "-".to_owned(), |i| i.to_string());
    let _ = writeln!(
        out,
        "stream '{}': length {}  first {}  last {}  added {}",
        s.key,
        info.length,
        id(info.first_id),
        id(info.last_id),
        info.entries_added
            .map_or_else(|| "?".into(), |n| n.to_string())
    );
    for g in &s.groups {
        let lag = g
            .info
            .lag
            .map_or_else(|| "unknown".to_owned(), |l| l.to_string());
        let oldest = g
            .oldest_pending
            .as_ref()
            .map_or_else(|| "-".to_owned(), |p| format!("{} ms", p.idle_ms));
        let _ = writeln!(
            out,
            "  group '{}': pending {}  last delivered {}  lag {lag}  oldest pending idle {oldest}",
            g.info.name,
            g.pending.count,
            id(g.info.last_delivered_id)
        );
        for c in &g.consumers {
            let _ = writeln!(
                out,
                "    consumer '{}': pending {}  idle {} ms",
                c.name, c.pending, c.idle_ms
            );
        }
    }
    if s.groups.is_empty() {
        let _ = writeln!(out, "  no consumer groups");
    }
    out
}
