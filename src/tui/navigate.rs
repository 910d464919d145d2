//! Focus, selection and paging, and the PEL page this implies: the only
//! page the poller fetches is the one on screen.

use crate::monitor::PelQuery;
use crate::redis::EntryId;
use crate::tui::action::Intent;
use crate::tui::state::{Pane, PelFilter, State};

pub fn on_intent(state: &mut State, intent: Intent) {
    match intent {
        Intent::FocusNext => focus(state, 1),
        Intent::FocusPrev => focus(state, Pane::ORDER.len() - 1),
        Intent::Up => step(state, -1),
        Intent::Down => step(state, 1),
        Intent::PageDown if state.view.focus == Pane::Events => scroll_log(state, 10),
        Intent::PageUp if state.view.focus == Pane::Events => scroll_log(state, -10),
        Intent::PageDown => next_page(state),
        Intent::PageUp => {
            state.view.pel_pages.pop();
            state.view.pel_row = 0;
        }
        _ => {}
    }
}

fn focus(state: &mut State, by: usize) {
    let n = Pane::ORDER.len();
    let at = Pane::ORDER
        .iter()
        .position(|p| *p == state.view.focus)
        .unwrap_or(0);
    state.view.focus = Pane::ORDER[(at + by) % n];
}

fn moved(at: usize, by: isize, len: usize) -> usize {
    at.saturating_add_signed(by).min(len.saturating_sub(1))
}

fn step(state: &mut State, by: isize) {
    match state.view.focus {
        Pane::Groups => {
            let names = state.group_names();
            let at = names.iter().position(|n| *n == state.view.group);
            if let Some(name) = at
                .map(|i| moved(i, by, names.len()))
                .and_then(|i| names.get(i))
                && *name != state.view.group
            {
                state.view.group.clone_from(name);
                state.view.consumer = None;
                set_filter(state, PelFilter::default());
            }
        }
        Pane::Consumers => {
            let names = state.consumer_names();
            let current = state.selected_consumer();
            let at = names.iter().position(|n| Some(n) == current.as_ref());
            let to = at.map_or(0, |i| moved(i, by, names.len()));
            state.view.consumer = names.get(to).cloned();
        }
        Pane::Pending => {
            let len = state.pel_rows().len();
            state.view.pel_row = moved(state.view.pel_row, by, len);
        }
        Pane::Events => scroll_log(state, by),
    }
}

fn scroll_log(state: &mut State, by: isize) {
    state.view.log_scroll = moved(state.view.log_scroll, by, state.log.len());
}

fn next_page(state: &mut State) {
    let page = state.group().and_then(|g| g.pel_page.as_ref());
    let last = page.and_then(|p| p.last()).map(|p| p.id);
    let full = page.is_some_and(|p| p.len() >= state.view.pel_rows);
    match last {
        Some(id) if full => {
            state.view.pel_pages.push(after(id));
            state.view.pel_row = 0;
        }
        _ => state.status = Some("this is the last page of the PEL".into()),
    }
}

/// The smallest id greater than `id` (XPENDING's start is inclusive).
pub fn after(id: EntryId) -> EntryId {
    match id.seq.checked_add(1) {
        Some(seq) => EntryId { ms: id.ms, seq },
        None => EntryId {
            ms: id.ms.saturating_add(1),
            seq: 0,
        },
    }
}

/// A new filter starts again from the first page.
pub fn set_filter(state: &mut State, filter: PelFilter) {
    state.view.filter = filter;
    state.view.pel_pages.clear();
    state.view.pel_row = 0;
}

/// The PEL page to fetch with the next poll.
pub fn pel_query(state: &State) -> PelQuery {
    PelQuery {
        group: state.view.group.clone(),
        start: state.view.pel_pages.last().copied(),
        count: state.view.pel_rows.max(1),
        consumer: state.view.filter.consumer.clone(),
    }
}
