//! `streamlab monitor`: the demo's monitor_cg, as a table or JSON.

use std::fmt::Write as _;

use crate::cli::{GlobalArgs, MonitorArgs};
use crate::engine::partition::Layout;
use crate::failure::Failure;
use crate::monitor::dangling::deleted_pending;
use crate::monitor::loss::losses;
use crate::monitor::partitioned::{self, poll_partitions};
use crate::monitor::poll::MAX_PAGE;
use crate::monitor::snapshot::lag_unknown_reason;
use crate::monitor::{PelQuery, Snapshot};
use crate::output::stdout;
use crate::redis::{Conn, RedisFailure, ServerInfo};
use crate::setup::session::Session;
use crate::setup::signals::shutdown_on_signal;
use crate::setup::streams::resolve_stream;

pub async fn run(global: &GlobalArgs, args: &MonitorArgs) -> Result<(), Failure> {
    if args.all {
        return super::monitor_all::run(global, args).await;
    }
    let session = Session::open(global).await?;
    let connector = session.connector.read_only();
    let layout = resolve_stream(&connector, &global.stream).await?;
    let mut conn = connector.conn("monitor");
    let cancel = shutdown_on_signal();
    let mut tick = tokio::time::interval(args.interval);
    let page = args.pel_page.map(|n| PelQuery {
        group: global.group(),
        start: None,
        count: usize::try_from(n).unwrap_or(MAX_PAGE),
        consumer: None,
    });
    let mut polls = 0;
    let mut last: Option<Vec<Snapshot>> = None;
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = tick.tick() => {}
        }
        polls += 1;
        let polled = match poll_partitions(&mut conn, &layout.partitions, page.as_ref()).await {
            Ok(mut parts) => count_deleted(&mut conn, &mut parts).await.map(|()| parts),
            Err(e) => Err(e),
        };
        match polled {
            Ok(parts) => {
                // Compared with the last good poll, so a loss during an
                // outage is reported once the server answers again.
                for (before, now) in last.iter().flatten().zip(&parts) {
                    for note in losses(before, now) {
                        crate::stderr_line!("warning: {note}");
                    }
                }
                print_poll(&session, &layout, &parts, args.json);
                last = Some(parts);
            }
            Err(e) if args.once => return Err(e.into()),
            Err(e) => crate::stderr_line!("poll failed (retrying): {e}"),
        }
        // The reader went away (`| head`): nobody sees another poll.
        if args.once || args.polls.is_some_and(|n| polls >= n) || stdout::closed() {
            break;
        }
    }
    Ok(())
}

/// Each group's pending entries whose stream entry is gone: free while
/// nothing was deleted from the stream (see `monitor::dangling`).
async fn count_deleted(conn: &mut Conn, parts: &mut [Snapshot]) -> Result<(), RedisFailure> {
    for snap in parts {
        let Some(info) = snap.stream.clone() else {
            continue;
        };
        for g in &mut snap.groups {
            let count = deleted_pending(
                conn,
                &snap.key,
                &info,
                &g.info.name,
                g.pending.count,
                g.pending.min,
            )
            .await?;
            g.deleted_pending = Some(count);
        }
    }
    Ok(())
}

/// One poll's report: a plain stream as before; a partitioned one as its
/// totals plus one entry (JSON) or block (text) per partition.
fn print_poll(session: &Session, layout: &Layout, parts: &[Snapshot], json: bool) {
    let server = session.connector.server();
    if json {
        let mut v = match parts {
            [one] if !layout.is_partitioned() => one.to_json_on(server),
            _ => partitioned::to_json(&layout.stream, parts, &nodes(session, layout)),
        };
        if let Some(server) = server {
            v["server"] = server.to_json();
        }
        stdout::line(&v.to_string());
        return;
    }
    match parts {
        [one] if !layout.is_partitioned() => {
            stdout::print(&table(one, server));
        }
        _ => {
            let total = partitioned::totals(&layout.stream, parts);
            let mut text = format!("{} partitions, totals:\n", layout.partition_count());
            text.push_str(&table(&total, server));
            for p in parts {
                text.push_str(&table(p, server));
            }
            stdout::print(&text);
        }
    }
}

/// The node serving each partition, as `host:port` (on a single server,
/// the one the settings name).
fn nodes(session: &Session, layout: &Layout) -> Vec<String> {
    let settings = session.connector.settings();
    let configured = format!("{}:{}", settings.host(), settings.port());
    layout
        .partitions
        .iter()
        .map(|key| {
            session
                .connector
                .node_of(key)
                .map_or_else(|| configured.clone(), |n| n.to_string())
        })
        .collect()
}

/// A readable multi-line report of one snapshot.
pub fn table(s: &Snapshot, server: Option<&ServerInfo>) -> String {
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
        let lag = g.info.lag.map_or_else(
            || format!("unknown ({})", lag_unknown_reason(server)),
            |l| l.to_string(),
        );
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
        if let Some(d) = g.deleted_pending.filter(|d| d.count > 0) {
            let at_least = if d.exact { "" } else { "at least " };
            let _ = writeln!(
                out,
                "    {at_least}{} gone from the stream (deleted or trimmed while pending): ack them, or on Redis 8.2+ trim with --trim-mode delref",
                crate::words::count(d.count, "pending entry is", "pending entries are")
            );
        }
    }
    if s.groups.is_empty() {
        let _ = writeln!(out, "  no consumer groups");
    }
    out
}
