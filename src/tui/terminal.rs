//! The terminal's raw mode and alternate screen, restored from one place
//! on every exit: a guard's `Drop` for returns and errors, and a panic hook
//! that restores first, then prints the panic.

use std::io;

use ratatui::DefaultTerminal;

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

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.show_cursor();
        ratatui::restore();
    }
}
