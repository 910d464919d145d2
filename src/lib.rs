//! streamlab: a terminal lab and console for Redis Streams.
//!
//! The binary (`src/main.rs`) is thin; everything lives here so the
//! integration tests drive the same code the commands run.

pub mod bench;
pub mod cli;
pub mod commands;
pub mod duration;
pub mod engine;
pub mod exporter;
pub mod failure;
pub mod logging;
pub mod monitor;
pub mod output;
pub mod redis;
pub mod report;
pub mod setup;
pub mod supervisor;
pub mod tui;
pub mod usage;
pub mod words;
