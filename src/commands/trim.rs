//! `streamlab trim`: XTRIM by MAXLEN (approximate unless --exact) or MINID,
//! or `--safe`: MINID to what every group has delivered and acked (see
//! engine/retention). `--safe` and `--minid` print a preview first (the
//! command, how many entries, the first and last, each group's position);
//! `--dry-run` stops there. A partitioned stream is planned whole before
//! any partition is trimmed, so a refusal leaves every partition intact.

use crate::cli::{GlobalArgs, TrimArgs};
use crate::engine::retention::{self, Plan, PlanError, Refusal, Target};
use crate::failure::Failure;
use crate::redis::{Conn, EntryId, Retention, xlen, xtrim};
use crate::setup::session::Session;
use crate::setup::streams::resolve_stream;

pub async fn run(global: &GlobalArgs, args: &TrimArgs) -> Result<(), Failure> {
    let target = match (args.maxlen, &args.minid, args.safe) {
        (Some(len), None, false) => {
            return trim_maxlen(global, len, args.exact).await;
        }
        (None, Some(id), false) => Target::MinId(
            id.parse::<EntryId>()
                .map_err(|e| Failure::usage(format!("--minid: {e}")))?,
        ),
        (None, None, true) => Target::Safe,
        _ => {
            return Err(Failure::usage(
                "give exactly one of --maxlen N, --minid ID or --safe",
            ));
        }
    };
    let session = Session::open(global).await?;
    // A dry run cannot write, whatever a bug might try: the connector refuses.
    let connector = if args.dry_run {
        session.connector.read_only()
    } else {
        session.connector.clone()
    };
    let mut conn = connector.conn("trim");
    let layout = resolve_stream(&connector, &global.stream).await?;
    let plans = plan_all(&mut conn, &layout.partitions, target).await?;
    for plan in &plans {
        print_preview(plan);
    }
    if args.dry_run {
        crate::stdout_line!("dry run: nothing removed");
        return Ok(());
    }
    for plan in plans.iter().filter(|p| !p.removal.count.is_zero()) {
        trim_to(&mut conn, plan).await?;
    }
    Ok(())
}

/// Plan every partition before trimming any, so a refusal removes nothing.
async fn plan_all(conn: &mut Conn, keys: &[String], target: Target) -> Result<Vec<Plan>, Failure> {
    let mut plans = Vec::new();
    for key in keys {
        match retention::plan(conn, key, target).await {
            Ok(plan) => plans.push(plan),
            Err(PlanError::Refused(Refusal::NoStream)) => {
                crate::stdout_line!("'{key}' does not exist: nothing to trim");
            }
            Err(PlanError::Refused(why)) => {
                return Err(Failure::runtime(format!(
                    "refusing to trim '{key}' safely: {why}; nothing was removed"
                )));
            }
            Err(PlanError::Redis(e)) => return Err(e.into()),
        }
    }
    Ok(plans)
}

fn print_preview(plan: &Plan) {
    crate::stdout_line!("{}:", plan.key);
    for line in plan.group_lines() {
        crate::stdout_line!("  {line}");
    }
    crate::stdout_line!("  {} ({})", plan.summary(), plan.cost_line());
    for loser in plan.losers() {
        crate::stderr_line!(
            "warning: group '{}' still needs entries from {} on: trimming to {} removes some it has not acked or read",
            loser.group,
            loser.keep_from,
            plan.minid
        );
    }
}

/// XTRIM MINID exactly (`=`: the preview's count, not a node-sized `~`).
async fn trim_to(conn: &mut Conn, plan: &Plan) -> Result<(), Failure> {
    tracing::info!(command = %plan.command(), "trim");
    let removed = xtrim(conn, &plan.key, &Retention::MinId(plan.minid)).await?;
    let len = xlen(conn, &plan.key).await?;
    crate::stdout_line!(
        "removed {} from '{}'; length now {len}",
        crate::words::entries(removed),
        plan.key
    );
    Ok(())
}

/// `--maxlen L` bounds the logical stream: each of N partitions keeps
/// `ceil(L / N)` (as `produce --maxlen` does).
async fn trim_maxlen(global: &GlobalArgs, len: u64, exact: bool) -> Result<(), Failure> {
    let session = Session::open(global).await?;
    let layout = resolve_stream(&session.connector, &global.stream).await?;
    let mut conn = session.connector.conn("trim");
    let share = len.div_ceil(layout.partition_count() as u64);
    let note = if exact {
        ""
    } else {
        " (approximate: Redis trims whole nodes, so a few more may remain; --exact trims precisely)"
    };
    for key in &layout.partitions {
        let retention = Retention::MaxLen { len: share, exact };
        let removed = xtrim(&mut conn, key, &retention).await?;
        let now = xlen(&mut conn, key).await?;
        let removed = crate::words::entries(removed);
        crate::stdout_line!("removed {removed} from '{key}'; length now {now}{note}");
    }
    crate::stdout_line!(
        "note: trimming deletes entries even if a group has not read or acked them yet"
    );
    Ok(())
}
