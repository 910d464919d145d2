//! A real Prometheus for the exporter's tests (Debian's `prometheus`
//! package; `.ci/run` installs it): started on a free port with its own
//! config (a 1 s scrape of the given targets) and storage in a temp dir,
//! queried through its HTTP API. Also a plain HTTP GET for the exporter's
//! pages and `promtool`. A missing binary fails the test and says how to
//! install it: nothing is skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The path of `name` on PATH, or a failed test saying how to get it.
pub fn tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: `apt-get install prometheus` (Debian) gives prometheus and promtool; .ci/run installs it")
        })
}

/// A Prometheus server, killed on drop.
pub struct Prometheus {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Start one scraping `targets` (host:port) every second as job `streamlab`.
    pub fn start(targets: &[String]) -> Self {
        Self::start_with_rules(targets, None)
    }

    /// The same, evaluating the alerting `rules` (a rules file's text)
    /// every second.
    pub fn start_with_rules(targets: &[String], rules: Option<&str>) -> Self {
        let binary = tool("prometheus");
        let dir = tempfile::tempdir().expect("temp dir");
        let port = crate::common::standalone::free_port().expect("a free port");
        let list = targets
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: streamlab\n    static_configs:\n      - targets: [{list}]\n"
        );
        if let Some(rules) = rules {
            let path = dir.path().join("rules.yml");
            std::fs::write(&path, rules).expect("write the rules");
            config.push_str(&format!("rule_files:\n  - '{}'\n", path.display()));
        }
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write the config");
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    /// Its log so far (for a failure message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// An instant query: each series' labels and value; empty while
    /// Prometheus is not up yet or has no such series.
    pub async fn query(&self, promql: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        let mut url = url::Url::parse("http://x/api/v1/query").expect("url");
        url.query_pairs_mut().append_pair("query", promql);
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        let Ok((status, _, body)) = get(&format!("127.0.0.1:{}", self.port), &path, None).await
        else {
            return Vec::new();
        };
        if status != 200 {
            return Vec::new();
        }
        let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let results = json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        results
            .iter()
            .map(|r| {
                let labels = r["metric"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                let value = r["value"][1]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN);
                (labels, value)
            })
            .collect()
    }

    /// Whether Prometheus accepts `promql`: its error otherwise.
    pub async fn parses(&self, promql: &str) -> Result<(), String> {
        let mut url = url::Url::parse("http://x/api/v1/query").expect("url");
        url.query_pairs_mut().append_pair("query", promql);
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        let (_, _, body) = get(&format!("127.0.0.1:{}", self.port), &path, None)
            .await
            .map_err(|e| e.to_string())?;
        let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        if json["status"] == "success" {
            Ok(())
        } else {
            Err(body)
        }
    }

    /// The one value of `promql`, if it has exactly one series.
    pub async fn value(&self, promql: &str) -> Option<f64> {
        match self.query(promql).await.as_slice() {
            [(_, v)] => Some(*v),
            _ => None,
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` from `addr` over HTTP/1.1 (the connection closed after it):
/// the status, the headers (names lowercased) and the body.
pub async fn get(
    addr: &str,
    path: &str,
    accept: Option<&str>,
) -> std::io::Result<(u16, BTreeMap<String, String>, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{accept}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect::<BTreeMap<_, _>>();
    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|t| t == "chunked")
    {
        unchunk(body)
    } else {
        body.to_owned()
    };
    Ok((status, headers, body))
}

/// A chunked body's data.
fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Run `promtool args...` with `stdin` fed in; its exit status and output.
pub fn promtool(args: &[&str], stdin: Option<&str>, cwd: &Path) -> (bool, String) {
    use std::io::Write;
    let mut child = Command::new(tool("promtool"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    if let (Some(mut input), Some(text)) = (child.stdin.take(), stdin) {
        input.write_all(text.as_bytes()).expect("feed promtool");
    }
    let out = child.wait_with_output().expect("promtool output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
