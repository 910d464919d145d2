//! `streamlab monitor`: the demo's monitor_cg, as a table or JSON.

use std::fmt::Write as _;

use crate::cli::{GlobalArgs, MonitorArgs};
use crate::engine::partition::Layout;
use crate::failure::Failure;
use crate::monitor::dangling::deleted_pending;
use crate::monitor::diagnosis::Thresholds;
use crate::monitor::loss::losses;
use crate::monitor::partitioned::{self, poll_partitions};
use crate::monitor::pel_walk::PelWalker;
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
    let report = Report {
        only: global.group.clone(),
        thresholds: Thresholds::new(args.diagnosis.stuck_after, args.diagnosis.poison_after),
        json: args.json,
    };
    // The group asked for is polled in detail wherever XINFO GROUPS lists
    // it; `--pel-page` alone pages the default group, as it always did.
    let paged = report
        .only
        .clone()
        .or_else(|| args.pel_page.map(|_| global.group()));
    let page = paged.map(|group| PelQuery {
        group,
        start: None,
        count: args
            .pel_page
            .map_or(0, |n| usize::try_from(n).unwrap_or(MAX_PAGE)),
        consumer: None,
    });
    let mut polls = 0;
    let mut last: Option<Vec<Snapshot>> = None;
    let mut walkers: Vec<PelWalker> = layout
        .partitions
        .iter()
        .map(|_| PelWalker::default())
        .collect();
    // Once `--group` was found, a later poll without it is data lost on
    // the server (a restart, a DESTROY), reported as such, not a typo.
    let mut group_seen = GroupWatch::default();
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = tick.tick() => {}
        }
        polls += 1;
        let polled = async {
            let stuck = report.thresholds.stuck_after_ms;
            let mut parts =
                poll_partitions(&mut conn, &layout.partitions, page.as_ref(), stuck).await?;
            report
                .check_group(&parts, &mut group_seen, args.once)
                .map_err(Stop::Usage)?;
            count_deleted(&mut conn, &mut parts).await?;
            for (part, walker) in parts.iter_mut().zip(&mut walkers) {
                walk(&mut conn, walker, part, &report, args.once).await?;
            }
            Ok::<_, Stop>(parts)
        };
        match polled.await {
            Err(Stop::Usage(usage)) => return Err(usage),
            Err(Stop::Redis(e)) if args.once => return Err(e.into()),
            Err(Stop::Redis(e)) => crate::stderr_line!("poll failed (retrying): {e}"),
            Ok(parts) => {
                // Compared with the last good poll, so a loss during an
                // outage is reported once the server answers again.
                for (before, now) in last.iter().flatten().zip(&parts) {
                    for note in losses(before, now) {
                        crate::stderr_line!("warning: {note}");
                    }
                }
                print_poll(&session, &layout, &parts, &report);
                last = Some(parts);
            }
        }
        // The reader went away (`| head`): nobody sees another poll.
        if args.once || args.polls.is_some_and(|n| polls >= n) || stdout::closed() {
            break;
        }
    }
    Ok(())
}

/// What a running monitor knows of the `--group` it was asked for.
#[derive(Default)]
struct GroupWatch {
    /// Seen once: its absence later is a loss, not a typo.
    seen: bool,
    /// "No such group yet" was said.
    noted: bool,
}

/// Why a poll gave no report: bad input ends the command, Redis errors
/// are retried (except with `--once`).
enum Stop {
    Usage(Failure),
    Redis(crate::redis::RedisFailure),
}

impl From<crate::redis::RedisFailure> for Stop {
    fn from(e: crate::redis::RedisFailure) -> Self {
        Self::Redis(e)
    }
}

/// `--once` walks each group's PEL to its end (at most [`ONCE_PAGES`]
/// pages of [`ONCE_PAGE`]); a running monitor one page of a few groups per
/// poll, in rotation, as the dashboard does.
async fn walk(
    conn: &mut crate::redis::Conn,
    walker: &mut PelWalker,
    part: &mut Snapshot,
    report: &Report,
    once: bool,
) -> Result<(), crate::redis::RedisFailure> {
    let after = report.thresholds.poison_after;
    if once {
        walker
            .complete(conn, part, after, ONCE_PAGE, ONCE_PAGES)
            .await
    } else {
        walker.step(conn, part, after, report.only.as_deref()).await
    }
}

/// Entries per page of `--once`'s PEL walk.
const ONCE_PAGE: usize = 500;
/// Pages of `--once`'s walk per group: past 10,000 entries the scan is
/// reported incomplete rather than holding Redis longer.
const ONCE_PAGES: usize = 20;

/// What one poll's report shows: one group or all, with which thresholds.
struct Report {
    /// `--group`: that group only; it must exist.
    only: Option<String>,
    thresholds: Thresholds,
    json: bool,
}

impl Report {
    /// `--group` names a group the stream has, or the command says so
    /// naming those it has (a typo must not print nothing and exit 0):
    /// `--once` ends there (exit 2); a running monitor says it once on
    /// stderr and waits, since a producer often creates the stream before
    /// a worker creates its group. A stream that does not exist yet is
    /// waited for, and a group gone after it was seen is a loss `monitor`
    /// reports, not bad input.
    fn check_group(
        &self,
        parts: &[Snapshot],
        watch: &mut GroupWatch,
        once: bool,
    ) -> Result<(), Failure> {
        let Some(wanted) = &self.only else {
            return Ok(());
        };
        if watch.seen || parts.iter().all(|p| p.stream.is_none()) {
            return Ok(());
        }
        let mut names: Vec<&str> = parts
            .iter()
            .flat_map(|p| p.group_infos().map(|g| g.name.as_str()))
            .collect();
        if names.contains(&wanted.as_str()) {
            watch.seen = true;
            return Ok(());
        }
        names.sort_unstable();
        names.dedup();
        let stream = parts.first().map_or("", |p| p.key.as_str());
        let has = if names.is_empty() {
            "it has no consumer groups".to_owned()
        } else {
            format!("its groups: {}", names.join(", "))
        };
        if once {
            return Err(Failure::usage(format!(
                "--group {wanted}: stream '{stream}' has no such group ({has}); drop --group to see them all"
            )));
        }
        if !watch.noted {
            watch.noted = true;
            crate::stderr_line!(
                "note: --group {wanted}: stream '{stream}' has no such group yet ({has}); waiting for it (Ctrl-C stops, drop --group to see them all)"
            );
        }
        Ok(())
    }

    /// `snap` with only the group asked for.
    fn narrowed(&self, snap: &Snapshot) -> Snapshot {
        let mut s = snap.clone();
        if let Some(only) = &self.only {
            s.groups.retain(|g| g.info.name == *only);
            s.more_groups.clear();
            s.groups_omitted = 0;
        }
        s
    }
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
fn print_poll(session: &Session, layout: &Layout, parts: &[Snapshot], report: &Report) {
    let server = session.connector.server();
    let parts: Vec<Snapshot> = parts.iter().map(|p| report.narrowed(p)).collect();
    let t = &report.thresholds;
    if report.json {
        let mut v = match parts.as_slice() {
            [one] if !layout.is_partitioned() => one.to_json_on(server, t),
            _ => partitioned::to_json(&layout.stream, &parts, &nodes(session, layout), t),
        };
        if let Some(server) = server {
            v["server"] = server.to_json();
        }
        stdout::line(&v.to_string());
        return;
    }
    match parts.as_slice() {
        [one] if !layout.is_partitioned() => {
            stdout::print(&table(one, server, t));
        }
        _ => {
            let total = partitioned::totals(&layout.stream, &parts);
            let mut text = format!("{} partitions, totals:\n", layout.partition_count());
            text.push_str(&table(&total, server, t));
            for p in &parts {
                text.push_str(&table(p, server, t));
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
pub fn table(s: &Snapshot, server: Option<&ServerInfo>, t: &Thresholds) -> String {
    let mut out = String::new();
    let Some(info) = &s.stream else {
        let _ = writeln!(out, "stream '{}' does not exist (yet)", s.key);
        return out;
    };
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
        group_lines(&mut out, g, server, t);
    }
    if s.groups.is_empty() {
        let _ = writeln!(out, "  no consumer groups");
    }
    out
}

fn id(i: Option<crate::redis::EntryId>) -> String {
    i.map_or_else(|| "-".to_owned(), |i| i.to_string())
}

/// A group's line, its consumers' (with their diagnosis) and its PEL
/// page when one was asked for.
fn group_lines(
    out: &mut String,
    g: &crate::monitor::GroupSnapshot,
    server: Option<&ServerInfo>,
    t: &Thresholds,
) {
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
        let oldest = g.oldest_pending_of(&c.name).map_or_else(String::new, |p| {
            format!("  oldest pending idle {} ms", p.idle_ms)
        });
        let diagnosis = g
            .diagnosis_of(c, t)
            .map_or_else(String::new, |d| format!("  {}", d.label()));
        let _ = writeln!(
            out,
            "    consumer '{}': pending {}  idle {} ms{oldest}{diagnosis}",
            c.name, c.pending, c.idle_ms
        );
    }
    if let Some(d) = g.deleted_pending.filter(|d| d.count > 0) {
        let at_least = if d.exact { "" } else { "at least " };
        let _ = writeln!(
            out,
            "    {at_least}{} gone from the stream (deleted or trimmed while pending): ack them (streamlab pending ack --deleted), or on Redis 8.2+ trim with --trim-mode delref",
            crate::words::count(d.count, "pending entry is", "pending entries are")
        );
    }
    if let Some(scan) = &g.poison {
        poison_lines(out, scan);
    }
    for p in g.pel_page.iter().flatten() {
        let _ = writeln!(
            out,
            "    pending {}  consumer '{}'  idle {} ms  deliveries {}",
            p.id, p.consumer, p.idle_ms, p.deliveries
        );
    }
}

/// Poison entries shown in the text report; the JSON lists them all.
const POISON_LINES: usize = 20;

fn poison_lines(out: &mut String, scan: &crate::monitor::pel_walk::PoisonScan) {
    let how = if scan.complete {
        "whole PEL"
    } else {
        "PEL not walked to its end yet"
    };
    if scan.poison.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "    poison: {} ({how}, {} entries read)",
        crate::words::entries(scan.poison.len() as u64),
        scan.scanned
    );
    for p in scan.poison.iter().take(POISON_LINES) {
        let _ = writeln!(
            out,
            "      {}  consumer '{}'  deliveries {}  idle {} ms",
            p.id, p.consumer, p.deliveries, p.idle_ms
        );
    }
    if scan.poison.len() > POISON_LINES {
        let _ = writeln!(
            out,
            "      ... {} more (--json lists all)",
            scan.poison.len() - POISON_LINES
        );
    }
}
