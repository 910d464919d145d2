//! The terminal's raw mode and alternate screen, given back from one place
//! ([`restore`]) on every exit: the guard's `Drop` for returns and errors,
//! and the panic hook (`crate::report`, installed by `main` before the
//! terminal is taken), which restores first and then prints the report.

use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};

use color_eyre::eyre::WrapErr as _;
use crossterm::cursor::Show;
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::DefaultTerminal;
use ratatui::backend::CrosstermBackend;

use crate::failure::Failure;

/// Whether raw mode and the alternate screen are on. Restoring twice would
/// leave the alternate screen twice, and the second time moves the cursor
/// back to where the dashboard started, where the shell then writes over
/// a panic's report.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Owns the terminal; restores it when dropped.
pub struct TerminalGuard {
    pub terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Enter raw mode and the alternate screen. [`check`] has said there
    /// is a terminal, so a failure here is unexpected: it is an
    /// `eyre::Report` naming the step that failed.
    pub fn enter() -> color_eyre::Result<Self> {
        enable_raw_mode().wrap_err("cannot switch the terminal to raw mode")?;
        TAKEN.store(true, Ordering::SeqCst);
        let guard = execute!(io::stdout(), EnterAlternateScreen)
            .wrap_err("cannot enter the alternate screen")
            .and_then(|()| {
                ratatui::Terminal::new(CrosstermBackend::new(io::stdout()))
                    .wrap_err("cannot read the terminal's size")
            })
            .map(|terminal: ratatui::Terminal<CrosstermBackend<Stdout>>| Self { terminal });
        if guard.is_err() {
            restore();
        }
        guard
    }
}

/// Give the terminal back (cursor shown, normal screen, cooked mode) if it
/// is taken; otherwise do nothing, so a headless command's stdout gets no
/// escape codes from a panic.
pub fn restore() {
    if TAKEN.swap(false, Ordering::SeqCst) {
        let _ = execute!(io::stdout(), Show, LeaveAlternateScreen);
        let _ = disable_raw_mode();
    }
}

/// Whether the dashboard still has the terminal: false once a panic on
/// another thread (a task) gave it back, and the dashboard must stop
/// drawing over the report.
pub fn taken() -> bool {
    TAKEN.load(Ordering::SeqCst)
}

/// Whether there is a terminal to drive: raw mode switched on and straight
/// off again, the step [`TerminalGuard::enter`] fails at without one.
/// Checked before anything connects, so a dashboard started without a
/// terminal writes nothing (a new stream's record, the lab's group).
pub fn check() -> Result<(), Failure> {
    enable_raw_mode()
        .and_then(|()| disable_raw_mode())
        .map_err(|e| unusable(&e))
}

/// The one error line for a terminal that cannot be driven.
pub fn unusable(e: &io::Error) -> Failure {
    Failure::runtime(format!(
        "cannot set up the terminal ({e}): the dashboard and watch need an interactive terminal; for scripts use streamlab monitor (--all for every stream)"
    ))
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}
