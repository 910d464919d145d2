//! `streamlab read` against real servers: the JSON contract (pairs in
//! order, duplicates kept, every byte 0..255 and CR/LF/NUL surviving,
//! base64 for what is not UTF-8), ranges by id, time and age, `--last`,
//! `--count`, `--reverse`, `--match`, `--grep`, a partitioned stream
//! merged in id order, `--follow` seeing new entries, all as a read-only
//! ACL user with INFO commandstats showing no writing command; `produce
//! --from-file` replaying the lines byte for byte; bad input as one
//! `error:` line, exit 2; and on a 1M-entry stream, a page and a search
//! step bounded in commands and entries read.

mod common;
#[path = "common/stats.rs"]
mod stats;

use std::time::Duration;

use base64::Engine as _;
use common::{BinProcess, Deadline, connector, raw, raw_line, run_bin, server, unique};
use serde_json::Value as Json;
use stats::{READ_ONLY_RULES, acl_user, command_stats, write_commands};
use streamlab::engine::browse::matcher::parse_search;
use streamlab::engine::browse::page::{PageQuery, page, pending_of};
use streamlab::engine::browse::search::{SEARCH_BUDGET, SearchQuery, search_step};
use streamlab::engine::browse::{Bound, Direction, Span};
use streamlab::redis::Conn;
use streamlab::redis::reply::RawEntry;

const WAIT: Duration = Duration::from_secs(30);
/// 2026-12-05T07:58:00Z, the first test entry's time.
const T0: u64 = 1_796_457_480_000;

/// XADD with an explicit id and byte fields.
async fn xadd(conn: &mut Conn, key: &str, id: &str, fields: &[(&[u8], &[u8])]) {
    let mut c = redis::cmd("XADD");
    c.arg(key).arg(id);
    for (k, v) in fields {
        c.arg(*k).arg(*v);
    }
    conn.run(&c, "TEST", false).await.expect("XADD");
}

async fn xrange_all(conn: &mut Conn, key: &str) -> Vec<RawEntry> {
    streamlab::redis::xrange_raw(conn, key, "-", "+", 100_000)
        .await
        .expect("XRANGE")
}

fn json_lines(stdout: &str) -> Vec<Json> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn ids(lines: &[Json]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The hard values: duplicates, CR/LF/NUL, every byte, a binary name.
async fn awkward(conn: &mut Conn, key: &str) -> Vec<u8> {
    let every: Vec<u8> = (0..=255).collect();
    xadd(conn, key, &format!("{T0}-0"), &[(b"f", b"1"), (b"f", b"2")]).await;
    xadd(
        conn,
        key,
        &format!("{}-0", T0 + 60_000),
        &[(b"msg", b"line1\r\nline2\x00end")],
    )
    .await;
    xadd(
        conn,
        key,
        &format!("{}-0", T0 + 120_000),
        &[(b"all", &every), (&[0xff, b'k'], b"v")],
    )
    .await;
    every
}

#[tokio::test]
async fn json_lines_keep_every_byte_pair_and_duplicate_and_replay_back_exactly() {
    let redis = server();
    let url = redis.url();
    let mut admin = connector(&url).conn("setup");
    let key = unique("awkward");
    let every = awkward(&mut admin, &key).await;
    let out = run_bin(
        &format!("read --url {url} --stream {key} --json"),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0],
        serde_json::json!({"stream": key, "id": format!("{T0}-0"), "ms": T0, "fields": [["f", "1"], ["f", "2"]]})
    );
    assert_eq!(lines[1]["fields"][0][1], "line1\r\nline2\u{0}end");
    let all = &lines[2]["fields"][0];
    assert_eq!(all[0], "all");
    let b64 = all[1]["base64"]
        .as_str()
        .expect("bytes 128..255 are not UTF-8: base64");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(decoded, every);
    assert_eq!(
        lines[2]["fields"][1][0]["base64"], "/2s=",
        "a binary name too"
    );
    assert_eq!(lines[2]["fields"][1][1], "v");

    // Replayed with produce --from-file: the same bytes, new ids; with
    // --keep-ids the same ids too.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lines.jsonl");
    std::fs::write(&file, &out.stdout).unwrap();
    let file = file.display();
    let (copy, kept) = (unique("copy"), unique("kept"));
    for (to, extra) in [(&copy, ""), (&kept, " --keep-ids")] {
        let line = format!("produce --url {url} --stream {to} --from-file {file}{extra}");
        let done = run_bin(&line, &[], WAIT).await;
        assert!(done.success(), "{}", done.stderr);
        assert!(done.stdout.contains("added 3 entries"), "{}", done.stdout);
    }
    let (orig, copied, same) = (
        xrange_all(&mut admin, &key).await,
        xrange_all(&mut admin, &copy).await,
        xrange_all(&mut admin, &kept).await,
    );
    let fields = |e: &[RawEntry]| e.iter().map(|e| e.fields.clone()).collect::<Vec<_>>();
    assert_eq!(fields(&copied), fields(&orig));
    assert!(copied[0].id.ms > T0, "new ids");
    assert_eq!(same, orig, "--keep-ids: ids and bytes");
    // The copies are recorded as streamlab's (the lab may run on them).
    let record = raw(
        &mut admin,
        &["HGET", &format!("{copy}:streamlab"), "created_by"],
    )
    .await;
    assert_eq!(
        streamlab::redis::reply::text(&record).as_deref(),
        Some("produce")
    );
}

#[tokio::test]
async fn ranges_by_id_time_and_age_with_last_count_reverse_match_and_grep() {
    let redis = server();
    let url = redis.url();
    let mut admin = connector(&url).conn("setup");
    let key = unique("range");
    // One entry a minute from T0, order_id 0..9.
    for i in 0..10u64 {
        let id = format!("{}-0", T0 + i * 60_000);
        let n = i.to_string();
        let kind: &[u8] = if i % 2 == 0 { b"email" } else { b"sms" };
        xadd(
            &mut admin,
            &key,
            &id,
            &[(b"order_id", n.as_bytes()), (b"kind", kind)],
        )
        .await;
    }
    let base = format!("read --url {url} --stream {key} --json");
    let read = |extra: &str| {
        let line = format!("{base} {extra}");
        async move {
            let out = run_bin(&line, &[], WAIT).await;
            assert!(out.success(), "{line}: {}", out.stderr);
            ids(&json_lines(&out.stdout))
        }
    };
    let id = |i: u64| format!("{}-0", T0 + i * 60_000);
    assert_eq!(read("").await.len(), 10);
    assert_eq!(
        read(&format!("--from {} --to {}", id(2), id(4))).await,
        vec![id(2), id(3), id(4)]
    );
    // A millisecond alone: from its first id, to its last.
    let ms = T0 + 3 * 60_000;
    assert_eq!(read(&format!("--from {ms} --to {ms}")).await, vec![id(3)]);
    // RFC 3339 and a local time (the test runs in UTC: no TZ set).
    assert_eq!(
        read("--from 2026-12-05T08:05:00Z").await,
        vec![id(7), id(8), id(9)]
    );
    assert_eq!(
        read("--to 2026-12-05T07:59:00+00:00").await,
        vec![id(0), id(1)]
    );
    assert_eq!(
        read(&format!("--from {} --to 2026-12-05T08:00:00Z", id(1))).await,
        vec![id(1), id(2)]
    );
    let local = run_bin(
        &format!("{base} --from 2026-12-05T08:06"),
        &[("TZ", "UTC")],
        WAIT,
    )
    .await;
    assert_eq!(ids(&json_lines(&local.stdout)), vec![id(8), id(9)]);
    // Ages count back from now: 100,000 days back includes every entry,
    // 1 ms back none of these (they are in 2026-12-05, a fixed past).
    assert_eq!(read("--from 100000d").await.len(), 10);
    let now = streamlab::redis::id::now_ms();
    if now > T0 + 10 * 60_000 {
        assert!(read("--from 1ms").await.is_empty());
    }
    assert_eq!(read("--last 3").await, vec![id(7), id(8), id(9)]);
    assert_eq!(read("--last 2 --reverse").await, vec![id(9), id(8)]);
    assert_eq!(read("--count 2").await, vec![id(0), id(1)]);
    assert_eq!(read("--reverse --count 2").await, vec![id(9), id(8)]);
    assert_eq!(read("--match kind=sms --last 2").await, vec![id(7), id(9)]);
    assert_eq!(
        read("--match kind=e* --match order_id=[0-3]").await,
        vec![id(0), id(2)]
    );
    assert_eq!(read("--grep sms --count 1").await, vec![id(1)]);
    assert_eq!(read("--grep order_").await.len(), 10, "names count too");

    // The table: id, local time, the fields escaped.
    let table = run_bin(
        &format!("read --url {url} --stream {key} --count 1"),
        &[],
        WAIT,
    )
    .await;
    assert_eq!(
        table.stdout.trim_end(),
        format!(
            "{:<20} 2026-12-05 07:58:00.000  order_id=0 kind=email",
            id(0)
        )
    );
}

#[tokio::test]
async fn a_partitioned_stream_is_read_whole_merged_by_id() {
    let redis = server();
    let url = redis.url();
    let key = unique("parts");
    let made = run_bin(
        &format!("produce --url {url} --stream {key} --partitions 3 --count 30"),
        &[],
        WAIT,
    )
    .await;
    assert!(made.success(), "{}", made.stderr);
    let out = run_bin(
        &format!("read --url {url} --stream {key} --json"),
        &[],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 30);
    let keys: std::collections::BTreeSet<&str> =
        lines.iter().filter_map(|l| l["stream"].as_str()).collect();
    assert_eq!(keys.len(), 3, "each line names its partition: {keys:?}");
    let order: Vec<(u64, u64, String)> = lines
        .iter()
        .map(|l| {
            let id: streamlab::redis::EntryId = l["id"].as_str().unwrap().parse().unwrap();
            (id.ms, id.seq, l["stream"].as_str().unwrap().to_owned())
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "merged in id order");
    let seqs: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["fields"].as_array())
        .filter_map(|f| f.iter().find(|p| p[0] == "seq"))
        .filter_map(|p| p[1].as_str())
        .collect();
    assert_eq!(seqs.len(), 30);
}

#[tokio::test]
async fn as_a_read_only_user_read_and_follow_write_nothing() {
    let redis = server();
    let url = redis.url();
    let mut admin = connector(&url).conn("setup");
    let key = unique("ro");
    awkward(&mut admin, &key).await;
    acl_user(&mut admin, "reader", "r3ad", READ_ONLY_RULES).await;
    let ro = format!("redis://reader:r3ad@127.0.0.1:{}", redis.port);
    let keys_before = raw(&mut admin, &["KEYS", "*"]).await;
    raw_line(&mut admin, "CONFIG RESETSTAT").await;
    for extra in [
        "",
        "--json",
        "--last 2",
        "--reverse",
        "--match f=1",
        "--grep line",
        "--from 15m",
    ] {
        let out = run_bin(
            &format!("read --url {ro} --stream {key} {extra}"),
            &[],
            WAIT,
        )
        .await;
        assert!(out.success(), "{extra}: {}", out.stderr);
        assert!(!out.stderr.contains("NOPERM"), "{}", out.stderr);
    }

    // --follow: the range, then new entries as they come.
    let mut follow = BinProcess::spawn(
        &format!("read --url {ro} --stream {key} --json --follow"),
        &[],
    );
    let deadline = Deadline::new("the range printed", WAIT);
    while follow.stdout_lines().len() < 3 {
        deadline.tick().await;
    }
    xadd(&mut admin, &key, "*", &[(b"new", b"1")]).await;
    xadd(&mut admin, &key, "*", &[(b"new", b"2")]).await;
    let deadline = Deadline::new("the new entries printed", WAIT);
    while follow.stdout_lines().len() < 5 {
        deadline.tick().await;
    }
    let lines = json_lines(&follow.stdout_lines().join("\n"));
    assert_eq!(lines[3]["fields"], serde_json::json!([["new", "1"]]));
    assert_eq!(lines[4]["fields"], serde_json::json!([["new", "2"]]));
    follow.terminate();
    assert!(
        follow.wait_exit(WAIT).await.success(),
        "{:?}",
        follow.stderr_lines()
    );

    let stats = command_stats(&mut admin).await;
    let names: Vec<&str> = stats.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"xread"), "followed with XREAD: {names:?}");
    assert!(
        names.contains(&"xrange") && names.contains(&"xrevrange"),
        "{names:?}"
    );
    // The set-up's own XADDs are the only writes.
    let writes: Vec<String> = write_commands(&mut admin, &stats)
        .await
        .into_iter()
        .filter(|w| !w.starts_with("xadd (2 calls)"))
        .collect();
    assert!(writes.is_empty(), "writes reached the server: {writes:?}");
    let refused: Vec<_> = stats
        .iter()
        .filter(|s| s.rejected > 0 || s.failed > 0)
        .collect();
    assert!(refused.is_empty(), "refused or failed: {refused:?}");
    let groups = raw(&mut admin, &["XINFO", "GROUPS", &key]).await;
    assert_eq!(groups, redis::Value::Array(vec![]), "no group");
    assert_eq!(
        raw(&mut admin, &["KEYS", "*"]).await,
        keys_before,
        "no key written"
    );
}

#[tokio::test]
async fn bad_input_is_one_line_naming_the_fix_exit_2() {
    let redis = server();
    let url = redis.url();
    let mut admin = connector(&url).conn("setup");
    let key = unique("bad");
    xadd(&mut admin, &key, "*", &[(b"a", b"1")]).await;
    raw(&mut admin, &["SET", "plain", "x"]).await;
    let base = format!("read --url {url} --stream {key}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"fields\": [[\"a\", \"1\"]]}\nnot json\n").unwrap();
    for (line, says) in [
        (
            format!("{base} --from yesterday"),
            vec!["--from", "'yesterday' is not a position", "RFC 3339"],
        ),
        (
            format!("{base} --to 12-x"),
            vec!["--to", "is not a position"],
        ),
        (
            format!("{base} --match kind"),
            vec!["--match 'kind' needs FIELD=GLOB"],
        ),
        (
            format!("{base} --follow --to 5m"),
            vec!["--follow", "drop --to"],
        ),
        (format!("{base} --follow --reverse"), vec!["drop --reverse"]),
        (
            format!("read --url {url} --stream plain"),
            vec!["'plain'", "WRONGTYPE", "--stream"],
        ),
        (
            format!("read --url {url} --stream nothing-here"),
            vec!["no stream 'nothing-here'", "--stream"],
        ),
        (
            format!(
                "produce --url {url} --stream {key}-copy --from-file {}",
                bad.display()
            ),
            vec!["line 2", "not JSON", "streamlab read --json"],
        ),
    ] {
        let out = run_bin(&line, &[], WAIT).await;
        common::assert_error(&out, 2, &says);
    }
    // The file was checked whole first: nothing was added.
    let exists = raw(&mut admin, &["EXISTS", &format!("{key}-copy")]).await;
    assert_eq!(streamlab::redis::reply::count(&exists), Some(0));
}

/// Fill `key` with `n` entries server-side (a script of XADDs).
async fn fill(conn: &mut Conn, key: &str, n: u64) {
    let script = "for i = 1, tonumber(ARGV[1]) do redis.call('XADD', KEYS[1], '*', 'order_id', ARGV[2] + i, 'kind', 'email') end";
    let per = 100_000;
    for start in (0..n).step_by(per as usize) {
        let count = per.min(n - start).to_string();
        raw(
            conn,
            &["EVAL", script, "1", key, &count, &start.to_string()],
        )
        .await;
    }
}

/// Calls and entries-returning commands of one kind since the last reset.
async fn calls(conn: &mut Conn, name: &str) -> u64 {
    command_stats(conn)
        .await
        .iter()
        .find(|s| s.name == name)
        .map_or(0, |s| s.calls)
}

#[tokio::test]
async fn on_a_million_entries_a_page_and_a_search_step_cost_a_bounded_number_of_commands() {
    let redis = server();
    let url = redis.url();
    let mut admin = connector(&url).conn("setup");
    let key = unique("million");
    fill(&mut admin, &key, 1_000_000).await;
    raw(&mut admin, &["XGROUP", "CREATE", &key, "g", "0"]).await;
    raw(
        &mut admin,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "COUNT",
            "100",
            "STREAMS",
            &key,
            ">",
        ],
    )
    .await;
    let keys = vec![key.clone()];
    let mut conn = connector(&url).read_only().conn("browse");

    // A page of 40 rows: one XREVRANGE of 40 and one XPENDING.
    raw_line(&mut admin, "CONFIG RESETSTAT").await;
    let q = PageQuery {
        from: Bound::Edge,
        dir: Direction::Older,
        count: 40,
        span: Span::default(),
    };
    let p = page(&mut conn, &keys, &q).await.unwrap();
    let (_, pel_cmds) = pending_of(&mut conn, &keys, "g", &p.rows).await.unwrap();
    assert_eq!((p.rows.len(), p.commands, pel_cmds), (40, 1, 1));
    assert_eq!(calls(&mut admin, "xrevrange").await, 1);
    assert_eq!(calls(&mut admin, "xpending").await, 1);

    // A search step that finds nothing: 10,000 entries in pages of 1,000.
    raw_line(&mut admin, "CONFIG RESETSTAT").await;
    let query = SearchQuery {
        after: None,
        dir: Direction::Older,
        matcher: parse_search("order_id=not-a-number").unwrap(),
        budget: SEARCH_BUDGET,
    };
    let step = search_step(&mut conn, &keys, &query).await.unwrap();
    assert_eq!(step.examined, 10_000);
    assert!(step.found.is_none() && !step.exhausted);
    let walked = calls(&mut admin, "xrevrange").await;
    assert!(
        (10..=11).contains(&walked),
        "{walked} XREVRANGE for one step"
    );
    assert_eq!(u64::from(step.commands), walked);
    // The next step goes on from where it stopped.
    let next = SearchQuery {
        after: step.reached,
        ..query.clone()
    };
    let second = search_step(&mut conn, &keys, &next).await.unwrap();
    assert!(second.reached < step.reached);
    // A match 15,000 entries back is found by the second step.
    let target = SearchQuery {
        matcher: parse_search("order_id=985000").unwrap(),
        ..query
    };
    let first = search_step(&mut conn, &keys, &target).await.unwrap();
    assert!(first.found.is_none());
    let found = search_step(
        &mut conn,
        &keys,
        &SearchQuery {
            after: first.reached,
            ..target
        },
    )
    .await
    .unwrap();
    let row = found.found.expect("found on the second step");
    assert!(
        row.entry
            .fields
            .contains(&(b"order_id".to_vec(), b"985000".to_vec()))
    );
}
