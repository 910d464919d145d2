//! The overview screen's state as plain functions: sort, filter, selection.

use std::sync::Arc;

use super::*;
use crate::tui::fixture::{NOW, overview_rows};

fn view() -> OverviewView {
    let mut o = OverviewView {
        rows: Arc::new(overview_rows()),
        height: 3,
        ..OverviewView::default()
    };
    o.arrange(NOW);
    o
}

fn keys(o: &OverviewView) -> Vec<String> {
    o.order.iter().map(|i| o.rows[*i].key.to_string()).collect()
}

#[test]
fn most_pending_first_and_unread_rows_last() {
    let o = view();
    assert_eq!(
        keys(&o),
        ["tasks", "orders", "audit", "billing:eu", "events:new"]
    );
}

#[test]
fn every_sort_column_orders_and_names_sort_a_to_z() {
    let mut o = view();
    o.sort = SortBy::Lag;
    o.arrange(NOW);
    assert_eq!(keys(&o)[..2], ["orders", "tasks"]);
    o.sort = SortBy::Dead;
    o.arrange(NOW);
    assert_eq!(keys(&o)[0], "orders");
    o.sort = SortBy::Key;
    o.arrange(NOW);
    assert_eq!(keys(&o)[..3], ["audit", "billing:eu", "events:new"]);
    // o walks every column and comes back.
    let mut s = SortBy::default();
    for _ in 0..SortBy::ORDER.len() {
        s = s.step(1);
    }
    assert_eq!(s, SortBy::Pending);
    assert_eq!(SortBy::Pending.step(SortBy::ORDER.len() - 1), SortBy::Key);
}

#[test]
fn the_filter_is_a_glob_on_names() {
    let mut o = view();
    o.filter = Some("*s".into());
    o.arrange(NOW);
    assert_eq!(keys(&o), ["tasks", "orders"]);
    o.filter = Some("b*:[a-z][a-z]".into());
    o.arrange(NOW);
    assert_eq!(keys(&o), ["billing:eu"]);
}

#[test]
fn the_selection_follows_its_stream_across_re_sorts_and_stays_on_screen() {
    let mut o = view();
    o.step(1);
    assert_eq!(o.selected_row().map(|r| &*r.key), Some("orders"));
    o.sort = SortBy::Key;
    o.arrange(NOW);
    assert_eq!(o.selected_row().map(|r| &*r.key), Some("orders"));
    assert_eq!(o.cursor(), 3);
    // Three rows fit: the selection scrolled the page.
    assert_eq!(o.top, 1);
    let visible: Vec<String> = o.visible().iter().map(ToString::to_string).collect();
    assert_eq!(visible, ["billing:eu", "events:new", "orders"]);
    o.step(100);
    assert_eq!(o.selected_row().map(|r| &*r.key), Some("tasks"));
    o.step(-100);
    assert_eq!(o.cursor(), 0);
}

/// The fixture's rows plus `jobs`, a stream of two partitions.
fn with_partitions() -> OverviewView {
    let mut rows = overview_rows();
    let part = |key: &str| Row {
        partition_of: Some("jobs".into()),
        ..crate::tui::fixture::stream_row(key, 10, &[(1, Some(0))])
    };
    rows.push(Row {
        partitions: vec![part("{jobs.p0}"), part("{jobs.p1}")],
        ..crate::tui::fixture::stream_row("jobs", 20, &[(2, Some(0))])
    });
    let mut o = OverviewView {
        rows: Arc::new(rows),
        height: 10,
        sort: SortBy::Key,
        ..OverviewView::default()
    };
    o.arrange(NOW);
    o
}

fn shown(o: &OverviewView) -> Vec<String> {
    o.page().map(|r| o.label(r)).collect()
}

#[test]
fn a_partitioned_stream_is_one_row_that_expands_into_its_partitions() {
    let mut o = with_partitions();
    assert_eq!(shown(&o)[3], "▸ jobs (2 partitions)");
    assert_eq!(shown(&o).len(), 6, "folded: one row");
    o.selected = Some("jobs".into());
    assert!(o.toggle(NOW));
    assert_eq!(
        shown(&o)[3..6],
        ["▾ jobs (2 partitions)", "  └ {jobs.p0}", "  └ {jobs.p1}"]
    );
    // The partitions' keys are refreshed while on screen; one is selectable.
    assert!(o.visible().iter().any(|k| &**k == "{jobs.p1}"));
    o.step(2);
    assert_eq!(o.selected_row().map(|r| &*r.key), Some("{jobs.p1}"));
    // Folding from a partition selects the stream again.
    assert!(o.toggle(NOW));
    assert_eq!(shown(&o).len(), 6);
    assert_eq!(o.selected_row().map(|r| &*r.key), Some("jobs"));
    o.step(-1);
    assert!(!o.toggle(NOW), "a plain stream does not expand");
}
