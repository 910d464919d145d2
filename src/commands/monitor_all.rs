//! `streamlab monitor --all`: the overview of every stream for scripts, as
//! a table or one JSON document per poll. `--once` walks the whole
//! keyspace (SCAN in steps, back to back) and refreshes every stream
//! before printing; without it, each poll costs what the dashboard's
//! overview costs (its budget of Redis time per second), and once the
//! first pass is done the output says within what every row is read again.
//! Read-only throughout.

use std::fmt::Write as _;

use serde_json::json;

use crate::cli::{GlobalArgs, MonitorArgs};
use crate::failure::Failure;
use crate::monitor::keyspace::rows::Row;
use crate::monitor::keyspace::{Keyspace, KeyspaceConfig};
use crate::monitor::snapshot::lag_unknown_reason;
use crate::output::fmt;
use crate::output::stdout;
use crate::output::stream_cells::cells;
use crate::redis::id::now_ms;
use crate::setup::session::Session;
use crate::setup::signals::shutdown_on_signal;

pub async fn run(global: &GlobalArgs, args: &MonitorArgs) -> Result<(), Failure> {
    let session = Session::open(global).await?;
    let mut conn = session.connector.read_only().conn("monitor");
    let config = KeyspaceConfig::new(args.pattern.clone(), args.interval);
    let mut overview = Keyspace::new(config);
    if args.once {
        let started = std::time::Instant::now();
        let commands = overview.complete(&mut conn).await?;
        let elapsed = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        print(&session, &overview, args.json, (commands, elapsed), None);
        return Ok(());
    }
    let cancel = shutdown_on_signal();
    let mut tick = tokio::time::interval(args.interval);
    let mut polls = 0;
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            _ = tick.tick() => {}
        }
        polls += 1;
        match overview.poll(&mut conn, &[]).await {
            Ok(cost) => print(
                &session,
                &overview,
                args.json,
                (cost.commands, cost.round_trip_us),
                overview.refresh_within(),
            ),
            Err(e) => crate::stderr_line!("poll failed (retrying): {e}"),
        }
        // Its reader went away (`| head -1`): nobody sees another poll.
        if args.polls.is_some_and(|n| polls >= n) || stdout::closed() {
            break;
        }
    }
    Ok(())
}

/// Most pending first, then by key.
pub fn sorted(overview: &Keyspace) -> Vec<Row> {
    let mut rows = overview.rows();
    rows.sort_by(|a, b| {
        b.pending()
            .cmp(&a.pending())
            .then_with(|| a.key.cmp(&b.key))
    });
    rows
}

/// One poll's output; `period` is within what every row is read again
/// (polling, once the first pass is done; `--once` has none).
fn print(
    session: &Session,
    overview: &Keyspace,
    json: bool,
    (commands, us): (u64, u64),
    period: Option<std::time::Duration>,
) {
    let rows = sorted(overview);
    let now = now_ms();
    // Why a lag reads unknown (null), said once for the rows that have one.
    let unknown = rows
        .iter()
        .any(|r| r.stats.is_some() && r.unknown_lags() > 0)
        .then(|| lag_unknown_reason(session.connector.server()));
    if json {
        let mut doc = json!({
            "streams": rows.iter().map(|r| r.to_json(now)).collect::<Vec<_>>(),
            "scan": {
                "complete": overview.scan_complete(),
                "streams": rows.len(),
                "refreshed": overview.all_refreshed(),
            },
            "poll": { "commands": commands, "round_trip_us": us, "taken_ms": now },
        });
        // Once the first pass is done: within what every row is read again.
        doc["scan"]["refresh_within_s"] = json!(period.map(|d| d.as_secs()));
        if let Some(server) = session.connector.server() {
            doc["server"] = server.to_json();
        }
        doc["lag_unknown"] = json!(unknown);
        emit(&format!("{doc}\n"));
    } else {
        let mut text = table(&rows, now);
        if let Some(why) = unknown {
            let _ = writeln!(text, "lag unknown: {why}");
        }
        if let Some(period) = period {
            let ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX);
            let _ = writeln!(text, "each row refreshed within {}", fmt::age(ms));
        }
        emit(&text);
    }
}

/// Write to stdout; a reader that went away (`| head`) is not an error,
/// it is noted so the polling loop stops.
fn emit(text: &str) {
    stdout::print(text);
}

/// The overview as text, one line per stream.
pub fn table(rows: &[Row], now: u64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<32} {:>9} {:>6} {:>9} {:>9} {:>9} {:>10} {:>9} {:>10} {:>8} {:>6}",
        "stream",
        "length",
        "groups",
        "consumers",
        "pending",
        "lag",
        "oldest pend",
        "time lag",
        "last entry",
        "added/s",
        "dead"
    );
    for r in rows {
        let cells = cells(r, now);
        let _ = writeln!(
            out,
            "{:<32} {:>9} {:>6} {:>9} {:>9} {:>9} {:>10} {:>9} {:>10} {:>8} {:>6}",
            r.key,
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            cells[6],
            cells[7],
            cells[8],
            cells[9]
        );
    }
    // What n/a means, row by row: a refusal names the rule to add.
    for r in rows.iter().filter(|r| r.stats.is_none()) {
        if let Some(problem) = &r.problem {
            let _ = writeln!(out, "{}: {problem}", r.key);
        }
    }
    out
}
