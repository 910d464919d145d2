//! The metric families and their series, from one published state. Names
//! and labels are a contract (README "Alerting"): `stream`, then
//! `partition` where one applies, `group`, `consumer`. Encoded by
//! prometheus-client in the Prometheus text format 0.0.4 or OpenMetrics.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::exporter::poller::Published;
use crate::exporter::{GroupKey, seconds};
use crate::monitor::diagnosis::Diagnosis;
use crate::monitor::keyspace::rows::Row;
use crate::monitor::keyspace::stats::{ConsumerStats, GroupStats, StreamStats};

/// A series' labels, in the contract's order.
type Labels = Vec<(&'static str, String)>;
type Gauges = Family<Labels, Gauge<f64, AtomicU64>>;
type Counters = Family<Labels, Counter<u64>>;

/// The gauges, with their help text (prometheus-client ends it with a dot).
const GAUGES: &[(&str, &str)] = &[
    ("streamlab_stream_length", "Entries in the stream (XLEN)"),
    (
        "streamlab_stream_last_entry_age_seconds",
        "Age of the stream's newest entry, from its id",
    ),
    (
        "streamlab_stream_dead_letters",
        "Entries in the stream's dead-letter stream <stream>:dead (0 when it does not exist)",
    ),
    (
        "streamlab_group_pending",
        "Entries delivered to the group and not acked (its PEL)",
    ),
    (
        "streamlab_group_lag",
        "Entries not yet delivered to the group; absent when Redis does not know",
    ),
    (
        "streamlab_group_lag_known",
        "1 when Redis knows the group's lag, else 0",
    ),
    (
        "streamlab_group_time_lag_seconds",
        "Age of the oldest entry not yet delivered to the group (0 when caught up)",
    ),
    (
        "streamlab_group_oldest_pending_age_seconds",
        "Age of the group's oldest pending entry, from its id (0 when none)",
    ),
    ("streamlab_group_consumers", "Consumers of the group"),
    (
        "streamlab_group_clears_in_seconds",
        "Seconds until the group's backlog (lag plus pending) clears at its ack rate net of production; +Inf when it does not; absent while unknown",
    ),
    (
        "streamlab_group_poison_entries",
        "Pending entries delivered at least --poison-after times, among the oldest 100 of the PEL (a lower bound for a longer PEL)",
    ),
    (
        "streamlab_consumer_pending",
        "Entries the consumer holds (delivered, not acked)",
    ),
    (
        "streamlab_consumer_idle_seconds",
        "Seconds since the consumer last read (on Redis 7.2+ and Valkey: last tried to read)",
    ),
    (
        "streamlab_consumer_oldest_pending_age_seconds",
        "Age of the consumer's oldest pending entry, from its id (0 when none)",
    ),
    (
        "streamlab_consumer_diagnosis",
        "1 for a consumer diagnosed stalled, leaking or ghost (label diagnosis); absent when healthy",
    ),
    (
        "streamlab_up",
        "1 when Redis answered the exporter's last poll, else 0",
    ),
    (
        "streamlab_poll_duration_seconds",
        "How long the exporter's last poll of Redis took",
    ),
    (
        "streamlab_poll_redis_commands",
        "Redis commands the exporter's last poll sent (a scrape sends none)",
    ),
    (
        "streamlab_scan_complete",
        "1 once the keyspace scan has walked every node once, else 0",
    ),
    (
        "streamlab_streams_known",
        "Stream keys found so far (partitions and dead-letter streams included)",
    ),
    (
        "streamlab_refresh_within_seconds",
        "Every stream's figures are read again within this many seconds (grows with the keyspace under the 2 ms/s budget); absent during the first pass",
    ),
    (
        "streamlab_scrape_duration_seconds",
        "How long this scrape took to gather its series, before encoding",
    ),
];

/// The counters (encoded with `_total`).
const COUNTERS: &[(&str, &str)] = &[
    (
        "streamlab_stream_entries_added",
        "Entries ever added to the stream (entries-added, Redis 7.0+)",
    ),
    (
        "streamlab_redis_commands",
        "Redis commands the exporter sent since it started",
    ),
];

/// Every family's name as a query names it (counters with `_total`).
pub fn family_names() -> Vec<String> {
    let gauges = GAUGES.iter().map(|(name, _)| (*name).to_owned());
    let counters = COUNTERS.iter().map(|(name, _)| format!("{name}_total"));
    gauges.chain(counters).collect()
}

/// How series are rendered.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// `--stuck-after`, for the consumer diagnosis.
    pub stuck_after_ms: u64,
    /// Per-consumer series (off with `--no-consumer-metrics`).
    pub consumer_metrics: bool,
}

/// The series being gathered, by family name.
#[derive(Default)]
pub struct Series {
    gauges: BTreeMap<&'static str, Gauges>,
    counters: BTreeMap<&'static str, Counters>,
}

impl Series {
    fn gauge(&mut self, name: &'static str, labels: &Labels, value: f64) {
        self.gauges
            .entry(name)
            .or_default()
            .get_or_create(labels)
            .set(value);
    }

    fn counter(&mut self, name: &'static str, labels: &Labels, value: u64) {
        self.counters
            .entry(name)
            .or_default()
            .get_or_create(labels)
            .inc_by(value);
    }

    /// A registry holding every family (prometheus-client prints nothing
    /// of one without series).
    pub fn registry(&self) -> Registry {
        let mut registry = Registry::default();
        for (name, help) in GAUGES {
            let family = self.gauges.get(name).cloned().unwrap_or_default();
            registry.register(*name, *help, family);
        }
        for (name, help) in COUNTERS {
            let family = self.counters.get(name).cloned().unwrap_or_default();
            registry.register(*name, *help, family);
        }
        registry
    }
}

/// Every series of `state` at `now_ms`.
pub fn gather(state: &Published, now_ms: u64, options: RenderOptions) -> Series {
    let mut s = Series::default();
    for row in state.rows.iter() {
        if row.partitions.is_empty() {
            key_series(&mut s, state, row, base(row, None), now_ms, options);
        } else {
            for (i, part) in row.partitions.iter().enumerate() {
                key_series(&mut s, state, part, base(row, Some(i)), now_ms, options);
            }
        }
    }
    health(&mut s, state);
    s
}

/// `stream` (the logical stream for a partition) and `partition`.
fn base(row: &Row, partition: Option<usize>) -> Labels {
    let mut labels = vec![("stream", row.key.to_string())];
    if let Some(i) = partition {
        labels.push(("partition", i.to_string()));
    }
    labels
}

fn with(labels: &Labels, name: &'static str, value: &str) -> Labels {
    let mut l = labels.clone();
    l.push((name, value.to_owned()));
    l
}

/// The series of one key (a stream, or one partition of one).
fn key_series(
    s: &mut Series,
    state: &Published,
    row: &Row,
    labels: Labels,
    now: u64,
    o: RenderOptions,
) {
    let Some(stats) = &row.stats else { return };
    #[expect(clippy::cast_precision_loss, reason = "counts as Prometheus floats")]
    let f = |n: u64| n as f64;
    s.gauge("streamlab_stream_length", &labels, f(stats.length));
    if let Some(added) = stats.entries_added {
        s.counter("streamlab_stream_entries_added", &labels, added);
    }
    if let Some(age) = row.last_entry_age_ms(now) {
        s.gauge(
            "streamlab_stream_last_entry_age_seconds",
            &labels,
            seconds(age),
        );
    }
    // 0 only when no dead-letter stream can exist unseen: the scan is
    // complete and none was found. One found and not read yet is unknown
    // (absent), never 0: a 0 then N would read as dead letters arriving.
    let dead = match row.dead {
        Some(n) => Some(n),
        None => (state.scan_complete && !row.dead_unread).then_some(0),
    };
    if let Some(n) = dead {
        s.gauge("streamlab_stream_dead_letters", &labels, f(n));
    }
    for g in &stats.groups {
        let labels = with(&labels, "group", &g.name);
        let key: GroupKey = (row.key.clone(), g.name.clone());
        group_series(s, state, stats, g, &labels, &key, now);
        if o.consumer_metrics {
            for c in &g.consumer_stats {
                consumer_series(
                    s,
                    c,
                    &with(&labels, "consumer", &c.name),
                    (now, row.as_of(now)),
                    o.stuck_after_ms,
                );
            }
        }
    }
}

fn group_series(
    s: &mut Series,
    state: &Published,
    stats: &StreamStats,
    g: &GroupStats,
    labels: &Labels,
    key: &GroupKey,
    now: u64,
) {
    #[expect(clippy::cast_precision_loss, reason = "counts as Prometheus floats")]
    let f = |n: u64| n as f64;
    s.gauge("streamlab_group_pending", labels, f(g.pending));
    if let Some(lag) = g.lag {
        s.gauge("streamlab_group_lag", labels, f(lag));
    }
    s.gauge(
        "streamlab_group_lag_known",
        labels,
        f(u64::from(g.lag.is_some())),
    );
    let last = stats.last_generated_id;
    let time_lag = if g.caught_up(last) {
        Some(0)
    } else {
        g.time_lag_ms(now, last)
    };
    if let Some(ms) = time_lag {
        s.gauge("streamlab_group_time_lag_seconds", labels, seconds(ms));
    }
    let oldest = match g.oldest_pending {
        Some(id) => Some(id.age_ms(now)),
        None => (g.pending == 0).then_some(0),
    };
    if let Some(ms) = oldest {
        s.gauge(
            "streamlab_group_oldest_pending_age_seconds",
            labels,
            seconds(ms),
        );
    }
    s.gauge("streamlab_group_consumers", labels, f(g.consumers));
    if let Some(secs) = state.clears.get(key) {
        s.gauge("streamlab_group_clears_in_seconds", labels, *secs);
    }
    let poison = match state.poison.get(key) {
        Some(n) => Some(*n),
        None => (g.pending == 0).then_some(0),
    };
    if let Some(n) = poison {
        s.gauge("streamlab_group_poison_entries", labels, f(n));
    }
}

/// A consumer's series; `(now, as_of)`: ages grow to the scrape's `now`,
/// the diagnosis is the one its row's last refresh supports (`as_of`), so
/// a consumer that may have read since is never reported stalled.
fn consumer_series(
    s: &mut Series,
    c: &ConsumerStats,
    labels: &Labels,
    (now, as_of): (u64, u64),
    stuck_after_ms: u64,
) {
    #[expect(clippy::cast_precision_loss, reason = "counts as Prometheus floats")]
    s.gauge("streamlab_consumer_pending", labels, c.pending as f64);
    if let Some(seen) = c.seen_ms {
        s.gauge(
            "streamlab_consumer_idle_seconds",
            labels,
            seconds(now.saturating_sub(seen)),
        );
    }
    let oldest = match c.oldest_pending {
        Some(id) => Some(id.age_ms(now)),
        None => (c.pending == 0).then_some(0),
    };
    if let Some(ms) = oldest {
        s.gauge(
            "streamlab_consumer_oldest_pending_age_seconds",
            labels,
            seconds(ms),
        );
    }
    if let Some(d) = c.diagnosis(as_of, stuck_after_ms) {
        s.gauge(
            "streamlab_consumer_diagnosis",
            &with(labels, "diagnosis", label(d)),
            1.0,
        );
    }
}

fn label(d: Diagnosis) -> &'static str {
    d.label()
}

/// The exporter's own figures.
fn health(s: &mut Series, state: &Published) {
    let none = Labels::new();
    #[expect(clippy::cast_precision_loss, reason = "counts as Prometheus floats")]
    let f = |n: u64| n as f64;
    s.gauge("streamlab_up", &none, f(u64::from(state.up)));
    s.gauge("streamlab_poll_duration_seconds", &none, state.poll_seconds);
    s.gauge(
        "streamlab_poll_redis_commands",
        &none,
        f(state.poll_commands),
    );
    s.counter("streamlab_redis_commands", &none, state.commands_total);
    s.gauge(
        "streamlab_scan_complete",
        &none,
        f(u64::from(state.scan_complete)),
    );
    s.gauge(
        "streamlab_streams_known",
        &none,
        f(state.streams_known as u64),
    );
    if let Some(seconds) = state.refresh_within_seconds {
        s.gauge("streamlab_refresh_within_seconds", &none, seconds);
    }
}

/// Which exposition format a scraper gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`.
    Text,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl Format {
    /// What an `Accept` header asks for: OpenMetrics when it is listed
    /// with a weight at least that of `text/plain` (Prometheus asks so);
    /// the text format otherwise (curl, browsers, no header).
    pub fn negotiate(accept: Option<&str>) -> Self {
        let Some(accept) = accept else {
            return Self::Text;
        };
        let mut open = None::<f64>;
        let mut text = None::<f64>;
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f64>().ok())
                .unwrap_or(1.0);
            let slot = match media.as_str() {
                "application/openmetrics-text" => &mut open,
                "text/plain" => &mut text,
                _ => continue,
            };
            *slot = Some(slot.map_or(q, |old| old.max(q)));
        }
        match open {
            Some(o) if o > 0.0 && o >= text.unwrap_or(0.0) => Self::OpenMetrics,
            _ => Self::Text,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Text => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// `registry` in this format.
    pub fn encode(self, registry: &Registry) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        match self {
            Self::Text => prometheus_client::encoding::prometheus_text::encode(&mut out, registry)?,
            Self::OpenMetrics => {
                prometheus_client::encoding::text::encode(&mut out, registry)?;
                out = openmetrics_infinities(&out);
            }
        }
        Ok(out)
    }
}

/// prometheus-client 0.26 writes an infinite gauge as `inf` in
/// OpenMetrics (its float formatter's word), where the format says
/// `+Inf`; Prometheus reads either, stricter parsers only the latter. A
/// sample's value ends its line (labels are quoted and closed before it),
/// so only those words at the end of a line are rewritten.
fn openmetrics_infinities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let fixed = if let Some(head) = body.strip_suffix(" -inf") {
            Some(format!("{head} -Inf"))
        } else {
            body.strip_suffix(" inf").map(|head| format!("{head} +Inf"))
        };
        match fixed {
            Some(f) if !body.starts_with('#') => {
                out.push_str(&f);
                out.push_str(&line[body.len()..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// The page a scrape gets: the series of `state`, timed.
pub fn render(
    state: &Published,
    now_ms: u64,
    options: RenderOptions,
    format: Format,
) -> Result<String, std::fmt::Error> {
    let started = std::time::Instant::now();
    let mut series = gather(state, now_ms, options);
    series.gauge(
        "streamlab_scrape_duration_seconds",
        &Labels::new(),
        started.elapsed().as_secs_f64(),
    );
    format.encode(&series.registry())
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;
