//! streamlab's own RESP2 link (src/redis/resp.rs) against a real server:
//! replies stay matched to their commands when a caller abandons a request
//! half-way, pipelines and MULTI/EXEC read like the crate's connection, and
//! a large reply arriving in many reads is parsed whole.

mod common;

use std::time::Duration;

use redis::Value;
use streamlab::redis::{GroupRead, RedisFailure, dead_letter, xlen, xreadgroup};

#[tokio::test]
async fn an_abandoned_blocking_read_does_not_shift_later_replies() {
    let server = common::server();
    let mut conn = common::connector(&server.url()).blocking_conn("reader", Duration::from_secs(5));
    let stream = common::unique("abandon");
    common::raw(
        &mut conn,
        &["XGROUP", "CREATE", &stream, "g", "$", "MKSTREAM"],
    )
    .await;
    // A read that would block for 3 s, abandoned after 50 ms: its reply
    // (nil, or an entry) is still due on that socket.
    let read = xreadgroup(&mut conn, &stream, "g", "c", GroupRead::New, 10, Some(3000));
    assert!(
        tokio::time::timeout(Duration::from_millis(50), read)
            .await
            .is_err()
    );
    let mut other = common::connector(&server.url()).conn("writer");
    common::add_tasks(&mut other, &stream, 3).await;
    // The next command on the same Conn gets its own reply, not the read's.
    assert_eq!(xlen(&mut conn, &stream).await.expect("XLEN"), 3);
    let pong = common::raw(&mut conn, &["PING"]).await;
    assert_eq!(pong, Value::SimpleString("PONG".into()));
}

#[tokio::test]
async fn pipelines_transactions_and_errors_read_as_on_the_crate_connection() {
    let server = common::server();
    let mut conn = common::connector(&server.url()).conn("pipes");
    let stream = common::unique("pipes");
    let ids = common::add_tasks(&mut conn, &stream, 2).await;
    common::raw(&mut conn, &["XGROUP", "CREATE", &stream, "g", "0"]).await;
    let got = xreadgroup(&mut conn, &stream, "g", "c", GroupRead::New, 10, None)
        .await
        .expect("XREADGROUP");
    assert_eq!(got.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
    // MULTI/EXEC: the dead letter is added and the entry acked.
    let dead = format!("{stream}:dead");
    dead_letter(&mut conn, &stream, &dead, "g", ids[0], &[("error", b"x")])
        .await
        .expect("dead letter");
    assert_eq!(xlen(&mut conn, &dead).await.expect("XLEN"), 1);
    // A server error inside a pipeline is classified as before.
    common::raw(&mut conn, &["SET", "plain", "v"]).await;
    let failed = xlen(&mut conn, "plain").await;
    assert!(
        matches!(failed, Err(RedisFailure::WrongType(_))),
        "{failed:?}"
    );
    let failed = xreadgroup(&mut conn, &stream, "nogroup", "c", GroupRead::New, 1, None).await;
    assert_eq!(failed, Err(RedisFailure::NoGroup));
    // The link is still in step after errors.
    assert_eq!(xlen(&mut conn, &stream).await.expect("XLEN"), 2);
}

#[tokio::test]
async fn a_large_reply_in_many_reads_is_parsed_whole() {
    let server = common::server();
    let mut conn = common::connector(&server.url()).conn("large");
    let key = common::unique("large");
    let big = "x".repeat(3 * 1024 * 1024 + 7);
    common::raw(&mut conn, &["SET", &key, &big]).await;
    let got = common::raw(&mut conn, &["GET", &key]).await;
    assert_eq!(got, Value::BulkString(big.into_bytes()));
    assert_eq!(
        common::raw(&mut conn, &["STRLEN", &key]).await,
        Value::Int(3 * 1024 * 1024 + 7)
    );
}

/// The link authenticates with the URL's password and selects the URL's
/// database, as the crate's connection does: entries written through
/// `/3` land in database 3 and nowhere else, and a wrong password fails.
#[tokio::test]
async fn the_link_authenticates_and_selects_the_urls_database() {
    let server = common::server_with(common::standalone::ServerOptions {
        extra: vec!["--requirepass".into(), "s3cret-db-test".into()],
        ..Default::default()
    });
    let base = format!("redis://:s3cret-db-test@127.0.0.1:{}", server.port);
    let stream = common::unique("db3");
    let mut in_db3 = common::connector(&format!("{base}/3")).conn("db3");
    common::add_tasks(&mut in_db3, &stream, 2).await;
    assert_eq!(xlen(&mut in_db3, &stream).await.expect("XLEN"), 2);
    let mut in_db0 = common::connector(&format!("{base}/0")).conn("db0");
    assert_eq!(xlen(&mut in_db0, &stream).await.expect("XLEN"), 0);

    let wrong = format!("redis://:wrong-pass@127.0.0.1:{}/3", server.port);
    let err = xlen(&mut common::connector(&wrong).conn("wrong"), &stream)
        .await
        .expect_err("a wrong password must fail");
    assert!(matches!(err, RedisFailure::Auth(_)), "{err:?}");
}
