//! `streamlab pending list|ack|claim|requeue|dead-letter`: a group's
//! pending entries, selected by consumer, idle time, deliveries or ids
//! (read from the PEL 500 at a time, never with XPENDING's IDLE), listed
//! or repaired (`engine/repair.rs`). A writing subcommand prints the exact
//! commands with `--dry-run` (read-only, nothing sent), and otherwise asks
//! on the terminal unless `--yes`; with no terminal to ask on it refuses
//! before connecting (exit 2), so nothing is sent.

use std::io::{BufRead, IsTerminal, Write as _};

use serde_json::json;

use crate::cli::{GlobalArgs, PendingAction, PendingArgs, PendingSelect, PendingWrite};
use crate::engine::repair::{self, Repair, Repaired};
use crate::failure::{ExitKind, Failure};
use crate::monitor::pel_walk::{PendingFilter, Selector, deleted_flags};
use crate::output::fmt;
use crate::redis::{
    Conn, EntryId, PendingEntry, RedisFailure, StreamInfo, parse_groups, xinfo_stream,
};
use crate::setup::session::Session;
use crate::setup::streams::resolve_stream;

/// The reason a dead letter written by this command carries.
pub const BY_COMMAND: &str = "dead-lettered by hand (streamlab pending dead-letter)";
/// Entries per repair batch (one XACK or XCLAIM, or five MULTIs).
const BATCH: usize = 500;
/// Commands a confirmation shows before "... and N more".
const PREVIEW: usize = 8;

/// What the subcommand does, once its flags are read.
struct Job {
    select: PendingFilter,
    count: Option<usize>,
    /// `None`: list.
    repair: Option<Repair>,
    write: Option<PendingWrite>,
    json: bool,
    /// `--ids -`: stdin holds the ids, so it cannot answer a question.
    ids_from_stdin: bool,
    /// `--deleted`: only entries whose stream entry is gone.
    only_deleted: bool,
}

pub async fn run(global: &GlobalArgs, args: &PendingArgs) -> Result<(), Failure> {
    let job = job(&args.action)?;
    refuse_unconfirmable(&job)?;
    let session = Session::open(global).await?;
    let writes = job.write.as_ref().is_some_and(|w| !w.dry_run);
    let connector = if writes {
        session.connector.clone()
    } else {
        session.connector.read_only()
    };
    let layout = resolve_stream(&connector, &global.stream).await?;
    let mut conn = connector.conn("pending");
    let group = global.group();
    let prefix = layout.is_partitioned();
    for key in &layout.partitions {
        let info = check_group(&mut conn, key, &group).await?;
        let target = Target {
            key,
            group: &group,
            shown: prefix,
        };
        match &job.repair {
            None => list(&mut conn, &target, info.as_ref(), &job).await?,
            Some(repair) => fix(&mut conn, &target, info.as_ref(), repair, &job).await?,
        }
    }
    Ok(())
}

/// The stream key and group acted on; `shown` names the key in the output
/// (a partitioned stream's partitions).
struct Target<'a> {
    key: &'a str,
    group: &'a str,
    shown: bool,
}

fn job(action: &PendingAction) -> Result<Job, Failure> {
    let (select, repair, write, json) = match action {
        PendingAction::List { select, json } => (select, None, None, *json),
        PendingAction::Ack { select, write } => (select, Some(Repair::Ack), Some(write), false),
        PendingAction::Claim { select, to, write } => {
            let min_idle_ms = select.min_idle.map_or(0, millis);
            let claim = Repair::Claim {
                to: to.clone(),
                min_idle_ms,
            };
            (select, Some(claim), Some(write), false)
        }
        PendingAction::Requeue {
            select,
            json,
            write,
        } => (select, Some(Repair::Requeue), Some(write), *json),
        PendingAction::DeadLetter { select, write } => {
            let error = BY_COMMAND.to_owned();
            (
                select,
                Some(Repair::DeadLetter { error }),
                Some(write),
                false,
            )
        }
    };
    let ids_from_stdin = select.ids.as_deref() == Some("-");
    refuse_deleted_with_data(select, repair.as_ref())?;
    Ok(Job {
        select: filter(select)?,
        count: select
            .count
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        repair,
        write: write.cloned(),
        json,
        ids_from_stdin,
        only_deleted: select.deleted,
    })
}

/// `--deleted` selects entries whose data is gone: acking them is the way
/// out, while claiming, requeueing or dead-lettering one has nothing to
/// deliver or copy.
fn refuse_deleted_with_data(
    select: &PendingSelect,
    repair: Option<&Repair>,
) -> Result<(), Failure> {
    if !select.deleted || matches!(repair, None | Some(Repair::Ack)) {
        return Ok(());
    }
    Err(Failure::usage(
        "--deleted selects entries whose data is gone: use it with `pending list` or `pending ack`",
    ))
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn filter(s: &PendingSelect) -> Result<PendingFilter, Failure> {
    let ids = match s.ids.as_deref() {
        None => None,
        Some("-") => Some(parse_ids(&read_stdin()?)?),
        Some(list) => Some(parse_ids(list)?),
    };
    Ok(PendingFilter {
        consumer: s.consumer.clone(),
        min_idle_ms: s.min_idle.map_or(0, millis),
        min_deliveries: s.min_deliveries.unwrap_or(0),
        ids,
    })
}

fn read_stdin() -> Result<String, Failure> {
    let mut text = String::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| Failure::usage(format!("--ids -: cannot read stdin: {e}")))?;
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

/// Ids separated by commas or white space, each `ms-seq` (or `ms`).
pub fn parse_ids(text: &str) -> Result<Vec<EntryId>, Failure> {
    let ids: Vec<EntryId> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| {
            EntryId::from_canonical(t.as_bytes())
                .or_else(|| t.parse::<u64>().ok().map(|ms| EntryId { ms, seq: 0 }))
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "--ids: '{t}' is not an entry id: write ids like 1712345678901-0, separated by commas"
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(Failure::usage(
            "--ids: no id given: write ids like 1712345678901-0, separated by commas (or - to read them from stdin)",
        ));
    }
    Ok(ids)
}

/// A writing subcommand with nobody to ask: refused before anything is
/// sent, with the two ways on.
fn refuse_unconfirmable(job: &Job) -> Result<(), Failure> {
    let Some(w) = &job.write else { return Ok(()) };
    if w.dry_run || w.yes {
        return Ok(());
    }
    let verb = job.repair.as_ref().map_or("", Repair::done_word);
    let why = if job.ids_from_stdin {
        "stdin holds the ids (--ids -), so nothing can ask for confirmation"
    } else if std::io::stdin().is_terminal() {
        return Ok(());
    } else {
        "stdin is not a terminal, so nothing can ask for confirmation"
    };
    Err(Failure::usage(format!(
        "nothing {verb}: {why}; add --yes to send the commands, or --dry-run to print them (nothing was sent)"
    )))
}

/// The stream's figures, after checking that `group` exists (an unknown
/// group is an error naming those that do).
async fn check_group(
    conn: &mut Conn,
    key: &str,
    group: &str,
) -> Result<Option<StreamInfo>, Failure> {
    let Some(info) = xinfo_stream(conn, key).await? else {
        return Err(Failure::usage(format!(
            "stream '{key}' does not exist: check --stream"
        )));
    };
    let groups = conn
        .run(&crate::redis::xinfo_groups_cmd(key), "XINFO GROUPS", false)
        .await?;
    let names: Vec<String> = parse_groups(&groups)?.into_iter().map(|g| g.name).collect();
    if names.iter().any(|n| n == group) {
        return Ok(Some(info));
    }
    let has = if names.is_empty() {
        "it has no consumer groups".to_owned()
    } else {
        format!("its groups: {}", names.join(", "))
    };
    Err(Failure::usage(format!(
        "--group {group}: stream '{key}' has no such group ({has})"
    )))
}

/// Every matching entry, `--count` at most, read a page at a time.
async fn selected(
    conn: &mut Conn,
    target: &Target<'_>,
    info: Option<&StreamInfo>,
    job: &Job,
) -> Result<Vec<PendingEntry>, RedisFailure> {
    let mut sel = Selector::new(target.key, target.group, job.select.clone());
    let mut all = Vec::new();
    let limit = job.count.unwrap_or(usize::MAX);
    while all.len() < limit {
        let Some(page) = sel.next_page(conn).await? else {
            break;
        };
        let mut page = if job.only_deleted {
            only_deleted(conn, target.key, info, page).await?
        } else {
            page
        };
        page.truncate(limit - all.len());
        all.extend(page);
    }
    for id in &sel.not_pending {
        crate::stderr_line!("{id} is not pending in group {}", target.group);
    }
    Ok(all)
}

async fn list(
    conn: &mut Conn,
    target: &Target<'_>,
    info: Option<&StreamInfo>,
    job: &Job,
) -> Result<(), Failure> {
    let mut sel = Selector::new(target.key, target.group, job.select.clone());
    let limit = job.count.unwrap_or(usize::MAX);
    let mut listed = 0;
    while listed < limit {
        let Some(page) = sel.next_page(conn).await? else {
            break;
        };
        let (mut page, deleted) = if job.only_deleted {
            let page = only_deleted(conn, target.key, info, page).await?;
            let flags = vec![Some(true); page.len()];
            (page, flags)
        } else {
            let ids: Vec<EntryId> = page.iter().map(|p| p.id).collect();
            let flags = deleted_flags(conn, target.key, info, &ids, usize::MAX).await?;
            (page, flags)
        };
        page.truncate(limit - listed);
        for (p, gone) in page.iter().zip(deleted) {
            print_entry(target, p, gone.unwrap_or(false), job.json);
        }
        listed += page.len();
        if crate::output::stdout::closed() {
            return Ok(());
        }
    }
    for id in &sel.not_pending {
        crate::stderr_line!("{id} is not pending in group {}", target.group);
    }
    if listed == 0 && !job.json {
        crate::stderr_line!("no pending entry of group {} matches", target.group);
    }
    Ok(())
}

/// The entries of `page` whose stream entry is gone (every one is asked,
/// as `pending list` does).
async fn only_deleted(
    conn: &mut Conn,
    key: &str,
    info: Option<&StreamInfo>,
    page: Vec<PendingEntry>,
) -> Result<Vec<PendingEntry>, RedisFailure> {
    let ids: Vec<EntryId> = page.iter().map(|p| p.id).collect();
    let flags = deleted_flags(conn, key, info, &ids, usize::MAX).await?;
    Ok(page
        .into_iter()
        .zip(flags)
        .filter(|(_, gone)| *gone == Some(true))
        .map(|(p, _)| p)
        .collect())
}

fn print_entry(target: &Target<'_>, p: &PendingEntry, deleted: bool, json: bool) {
    if json {
        let mut v = json!({
            "id": p.id.to_string(),
            "consumer": p.consumer,
            "idle_ms": p.idle_ms,
            "deliveries": p.deliveries,
            "deleted": deleted,
        });
        if target.shown {
            v["stream"] = target.key.into();
        }
        crate::stdout_line!("{v}");
        return;
    }
    let on = if target.shown {
        format!("{}  ", target.key)
    } else {
        String::new()
    };
    let gone = if deleted { "  deleted" } else { "" };
    crate::stdout_line!(
        "{on}{}  {}  idle {}  deliveries {}{gone}",
        p.id,
        p.consumer,
        fmt::age(p.idle_ms),
        p.deliveries
    );
}

async fn fix(
    conn: &mut Conn,
    target: &Target<'_>,
    info: Option<&StreamInfo>,
    repair: &Repair,
    job: &Job,
) -> Result<(), Failure> {
    let entries = selected(conn, target, info, job).await?;
    let (key, group) = (target.key, target.group);
    if entries.is_empty() {
        crate::stderr_line!("no pending entry of group {group} on {key} matches: nothing to send");
        return Ok(());
    }
    let dry_run = job.write.as_ref().is_some_and(|w| w.dry_run);
    if dry_run {
        for batch in entries.chunks(BATCH) {
            for line in repair::planned(conn, key, group, repair, batch).await? {
                crate::stdout_line!("{line}");
            }
        }
        return Ok(());
    }
    if !job.write.as_ref().is_some_and(|w| w.yes) {
        confirm(conn, target, repair, &entries).await?;
    }
    let mut done = Repaired::default();
    for batch in entries.chunks(BATCH) {
        let r = repair::apply(conn, key, group, repair, batch).await?;
        if job.json {
            for (from, to) in &r.moved {
                crate::stdout_line!(
                    "{}",
                    json!({"from": from.to_string(), "to": to.to_string()})
                );
            }
        }
        done.add(r);
    }
    report(target, repair, &done, job);
    Ok(())
}

/// Ask on the terminal: how many entries, and the commands (the first
/// few); anything but `y` sends nothing.
async fn confirm(
    conn: &mut Conn,
    target: &Target<'_>,
    repair: &Repair,
    entries: &[PendingEntry],
) -> Result<(), Failure> {
    let preview = &entries[..entries.len().min(PREVIEW)];
    let lines = repair::planned(conn, target.key, target.group, repair, preview).await?;
    let mut text = format!(
        "{} of group {} on {} would be {}, with:\n",
        crate::words::entries(entries.len() as u64),
        target.group,
        target.key,
        repair.done_word()
    );
    for line in lines.iter().take(PREVIEW * 4) {
        text.push_str(&format!("  {}\n", fmt::cut(line, 160)));
    }
    if entries.len() > preview.len() {
        text.push_str(&format!(
            "  ... and the same for {} more\n",
            crate::words::entries((entries.len() - preview.len()) as u64)
        ));
    }
    text.push_str("Send? [y/N] ");
    let answer = tokio::task::spawn_blocking(move || {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
        let _ = err.flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await
    .map_err(|e| Failure::runtime(format!("the question could not be asked: {e}")))?
    .unwrap_or_default();
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        return Ok(());
    }
    Err(Failure::new(
        ExitKind::Runtime,
        "not confirmed: nothing was sent",
    ))
}

fn report(target: &Target<'_>, repair: &Repair, done: &Repaired, job: &Job) {
    let (key, group) = (target.key, target.group);
    let what = match repair {
        Repair::Ack if job.only_deleted && done.done == 1 => {
            format!("its id left the PEL of {group}; its entry was already gone from {key}")
        }
        Repair::Ack if job.only_deleted => {
            format!("their ids left the PEL of {group}; their entries were already gone from {key}")
        }
        Repair::Ack => format!("they left the PEL of {group} and stay in {key}"),
        Repair::Claim { to, .. } => format!("{to} owns them now (delivery counts +1)"),
        Repair::Requeue => format!(
            "each added again to {key} as a new entry and the original acked: readers of `>` get them"
        ),
        Repair::DeadLetter { .. } => format!(
            "copied to {} with the reason, and acked",
            crate::engine::dead_key(key)
        ),
    };
    let line = format!(
        "{} {}: {what}",
        repair.done_word(),
        crate::words::entries(done.done)
    );
    // With --json, stdout is the JSON lines; the summary goes to stderr.
    if job.json {
        crate::stderr_line!("{line}");
    } else {
        crate::stdout_line!("{line}");
    }
    if done.not_pending > 0 {
        let dup = if matches!(repair, Repair::Requeue) {
            " (their copies are duplicates)"
        } else {
            ""
        };
        crate::stderr_line!(
            "{} no longer pending when the command ran{dup}",
            crate::words::entries(done.not_pending)
        );
    }
    if !done.gone.is_empty() {
        crate::stderr_line!(
            "{} deleted from the stream while pending: nothing to copy, left pending (`streamlab pending ack --ids ...` drops them)",
            crate::words::entries(done.gone.len() as u64)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_commas_and_lines_and_bad_ones_are_named() {
        let ids = parse_ids("1-0,2-5\n3 4-1\n").unwrap();
        assert_eq!(ids.len(), 4);
        assert_eq!(ids[2], EntryId { ms: 3, seq: 0 });
        let err = parse_ids("1-0,nope").unwrap_err().to_string();
        assert!(err.contains("'nope' is not an entry id"), "{err}");
        assert!(parse_ids(" , ").is_err());
    }
}
