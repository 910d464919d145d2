//! `streamlab pending list|ack|claim|requeue|dead-letter` against a real
//! server, on a group whose consumers read and never ack (as a worker
//! killed with kill -9 leaves it): what each prints, what reaches the
//! server (INFO commandstats), and that a requeued entry is a byte-for-byte
//! copy that a reader of `>` gets again.

mod common;
#[path = "common/stats.rs"]
mod stats;
#[path = "common/tmux.rs"]
mod tmux;

use std::process::Stdio;
use std::time::Duration;

use common::{add_tasks, bin, connector, raw, raw_line, read_without_ack, run_bin, server, unique};
use serde_json::Value as Json;
use stats::{command_stats, write_commands};
use streamlab::redis::reply::{entries, into_raw_entries};
use streamlab::redis::{Conn, EntryId, GroupRead, create_group, xreadgroup};

const WAIT: Duration = Duration::from_secs(20);

/// A stream `s` with group `g`: `c1` holds the first 6 entries, `c2` the
/// next 4; entry 2 was redelivered twice (3 deliveries).
async fn queue(conn: &mut Conn, s: &str) -> Vec<EntryId> {
    add_tasks(conn, s, 12).await;
    create_group(conn, s, "g", "0")
        .await
        .expect("XGROUP CREATE");
    let mut ids = read_without_ack(conn, s, "g", "c1", 6).await;
    ids.extend(read_without_ack(conn, s, "g", "c2", 4).await);
    for _ in 0..2 {
        raw(conn, &["XCLAIM", s, "g", "c1", "0", &ids[2].to_string()]).await;
    }
    ids
}

fn json_lines(stdout: &str) -> Vec<Json> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_prints_every_match_with_its_deleted_flag() {
    let redis = server();
    let url = redis.url();
    let s = unique("list");
    let mut conn = connector(&url).conn("t");
    let ids = queue(&mut conn, &s).await;
    // One pending entry deleted, one trimmed away: both stay referenced.
    raw(&mut conn, &["XDEL", &s, &ids[7].to_string()]).await;
    raw(&mut conn, &["XTRIM", &s, "MINID", &ids[1].to_string()]).await;

    let base = format!("pending list --url {url} --stream {s} --group g");
    let all = json_lines(&run_bin(&format!("{base} --json"), &[], WAIT).await.stdout);
    assert_eq!(all.len(), 10);
    assert_eq!(all[0]["id"], ids[0].to_string().as_str());
    assert_eq!(all[0]["consumer"], "c1");
    assert!(all[0]["idle_ms"].is_u64());
    assert_eq!(all[2]["deliveries"], 3);
    let deleted: Vec<bool> = all.iter().map(|v| v["deleted"] == true).collect();
    let expect: Vec<bool> = (0..10).map(|i| i == 0 || i == 7).collect();
    assert_eq!(deleted, expect, "{all:?}");

    let c2 = json_lines(
        &run_bin(&format!("{base} --json --consumer c2 --count 3"), &[], WAIT)
            .await
            .stdout,
    );
    assert_eq!(c2.len(), 3);
    assert!(c2.iter().all(|v| v["consumer"] == "c2"));
    let looping = run_bin(&format!("{base} --json --min-deliveries 3"), &[], WAIT).await;
    assert_eq!(json_lines(&looping.stdout).len(), 1);
    let picked = format!("{base} --json --ids {},{}", ids[4], ids[9]);
    let picked = json_lines(&run_bin(&picked, &[], WAIT).await.stdout);
    assert_eq!(picked.len(), 2);
    let text = run_bin(&format!("{base} --min-idle 0s"), &[], WAIT).await;
    assert!(text.success(), "{}", text.stderr);
    assert_eq!(text.stdout.lines().count(), 10);
    assert!(
        text.stdout.lines().nth(7).unwrap().ends_with("deleted"),
        "{}",
        text.stdout
    );
    // `--ids -` reads them from stdin.
    let out = with_stdin(
        &format!("{base} --json --ids -"),
        &format!("{}\n{}\n", ids[3], ids[5]),
    )
    .await;
    assert_eq!(json_lines(&out).len(), 2);
}

/// Run `streamlab <line>` with `input` on its stdin; its stdout.
async fn with_stdin(line: &str, input: &str) -> String {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(bin())
        .args(line.split_whitespace())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn streamlab");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).await.expect("write ids");
    drop(stdin);
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("in time")
        .expect("output");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writing_subcommand_with_nobody_to_ask_sends_nothing() {
    let redis = server();
    let url = redis.url();
    let s = unique("refuse");
    let mut conn = connector(&url).conn("t");
    queue(&mut conn, &s).await;
    raw_line(&mut conn, "CONFIG RESETSTAT").await;
    for verb in ["ack", "claim --to c3", "requeue", "dead-letter"] {
        let line = format!("pending {verb} --url {url} --stream {s} --group g");
        let out = run_bin(&line, &[], WAIT).await;
        assert_eq!(out.status.code(), Some(2), "{verb}: {out:?}");
        let err = out.stderr.trim();
        assert!(err.starts_with("error: nothing "), "{err}");
        assert!(err.contains("--yes") && err.contains("--dry-run"), "{err}");
        assert!(err.contains("nothing was sent"), "{err}");
    }
    let seen: Vec<String> = command_stats(&mut conn)
        .await
        .into_iter()
        .map(|c| c.name)
        .filter(|n| !["info", "config", "config|resetstat"].contains(&n.as_str()))
        .collect();
    assert!(
        seen.is_empty(),
        "nothing at all reached the server: {seen:?}"
    );
    assert_eq!(common::pending_count(&mut conn, &s, "g").await, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_prints_the_exact_commands_and_writes_nothing() {
    let redis = server();
    let url = redis.url();
    let s = unique("dry");
    let mut conn = connector(&url).conn("t");
    let ids = queue(&mut conn, &s).await;
    raw_line(&mut conn, "CONFIG RESETSTAT").await;
    let base = format!("--url {url} --stream {s} --group g --consumer c2 --dry-run");
    let ack = run_bin(&format!("pending ack {base}"), &[], WAIT).await;
    let c2: Vec<String> = ids[6..].iter().map(ToString::to_string).collect();
    assert_eq!(ack.stdout.trim(), format!("XACK {s} g {}", c2.join(" ")));
    let requeue = run_bin(&format!("pending requeue {base} --count 1"), &[], WAIT).await;
    let lines: Vec<&str> = requeue.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", requeue.stdout);
    assert_eq!(lines[0], "MULTI");
    assert!(
        lines[1].starts_with(&format!("XADD {s} * kind ")),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], format!("XACK {s} g {}", ids[6]));
    assert_eq!(lines[3], "EXEC");
    let dead = run_bin(&format!("pending dead-letter {base} --count 1"), &[], WAIT).await;
    assert!(
        dead.stdout.contains(&format!(
            "XADD {s}:dead * original_id {} group g consumer c2",
            ids[6]
        )),
        "{}",
        dead.stdout
    );
    let stats = command_stats(&mut conn).await;
    let writes = write_commands(&mut conn, &stats).await;
    assert!(writes.is_empty(), "{writes:?}");
    assert_eq!(common::pending_count(&mut conn, &s, "g").await, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_and_claim_act_on_the_selection_only() {
    let redis = server();
    let url = redis.url();
    let s = unique("ackclaim");
    let mut conn = connector(&url).conn("t");
    let ids = queue(&mut conn, &s).await;
    let base = format!("--url {url} --stream {s} --group g --yes");
    let ack = run_bin(&format!("pending ack {base} --consumer c2"), &[], WAIT).await;
    assert!(ack.success(), "{}", ack.stderr);
    assert!(ack.stdout.starts_with("acked 4 entries"), "{}", ack.stdout);
    assert_eq!(common::pending_count(&mut conn, &s, "g").await, 6);
    let claim = format!(
        "pending claim {base} --to rescuer --ids {},{}",
        ids[0], ids[1]
    );
    let out = run_bin(&claim, &[], WAIT).await;
    assert!(
        out.stdout.starts_with("claimed 2 entries"),
        "{}",
        out.stdout
    );
    let held = raw(&mut conn, &["XPENDING", &s, "g", "-", "+", "10", "rescuer"]).await;
    assert_eq!(
        streamlab::redis::parse_pending_range(&held).unwrap().len(),
        2
    );
    // An unknown group names those that exist.
    let bad = run_bin(
        &format!("pending list --url {url} --stream {s} --group nope"),
        &[],
        WAIT,
    )
    .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stderr.contains("its groups: g"), "{}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_deleted_clears_only_the_dangling_references() {
    let redis = server();
    let url = redis.url();
    let s = unique("dangling");
    let mut conn = connector(&url).conn("t");
    let ids = queue(&mut conn, &s).await;
    // Two pending entries lose their data: one XDEL'd, one trimmed away.
    raw(&mut conn, &["XDEL", &s, &ids[7].to_string()]).await;
    raw(&mut conn, &["XTRIM", &s, "MINID", &ids[1].to_string()]).await;
    let base = format!("--url {url} --stream {s} --group g");

    let listed = run_bin(&format!("pending list {base} --deleted --json"), &[], WAIT).await;
    let listed: Vec<String> = json_lines(&listed.stdout)
        .iter()
        .map(|v| v["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(listed, [ids[0].to_string(), ids[7].to_string()]);
    let dry = run_bin(
        &format!("pending ack {base} --deleted --dry-run"),
        &[],
        WAIT,
    )
    .await;
    assert_eq!(
        dry.stdout.trim(),
        format!("XACK {s} g {} {}", ids[0], ids[7])
    );

    let ack = run_bin(&format!("pending ack {base} --deleted --yes"), &[], WAIT).await;
    assert!(ack.stdout.starts_with("acked 2 entries"), "{ack:?}");
    assert_eq!(common::pending_count(&mut conn, &s, "g").await, 8);
    let left = run_bin(&format!("pending list {base} --json"), &[], WAIT).await;
    assert!(
        json_lines(&left.stdout)
            .iter()
            .all(|v| v["deleted"] == false),
        "{}",
        left.stdout
    );
    // Entries without data cannot be delivered or copied again.
    for verb in ["claim --to c3", "requeue", "dead-letter"] {
        let out = run_bin(&format!("pending {verb} {base} --deleted --yes"), &[], WAIT).await;
        assert_eq!(out.status.code(), Some(2), "{verb}: {out:?}");
        assert!(out.stderr.contains("pending ack"), "{}", out.stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requeue_copies_byte_for_byte_and_a_reader_of_new_entries_gets_it_again() {
    let redis = server();
    let url = redis.url();
    let s = unique("requeue");
    let mut conn = connector(&url).conn("t");
    // A library's entry: a name that is not UTF-8, a binary value with a
    // NUL and a tab, a repeated field.
    let mut add = redis::cmd("XADD");
    add.arg(&s).arg("*").arg("job").arg("a");
    add.arg(&[0xff_u8, b'n'][..])
        .arg(&[b'x', 0, b'\t', 0xfe][..]);
    add.arg("job").arg("b");
    conn.run(&add, "XADD", true).await.expect("XADD");
    create_group(&mut conn, &s, "g", "0").await.unwrap();
    let old = read_without_ack(&mut conn, &s, "g", "dead-worker", 1).await[0];
    let line = format!("pending requeue --url {url} --stream {s} --group g --yes --json");
    let out = run_bin(&line, &[], WAIT).await;
    assert!(out.success(), "{}", out.stderr);
    let moved = json_lines(&out.stdout);
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0]["from"], old.to_string().as_str());
    let new: EntryId = moved[0]["to"].as_str().unwrap().parse().unwrap();
    let both = raw(&mut conn, &["XRANGE", &s, "-", "+"]).await;
    let [a, b] = <[_; 2]>::try_from(into_raw_entries(both.clone()).unwrap()).unwrap();
    assert_eq!(b.id, new);
    assert_eq!(a.fields, b.fields, "same fields, same order, byte for byte");
    assert_eq!(b.fields.len(), 3, "the repeated field is kept");
    assert_eq!(b.fields[1].0, vec![0xff, b'n']);
    assert_eq!(
        common::pending_count(&mut conn, &s, "g").await,
        0,
        "the original is acked"
    );
    // A worker reading `>` (as FastStream, taskiq, streaq do) gets it.
    let fresh = xreadgroup(&mut conn, &s, "g", "live", GroupRead::New, 10, None)
        .await
        .unwrap();
    assert_eq!(fresh.iter().map(|e| e.id).collect::<Vec<_>>(), [new]);
    assert_eq!(entries(&both).unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_does_what_the_worker_does() {
    let redis = server();
    let url = redis.url();
    let s = unique("dead");
    let mut conn = connector(&url).conn("t");
    let ids = queue(&mut conn, &s).await;
    let line =
        format!("pending dead-letter --url {url} --stream {s} --group g --yes --min-deliveries 3");
    let out = run_bin(&line, &[], WAIT).await;
    assert!(
        out.stdout.starts_with("dead-lettered 1 entry"),
        "{}",
        out.stdout
    );
    let dead = raw(&mut conn, &["XRANGE", &format!("{s}:dead"), "-", "+"]).await;
    let dead = entries(&dead).unwrap();
    assert_eq!(dead.len(), 1);
    let d = &dead[0];
    assert_eq!(d.field_str("original_id"), Some(ids[2].to_string()));
    assert_eq!(d.field_str("deliveries").as_deref(), Some("3"));
    assert_eq!(d.field_str("consumer").as_deref(), Some("c1"));
    assert!(d.field("f:kind").is_some());
    assert_eq!(common::pending_count(&mut conn, &s, "g").await, 9);
    // `dlq replay` puts it back as the worker's dead letters.
    let replay = run_bin(&format!("dlq replay --url {url} --stream {s}"), &[], WAIT).await;
    assert!(
        replay.stdout.contains("replayed 1 dead letters"),
        "{}",
        replay.stdout
    );
}

/// On a terminal, a writing subcommand shows the count and the commands
/// and sends them only on `y`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_it_asks_and_sends_only_on_yes() {
    let redis = server();
    let url = redis.url();
    let s = unique("ask");
    let mut conn = connector(&url).conn("t");
    let ids = queue(&mut conn, &s).await;
    let args: Vec<String> = [
        bin(),
        "pending",
        "ack",
        "--url",
        &url,
        "--stream",
        &s,
        "--group",
        "g",
        "--consumer",
        "c2",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    let no = tmux::Tmux::start(&args, 160, 30);
    let asked = no.wait("the question", WAIT, |s| s.contains("Send? [y/N]"));
    assert!(asked.contains("4 entries of group g"), "{asked}");
    let c2: Vec<String> = ids[6..].iter().map(ToString::to_string).collect();
    assert!(
        asked.contains(&format!("XACK {s} g {}", c2.join(" "))),
        "{asked}"
    );
    no.keys("n");
    no.keys("Enter");
    let end = no.wait("refused", WAIT, |s| s.contains("EXITED"));
    assert!(
        end.contains("not confirmed: nothing was sent") && end.contains("EXITED 1"),
        "{end}"
    );
    assert_eq!(common::pending_count(&mut conn, &s, "g").await, 10);
    let yes = tmux::Tmux::start(&args, 160, 30);
    yes.wait("the question", WAIT, |s| s.contains("Send? [y/N]"));
    yes.keys("y");
    yes.keys("Enter");
    let end = yes.wait("done", WAIT, |s| s.contains("EXITED"));
    assert!(
        end.contains("acked 4 entries") && end.contains("EXITED 0"),
        "{end}"
    );
    assert_eq!(common::pending_count(&mut conn, &s, "g").await, 6);
}
