use std::sync::Arc;

use super::*;
use crate::monitor::keyspace::stats::{ConsumerStats, GroupStats, StreamStats};
use crate::redis::EntryId;

const NOW: u64 = 1_000_000;
const OPTIONS: RenderOptions = RenderOptions {
    stuck_after_ms: 300_000,
    consumer_metrics: true,
};

fn row(key: &str, lag: Option<u64>) -> Row {
    let consumer = ConsumerStats {
        name: "c1".into(),
        pending: 2,
        seen_ms: Some(NOW - 600_000),
        oldest_pending: Some(EntryId {
            ms: NOW - 700_000,
            seq: 0,
        }),
        oldest_delivered_ms: Some(NOW - 650_000),
        ..ConsumerStats::default()
    };
    let group = GroupStats {
        name: "g".into(),
        consumers: 1,
        pending: 2,
        lag,
        oldest_pending: Some(EntryId {
            ms: NOW - 700_000,
            seq: 0,
        }),
        consumer_stats: vec![consumer],
        ..GroupStats::default()
    };
    Row {
        key: key.into(),
        stats: Some(Arc::new(StreamStats {
            length: 7,
            last_generated_id: Some(EntryId {
                ms: NOW - 5_000,
                seq: 0,
            }),
            entries_added: Some(9),
            groups: vec![group],
        })),
        refreshed_ms: NOW,
        dead: Some(3),
        ..Row::default()
    }
}

fn text(state: &Published, options: RenderOptions) -> String {
    render(state, NOW, options, Format::Text).unwrap()
}

#[test]
fn a_stream_its_group_and_consumer_become_labelled_series() {
    let state = Published {
        rows: Arc::new(vec![row("orders", None)]),
        up: true,
        ..Published::default()
    };
    let out = text(&state, OPTIONS);
    for line in [
        r#"streamlab_stream_length{stream="orders"} 7"#,
        r#"streamlab_stream_entries_added_total{stream="orders"} 9"#,
        r#"streamlab_stream_dead_letters{stream="orders"} 3"#,
        r#"streamlab_stream_last_entry_age_seconds{stream="orders"} 5"#,
        r#"streamlab_group_lag_known{stream="orders",group="g"} 0"#,
        r#"streamlab_group_oldest_pending_age_seconds{stream="orders",group="g"} 700"#,
        r#"streamlab_consumer_pending{stream="orders",group="g",consumer="c1"} 2"#,
        r#"streamlab_consumer_idle_seconds{stream="orders",group="g",consumer="c1"} 600"#,
        r#"streamlab_consumer_diagnosis{stream="orders",group="g",consumer="c1",diagnosis="stalled"} 1"#,
        "streamlab_up 1",
    ] {
        assert!(out.contains(line), "missing {line} in\n{out}");
    }
    // An unknown lag is absent, never 0; the clearing time too.
    assert!(!out.contains("streamlab_group_lag{"), "{out}");
    assert!(!out.contains("streamlab_group_clears_in_seconds{"), "{out}");
    let lean = text(
        &state,
        RenderOptions {
            consumer_metrics: false,
            ..OPTIONS
        },
    );
    assert!(!lean.contains("streamlab_consumer_pending{"), "{lean}");
}

#[test]
fn partitions_carry_their_index_under_the_logical_stream() {
    let mut logical = row("jobs", Some(1));
    logical.partitions = vec![row("{jobs.p0}", Some(1)), row("{jobs.p1}", Some(4))];
    let state = Published {
        rows: Arc::new(vec![logical]),
        ..Published::default()
    };
    let out = text(&state, OPTIONS);
    assert!(
        out.contains(r#"streamlab_group_lag{stream="jobs",partition="1",group="g"} 4"#),
        "{out}"
    );
    assert!(
        out.contains(r#"streamlab_stream_length{stream="jobs",partition="0"} 7"#),
        "{out}"
    );
    assert!(
        !out.contains(r#"streamlab_stream_length{stream="jobs"} "#),
        "{out}"
    );
}

#[test]
fn prometheus_gets_openmetrics_and_others_the_text_format() {
    // What Prometheus 2.42 sends (seen on the wire).
    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
    assert_eq!(Format::negotiate(None), Format::Text);
    assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
    assert_eq!(
        Format::negotiate(Some("text/plain;version=0.0.4")),
        Format::Text
    );
    let refused = "application/openmetrics-text;q=0,text/plain";
    assert_eq!(Format::negotiate(Some(refused)), Format::Text);
    let state = Published::default();
    let open = render(&state, NOW, OPTIONS, Format::OpenMetrics).unwrap();
    assert!(open.ends_with("# EOF\n"), "{open}");
}

#[test]
fn dead_letters_are_0_only_when_no_dead_letter_stream_can_be_unseen() {
    let mut none = row("orders", None);
    none.dead = None;
    let mut unread = none.clone();
    unread.dead_unread = true;
    let line = r#"streamlab_stream_dead_letters{stream="orders"}"#;
    for (scan_complete, r, want) in [
        (false, &none, None),
        (true, &unread, None),
        (true, &none, Some(0.0)),
        (false, &row("orders", None), Some(3.0)),
    ] {
        let state = Published {
            rows: Arc::new(vec![r.clone()]),
            scan_complete,
            ..Published::default()
        };
        let out = text(&state, OPTIONS);
        let got = out
            .lines()
            .find_map(|l| l.strip_prefix(line))
            .map(|v| v.trim().parse::<f64>().unwrap());
        assert_eq!(got, want, "scan complete {scan_complete}, {r:?}\n{out}");
    }
}

#[test]
fn a_consumer_is_diagnosed_as_of_its_row_s_refresh_not_the_scrape() {
    // Read 10 s before the refresh, holding an entry delivered then: fine
    // at the refresh; ten minutes later it may have read again since.
    let mut r = row("orders", None);
    r.refreshed_ms = NOW - 600_000;
    let stats = Arc::make_mut(r.stats.as_mut().unwrap());
    let c = &mut stats.groups[0].consumer_stats[0];
    c.seen_ms = Some(NOW - 610_000);
    c.oldest_delivered_ms = Some(NOW - 610_000);
    let state = Published {
        rows: Arc::new(vec![r.clone()]),
        ..Published::default()
    };
    let out = text(&state, OPTIONS);
    assert!(!out.contains("streamlab_consumer_diagnosis{"), "{out}");
    assert_eq!(r.stuck(NOW, OPTIONS.stuck_after_ms), 0);
    // Its idle time still grows to the scrape, as Redis's would.
    assert!(
        out.contains(
            r#"streamlab_consumer_idle_seconds{stream="orders",group="g",consumer="c1"} 610"#
        ),
        "{out}"
    );
}

#[test]
fn openmetrics_writes_infinity_as_the_format_spells_it() {
    let mut state = Published {
        rows: Arc::new(vec![row("orders", Some(4))]),
        ..Published::default()
    };
    let key: GroupKey = ("orders".into(), "g".into());
    state.clears = Arc::new([(key, f64::INFINITY)].into_iter().collect());
    let out = render(&state, NOW, OPTIONS, Format::OpenMetrics).unwrap();
    assert!(
        out.contains("streamlab_group_clears_in_seconds{stream=\"orders\",group=\"g\"} +Inf\n"),
        "{out}"
    );
    assert!(!out.contains(" inf\n"), "{out}");
}
