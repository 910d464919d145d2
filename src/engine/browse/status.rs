//! Where an entry stands in one consumer group, from what is already
//! known: the group's last-delivered id (polled) and the page's pending
//! entries (one XPENDING of the page's range). Nothing is read per entry.

use crate::redis::{EntryId, PendingEntry};

/// An entry's place in a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Delivered and acked: at or before last-delivered, not pending.
    Acked,
    /// In a consumer's PEL.
    Pending {
        consumer: String,
        deliveries: u64,
        idle_ms: u64,
    },
    /// After the group's last-delivered id: not read by the group yet.
    Undelivered,
    /// The group does not exist (on this partition).
    NoGroup,
}

/// The status of entry `id` given the group's `last_delivered` id (`None`
/// when the group is not there) and its pending entry, if any.
pub fn status_of(
    id: EntryId,
    last_delivered: Option<EntryId>,
    pending: Option<&PendingEntry>,
) -> Status {
    if let Some(p) = pending {
        return Status::Pending {
            consumer: p.consumer.clone(),
            deliveries: p.deliveries,
            idle_ms: p.idle_ms,
        };
    }
    match last_delivered {
        None => Status::NoGroup,
        Some(last) if id <= last => Status::Acked,
        Some(_) => Status::Undelivered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_last_delivered_and_the_pel() {
        let id = |ms| EntryId { ms, seq: 0 };
        let p = PendingEntry {
            id: id(5),
            consumer: "w1".into(),
            idle_ms: 1200,
            deliveries: 2,
        };
        assert_eq!(status_of(id(4), Some(id(5)), None), Status::Acked);
        assert_eq!(status_of(id(5), Some(id(5)), None), Status::Acked);
        assert_eq!(status_of(id(6), Some(id(5)), None), Status::Undelivered);
        assert!(matches!(
            status_of(id(5), Some(id(5)), Some(&p)),
            Status::Pending { deliveries: 2, .. }
        ));
        assert_eq!(status_of(id(5), None, None), Status::NoGroup);
    }
}
