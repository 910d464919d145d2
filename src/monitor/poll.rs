//! One poll: up to three pipelined round trips with a bounded number of
//! commands.
//!
//! Round 1: XINFO STREAM, XINFO GROUPS. Round 2, per group (at most
//! [`MAX_GROUPS`]): XINFO CONSUMERS, XPENDING - + 1 (oldest pending, for
//! its idle time), XRANGE (last-delivered + COUNT 1 (time lag), and for the
//! group on screen one XPENDING page. XPENDING's IDLE option is never used:
//! it walks the PEL until COUNT matches. The XPENDING summary is not sent:
//! its figures are in XINFO GROUPS and CONSUMERS and the oldest entry. The
//! oldest-pending and time-lag commands are skipped when the poll already
//! knows their answer (see [`Plan`]): at most 4 commands per group.
//! Round 3, for the diagnosis: one XPENDING - + 1 <consumer> per consumer
//! holding entries (its oldest pending entry's idle time), at most
//! [`MAX_PROBES`] per poll, the group on screen first and the others in
//! rotation; skipped for a consumer that owns its group's oldest entry
//! (round 2 read it), and the round is not sent when nobody holds entries.

use crate::monitor::dangling;
use crate::monitor::snapshot::{GroupSnapshot, Snapshot};
use crate::redis::id::now_ms;
use crate::redis::reply::{checked, entries};
use crate::redis::{
    Conn, ConsumerInfo, EntryId, PendingSummary, RedisFailure, is_no_such_key, parse_consumers,
    parse_groups, parse_pending_range, parse_stream_info, xinfo_consumers_cmd, xinfo_groups_cmd,
    xinfo_stream_cmd, xpending_range_cmd, xrange_cmd,
};

/// Groups polled in detail; more are counted, not fetched.
pub const MAX_GROUPS: usize = 16;
/// Largest PEL page the poller fetches.
pub const MAX_PAGE: usize = 200;
/// Consumers whose oldest pending entry one poll reads (one XPENDING - + 1
/// <consumer> each); more are read in rotation, this many per poll.
pub const MAX_PROBES: usize = 32;

/// Which page of which group's PEL to fetch with the snapshot. The group
/// is always polled in detail, even past [`MAX_GROUPS`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PelQuery {
    pub group: String,
    /// Start of the page (inclusive); `None` is the PEL's start.
    pub start: Option<EntryId>,
    /// Entries of the page; 0 fetches no page (the group is still detailed).
    pub count: usize,
    pub consumer: Option<String>,
}

/// Poll `key` once. `page` asks for a PEL page of one group; consumers
/// are judged by the default `--stuck-after` ([`poll_once_with`]).
pub async fn poll_once(
    conn: &mut Conn,
    key: &str,
    page: Option<&PelQuery>,
) -> Result<Snapshot, RedisFailure> {
    let stuck = crate::monitor::diagnosis::DEFAULT_STUCK_AFTER_MS;
    poll_once_with(conn, key, page, stuck).await
}

/// Poll `key` once. `page` asks for a PEL page of one group;
/// `stuck_after_ms` is the diagnosis's threshold (round 3 is skipped for a
/// group none of whose entries can be that idle).
pub async fn poll_once_with(
    conn: &mut Conn,
    key: &str,
    page: Option<&PelQuery>,
    stuck_after_ms: u64,
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
        Err(e) => return Err(e.naming_key(Some(key.as_bytes()))),
    }
    let mut groups = parse_groups(checked(groups_v)?)?;
    detail_first(&mut groups, page);
    snap.more_groups = groups.split_off(groups.len().min(MAX_GROUPS));
    snap.groups_omitted = snap.more_groups.len();
    let last_generated = snap.stream.as_ref().and_then(|s| s.last_generated_id);
    snap.groups = poll_groups(conn, key, groups, page, last_generated, &mut snap.commands).await?;
    let probes = Probes {
        wanted: page.map(|q| q.group.as_str()),
        turn: usize::try_from(now_ms() / 1000).unwrap_or(0),
        stuck_after_ms,
    };
    probe_consumers(conn, key, &mut snap.groups, &probes, &mut snap.commands).await?;
    mark_deleted(conn, key, &mut snap).await?;
    snap.taken_ms = now_ms();
    snap.poll_us = elapsed_us(started);
    Ok(snap)
}

/// The group on screen is polled in detail wherever XINFO GROUPS lists it:
/// past the cap, it takes the last detailed place.
fn detail_first(groups: &mut [crate::redis::GroupInfo], page: Option<&PelQuery>) {
    let wanted = page.and_then(|q| groups.iter().position(|g| g.name == q.group));
    if let Some(i) = wanted.filter(|i| *i >= MAX_GROUPS) {
        groups.swap(i, MAX_GROUPS - 1);
    }
}

/// What round 2 asks about one group. Every command costs the server
/// 5-30 us when polled once a second (cold caches, measured with
/// scripts/poll-cost.sh) against 1-3 us back to back, so the poll skips
/// those whose answer it already has.
struct Plan {
    /// XPENDING - + 1 for the oldest pending entry, unless the PEL page
    /// starts at the PEL's start (its first row is that entry).
    oldest: bool,
    /// XRANGE after last-delivered for the time lag, unless the group has
    /// been delivered the last id the stream generated (nothing is after it).
    next_undelivered: bool,
}

fn plan(
    g: &crate::redis::GroupInfo,
    page: Option<&PelQuery>,
    last_generated: Option<EntryId>,
) -> Plan {
    let page_from_start =
        page.is_some_and(|q| q.count > 0 && q.start.is_none() && q.consumer.is_none());
    let caught_up = g.last_delivered_id.is_some() && g.last_delivered_id == last_generated;
    Plan {
        oldest: !page_from_start,
        next_undelivered: !caught_up,
    }
}

async fn poll_groups(
    conn: &mut Conn,
    key: &str,
    groups: Vec<crate::redis::GroupInfo>,
    page: Option<&PelQuery>,
    last_generated: Option<EntryId>,
    commands: &mut u32,
) -> Result<Vec<GroupSnapshot>, RedisFailure> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = ::redis::pipe();
    pipe.ignore_errors();
    let mut n = 0;
    for g in &groups {
        let plan = plan(g, page.filter(|q| q.group == g.name), last_generated);
        pipe.add_command(xinfo_consumers_cmd(key, &g.name));
        n += 1;
        if plan.oldest {
            pipe.add_command(xpending_range_cmd(key, &g.name, "-", "+", 1, None));
            n += 1;
        }
        if plan.next_undelivered {
            let after = g
                .last_delivered_id
                .map_or_else(|| "-".to_owned(), |id| format!("({id}"));
            pipe.add_command(xrange_cmd(key, &after, "+", 1));
            n += 1;
        }
        if let Some(q) = page.filter(|q| q.group == g.name && q.count > 0) {
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
        let plan = plan(&info, page.filter(|q| q.group == info.name), last_generated);
        let consumers = parse_consumers(checked(next()?)?)?;
        let mut oldest_pending = if plan.oldest {
            parse_pending_range(checked(next()?)?)?.into_iter().next()
        } else {
            None
        };
        let next_undelivered = if plan.next_undelivered {
            entries(checked(next()?)?)?.first().map(|e| e.id)
        } else {
            None
        };
        let pel_page = match page.filter(|q| q.group == info.name && q.count > 0) {
            Some(_) => Some(parse_pending_range(checked(next()?)?)?),
            None => None,
        };
        if !plan.oldest {
            oldest_pending = pel_page.as_ref().and_then(|p| p.first().cloned());
        }
        let pending = summary(&info, &consumers, oldest_pending.as_ref());
        out.push(GroupSnapshot {
            info,
            consumers,
            pending,
            oldest_pending,
            next_undelivered,
            pel_page,
            oldest_by_consumer: std::collections::BTreeMap::new(),
            poison: None,
            deleted_in_page: Vec::new(),
            deleted_pending: None,
        });
    }
    Ok(out)
}

/// What round 3 is for: the group on screen, the rotation's turn, and the
/// threshold a consumer's oldest entry is judged by.
struct Probes<'a> {
    wanted: Option<&'a str>,
    turn: usize,
    stuck_after_ms: u64,
}

/// Whether any entry of `g` can have been idle `stuck_after_ms`: an
/// entry is delivered after it is added, and its id says when that was,
/// so none can be idle longer than the oldest pending id is old (ids
/// given by hand in the future would hide a stuck entry).
fn may_be_stuck(g: &GroupSnapshot, stuck_after_ms: u64) -> bool {
    g.pending
        .min
        .is_some_and(|id| id.age_ms(now_ms()) >= stuck_after_ms)
}

/// Which consumers round 3 asks about, as (group index, consumer): those
/// holding entries whose oldest the poll does not know, in groups where
/// one may be stuck, the group on screen's first, then a window of the
/// rest that moves on each turn, [`MAX_PROBES`] in all.
fn choose_probes(groups: &[GroupSnapshot], p: &Probes) -> Vec<(usize, String)> {
    let (wanted, turn) = (p.wanted, p.turn);
    let unknown = |(i, g): (usize, &GroupSnapshot)| {
        let worth = may_be_stuck(g, p.stuck_after_ms);
        g.consumers
            .iter()
            .filter(move |c| worth && c.pending > 0 && g.oldest_pending_of(&c.name).is_none())
            .map(move |c| (i, c.name.clone()))
            .collect::<Vec<_>>()
    };
    let on_screen = |g: &GroupSnapshot| Some(g.info.name.as_str()) == wanted;
    let mut first: Vec<(usize, String)> = groups
        .iter()
        .enumerate()
        .filter(|(_, g)| on_screen(g))
        .flat_map(unknown)
        .collect();
    first.truncate(MAX_PROBES);
    let rest: Vec<(usize, String)> = groups
        .iter()
        .enumerate()
        .filter(|(_, g)| !on_screen(g))
        .flat_map(unknown)
        .collect();
    let room = MAX_PROBES - first.len();
    if rest.len() <= room {
        first.extend(rest);
    } else {
        let start = turn.wrapping_mul(room) % rest.len();
        first.extend(rest.iter().cycle().skip(start).take(room).cloned());
    }
    first
}

/// Round 3: each chosen consumer's oldest pending entry.
async fn probe_consumers(
    conn: &mut Conn,
    key: &str,
    groups: &mut [GroupSnapshot],
    p: &Probes<'_>,
    commands: &mut u32,
) -> Result<(), RedisFailure> {
    let probes = choose_probes(groups, p);
    if probes.is_empty() {
        return Ok(());
    }
    let mut pipe = ::redis::pipe();
    pipe.ignore_errors();
    for (i, name) in &probes {
        let group = &groups[*i].info.name;
        pipe.add_command(xpending_range_cmd(key, group, "-", "+", 1, Some(name)));
    }
    let replies = conn
        .run_pipeline(&pipe, "XPENDING", false, probes.len())
        .await?;
    *commands += u32::try_from(probes.len()).unwrap_or(u32::MAX);
    for ((i, name), reply) in probes.into_iter().zip(&replies) {
        // A consumer deleted between rounds answers with an empty page.
        if let Some(p) = parse_pending_range(checked(reply)?)?.into_iter().next() {
            groups[i].oldest_by_consumer.insert(name, p);
        }
    }
    Ok(())
}

/// Mark the ids of the PEL page whose entry is gone: free when XINFO
/// STREAM's figures tell; a few XRANGE id id otherwise (see
/// [`crate::monitor::dangling`]).
async fn mark_deleted(conn: &mut Conn, key: &str, snap: &mut Snapshot) -> Result<(), RedisFailure> {
    let Some(info) = snap.stream.clone() else {
        return Ok(());
    };
    for g in &mut snap.groups {
        let Some(page) = &g.pel_page else { continue };
        let ids: Vec<EntryId> = page.iter().map(|p| p.id).collect();
        let (flags, checked) = dangling::deleted_flags(conn, key, &info, &ids).await?;
        snap.commands += u32::try_from(checked).unwrap_or(u32::MAX);
        g.deleted_in_page = ids
            .into_iter()
            .zip(flags)
            .filter(|(_, f)| *f == Some(true))
            .map(|(id, _)| id)
            .collect();
    }
    Ok(())
}

/// The XPENDING summary's figures from replies the poll has anyway: the
/// PEL's size (XINFO GROUPS), each consumer's share (XINFO CONSUMERS) and
/// the oldest entry. The newest pending id (`max`) is not known.
fn summary(
    info: &crate::redis::GroupInfo,
    consumers: &[ConsumerInfo],
    oldest: Option<&crate::redis::PendingEntry>,
) -> PendingSummary {
    PendingSummary {
        count: info.pending,
        min: oldest.map(|p| p.id),
        max: None,
        consumers: consumers
            .iter()
            .filter(|c| c.pending > 0)
            .map(|c| (c.name.clone(), c.pending))
            .collect(),
    }
}

fn elapsed_us(since: std::time::Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::GroupInfo;

    fn id(ms: u64) -> Option<EntryId> {
        Some(EntryId { ms, seq: 0 })
    }

    #[test]
    fn skips_commands_whose_answer_the_poll_already_has() {
        let g = GroupInfo {
            name: "g".into(),
            last_delivered_id: id(5),
            ..GroupInfo::default()
        };
        let from_start = PelQuery {
            group: "g".into(),
            count: 10,
            ..PelQuery::default()
        };
        let p = plan(&g, Some(&from_start), id(9));
        assert!(!p.oldest && p.next_undelivered);
        // A page further in, or filtered by consumer, does not show the oldest.
        let later = PelQuery {
            start: id(3),
            ..from_start.clone()
        };
        assert!(plan(&g, Some(&later), id(9)).oldest);
        let filtered = PelQuery {
            consumer: Some("c".into()),
            ..from_start
        };
        assert!(plan(&g, Some(&filtered), id(9)).oldest);
        // Delivered up to the last generated id: nothing undelivered to date.
        assert!(!plan(&g, None, id(5)).next_undelivered);
        assert!(plan(&g, None, None).next_undelivered);
        let never = GroupInfo {
            last_delivered_id: None,
            ..g
        };
        assert!(plan(&never, None, None).next_undelivered);
    }

    #[test]
    fn the_group_on_screen_is_polled_in_detail_wherever_it_is_listed() {
        let mut groups: Vec<GroupInfo> = (0..MAX_GROUPS + 4)
            .map(|i| GroupInfo {
                name: format!("g{i}"),
                ..GroupInfo::default()
            })
            .collect();
        let wanted = PelQuery {
            group: format!("g{}", MAX_GROUPS + 2),
            ..PelQuery::default()
        };
        detail_first(&mut groups, Some(&wanted));
        assert_eq!(groups[MAX_GROUPS - 1].name, wanted.group);
        assert_eq!(groups[0].name, "g0", "the others keep their places");
        // One already among the detailed stays where it is.
        let early = PelQuery {
            group: "g3".into(),
            ..PelQuery::default()
        };
        detail_first(&mut groups, Some(&early));
        assert_eq!(groups[3].name, "g3");
    }

    /// Consumers holding entries are probed only in a group whose oldest
    /// pending entry is old enough to be stuck, the group on screen first.
    #[test]
    fn probes_go_where_an_entry_may_be_stuck() {
        let now = now_ms();
        let group = |name: &str, oldest_ms: u64, holders: usize| {
            let mut g = GroupSnapshot::default();
            g.info.name = name.into();
            g.pending.min = Some(EntryId {
                ms: oldest_ms,
                seq: 0,
            });
            g.consumers = (0..holders)
                .map(|i| ConsumerInfo {
                    name: format!("{name}-c{i}"),
                    pending: 1,
                    ..ConsumerInfo::default()
                })
                .collect();
            g
        };
        let groups = vec![
            group("fresh", now - 1_000, 3),
            group("old", now - 600_000, 2),
            group("screen", now - 600_000, 40),
        ];
        let p = Probes {
            wanted: Some("screen"),
            turn: 0,
            stuck_after_ms: 300_000,
        };
        let chosen = choose_probes(&groups, &p);
        assert_eq!(chosen.len(), MAX_PROBES);
        assert!(
            chosen.iter().all(|(i, _)| *i == 2),
            "the group on screen fills the cap"
        );
        let fewer = vec![
            group("fresh", now - 1_000, 3),
            group("old", now - 600_000, 2),
        ];
        let chosen = choose_probes(&fewer, &Probes { wanted: None, ..p });
        let names: Vec<&str> = chosen.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(
            names,
            ["old-c0", "old-c1"],
            "none in a group too young to be stuck"
        );
    }

    #[test]
    fn the_summary_comes_from_groups_consumers_and_the_oldest_entry() {
        let g = GroupInfo {
            pending: 7,
            ..GroupInfo::default()
        };
        let consumer = |name: &str, pending| ConsumerInfo {
            name: name.into(),
            pending,
            ..ConsumerInfo::default()
        };
        let oldest = crate::redis::PendingEntry {
            id: EntryId { ms: 3, seq: 1 },
            consumer: "a".into(),
            idle_ms: 10,
            deliveries: 1,
        };
        let s = summary(&g, &[consumer("a", 7), consumer("idle", 0)], Some(&oldest));
        assert_eq!(s.count, 7);
        assert_eq!(s.min, Some(oldest.id));
        assert_eq!(s.consumers, vec![("a".to_owned(), 7)]);
        assert_eq!(summary(&g, &[], None).min, None);
    }
}
