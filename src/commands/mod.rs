//! The headless subcommands, each a thin layer over engine/ and monitor/.

pub mod bench;
pub mod consume;
pub mod dlq;
pub mod exporter;
pub mod info;
pub mod monitor;
pub mod monitor_all;
pub mod pending;
pub mod produce;
pub mod produce_file;
pub mod read;
pub mod trim;
pub mod worker;

/// Whether stderr is a terminal (progress bars only then).
pub fn stderr_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}
