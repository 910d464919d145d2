//! The terminal's raw mode and alternate screen, restored from one place
//! on every exit: a guard's `Drop` for returns and errors, and a panic hook
//! that restores first, then prints the panic.

use std::io;

use ratatui::DefaultTerminal;

use crate::failure::Failure;

/// Owns the terminal; restores it when dropped.
pub struct TerminalGuard {
    pub terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Enter raw mode and the alternate screen. `ratatui::try_init` also
    /// installs a panic hook that restores the terminal before the panic
    /// message is printed, so a panic never leaves a broken shell.
    pub fn enter() -> io::Result<Self> {
        let terminal = ratatui::try_init()?;
        Ok(Self { terminal })
    }
}

/// Whether there is a terminal to drive: raw mode switched on and straight
/// off again, the step [`TerminalGuard::enter`] fails at without one.
/// Checked before anything connects, so a dashboard started without a
/// terminal writes nothing (a new stream's record, the lab's group).
pub fn check() -> Result<(), Failure> {
    crossterm::terminal::enable_raw_mode()
        .and_then(|()| crossterm::terminal::disable_raw_mode())
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
        let _ = self.terminal.show_cursor();
        ratatui::restore();
    }
}
