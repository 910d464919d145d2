//! The stream registry against a private redis-server: the record at
//! `<stream>:streamlab` is written whole, read back, never overwritten
//! (even by two claims racing), never written for a stream that existed
//! before, and `produce` and the dashboard record the streams they create.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::{BinOutput, Deadline, add_tasks, bin, connector, raw, run_bin, server, unique};
use streamlab::engine::partition::Layout;
use streamlab::engine::registry::{
    self, CreatedBy, Origin, StreamRecord, claim, record_created, record_key,
};
use streamlab::redis::id::now_ms;
use streamlab::redis::reply::fields;
use streamlab::redis::{Conn, RedisFailure, exists};

const WAIT: Duration = Duration::from_secs(20);

fn layout(stream: &str, keys: &[&str]) -> Layout {
    Layout {
        stream: stream.to_owned(),
        partitions: keys.iter().map(|&k| k.to_owned()).collect(),
    }
}

/// The record's raw HASH, as HGETALL shows it to anyone.
async fn raw_record(conn: &mut Conn, stream: &str) -> Vec<(String, String)> {
    let v = raw(conn, &["HGETALL", &record_key(stream)]).await;
    fields(&v)
        .expect("a hash")
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8(v).expect("text")))
        .collect()
}

fn created_now(origin: &Origin) -> bool {
    matches!(
        origin,
        Origin::Ours {
            created_now: true,
            ..
        }
    )
}

#[tokio::test]
async fn a_stream_without_a_record_is_one_partition_itself() {
    let redis = server();
    let mut conn = connector(&redis.url()).conn("test");
    let stream = unique("plain");
    add_tasks(&mut conn, &stream, 2).await;
    assert_eq!(registry::read(&mut conn, &stream).await, Ok(None));
    let resolved = registry::resolve(&mut conn, &stream)
        .await
        .expect("resolve");
    assert_eq!(resolved, Layout::single(&stream));
}

#[tokio::test]
async fn a_record_holds_every_field_and_reads_back() {
    let redis = server();
    let mut conn = connector(&redis.url()).conn("test");
    let stream = format!("{{{}}}", unique("tagged"));
    let keys = layout(&stream, &["{a.p0}", "{a.p1}"]);
    let before = now_ms();
    let wrote = record_created(&mut conn, &stream, CreatedBy::Produce, &keys).await;
    assert_eq!(wrote, Ok(true));
    let hash = raw_record(&mut conn, &stream).await;
    let get = |name: &str| {
        hash.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("field {name} in {hash:?}"))
    };
    assert_eq!(get("created_by"), "produce");
    assert_eq!(get("version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(get("partitions"), "2");
    assert_eq!(
        (get("partition:0"), get("partition:1")),
        ("{a.p0}".into(), "{a.p1}".into())
    );
    let created_ms: u64 = get("created_ms").parse().expect("a number");
    assert!((before..=now_ms()).contains(&created_ms), "{created_ms}");
    let record = registry::read(&mut conn, &stream).await.expect("read");
    let want = StreamRecord {
        created_by: CreatedBy::Produce,
        created_ms,
        version: env!("CARGO_PKG_VERSION").into(),
        layout: keys.clone(),
    };
    assert_eq!(record, Some(want));
    assert_eq!(registry::resolve(&mut conn, &stream).await, Ok(keys));
}

#[tokio::test]
async fn an_existing_record_is_never_overwritten() {
    let redis = server();
    let mut conn = connector(&redis.url()).conn("test");
    let stream = unique("kept");
    let first = layout(&stream, &["{k.p0}", "{k.p1}", "{k.p2}"]);
    assert_eq!(
        record_created(&mut conn, &stream, CreatedBy::Lab, &first).await,
        Ok(true)
    );
    let before = raw_record(&mut conn, &stream).await;
    let other = Layout::single(&stream);
    let again = record_created(&mut conn, &stream, CreatedBy::Produce, &other).await;
    assert_eq!(again, Ok(false));
    assert_eq!(raw_record(&mut conn, &stream).await, before);
}

#[tokio::test]
async fn claim_records_a_new_stream_and_never_one_that_existed() {
    let redis = server();
    let mut conn = connector(&redis.url()).conn("test");
    let foreign = unique("foreign");
    add_tasks(&mut conn, &foreign, 1).await;
    assert_eq!(
        claim(
            &mut conn,
            &foreign,
            CreatedBy::Lab,
            &Layout::single(&foreign)
        )
        .await,
        Ok(Origin::Foreign {
            existing: foreign.clone()
        })
    );
    assert_eq!(exists(&mut conn, &record_key(&foreign)).await, Ok(false));

    let fresh = unique("fresh");
    let origin = claim(&mut conn, &fresh, CreatedBy::Lab, &Layout::single(&fresh))
        .await
        .expect("claim");
    assert!(created_now(&origin), "{origin:?}");
    // Later runs (the stream now exists) find the record, and keep it.
    add_tasks(&mut conn, &fresh, 1).await;
    let origin = claim(
        &mut conn,
        &fresh,
        CreatedBy::Produce,
        &Layout::single(&fresh),
    )
    .await
    .expect("claim");
    let Origin::Ours {
        record,
        created_now,
    } = origin
    else {
        panic!("our stream seen as foreign");
    };
    assert!(!created_now);
    assert_eq!(record.created_by, CreatedBy::Lab);
    assert_eq!(record.layout, Layout::single(&fresh));
}

#[tokio::test]
async fn of_two_racing_claims_exactly_one_creates_the_record() {
    let redis = server();
    let connector = connector(&redis.url());
    let (mut a, mut b) = (connector.conn("a"), connector.conn("b"));
    for _ in 0..20 {
        let stream = unique("race");
        // Different layouts: whichever wins, both see its one record.
        let single = Layout::single(&stream);
        let keys = [format!("{{{stream}.p0}}"), format!("{{{stream}.p1}}")];
        let split = layout(&stream, &[&keys[0], &keys[1]]);
        let (x, y) = tokio::join!(
            claim(&mut a, &stream, CreatedBy::Lab, &single),
            claim(&mut b, &stream, CreatedBy::Produce, &split)
        );
        let (x, y) = (x.expect("claim a"), y.expect("claim b"));
        assert!(created_now(&x) ^ created_now(&y), "{x:?} / {y:?}");
        let (Origin::Ours { record: rx, .. }, Origin::Ours { record: ry, .. }) = (x, y) else {
            panic!("a new stream seen as foreign");
        };
        assert_eq!(rx, ry, "both see the one record written");
    }
}

#[tokio::test]
async fn a_read_only_connection_reads_records_and_writes_none() {
    let redis = server();
    let connector = connector(&redis.url());
    let mut conn = connector.conn("test");
    let stream = unique("ro");
    record_created(
        &mut conn,
        &stream,
        CreatedBy::Produce,
        &Layout::single(&stream),
    )
    .await
    .expect("record");
    let mut ro = connector.read_only().conn("ro");
    assert!(
        registry::read(&mut ro, &stream)
            .await
            .expect("read")
            .is_some()
    );
    let other = unique("ro-new");
    let refused = claim(&mut ro, &other, CreatedBy::Lab, &Layout::single(&other)).await;
    assert_eq!(refused, Err(RedisFailure::ReadOnlyMode("HSETNX")));
    assert_eq!(exists(&mut conn, &record_key(&other)).await, Ok(false));
}

#[tokio::test]
async fn another_value_at_the_record_key_is_a_clear_error() {
    let redis = server();
    let mut conn = connector(&redis.url()).conn("test");
    let stream = unique("clash");
    raw(&mut conn, &["SET", &record_key(&stream), "not ours"]).await;
    let err = registry::read(&mut conn, &stream)
        .await
        .expect_err("a string");
    let text = err.to_string();
    assert!(
        text.contains(&record_key(&stream)) && text.contains("another type"),
        "{text}"
    );
}

/// A record edited by hand (a partition key missing) stops every command
/// with one line naming the key and what to do, instead of guessing.
#[tokio::test]
async fn a_damaged_record_is_one_error_line_naming_the_key_and_the_fix() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let stream = unique("damaged");
    let key = record_key(&stream);
    raw(
        &mut conn,
        &[
            "HSET",
            &key,
            "created_by",
            "produce",
            "created_ms",
            "1",
            "version",
            "0",
            "partitions",
            "2",
            "partition:0",
            "x",
        ],
    )
    .await;
    for command in [
        "worker --events none",
        "monitor --once",
        "produce --count 1",
    ] {
        let out = run_bin(
            &format!("--url {url} --stream {stream} {command}"),
            &[],
            WAIT,
        )
        .await;
        let errors: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(out.status.code(), Some(1), "{command}: {}", out.stderr);
        assert_eq!(errors.len(), 1, "{command}: {}", out.stderr);
        assert!(
            errors[0].contains(&key)
                && errors[0].contains("partition:1 is missing")
                && errors[0].contains("delete that key"),
            "{command}: {}",
            errors[0]
        );
    }
}

fn assert_ok(out: &BinOutput) {
    assert!(
        out.success(),
        "stdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
}

#[tokio::test]
async fn produce_records_the_streams_it_creates_only() {
    let redis = server();
    let url = redis.url();
    let mut conn = connector(&url).conn("test");
    let fresh = unique("made");
    assert_ok(
        &run_bin(
            &format!("--url {url} --stream {fresh} produce --count 3"),
            &[],
            WAIT,
        )
        .await,
    );
    let record = registry::read(&mut conn, &fresh).await.expect("read");
    assert_eq!(record.map(|r| r.created_by), Some(CreatedBy::Produce));

    let foreign = unique("theirs");
    add_tasks(&mut conn, &foreign, 1).await;
    assert_ok(
        &run_bin(
            &format!("--url {url} --stream {foreign} produce --count 3"),
            &[],
            WAIT,
        )
        .await,
    );
    assert_eq!(exists(&mut conn, &record_key(&foreign)).await, Ok(false));
}

#[tokio::test]
async fn produce_goes_on_without_a_record_when_the_acl_refuses_hash_writes() {
    let redis = server();
    let mut conn = connector(&redis.url()).conn("test");
    let acl = "ACL SETUSER streams on >Streams-pw-1 ~* +@all -hsetnx";
    raw(&mut conn, &acl.split(' ').collect::<Vec<_>>()).await;
    let url = format!("redis://streams:Streams-pw-1@127.0.0.1:{}", redis.port);
    let stream = unique("noacl");
    let out = run_bin(
        &format!("--stream {stream} produce --count 2"),
        &[("REDIS_URL", &url)],
        WAIT,
    )
    .await;
    assert_ok(&out);
    assert!(out.stderr.contains("cannot record"), "{}", out.stderr);
    assert!(!out.stderr.contains("Streams-pw-1"), "{}", out.stderr);
    assert_eq!(exists(&mut conn, &record_key(&stream)).await, Ok(false));
    assert_eq!(streamlab::redis::xlen(&mut conn, &stream).await, Ok(2));
}

#[tokio::test]
async fn the_dashboard_records_a_new_stream_as_lab_and_not_an_existing_one() {
    let redis = server();
    let mut conn = connector(&redis.url()).conn("test");
    let fresh = unique("lab");
    let foreign = unique("watched");
    add_tasks(&mut conn, &foreign, 1).await;
    for (stream, recorded) in [(&fresh, true), (&foreign, false)] {
        let mut args: Vec<String> = [
            bin(),
            "--url",
            &redis.url(),
            "--stream",
            stream,
            "--workers",
            "1",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        if !recorded {
            // A foreign stream opens as a watch unless --lab insists; even
            // then it is not recorded as the lab's.
            args.push("--lab".to_owned());
        }
        let t = tmux::Tmux::start(&args, 120, 40);
        t.wait("the dashboard is up", WAIT, |s| s.contains("connected"));
        // The embedded worker's group on the stream shows the lab is running,
        // so the registry decision was taken before it.
        let deadline = Deadline::new(format!("the lab's group on {stream}"), WAIT);
        while !group_exists(&mut conn, stream).await {
            deadline.tick().await;
        }
        let record = registry::read(&mut conn, stream).await.expect("read");
        assert_eq!(record.is_some(), recorded, "{stream}: {record:?}");
        if let Some(r) = record {
            assert_eq!(r.created_by, CreatedBy::Lab);
        }
        t.keys("q");
    }
}

async fn group_exists(conn: &mut Conn, stream: &str) -> bool {
    streamlab::redis::xinfo_stream(conn, stream)
        .await
        .ok()
        .flatten()
        .is_some_and(|info| info.groups > 0)
}
