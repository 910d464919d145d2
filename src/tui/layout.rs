//! Where each pane goes. Pure arithmetic on the screen size, used both to
//! draw and to know how many PEL rows fit (the page size to fetch).

use ratatui::layout::{Constraint, Layout, Rect};

use crate::tui::state::State;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

pub struct Areas {
    pub header: Rect,
    pub stream: Rect,
    pub basic: Rect,
    pub groups: Rect,
    /// Zero-height unless the stream is partitioned.
    pub partitions: Rect,
    pub consumers: Rect,
    pub pending: Rect,
    pub events: Rect,
    pub footer: Rect,
}

pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// Rows of the groups table: borders, header and up to four groups.
pub fn group_rows(state: &State) -> u16 {
    let groups = state.snapshot.as_ref().map_or(0, |s| s.groups.len());
    u16::try_from(groups.clamp(1, 4)).unwrap_or(4) + 3
}

/// Rows of the partitions pane: borders, header and up to three
/// partitions; none for a plain stream.
pub fn partition_rows(state: &State) -> u16 {
    match state.partitions.len() {
        0 => 0,
        n => u16::try_from(n.min(crate::tui::panes::partitions::VISIBLE)).unwrap_or(3) + 3,
    }
}

pub fn areas(area: Rect, group_rows: u16, partition_rows: u16) -> Areas {
    let [header, top, groups, partitions, middle, events, footer] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(6),
        Constraint::Length(group_rows),
        Constraint::Length(partition_rows),
        Constraint::Fill(3),
        Constraint::Fill(2),
        Constraint::Length(1),
    ])
    .areas(area);
    let [stream, basic] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(44)]).areas(top);
    let [consumers, pending] =
        Layout::horizontal([Constraint::Percentage(48), Constraint::Percentage(52)]).areas(middle);
    Areas {
        header,
        stream,
        basic,
        groups,
        partitions,
        consumers,
        pending,
        events,
        footer,
    }
}

/// The overview screen: header, the streams table, footer.
pub fn overview_areas(area: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(3),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// How many streams fit in the overview's table (borders and header excluded).
pub fn overview_rows(height: u16) -> usize {
    let [_, table, _] = overview_areas(Rect::new(0, 0, MIN_WIDTH, height));
    usize::from(table.height.saturating_sub(3)).max(1)
}

/// How many PEL rows fit in the Pending pane (borders and header excluded).
pub fn pel_rows(width: u16, height: u16, state: &State) -> usize {
    let a = areas(
        Rect::new(0, 0, width, height),
        group_rows(state),
        partition_rows(state),
    );
    usize::from(a.pending.height.saturating_sub(3)).max(1)
}

/// The entries screen: header, the entries, footer.
pub fn entries_areas(area: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(3),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// How many entries fit on the entries screen (borders, the column
/// header and the note line excluded): the page size asked for.
pub fn entries_rows(height: u16) -> usize {
    let [_, table, _] = entries_areas(Rect::new(0, 0, MIN_WIDTH, height));
    usize::from(table.height.saturating_sub(4)).max(1)
}
