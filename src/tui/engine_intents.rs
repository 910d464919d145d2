//! Intents that ask the engine to do something: enqueue, production,
//! worker lifecycle, the PEL filter; the admin actions are in `admin`.

use crate::duration::parse_duration;
use crate::supervisor::{EngineCommand, WorkerMode};
use crate::tui::action::Intent;
use crate::tui::state::{EntryView, Mode, Pane, PelFilter, Prompt, State};
use crate::tui::{admin, navigate};

/// Tasks `P` enqueues at once.
pub const BURST: u64 = 100;
/// The steps `+` and `-` move the production rate along.
pub const RATES: [f64; 13] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0,
];

pub fn on_intent(state: &mut State, intent: Intent) -> Vec<EngineCommand> {
    let marks = !state.marked().is_empty();
    let result = match intent {
        Intent::EnqueueOne => Ok(vec![EngineCommand::Enqueue(1)]),
        Intent::EnqueueBurst => Ok(vec![EngineCommand::Enqueue(BURST)]),
        Intent::ToggleProduction => Ok(toggle_production(state)),
        Intent::RateUp => Ok(change_rate(state, true)),
        Intent::RateDown => Ok(change_rate(state, false)),
        Intent::Spawn => Ok(vec![EngineCommand::SpawnWorker]),
        Intent::Kill => own_alive(state).map(|n| vec![EngineCommand::Kill(n)]),
        Intent::Stop => own_alive(state).map(|n| vec![EngineCommand::Stop(n)]),
        Intent::CycleMode => cycle(state),
        Intent::Trim => admin::trim(state),
        Intent::TrimSafe => admin::trim_safe(state),
        Intent::Filter => prompt(state, Prompt::Filter, filter_text(&state.view.filter)),
        // With marks, the bulk action; else the selected entry.
        Intent::Ack if marks => admin::bulk::ack(state),
        Intent::Claim if marks => admin::bulk::claim(state),
        Intent::DeadLetter if marks => admin::bulk::dead_letter(state),
        Intent::Ack => admin::ack(state),
        Intent::Claim => admin::claim(state),
        Intent::DeadLetter => admin::dead_letter(state),
        Intent::Requeue => admin::bulk::requeue(state),
        Intent::Mark => admin::bulk::mark(state),
        Intent::MarkAll => admin::bulk::mark_all(state),
        Intent::Scenario => prompt(state, Prompt::Scenario, String::new()),
        Intent::DeleteConsumer => admin::delete_consumer(state),
        Intent::SetId => admin::set_id(state),
        Intent::DestroyGroup => admin::destroy(state),
        Intent::View => Ok(view(state)),
        _ => Ok(Vec::new()),
    };
    result.unwrap_or_else(|why| {
        state.status = Some(why);
        Vec::new()
    })
}

fn toggle_production(state: &mut State) -> Vec<EngineCommand> {
    let p = &mut state.production;
    p.on = !p.on;
    state.status = Some(if p.on {
        format!("producing {}/s", p.rate)
    } else {
        "production stopped".into()
    });
    vec![EngineCommand::SetProduction(p.on.then_some(p.rate))]
}

fn change_rate(state: &mut State, up: bool) -> Vec<EngineCommand> {
    let p = &mut state.production;
    let next = if up {
        RATES.iter().copied().find(|r| *r > p.rate)
    } else {
        RATES.iter().rev().copied().find(|r| *r < p.rate)
    };
    p.rate = next.unwrap_or(p.rate);
    state.status = Some(format!("production rate {}/s", p.rate));
    if p.on {
        vec![EngineCommand::SetProduction(Some(p.rate))]
    } else {
        Vec::new()
    }
}

/// The selected consumer, if it is one of our workers and still alive.
fn own_alive(state: &State) -> Result<String, String> {
    let name = state
        .selected_consumer()
        .ok_or("no consumer selected (Tab to Consumers, j/k)")?;
    match state.ours(&name) {
        None => Err(format!(
            "{name} is external (not started by this dashboard): it can only be watched"
        )),
        Some(w) if !w.status.is_alive() => Err(format!("{name} is already {}", w.status.label())),
        Some(_) => Ok(name),
    }
}

/// The new mode is recorded at once: the supervisor's own report comes
/// with the next tick (100 ms), and a quick second `f` before it used to
/// send the same mode again instead of the next one.
fn cycle(state: &mut State) -> Result<Vec<EngineCommand>, String> {
    let name = own_alive(state)?;
    let worker = state.roster.workers.iter_mut().find(|w| w.name == name);
    let mode = worker.map_or_else(WorkerMode::default, |w| {
        w.mode = w.mode.next();
        w.mode
    });
    Ok(vec![EngineCommand::SetMode(name, mode)])
}

fn prompt(state: &mut State, prompt: Prompt, text: String) -> Result<Vec<EngineCommand>, String> {
    state.view.mode = Mode::Input { prompt, text };
    Ok(Vec::new())
}

fn filter_text(f: &PelFilter) -> String {
    let idle = f.min_idle_ms.map(|ms| format!("{ms}ms"));
    [f.consumer.clone(), idle]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
}

fn view(state: &mut State) -> Vec<EngineCommand> {
    if state.view.focus == Pane::Consumers {
        // Enter on a consumer shows its pending entries.
        let filter = PelFilter {
            consumer: state.selected_consumer(),
            ..state.view.filter.clone()
        };
        navigate::set_filter(state, filter);
        state.view.focus = Pane::Pending;
        return Vec::new();
    }
    let Some(id) = state.selected_pending().map(|p| p.id) else {
        state.status = Some("select a pending entry first (Tab to Pending, j/k)".into());
        return Vec::new();
    };
    state.view.mode = Mode::Entry(EntryView {
        id,
        key: state.selected_partition().map(str::to_owned),
        ..EntryView::default()
    });
    vec![EngineCommand::FetchEntry(id)]
}

/// Enter in a prompt.
pub fn submit(state: &mut State) -> Vec<EngineCommand> {
    let Mode::Input { prompt, text } = std::mem::take(&mut state.view.mode) else {
        return Vec::new();
    };
    match prompt {
        Prompt::Filter => match parse_filter(&text) {
            Ok(f) => {
                navigate::set_filter(state, f);
                state.status = Some("PEL filter set (Esc clears it)".into());
            }
            Err(e) => state.status = Some(e),
        },
        Prompt::StreamFilter => crate::tui::screens::set_filter(state, text),
        Prompt::Scenario => match crate::tui::scenarios::from_prompt(state, &text) {
            Ok(commands) => return commands,
            Err(why) => state.status = Some(why),
        },
        Prompt::GoTo => return crate::tui::entries::go_to(state, &text),
        Prompt::Search => return crate::tui::entries::start_search(state, &text),
        other => match admin::submit(state, other, &text) {
            Ok(commands) => return commands,
            Err(why) => state.status = Some(why),
        },
    }
    Vec::new()
}

/// `w1 5s`: a consumer name and/or a minimum idle time, in any order.
pub fn parse_filter(text: &str) -> Result<PelFilter, String> {
    let mut f = PelFilter::default();
    for token in text.split_whitespace() {
        let looks_like_time = token.starts_with(|c: char| c.is_ascii_digit());
        match (looks_like_time, parse_duration(token)) {
            (true, Ok(d)) => f.min_idle_ms = Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            (true, Err(e)) => return Err(e),
            (false, _) => f.consumer = Some(token.to_owned()),
        }
    }
    Ok(f)
}
