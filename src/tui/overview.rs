//! The overview screen's state and behaviour: every stream the overview
//! poller found, filtered by a glob (`/`), sorted by a column (`o`/`O`,
//! most pending first by default), a selection kept by key across
//! re-sorts, and the keys on screen (which the poller refreshes each poll).
//! A partitioned stream is one row; Space expands it into its partitions'
//! rows underneath (and folds it again).

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;

use crate::monitor::LinkState;
use crate::monitor::keyspace::glob;
use crate::monitor::keyspace::poller::KeyspaceState;
use crate::monitor::keyspace::rows::Row;

/// What the overview is sorted by; numbers biggest first, names A to Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Pending,
    Lag,
    TimeLag,
    OldestPending,
    Length,
    Added,
    Dead,
    Consumers,
    Key,
}

impl SortBy {
    pub const ORDER: [SortBy; 9] = [
        Self::Pending,
        Self::Lag,
        Self::TimeLag,
        Self::OldestPending,
        Self::Length,
        Self::Added,
        Self::Dead,
        Self::Consumers,
        Self::Key,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Lag => "lag",
            Self::TimeLag => "time lag",
            Self::OldestPending => "oldest pending",
            Self::Length => "length",
            Self::Added => "added/s",
            Self::Dead => "dead letters",
            Self::Consumers => "consumers",
            Self::Key => "name",
        }
    }

    /// The next column (`by` 1) or the previous one (`by` ORDER.len() - 1).
    pub fn step(self, by: usize) -> Self {
        let at = Self::ORDER.iter().position(|s| *s == self).unwrap_or(0);
        Self::ORDER[(at + by) % Self::ORDER.len()]
    }

    /// The figure a row is sorted by; `None` sorts last.
    fn figure(self, r: &Row, now_ms: u64) -> Option<f64> {
        #[expect(clippy::cast_precision_loss, reason = "only compared")]
        let n = |v: Option<u64>| v.map(|v| v as f64);
        match self {
            Self::Pending => n(r.stats.as_ref().map(|_| r.pending())),
            Self::Lag => n(r.lag()),
            Self::TimeLag => n(r.time_lag_ms(now_ms)),
            Self::OldestPending => n(r.oldest_pending_ms(now_ms)),
            Self::Length => n(r.length()),
            Self::Added => r.added_per_s,
            Self::Dead => n(r.dead),
            Self::Consumers => n(r.stats.as_ref().map(|_| r.consumers())),
            Self::Key => None,
        }
    }
}

/// The overview as the screen shows it.
#[derive(Debug, Clone, Default)]
pub struct OverviewView {
    pub rows: Arc<Vec<Row>>,
    /// Indices into `rows`: filtered, then sorted.
    pub order: Vec<usize>,
    /// The list as shown: `order`, each expanded row followed by its
    /// partitions (row index, partition index).
    lines: Vec<(usize, Option<usize>)>,
    /// Partitioned streams shown with their partitions.
    pub expanded: HashSet<Arc<str>>,
    pub selected: Option<Arc<str>>,
    /// First row on screen, and how many fit.
    pub top: usize,
    pub height: usize,
    pub sort: SortBy,
    /// The `/` glob on key names (applied here, costs Redis nothing).
    pub filter: Option<String>,
    /// `--match`: what SCAN is limited to.
    pub pattern: Option<String>,
    pub link: Option<LinkState>,
    pub taken_ms: u64,
    pub scan_complete: bool,
    pub unrefreshed: usize,
    pub commands_per_poll: u64,
    pub commands_per_s: f64,
    pub round_trip_us: u64,
    /// Estimated Redis time per second (ms) between the last two polls.
    pub redis_ms_per_s: f64,
    /// The budget under way (µs of Redis time per second).
    pub budget_us_per_s: u64,
    /// Within what every row is read again (`None` during the first pass).
    pub refresh_within: Option<std::time::Duration>,
    /// Commands, Redis time (µs) and time of the previous poll, for the
    /// per-second figures.
    previous: Option<(u64, u64, u64)>,
}

impl OverviewView {
    /// A new poll: take its rows and figures, then filter and sort again.
    pub fn on_poll(&mut self, poll: KeyspaceState, now_ms: u64) {
        self.link = poll.link;
        if poll.taken_ms != self.taken_ms {
            if let Some((commands, redis_us, at)) = self.previous
                && poll.taken_ms > at
            {
                #[expect(clippy::cast_precision_loss, reason = "rates for display")]
                let (commands, redis_us, ms) = (
                    poll.commands_total.saturating_sub(commands) as f64,
                    poll.redis_us_total.saturating_sub(redis_us) as f64,
                    (poll.taken_ms - at) as f64,
                );
                self.commands_per_s = commands * 1000.0 / ms;
                self.redis_ms_per_s = redis_us / ms;
            }
            self.previous = Some((poll.commands_total, poll.redis_us_total, poll.taken_ms));
        }
        self.rows = poll.rows;
        self.taken_ms = poll.taken_ms;
        self.scan_complete = poll.scan_complete;
        self.unrefreshed = poll.unrefreshed;
        self.commands_per_poll = poll.last.commands;
        self.round_trip_us = poll.last.round_trip_us;
        self.budget_us_per_s = poll.budget_us_per_s;
        self.refresh_within = poll.refresh_within;
        self.arrange(now_ms);
    }

    /// Filter and sort `rows` into `order`, keeping the selection in view.
    pub fn arrange(&mut self, now_ms: u64) {
        let filter = self.filter.as_deref();
        let mut order: Vec<usize> = (0..self.rows.len())
            .filter(|i| filter.is_none_or(|f| glob::matches(f, &self.rows[*i].key)))
            .collect();
        let sort = self.sort;
        let keyed: Vec<Option<f64>> = self.rows.iter().map(|r| sort.figure(r, now_ms)).collect();
        order.sort_by(|a, b| {
            let by_figure = match (keyed[*a], keyed[*b]) {
                (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(Ordering::Equal),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            by_figure.then_with(|| self.rows[*a].key.cmp(&self.rows[*b].key))
        });
        self.order = order;
        self.lines = self.order.iter().flat_map(|&i| self.lines_of(i)).collect();
        self.keep_in_view();
    }

    fn lines_of(&self, i: usize) -> Vec<(usize, Option<usize>)> {
        let row = &self.rows[i];
        let mut out = vec![(i, None)];
        if self.expanded.contains(&row.key) {
            out.extend((0..row.partitions.len()).map(|p| (i, Some(p))));
        }
        out
    }

    fn line(&self, (i, part): (usize, Option<usize>)) -> &Row {
        let row = &self.rows[i];
        part.and_then(|p| row.partitions.get(p)).unwrap_or(row)
    }

    /// Expand the selected partitioned stream into its partitions, or
    /// fold it (from one of its partitions too); false for a plain stream.
    pub fn toggle(&mut self, now_ms: u64) -> bool {
        let Some(row) = self.selected_row() else {
            return false;
        };
        let key = row.partition_of.clone().unwrap_or_else(|| row.key.clone());
        let partitioned = row.partition_of.is_some() || !row.partitions.is_empty();
        if !partitioned {
            return false;
        }
        if !self.expanded.remove(&key) {
            self.expanded.insert(key.clone());
        }
        self.selected = Some(key);
        self.arrange(now_ms);
        true
    }

    /// The stream column: a partitioned stream with its partition count
    /// (and whether it is expanded), a partition indented under it.
    pub fn label(&self, row: &Row) -> String {
        if row.partition_of.is_some() {
            return format!("  └ {}", row.key);
        }
        match row.partitions.len() {
            0 => row.key.to_string(),
            n => {
                let mark = if self.expanded.contains(&row.key) {
                    '▾'
                } else {
                    '▸'
                };
                format!("{mark} {} ({n} partitions)", row.key)
            }
        }
    }

    /// The selected row's position in the list (the first row if none).
    pub fn cursor(&self) -> usize {
        self.selected
            .as_ref()
            .and_then(|k| self.lines.iter().position(|l| self.line(*l).key == *k))
            .unwrap_or(0)
    }

    pub fn selected_row(&self) -> Option<&Row> {
        self.lines.get(self.cursor()).map(|l| self.line(*l))
    }

    /// Move the selection by `by` rows (clamped to the list).
    pub fn step(&mut self, by: isize) {
        let last = self.lines.len().saturating_sub(1);
        let to = self.cursor().saturating_add_signed(by).min(last);
        self.selected = self.lines.get(to).map(|l| self.line(*l).key.clone());
        self.keep_in_view();
    }

    fn keep_in_view(&mut self) {
        let at = self.cursor();
        let height = self.height.max(1);
        if at < self.top {
            self.top = at;
        } else if at >= self.top + height {
            self.top = at + 1 - height;
        }
        self.top = self.top.min(self.lines.len().saturating_sub(height));
    }

    /// The keys on screen, which the poller refreshes every poll.
    pub fn visible(&self) -> Vec<Arc<str>> {
        self.page().map(|r| r.key.clone()).collect()
    }

    /// The rows on screen, in order.
    pub fn page(&self) -> impl Iterator<Item = &Row> {
        self.lines
            .iter()
            .skip(self.top)
            .take(self.height.max(1))
            .map(|l| self.line(*l))
    }

    pub fn set_height(&mut self, height: usize) {
        self.height = height.max(1);
        self.keep_in_view();
    }
}

#[cfg(test)]
#[path = "overview_tests.rs"]
mod tests;
