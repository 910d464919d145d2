//! The dashboard's loop: one `select!` over terminal input, engine events,
//! supervisor outcomes, poller changes, a render tick and termination
//! signals. Each turns into an [`Action`] for `update`; the commands it
//! returns go to the supervisor, which only spawns tasks, so nothing here
//! ever waits on Redis.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt;
use ratatui::DefaultTerminal;
use tokio::sync::mpsc::Receiver;
use tokio::sync::watch;

use crate::engine::Event;
use crate::failure::Failure;
use crate::monitor::StreamFocus;
use crate::monitor::keyspace::poller::KeyspaceState;
use crate::monitor::poller::PollState;
use crate::redis::id::now_ms;
use crate::setup::signals::{Listen, Signals};
use crate::supervisor::{Outcome, Supervisor};
use crate::tui::action::{Action, Intent};
use crate::tui::state::{Screen, State};
use crate::tui::{keymap, navigate, terminal, ui, update};

/// How often the screen redraws without input (ages move on).
const TICK: Duration = Duration::from_millis(100);
/// Engine events may arrive by the thousand: redraw at most this often for them.
const MIN_FRAME: Duration = Duration::from_millis(33);

pub struct Channels {
    pub events: Receiver<Event>,
    pub outcomes: Receiver<Outcome>,
    pub poll: watch::Receiver<PollState>,
    pub focus: watch::Sender<Option<StreamFocus>>,
    pub overview: watch::Receiver<KeyspaceState>,
    pub visible: watch::Sender<Option<Vec<Arc<str>>>>,
}

/// Run until the user quits (or a signal asks us to).
pub async fn run(
    term: &mut DefaultTerminal,
    state: &mut State,
    sup: &mut Supervisor,
    ch: &mut Channels,
) -> Result<(), Failure> {
    let mut sources = Sources::new();
    let size = term.size().map_err(io)?;
    let (width, height) = (size.width, size.height);
    apply(state, sup, Action::Resize { width, height });
    let mut last_draw: Option<Instant> = None;
    let mut urgent = true;
    loop {
        if !terminal::taken() {
            // A task panicked and its report is on the normal screen.
            return Err(Failure::runtime(
                "the dashboard stopped after a panic: see the report above",
            ));
        }
        sync_pollers(state, ch);
        if urgent || last_draw.is_none_or(|t| t.elapsed() >= MIN_FRAME) {
            term.draw(|f| ui::render(f, state)).map_err(io)?;
            last_draw = Some(Instant::now());
            test_panic();
        }
        if state.quit {
            return Ok(());
        }
        let (action, now_urgent) = sources.next(state, sup, ch).await?;
        urgent = now_urgent;
        if let Some(action) = action {
            apply(state, sup, action);
        }
        // A burst of engine events costs one frame, not one per event.
        for _ in 0..10_000 {
            let Ok(event) = ch.events.try_recv() else {
                break;
            };
            let at_ms = now_ms();
            apply(state, sup, Action::Engine { event, at_ms });
        }
    }
}

/// Tests only (the binary the tests build has `test-support`): a panic
/// inside the dashboard, its message from `STREAMLAB_TEST_PANIC`, to show
/// that the terminal comes back and the report is useful and redacted.
#[cfg(feature = "test-support")]
fn test_panic() {
    if let Some(message) = std::env::var_os("STREAMLAB_TEST_PANIC") {
        panic!("{}", message.to_string_lossy());
    }
}

#[cfg(not(feature = "test-support"))]
fn test_panic() {}

fn io(e: std::io::Error) -> Failure {
    Failure::runtime(format!("terminal: {e}"))
}

/// Everything the loop waits on besides the channels.
struct Sources {
    keys: EventStream,
    tick: tokio::time::Interval,
    signals: Signals,
}

impl Sources {
    fn new() -> Self {
        Self {
            keys: EventStream::new(),
            tick: tokio::time::interval(TICK),
            signals: Signals::listen(Listen::Dashboard),
        }
    }

    /// The next action, and whether it should be drawn at once (input,
    /// outcomes, the tick) or may wait for the frame budget (engine events).
    async fn next(
        &mut self,
        state: &State,
        sup: &mut Supervisor,
        ch: &mut Channels,
    ) -> Result<(Option<Action>, bool), Failure> {
        let quit = Some(Action::Key(Intent::Quit));
        Ok(tokio::select! {
            key = self.keys.next() => match key {
                Some(Ok(ev)) => (from_terminal(state, ev), true),
                Some(Err(e)) => return Err(io(e)),
                None => (quit, true),
            },
            Some(event) = ch.events.recv() => (Some(Action::Engine { event, at_ms: now_ms() }), false),
            Some(outcome) = ch.outcomes.recv() => (Some(Action::Outcome { outcome, at_ms: now_ms() }), true),
            Ok(()) = ch.poll.changed() => {
                let poll = ch.poll.borrow_and_update().clone();
                (Some(Action::Poll { poll, roster: sup.roster(), now_ms: now_ms() }), false)
            }
            Ok(()) = ch.overview.changed() => {
                let poll = ch.overview.borrow_and_update().clone();
                (Some(Action::Overview { poll, now_ms: now_ms() }), false)
            }
            _ = self.tick.tick() => (Some(Action::Tick { now_ms: now_ms(), roster: sup.roster() }), true),
            () = self.signals.next() => (quit, true),
        })
    }
}

fn apply(state: &mut State, sup: &mut Supervisor, action: Action) {
    for command in update::update(state, action) {
        sup.apply(command);
    }
}

fn from_terminal(state: &State, event: TermEvent) -> Option<Action> {
    match event {
        TermEvent::Key(key) => keymap::lookup(&state.view.mode, state.screen, &key),
        TermEvent::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}

/// Tell the pollers what is on screen (only when it changed): the stream
/// and its PEL page, or the overview's rows; the other one pauses.
fn sync_pollers(state: &State, ch: &Channels) {
    // The entries screen keeps its stream polled: the last id (to follow
    // new entries) and each group's last-delivered id (the statuses).
    let on_stream = state.screen != Screen::Overview;
    let focus = on_stream.then(|| StreamFocus {
        key: state.view.stream.clone(),
        page: Some(navigate::pel_query(state)),
        partition: state.view.partition,
        stuck_after_ms: state.thresholds.stuck_after_ms,
    });
    let visible = (!on_stream).then(|| state.overview.visible());
    send_changed(&ch.focus, focus);
    send_changed(&ch.visible, visible);
}

fn send_changed<T: PartialEq + Clone>(tx: &watch::Sender<T>, wanted: T) {
    tx.send_if_modified(|current| {
        if *current == wanted {
            false
        } else {
            current.clone_from(&wanted);
            true
        }
    });
}
