//! Trims from the dashboard: `t` takes MAXLEN n, MINID id, `safe` or
//! `acked` (Redis 8.2: every entry every group has read and acked), and
//! after a length or an id a trim mode (`1000 acked`, `<id> delref`);
//! `T` is the safe one at once. MAXLEN is confirmed from the snapshot's
//! length; a MINID (safe or chosen) and `acked` are planned by the engine
//! first and confirmed when the plan arrives, with their count and each
//! group's position. A trim mode the server lacks is refused unsent. Every
//! trim loses data: the stream's name is typed.

use super::{Done, acting_key, acting_snapshot, prompt};
use crate::engine::retention::{AckedPlan, Plan, Target};
use crate::redis::{EntryId, Retention, TrimMode, command_line, xtrim_cmd};
use crate::supervisor::EngineCommand;
use crate::tui::confirm::{Confirmation, ask};
use crate::tui::state::{Prompt, State};

/// `t`: MAXLEN, MINID or safe, typed.
pub fn trim(state: &mut State) -> Done {
    prompt(state, Prompt::Trim, String::new())
}

/// `T`: the safe trim, planned first.
pub fn trim_safe(state: &mut State) -> Done {
    plan(state, Target::Safe)
}

fn plan(state: &mut State, target: Target) -> Done {
    state.status = Some("planning the trim (XINFO, XPENDING per group, a bounded count)…".into());
    Ok(vec![EngineCommand::PlanTrim(target)])
}

pub(super) fn trim_text(state: &mut State, text: &str) -> Done {
    let mut words = text.split_whitespace();
    let what = words.next().unwrap_or("safe");
    let mode = words.next().map(mode_of).transpose()?;
    if words.next().is_some() {
        return Err(format!(
            "'{}' is more than a length or an id and a mode",
            text.trim()
        ));
    }
    for (word, target) in [("safe", "the safe trim"), ("acked", "acked")] {
        if what.eq_ignore_ascii_case(word) && mode.is_some() {
            return Err(format!("{target} takes no trim mode: type `{word}` alone"));
        }
    }
    if what.eq_ignore_ascii_case("safe") {
        return plan(state, Target::Safe);
    }
    if what.eq_ignore_ascii_case("acked") {
        refuse_without_modes(state, TrimMode::Acked)?;
        state.status = Some(
            "planning the trim (XINFO, the PELs up to the slowest group, a bounded count)…".into(),
        );
        return Ok(vec![EngineCommand::PlanAckedTrim]);
    }
    if let Some(m) = mode {
        refuse_without_modes(state, m)?;
    }
    if what.contains('-') {
        let id = what.parse::<EntryId>()?;
        return match mode {
            Some(m) => {
                plan(state, Target::MinId(id))?;
                Ok(vec![EngineCommand::PlanModeTrim(Target::MinId(id), m)])
            }
            None => plan(state, Target::MinId(id)),
        };
    }
    let len: u64 = what
        .parse()
        .map_err(|_| format!("'{what}' is not a length, an id, `safe` or `acked`"))?;
    maxlen(state, len, mode);
    Ok(Vec::new())
}

/// `keepref`, `delref` or `acked`, in any case.
fn mode_of(word: &str) -> Result<TrimMode, String> {
    [TrimMode::KeepRef, TrimMode::DelRef, TrimMode::Acked]
        .into_iter()
        .find(|m| word.eq_ignore_ascii_case(m.flag()))
        .ok_or_else(|| format!("'{word}' is not a trim mode: keepref, delref or acked"))
}

/// A trim mode on a server without them: refused here, nothing sent.
fn refuse_without_modes(state: &State, mode: TrimMode) -> Result<(), String> {
    match state
        .server
        .as_ref()
        .and_then(|s| s.trim_mode_refusal(mode))
    {
        Some(why) => Err(format!("{why}: nothing was sent")),
        None => Ok(()),
    }
}

/// `XTRIM key MAXLEN = len [mode]`, confirmed from the snapshot's length.
fn maxlen(state: &mut State, len: u64, mode: Option<TrimMode>) {
    let now = acting_snapshot(state)
        .and_then(|s| s.stream.as_ref())
        .map_or(0, |s| s.length);
    let key = &acting_key(state);
    let retention = Retention::max_len(len, true).with_mode(mode);
    let oldest = now.saturating_sub(len);
    let effects = match mode {
        Some(TrimMode::Acked) => vec![
            format!("removes at most the oldest {oldest} of {now} entries: only those every group has read and acked"),
            "entries a group has not read or acked stay, so the stream may stay longer".into(),
        ],
        Some(TrimMode::DelRef) => vec![
            format!("removes the oldest {oldest} of {now} entries"),
            "groups that have not read or acked them never will; DELREF also removes their ids from every PEL".into(),
        ],
        Some(TrimMode::KeepRef) | None => vec![
            format!("removes the oldest {oldest} of {now} entries"),
            "groups that have not read or acked them never will; pending ones stay in their PEL as deleted".into(),
        ],
    };
    let c = Confirmation::losing(
        "Trim",
        vec![command_line(&xtrim_cmd(key, &retention))],
        effects,
        EngineCommand::Trim(retention),
    );
    ask(state, c);
}

/// A planned MINID trim arrived: confirm it, or say there is nothing to do.
pub fn on_plan(state: &mut State, plan: &Plan) {
    if plan.removal.count.is_zero() {
        let why = plan.group_lines().into_iter().next().unwrap_or_default();
        state.status = Some(format!("nothing to trim below {}: {why}", plan.minid));
        return;
    }
    let lines = [
        vec![plan.summary()],
        plan.group_lines(),
        vec![plan.cost_line()],
    ];
    confirm_trim(
        state,
        plan.command(),
        lines,
        EngineCommand::Trim(plan.retention()),
    );
}

/// A planned `XTRIM MAXLEN = 0 ACKED` arrived: confirm it, or say there is
/// nothing to do.
pub fn on_acked_plan(state: &mut State, plan: &AckedPlan) {
    if plan.removal.is_zero() {
        state.status = Some(format!(
            "nothing to trim: no entry of {} is read and acked by every group yet",
            plan.key
        ));
        return;
    }
    let lines = [
        vec![plan.summary()],
        plan.group_lines(),
        vec![plan.cost_line()],
    ];
    confirm_trim(
        state,
        plan.command(),
        lines,
        EngineCommand::Trim(AckedPlan::retention()),
    );
}

/// Ask before a planned trim: its command, then its summary, what each
/// group loses and what the plan cost, in that order.
fn confirm_trim(state: &mut State, command: String, lines: [Vec<String>; 3], then: EngineCommand) {
    let effects = lines.into_iter().flatten().collect();
    ask(
        state,
        Confirmation::losing("Trim", vec![command], effects, then),
    );
}
