//! Noticing, between two polls, that the server lost data: the stream gone,
//! its history gone backwards (deleted and re-created, or a restart without
//! persistence), a group gone or reset. Redis does not say so itself; a
//! worker re-creates a lost group within a second, so the only trace left
//! is that ids and counters went backwards. Plain functions over snapshots,
//! so `monitor` and the dashboard word these notices the same way.

use crate::monitor::snapshot::Snapshot;
use crate::redis::EntryId;

fn show(id: Option<EntryId>) -> String {
    id.map_or_else(|| "none".to_owned(), |i| i.to_string())
}

/// Plain-words notices of data lost between `before` and `after` (two polls
/// of the same key); empty when nothing went backwards.
pub fn losses(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let Some(old) = &before.stream else {
        return out;
    };
    let key = &after.key;
    let Some(new) = &after.stream else {
        out.push(format!(
            "stream '{key}' is gone from the server (it had {} entries, last id {}): it was deleted, or the server restarted without persistence and lost it",
            old.length,
            show(old.last_generated_id)
        ));
        return out;
    };
    let id_back = new.last_generated_id < old.last_generated_id;
    let added_back = matches!((old.entries_added, new.entries_added), (Some(a), Some(b)) if b < a);
    if id_back || added_back {
        out.push(format!(
            "stream '{key}' lost data on the server: its last id went from {} back to {} and its length from {} to {}; it was deleted and re-created, or the server restarted without persistence",
            show(old.last_generated_id),
            show(new.last_generated_id),
            old.length,
            new.length
        ));
    }
    for g in before.group_infos() {
        let name = &g.name;
        match after.group_info(name) {
            None => out.push(format!(
                "group '{name}' is gone from '{key}': it was destroyed, or lost with the server's data; its pending entries are no longer tracked"
            )),
            Some(now) if now.last_delivered_id < g.last_delivered_id => {
                out.push(format!(
                    "group '{name}' on '{key}' was reset: its last delivered id went from {} back to {} (destroyed and re-created, XGROUP SETID, or lost with the server's data)",
                    show(g.last_delivered_id),
                    show(now.last_delivered_id)
                ));
            }
            Some(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::snapshot::GroupSnapshot;
    use crate::redis::{GroupInfo, StreamInfo};

    fn snap(last: Option<u64>, added: u64, group_last: Option<u64>) -> Snapshot {
        let id = |ms: u64| EntryId { ms, seq: 0 };
        Snapshot {
            key: "tasks".into(),
            stream: last.map(|ms| StreamInfo {
                length: added,
                last_generated_id: Some(id(ms)),
                entries_added: Some(added),
                ..StreamInfo::default()
            }),
            groups: group_last
                .map(|ms| GroupSnapshot {
                    info: GroupInfo {
                        name: "workers".into(),
                        last_delivered_id: Some(id(ms)),
                        ..GroupInfo::default()
                    },
                    ..GroupSnapshot::default()
                })
                .into_iter()
                .collect(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn growth_is_not_a_loss() {
        assert!(losses(&snap(Some(5), 5, Some(5)), &snap(Some(9), 9, Some(7))).is_empty());
        assert!(losses(&snap(None, 0, None), &snap(Some(1), 1, None)).is_empty());
    }

    #[test]
    fn stream_gone_and_history_going_back_are_reported() {
        let gone = losses(&snap(Some(5), 5, Some(5)), &snap(None, 0, None));
        assert_eq!(gone.len(), 1);
        assert!(gone[0].contains("is gone"), "{gone:?}");
        let reset = losses(&snap(Some(5), 5, Some(5)), &snap(Some(0), 0, Some(0)));
        assert!(reset[0].contains("lost data on the server"), "{reset:?}");
        assert!(reset[1].contains("was reset"), "{reset:?}");
    }

    #[test]
    fn a_group_past_the_detail_cap_is_not_gone() {
        let before = snap(Some(5), 5, Some(5));
        let mut after = snap(Some(5), 5, None);
        after.more_groups = before.groups.iter().map(|g| g.info.clone()).collect();
        assert!(losses(&before, &after).is_empty());
        assert!(losses(&after, &before).is_empty());
    }

    #[test]
    fn a_vanished_group_is_reported() {
        let notes = losses(&snap(Some(5), 5, Some(5)), &snap(Some(5), 5, None));
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("group 'workers' is gone"), "{notes:?}");
    }
}
