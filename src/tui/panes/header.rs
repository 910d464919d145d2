//! The header: server (redacted URL, or `sentinel <name> → host:port`,
//! name and version), link state, out
//! of memory or the advice's warnings (`i` shows them), stream, group,
//! production, the poller's own cost and the lab settings.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::monitor::LinkState;
use crate::monitor::diagnosis::Diagnosis;
use crate::output::fmt;
use crate::redis::ServerMode;
use crate::redis::memory::MemoryState;
use crate::tui::access::Access;
use crate::tui::panes::dim;
use crate::tui::state::State;

/// Failed polls in a row after which the link counts as lost.
pub const LOST_AFTER: u32 = 5;

pub fn render(frame: &mut Frame, area: Rect, state: &State) {
    let taken = state.snapshot.as_ref().map(|s| s.taken_ms);
    let lines = vec![
        server_line(state, state.link.as_ref(), taken),
        stream_line(state),
        cost_line(state),
    ];
    frame.render_widget(Paragraph::new(lines), area);
}

/// The server and the state of `link` (the poller of the screen shown),
/// with the age of its data (`taken_ms`) when it is failing.
pub fn server_line<'a>(
    state: &'a State,
    link: Option<&LinkState>,
    taken_ms: Option<u64>,
) -> Line<'a> {
    // `(Redis 7.0.15, cluster)`: the Display's own "(cluster)" would
    // nest parentheses here.
    let version = state.server.as_ref().map_or_else(String::new, |v| {
        let mode = if v.mode == ServerMode::Cluster {
            ", cluster"
        } else {
            ""
        };
        format!(" ({} {}{mode})", v.name.title(), v.version)
    });
    let mut spans = vec![
        Span::styled(" streamlab ", Style::new().fg(Color::Black).bg(Color::Cyan)),
        Span::raw(format!(" {}{version}  ", where_from(state))),
    ];
    spans.extend(link_spans(state, link, taken_ms));
    spans.extend(health_span(state));
    Line::from(spans)
}

/// Where the data comes from: the redacted URL, or behind Redis Sentinel
/// `sentinel <name> → host:port` (the master now, after any failover).
fn where_from(state: &State) -> String {
    match &state.sentinel {
        Some(s) => {
            let at = s
                .address
                .as_ref()
                .map_or_else(|| "?".to_owned(), ToString::to_string);
            format!("sentinel {} → {at}", s.master)
        }
        None => state.lab.url.clone(),
    }
}

/// Out of memory, or how many warnings INFO earns, with the key that
/// shows the rest (`i`); nothing when all is well.
fn health_span(state: &State) -> Option<Span<'static>> {
    let health = state.health.as_ref()?;
    if health.out_of_memory() {
        let memory = health.memory.as_ref().map(MemoryState::short)?;
        return Some(Span::styled(
            format!("  ■ OUT OF MEMORY {memory}: XADD refused · i"),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    let topics: Vec<&str> = health.warnings().map(|a| a.topic).collect();
    if topics.is_empty() {
        return None;
    }
    let s = if topics.len() == 1 { "" } else { "s" };
    Some(Span::styled(
        format!("  ⚠ {} warning{s}: {} · i", topics.len(), topics.join(", ")),
        Style::new().fg(Color::Yellow),
    ))
}

fn link_spans(
    state: &State,
    link: Option<&LinkState>,
    taken_ms: Option<u64>,
) -> Vec<Span<'static>> {
    let old = taken_ms.map(|t| fmt::age(state.now_ms.saturating_sub(t)));
    let (text, color) = match link {
        None | Some(LinkState::Connecting) => ("● connecting".to_owned(), Color::Yellow),
        Some(LinkState::Connected) => ("● connected".to_owned(), Color::Green),
        Some(LinkState::Reconnecting { error, failures }) => {
            let (word, color) = if *failures >= LOST_AFTER {
                ("lost", Color::Red)
            } else {
                ("reconnecting", Color::Yellow)
            };
            let data = old.map_or_else(String::new, |o| format!(", data {o} old"));
            (
                format!("● {word} ({failures} failed polls{data}): {error}"),
                color,
            )
        }
        Some(LinkState::Refused { error }) => (format!("● refused: {error}"), Color::Red),
    };
    vec![Span::styled(
        text,
        Style::new().fg(color).add_modifier(Modifier::BOLD),
    )]
}

fn stream_line(state: &State) -> Line<'_> {
    let mut spans = vec![
        Span::raw(" stream "),
        Span::styled(
            state.view.stream.clone(),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw("  group "),
        Span::styled(
            crate::tui::panes::consumers::group_title(state),
            Style::new().add_modifier(Modifier::BOLD),
        ),
    ];
    spans.extend(stuck_span(state));
    match state.access {
        Access::Lab if state.on_lab_stream() => spans.extend(production(state)),
        Access::Lab => spans.push(Span::styled(
            format!(
                "  watched read-only: the lab runs on '{}' (Esc, then Enter on it)",
                state.lab.stream
            ),
            Style::new().fg(Color::Green),
        )),
        Access::Watch => spans.push(Span::styled(
            state.watch_reason.as_ref().map_or_else(
                || {
                    "  watch: read-only, nothing is written (--allow-writes enables the admin actions)"
                        .to_owned()
                },
                |why| format!("  watch: {why}"),
            ),
            Style::new().fg(Color::Green),
        )),
        Access::WatchWrites => spans.push(Span::styled(
            "  watch --allow-writes: admin actions enabled, each confirmed",
            Style::new().fg(Color::Yellow),
        )),
    }
    Line::from(spans)
}

/// How many consumers of the stream's groups are stalled or leaking.
fn stuck_span(state: &State) -> Option<Span<'static>> {
    let snap = state.snapshot.as_ref()?;
    let count = |d| -> usize {
        snap.groups
            .iter()
            .map(|g| g.count_diagnosed(d, &state.thresholds))
            .sum()
    };
    let words: Vec<String> = [Diagnosis::Stalled, Diagnosis::Leaking]
        .into_iter()
        .filter_map(|d| {
            let n = count(d);
            (n > 0).then(|| format!("{n} {}", d.label()))
        })
        .collect();
    (!words.is_empty()).then(|| {
        Span::styled(
            format!("  ⚠ {}", words.join(" · ")),
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )
    })
}

fn production(state: &State) -> Vec<Span<'_>> {
    let p = state.production;
    let production = if p.on {
        Span::styled(
            format!("on, {}", fmt::rate(p.rate)),
            Style::new().fg(Color::Green),
        )
    } else {
        Span::raw(format!("off (r starts it at {})", fmt::rate(p.rate)))
    };
    vec![
        Span::raw("  production "),
        production,
        Span::raw(format!(
            "  produced here {}",
            fmt::count(state.roster.produced)
        )),
    ]
}

/// The lab's Redis 8.2 settings: how the producer trims, and what the
/// workers' XACKDEL removed and kept.
fn redis_8_2(state: &State) -> String {
    let lab = &state.lab;
    let mut out = String::new();
    if let Some(trim) = &lab.producer_trim {
        out.push_str(&format!(", XADD {trim}"));
    }
    if lab.ack_delete {
        let r = &state.roster;
        out.push_str(&format!(
            ", XACKDEL: {} deleted, {} kept for other groups",
            fmt::count(r.ack_deleted),
            fmt::count(r.ack_kept)
        ));
    }
    out
}

fn cost_line(state: &State) -> Line<'_> {
    let (per_poll, rtt) = state
        .snapshot
        .as_ref()
        .map_or((0, 0), |s| (s.commands, s.poll_us));
    let lab = &state.lab;
    #[expect(clippy::cast_precision_loss, reason = "microseconds for display")]
    let rtt_ms = rtt as f64 / 1000.0;
    let mut spans = vec![Span::raw(format!(
        " poller: {per_poll} cmds every {:?} = {:.1} cmds/s, rtt {rtt_ms:.1}ms",
        lab.refresh, state.rates.commands_per_s
    ))];
    if state.entries.commands_total > 0 {
        // In the rate above too; the last move's own cost here.
        spans.push(Span::raw(format!(
            "  │ entries: {} cmds last move, {} in all",
            state.entries.last_cost, state.entries.commands_total
        )));
    }
    if state.access == Access::Lab {
        spans.push(Span::styled(
            format!(
                "  │ lab: min-idle {:?}, claim every {:?}, max deliveries {}, work {}ms{}",
                lab.min_idle,
                lab.claim_every,
                lab.max_deliveries,
                lab.work_ms,
                redis_8_2(state)
            ),
            dim(),
        ));
    }
    Line::from(spans)
}
