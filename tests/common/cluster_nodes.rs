//! Starting one cluster node (on a free port pair, under its watchdog),
//! and the TLS certificates every node of a TLS cluster serves.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Node, PASSWORD, Tls, cli_base};

/// Certificates made with the `openssl` CLI: a CA, and a node certificate
/// for IP 127.0.0.1 (the address the nodes announce) signed by it.
pub(super) fn make_tls() -> Tls {
    let dir = std::env::temp_dir().join(format!("streamlab-cluster-{}-tls", std::process::id()));
    std::fs::create_dir_all(&dir).expect("certificate directory");
    std::fs::write(
        dir.join("san.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("openssl extension file");
    for line in [
        "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=streamlab-test-ca",
        "req -newkey rsa:2048 -nodes -keyout node.key -out node.csr -subj /CN=127.0.0.1",
        "x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out node.crt -days 2 -extfile san.cnf",
    ] {
        let out = Command::new("openssl")
            .args(line.split_whitespace())
            .current_dir(&dir)
            .output()
            .expect("the openssl CLI is needed for the TLS cluster");
        assert!(
            out.status.success(),
            "openssl {line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Tls {
        ca: dir.join("ca.crt"),
        cert: dir.join("node.crt"),
        key: dir.join("node.key"),
        dir,
    }
}

/// A port p with p and p + 10000 free, p <= 55535.
fn free_cluster_port() -> u16 {
    for _ in 0..200 {
        let port = fastrand::u16(20_000..=55_535);
        let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
        if free(port) && free(port + 10_000) {
            return port;
        }
    }
    panic!("no free port pair for a cluster node");
}

/// The watchdog: start the node, print its pid, wait for stdin to close
/// (the test process is gone), then kill it and clean up.
const WATCHDOG: &str = r#"dir=$1; shift
extra=$1; shift
server=$1; shift
"$server" "$@" </dev/null >"$dir/log" 2>&1 &
echo $!
read -r _
kill -9 $! 2>/dev/null
rm -rf "$dir" $extra"#;

/// Start one cluster-enabled node under its watchdog; retried on another
/// port if someone took this one first.
pub(super) fn start_node(tls: Option<&Tls>) -> Node {
    for _ in 0..10 {
        let port = free_cluster_port();
        let dir: PathBuf =
            std::env::temp_dir().join(format!("streamlab-cluster-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("node directory");
        let mut args = listen_args(port, tls);
        args.extend(node_args(&dir));
        let node = spawn_watched(port, &dir, tls, &args);
        if wait_ping(port, tls, Duration::from_secs(10)) {
            return node;
        }
        // Port taken between the check and the start: the node died.
        // Dropping `node` closes the pipe, so its watchdog cleans up.
    }
    panic!("could not start a cluster node");
}

/// Where the node listens. With TLS the port serves TLS only, and the bus
/// and replication use it too: every node the same way.
fn listen_args(port: u16, tls: Option<&Tls>) -> Vec<String> {
    let mut listen: Vec<String> = match tls {
        None => vec!["--port".into(), port.to_string()],
        Some(t) => [
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--tls-cluster",
            "yes",
            "--tls-replication",
            "yes",
            "--tls-auth-clients",
            "no",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .chain([
            "--tls-cert-file".to_owned(),
            t.cert.display().to_string(),
            "--tls-key-file".to_owned(),
            t.key.display().to_string(),
            "--tls-ca-cert-file".to_owned(),
            t.ca.display().to_string(),
        ])
        .collect(),
    };
    listen.extend(["--bind".to_owned(), "127.0.0.1".to_owned()]);
    listen
}

/// A cluster node without persistence, quick to fail over, with the
/// password on `default` and the `lab` ACL user, its files in `dir`.
fn node_args(dir: &std::path::Path) -> Vec<String> {
    let password = format!(">{PASSWORD}");
    [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        "2000",
        "--save",
        "",
        "--appendonly",
        "no",
        "--repl-diskless-sync-delay",
        "0",
        "--requirepass",
        PASSWORD,
        "--masterauth",
        PASSWORD,
        // redis-server joins the words after an option into one
        // config line: `user lab on >pw ~* &* +@all`.
        "--user",
        "lab",
        "on",
        &password,
        "~*",
        "&*",
        "+@all",
        "--dir",
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .chain([dir.display().to_string()])
    .collect()
}

/// Run the matrix's server (STREAMLAB_TEST_SERVER, else redis-server) with
/// `args` under the watchdog, which removes `dir` (and the certificates)
/// when the test process goes.
fn spawn_watched(port: u16, dir: &std::path::Path, tls: Option<&Tls>, args: &[String]) -> Node {
    let mut watchdog = Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("watchdog")
        .arg(dir)
        // The certificates go with the nodes (the same path each time).
        .arg(tls.map(|t| t.dir.display().to_string()).unwrap_or_default())
        .arg(crate::common::server_binary_name())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sh starts");
    let mut line = String::new();
    let stdout = watchdog.stdout.take().expect("piped stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the watchdog prints the pid");
    let pid: u32 = line.trim().parse().expect("a pid");
    Node {
        port,
        pid,
        _watchdog: watchdog,
    }
}

fn wait_ping(port: u16, tls: Option<&Tls>, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let out = Command::new("redis-cli")
            .args(cli_base(port, tls))
            .arg("PING")
            .stdin(Stdio::null())
            .output();
        if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("PONG")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
