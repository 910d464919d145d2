//! The engine: producer, basic consumer and group worker, as async tasks
//! that talk to Redis through [`crate::redis`] and report what happened as
//! [`Event`]s. They never touch a terminal; the headless commands print
//! events, the dashboard shows them.

pub mod browse;
pub mod consumer;
pub mod dead_letter;
pub mod event;
pub mod partition;
pub mod producer;
pub mod registry;
pub mod repair;
pub mod retention;
pub mod task;
pub mod worker;

pub use event::{Event, EventSink};

/// The dead-letter stream for `stream`.
pub fn dead_key(stream: &str) -> String {
    format!("{stream}:dead")
}

/// Where basic consumer `name` saves its offset.
pub fn offset_key(stream: &str, name: &str) -> String {
    format!("{stream}:offset:{name}")
}
