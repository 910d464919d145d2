//! A partitioned stream on the stream screen: the panes show the totals,
//! the partitions pane one row per partition, and one partition is
//! selected: its PEL page is on screen and the one-shot commands (ack,
//! claim, dead-letter, trim, SETID...) act on its key, because entry ids
//! repeat across partitions.

use crate::supervisor::EngineCommand;
use crate::tui::state::State;

/// Select the partition `by` rows away (wrapping).
pub fn step(state: &mut State, by: isize) -> Vec<EngineCommand> {
    let n = state.partitions.len();
    if n == 0 {
        state.status = Some(format!("'{}' is not partitioned", state.view.stream));
        return Vec::new();
    }
    let now = isize::try_from(state.view.partition.min(n - 1)).unwrap_or(0);
    let n_signed = isize::try_from(n).unwrap_or(1);
    state.view.partition = usize::try_from((now + by).rem_euclid(n_signed)).unwrap_or(0);
    // A new partition's PEL page starts from its beginning, and its ids
    // must not be compared with another partition's page.
    state.view.pel_pages.clear();
    state.view.pel_row = 0;
    state.previous = None;
    let commands = focus_commands(state);
    if let Some(key) = state.selected_partition() {
        state.status = Some(format!("partition {key}: its PEL, and commands act on it"));
    }
    commands
}

/// Tell the engine which partition key one-shot commands act on, when the
/// selection (or the stream) changed since it was last told.
pub fn focus_commands(state: &mut State) -> Vec<EngineCommand> {
    let Some(key) = state.selected_partition().map(str::to_owned) else {
        return Vec::new();
    };
    if state.view.partition_focus.as_deref() == Some(key.as_str()) {
        return Vec::new();
    }
    state.view.partition_focus = Some(key.clone());
    vec![EngineCommand::Focus(key)]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::monitor::LinkState;
    use crate::monitor::partitioned::PartitionRow;
    use crate::monitor::poller::PollState;
    use crate::supervisor::Roster;
    use crate::tui::action::{Action, Intent};
    use crate::tui::fixture;
    use crate::tui::update::update;

    fn poll(keys: &[&str]) -> Action {
        let rows = keys
            .iter()
            .map(|k| PartitionRow {
                key: (*k).to_owned(),
                node: None,
                snapshot: Arc::new(fixture::snapshot()),
            })
            .collect();
        Action::Poll {
            poll: PollState {
                snapshot: Some(Arc::new(fixture::snapshot())),
                partitions: rows,
                link: LinkState::Connected,
                server: None,
                health: None,
                polls: 1,
                commands_total: 1,
            },
            roster: Roster::default(),
            now_ms: fixture::NOW,
        }
    }

    #[test]
    fn the_first_poll_points_commands_at_the_first_partition_once() {
        let mut s = fixture::state();
        let keys = ["{tasks.p0}", "{tasks.p1}"];
        assert_eq!(
            update(&mut s, poll(&keys)),
            vec![EngineCommand::Focus("{tasks.p0}".into())]
        );
        assert_eq!(update(&mut s, poll(&keys)), vec![], "told once");
        assert_eq!(
            update(&mut fixture::state(), poll(&[])),
            vec![],
            "a plain stream"
        );
    }

    #[test]
    fn next_and_previous_wrap_and_move_the_commands_and_the_pel() {
        let mut s = fixture::state();
        update(&mut s, poll(&["{t.p0}", "{t.p1}", "{t.p2}"]));
        s.view.pel_row = 3;
        s.view.pel_pages.push(fixture::id(1000, 0));
        let go = |s: &mut State, intent| update(s, Action::Key(intent));
        assert_eq!(
            go(&mut s, Intent::PrevPartition),
            vec![EngineCommand::Focus("{t.p2}".into())]
        );
        assert_eq!(
            (s.view.pel_row, s.view.pel_pages.len()),
            (0, 0),
            "its PEL from the start"
        );
        assert!(
            s.previous.is_none(),
            "no reclaims inferred across partitions"
        );
        assert_eq!(
            go(&mut s, Intent::NextPartition),
            vec![EngineCommand::Focus("{t.p0}".into())]
        );
        assert_eq!(
            go(&mut s, Intent::NextPartition),
            vec![EngineCommand::Focus("{t.p1}".into())]
        );
        assert_eq!(s.selected_partition(), Some("{t.p1}"));
    }

    #[test]
    fn a_plain_stream_says_it_has_no_partitions() {
        let mut s = fixture::state();
        assert_eq!(update(&mut s, Action::Key(Intent::NextPartition)), vec![]);
        assert_eq!(s.status.as_deref(), Some("'tasks' is not partitioned"));
    }
}
