//! Reading what Redis reports about a stream: one poll gives one
//! [`Snapshot`] of plain data, at a cost that does not grow with the
//! stream's length or the PEL's size.

pub mod advice;
pub mod dangling;
pub mod diagnosis;
pub mod keyspace;
pub mod loss;
pub mod partitioned;
pub mod pel_walk;
pub mod poll;
pub mod poller;
pub mod snapshot;

pub use poll::{PelQuery, poll_once};

/// Longest one poll (of a stream, or the overview's step) may take before
/// the screen says the link stalled. A poll's cost is bounded by design
/// (a few commands, pipelined), so a healthy server answers in
/// milliseconds; a frozen one is reported after this, and retried.
pub const POLL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);
pub use poller::{LinkState, PollerHandle, StreamFocus, spawn_poller};
pub use snapshot::{GroupSnapshot, Snapshot, is_ghost};
