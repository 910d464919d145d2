//! The safe retention planner and `trim --safe` against private
//! redis-servers: the MINID is the lowest group position, the preview says
//! exactly what goes, nothing a group still needs is removed, unknown
//! positions and streams without groups are refused, partitions are
//! planned whole, and counting on a long stream reads a bounded number of
//! entries (INFO commandstats).

mod common;

use std::time::Duration;

use common::{BinOutput, add_tasks, connector, raw, read_without_ack, run_bin, server, unique};
use streamlab::engine::partition::Layout;
use streamlab::engine::registry::{CreatedBy, record_created};
use streamlab::engine::retention::{self, EntryCount, Hold, PAGE, SCAN_BUDGET, Target};
use streamlab::redis::{Conn, EntryId, Retention, xack, xlen, xpending_summary, xtrim};

const WAIT: Duration = Duration::from_secs(20);

fn trim(url: &str, stream: &str, how: &str) -> String {
    format!("trim --url {url} --stream {stream} {how}")
}

/// `billing` holds entry 20 (index 19) pending after reading 50; `audit`
/// read and acked 31. The safe MINID is entry 20's id.
async fn two_groups(conn: &mut Conn, stream: &str) -> Vec<EntryId> {
    let ids = add_tasks(conn, stream, 100).await;
    for g in ["billing", "audit"] {
        raw(conn, &["XGROUP", "CREATE", stream, g, "0"]).await;
    }
    let read = read_without_ack(conn, stream, "billing", "b1", 50).await;
    let acked: Vec<EntryId> = read.iter().copied().filter(|id| *id != ids[19]).collect();
    xack(conn, stream, "billing", &acked).await.expect("XACK");
    let read = read_without_ack(conn, stream, "audit", "a1", 31).await;
    xack(conn, stream, "audit", &read).await.expect("XACK");
    ids
}

fn assert_ok(out: &BinOutput, what: &str) {
    assert!(out.success(), "{what}: {}\n{}", out.stdout, out.stderr);
}

#[tokio::test]
async fn safe_trim_previews_then_removes_exactly_what_every_group_acked() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let stream = unique("orders");
    let ids = two_groups(&mut conn, &stream).await;

    let out = run_bin(&trim(&url, &stream, "--safe --dry-run"), &[], WAIT).await;
    assert_ok(&out, "dry run");
    let preview = format!(
        "XTRIM {stream} MINID {} removes 19 of 100 entries, {} ... {}",
        ids[19], ids[0], ids[18]
    );
    assert!(out.stdout.contains(&preview), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!(
            "group billing: needs {} on (oldest pending entry",
            ids[19]
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "group audit: needs {} on (delivered and acked up to {})",
            ids[30].next().unwrap(),
            ids[30]
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("dry run: nothing removed"),
        "{}",
        out.stdout
    );
    assert_eq!(
        xlen(&mut conn, &stream).await.unwrap(),
        100,
        "a dry run removes nothing"
    );

    let out = run_bin(&trim(&url, &stream, "--safe"), &[], WAIT).await;
    assert_ok(&out, "trim --safe");
    assert!(out.stdout.contains("removed 19 entries"), "{}", out.stdout);
    assert_eq!(xlen(&mut conn, &stream).await.unwrap(), 81);
    let first = raw(&mut conn, &["XRANGE", &stream, "-", "+", "COUNT", "1"]).await;
    assert_eq!(
        streamlab::redis::reply::entries(&first).unwrap()[0].id,
        ids[19]
    );
    // Nothing either group needs is gone: billing's pending entry is still
    // there to retry, and audit reads on from where it was.
    assert_eq!(
        xpending_summary(&mut conn, &stream, "billing")
            .await
            .unwrap()
            .min,
        Some(ids[19])
    );
    let next = read_without_ack(&mut conn, &stream, "audit", "a1", 100).await;
    assert_eq!(next, ids[31..].to_vec());
    // Trimming again removes nothing more: billing still holds entry 20.
    let out = run_bin(&trim(&url, &stream, "--safe"), &[], WAIT).await;
    assert_ok(&out, "second trim");
    assert!(out.stdout.contains("removes nothing"), "{}", out.stdout);
}

#[tokio::test]
async fn a_stream_without_groups_or_with_an_unknown_position_is_refused() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let lonely = unique("lonely");
    add_tasks(&mut conn, &lonely, 10).await;
    let out = run_bin(&trim(&url, &lonely, "--safe"), &[], WAIT).await;
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("no consumer group reads it"),
        "{}",
        out.stderr
    );
    assert_eq!(xlen(&mut conn, &lonely).await.unwrap(), 10);

    // A user who may not run XPENDING cannot know billing's oldest pending entry.
    let stream = unique("orders");
    two_groups(&mut conn, &stream).await;
    raw(
        &mut conn,
        &[
            "ACL",
            "SETUSER",
            "trimmer",
            "on",
            ">Trim-pw-1",
            "~*",
            "+@all",
            "-xpending",
        ],
    )
    .await;
    let limited = format!("redis://trimmer:Trim-pw-1@127.0.0.1:{}", redis.port);
    let out = run_bin(&trim(&limited, &stream, "--safe"), &[], WAIT).await;
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    assert!(error.contains("group 'billing' is unknown"), "{error}");
    assert!(error.contains("nothing was removed"), "{error}");
    assert_eq!(xlen(&mut conn, &stream).await.unwrap(), 100);
}

#[tokio::test]
async fn a_dry_run_works_for_a_read_only_user_and_writes_nothing() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let stream = unique("orders");
    let ids = two_groups(&mut conn, &stream).await;
    raw(
        &mut conn,
        &[
            "ACL",
            "SETUSER",
            "reader",
            "on",
            ">Read-pw-1",
            "~*",
            "+@read",
            "+@connection",
            "+info",
            "-@write",
        ],
    )
    .await;
    raw(&mut conn, &["CONFIG", "RESETSTAT"]).await;
    let reader = format!("redis://reader:Read-pw-1@127.0.0.1:{}", redis.port);
    let how = format!("--minid {} --dry-run", ids[50]);
    let out = run_bin(&trim(&reader, &stream, &how), &[], WAIT).await;
    assert_ok(&out, "dry run as a reader");
    assert!(
        out.stdout.contains("removes 50 of 100 entries"),
        "{}",
        out.stdout
    );
    // A chosen MINID above the safe one names who would lose entries.
    assert!(
        out.stderr.contains(&format!(
            "warning: group 'billing' still needs entries from {} on",
            ids[19]
        )),
        "{}",
        out.stderr
    );
    let stats = streamlab::redis::reply::text(&raw(&mut conn, &["INFO", "commandstats"]).await)
        .unwrap_or_default();
    for write in [
        "xtrim", "xadd", "xack", "xdel", "xgroup", "hset", "hsetnx", "set", "del", "exec",
    ] {
        assert!(
            !stats.contains(&format!("cmdstat_{write}:")),
            "{write} reached the server:\n{stats}"
        );
    }
}

#[tokio::test]
async fn each_partition_is_trimmed_to_its_own_safe_id_and_a_refusal_trims_none() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let stream = unique("jobs");
    let parts = [format!("{stream}:p0"), format!("{stream}:p1")];
    let layout = Layout {
        stream: stream.clone(),
        partitions: parts.to_vec(),
    };
    record_created(&mut conn, &stream, CreatedBy::Produce, &layout)
        .await
        .expect("record");
    for (key, acked) in parts.iter().zip([5, 8]) {
        add_tasks(&mut conn, key, 10).await;
        raw(&mut conn, &["XGROUP", "CREATE", key, "g", "0"]).await;
        let read = read_without_ack(&mut conn, key, "g", "c", acked).await;
        xack(&mut conn, key, "g", &read).await.expect("XACK");
    }
    let third = format!("{stream}:p2");
    add_tasks(&mut conn, &third, 3).await;
    let with_lonely = Layout {
        stream: format!("{stream}x"),
        partitions: vec![parts[0].clone(), third],
    };
    record_created(
        &mut conn,
        &with_lonely.stream,
        CreatedBy::Produce,
        &with_lonely,
    )
    .await
    .expect("record");
    let out = run_bin(&trim(&url, &with_lonely.stream, "--safe"), &[], WAIT).await;
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert_eq!(
        xlen(&mut conn, &parts[0]).await.unwrap(),
        10,
        "refused before any partition was trimmed"
    );

    let out = run_bin(&trim(&url, &stream, "--safe"), &[], WAIT).await;
    assert_ok(&out, "partitioned trim");
    assert_eq!(xlen(&mut conn, &parts[0]).await.unwrap(), 5);
    assert_eq!(xlen(&mut conn, &parts[1]).await.unwrap(), 2);
}

/// `n` small entries added by one server-side script (fast, and ids in order).
async fn long_stream(conn: &mut Conn, key: &str, n: u64) {
    let script = "for i=1,tonumber(ARGV[1]) do redis.call('XADD', KEYS[1], '*', 'kind', 'task', 'seq', i) end";
    raw(conn, &["EVAL", script, "1", key, &n.to_string()]).await;
}

/// Deliver `n` entries to `group` without leaving them pending (NOACK).
async fn deliver_acked(conn: &mut Conn, key: &str, group: &str, n: u64) {
    raw(
        conn,
        &[
            "XREADGROUP",
            "GROUP",
            group,
            "c",
            "NOACK",
            "COUNT",
            &n.to_string(),
            "STREAMS",
            key,
            ">",
        ],
    )
    .await;
}

async fn xrange_calls(conn: &mut Conn) -> u64 {
    let stats = streamlab::redis::reply::text(&raw(conn, &["INFO", "commandstats"]).await)
        .unwrap_or_default();
    stats
        .lines()
        .find_map(|l| l.strip_prefix("cmdstat_xrange:calls="))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn counting_on_a_long_stream_reads_a_bounded_number_of_entries() {
    let redis = server();
    let mut conn = connector(&redis.url()).conn("test");
    let key = unique("long");
    long_stream(&mut conn, &key, 200_000).await;
    raw(&mut conn, &["XGROUP", "CREATE", &key, "slow", "0"]).await;
    deliver_acked(&mut conn, &key, "slow", 100_000).await;

    // The slowest group has nothing pending: its lag gives the count, no scan.
    let plan = retention::plan(&mut conn, &key, Target::Safe)
        .await
        .expect("plan");
    assert_eq!(plan.removal.count, EntryCount::Exact(100_000));
    assert_eq!(
        (plan.cost.entries_read, plan.cost.commands),
        (0, 3),
        "{:?}",
        plan.cost
    );

    // A group stuck on one entry 50,000 in, having read 500 more: only its
    // window (and the stream's start, page by page) is scanned.
    raw(&mut conn, &["XGROUP", "CREATE", &key, "stuck", "0"]).await;
    deliver_acked(&mut conn, &key, "stuck", 50_000).await;
    let stuck = read_without_ack(&mut conn, &key, "stuck", "c", 1).await[0];
    deliver_acked(&mut conn, &key, "stuck", 500).await;
    raw(&mut conn, &["CONFIG", "RESETSTAT"]).await;
    let plan = retention::plan(&mut conn, &key, Target::Safe)
        .await
        .expect("plan");
    assert_eq!(plan.minid, stuck);
    assert_eq!(plan.limits[0].hold, Hold::Pending(stuck));
    assert_eq!(plan.removal.count, EntryCount::Exact(50_000));
    assert!(plan.cost.entries_read <= 2 * 501 + PAGE, "{:?}", plan.cost);

    // No lag known (an entry deleted past every group): both sides are
    // scanned, within the budget, and the count is a lower bound.
    let last = raw(&mut conn, &["XREVRANGE", &key, "+", "-", "COUNT", "1"]).await;
    let last = streamlab::redis::reply::entries(&last).unwrap()[0]
        .id
        .to_string();
    raw(&mut conn, &["XDEL", &key, &last]).await;
    raw(&mut conn, &["CONFIG", "RESETSTAT"]).await;
    let plan = retention::plan(&mut conn, &key, Target::Safe)
        .await
        .expect("plan");
    assert!(plan.cost.entries_read <= SCAN_BUDGET, "{:?}", plan.cost);
    assert!(
        xrange_calls(&mut conn).await <= SCAN_BUDGET / PAGE,
        "XRANGE calls beyond the budget"
    );
    let EntryCount::AtLeast { min, about } = plan.removal.count else {
        panic!(
            "a 50,000-entry side cannot be counted within the budget: {:?}",
            plan.removal
        )
    };
    assert!(min > 0 && min <= 50_000, "{min}");
    assert!(about.is_some_and(|a| a >= min), "{about:?}");
    // Whatever the count says, the trim itself removes exactly the 50,000
    // entries before the stuck one, and the stuck one stays.
    let removed = xtrim(&mut conn, &key, &Retention::min_id(plan.minid))
        .await
        .expect("XTRIM");
    assert_eq!(removed, 50_000);
    let first = raw(&mut conn, &["XRANGE", &key, "-", "+", "COUNT", "1"]).await;
    assert_eq!(
        streamlab::redis::reply::entries(&first).unwrap()[0].id,
        stuck
    );
}
