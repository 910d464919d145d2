//! Reading what Redis reports about a stream: one poll gives one
//! [`Snapshot`] of plain data, at a cost that does not grow with the
//! stream's length or the PEL's size.

pub mod advice;
pub mod loss;
pub mod overview;
pub mod partitioned;
pub mod poll;
pub mod poller;
pub mod snapshot;

pub use poll::{PelQuery, poll_once};
pub use poller::{Link, PollerHandle, StreamFocus, spawn_poller};
pub use snapshot::{GroupSnapshot, Snapshot, is_ghost};
