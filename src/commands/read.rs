//! `streamlab read`: a stream's entries for scripts and people, read-only
//! (kcat for Redis Streams). A range (`--from`/`--to`: ids, times, ages)
//! is walked in pages of [`PAGE`] entries (XRANGE, or XREVRANGE for
//! `--reverse` and `--last`), so output streams in bounded memory whatever
//! the stream's length; a partitioned stream is merged in id order, each
//! line naming its partition. `--follow` then waits for new entries with
//! XREAD BLOCK on a connection of its own per partition: no group, no
//! consumer, no offset, nothing written. Every connection comes from the
//! read-only connector, so it works as a `+@read` ACL user.

use std::io::Write as _;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use jiff::tz::TimeZone;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cli::{GlobalArgs, ReadArgs};
use crate::commands::stderr_is_terminal;
use crate::engine::browse::matcher::{Matcher, all_match, parse_match};
use crate::engine::browse::position::parse_position;
use crate::engine::browse::scan::Scan;
use crate::engine::browse::{Bound, Cursor, Direction, Row, Span};
use crate::failure::Failure;
use crate::output::entries::{push_json_line, table_line};
use crate::output::stdout::noted;
use crate::redis::id::now_ms;
use crate::redis::reply::RawEntry;
use crate::redis::{Conn, Connector, EntryId, RedisFailure, exists, xlen, xread_raw};
use crate::setup::session::Session;
use crate::setup::signals::shutdown_on_signal;
use crate::setup::streams::resolve_stream;

/// Entries per XRANGE / XREVRANGE (the figure the benchmark compares).
pub const PAGE: usize = 1000;
/// BLOCK of each `--follow` XREAD: short, so Ctrl-C ends it quickly.
const FOLLOW_BLOCK: Duration = Duration::from_secs(2);
/// Output is written in chunks of about this size (and at once in --follow).
const FLUSH_AT: usize = 64 * 1024;
/// A scan still running after this long shows progress (on a terminal).
const PROGRESS_AFTER: Duration = Duration::from_millis(300);

/// What to read, checked before connecting.
#[derive(Debug, Clone)]
struct Plan {
    span: Span,
    matchers: Vec<Matcher>,
    last: Option<u64>,
    count: Option<u64>,
    reverse: bool,
    follow: bool,
    json: bool,
}

impl Plan {
    fn new(args: &ReadArgs, now_ms: u64, tz: &TimeZone) -> Result<Self, Failure> {
        let at = |flag: &str, text: &str| {
            parse_position(text, now_ms, tz).map_err(|e| Failure::usage(format!("{flag}: {e}")))
        };
        let (from, to) = (at("--from", &args.from)?, at("--to", &args.to)?);
        let mut matchers = args
            .matches
            .iter()
            .map(|m| parse_match(m).map_err(Failure::usage))
            .collect::<Result<Vec<_>, _>>()?;
        match args.grep.as_deref() {
            Some("") => {
                return Err(Failure::usage(
                    "--grep '': give some text to look for, or drop --grep",
                ));
            }
            Some(text) => matchers.push(Matcher::Text(text.as_bytes().to_vec())),
            None => {}
        }
        if args.follow && args.to.trim() != "+" {
            return Err(Failure::usage(format!(
                "--follow reads on past the newest entry, which --to {} contradicts: drop --to (or --follow)",
                args.to
            )));
        }
        if args.follow && args.reverse {
            return Err(Failure::usage(
                "--follow prints new entries as they come, oldest first: drop --reverse (or --follow)",
            ));
        }
        Ok(Self {
            span: Span {
                lo: from.lower(),
                hi: to.upper(),
            },
            matchers,
            last: args.last,
            count: args.count,
            reverse: args.reverse,
            follow: args.follow,
            json: args.json,
        })
    }

    fn wanted(&self, entry: &RawEntry) -> bool {
        all_match(&self.matchers, &entry.fields)
    }
}

pub async fn run(global: &GlobalArgs, args: &ReadArgs) -> Result<(), Failure> {
    let tz = TimeZone::system();
    let plan = Plan::new(args, now_ms(), &tz)?;
    let session = Session::open(global).await?;
    let connector = session.connector.read_only();
    let layout = resolve_stream(&connector, &global.stream).await?;
    let keys = layout.partitions;
    let mut conn = connector.conn("read");
    if !plan.follow && !any_exists(&mut conn, &keys).await? {
        return Err(Failure::usage(format!(
            "there is no stream '{}' on this server: check --stream (streamlab monitor --all lists every stream)",
            global.stream
        )));
    }
    let mut out = Printer::new(&global.stream, &keys, plan.json, tz, plan.count);
    let mut progress = Progress::new(&mut conn, &keys, &plan).await;
    let followed = read_range(&mut conn, &keys, &plan, &mut out, &mut progress).await;
    progress.finish();
    let after = followed?;
    if plan.follow && !out.done() {
        out.flush();
        follow(&connector, &keys, after, &plan, &mut out).await?;
    }
    out.flush();
    Ok(())
}

async fn any_exists(conn: &mut Conn, keys: &[String]) -> Result<bool, Failure> {
    for key in keys {
        if exists(conn, key).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Print the range as the plan says; returns, per partition, the id new
/// entries are followed after.
async fn read_range(
    conn: &mut Conn,
    keys: &[String],
    plan: &Plan,
    out: &mut Printer,
    progress: &mut Progress,
) -> Result<Vec<EntryId>, Failure> {
    let (dir, from, span) = match (plan.last, plan.reverse) {
        (_, true) => (Direction::Older, Bound::Edge, plan.span),
        (None, false) => (Direction::Newer, Bound::Edge, plan.span),
        (Some(n), false) => match newest(conn, keys, plan, n, progress).await? {
            None => return Ok(follow_starts(keys, plan.span.lo)),
            Some((oldest, newest)) => {
                let hi = if plan.follow { None } else { Some(newest.id) };
                let span = Span {
                    lo: plan.span.lo,
                    hi,
                };
                (Direction::Newer, Bound::At(oldest), span)
            }
        },
    };
    let mut after = follow_starts(
        keys,
        match from {
            Bound::At(c) => Some(c.id),
            _ => span.lo,
        },
    );
    let mut scan = Scan::new(keys.to_vec(), dir, from, span, PAGE);
    let mut left = plan.last.filter(|_| plan.reverse);
    while let Some(row) = scan.next(conn).await? {
        progress.tick(1);
        after[row.part] = after[row.part].max(row.entry.id);
        if !plan.wanted(&row.entry) {
            continue;
        }
        if !out.print(&row) || left.is_some_and(|n| n <= 1) {
            break;
        }
        left = left.map(|n| n - 1);
    }
    Ok(after)
}

/// Where following starts on each partition when nothing was read there:
/// just before the range's start (entries from there on were all read).
fn follow_starts(keys: &[String], lo: Option<EntryId>) -> Vec<EntryId> {
    let start = lo.and_then(EntryId::prev).unwrap_or(EntryId::ZERO);
    vec![start; keys.len()]
}

/// The oldest and newest of the `n` newest wanted entries (a first walk,
/// newest first, that keeps nothing), so they can then be printed oldest
/// first without holding them all; `None` when none is wanted.
async fn newest(
    conn: &mut Conn,
    keys: &[String],
    plan: &Plan,
    n: u64,
    progress: &mut Progress,
) -> Result<Option<(Cursor, Cursor)>, RedisFailure> {
    let mut scan = Scan::new(
        keys.to_vec(),
        Direction::Older,
        Bound::Edge,
        plan.span,
        PAGE,
    );
    let (mut first, mut last, mut seen) = (None, None, 0);
    while seen < n {
        let Some(row) = scan.next(conn).await? else {
            break;
        };
        progress.tick(0);
        if plan.wanted(&row.entry) {
            first = first.or(Some(row.cursor()));
            last = Some(row.cursor());
            seen += 1;
        }
    }
    Ok(last.zip(first))
}

/// After the range: XREAD BLOCK from the last id seen on each partition,
/// one task and one connection per partition (a blocked read holds up its
/// socket), until Ctrl-C, `--count`, or stdout closes.
async fn follow(
    connector: &Connector,
    keys: &[String],
    after: Vec<EntryId>,
    plan: &Plan,
    out: &mut Printer,
) -> Result<(), Failure> {
    let cancel = shutdown_on_signal();
    let (tx, mut rx) = mpsc::channel::<Result<Vec<Row>, RedisFailure>>(16);
    let mut tasks = Vec::new();
    for (part, (key, from)) in keys.iter().zip(after).enumerate() {
        let conn = connector.blocking_conn(format!("read:follow:{part}"), FOLLOW_BLOCK);
        let reader = follow_part(conn, key.clone(), part, from, tx.clone(), cancel.clone());
        tasks.push(tokio::spawn(reader));
    }
    drop(tx);
    let result = loop {
        let batch = tokio::select! {
            () = cancel.cancelled() => break Ok(()),
            batch = rx.recv() => batch,
        };
        match batch {
            None => break Ok(()),
            Some(Err(e)) => break Err(e.into()),
            Some(Ok(rows)) => {
                let more = rows
                    .iter()
                    .filter(|r| plan.wanted(&r.entry))
                    .all(|r| out.print(r));
                out.flush();
                if !more || out.done() {
                    break Ok(());
                }
            }
        }
    };
    cancel.cancel();
    for t in tasks {
        t.abort();
    }
    result
}

/// Read one partition's new entries and hand them over, retrying a lost
/// connection with backoff; an error no retry mends ends the follow.
async fn follow_part(
    mut conn: Conn,
    key: String,
    part: usize,
    mut after: EntryId,
    tx: mpsc::Sender<Result<Vec<Row>, RedisFailure>>,
    cancel: CancellationToken,
) {
    let block_ms = u64::try_from(FOLLOW_BLOCK.as_millis()).unwrap_or(2000);
    while !cancel.is_cancelled() {
        match xread_raw(&mut conn, &key, after, PAGE, block_ms).await {
            Ok(entries) if entries.is_empty() => {}
            Ok(entries) => {
                after = entries.last().map_or(after, |e| e.id);
                let rows = entries.into_iter().map(|entry| Row { part, entry });
                if tx.send(Ok(rows.collect())).await.is_err() {
                    return;
                }
            }
            Err(e) if e.is_fatal() => {
                let _ = tx.send(Err(e)).await;
                return;
            }
            Err(e) => {
                tracing::warn!(%key, error = %e, "read --follow: retrying");
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(conn.next_backoff()) => {}
                }
            }
        }
    }
}

/// Lines to stdout, buffered, stopping quietly when the reader goes away
/// (`| head`) or `--count` is reached.
struct Printer {
    stream: String,
    /// The partition keys, when there are several (each line names its own).
    keys: Option<Vec<String>>,
    json: bool,
    tz: TimeZone,
    buf: Vec<u8>,
    printed: u64,
    limit: Option<u64>,
    closed: bool,
}

impl Printer {
    fn new(stream: &str, keys: &[String], json: bool, tz: TimeZone, limit: Option<u64>) -> Self {
        Self {
            stream: stream.to_owned(),
            keys: (keys.len() > 1).then(|| keys.to_vec()),
            json,
            tz,
            buf: Vec::with_capacity(FLUSH_AT * 2),
            printed: 0,
            limit,
            closed: false,
        }
    }

    /// Print one entry; false once nothing more should be printed.
    fn print(&mut self, row: &Row) -> bool {
        if self.done() {
            return false;
        }
        let key = self.keys.as_ref().map(|k| k[row.part].as_str());
        let (id, fields) = (row.entry.id, &row.entry.fields);
        if self.json {
            push_json_line(&mut self.buf, key.unwrap_or(&self.stream), id, fields);
        } else {
            self.buf
                .extend_from_slice(table_line(key, id, fields, &self.tz).as_bytes());
            self.buf.push(b'\n');
        }
        self.printed += 1;
        if self.buf.len() >= FLUSH_AT {
            self.flush();
        }
        !self.done()
    }

    fn done(&self) -> bool {
        self.closed || self.limit.is_some_and(|n| self.printed >= n)
    }

    fn flush(&mut self) {
        if self.buf.is_empty() || self.closed {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        let written = stdout.write_all(&self.buf).and_then(|()| stdout.flush());
        self.closed = !noted(written);
        self.buf.clear();
    }
}

/// A progress bar on stderr for a scan that runs long, only on a terminal.
struct Progress {
    bar: Option<ProgressBar>,
    /// The entries the range holds, when it is the whole stream.
    total: Option<u64>,
    started: Instant,
    seen: u64,
    on_terminal: bool,
}

impl Progress {
    async fn new(conn: &mut Conn, keys: &[String], plan: &Plan) -> Self {
        let on_terminal = stderr_is_terminal();
        let whole = plan.span == Span::default() && plan.last.is_none();
        let mut total = None;
        if on_terminal && whole {
            let mut sum = 0;
            for key in keys {
                sum += xlen(conn, key).await.unwrap_or(0);
            }
            total = Some(sum);
        }
        Self {
            bar: None,
            total,
            started: Instant::now(),
            seen: 0,
            on_terminal,
        }
    }

    /// `n` more entries read (0: a step of the first walk of `--last`).
    fn tick(&mut self, n: u64) {
        self.seen += n.max(1);
        if !self.on_terminal || !self.seen.is_multiple_of(1000) {
            return;
        }
        if self.bar.is_none() && self.started.elapsed() >= PROGRESS_AFTER {
            self.bar = Some(self.make_bar());
        }
        if let Some(bar) = &self.bar {
            bar.set_position(self.seen);
        }
    }

    fn make_bar(&self) -> ProgressBar {
        let (bar, template) = match self.total {
            Some(t) => (
                ProgressBar::new(t),
                "{spinner} {pos}/{len} entries  {per_sec}  {elapsed_precise}",
            ),
            None => (
                ProgressBar::new_spinner(),
                "{spinner} {pos} entries read  {per_sec}  {elapsed_precise}",
            ),
        };
        let style =
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
