//! Every pane drawn from the fixed fixture state into ratatui's
//! TestBackend and compared with a committed insta snapshot.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use crate::monitor::LinkState;
use crate::tui::fixture::{self, NOW, id};
use crate::tui::panes;
use crate::tui::state::{Mode, Pane, Prompt, State};
use crate::tui::ui;

type PaneFn = fn(&mut ratatui::Frame, Rect, &State);

fn draw(width: u16, height: u16, state: &State, pane: PaneFn) -> TestBackend {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| pane(f, f.area(), state)).unwrap();
    t.backend().clone()
}

fn screen(width: u16, height: u16, state: &State) -> TestBackend {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| ui::render(f, state)).unwrap();
    t.backend().clone()
}

#[test]
fn header() {
    insta::assert_snapshot!(draw(130, 3, &fixture::state(), panes::header::render));
}

#[test]
fn header_of_a_lab_on_redis_8_2_says_how_it_trims_and_what_xackdel_did() {
    let mut s = fixture::state();
    s.lab.ack_delete = true;
    s.lab.producer_trim = Some("MAXLEN = 1000 ACKED".into());
    s.roster.ack_deleted = 4_200;
    s.roster.ack_kept = 17;
    let shown = draw(200, 3, &s, panes::header::render);
    let text = format!("{shown:?}");
    assert!(text.contains("XADD MAXLEN = 1000 ACKED"), "{text}");
    assert!(
        text.contains("XACKDEL: 4,200 deleted, 17 kept for other groups"),
        "{text}"
    );
}

#[test]
fn header_when_the_link_is_lost() {
    let mut s = fixture::state();
    s.link = Some(LinkState::Reconnecting {
        error: "Redis did not answer within 2s".into(),
        failures: 6,
    });
    s.now_ms = NOW + 4_000;
    s.production.on = false;
    insta::assert_snapshot!(draw(130, 3, &s, panes::header::render));
}

#[test]
fn header_behind_sentinel_follows_a_failover() {
    use crate::engine::Event;
    use crate::redis::connect::SentinelStatus;
    use crate::redis::topology::NodeAddr;
    let mut s = fixture::state();
    s.sentinel = Some(SentinelStatus {
        master: "mymaster".into(),
        address: Some(NodeAddr::new("10.0.0.1", 6379)),
        sentinels: vec![NodeAddr::new("10.0.0.9", 26379)],
    });
    let before = draw(130, 3, &s, panes::header::render);
    assert!(
        format!("{before:?}").contains("sentinel mymaster → 10.0.0.1:6379"),
        "{before:?}"
    );
    crate::tui::log::on_event(
        &mut s,
        &Event::Failover {
            master: "mymaster".into(),
            old: NodeAddr::new("10.0.0.1", 6379),
            new: NodeAddr::new("10.0.0.2", 6379),
        },
        NOW,
    );
    insta::assert_snapshot!(draw(130, 3, &s, panes::header::render));
    assert!(
        s.log
            .iter()
            .any(|l| l.text.contains("from 10.0.0.1:6379 to 10.0.0.2:6379")),
        "{:?}",
        s.log
    );
}

#[test]
fn stream() {
    insta::assert_snapshot!(draw(76, 6, &fixture::state(), panes::stream::render));
}

#[test]
fn stream_missing() {
    let mut s = fixture::state();
    if let Some(snap) = s.snapshot.as_mut() {
        std::sync::Arc::make_mut(snap).stream = None;
    }
    insta::assert_snapshot!(draw(76, 6, &s, panes::stream::render));
}

#[test]
fn basic_consumer() {
    insta::assert_snapshot!(draw(44, 6, &fixture::state(), panes::basic::render));
}

#[test]
fn groups_with_an_unknown_lag() {
    insta::assert_snapshot!(draw(120, 6, &fixture::state(), panes::groups::render));
}

#[test]
fn consumers_ours_and_external() {
    insta::assert_snapshot!(draw(54, 8, &fixture::state(), panes::consumers::render));
}

/// With a lab-sized `--stuck-after` (30s): `host-7` and `w3` hold entries
/// idle past it and have not read for as long (stalled); `w2` reads on
/// while its oldest entry is 45s idle (leaking). The header counts them.
#[test]
fn consumers_diagnosed_stalled_and_leaking() {
    let mut s = fixture::state();
    s.thresholds.stuck_after_ms = 30_000;
    if let Some(snap) = s.snapshot.as_mut() {
        let g = &mut std::sync::Arc::make_mut(snap).groups[1];
        g.oldest_by_consumer
            .insert("w2".into(), fixture::pending(11_000, "w2", 45_000, 2));
        g.poison = Some(crate::monitor::pel_walk::PoisonScan {
            poison: vec![fixture::pending(30_000, "host-7", 29_000, 5)],
            complete: false,
            scanned: 100,
            ..Default::default()
        });
    }
    insta::assert_snapshot!(draw(64, 8, &s, panes::consumers::render));
    insta::assert_snapshot!(draw(130, 3, &s, panes::header::render));
    insta::assert_snapshot!(draw(70, 4, &s, panes::pending::render));
}

#[test]
fn pending_page_highlights_near_max_deliveries() {
    let mut s = fixture::state();
    s.view.focus = Pane::Pending;
    s.view.pel_row = 2;
    insta::assert_snapshot!(draw(66, 10, &s, panes::pending::render));
}

#[test]
fn pending_page_marks_entries_deleted_while_pending() {
    let mut s = fixture::state();
    if let Some(snap) = s.snapshot.as_mut() {
        let snap = std::sync::Arc::make_mut(snap);
        for g in snap.groups.iter_mut().filter(|g| g.info.name == "workers") {
            g.deleted_in_page = vec![id(30_000, 0)];
        }
    }
    let pane = draw(80, 10, &s, panes::pending::render);
    assert!(format!("{pane:?}").contains("host-7 · deleted"), "{pane:?}");
    insta::assert_snapshot!(pane);
}

#[test]
fn pending_filtered_by_min_idle() {
    let mut s = fixture::state();
    s.view.filter.min_idle_ms = Some(10_000);
    insta::assert_snapshot!(draw(66, 8, &s, panes::pending::render));
}

#[test]
fn events() {
    insta::assert_snapshot!(draw(110, 8, &fixture::state(), panes::events::render));
}

#[test]
fn whole_screen() {
    insta::assert_snapshot!(screen(120, 40, &fixture::state()));
}

#[test]
fn whole_screen_at_the_minimum_size() {
    insta::assert_snapshot!(screen(80, 24, &fixture::state()));
}

#[test]
fn too_small_terminal_gets_a_message() {
    insta::assert_snapshot!(screen(60, 12, &fixture::state()));
}

#[test]
fn a_dashboard_that_fell_back_to_a_watch_says_why() {
    let mut s = fixture::watch(crate::tui::access::Access::Watch);
    s.watch_reason =
        crate::tui::lab_gate::watch_reason("tasks", &crate::tui::lab_gate::Found::Foreign);
    insta::assert_snapshot!(screen(120, 40, &s));
}

#[test]
fn help_overlay() {
    let mut s = fixture::state();
    s.view.mode = Mode::Help;
    insta::assert_snapshot!(screen(120, 40, &s));
}

#[test]
fn trim_prompt_and_confirmation() {
    let mut s = fixture::state();
    s.view.mode = Mode::Input {
        prompt: Prompt::Trim,
        text: "1000".into(),
    };
    let prompt = screen(100, 30, &s);
    crate::tui::update::update(
        &mut s,
        crate::tui::action::Action::Key(crate::tui::action::Intent::Submit),
    );
    insta::assert_snapshot!("trim_prompt", prompt);
    insta::assert_snapshot!("trim_confirm", screen(100, 30, &s));
}

#[test]
fn entry_view() {
    let mut s = fixture::state();
    s.view.mode = Mode::Entry(crate::tui::state::EntryView {
        id: id(12_000, 0),
        fields: Some(crate::engine::browse::Fetched::Fields(vec![
            (b"kind".to_vec(), b"email".to_vec()),
            (b"payload".to_vec(), b"{\"task\":42}".to_vec()),
            (b"seq".to_vec(), b"42".to_vec()),
        ])),
        ..Default::default()
    });
    insta::assert_snapshot!(screen(100, 30, &s));
}

#[test]
fn help_overlay_on_a_short_terminal_uses_two_columns() {
    let mut s = fixture::state();
    s.view.mode = Mode::Help;
    insta::assert_snapshot!(screen(160, 24, &s));
}

#[test]
fn whole_screen_in_a_read_only_watch() {
    let s = fixture::watch(crate::tui::access::Access::Watch);
    insta::assert_snapshot!(screen(120, 40, &s));
}

#[test]
fn help_in_a_read_only_watch_marks_unavailable_keys() {
    let mut s = fixture::watch(crate::tui::access::Access::Watch);
    s.view.mode = Mode::Help;
    insta::assert_snapshot!(screen(120, 40, &s));
}

#[test]
fn whole_screen_in_a_watch_that_may_write() {
    let s = fixture::watch(crate::tui::access::Access::WatchWrites);
    insta::assert_snapshot!(screen(120, 40, &s));
}

/// A read-only watch on its overview of a busy database.
fn overview() -> State {
    let mut s = fixture::watch(crate::tui::access::Access::Watch);
    s.screen = crate::tui::state::Screen::Overview;
    let o = &mut s.overview;
    o.rows = std::sync::Arc::new(fixture::overview_rows());
    o.link = Some(LinkState::Connected);
    o.taken_ms = NOW - 400;
    o.scan_complete = true;
    o.unrefreshed = 1;
    o.commands_per_poll = 12;
    o.commands_per_s = 11.6;
    o.round_trip_us = 850;
    o.redis_ms_per_s = 0.94;
    o.budget_us_per_s = 2_000;
    o.refresh_within = Some(std::time::Duration::from_secs(250));
    o.set_height(crate::tui::layout::overview_rows(30));
    o.arrange(NOW);
    s
}

#[test]
fn overview_of_every_stream() {
    insta::assert_snapshot!(screen(120, 30, &overview()));
}

#[test]
fn overview_on_a_narrow_terminal_keeps_the_telling_columns() {
    insta::assert_snapshot!(screen(80, 24, &overview()));
}

/// At 80x24 the stream names that share a prefix stay apart (their middle
/// is cut, with `…`), and a stream with a stalled consumer is marked.
#[test]
fn overview_keeps_long_names_apart_and_marks_stuck_consumers() {
    use crate::monitor::keyspace::stats::ConsumerStats;
    let mut s = overview();
    let mut rows = fixture::overview_rows();
    let mut low = fixture::stream_row("streaq:emails:queues:low", 10, &[(1, Some(0))]);
    let mut stats = (**low.stats.as_ref().unwrap()).clone();
    stats.groups[0].consumer_stats = vec![ConsumerStats {
        pending: 1,
        seen_ms: Some(NOW - 600_000),
        active_ms: None,
        oldest_delivered_ms: Some(NOW - 600_000),
        ..ConsumerStats::default()
    }];
    low.stats = Some(std::sync::Arc::new(stats));
    rows.push(low);
    rows.push(fixture::stream_row(
        "streaq:emails:queues:high",
        10,
        &[(0, Some(0))],
    ));
    s.overview.rows = std::sync::Arc::new(rows);
    s.overview.sort = crate::tui::overview::SortBy::Key;
    s.overview.arrange(NOW);
    let text = text_of(&screen(80, 24, &s));
    assert!(text.contains("…eues:low ⚠1"), "{text}");
    assert!(text.contains("…eues:high"), "{text}");
    insta::assert_snapshot!(screen(80, 24, &s));
}

#[test]
fn overview_filtered_and_sorted_by_lag() {
    let mut s = overview();
    s.overview.filter = Some("*s".into());
    s.overview.sort = crate::tui::overview::SortBy::Lag;
    s.overview.arrange(NOW);
    insta::assert_snapshot!(screen(120, 24, &s));
}

#[test]
fn overview_while_the_first_scan_runs() {
    let mut s = overview();
    s.overview.rows = std::sync::Arc::new(Vec::new());
    s.overview.scan_complete = false;
    s.overview.refresh_within = None;
    s.overview.budget_us_per_s = 10_000;
    s.overview.arrange(NOW);
    insta::assert_snapshot!(screen(100, 24, &s));
}

#[test]
fn help_on_the_overview() {
    let mut s = overview();
    s.view.mode = Mode::Help;
    insta::assert_snapshot!(screen(120, 30, &s));
}

/// A stream with 20 groups: the pane shows a few rows, scrolled to keep the
/// selected one (here the 18th, past the detail cap) in view.
#[test]
fn groups_scroll_to_the_selected_one_of_many() {
    let mut s = fixture::state();
    if let Some(snap) = s.snapshot.as_mut() {
        let snap = std::sync::Arc::make_mut(snap);
        snap.more_groups = (2..20)
            .map(|i| crate::redis::GroupInfo {
                name: format!("team-{i:02}"),
                consumers: 1,
                pending: i,
                lag: Some(100 - i),
                ..crate::redis::GroupInfo::default()
            })
            .collect();
        snap.groups_omitted = snap.more_groups.len();
    }
    s.view.group = "team-17".into();
    s.view.focus = Pane::Groups;
    insta::assert_snapshot!(draw(120, 7, &s, panes::groups::render));
}

fn text_of(b: &TestBackend) -> String {
    let area = b.buffer().area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| b.buffer()[(x, y)].symbol().to_owned())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A status line longer than the room beside the hints is shown whole:
/// the hints give way (it used to be cut at ~77 characters on 160).
#[test]
fn a_long_status_is_shown_whole_on_a_wide_screen() {
    let mut s = fixture::state();
    let long = "w: this dashboard only watches 'orders' (streamlab did not create it); `streamlab --lab --stream orders` runs the lab on it";
    s.status = Some(long.into());
    let text = text_of(&screen(160, 40, &s));
    let footer = text.lines().last().unwrap_or_default();
    assert!(footer.contains(long), "{footer}");
}

/// The help's long lines (a watch's greyed keys with their tags) wrap
/// instead of being cut.
#[test]
fn help_lines_are_never_cut() {
    let mut s = fixture::state();
    s.access = crate::tui::access::Access::Watch;
    s.view.mode = Mode::Help;
    let text = text_of(&screen(90, 60, &s));
    let joined: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for words in ["(XGROUP SETID)", "normal / slow / failing", "(confirms)"] {
        assert!(joined.contains(words), "{words}:\n{text}");
    }
}

/// Group names longer than 12: whole where the pane has room, cut in the
/// middle with `…` where it has not, never two names reading the same.
#[test]
fn long_group_names_take_the_room_there_is() {
    let mut s = fixture::state();
    if let Some(snap) = s.snapshot.as_mut() {
        let snap = std::sync::Arc::make_mut(snap);
        snap.groups[0].info.name = "streaq:emails:queues:low".into();
        snap.groups[1].info.name = "streaq:emails:queues:high".into();
    }
    s.view.group = "streaq:emails:queues:high".into();
    let wide = text_of(&draw(160, 6, &s, panes::groups::render));
    assert!(wide.contains("streaq:emails:queues:low "), "{wide}");
    assert!(wide.contains("streaq:emails:queues:high "), "{wide}");
    let narrow = text_of(&draw(80, 6, &s, panes::groups::render));
    let low = narrow
        .lines()
        .find(|l| l.contains("low"))
        .unwrap_or_default();
    let high = narrow
        .lines()
        .find(|l| l.contains("high"))
        .unwrap_or_default();
    assert!(low.contains('…') && high.contains('…'), "{narrow}");
}

/// A stream without groups (opened from the overview): the header and the
/// panes say there is no group, not an empty name.
#[test]
fn a_stream_without_groups_says_so_everywhere() {
    let mut s = fixture::watch(crate::tui::access::Access::Watch);
    s.view.group = String::new();
    if let Some(snap) = s.snapshot.as_mut() {
        let snap = std::sync::Arc::make_mut(snap);
        snap.groups.clear();
        if let Some(info) = snap.stream.as_mut() {
            info.groups = 0;
        }
    }
    let text = text_of(&screen(120, 40, &s));
    assert!(text.contains("group (no group)"), "{text}");
    assert!(text.contains("Consumers of (no group)"), "{text}");
    assert!(text.contains("Pending: no group"), "{text}");
    assert!(!text.contains("Pending in :"), "{text}");
    assert!(!text.contains("no such group"), "{text}");
    insta::assert_snapshot!(screen(120, 40, &s));
}
