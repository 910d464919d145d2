//! streamlab: a terminal lab and console for Redis Streams.
//!
//! The binary (`src/main.rs`) is thin; everything lives here so the
//! integration tests drive the same code the commands run.

pub mod config;
pub mod engine;
pub mod redis;
pub mod secrets;
