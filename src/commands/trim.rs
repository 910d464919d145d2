//! `streamlab trim`: XTRIM by MAXLEN (approximate unless --exact) or MINID,
//! `--safe`: MINID to what every group has delivered and acked (see
//! engine/retention), or `--acked` (Redis 8.2): every entry every group has
//! read and acked (`XTRIM MAXLEN = 0 ACKED`). `--trim-mode` adds KEEPREF,
//! DELREF or ACKED to a MAXLEN or MINID trim. `--safe`, `--acked` and
//! `--minid` print a preview first (the command, how many entries, each
//! group's position); `--dry-run` stops there. A partitioned stream is
//! planned whole before any partition is trimmed, so a refusal leaves every
//! partition intact. Trim modes are refused, unsent, by servers without
//! them.

use crate::cli::{GlobalArgs, TrimArgs};
use crate::engine::retention::{self, AckedPlan, Plan, PlanError, Refusal, Target};
use crate::failure::Failure;
use crate::redis::{
    Conn, Connector, EntryId, Feature, Retention, ServerInfo, TrimMode, xlen, xtrim,
};
use crate::setup::session::Session;
use crate::setup::streams::resolve_stream;

pub async fn run(global: &GlobalArgs, args: &TrimArgs) -> Result<(), Failure> {
    let mode = args.trim_mode.mode();
    let target = match (args.maxlen, &args.minid, args.safe, args.acked) {
        (Some(len), None, false, false) => {
            return trim_maxlen(global, len, args.exact, mode).await;
        }
        (None, Some(id), false, false) => Target::MinId(
            id.parse::<EntryId>()
                .map_err(|e| Failure::usage(format!("--minid: {e}")))?,
        ),
        (None, None, true, false) => Target::Safe,
        (None, None, false, true) => return trim_acked(global, args.dry_run).await,
        _ => {
            return Err(Failure::usage(
                "give exactly one of --maxlen N, --minid ID, --safe or --acked",
            ));
        }
    };
    let session = Session::open(global).await?;
    // --safe removes only entries no PEL holds: a mode changes nothing.
    let mode = if target == Target::Safe { None } else { mode };
    if let Some(mode) = mode {
        check_mode(server(&session.connector)?, mode)?;
    }
    // A dry run cannot write, whatever a bug might try: the connector refuses.
    let connector = if args.dry_run {
        session.connector.read_only()
    } else {
        session.connector.clone()
    };
    let mut conn = connector.conn("trim");
    let layout = resolve_stream(&connector, &global.stream).await?;
    let plans = plan_all(&mut conn, &layout.partitions, target, mode).await?;
    for plan in &plans {
        print_preview(plan);
    }
    if args.dry_run {
        crate::stdout_line!("dry run: nothing removed");
        return Ok(());
    }
    for plan in plans.iter().filter(|p| !p.removal.count.is_zero()) {
        trim_to(&mut conn, &plan.key, &plan.command(), &plan.retention()).await?;
    }
    Ok(())
}

fn server(connector: &Connector) -> Result<&ServerInfo, Failure> {
    connector
        .server()
        .ok_or_else(|| Failure::runtime("the server was not probed"))
}

/// `--trim-mode` on a server without the options: one line, exit 2,
/// nothing sent.
fn check_mode(server: &ServerInfo, mode: TrimMode) -> Result<(), Failure> {
    match server.trim_mode_refusal(mode) {
        Some(why) => Err(Failure::usage(format!(
            "--trim-mode {}: {why}; nothing was sent (trim --safe removes only what every group is done with, on any server)",
            mode.flag()
        ))),
        None => Ok(()),
    }
}

/// Plan every partition before trimming any, so a refusal removes nothing.
async fn plan_all(
    conn: &mut Conn,
    keys: &[String],
    target: Target,
    mode: Option<TrimMode>,
) -> Result<Vec<Plan>, Failure> {
    let mut plans = Vec::new();
    for key in keys {
        match retention::plan(conn, key, target).await {
            Ok(plan) => plans.push(plan.with_mode(mode)),
            Err(e) => refused(key, e)?,
        }
    }
    Ok(plans)
}

/// A plan that did not come: nothing to trim (a stream that does not
/// exist), or why it is refused (exit 1), or the Redis error.
fn refused(key: &str, e: PlanError) -> Result<(), Failure> {
    match e {
        PlanError::Refused(Refusal::NoStream) => {
            crate::stdout_line!("'{key}' does not exist: nothing to trim");
            Ok(())
        }
        PlanError::Refused(why) => Err(Failure::runtime(format!(
            "refusing to trim '{key}': {why}; nothing was removed"
        ))),
        PlanError::Redis(e) => Err(e.into()),
    }
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

/// Send the previewed trim and say what Redis removed.
async fn trim_to(
    conn: &mut Conn,
    key: &str,
    command: &str,
    retention: &Retention,
) -> Result<(), Failure> {
    tracing::info!(%command, "trim");
    let removed = xtrim(conn, key, retention).await?;
    let len = xlen(conn, key).await?;
    crate::stdout_line!(
        "removed {} from '{key}'; length now {len}",
        crate::words::entries(removed),
    );
    Ok(())
}

/// `--acked`: every entry every group has read and acked, each partition
/// planned (and previewed) before any is trimmed.
async fn trim_acked(global: &GlobalArgs, dry_run: bool) -> Result<(), Failure> {
    let session = Session::open(global).await?;
    let server = server(&session.connector)?;
    if !server.has(Feature::TrimModes) {
        return Err(Failure::usage(format!(
            "trim --acked needs Redis 8.2 or later (XTRIM ... ACKED), and {server} has no ACKED option: nothing was sent; trim --safe removes what every group is done with, up to the first entry one still needs"
        )));
    }
    let connector = if dry_run {
        session.connector.read_only()
    } else {
        session.connector.clone()
    };
    let mut conn = connector.conn("trim");
    let layout = resolve_stream(&connector, &global.stream).await?;
    let mut plans = Vec::new();
    for key in &layout.partitions {
        match retention::plan_acked(&mut conn, key).await {
            Ok(plan) => plans.push(plan),
            Err(e) => refused(key, e)?,
        }
    }
    for plan in &plans {
        print_acked_preview(plan);
    }
    if dry_run {
        crate::stdout_line!("dry run: nothing removed");
        return Ok(());
    }
    for plan in &plans {
        trim_to(
            &mut conn,
            &plan.key,
            &plan.command(),
            &AckedPlan::retention(),
        )
        .await?;
    }
    Ok(())
}

fn print_acked_preview(plan: &AckedPlan) {
    crate::stdout_line!("{}:", plan.key);
    for line in plan.group_lines() {
        crate::stdout_line!("  {line}");
    }
    crate::stdout_line!("  {} ({})", plan.summary(), plan.cost_line());
}

/// `--maxlen L` bounds the logical stream: each of N partitions keeps
/// `ceil(L / N)` (as `produce --maxlen` does).
async fn trim_maxlen(
    global: &GlobalArgs,
    len: u64,
    exact: bool,
    mode: Option<TrimMode>,
) -> Result<(), Failure> {
    let session = Session::open(global).await?;
    let server = server(&session.connector)?;
    if let Some(mode) = mode {
        check_mode(server, mode)?;
    }
    let layout = resolve_stream(&session.connector, &global.stream).await?;
    let mut conn = session.connector.conn("trim");
    let share = len.div_ceil(layout.partition_count() as u64);
    let wanted = Retention::max_len(share, exact).with_mode(mode);
    let (retention, forced) = server.fit_retention(wanted).map_err(Failure::usage)?;
    if let Some(why) = forced {
        crate::stderr_line!("note: {why}");
    }
    let note = if retention.exact {
        ""
    } else {
        " (approximate: Redis trims whole nodes, so a few more may remain; --exact trims precisely)"
    };
    for key in &layout.partitions {
        let removed = xtrim(&mut conn, key, &retention).await?;
        let now = xlen(&mut conn, key).await?;
        let removed = crate::words::entries(removed);
        crate::stdout_line!("removed {removed} from '{key}'; length now {now}{note}");
    }
    crate::stdout_line!("note: {}", maxlen_note(mode));
    Ok(())
}

/// What a MAXLEN trim did to entries the groups had not finished.
fn maxlen_note(mode: Option<TrimMode>) -> &'static str {
    match mode {
        Some(TrimMode::Acked) => {
            "ACKED kept every entry some group has not read and acked, so the stream may stay longer than asked"
        }
        Some(TrimMode::DelRef) => {
            "trimming deletes entries even if a group has not read or acked them yet; DELREF also removed their ids from every group's PEL"
        }
        Some(TrimMode::KeepRef) | None => {
            "trimming deletes entries even if a group has not read or acked them yet"
        }
    }
}
