//! Trims from the dashboard: `t` takes MAXLEN n, MINID id or `safe`;
//! `T` is the safe one at once. MAXLEN is confirmed from the snapshot's
//! length; a MINID (safe or chosen) is planned by the engine first and
//! confirmed when the plan arrives, with its exact count and each group's
//! position. Every trim loses data: the stream's name is typed.

use super::{Done, acting_key, acting_snapshot, prompt};
use crate::engine::retention::{Plan, Target};
use crate::redis::{EntryId, Retention, command_line, xtrim_cmd};
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
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("safe") {
        return plan(state, Target::Safe);
    }
    if text.contains('-') {
        let id = text.parse::<EntryId>()?;
        return plan(state, Target::MinId(id));
    }
    let len: u64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a length, an id or `safe`"))?;
    let now = acting_snapshot(state)
        .and_then(|s| s.stream.as_ref())
        .map_or(0, |s| s.length);
    let key = &acting_key(state);
    let retention = Retention::MaxLen { len, exact: true };
    let c = Confirmation::losing(
        "Trim",
        vec![command_line(&xtrim_cmd(key, &retention))],
        vec![
            format!("removes the oldest {} of {now} entries", now.saturating_sub(len)),
            "groups that have not read or acked them never will; pending ones stay in their PEL as deleted".into(),
        ],
        EngineCommand::Trim(retention),
    );
    ask(state, c);
    Ok(Vec::new())
}

/// A planned MINID trim arrived: confirm it, or say there is nothing to do.
pub fn on_plan(state: &mut State, plan: &Plan) {
    if plan.removal.count.is_zero() {
        let why = plan.group_lines().into_iter().next().unwrap_or_default();
        state.status = Some(format!("nothing to trim below {}: {why}", plan.minid));
        return;
    }
    let mut effects = vec![plan.summary()];
    effects.extend(plan.group_lines());
    effects.push(plan.cost_line());
    let c = Confirmation::losing(
        "Trim",
        vec![plan.command()],
        effects,
        EngineCommand::Trim(Retention::MinId(plan.minid)),
    );
    ask(state, c);
}
