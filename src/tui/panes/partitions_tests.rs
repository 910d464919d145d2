//! The partitions pane and the stream screen of a partitioned stream,
//! drawn into ratatui's TestBackend and compared with insta snapshots.

use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::monitor::partitioned::PartitionRow;
use crate::tui::fixture;
use crate::tui::state::State;
use crate::tui::{panes, ui};

/// The fixture's stream as three partitions of it, the middle one selected.
fn partitioned() -> State {
    let mut s = fixture::state();
    s.partitions = (0..3)
        .map(|i| {
            let mut snap = fixture::snapshot();
            snap.key = format!("{{tasks.p{i}}}");
            if let Some(info) = snap.stream.as_mut() {
                info.length = 400 + 10 * i;
            }
            PartitionRow {
                key: snap.key.clone(),
                node: Some(format!("127.0.0.1:{}", 7001 + i)),
                snapshot: Arc::new(snap),
            }
        })
        .collect();
    s.view.partition = 1;
    s
}

#[test]
fn partitions_pane() {
    let s = partitioned();
    let mut t = Terminal::new(TestBackend::new(100, 6)).unwrap();
    t.draw(|f| panes::partitions::render(f, f.area(), &s))
        .unwrap();
    insta::assert_snapshot!(t.backend().clone());
}

#[test]
fn whole_screen_of_a_partitioned_stream() {
    let s = partitioned();
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    t.draw(|f| ui::render(f, &s)).unwrap();
    let screen = t.backend().clone();
    let text = format!("{screen}");
    assert!(text.contains("Pending in workers on {tasks.p1}"), "{text}");
    insta::assert_snapshot!(screen);
}
