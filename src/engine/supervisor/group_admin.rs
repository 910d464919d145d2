//! The admin actions that change a stream or its groups for good: trims
//! (MAXLEN, MINID, planned safe), XGROUP SETID / DESTROY and deleting a
//! consumer (after claiming its pending entries, or refusing). Each logs
//! the exact command before sending it and the outcome after, so the log
//! file holds every action.

use ::redis::Cmd;

use super::{Outcome, PendingOfDeleted};
use crate::engine::retention::{self, PlanError, Target};
use crate::redis::{
    Conn, RedisFailure, Retention, command_line, delete_consumer, xclaim, xgroup_delconsumer_cmd,
    xgroup_destroy, xgroup_destroy_cmd, xgroup_setid, xgroup_setid_cmd, xpending_range, xtrim,
    xtrim_cmd,
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
    Ok(Outcome::Note(format!(
        "{line}: removed {} (any still pending stay in their PEL as deleted)",
        crate::words::entries(removed)
    )))
}

/// A plan for the confirmation; a refusal comes back as a failure that says why.
pub(super) async fn plan_trim(
    c: &mut Conn,
    key: &str,
    target: Target,
) -> Result<Outcome, RedisFailure> {
    match retention::plan(c, key, target).await {
        Ok(plan) => Ok(Outcome::TrimPlan(Box::new(plan))),
        Err(PlanError::Refused(why)) => {
            Ok(Outcome::Failed(format!("no safe trim of {key}: {why}")))
        }
        Err(PlanError::Redis(e)) => Err(e),
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
    Ok(Outcome::Note(format!(
        "{line}: group {group} now reads after {id} (its lag is unknown to Redis until it catches up)"
    )))
}

pub(super) async fn destroy(c: &mut Conn, key: &str, group: &str) -> Result<Outcome, RedisFailure> {
    let line = sending(&xgroup_destroy_cmd(key, group));
    Ok(if xgroup_destroy(c, key, group).await? {
        Outcome::Note(format!(
            "{line}: group {group}, its consumers and its PEL are gone"
        ))
    } else {
        Outcome::Failed(format!("{line}: there was no group {group}"))
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
                return Ok(Outcome::Failed(format!(
                    "not deleted: {consumer} holds pending entries now; claim them first (D again offers to)"
                )));
            }
        }
        PendingOfDeleted::ClaimTo(to) => match claim_all(c, key, group, consumer, to).await? {
            Ok(n) => moved = n,
            Err(why) => return Ok(Outcome::Failed(format!("not deleted: {why}"))),
        },
        PendingOfDeleted::Drop => {}
    }
    let line = sending(&xgroup_delconsumer_cmd(key, group, consumer));
    let dropped = delete_consumer(c, key, group, consumer).await?;
    let claimed = match &pending {
        PendingOfDeleted::ClaimTo(to) => format!("; {moved} pending entries claimed to {to} first"),
        _ => String::new(),
    };
    let lost = if dropped > 0 {
        format!("; {dropped} pending entries left the PEL with it and will not be delivered again")
    } else {
        String::new()
    };
    Ok(Outcome::Note(format!(
        "{line}: deleted {consumer}{claimed}{lost}"
    )))
}

/// XCLAIM every entry `from` holds to `to`, a page at a time. The inner
/// error says why it stopped (too many, or entries that would not move).
async fn claim_all(
    c: &mut Conn,
    key: &str,
    group: &str,
    from: &str,
    to: &str,
) -> Result<Result<u64, String>, RedisFailure> {
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
            return Ok(Err(format!("{} would not move to {to}", ids[0])));
        }
        moved += ids.len() as u64;
    }
    Ok(Err(format!(
        "{from} holds more than {} pending entries: claim them with XAUTOCLAIM (a worker) instead",
        CLAIM_PAGE * CLAIM_PAGES
    )))
}
