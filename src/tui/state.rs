//! The dashboard's state: plain data, changed only by `update` and read by
//! the panes. Derived figures (rates, sparkline history) live here too,
//! computed when a snapshot arrives, so drawing never computes them.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;

use crate::engine::browse::Fetched;
use crate::monitor::advice::Health;
use crate::monitor::diagnosis::Thresholds;
use crate::monitor::partitioned::PartitionRow;
use crate::monitor::{GroupSnapshot, LinkState, Snapshot};
use crate::redis::connect::SentinelStatus;
use crate::redis::{EntryId, PendingEntry, ServerInfo};
use crate::supervisor::{Roster, WorkerReport};
use crate::tui::access::{self, Access, Needs};
use crate::tui::confirm::Confirmation;
use crate::tui::entries::EntriesView;
use crate::tui::overview::OverviewView;
use crate::tui::reclaims::OwnMove;
use crate::tui::trend::GroupTrend;

/// Samples kept for the sparklines (one per poll).
pub const HISTORY: usize = 240;
/// Lines kept in the event log.
pub const LOG_LINES: usize = 300;

/// Fixed facts about this run, shown on screen.
#[derive(Debug, Clone, Default)]
pub struct Lab {
    /// The server URL with its secret redacted.
    pub url: String,
    pub stream: String,
    pub group: String,
    pub refresh: Duration,
    pub min_idle: Duration,
    pub claim_every: Duration,
    pub max_deliveries: u64,
    pub work_ms: u64,
    pub basic_name: String,
    /// The lab's workers ack with XACKDEL ... ACKED (`--ack-delete`).
    pub ack_delete: bool,
    /// What the lab's producer trims with, as XADD says it
    /// (`MAXLEN ~ 1000 ACKED`); `None` when it does not trim.
    pub producer_trim: Option<String>,
}

/// The focusable panes, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    Groups,
    #[default]
    Consumers,
    Pending,
    Events,
}

impl Pane {
    pub const ORDER: [Pane; 4] = [Pane::Groups, Pane::Consumers, Pane::Pending, Pane::Events];
}

/// What a text prompt is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// MAXLEN n, MINID id or `safe`.
    Trim,
    Filter,
    /// The consumer that takes the marked entries.
    ClaimMarkedTo {
        group: String,
    },
    /// The consumer that takes a pending entry.
    ClaimTo {
        group: String,
        id: EntryId,
        owner: String,
    },
    /// Who takes a consumer's pending entries before it is deleted
    /// (empty: they are dropped with it).
    MovePendingTo {
        group: String,
        consumer: String,
        pending: u64,
    },
    /// The group's new last-delivered id (`$`, `0` or an id).
    SetId {
        group: String,
    },
    /// The overview's glob on stream names.
    StreamFilter,
    /// A lab scenario's name.
    Scenario,
    /// The entries view: go to an id, a time or an age.
    GoTo,
    /// The entries view: search (`field=value`, `field~text`, text).
    Search,
}

/// Which screen is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Screen {
    /// Every stream, one row each (a watch's home).
    Overview,
    /// One stream: its groups, consumers, PEL and events (the lab's home).
    #[default]
    Stream,
    /// One stream's entries, newest first (`e` on the stream screen).
    Entries,
}

/// The key mode: which overlay (if any) takes the keys.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Mode {
    #[default]
    Normal,
    Help,
    /// The server: version, features, memory and queue-safety advice.
    Server,
    Input {
        prompt: Prompt,
        text: String,
    },
    /// An action's exact commands, waiting for `y` or the typed stream name.
    Confirm(Confirmation),
    /// One entry, whole: every field, escaped, wrapped and scrollable.
    Entry(EntryView),
}

/// The entry view, the same from the entries view and from the PEL.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EntryView {
    pub id: EntryId,
    /// The partition key holding it, on a partitioned stream.
    pub key: Option<String>,
    /// `None` while it is being read.
    pub fields: Option<Fetched>,
    /// Display lines scrolled past.
    pub scroll: usize,
    /// Values as they are (JSON not pretty-printed).
    pub raw: bool,
}

/// The time zone the dashboard shows times in and reads typed times in
/// (the system's; UTC in tests).
#[derive(Debug, Clone, PartialEq)]
pub struct Tz(pub TimeZone);

impl Default for Tz {
    fn default() -> Self {
        Self(TimeZone::UTC)
    }
}

/// Client-side filter of the PEL page (never XPENDING IDLE).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PelFilter {
    pub consumer: Option<String>,
    pub min_idle_ms: Option<u64>,
}

/// PEL entries marked for a bulk action (Space, `*`), on one stream's
/// group: marks on another group or stream do not count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Marks {
    pub stream: String,
    pub group: String,
    pub entries: BTreeMap<EntryId, PendingEntry>,
    /// `*` matched more than the mark limit: only the first are marked.
    pub truncated: bool,
}

/// Selection, focus, paging: what the user is looking at.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// The stream shown on the stream screen.
    pub stream: String,
    pub focus: Pane,
    pub mode: Mode,
    /// Selected group (the PEL and consumers shown are this group's).
    pub group: String,
    /// Selected consumer by name; `None` means the first row.
    pub consumer: Option<String>,
    pub pel_row: usize,
    /// Start ids of the PEL pages walked so far; the last is on screen.
    pub pel_pages: Vec<EntryId>,
    /// How many PEL rows fit on screen (the page size requested).
    pub pel_rows: usize,
    pub filter: PelFilter,
    /// Lines scrolled down from the newest event.
    pub log_scroll: usize,
    /// Terminal size (width, height), for the PEL page size.
    pub size: (u16, u16),
    /// On a partitioned stream, the selected partition (index).
    pub partition: usize,
    /// The partition key one-shot commands were last told to act on.
    pub partition_focus: Option<String>,
    pub marks: Marks,
}

/// Rates and their history, from the last two snapshots.
#[derive(Debug, Clone, Default)]
pub struct Rates {
    pub produced_per_s: f64,
    pub acked_per_s: f64,
    pub produced: VecDeque<u64>,
    pub acked: VecDeque<u64>,
    /// The poller's own cost.
    pub commands_per_s: f64,
    pub worker_per_s: HashMap<String, f64>,
    pub basic_per_s: f64,
    /// Samples taken so far (the first is shown as is, later ones smoothed).
    pub samples: u64,
}

/// What the previous snapshot said, to compute rates and infer reclaims.
#[derive(Debug, Clone, Default)]
pub struct Previous {
    pub taken_ms: u64,
    pub entries_added: Option<u64>,
    pub length: u64,
    pub entries_read: Option<u64>,
    pub pending: u64,
    pub commands_total: u64,
    pub acked_ours: u64,
    pub processed: HashMap<String, u64>,
    pub basic_read: u64,
    /// Owner and delivery count of each entry on the last PEL page.
    pub owners_group: String,
    pub owners: HashMap<EntryId, (String, u64)>,
    /// The group whose acks the rates counted (`entries_read`, `pending`).
    pub acked_group: String,
    /// Of the group on screen (`owners_group`): each consumer's pending
    /// count, entries read and last-delivered id, to count reclaims.
    pub consumers: HashMap<String, u64>,
    pub group_reads: Option<u64>,
    pub group_last_delivered: Option<EntryId>,
}

/// How an event-log line is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    Info,
    Lifecycle,
    Reclaim,
    Dead,
    Failure,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub at_ms: u64,
    pub kind: LogKind,
    pub text: String,
    /// Lines with the same key in a row are merged (a failing worker
    /// would otherwise push everything else off the log).
    pub key: Option<String>,
    pub repeats: u32,
}

/// Continuous production as the user set it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Production {
    pub on: bool,
    pub rate: f64,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub now_ms: u64,
    /// What this dashboard may do (fixed at start).
    pub access: Access,
    /// Why the dashboard opened as a watch instead of a lab (on a stream
    /// streamlab did not create); `None` when asked for (`streamlab watch`).
    pub watch_reason: Option<String>,
    pub screen: Screen,
    pub overview: OverviewView,
    pub lab: Lab,
    pub link: Option<LinkState>,
    pub server: Option<ServerInfo>,
    /// Behind Redis Sentinel: the master's name and where it is now
    /// (updated by each `failover` event).
    pub sentinel: Option<SentinelStatus>,
    /// The server's memory and queue-safety advice (INFO, every 5 s).
    pub health: Option<Health>,
    pub snapshot: Option<Arc<Snapshot>>,
    /// A partitioned stream's partitions (`snapshot` holds their totals).
    pub partitions: Vec<PartitionRow>,
    pub polls: u64,
    pub roster: Roster,
    pub production: Production,
    pub rates: Rates,
    pub previous: Option<Previous>,
    /// Each group's lag history, ack rate and backlog estimate.
    pub trends: HashMap<String, GroupTrend>,
    pub log: VecDeque<LogLine>,
    pub view: View,
    /// Entries claimed by hand: not reported again as inferred reclaims.
    pub claimed_by_hand: HashSet<EntryId>,
    /// Moves the dashboard made, until a poll shows them (see `reclaims`).
    pub own_moves: Vec<OwnMove>,
    /// A group the screen turned to before it exists (a scenario's): kept
    /// selected until it appears.
    pub awaited_group: Option<String>,
    /// Poison entries of a group already logged.
    pub poison_seen: (String, HashSet<EntryId>),
    /// The last command's outcome, shown in the footer.
    pub status: Option<String>,
    /// `--stuck-after` and `--poison-after`: the consumer diagnosis and the
    /// poison marker.
    pub thresholds: Thresholds,
    pub quit: bool,
    /// The entries screen.
    pub entries: EntriesView,
    pub tz: Tz,
}

impl State {
    pub fn new(lab: Lab, production: Production, now_ms: u64) -> Self {
        let view = View {
            stream: lab.stream.clone(),
            group: lab.group.clone(),
            pel_rows: 10,
            ..View::default()
        };
        Self {
            now_ms,
            lab,
            production,
            view,
            ..Self::default()
        }
    }

    /// Whether this is a lab and the stream on screen is the one its
    /// parts run on.
    pub fn on_lab_stream(&self) -> bool {
        self.access == Access::Lab && self.view.stream == self.lab.stream
    }

    /// Whether keys that need `needs` can act here.
    pub fn can(&self, needs: Needs) -> bool {
        access::unmet(needs, self).is_none()
    }

    /// Every group's name: those polled in detail, then the rest.
    pub fn group_names(&self) -> Vec<String> {
        self.snapshot
            .iter()
            .flat_map(|s| s.group_infos().map(|g| g.name.clone()))
            .collect()
    }

    /// The selected partition's key, on a partitioned stream.
    pub fn selected_partition(&self) -> Option<&str> {
        let rows = &self.partitions;
        let row = rows.get(self.view.partition.min(rows.len().saturating_sub(1)))?;
        Some(&row.key)
    }

    /// The selected group's snapshot, if Redis reported it.
    pub fn group(&self) -> Option<&GroupSnapshot> {
        self.snapshot.as_ref()?.group(&self.view.group)
    }

    pub fn ours(&self, name: &str) -> Option<&WorkerReport> {
        self.roster.workers.iter().find(|w| w.name == name)
    }

    /// Consumer names in display order: what Redis reports for the
    /// selected group, then our workers Redis does not list yet.
    pub fn consumer_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .group()
            .map(|g| g.consumers.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        if self.on_lab_stream() && self.view.group == self.lab.group {
            for w in &self.roster.workers {
                if !names.contains(&w.name) {
                    names.push(w.name.clone());
                }
            }
        }
        names
    }

    pub fn selected_consumer(&self) -> Option<String> {
        let names = self.consumer_names();
        match &self.view.consumer {
            Some(n) if names.contains(n) => Some(n.clone()),
            _ => names.into_iter().next(),
        }
    }

    /// The PEL rows on screen: the fetched page, filtered by min idle.
    pub fn pel_rows(&self) -> Vec<&PendingEntry> {
        let min = self.view.filter.min_idle_ms.unwrap_or(0);
        self.group()
            .and_then(|g| g.pel_page.as_ref())
            .map(|page| page.iter().filter(|p| p.idle_ms >= min).collect())
            .unwrap_or_default()
    }

    /// The marked entries of the group on screen, by id.
    pub fn marked(&self) -> Vec<&PendingEntry> {
        let m = &self.view.marks;
        if m.stream != self.view.stream || m.group != self.view.group {
            return Vec::new();
        }
        m.entries.values().collect()
    }

    pub fn selected_pending(&self) -> Option<&PendingEntry> {
        let rows = self.pel_rows();
        rows.get(self.view.pel_row.min(rows.len().saturating_sub(1)))
            .copied()
    }

    pub fn push_log(&mut self, at_ms: u64, kind: LogKind, text: String) {
        self.push_log_keyed(at_ms, kind, text, None);
    }

    /// Log a line; one with the same `key` as the newest line replaces it
    /// and counts the repeat.
    pub fn push_log_keyed(&mut self, at_ms: u64, kind: LogKind, text: String, key: Option<String>) {
        if let Some(top) = self.log.front_mut()
            && key.is_some()
            && top.key == key
        {
            top.at_ms = at_ms;
            top.text = text;
            top.repeats += 1;
            return;
        }
        let line = LogLine {
            at_ms,
            kind,
            text,
            key,
            repeats: 0,
        };
        self.log.push_front(line);
        self.log.truncate(LOG_LINES);
    }
}
