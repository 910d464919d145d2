//! One poll: two pipelined round trips with a fixed number of commands.
//!
//! Round 1: XINFO STREAM, XINFO GROUPS. Round 2, per group (at most
//! [`MAX_GROUPS`]): XINFO CONSUMERS, the XPENDING summary, XPENDING - + 1
//! (oldest pending, for its idle time), XRANGE (last-delivered + COUNT 1
//! (time lag), and for the group on screen one XPENDING page. XPENDING's
//! IDLE option is never used: it walks the PEL until COUNT matches.

use ::redis::Value;

use crate::monitor::snapshot::{GroupSnapshot, Snapshot};
use crate::redis::errors::classify;
use crate::redis::id::now_ms;
use crate::redis::reply::entries;
use crate::redis::{
    Conn, EntryId, RedisFailure, is_no_such_key, parse_consumers, parse_groups,
    parse_pending_range, parse_pending_summary, parse_stream_info, xinfo_consumers_cmd,
    xinfo_groups_cmd, xinfo_stream_cmd, xpending_range_cmd, xpending_summary_cmd, xrange_cmd,
};

/// Groups polled in detail; more are counted, not fetched.
pub const MAX_GROUPS: usize = 16;
/// Largest PEL page the poller fetches.
pub const MAX_PAGE: usize = 200;

/// Which page of which group's PEL to fetch with the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PelQuery {
    pub group: String,
    /// Start of the page (inclusive); `None` is the PEL's start.
    pub start: Option<EntryId>,
    pub count: usize,
    pub consumer: Option<String>,
}

fn checked(v: &Value) -> Result<&Value, RedisFailure> {
    match v {
        Value::ServerError(_) => Err(classify(&v.clone().extract_error().err().unwrap_or_else(
            || ::redis::RedisError::from((::redis::ErrorKind::Parse, "error reply")),
        ))),
        other => Ok(other),
    }
}

/// Poll `key` once. `page` asks for a PEL page of one group.
pub async fn poll_once(
    conn: &mut Conn,
    key: &str,
    page: Option<&PelQuery>,
) -> Result<Snapshot, RedisFailure> {
    let started = std::time::Instant::now();
    let mut pipe = ::redis::pipe();
    pipe.ignore_errors()
        .add_command(xinfo_stream_cmd(key))
        .add_command(xinfo_groups_cmd(key));
    let first = conn.run_pipeline(&pipe, "XINFO", false, 2).await?;
    let mut snap = Snapshot {
        key: key.to_owned(),
        commands: 2,
        ..Snapshot::default()
    };
    let [stream_v, groups_v] = first.as_slice() else {
        return Err(RedisFailure::Reply("poll: expected 2 replies".into()));
    };
    match checked(stream_v) {
        Ok(v) => snap.stream = Some(parse_stream_info(v)?),
        Err(RedisFailure::Server(m)) if is_no_such_key(&m) => {
            snap.taken_ms = now_ms();
            snap.poll_us = elapsed_us(started);
            return Ok(snap);
        }
        Err(e) => return Err(e),
    }
    let mut groups = parse_groups(checked(groups_v)?)?;
    snap.groups_omitted = groups.len().saturating_sub(MAX_GROUPS);
    groups.truncate(MAX_GROUPS);
    snap.groups = poll_groups(conn, key, groups, page, &mut snap.commands).await?;
    snap.taken_ms = now_ms();
    snap.poll_us = elapsed_us(started);
    Ok(snap)
}

async fn poll_groups(
    conn: &mut Conn,
    key: &str,
    groups: Vec<crate::redis::GroupInfo>,
    page: Option<&PelQuery>,
    commands: &mut u32,
) -> Result<Vec<GroupSnapshot>, RedisFailure> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = ::redis::pipe();
    pipe.ignore_errors();
    let mut n = 0;
    for g in &groups {
        let after = g
            .last_delivered_id
            .map_or_else(|| "-".to_owned(), |id| format!("({id}"));
        pipe.add_command(xinfo_consumers_cmd(key, &g.name))
            .add_command(xpending_summary_cmd(key, &g.name))
            .add_command(xpending_range_cmd(key, &g.name, "-", "+", 1, None))
            .add_command(xrange_cmd(key, &after, "+", 1));
        n += 4;
        if let Some(q) = page.filter(|q| q.group == g.name) {
            let start = q.start.map_or_else(|| "-".to_owned(), |id| id.to_string());
            pipe.add_command(xpending_range_cmd(
                key,
                &g.name,
                &start,
                "+",
                q.count.clamp(1, MAX_PAGE),
                q.consumer.as_deref(),
            ));
            n += 1;
        }
    }
    let replies = conn.run_pipeline(&pipe, "XINFO", false, n).await?;
    *commands += u32::try_from(n).unwrap_or(u32::MAX);
    let mut it = replies.iter();
    let mut out = Vec::with_capacity(groups.len());
    for info in groups {
        let mut next = || {
            it.next()
                .ok_or_else(|| RedisFailure::Reply("poll: missing reply".into()))
        };
        let consumers = parse_consumers(checked(next()?)?)?;
        let pending = parse_pending_summary(checked(next()?)?)?;
        let oldest_pending = parse_pending_range(checked(next()?)?)?.into_iter().next();
        let next_undelivered = entries(checked(next()?)?)?.first().map(|e| e.id);
        let pel_page = match page.filter(|q| q.group == info.name) {
            Some(_) => Some(parse_pending_range(checked(next()?)?)?),
            None => None,
        };
        out.push(GroupSnapshot {
            info,
            consumers,
            pending,
            oldest_pending,
            next_undelivered,
            pel_page,
        });
    }
    Ok(out)
}

fn elapsed_us(since: std::time::Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}
