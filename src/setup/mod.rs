//! What every front end (a headless subcommand or the dashboard) does
//! before its parts run: open the session with Redis, open or resolve the
//! stream, build the parts' settings from flags, and listen for signals.
//! Shared here so `commands/` and `tui/` never import each other.

pub mod failover;
pub mod session;
pub mod signals;
pub mod streams;
pub mod trimming;
pub mod worker;
