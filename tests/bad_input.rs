//! The bad-input battery: every way a user, a shared stream or the network
//! can hand streamlab something wrong ends in one clear `error: ` line with
//! the documented exit code (src/failure.rs: 2 usage/config, 3 connection or
//! authentication), or in a visible, correct state; never in a panic. Also
//! the secrets test: every subcommand run with a password in REDIS_URL never
//! shows it in output, errors or the log file.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::standalone::{ServerOptions, TestServer, TlsFiles, free_port};
use common::{
    BinOutput, BinProcess, add_tasks, assert_error, raw, run_bin, server, server_with, unique,
};
use serde_json::Value as Json;
use streamlab::redis::{Conn, EntryId, parse_groups, xpending_summary};

const WAIT: Duration = Duration::from_secs(20);
const EXIT_USAGE: i32 = 2;
const EXIT_CONNECTION: i32 = 3;

fn assert_no_panic(out: &BinOutput) {
    assert!(!out.stderr.contains("panicked"), "panic: {}", out.stderr);
}

fn json_lines(lines: &[String]) -> Vec<Json> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn processed_ids(worker: &BinProcess) -> Vec<EntryId> {
    json_lines(&worker.stdout_lines())
        .iter()
        .filter(|e| e["event"] == "processed")
        .filter_map(|e| e["id"].as_str()?.parse().ok())
        .collect()
}

fn events_named(worker: &BinProcess, name: &str) -> Vec<Json> {
    json_lines(&worker.stdout_lines())
        .into_iter()
        .filter(|e| e["event"] == name)
        .collect()
}

async fn wait_processed(worker: &BinProcess, ids: &[EntryId], what: &str) {
    common::wait_for(what, WAIT, || {
        let seen = processed_ids(worker);
        let all = ids.iter().all(|id| seen.contains(id));
        async move { all }
    })
    .await;
}

/// A `worker --events json` process with a short BLOCK.
fn spawn_worker(url: &str, stream: &str, name: &str) -> BinProcess {
    BinProcess::spawn(
        &format!(
            "worker --url {url} --stream {stream} --group g --name {name} --events json --block 200ms --claim-every 300ms --min-idle 1s"
        ),
        &[],
    )
}

/// SIGTERM and a clean exit, without a panic.
async fn stop(mut worker: BinProcess) {
    worker.terminate();
    let status = worker.wait_exit(WAIT).await;
    let stderr = worker.stderr_lines().join("\n");
    assert!(status.success(), "exit {status:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

async fn pending(conn: &mut Conn, stream: &str) -> u64 {
    xpending_summary(conn, stream, "g")
        .await
        .map(|p| p.count)
        .unwrap_or(u64::MAX)
}

// ---------------------------------------------------------------------------
// Configuration and connection.

#[tokio::test]
async fn malformed_redis_url_is_a_usage_error_without_the_password() {
    for url in [
        "redis:/no-host-Pw-hidden-1",
        "http://u:Pw-hidden-1@h:1",
        "redis://u:Pw-hidden-1@h:99999",
        "redis://u:Pw-hidden-1@h:1/notadb",
        "not a url Pw-hidden-1",
        "redis://u:Pw-hidden-1@[::1:6379",
        // A # in the password starts a URL fragment: the fix is named.
        "redis://u:Pw-hidden-1#x@127.0.0.1:6379",
    ] {
        let out = run_bin("monitor --once", &[("REDIS_URL", url)], WAIT).await;
        let line = assert_error(&out, EXIT_USAGE, &["REDIS_URL", "%23"]);
        assert!(!line.contains("Pw-hidden-1"), "{url}: {line}");
    }
}

#[tokio::test]
async fn unknown_host_is_a_connection_error_naming_the_host() {
    let out = run_bin(
        "monitor --once --url redis://no-such-host.invalid:6379",
        &[],
        WAIT,
    )
    .await;
    assert_error(
        &out,
        EXIT_CONNECTION,
        &["cannot connect", "no-such-host.invalid"],
    );
}

/// A refused port names the problem and the fix in one line, the password
/// masked.
#[tokio::test]
async fn refused_port_is_a_connection_error_naming_the_fix() {
    let port = free_port().unwrap();
    let out = run_bin(
        &format!("produce --count 1 --url redis://u:Pw-hidden-3@127.0.0.1:{port}"),
        &[],
        WAIT,
    )
    .await;
    let line = assert_error(
        &out,
        EXIT_CONNECTION,
        &[
            &format!("cannot connect to redis://u:***@127.0.0.1:{port}: nothing answers there"),
            "is Redis running?",
            "REDIS_URL or --url",
            "REDIS_HOST and REDIS_PORT",
        ],
    );
    assert!(!line.contains("Pw-hidden-3"), "{line}");
    assert!(!line.contains("only the lab"), "a URL was given: {line}");
}

/// The argv that runs `streamlab <line>` with nothing configured (no
/// environment but PATH and TERM, an empty working directory, so no .env)
/// where nothing answers on 127.0.0.1:6379: in a network namespace of its
/// own (`unshare -rn`, loopback up), since this machine's 6379 may serve a
/// real Redis. A private redis-server the binary starts listens there too.
fn where_nothing_answers(line: &str, cwd: &Path) -> Vec<String> {
    let probe = Command::new("unshare")
        .args(["-rn", "ip", "link", "set", "lo", "up"])
        .status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "these tests need `unshare -rn` (user namespaces, util-linux) and `ip` (iproute2)"
    );
    let path = std::env::var("PATH").unwrap_or_default();
    let script = format!(
        "cd {} && ip link set lo up && exec {} {line}",
        cwd.display(),
        common::bin()
    );
    ["env", "-i", &format!("PATH={path}"), "TERM=screen"]
        .into_iter()
        .chain(["unshare", "-rn", "sh", "-c", &script])
        .map(ToString::to_string)
        .collect()
}

/// With nothing configured and nothing on 127.0.0.1:6379, every command but
/// the lab says that nothing answers and how to point it at a server, and
/// starts no private server to report on (exit 3).
#[tokio::test]
async fn with_nothing_configured_no_command_but_the_lab_starts_a_private_server() {
    let cwd = tempfile::tempdir().expect("temp dir");
    for line in [
        "info",
        "monitor --once",
        "monitor --all --once",
        "produce --count 1",
        "consume",
        "worker",
        "dlq list",
        "trim --safe",
        "bench --tasks 10",
    ] {
        let argv = where_nothing_answers(line, cwd.path());
        let out = tokio::time::timeout(
            WAIT,
            tokio::process::Command::new(&argv[0])
                .args(&argv[1..])
                .stdin(std::process::Stdio::null())
                .output(),
        )
        .await
        .unwrap_or_else(|_| panic!("{line} did not finish within {WAIT:?}"))
        .expect("run streamlab");
        let out = BinOutput {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            !out.stderr.contains("started a private"),
            "{line}: {}",
            out.stderr
        );
        assert_error(
            &out,
            EXIT_CONNECTION,
            &[
                "cannot connect to redis://127.0.0.1:6379: nothing answers there",
                "REDIS_URL or --url",
                "only the lab",
            ],
        );
    }
}

/// The same, in a terminal: `watch` refuses like the headless commands,
/// the lab starts a private server and says so in its header, and the lab
/// with `--no-embedded` refuses too.
#[test]
fn with_nothing_configured_the_lab_alone_runs_on_a_private_server() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let watch = tmux::Tmux::start(&where_nothing_answers("watch", cwd.path()), 160, 45);
    let gone = watch.wait("watch to exit", WAIT, |s| s.contains("EXITED"));
    assert!(gone.contains("EXITED 3"), "{gone}");
    assert!(gone.contains("nothing answers there"), "{gone}");
    assert!(!gone.contains("started a private"), "{gone}");

    let lab = tmux::Tmux::start(&where_nothing_answers("", cwd.path()), 160, 45);
    let up = lab.wait("the lab on a private server", WAIT, |s| {
        s.contains("● connected")
    });
    assert!(up.contains("[private server"), "{up}");
    lab.keys("q");
    lab.wait("the lab to quit", WAIT, |s| s.contains("EXITED 0"));

    let refused = tmux::Tmux::start(&where_nothing_answers("--no-embedded", cwd.path()), 160, 45);
    let gone = refused.wait("the lab to exit", WAIT, |s| s.contains("EXITED"));
    assert!(gone.contains("EXITED 3"), "{gone}");
    assert!(gone.contains("nothing answers there"), "{gone}");
}

/// A worker told to stop while it is still connecting (a supervisor
/// replacing it; here a port that accepts and never answers) stops
/// cleanly: its signal handler exists before it connects, so the SIGTERM
/// is neither the default kill nor lost.
#[tokio::test]
async fn sigterm_while_the_worker_connects_is_a_clean_stop() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let worker = BinProcess::spawn(
        &format!("worker --url redis://127.0.0.1:{port} --events json"),
        &[],
    );
    // The worker's socket is in the accept queue once it is connecting.
    silent.set_nonblocking(true).expect("nonblocking");
    let deadline = common::Deadline::new("the worker to connect", WAIT);
    let _held = loop {
        match silent.accept() {
            Ok((socket, _)) => break socket,
            Err(_) => deadline.tick().await,
        }
    };
    stop(worker).await;
}

/// `streamlab worker | head -1`: once the reader of its events has gone,
/// the worker neither panics nor acks what it could not report. It stops
/// (exit 0, a note on stderr) and the batch in hand stays pending.
#[tokio::test]
async fn a_worker_whose_stdout_reader_left_stops_without_acking_or_a_panic() {
    let server = server();
    let url = server.url();
    let stream = unique("closed-stdout");
    let mut admin = common::connector(&url).conn("admin");
    add_tasks(&mut admin, &stream, 2).await;
    // 2 s of work per entry: the batch is still in hand when stdout closes.
    let mut child = spawn_piped(&[
        "worker",
        "--url",
        &url,
        "--stream",
        &stream,
        "--group",
        "g",
        "--block",
        "200ms",
        "--work-ms",
        "2000",
    ]);
    let deadline = common::Deadline::new("both entries delivered", WAIT);
    while delivered(&mut admin, &stream).await < 2 {
        deadline.tick().await;
    }
    drop(child.stdout.take());
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("the worker stops by itself")
        .expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("stdout was closed"), "{stderr}");
    assert_eq!(
        pending(&mut admin, &stream).await,
        2,
        "nothing acked unreported"
    );
}

/// `streamlab monitor [--all] --json | head -1`: once the reader has gone,
/// monitor stops polling by itself (exit 0), with or without `--all`.
#[tokio::test]
async fn monitor_stops_when_its_stdout_reader_leaves() {
    let server = server();
    let url = server.url();
    let stream = unique("monitor-closed");
    let mut admin = common::connector(&url).conn("admin");
    add_tasks(&mut admin, &stream, 1).await;
    for all in [false, true] {
        let mut args = vec!["--url", &url, "--stream", &stream, "monitor", "--json"];
        args.extend(["--interval", "100ms"]);
        if all {
            args.push("--all");
        }
        let mut child = spawn_piped(&args);
        // Read the first document, then leave, as `head -1` does.
        let mut first = String::new();
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = tokio::io::BufReader::new(stdout);
        tokio::time::timeout(
            WAIT,
            tokio::io::AsyncBufReadExt::read_line(&mut lines, &mut first),
        )
        .await
        .expect("a first poll")
        .expect("read");
        assert!(first.starts_with('{'), "--all {all}: {first}");
        drop(lines);
        let out = tokio::time::timeout(WAIT, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("monitor (--all {all}) stops by itself"))
            .expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "--all {all}: {:?}: {stderr}",
            out.status
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// `streamlab ... 2>&1 | head -c 1`: with stderr gone too, the last error
/// line used to panic (exit 101); the exit code is kept instead.
#[tokio::test]
async fn an_error_with_stdout_and_stderr_closed_keeps_its_exit_code() {
    let server = server();
    let url = server.url();
    let stream = unique("all-closed");
    let mut admin = common::connector(&url).conn("admin");
    raw(&mut admin, &["SET", &stream, "not a stream"]).await;
    let line = format!(
        "set -o pipefail; '{}' --url {url} --stream {stream} worker 2>&1 | head -c 1 >/dev/null",
        common::bin()
    );
    let out = tokio::time::timeout(
        WAIT,
        tokio::process::Command::new("bash")
            .args(["-c", &line])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .output(),
    )
    .await
    .expect("the worker stops")
    .expect("bash runs");
    assert_eq!(out.status.code(), Some(EXIT_USAGE), "{out:?}");
}

/// The binary with `args`, a clean environment, and stdout and stderr
/// piped to the test (killed if the test ends first).
fn spawn_piped(args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(common::bin())
        .args(args)
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn streamlab")
}

/// Entries group `g` has been delivered (XINFO GROUPS entries-read).
async fn delivered(conn: &mut Conn, stream: &str) -> u64 {
    let v = raw(conn, &["XINFO", "GROUPS", stream]).await;
    parse_groups(&v)
        .ok()
        .and_then(|g| g.first().and_then(|g| g.entries_read))
        .unwrap_or(0)
}

fn password_server(password: &str) -> TestServer {
    server_with(ServerOptions {
        extra: vec!["--requirepass".into(), password.into()],
        ..ServerOptions::default()
    })
}

#[tokio::test]
async fn wrong_password_is_an_authentication_error() {
    let server = password_server("Right-pw-77");
    let url = format!("redis://:Wrong-pw-77@127.0.0.1:{}", server.port);
    let out = run_bin("worker --events json", &[("REDIS_URL", &url)], WAIT).await;
    let line = assert_error(&out, EXIT_CONNECTION, &["password"]);
    assert!(!line.contains("Wrong-pw-77") && !line.contains("Right-pw-77"));
}

#[tokio::test]
async fn unknown_acl_user_is_an_authentication_error() {
    let server = password_server("Right-pw-78");
    let url = format!("redis://nobody:Right-pw-78@127.0.0.1:{}", server.port);
    let out = run_bin("monitor --once", &[("REDIS_URL", &url)], WAIT).await;
    let line = assert_error(&out, EXIT_CONNECTION, &["REDIS_URL"]);
    assert!(!line.contains("Right-pw-78"), "{line}");
}

#[tokio::test]
async fn user_lacking_a_permission_gets_a_noperm_error_naming_the_command() {
    let server = server();
    let mut admin = common::connector(&server.url()).conn("admin");
    raw(
        &mut admin,
        &[
            "ACL",
            "SETUSER",
            "reader",
            "on",
            ">Reader-pw-5",
            "~*",
            "+@read",
            "+@connection",
        ],
    )
    .await;
    let url = format!("redis://reader:Reader-pw-5@127.0.0.1:{}", server.port);
    let env = [("REDIS_URL", url.as_str())];
    // Reading is allowed: monitor works.
    let out = run_bin("monitor --once --stream perm", &env, WAIT).await;
    assert!(out.success(), "{}", out.stderr);
    // Writing is not: each command says which permission it lacks.
    for (line, command) in [
        ("worker --stream perm --events json", "xgroup|create"),
        ("produce --stream perm --count 3", "xadd"),
        ("produce --stream perm --count 1", "xadd"),
        ("trim --stream perm --maxlen 1", "xtrim"),
    ] {
        let out = run_bin(line, &env, WAIT).await;
        assert_error(&out, EXIT_CONNECTION, &["NoPerm", command, "ACL"]);
        // In the server's words, not the client library's wrapping.
        assert!(!out.stderr.contains("Pipeline failure"), "{}", out.stderr);
    }
}

/// A CA and a server certificate for 127.0.0.1, made with the openssl CLI.
fn make_tls_files(dir: &Path) -> TlsFiles {
    let run = |line: &str| {
        let out = Command::new("openssl")
            .args(line.split_whitespace())
            .current_dir(dir)
            .output()
            .expect("the openssl CLI is needed for the TLS tests");
        assert!(out.status.success(), "openssl {line}: {out:?}");
    };
    run(
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
         -keyout ca.key -out ca.crt -subj /CN=streamlab-bad-input-ca \
         -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
    );
    run(
        "req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
         -keyout server.key -out server.csr -subj /CN=127.0.0.1",
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write server.ext");
    run(
        "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
         -out server.crt -extfile server.ext",
    );
    TlsFiles {
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
        ca: dir.join("ca.crt"),
    }
}

fn tls_server(dir: &Path) -> (TestServer, TlsFiles) {
    let files = make_tls_files(dir);
    let server = server_with(ServerOptions {
        tls: Some(files.clone()),
        ..ServerOptions::default()
    });
    (server, files)
}

#[tokio::test]
async fn tls_to_a_plain_port_says_to_use_redis_scheme() {
    let server = server();
    let url = format!("rediss://127.0.0.1:{}", server.port);
    let out = run_bin(&format!("monitor --once --url {url}"), &[], WAIT).await;
    assert_error(&out, EXIT_CONNECTION, &["cannot connect", "redis://"]);
}

#[tokio::test]
async fn plain_to_a_tls_port_says_to_use_rediss_scheme() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _files) = tls_server(dir.path());
    let port = server.tls_port.unwrap();
    let url = format!("redis://127.0.0.1:{port}");
    let out = run_bin(&format!("produce --count 1 --url {url}"), &[], WAIT).await;
    assert_error(&out, EXIT_CONNECTION, &["cannot connect", "rediss://"]);
}

#[tokio::test]
async fn untrusted_certificate_is_refused_and_names_redis_ca_cert() {
    let dir = tempfile::tempdir().unwrap();
    let (server, files) = tls_server(dir.path());
    let url = format!("rediss://127.0.0.1:{}", server.tls_port.unwrap());
    // Only the public roots are trusted: the private CA is unknown.
    let out = run_bin(&format!("monitor --once --url {url}"), &[], WAIT).await;
    assert_error(&out, EXIT_CONNECTION, &["certificate", "REDIS_CA_CERT"]);
    // With the CA it works, which shows the refusal was about trust.
    let ca = files.ca.to_str().unwrap();
    let out = run_bin(
        &format!("monitor --once --url {url}"),
        &[("REDIS_CA_CERT", ca)],
        WAIT,
    )
    .await;
    assert!(out.success(), "{}", out.stderr);
}

#[tokio::test]
async fn dotenv_with_garbage_lines_names_the_line_not_its_content() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "# a comment\nREDIS_URL=redis://:Env-pw-31@127.0.0.1:1\n\nthis is not KEY=value Env-pw-31\n",
    )
    .unwrap();
    let out = Command::new(common::bin())
        .args(["monitor", "--once"])
        .env_clear()
        .current_dir(dir.path())
        .output()
        .unwrap();
    let out = BinOutput {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let line = assert_error(&out, EXIT_USAGE, &[".env", "line 4"]);
    assert!(!line.contains("Env-pw-31"), "{line}");
    // The same file through --env-file, and a file that does not exist.
    let path = dir.path().join(".env");
    let out = run_bin(
        &format!("monitor --once --env-file {}", path.display()),
        &[],
        WAIT,
    )
    .await;
    assert_error(&out, EXIT_USAGE, &["--env-file", "line 4"]);
    let out = run_bin("monitor --once --env-file /nonexistent/.env", &[], WAIT).await;
    assert_error(&out, EXIT_USAGE, &["--env-file"]);
}

#[tokio::test]
async fn negative_or_absurd_flag_values_are_usage_errors() {
    // Rejected before any connection, so no server is needed.
    for (line, says) in [
        ("produce --count -5", "-5"),
        ("produce --count 0", "--count"),
        ("produce --count 99999999999999", "--count"),
        ("produce --rate 0", "--rate"),
        ("produce --rate -1", "-1"),
        ("produce --rate NaN", "--rate"),
        ("produce --payload-bytes 99999999999", "--payload-bytes"),
        ("produce --maxlen 0", "--maxlen"),
        ("consume --block 0", "--block"),
        ("consume --block 5h", "--block"),
        ("consume --count 0", "--count"),
        ("consume --from yesterday", "--from"),
        ("worker --min-idle 99999h", "--min-idle"),
        ("worker --min-idle soon", "--min-idle"),
        ("worker --claim-every -1s", "-1"),
        ("worker --max-deliveries 0", "--max-deliveries"),
        ("worker --read-count 0", "--read-count"),
        ("worker --fail-rate 1.5", "--fail-rate"),
        ("worker --crash-rate -0.1", "-0"),
        ("worker --work-ms 99999999999", "--work-ms"),
        ("monitor --interval 0", "--interval"),
        ("trim --maxlen -1", "-1"),
        ("trim --minid garbage", "--minid"),
        ("trim", "required"),
        ("dlq list --count 0", "--count"),
        ("--workers 1000", "--workers"),
        ("--refresh 1ms", "--refresh"),
    ] {
        let out = run_bin(line, &[("REDIS_URL", "redis://127.0.0.1:1")], WAIT).await;
        assert_no_panic(&out);
        assert_eq!(
            out.status.code(),
            Some(EXIT_USAGE),
            "{line}: {}",
            out.stderr
        );
        let first = out.stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("error: "), "{line}: {}", out.stderr);
        assert!(first.contains(says), "{line}: {first}");
    }
}

/// Every option whose value is a duration, found in the CLI definition
/// itself (so a duration flag added later is checked too): the subcommand
/// path, the flag, and its environment variable.
fn duration_options() -> Vec<(String, String, Option<String>)> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, String, Option<String>)>) {
        for arg in cmd.get_arguments() {
            let is_duration =
                arg.get_value_parser().type_id() == std::any::TypeId::of::<Duration>();
            if let (true, Some(long)) = (is_duration, arg.get_long()) {
                let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
                out.push((path.to_owned(), format!("--{long}"), env));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, format!("{path} {}", sub.get_name()).trim(), out);
        }
    }
    let mut out = Vec::new();
    walk(
        &<streamlab::cli::Cli as clap::CommandFactory>::command(),
        "",
        &mut out,
    );
    out
}

#[tokio::test]
async fn durations_without_a_unit_are_rejected_naming_the_flag_or_the_variable() {
    let options = duration_options();
    let flags: Vec<&str> = options.iter().map(|(_, flag, _)| flag.as_str()).collect();
    for known in [
        "--block",
        "--claim-every",
        "--min-idle",
        "--interval",
        "--latency-for",
        "--refresh",
    ] {
        assert!(flags.contains(&known), "{known} not found among {flags:?}");
    }
    let no_server = ("REDIS_URL", "redis://127.0.0.1:1");
    for (path, flag, env) in &options {
        let out = run_bin(&format!("{path} {flag} 1000"), &[no_server], WAIT).await;
        let line = assert_error(&out, EXIT_USAGE, &[flag.as_str(), "1000ms", "1s"]);
        assert!(
            !out.stderr.contains("--help"),
            "one line only: {}",
            out.stderr
        );
        assert!(
            !line.contains('<'),
            "names the flag, not clap's placeholder: {line}"
        );
        let Some(var) = env else { continue };
        let out = run_bin(path, &[no_server, (var.as_str(), "1000")], WAIT).await;
        let line = assert_error(&out, EXIT_USAGE, &[var.as_str(), "1000ms", "1s"]);
        assert!(
            !line.contains(flag.as_str()),
            "names the variable, not the flag: {line}"
        );
    }
    // 0 is zero in every unit and needs none; a unit is accepted anywhere.
    for line in [
        "worker --min-idle 0 --no-embedded",
        "worker --min-idle 1000ms --no-embedded",
    ] {
        let out = run_bin(line, &[no_server], WAIT).await;
        assert_error(&out, EXIT_CONNECTION, &["cannot connect"]);
    }
}

/// The largest payload times a full pipeline once needed ~30 GB of client
/// memory; now pipelines are bounded in bytes, so 24 tasks of 16 MiB fit in
/// 800 MB of address space (the old code took 1.3 GB for 20).
#[tokio::test]
async fn largest_payloads_are_sent_in_bounded_memory() {
    let server = server();
    let stream = unique("huge");
    let line = format!(
        "ulimit -v 800000; exec {} --url {} --stream {stream} produce --count 24 --payload-bytes 16777216",
        common::bin(),
        server.url()
    );
    let out = Command::new("sh").args(["-c", &line]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(String::from_utf8_lossy(&out.stdout).contains("added 24 tasks"));
    let mut admin = common::connector(&server.url()).conn("admin");
    let len = raw(&mut admin, &["XLEN", &stream]).await;
    assert_eq!(streamlab::redis::reply::count(&len), Some(24));
}

// ---------------------------------------------------------------------------
// What is in the stream.

#[tokio::test]
async fn stream_key_holding_another_type_is_a_wrongtype_error_everywhere() {
    let server = server();
    let url = server.url();
    let stream = unique("wrongtype");
    let mut admin = common::connector(&url).conn("admin");
    raw(&mut admin, &["SET", &stream, "not a stream"]).await;
    for command in [
        "monitor --once",
        "worker --events json",
        "produce --count 1000",
        "consume --from 0-0",
        "trim --maxlen 1",
        "trim --safe --dry-run",
    ] {
        let line = format!("{command} --url {url} --stream {stream}");
        let out = run_bin(&line, &[], WAIT).await;
        let named = format!("'{stream}' holds another type");
        assert_error(&out, EXIT_USAGE, &["WRONGTYPE", "--stream", &named]);
        // Someone else's key (BullMQ's `bull:images:meta` hash): never
        // advise deleting it.
        assert!(!out.stderr.contains("delete"), "{command}: {}", out.stderr);
    }
    // Nothing was overwritten.
    let v = raw(&mut admin, &["GET", &stream]).await;
    assert_eq!(
        streamlab::redis::reply::text(&v).as_deref(),
        Some("not a stream")
    );

    // The derived keys: the message names them, not just --stream.
    let other = unique("wrongtype-derived");
    raw(&mut admin, &["XADD", &other, "*", "kind", "email"]).await;
    raw(&mut admin, &["SET", &format!("{other}:dead"), "x"]).await;
    raw(
        &mut admin,
        &["HSET", &format!("{other}:offset:basic"), "a", "b"],
    )
    .await;
    for command in ["dlq list", "dlq replay"] {
        let out = run_bin(
            &format!("{command} --url {url} --stream {other}"),
            &[],
            WAIT,
        )
        .await;
        assert_error(&out, EXIT_USAGE, &[&format!("'{other}:dead'")]);
    }
    let out = run_bin(&format!("consume --url {url} --stream {other}"), &[], WAIT).await;
    assert_error(&out, EXIT_USAGE, &[&format!("'{other}:offset:basic'")]);
}

/// XADD raw field/value pairs (values may be any bytes).
async fn xadd_raw(conn: &mut Conn, stream: &str, fields: &[(&str, &[u8])]) -> EntryId {
    let mut c = redis::cmd("XADD");
    c.arg(stream).arg("*");
    for (k, v) in fields {
        c.arg(*k).arg(*v);
    }
    let v = conn.run(&c, "XADD", true).await.expect("XADD");
    streamlab::redis::reply::id(&v).expect("an id")
}

/// A foreign entry is processed by a worker (so it does not clog the PEL)
/// and printed by `consume` (text and JSON) without a panic.
async fn entry_is_processed_and_printed(
    fields: &[(&str, &[u8])],
    what: &str,
) -> (Json, String, Json) {
    let server = server();
    let url = server.url();
    let stream = unique(what);
    let mut admin = common::connector(&url).conn("admin");
    let id = xadd_raw(&mut admin, &stream, fields).await;

    let worker = spawn_worker(&url, &stream, "w1");
    wait_processed(&worker, &[id], what).await;
    let deadline = common::Deadline::new("the PEL to empty", WAIT);
    while pending(&mut admin, &stream).await != 0 {
        deadline.tick().await;
    }
    let processed = events_named(&worker, "processed").remove(0);
    stop(worker).await;

    let text = run_bin(
        &format!("consume --url {url} --stream {stream} --from 0-0 --limit 1 --no-save"),
        &[],
        WAIT,
    )
    .await;
    assert!(text.success(), "{}", text.stderr);
    assert!(text.stdout.contains(&id.to_string()), "{}", text.stdout);
    let json = run_bin(
        &format!("consume --url {url} --stream {stream} --from 0-0 --limit 1 --no-save --json"),
        &[],
        WAIT,
    )
    .await;
    assert!(json.success(), "{}", json.stderr);
    let printed: Json = serde_json::from_str(json.stdout.trim()).expect("one JSON line");
    assert_eq!(printed["id"], id.to_string());
    (printed, text.stdout, processed)
}

#[tokio::test]
async fn entries_with_missing_fields_are_processed_as_unknown_tasks() {
    let (printed, _, processed) =
        entry_is_processed_and_printed(&[("something", b"else")], "missing-fields").await;
    assert_eq!(printed["fields"]["something"], "else");
    assert_eq!(processed["kind"], "unknown");
    assert_eq!(processed["seq"], Json::Null);
}

#[tokio::test]
async fn binary_field_values_are_processed_and_printed_lossily() {
    let bytes: &[u8] = &[0xff, 0x00, 0xfe, b'a', 0x80];
    let (printed, text, _) = entry_is_processed_and_printed(
        &[
            ("kind", &[0xc3, 0x28][..]),
            ("payload", bytes),
            ("seq", b"\xff"),
        ],
        "binary",
    )
    .await;
    let shown = printed["fields"]["payload"].as_str().unwrap();
    assert!(shown.contains('\u{fffd}') && shown.contains('a'), "{shown}");
    assert!(text.contains("payload="), "{text}");
}

#[tokio::test]
async fn one_mib_field_value_is_processed_and_shortened_in_text_output() {
    let big = vec![b'x'; 1024 * 1024];
    let (printed, text, _) =
        entry_is_processed_and_printed(&[("kind", b"email"), ("payload", &big)], "one-mib").await;
    assert_eq!(
        printed["fields"]["payload"].as_str().unwrap().len(),
        big.len()
    );
    assert!(
        text.len() < 1000,
        "text output is shortened: {} bytes",
        text.len()
    );
}

#[tokio::test]
async fn entry_with_5000_fields_is_processed() {
    let names: Vec<String> = (0..5000).map(|i| format!("f{i}")).collect();
    let fields: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"v"[..])).collect();
    let (printed, _, _) = entry_is_processed_and_printed(&fields, "wide").await;
    assert_eq!(printed["fields"].as_object().unwrap().len(), 5000);
}

#[tokio::test]
async fn empty_stream_is_shown_as_empty_by_every_command() {
    let server = server();
    let url = server.url();
    let stream = unique("empty");
    let mut admin = common::connector(&url).conn("admin");
    raw(
        &mut admin,
        &["XGROUP", "CREATE", &stream, "g", "0", "MKSTREAM"],
    )
    .await;
    let base = format!("--url {url} --stream {stream}");

    let out = run_bin(&format!("monitor --once --json {base}"), &[], WAIT).await;
    assert!(out.success(), "{}", out.stderr);
    let snap: Json = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(snap["stream"]["exists"], true);
    assert_eq!(snap["stream"]["length"], 0);
    assert_eq!(snap["groups"][0]["pending"], 0);

    let out = run_bin(&format!("monitor --once {base}"), &[], WAIT).await;
    assert!(out.stdout.contains("length 0"), "{}", out.stdout);
    let out = run_bin(&format!("dlq list {base}"), &[], WAIT).await;
    assert!(out.stdout.contains("no dead letters"), "{}", out.stdout);
    let out = run_bin(&format!("dlq replay {base}"), &[], WAIT).await;
    assert!(out.stdout.contains("replayed 0"), "{}", out.stdout);
    let out = run_bin(&format!("trim --maxlen 0 --exact {base}"), &[], WAIT).await;
    assert!(out.stdout.contains("removed 0"), "{}", out.stdout);

    // A consumer and a worker wait quietly, and stop cleanly.
    let consumer = BinProcess::spawn(&format!("consume --from 0-0 --block 100ms {base}"), &[]);
    let worker = spawn_worker(&url, &stream, "w1");
    common::wait_for("the worker to start", WAIT, || {
        let started = !events_named(&worker, "pending_drained").is_empty();
        async move { started }
    })
    .await;
    stop(worker).await;
    let mut consumer = consumer;
    consumer.terminate();
    assert!(consumer.wait_exit(WAIT).await.success());
    let err = consumer.stderr_lines().join("\n");
    assert!(err.contains("read 0 entries"), "{err}");
}

// ---------------------------------------------------------------------------
// The group, the stream, the consumer removed under running workers.

/// Two workers run; `damage` is done to the server; new tasks must still be
/// processed, the PEL must empty and the group must exist again.
async fn workers_survive(damage: &[&str], what: &str) -> Vec<BinProcess> {
    let server = server();
    let url = server.url();
    let stream = unique(what);
    let mut admin = common::connector(&url).conn("admin");
    let w1 = spawn_worker(&url, &stream, "w1");
    let w2 = spawn_worker(&url, &stream, "w2");
    // Both must be reading before the damage: a worker still starting when
    // the group goes would create it afresh (group_created), and the other
    // would never see NOGROUP. Under load that happened.
    common::wait_for("both workers reading", WAIT, || {
        let started = [&w1, &w2]
            .iter()
            .all(|w| !events_named(w, "pending_drained").is_empty());
        async move { started }
    })
    .await;
    let before = add_tasks(&mut admin, &stream, 20).await;
    common::wait_for("20 tasks processed before the damage", WAIT, || {
        let mut seen = processed_ids(&w1);
        seen.extend(processed_ids(&w2));
        let done = before.iter().all(|id| seen.contains(id));
        async move { done }
    })
    .await;

    let args: Vec<String> = damage
        .iter()
        .map(|a| a.replace("{stream}", &stream))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    raw(&mut admin, &args).await;

    let after = add_tasks(&mut admin, &stream, 20).await;
    common::wait_for("20 tasks processed after the damage", WAIT, || {
        let mut seen = processed_ids(&w1);
        seen.extend(processed_ids(&w2));
        let done = after.iter().all(|id| seen.contains(id));
        async move { done }
    })
    .await;
    let deadline = common::Deadline::new("the PEL to empty", WAIT);
    while pending(&mut admin, &stream).await != 0 {
        deadline.tick().await;
    }
    let v = raw(&mut admin, &["XINFO", "GROUPS", &stream]).await;
    let groups = parse_groups(&v).expect("XINFO GROUPS");
    assert!(groups.iter().any(|g| g.name == "g"), "group g exists again");
    let workers = vec![w1, w2];
    for w in &workers {
        let err = w.stderr_lines().join("\n");
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            events_named(w, "worker_stopped").is_empty(),
            "still running: {err}"
        );
    }
    drop(server);
    workers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_destroyed_under_running_workers_is_recreated_and_said() {
    let workers = workers_survive(&["XGROUP", "DESTROY", "{stream}", "g"], "destroyed").await;
    let recreated: Vec<Json> = workers
        .iter()
        .flat_map(|w| events_named(w, "group_recreated"))
        .collect();
    assert!(
        !recreated.is_empty(),
        "a worker said it re-created the group"
    );
    assert!(
        recreated[0]["reason"]
            .as_str()
            .unwrap()
            .contains("no longer had group"),
        "{recreated:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_deleted_under_running_workers_is_recreated_and_said() {
    let workers = workers_survive(&["DEL", "{stream}"], "deleted").await;
    let recreated = workers
        .iter()
        .map(|w| events_named(w, "group_recreated").len())
        .sum::<usize>();
    assert!(
        recreated >= 1,
        "a worker said it re-created the group: {:?}",
        workers.iter().map(|w| w.stdout_lines()).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_deleted_under_running_workers_keeps_working() {
    workers_survive(
        &["XGROUP", "DELCONSUMER", "{stream}", "g", "w1"],
        "delconsumer",
    )
    .await;
    // The deleted consumer itself carries on: alone, it processes new tasks
    // and Redis lists it again (its next successful read re-creates it).
    let server = server();
    let url = server.url();
    let stream = unique("delconsumer-alone");
    let mut admin = common::connector(&url).conn("admin");
    let w1 = spawn_worker(&url, &stream, "w1");
    let first = add_tasks(&mut admin, &stream, 10).await;
    wait_processed(&w1, &first, "10 tasks before").await;
    raw(&mut admin, &["XGROUP", "DELCONSUMER", &stream, "g", "w1"]).await;
    let v = raw(&mut admin, &["XINFO", "CONSUMERS", &stream, "g"]).await;
    assert!(streamlab::redis::parse_consumers(&v).unwrap().is_empty());
    let second = add_tasks(&mut admin, &stream, 10).await;
    wait_processed(&w1, &second, "10 tasks after its deletion").await;
    let v = raw(&mut admin, &["XINFO", "CONSUMERS", &stream, "g"]).await;
    let names: Vec<String> = streamlab::redis::parse_consumers(&v)
        .expect("XINFO CONSUMERS")
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["w1".to_owned()]);
    stop(w1).await;
}

// ---------------------------------------------------------------------------
// Secrets.

/// Every subcommand, with the password in REDIS_URL (and once through
/// REDIS_PASSWORD), logging at debug level to a file: the password shows in
/// no output, no error and no log line, whether it is right or wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_appears_in_no_output_error_or_log_of_any_subcommand() {
    let password = "Sx9-p@ss/w0rd!";
    let encoded = "Sx9-p%40ss%2Fw0rd!";
    let wrong = "Wr0ng-p@ss-x";
    let wrong_encoded = "Wr0ng-p%40ss-x";
    let server = password_server(password);
    let port = server.port;
    let stream = unique("secrets");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("streamlab.log");
    let log_arg = log.to_str().unwrap().to_owned();
    let secrets = [password, encoded, wrong, wrong_encoded, "Sx9-p"];

    let check = |what: &str, out: &str| {
        for s in secrets {
            assert!(!out.contains(s), "{what} shows '{s}': {out}");
        }
        assert!(!out.contains("panicked"), "{what}: {out}");
    };
    let commands = [
        "produce --count 20 --group g",
        "consume --from 0-0 --limit 5 --block 200ms",
        "monitor --once",
        "monitor --once --json",
        "info",
        "info --json",
        "trim --maxlen 100",
        "dlq list",
        "dlq list --json",
        "dlq replay",
        "bench --tasks 50 --workers 1 --producers 1 --batch 10 --rate 50 --latency-for 200ms",
        "produce --help",
        "worker --help",
        "--help",
    ];
    for pw in [encoded, wrong_encoded] {
        let url = format!("redis://default:{pw}@127.0.0.1:{port}");
        let env = [
            ("REDIS_URL", url.as_str()),
            ("STREAMLAB_LOG", "debug"),
            ("STREAMLAB_STREAM", stream.as_str()),
        ];
        for command in commands {
            let line = format!("{command} --log-file {log_arg}");
            let out = run_bin(&line, &env, Duration::from_secs(60)).await;
            check(&format!("{command} stdout"), &out.stdout);
            check(&format!("{command} stderr"), &out.stderr);
            if pw == wrong_encoded && !command.contains("help") {
                assert_error(&out, EXIT_CONNECTION, &["***"]);
            }
        }
        // The long-running worker, stopped with SIGTERM.
        let mut worker = BinProcess::spawn(
            &format!("worker --events json --block 200ms --log-file {log_arg}"),
            &env,
        );
        if pw == encoded {
            common::wait_for("the worker to start", WAIT, || {
                let started = !events_named(&worker, "worker_started").is_empty();
                async move { started }
            })
            .await;
            worker.terminate();
        }
        worker.wait_exit(WAIT).await;
        check("worker stdout", &worker.stdout_lines().join("\n"));
        check("worker stderr", &worker.stderr_lines().join("\n"));
    }
    // REDIS_HOST / REDIS_PORT / REDIS_PASSWORD, right and wrong.
    for pw in [password, wrong] {
        let port = port.to_string();
        let env = [
            ("REDIS_HOST", "127.0.0.1"),
            ("REDIS_PORT", port.as_str()),
            ("REDIS_PASSWORD", pw),
            ("STREAMLAB_LOG", "debug"),
        ];
        let out = run_bin(&format!("monitor --once --log-file {log_arg}"), &env, WAIT).await;
        check("REDIS_PASSWORD stdout", &out.stdout);
        check("REDIS_PASSWORD stderr", &out.stderr);
    }
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!logged.is_empty(), "the log file was written");
    check("log file", &logged);
}

/// The dashboard in tmux with a password in REDIS_URL: the screen (header,
/// event log, help overlay), the screen after quitting and the log file
/// never show it; with a wrong password it exits with a one-line error that
/// does not show it either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_tmux_never_shows_the_password() {
    let password = "Dx9-p@ss/w0rd!";
    let encoded = "Dx9-p%40ss%2Fw0rd!";
    let wrong = "Wr0ng-d@sh-x";
    let wrong_encoded = "Wr0ng-d%40sh-x";
    let server = password_server(password);
    let stream = unique("dash-secrets");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("dash.log");
    let secrets = [password, encoded, wrong, wrong_encoded, "Dx9-p", "Wr0ng-d"];
    let check = |what: &str, text: &str| {
        for s in secrets {
            assert!(!text.contains(s), "{what} shows '{s}':\n{text}");
        }
    };
    let run = |pw: &str| {
        let url = format!("REDIS_URL=redis://default:{pw}@127.0.0.1:{}", server.port);
        let args: Vec<String> = [
            "env",
            &url,
            "STREAMLAB_LOG=debug",
            common::bin(),
            "--stream",
            &stream,
            "--refresh",
            "200ms",
            "--workers",
            "1",
            "--log-file",
            log.to_str().unwrap(),
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        tmux::Tmux::start(&args, 160, 45)
    };

    let t = run(encoded);
    let up = t.wait("the dashboard is up", WAIT, |s| s.contains("● connected"));
    assert!(up.contains("redis://default:***@127.0.0.1"), "{up}");
    check("the dashboard", &up);
    t.keys("P");
    let busy = t.wait("100 entries read", WAIT, |s| s.contains("read 100"));
    check("the dashboard at work", &busy);
    t.keys("?");
    let help = t.wait("the help overlay", WAIT, |s| s.contains("Esc closes"));
    check("the help overlay", &help);
    // Esc alone, then q once it took effect: sent together, the terminal
    // would read them as Alt-q.
    t.keys("Escape");
    t.wait("the help overlay closed", WAIT, |s| {
        !s.contains("Esc closes")
    });
    t.keys("q");
    let after = t.wait("a clean exit", WAIT, |s| s.contains("EXITED"));
    assert!(after.contains("EXITED 0"), "{after}");
    check("the terminal after quitting", &after);
    drop(t);

    let t = run(wrong_encoded);
    let failed = t.wait("an exit on the wrong password", WAIT, |s| {
        s.contains("EXITED")
    });
    assert!(failed.contains("EXITED 3"), "{failed}");
    assert!(failed.contains("error: "), "{failed}");
    check("the error", &failed);
    drop(t);

    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    check("the log file", &logged);
}

#[tokio::test]
async fn without_a_terminal_the_dashboard_and_watch_say_so_and_write_nothing() {
    // run_bin gives no terminal (stdin from /dev/null, output to pipes).
    // On a new stream the lab would record it and create its group: that
    // must not happen before the terminal is known to work.
    let redis = server();
    let url = redis.url();
    let stream = unique("no-tty");
    for line in [
        format!("--url {url} --stream {stream}"),
        format!("watch --url {url}"),
    ] {
        let out = run_bin(&line, &[], WAIT).await;
        assert_eq!(out.status.code(), Some(1), "{line}: {}", out.stderr);
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {}", out.stderr);
        assert!(
            lines[0].starts_with("error: ")
                && lines[0].contains("need an interactive terminal")
                && lines[0].contains("streamlab monitor"),
            "{}",
            out.stderr
        );
    }
    let mut conn = common::connector(&url).conn("check");
    let keys = raw(&mut conn, &["DBSIZE"]).await;
    assert_eq!(
        streamlab::redis::reply::count(&keys),
        Some(0),
        "nothing written"
    );
}
