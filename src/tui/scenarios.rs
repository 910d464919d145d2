//! Starting a lab scenario from the dashboard (`--scenario NAME`, or `z`
//! and its name): the screen turns to the scenario's group with the
//! lab-sized `--stuck-after` it is tuned for, and the event log says what
//! to watch (see `supervisor::scenario` for what each one does).

use crate::duration::show;
use crate::supervisor::scenario_stuck_after;
use crate::supervisor::{EngineCommand, Scenario};
use crate::tui::navigate;
use crate::tui::state::{Pane, PelFilter, State};

/// Turn the screen to `scenario` and ask the engine to set it up.
pub fn start(state: &mut State, scenario: Scenario) -> Vec<EngineCommand> {
    state.thresholds.stuck_after_ms =
        u64::try_from(scenario_stuck_after().as_millis()).unwrap_or(u64::MAX);
    state.view.group = scenario.group(&state.lab.group);
    state.awaited_group = Some(state.view.group.clone());
    state.view.consumer = None;
    state.view.focus = Pane::Consumers;
    navigate::set_filter(state, PelFilter::default());
    state.view.marks = Default::default();
    state.status = Some(format!("starting scenario {}…", scenario.name()));
    vec![EngineCommand::Scenario(scenario)]
}

/// `z`'s prompt answered: a scenario's name.
pub fn from_prompt(state: &mut State, text: &str) -> Result<Vec<EngineCommand>, String> {
    let scenario = Scenario::from_name(text).ok_or_else(|| {
        format!(
            "no scenario '{}': type crash, poison, stall, leak or backlog",
            text.trim()
        )
    })?;
    Ok(start(state, scenario))
}

/// The event log's line when a scenario starts: what it does and what to
/// watch on screen.
pub fn what_to_watch(scenario: Scenario, group: &str, production: Option<f64>) -> String {
    let stuck = show(scenario_stuck_after());
    let rate = production.map_or_else(String::new, crate::output::fmt::rate);
    match scenario {
        Scenario::Crash => format!(
            "scenario crash (group {group}): crash-1 crashes holding 10 entries; watch crash-2's XAUTOCLAIM take them after 3s idle"
        ),
        Scenario::Poison => format!(
            "scenario poison (group {group}): a task of kind poison fails every time; watch its deliveries climb, poison at 3, dead-lettered at the limit"
        ),
        Scenario::Stall => format!(
            "scenario stall (group {group}): stall-1 hangs holding 10 entries; watch it turn stalled after {stuck}, then stall-2 reclaim them at 8s"
        ),
        Scenario::Leak => format!(
            "scenario leak (group {group}, production {rate}): leak-1 fails 30% and never reclaims; watch it turn leaking after {stuck}; R requeues its failures"
        ),
        Scenario::Backlog => format!(
            "scenario backlog (group {group}): production {rate} outruns the lab's workers; watch lag and 'clears in' (+N/s) grow in Groups; press w until it clears"
        ),
    }
}
