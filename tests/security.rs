//! Secrets and secure connections: passwords never reach output, logs or
//! errors; TLS works with a private CA (certificates made by the test with
//! the `openssl` CLI) and refuses an untrusted one with a clear error; an
//! ACL user with limited permissions works with `user:pass` in the URL.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::standalone::{ServerOptions, TlsFiles, free_port};
use common::{
    BinOutput, RunningWorker, add_tasks, raw, raw_line, run_bin, server, server_with,
    test_worker_config, unique,
};
use serde_json::Value as Json;
use streamlab::engine::worker::Behaviour;
use streamlab::redis::config::{RedisInputs, RedisSettings};
use streamlab::redis::{Connector, RedisFailure, create_group, reply, xlen};

const WAIT: Duration = Duration::from_secs(15);

/// Exit status of a failed connection or authentication (see failure.rs).
const EXIT_CONNECTION: i32 = 3;

fn assert_never_shows(out: &BinOutput, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !out.stdout.contains(secret),
            "stdout shows {secret}: {}",
            out.stdout
        );
        assert!(
            !out.stderr.contains(secret),
            "stderr shows {secret}: {}",
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_never_appears_in_errors_or_logs() {
    let right = "Right-s3cret/Pw+x";
    let right_in_url = "Right-s3cret%2FPw%2Bx";
    let wrong = "Wrong-s3cret-Pw";
    let server = server_with(ServerOptions {
        extra: vec!["--requirepass".into(), right.into()],
        ..ServerOptions::default()
    });
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("streamlab.log");
    let log_arg = log.to_str().unwrap();
    let port = server.port.to_string();
    let all = [right, right_in_url, wrong];

    // A wrong password in the URL: refused, with a hint, without the password.
    let line = format!(
        "monitor --once --no-embedded --log-file {log_arg} --url redis://:{wrong}@127.0.0.1:{port}"
    );
    let out = run_bin(&line, &[], WAIT).await;
    assert_eq!(out.status.code(), Some(EXIT_CONNECTION), "{}", out.stderr);
    assert!(
        out.stderr.contains("password"),
        "names the likely cause: {}",
        out.stderr
    );
    assert_never_shows(&out, &all);

    // The same through REDIS_HOST/REDIS_PORT/REDIS_PASSWORD.
    let env = [
        ("REDIS_HOST", "127.0.0.1"),
        ("REDIS_PORT", &port),
        ("REDIS_PASSWORD", wrong),
    ];
    let out = run_bin("monitor --once --no-embedded", &env, WAIT).await;
    assert_eq!(out.status.code(), Some(EXIT_CONNECTION), "{}", out.stderr);
    assert_never_shows(&out, &all);

    // The right password, percent-encoded in REDIS_URL, towards a port where
    // nothing listens: the error shows the URL, masked.
    let closed = format!("redis://:{right_in_url}@127.0.0.1:{}", free_port().unwrap());
    let line = format!("monitor --once --no-embedded --log-file {log_arg}");
    let out = run_bin(&line, &[("REDIS_URL", &closed)], WAIT).await;
    assert_eq!(out.status.code(), Some(EXIT_CONNECTION), "{}", out.stderr);
    assert!(
        out.stderr.contains(":***@127.0.0.1"),
        "URL shown masked: {}",
        out.stderr
    );
    assert_never_shows(&out, &all);

    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(!logged.is_empty(), "the failures were logged");
    for secret in all {
        assert!(!logged.contains(secret), "log shows {secret}: {logged}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_password_works_and_output_never_shows_it() {
    let right = "Right-s3cret-Pw-2";
    let server = server_with(ServerOptions {
        extra: vec!["--requirepass".into(), right.into()],
        ..ServerOptions::default()
    });
    let stream = unique("auth");
    let url = format!("redis://default:{right}@127.0.0.1:{}", server.port);
    for command in [
        "produce --count 3 --group g",
        "consume --from 0-0 --limit 3 --block 200ms",
        "monitor --once",
        "dlq list",
    ] {
        let line = format!("{command} --url {url} --stream {stream} --no-embedded");
        let out = run_bin(&line, &[], WAIT).await;
        assert!(out.success(), "{command} failed: {}", out.stderr);
        assert_never_shows(&out, &[right]);
    }
    let mut conn = common::connector(&url).conn("admin");
    assert_eq!(
        xlen(&mut conn, &stream).await.unwrap(),
        3,
        "it really worked"
    );
}

/// A private CA, a server certificate it signed (for 127.0.0.1), and a
/// second CA that signed nothing the server presents.
struct TestPki {
    server: TlsFiles,
    rogue_ca: PathBuf,
}

/// Run `openssl <line>` in `dir` (arguments without spaces).
fn openssl(dir: &Path, line: &str) {
    let out = Command::new("openssl")
        .args(line.split_whitespace())
        .current_dir(dir)
        .output()
        .expect("the openssl CLI is needed for the TLS tests");
    assert!(
        out.status.success(),
        "openssl {line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &format!(
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
             -keyout {name}.key -out {name}.crt -subj /CN=streamlab-test-{name} \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
        ),
    );
}

fn make_pki(dir: &Path) -> TestPki {
    make_ca(dir, "ca");
    make_ca(dir, "rogue");
    openssl(
        dir,
        "req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
         -keyout server.key -out server.csr -subj /CN=127.0.0.1",
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write server.ext");
    openssl(
        dir,
        "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
         -out server.crt -extfile server.ext",
    );
    TestPki {
        server: TlsFiles {
            cert: dir.join("server.crt"),
            key: dir.join("server.key"),
            ca: dir.join("ca.crt"),
        },
        rogue_ca: dir.join("rogue.crt"),
    }
}

fn tls_server(pki: &TestPki) -> (common::standalone::TestServer, String) {
    let server = server_with(ServerOptions {
        tls: Some(pki.server.clone()),
        ..ServerOptions::default()
    });
    let url = format!("rediss://127.0.0.1:{}", server.tls_port.expect("TLS port"));
    (server, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca_produces_and_processes() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let (_server, url) = tls_server(&pki);
    let stream = unique("tls");
    let ca = pki.server.ca.to_str().unwrap();

    // The binary, with the CA from REDIS_CA_CERT.
    let line = format!("produce --url {url} --stream {stream} --count 4 --no-embedded");
    let out = run_bin(&line, &[("REDIS_CA_CERT", ca)], WAIT).await;
    assert!(out.success(), "produce over TLS failed: {}", out.stderr);

    // The library, with the CA in RedisInputs, running a group worker.
    let settings = RedisSettings::from_inputs(&RedisInputs {
        url: Some(url.clone()),
        ca_cert: Some(pki.server.ca.clone()),
        ..RedisInputs::default()
    })
    .unwrap();
    let connector = Connector::new(settings).unwrap();
    let mut conn = connector.conn("admin");
    let ids: Vec<_> = streamlab::redis::xrange(&mut conn, &stream, "-", "+", 10)
        .await
        .expect("XRANGE over TLS")
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids.len(), 4);
    let worker = RunningWorker::spawn(
        &connector,
        test_worker_config(&stream, "g", "tls-worker"),
        Behaviour::new(0, 0.0, 0.0),
    );
    worker.wait_processed("entries over TLS", &ids, WAIT).await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_an_untrusted_certificate_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let (_server, url) = tls_server(&pki);
    let rogue = pki.rogue_ca.to_str().unwrap();
    let line = format!("monitor --once --no-embedded --url {url}");

    // Trusting another CA, and trusting only the public roots: both refused.
    for env in [vec![("REDIS_CA_CERT", rogue)], vec![]] {
        let out = run_bin(&line, &env, WAIT).await;
        assert_eq!(
            out.status.code(),
            Some(EXIT_CONNECTION),
            "{env:?}: {}",
            out.stderr
        );
        let err = out.stderr.trim();
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(&url), "names the server: {err}");
        assert!(
            err.to_lowercase().contains("certificate"),
            "says why: {err}"
        );
        assert!(err.contains("REDIS_CA_CERT"), "says what to check: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_insecure_skips_certificate_checks_and_warns() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let (_server, url) = tls_server(&pki);
    let line = format!("monitor --json --once --no-embedded --tls-insecure --url {url}");
    let out = run_bin(&line, &[], WAIT).await;
    assert!(out.success(), "{}", out.stderr);
    assert!(out.stderr.contains("warning"), "warns: {}", out.stderr);
    let v: Json = serde_json::from_str(out.stdout.trim()).expect("JSON");
    assert!(v["stream"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acl_user_with_limited_permissions_works_from_user_and_password_in_the_url() {
    let server = server();
    let stream = unique("acl");
    let password = "Acl-user-pw-91";
    let mut admin = common::connector(&server.url()).conn("admin");
    // Only the test's keys, only stream, connection and MULTI/EXEC commands
    // (plus WHOAMI, so the test can prove who it is).
    let setuser = format!(
        "ACL SETUSER streamer on >{password} ~{stream}* resetchannels \
         -@all +@stream +@connection +@transaction +acl|whoami"
    );
    raw_line(&mut admin, &setuser).await;
    let url = format!("redis://streamer:{password}@127.0.0.1:{}", server.port);

    let connector = common::connector(&url);
    let mut conn = connector.conn("acl");
    let whoami = raw(&mut conn, &["ACL", "WHOAMI"]).await;
    assert_eq!(reply::text(&whoami).as_deref(), Some("streamer"));

    // Inside its permissions: producing, a group worker, the monitor.
    let produce = format!("produce --url {url} --stream {stream} --count 3 --group g");
    let out = run_bin(&produce, &[], WAIT).await;
    assert!(
        out.success(),
        "produce as the ACL user failed: {}",
        out.stderr
    );
    let ids = add_tasks(&mut conn, &stream, 2).await;
    let worker = RunningWorker::spawn(
        &connector,
        test_worker_config(&stream, "g", "acl-worker"),
        Behaviour::new(0, 0.0, 0.0),
    );
    worker
        .wait_processed("entries as the ACL user", &ids, WAIT)
        .await;
    assert_eq!(worker.processed().len(), 5);
    worker.stop().await;
    let monitor = format!("monitor --json --once --url {url} --stream {stream}");
    let out = run_bin(&monitor, &[], WAIT).await;
    assert!(
        out.success(),
        "monitor as the ACL user failed: {}",
        out.stderr
    );

    // Outside them: refused as a permission problem, not retried forever.
    let other = unique("not-allowed");
    let err = create_group(&mut conn, &other, "g", "0").await.unwrap_err();
    assert!(matches!(err, RedisFailure::Auth(_)), "{err:?}");
    let denied = format!("produce --url {url} --stream {other} --count 1");
    let out = run_bin(&denied, &[], WAIT).await;
    assert_eq!(out.status.code(), Some(EXIT_CONNECTION), "{}", out.stderr);
    assert!(
        out.stderr.contains("ACL"),
        "points at permissions: {}",
        out.stderr
    );
    assert_never_shows(&out, &[password]);
}
