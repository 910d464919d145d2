//! The admin actions that change a stream or its groups for good: trims
//! (MAXLEN, MINID, planned safe), XGROUP SETID / DESTROY and deleting a
//! consumer (after claiming its pending entries, or refusing). Each logs
//! the exact command before sending it and the outcome after, so the log
//! file holds every action.

use ::redis::Cmd;

use super::{ClaimStop, Done, Outcome, PendingOfDeleted, Refusal};
use crate::engine::retention::{self, PlanError, Target};
use crate::redis::{
    Conn, RedisFailure, Retention, TrimMode, command_line, delete_consumer, xclaim,
    xgroup_delconsumer_cmd, xgroup_destroy, xgroup_destroy_cmd, xgroup_setid, xgroup_setid_cmd,
    xpending_range, xtrim, xtrim_cmd,
};

/// Entries per XPENDING + XCLAIM page when moving a consumer's PEL.
const CLAIM_PAGE: usize = 500;
/// Pages at most: a consumer holding more is refused, not half moved.
const CLAIM_PAGES: usize = 20;

/// Log the exact command an admin action is about to send.
pub(super) fn sending(c: &Cmd) -> String {
    let line = command_line(c);
    tracing::info!(command = %line, "admin action: sending");
    line
}

pub(super) async fn trim(
    c: &mut Conn,
    key: &str,
    retention: &Retention,
) -> Result<Outcome, RedisFailure> {
    let line = sending(&xtrim_cmd(key, retention));
    let removed = xtrim(c, key, retention).await?;
    Ok(Outcome::Done(Done::Trimmed {
        command: line,
        removed,
    }))
}

/// A plan for the confirmation; a refusal comes back as a failure that says why.
pub(super) async fn plan_trim(
    c: &mut Conn,
    key: &str,
    target: Target,
    mode: Option<TrimMode>,
) -> Result<Outcome, RedisFailure> {
    match retention::plan(c, key, target).await {
        Ok(plan) => Ok(Outcome::TrimPlan(Box::new(plan.with_mode(mode)))),
        Err(e) => refused(key, e),
    }
}

/// `XTRIM MAXLEN = 0 ACKED` planned for a confirmation.
pub(super) async fn plan_acked_trim(c: &mut Conn, key: &str) -> Result<Outcome, RedisFailure> {
    match retention::plan_acked(c, key).await {
        Ok(plan) => Ok(Outcome::AckedPlan(Box::new(plan))),
        Err(e) => refused(key, e),
    }
}

fn refused(key: &str, e: PlanError) -> Result<Outcome, RedisFailure> {
    match e {
        PlanError::Refused(why) => Ok(Outcome::Refused(Refusal::NoSafeTrim {
            key: key.to_owned(),
            why,
        })),
        PlanError::Redis(e) => Err(e),
    }
}

pub(super) async fn set_id(
    c: &mut Conn,
    key: &str,
    group: &str,
    id: &str,
) -> Result<Outcome, RedisFailure> {
    let line = sending(&xgroup_setid_cmd(key, group, id));
    xgroup_setid(c, key, group, id).await?;
    Ok(Outcome::Done(Done::IdSet {
        command: line,
        group: group.to_owned(),
        id: id.to_owned(),
    }))
}

pub(super) async fn destroy(c: &mut Conn, key: &str, group: &str) -> Result<Outcome, RedisFailure> {
    let line = sending(&xgroup_destroy_cmd(key, group));
    let (command, group) = (line, group.to_owned());
    Ok(if xgroup_destroy(c, key, &group).await? {
        Outcome::Done(Done::GroupDestroyed { command, group })
    } else {
        Outcome::Refused(Refusal::NoSuchGroup { command, group })
    })
}

pub(super) async fn remove_consumer(
    c: &mut Conn,
    key: &str,
    group: &str,
    consumer: &str,
    pending: PendingOfDeleted,
) -> Result<Outcome, RedisFailure> {
    let mut moved = 0;
    match &pending {
        PendingOfDeleted::MustBeNone => {
            let held = xpending_range(c, key, group, "-", "+", 1, Some(consumer)).await?;
            if !held.is_empty() {
                return Ok(Outcome::Refused(Refusal::ConsumerHoldsEntries {
                    consumer: consumer.to_owned(),
                }));
            }
        }
        PendingOfDeleted::ClaimTo(to) => match claim_all(c, key, group, consumer, to).await? {
            Ok(n) => moved = n,
            Err(why) => return Ok(Outcome::Refused(Refusal::ClaimStopped(why))),
        },
        PendingOfDeleted::Drop => {}
    }
    let line = sending(&xgroup_delconsumer_cmd(key, group, consumer));
    let dropped = delete_consumer(c, key, group, consumer).await?;
    let claimed_to = match pending {
        PendingOfDeleted::ClaimTo(to) => Some((to, moved)),
        _ => None,
    };
    Ok(Outcome::Done(Done::ConsumerDeleted {
        command: line,
        consumer: consumer.to_owned(),
        claimed_to,
        dropped,
    }))
}

/// XCLAIM every entry `from` holds to `to`, a page at a time. The inner
/// error says why it stopped (too many, or entries that would not move).
async fn claim_all(
    c: &mut Conn,
    key: &str,
    group: &str,
    from: &str,
    to: &str,
) -> Result<Result<u64, ClaimStop>, RedisFailure> {
    let mut moved = 0;
    for _ in 0..CLAIM_PAGES {
        let page = xpending_range(c, key, group, "-", "+", CLAIM_PAGE, Some(from)).await?;
        if page.is_empty() {
            return Ok(Ok(moved));
        }
        let ids: Vec<_> = page.iter().map(|p| p.id).collect();
        tracing::info!(
            from,
            to,
            entries = ids.len(),
            "admin action: XCLAIM {key} {group} {to} 0 ..."
        );
        xclaim(c, key, group, to, 0, &ids).await?;
        let still = xpending_range(c, key, group, &ids[0].to_string(), "+", 1, Some(from)).await?;
        if still.first().is_some_and(|p| p.id == ids[0]) {
            return Ok(Err(ClaimStop::WouldNotMove {
                id: ids[0],
                to: to.to_owned(),
            }));
        }
        moved += ids.len() as u64;
    }
    Ok(Err(ClaimStop::TooMany {
        from: from.to_owned(),
        limit: CLAIM_PAGE * CLAIM_PAGES,
    }))
}
