//! `streamlab exporter` with real parts: a real Prometheus scrapes it
//! (negotiating OpenMetrics) and its query API returns the figures XINFO
//! and XPENDING give; `promtool check metrics` passes on the text format;
//! run as a read-only ACL user, INFO commandstats shows no writing
//! command and the password shows nowhere; on a local cluster every
//! master's streams are exported, and behind Sentinel the master's; while
//! Redis is down `streamlab_up` is 0 and no stream series is served, and
//! it recovers; the shipped alert rules pass `promtool check rules` and
//! their unit tests, and a real Prometheus evaluating them fires for a
//! stalled consumer; a listen address that cannot be bound is one
//! `error:` line, exit 2.

#[path = "common/cluster.rs"]
mod cluster;
mod common;
#[path = "common/prometheus.rs"]
mod prometheus;
#[path = "common/sentinel.rs"]
mod sentinel;
#[path = "common/stats.rs"]
mod stats;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use common::{BinProcess, Deadline, connector, raw, run_bin, server};
use prometheus::{Prometheus, get, promtool};
use stats::{READ_ONLY_RULES, acl_user, assert_read_only, command_stats};
use streamlab::redis::{
    Conn, parse_consumers, parse_groups, parse_pending_range, xpending_summary,
};

const WAIT: Duration = Duration::from_secs(60);
const OPENMETRICS: &str =
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";

/// A running exporter and the address it serves on.
struct Exporter {
    process: BinProcess,
    addr: String,
}

/// Start `streamlab --url <url> exporter --listen 127.0.0.1:0 <extra>` and
/// wait for the line naming the address it bound.
async fn exporter(url: &str, extra: &str) -> Exporter {
    exporter_with(&format!("--url {url}"), extra).await
}

/// The same with any connection flags (`--sentinel ...`).
async fn exporter_with(connection: &str, extra: &str) -> Exporter {
    let line = format!("{connection} exporter --listen 127.0.0.1:0 --interval 200ms {extra}");
    let process = BinProcess::spawn(&line, &[]);
    let deadline = Deadline::new("the exporter says where it serves", WAIT);
    loop {
        let said = process.stderr_lines().iter().find_map(|l| {
            l.strip_prefix("serving metrics on http://")
                .map(str::to_owned)
        });
        if let Some(rest) = said {
            let addr = rest.split('/').next().unwrap_or_default().to_owned();
            return Exporter { process, addr };
        }
        deadline.tick().await;
    }
}

async fn metrics(addr: &str, accept: Option<&str>) -> (u16, BTreeMap<String, String>, String) {
    get(addr, "/metrics", accept).await.expect("GET /metrics")
}

/// Wait until `promql` has exactly one series, valued `expected`.
async fn expect_value(prom: &Prometheus, promql: &str, expected: f64) {
    let until = std::time::Instant::now() + WAIT;
    let mut last = None;
    while std::time::Instant::now() < until {
        last = prom.value(promql).await.or(last);
        if last == Some(expected) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{promql}: last {last:?}, expected {expected} within {WAIT:?}; log: {}",
        prom.log()
    );
}

async fn int(conn: &mut Conn, args: &[&str]) -> f64 {
    match raw(conn, args).await {
        redis::Value::Int(n) => n as f64,
        other => panic!("{args:?}: {other:?}"),
    }
}

/// `orders`: 10 entries, group `billing` with 4 delivered (one of them
/// three times, claimed by c2) and 6 undelivered, 2 dead letters; `quiet`:
/// a stream with no group.
async fn queue(admin: &mut Conn) {
    for i in 0..10 {
        raw(admin, &["XADD", "orders", "*", "n", &i.to_string()]).await;
    }
    raw(admin, &["XGROUP", "CREATE", "orders", "billing", "0"]).await;
    raw(
        admin,
        &[
            "XREADGROUP",
            "GROUP",
            "billing",
            "c1",
            "COUNT",
            "4",
            "STREAMS",
            "orders",
            ">",
        ],
    )
    .await;
    let page = raw(admin, &["XPENDING", "orders", "billing", "-", "+", "1"]).await;
    let first = parse_pending_range(&page).expect("pending")[0]
        .id
        .to_string();
    for _ in 0..2 {
        raw(admin, &["XCLAIM", "orders", "billing", "c2", "0", &first]).await;
    }
    for i in 0..2 {
        raw(admin, &["XADD", "orders:dead", "*", "n", &i.to_string()]).await;
    }
    raw(admin, &["XADD", "quiet", "*", "n", "1"]).await;
}

#[tokio::test]
async fn prometheus_scrapes_the_figures_xinfo_and_xpending_give_as_a_read_only_user() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    queue(&mut admin).await;
    let password = "Exp0rter-s3cret";
    acl_user(&mut admin, "scraper", password, READ_ONLY_RULES).await;
    raw(&mut admin, &["CONFIG", "RESETSTAT"]).await;
    let url = format!("redis://scraper:{password}@127.0.0.1:{}", redis.port);
    let exp = exporter(&url, "--poison-after 3 --stuck-after 1s").await;
    let prom = Prometheus::start(std::slice::from_ref(&exp.addr));

    // What Redis says.
    let groups = parse_groups(&raw(&mut admin, &["XINFO", "GROUPS", "orders"]).await).unwrap();
    let billing = &groups[0];
    let summary = xpending_summary(&mut admin, "orders", "billing")
        .await
        .unwrap();
    let consumers =
        parse_consumers(&raw(&mut admin, &["XINFO", "CONSUMERS", "orders", "billing"]).await)
            .unwrap();
    let page = raw(
        &mut admin,
        &["XPENDING", "orders", "billing", "-", "+", "100"],
    )
    .await;
    let poison = parse_pending_range(&page)
        .unwrap()
        .iter()
        .filter(|p| p.deliveries >= 3)
        .count();
    assert_eq!(
        (summary.count, poison, consumers.len()),
        (4, 1, 2),
        "the set-up"
    );

    let s = r#"stream="orders""#;
    let g = r#"stream="orders",group="billing""#;
    expect_value(&prom, r#"up{job="streamlab"}"#, 1.0).await;
    expect_value(&prom, "streamlab_up", 1.0).await;
    expect_value(
        &prom,
        &format!("streamlab_stream_length{{{s}}}"),
        int(&mut admin, &["XLEN", "orders"]).await,
    )
    .await;
    // Redis 7.0+ counts the entries added; 6.2 does not, and the series is
    // absent there, never a guessed figure.
    let info = raw(&mut admin, &["XINFO", "STREAM", "orders"]).await;
    let added = streamlab::redis::reply::table(&info).and_then(|t| {
        t.get("entries-added")
            .and_then(|v| streamlab::redis::reply::count(v))
    });
    let added_query = format!("streamlab_stream_entries_added_total{{{s}}}");
    match added {
        Some(n) => expect_value(&prom, &added_query, n as f64).await,
        None => assert!(prom.query(&added_query).await.is_empty()),
    }
    expect_value(
        &prom,
        &format!("streamlab_stream_dead_letters{{{s}}}"),
        int(&mut admin, &["XLEN", "orders:dead"]).await,
    )
    .await;
    expect_value(
        &prom,
        &format!("streamlab_group_pending{{{g}}}"),
        summary.count as f64,
    )
    .await;
    // The lag where Redis knows it (7.0+); absent, and said unknown, where not.
    let lag_query = format!("streamlab_group_lag{{{g}}}");
    let known_query = format!("streamlab_group_lag_known{{{g}}}");
    if let Some(lag) = billing.lag {
        expect_value(&prom, &lag_query, lag as f64).await;
        expect_value(&prom, &known_query, 1.0).await;
    } else {
        expect_value(&prom, &known_query, 0.0).await;
        assert!(prom.query(&lag_query).await.is_empty());
    }
    expect_value(
        &prom,
        &format!("streamlab_group_consumers{{{g}}}"),
        billing.consumers as f64,
    )
    .await;
    expect_value(
        &prom,
        &format!("streamlab_group_poison_entries{{{g}}}"),
        poison as f64,
    )
    .await;
    for c in &consumers {
        let promql = format!(r#"streamlab_consumer_pending{{{g},consumer="{}"}}"#, c.name);
        expect_value(&prom, &promql, c.pending as f64).await;
    }
    // c1 holds entries and does not read: stalled once --stuck-after (1s) passed.
    let stalled =
        format!(r#"streamlab_consumer_diagnosis{{{g},consumer="c1",diagnosis="stalled"}}"#);
    expect_value(&prom, &stalled, 1.0).await;
    // The dead-letter stream is folded into its stream, not a stream of its own.
    assert!(
        prom.query(r#"streamlab_stream_length{stream="orders:dead"}"#)
            .await
            .is_empty()
    );
    expect_value(&prom, r#"streamlab_stream_length{stream="quiet"}"#, 1.0).await;
    let age = prom
        .value(&format!(
            "streamlab_group_oldest_pending_age_seconds{{{g}}}"
        ))
        .await;
    // The age of the first id XPENDING lists, as of a scrape a second or
    // two ago.
    let page = raw(
        &mut admin,
        &["XPENDING", "orders", "billing", "-", "+", "1"],
    )
    .await;
    let first = parse_pending_range(&page).expect("pending")[0].id;
    let expected = streamlab::redis::id::now_ms().saturating_sub(first.ms) as f64 / 1000.0;
    assert!(
        age.is_some_and(|a| a <= expected + 0.5 && a >= expected - 5.0),
        "{age:?}, XPENDING's first id is {expected} s old"
    );

    // Every query of the shipped dashboard is one Prometheus accepts.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dashboard = std::fs::read_to_string(root.join("assets/grafana/streamlab.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    let exprs: Vec<String> = panels
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_owned))
        .collect();
    assert!(exprs.len() >= 4, "{dashboard}");
    for expr in exprs {
        let concrete = expr.replace("$stream", ".*").replace("$group", ".*");
        prom.parses(&concrete)
            .await
            .unwrap_or_else(|e| panic!("{expr}: {e}"));
    }

    // The text format passes promtool; the password is nowhere.
    let (status, headers, text) = metrics(&exp.addr, None).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"].starts_with("text/plain; version=0.0.4"),
        "{headers:?}"
    );
    let (ok, said) = promtool(&["check", "metrics"], Some(&text), Path::new("."));
    assert!(ok, "promtool check metrics: {said}\n{text}");
    let mut shown = text.clone();
    shown.push_str(&exp.process.stderr_lines().join("\n"));
    shown.push_str(&exp.process.stdout_lines().join("\n"));
    assert!(!shown.contains(password), "the password leaked: {shown}");

    // Read-only: nothing that writes reached Redis, nothing was refused.
    let stats = command_stats(&mut admin).await;
    // Redis 6.2 counts subcommands under their command (`xinfo`).
    for polled in ["scan", "xinfo|stream", "xpending"] {
        let named = |n: &str| n == polled || polled.split('|').next() == Some(n);
        assert!(
            stats.iter().any(|s| named(&s.name) && s.calls > 0),
            "{polled}: {stats:?}"
        );
    }
    assert_read_only(&mut admin, &stats).await;
}

#[tokio::test]
async fn the_pages_and_formats_and_no_consumer_series_when_asked() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    queue(&mut admin).await;
    let exp = exporter(&redis.url(), "--no-consumer-metrics").await;
    let deadline = Deadline::new("the exporter lists billing", WAIT);
    let text = loop {
        let (_, _, text) = metrics(&exp.addr, None).await;
        if text.contains(r#"streamlab_group_pending{stream="orders",group="billing"} 4"#) {
            break text;
        }
        deadline.tick().await;
    };
    assert!(!text.contains("streamlab_consumer_"), "{text}");
    let (ok, said) = promtool(&["check", "metrics"], Some(&text), Path::new("."));
    assert!(ok, "promtool check metrics: {said}\n{text}");

    // Every metric the shipped rules and dashboard name is one the exporter serves.
    let served: HashSet<String> = streamlab::exporter::metrics::family_names()
        .into_iter()
        .collect();
    let types = text.lines().filter_map(|l| l.strip_prefix("# TYPE "));
    for name in types.filter_map(|l| l.split(' ').next()) {
        assert!(served.contains(name), "{name} is served but not listed");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for asset in [
        "assets/prometheus/alerts.yml",
        "assets/grafana/streamlab.json",
    ] {
        let body = std::fs::read_to_string(root.join(asset)).unwrap();
        for (at, _) in body.match_indices("streamlab_") {
            let name: String = body[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                served.contains(name.as_str()),
                "{asset} names {name}, which is not served"
            );
        }
    }

    let (status, headers, open) = metrics(&exp.addr, Some(OPENMETRICS)).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"].starts_with("application/openmetrics-text; version=1.0.0"),
        "{headers:?}"
    );
    assert!(open.ends_with("# EOF\n"), "{open}");
    assert!(
        open.contains("# TYPE streamlab_redis_commands counter"),
        "{open}"
    );

    let (status, headers, page) = get(&exp.addr, "/", None).await.unwrap();
    assert_eq!(status, 200);
    assert!(headers["content-type"].starts_with("text/html"));
    assert!(page.contains(r#"href="/metrics""#), "{page}");
    let (status, _, _) = get(&exp.addr, "/nothing", None).await.unwrap();
    assert_eq!(status, 404);
}

#[tokio::test]
async fn every_master_s_streams_are_exported_from_a_cluster() {
    let c = cluster::shared(3, 0);
    let connector = connector(&c.url());
    let mut conn = connector.conn("setup");
    let keys: Vec<String> = (0..24).map(|i| format!("exp:{i}")).collect();
    for key in &keys {
        raw(&mut conn, &["XADD", key, "*", "n", "1"]).await;
    }
    let masters = connector.masters().await.expect("masters");
    let holders: HashSet<usize> = keys
        .iter()
        .filter_map(|k| {
            masters
                .iter()
                .position(|m| m.owns(streamlab::redis::topology::key_slot(k)))
        })
        .collect();
    assert_eq!(holders.len(), 3, "the streams lie on every master");
    let exp = exporter(&c.url(), "--match exp:*").await;
    let deadline = Deadline::new("every stream of every master is exported", WAIT);
    loop {
        let (_, _, text) = metrics(&exp.addr, None).await;
        let found: HashSet<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix(r#"streamlab_stream_length{stream=""#))
            .filter_map(|l| l.split('"').next().map(str::to_owned))
            .collect();
        if found == keys.iter().cloned().collect::<HashSet<_>>() {
            assert!(!text.contains(cluster::PASSWORD));
            break;
        }
        deadline.tick().await;
    }
}

/// The series of `stream` in the text format, as `name value` lines.
async fn series_of(addr: &str, stream: &str) -> Vec<String> {
    let (_, _, text) = metrics(addr, None).await;
    let label = format!(r#"stream="{stream}""#);
    text.lines()
        .filter(|l| l.contains(&label))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_sentinel_the_master_s_streams_are_exported() {
    let set = sentinel::SentinelSet::start();
    let mut conn = connector(&set.master.url()).conn("setup");
    raw(&mut conn, &["XADD", "sentinel-orders", "*", "n", "1"]).await;
    raw(&mut conn, &["XADD", "sentinel-orders", "*", "n", "2"]).await;
    let exp = exporter_with(&set.args(), "").await;
    let want = r#"streamlab_stream_length{stream="sentinel-orders"} 2"#;
    let deadline = Deadline::new("the master's stream is exported", WAIT);
    while !series_of(&exp.addr, "sentinel-orders")
        .await
        .iter()
        .any(|l| l.starts_with(want))
    {
        deadline.tick().await;
    }
}

#[tokio::test]
async fn while_redis_is_down_up_is_0_and_no_stream_is_served_then_it_recovers() {
    let mut redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    raw(&mut admin, &["XADD", "before", "*", "n", "1"]).await;
    let exp = exporter(&redis.url(), "").await;
    let deadline = Deadline::new("the stream is exported", WAIT);
    while series_of(&exp.addr, "before").await.is_empty() {
        deadline.tick().await;
    }
    redis.kill();
    let deadline = Deadline::new("streamlab_up 0 and no stream series", WAIT);
    loop {
        let (_, _, text) = metrics(&exp.addr, None).await;
        if text.contains("\nstreamlab_up 0") && !text.contains("streamlab_stream_length{") {
            break;
        }
        deadline.tick().await;
    }
    redis.restart().unwrap();
    let mut admin = connector(&redis.url()).conn("setup again");
    raw(&mut admin, &["XADD", "after", "*", "n", "1"]).await;
    let deadline = Deadline::new("up again, with the new stream", WAIT);
    loop {
        let (_, _, text) = metrics(&exp.addr, None).await;
        if text.contains("\nstreamlab_up 1") && !series_of(&exp.addr, "after").await.is_empty() {
            break;
        }
        deadline.tick().await;
    }
}

/// Paged for a stuck queue: a real Prometheus evaluates the shipped rules
/// (their expressions as shipped, every `for:` shortened to 0s so the test
/// need not wait minutes) on the exporter's figures, and fires
/// StreamlabConsumerStalled for the consumer that took entries and stopped
/// reading, and nothing the queue does not show.
#[tokio::test]
async fn prometheus_with_the_shipped_rules_pages_for_a_stalled_consumer() {
    let redis = server();
    let mut admin = connector(&redis.url()).conn("setup");
    queue(&mut admin).await;
    let exp = exporter(&redis.url(), "--stuck-after 1s").await;
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/prometheus/alerts.yml");
    let shipped = std::fs::read_to_string(shipped).expect("the shipped rules");
    let rules: Vec<String> = shipped
        .lines()
        .map(|line| match line.split_once("for:") {
            Some((indent, _)) if indent.trim().is_empty() => format!("{indent}for: 0s"),
            _ => line.to_owned(),
        })
        .collect();
    let prom =
        Prometheus::start_with_rules(std::slice::from_ref(&exp.addr), Some(&rules.join("\n")));
    let firing = r#"ALERTS{alertname="StreamlabConsumerStalled",alertstate="firing"}"#;
    let until = std::time::Instant::now() + WAIT;
    loop {
        let alerts = prom.query(firing).await;
        let c1 = alerts.iter().any(|(l, _)| {
            l.get("stream").is_some_and(|s| s == "orders")
                && l.get("group").is_some_and(|g| g == "billing")
                && l.get("consumer").is_some_and(|c| c == "c1")
        });
        if c1 {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "{firing} for c1 within {WAIT:?}: {alerts:?}; log: {}",
            prom.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Only what this queue shows fires: its stalled consumers and its
    // poison entry (3 deliveries); not the dead letters (2 from the start:
    // none arrived), not a lag that stands still, not the stream without
    // a group.
    let expected = ["StreamlabConsumerStalled", "StreamlabPoisonEntries"];
    let all = prom.query(r#"ALERTS{alertstate="firing"}"#).await;
    let unexpected: Vec<_> = all
        .iter()
        .filter(|(l, _)| !expected.contains(&l["alertname"].as_str()))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
}

#[tokio::test]
async fn the_shipped_alert_rules_check_and_fire_in_their_unit_tests() {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/prometheus");
    let (ok, said) = promtool(&["check", "rules", "alerts.yml"], None, &assets);
    assert!(ok, "promtool check rules: {said}");
    let (ok, said) = promtool(&["test", "rules", "alerts_test.yml"], None, &assets);
    assert!(ok, "promtool test rules: {said}");
    assert!(said.contains("SUCCESS"), "{said}");
}

#[tokio::test]
async fn a_listen_address_that_cannot_be_bound_is_one_line_and_exit_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let cases = [
        (
            format!("exporter --listen {addr}"),
            vec!["--listen", "in use"],
        ),
        (
            "exporter --listen nowhere".to_owned(),
            vec!["nowhere", "HOST:PORT"],
        ),
        (
            "exporter --listen 192.0.2.1:19121".to_owned(),
            vec!["192.0.2.1:19121", "no such address"],
        ),
    ];
    for (line, says) in cases {
        let out = run_bin(&line, &[], Duration::from_secs(20)).await;
        common::assert_error(&out, 2, &says);
    }
}
