//! Intents that ask the engine to do something: enqueue, production,
//! worker lifecycle, and the PEL actions (each confirmed first), plus the
//! prompts for trim and the PEL filter.

use crate::duration::parse_duration;
use crate::engine::supervisor::EngineCommand;
use crate::tui::action::Intent;
use crate::tui::navigate;
use crate::tui::state::{Mode, Pane, PelFilter, Prompt, State};

/// Tasks `P` enqueues at once.
pub const BURST: u64 = 100;
/// The steps `+` and `-` move the production rate along.
pub const RATES: [f64; 13] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0,
];

pub fn on_intent(state: &mut State, intent: Intent) -> Vec<EngineCommand> {
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
        Intent::Trim => prompt(state, Prompt::TrimMaxLen, String::new()),
        Intent::Filter => prompt(state, Prompt::Filter, filter_text(&state.view.filter)),
        Intent::Ack | Intent::Claim | Intent::DeadLetter => ask_pel(state, intent),
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

fn cycle(state: &State) -> Result<Vec<EngineCommand>, String> {
    let name = own_alive(state)?;
    let mode = state.ours(&name).map(|w| w.mode.next()).unwrap_or_default();
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

/// Ask before acting on the selected PEL entry.
fn ask_pel(state: &mut State, intent: Intent) -> Result<Vec<EngineCommand>, String> {
    let p = state
        .selected_pending()
        .cloned()
        .ok_or("select a pending entry first (Tab to Pending, j/k)")?;
    let group = state.view.group.clone();
    let (question, command) = match intent {
        Intent::Ack => (
            format!(
                "XACK {} (owner {}, {} deliveries)? It leaves the PEL and stays in the stream.",
                p.id, p.consumer, p.deliveries
            ),
            EngineCommand::Ack { group, id: p.id },
        ),
        Intent::Claim => {
            let to = claim_target(state, &p.consumer)
                .ok_or("no other consumer to claim it to (w spawns one)")?;
            (
                format!("XCLAIM {} from {} to {to}?", p.id, p.consumer),
                EngineCommand::Claim {
                    group,
                    id: p.id,
                    to,
                },
            )
        }
        _ => (
            format!(
                "Dead-letter {}: copy it to {}:dead and XACK it, atomically?",
                p.id, state.lab.stream
            ),
            EngineCommand::DeadLetter {
                group,
                id: p.id,
                owner: p.consumer,
                deliveries: p.deliveries,
            },
        ),
    };
    state.view.mode = Mode::Confirm { question, command };
    Ok(Vec::new())
}

/// Another consumer to claim to: a running worker of ours first, else
/// any other consumer Redis lists.
fn claim_target(state: &State, owner: &str) -> Option<String> {
    let ours = state
        .roster
        .workers
        .iter()
        .find(|w| w.name != owner && w.status.is_alive() && state.view.group == state.lab.group)
        .map(|w| w.name.clone());
    ours.or_else(|| state.consumer_names().into_iter().find(|n| n != owner))
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
    state.view.mode = Mode::Entry { id, fields: None };
    vec![EngineCommand::FetchEntry(id)]
}

/// Enter in a prompt.
pub fn submit(state: &mut State) -> Vec<EngineCommand> {
    let Mode::Input { prompt, text } = std::mem::take(&mut state.view.mode) else {
        return Vec::new();
    };
    match prompt {
        Prompt::TrimMaxLen => match text.trim().parse::<u64>() {
            Ok(len) => {
                let now = state
                    .snapshot
                    .as_ref()
                    .and_then(|s| s.stream.as_ref())
                    .map_or(0, |s| s.length);
                let question = format!(
                    "XTRIM {} MAXLEN = {len}: removes {} of {now} entries. Pending ones stay in the PEL as deleted.",
                    state.lab.stream,
                    now.saturating_sub(len)
                );
                state.view.mode = Mode::Confirm {
                    question,
                    command: EngineCommand::Trim(len),
                };
            }
            Err(_) => state.status = Some(format!("'{text}' is not a length: type a whole number")),
        },
        Prompt::Filter => match parse_filter(&text) {
            Ok(f) => navigate::set_filter(state, f),
            Err(e) => state.status = Some(e),
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
