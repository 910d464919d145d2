//! The only module that speaks Redis: connections per role, typed commands,
//! reply parsing, error classification and the embedded fallback server.
//!
//! Everything above this module works with plain Rust types ([`EntryId`],
//! [`Entry`], [`StreamInfo`], ...) and never builds a raw command itself, so
//! the rules in DESIGN.md (one connection per blocking reader, response
//! timeouts above BLOCK, read-only mode) are enforced in one place.

pub mod calls;
pub mod config;
pub mod connect;
pub mod embedded;
pub mod errors;
pub mod features;
pub mod id;
pub mod memory;
pub mod read_only;
pub mod reply;
pub mod resp;
pub mod secrets;
pub mod server;
pub mod topology;

pub use calls::*;
pub use connect::{Conn, Connector};
pub use errors::RedisFailure;
pub use features::{Feature, Version};
pub use id::EntryId;
pub use server::{ServerInfo, ServerMode, ServerName};
