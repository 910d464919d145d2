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
