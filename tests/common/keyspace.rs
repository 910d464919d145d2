//! The big keyspace of issue 8: many streams among many other keys, built
//! fast with pipelines. Included with `#[path]` by the tests that need it.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use streamlab::redis::Conn;

/// Commands per pipelined round trip while building.
const BATCH: usize = 2_000;

/// `streams` streams `stream:NNNNN` of 5 entries each (every 10th with a
/// group `g` whose consumer `c` holds 2 of them: lag 3, pending 2), and
/// `others` other keys (half strings `cache:N`, half hashes `user:N`).
pub async fn build(conn: &mut Conn, streams: usize, others: usize) {
    // Learn that this is a single server before pipelining many keys.
    conn.connect().await.expect("connect");
    let mut pipe = ::redis::pipe();
    let mut queued = 0;
    for i in 0..streams {
        let key = stream_key(i);
        for n in 0..5 {
            pipe.cmd("XADD").arg(&key).arg("*").arg("n").arg(n);
        }
        queued += 5;
        if i % 10 == 0 {
            pipe.cmd("XGROUP").arg("CREATE").arg(&key).arg("g").arg("0");
            pipe.cmd("XREADGROUP")
                .arg("GROUP")
                .arg("g")
                .arg("c")
                .arg("COUNT")
                .arg(2)
                .arg("STREAMS")
                .arg(&key)
                .arg(">");
            queued += 2;
        }
        if queued >= BATCH {
            flush(conn, &mut pipe, &mut queued).await;
        }
    }
    for i in 0..others {
        if i % 2 == 0 {
            pipe.cmd("SET").arg(format!("cache:{i}")).arg("x");
        } else {
            pipe.cmd("HSET")
                .arg(format!("user:{i}"))
                .arg("name")
                .arg("x");
        }
        queued += 1;
        if queued >= BATCH {
            flush(conn, &mut pipe, &mut queued).await;
        }
    }
    flush(conn, &mut pipe, &mut queued).await;
}

async fn flush(conn: &mut Conn, pipe: &mut ::redis::Pipeline, queued: &mut usize) {
    if *queued > 0 {
        conn.run_pipeline(pipe, "SETUP", true, *queued)
            .await
            .expect("building the keyspace");
        *pipe = ::redis::pipe();
        *queued = 0;
    }
}

pub fn stream_key(i: usize) -> String {
    format!("stream:{i:05}")
}

/// Another team's `orders` stream: 50 orders, a `billing` group whose
/// `billing-1` holds 5 and whose `billing-2` acked 10 (lag 35), and 3 dead
/// letters in `orders:dead`.
pub async fn orders(conn: &mut Conn) {
    use crate::common::{raw, raw_line, read_without_ack};
    raw_line(conn, "XGROUP CREATE orders billing 0 MKSTREAM").await;
    crate::common::add_tasks(conn, "orders", 50).await;
    read_without_ack(conn, "orders", "billing", "billing-1", 5).await;
    let done = read_without_ack(conn, "orders", "billing", "billing-2", 10).await;
    let ids: Vec<String> = done.iter().map(ToString::to_string).collect();
    let mut ack = vec!["XACK", "orders", "billing"];
    ack.extend(ids.iter().map(String::as_str));
    raw(conn, &ack).await;
    for n in 0..3 {
        raw(conn, &["XADD", "orders:dead", "*", "n", &n.to_string()]).await;
    }
}

/// A stream whose group's lag Redis does not know: an entry was deleted
/// after the group's last delivered id.
pub async fn unknown_lag(conn: &mut Conn, key: &str) {
    use crate::common::raw;
    for id in ["1-0", "2-0", "3-0"] {
        raw(conn, &["XADD", key, id, "f", "v"]).await;
    }
    raw(conn, &["XGROUP", "CREATE", key, "g", "0"]).await;
    raw(conn, &["XDEL", key, "2-0"]).await;
}
