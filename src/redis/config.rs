//! Validated connection settings: where Redis is, how to authenticate, TLS.
//!
//! Inputs come from flags, then the environment, then `.env` (clap and
//! dotenvy give that precedence). This module turns them into one
//! [`RedisSettings`] whose `Display` never shows the password.

use std::fmt;
use std::path::PathBuf;

use url::Url;

use crate::redis::secrets;
use crate::redis::topology::NodeAddr;

mod sentinel;

pub use sentinel::{SENTINEL_PORT, SentinelSettings};

/// Raw connection inputs, as given on the command line or in the environment.
#[derive(Debug, Clone, Default)]
pub struct RedisInputs {
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: bool,
    pub ca_cert: Option<PathBuf>,
    pub tls_insecure: bool,
    /// REDIS_CLUSTER: `auto` (or unset) detects a cluster, `true`/`false` force.
    pub cluster: Option<String>,
    /// REDIS_SENTINEL: `host:port,host:port,...` of the sentinels.
    pub sentinel: Option<String>,
    /// REDIS_SENTINEL_MASTER: the master's name as the sentinels know it.
    pub sentinel_master: Option<String>,
    /// The sentinels' own credentials (the data nodes keep REDIS_USERNAME
    /// and REDIS_PASSWORD, or the URL's).
    pub sentinel_username: Option<String>,
    pub sentinel_password: Option<String>,
}

/// Where and how to connect. The URL inside carries the secret; use
/// [`RedisSettings::redacted_url`] or `Display` for anything shown.
#[derive(Clone)]
pub struct RedisSettings {
    url: Url,
    /// True when the user named a server (URL or host); false means the
    /// built-in default, which may fall back to an embedded server.
    pub explicit: bool,
    pub ca_cert: Option<PathBuf>,
    pub tls_insecure: bool,
    /// `Some(false)`: never treat the server as a cluster; `Some(true)`: it
    /// is one; `None`: ask it (INFO `cluster_enabled`).
    pub cluster: Option<bool>,
    /// Inputs given but not used, to say so (never their values).
    pub ignored: Vec<&'static str>,
    /// The master is found through these sentinels (the URL then gives
    /// only the scheme, credentials and database, not the address).
    pub sentinel: Option<SentinelSettings>,
    /// On a node's copy: the master name the sentinels gave its address
    /// for (what a failed connection's message names).
    pub(crate) via_sentinel: Option<String>,
}

impl fmt::Display for RedisSettings {
    /// The redacted URL, or for a Sentinel-managed master
    /// `sentinel mymaster (10.0.0.1:26379,10.0.0.2:26379)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.sentinel {
            Some(s) => write!(f, "sentinel {} ({})", s.master, s.list()),
            None => f.write_str(&self.redacted_url()),
        }
    }
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &self.redacted_url())
            .field("explicit", &self.explicit)
            .field("ca_cert", &self.ca_cert)
            .field("tls_insecure", &self.tls_insecure)
            .field("cluster", &self.cluster)
            .field("sentinel", &self.sentinel)
            .finish()
    }
}

/// A configuration problem, worded as one line that names the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

const URL_HELP: &str = "expected redis://[user:password@]host:port[/db], or rediss://... for TLS (a password with # @ / ? or % in it is written percent-encoded: %23 %40 %2F %3F %25)";

impl RedisSettings {
    /// Validate the inputs. `REDIS_URL` wins over `REDIS_HOST` and friends.
    pub fn from_inputs(inputs: &RedisInputs) -> Result<Self, ConfigError> {
        if let Some(password) = &inputs.password {
            secrets::register(password);
        }
        let (url, explicit) = match (&inputs.url, &inputs.host) {
            (Some(raw), _) if !raw.trim().is_empty() => (parse_url(raw.trim())?, true),
            (_, Some(host)) if !host.trim().is_empty() => {
                (url_from_parts(inputs, host.trim())?, true)
            }
            _ => (url_from_parts(inputs, "127.0.0.1")?, inputs.port.is_some()),
        };
        let mut url = url;
        if inputs.tls && url.scheme() == "redis" {
            url = switch_scheme(&url, "rediss")?;
        }
        // The URL's own user and password win: say when a separate one lost.
        let mut ignored = Vec::new();
        if inputs.username.is_some() && !url.username().is_empty() {
            ignored.push("REDIS_USERNAME (--username): the URL names its own user");
        }
        if inputs.password.is_some() && url.password().is_some() {
            ignored.push("REDIS_PASSWORD (--password): the URL carries its own password");
        }
        if let Some(user) = &inputs.username
            && url.username().is_empty()
        {
            url.set_username(user)
                .map_err(|()| ConfigError("REDIS_USERNAME cannot be used with this URL".into()))?;
        }
        if let Some(pass) = &inputs.password
            && url.password().is_none()
        {
            url.set_password(Some(pass))
                .map_err(|()| ConfigError("REDIS_PASSWORD cannot be used with this URL".into()))?;
        }
        if let Some(pass) = url.password() {
            let decoded = percent_decode(pass);
            secrets::register(&decoded);
            secrets::register(pass);
        }
        if inputs.ca_cert.is_some() && url.scheme() != "rediss" {
            return Err(ConfigError(
                "REDIS_CA_CERT is set but the connection is not TLS: use a rediss:// URL or REDIS_TLS=true".into(),
            ));
        }
        if let Some(path) = &inputs.ca_cert
            && !path.is_file()
        {
            return Err(ConfigError(format!(
                "REDIS_CA_CERT points to {}, which is not a readable file: give the path of a PEM CA certificate",
                path.display()
            )));
        }
        let sentinel = sentinel::from_inputs(inputs)?;
        let mut cluster = parse_cluster(inputs.cluster.as_deref())?;
        let explicit = explicit || sentinel.is_some();
        if sentinel.is_some() {
            if cluster == Some(true) {
                return Err(ConfigError(
                    "REDIS_CLUSTER=true and REDIS_SENTINEL are both set: a master found through Sentinel is a single server, so unset REDIS_CLUSTER (or REDIS_SENTINEL for a cluster)".into(),
                ));
            }
            cluster = Some(false);
            if inputs.host.is_some() || inputs.port.is_some() {
                ignored.push(
                    "REDIS_HOST / REDIS_PORT (--host / --port): the sentinels say where the master is",
                );
            }
        } else if inputs.sentinel_username.is_some() || inputs.sentinel_password.is_some() {
            ignored.push(
                "REDIS_SENTINEL_USERNAME / REDIS_SENTINEL_PASSWORD: REDIS_SENTINEL is not set",
            );
        }
        Ok(Self {
            url,
            explicit,
            ca_cert: inputs.ca_cert.clone(),
            tls_insecure: inputs.tls_insecure,
            cluster,
            ignored,
            sentinel,
            via_sentinel: None,
        })
    }

    /// The settings to ask one sentinel with: the data nodes' scheme (TLS
    /// or not), CA and `--tls-insecure`, the sentinels' own credentials,
    /// no database (a sentinel has none).
    pub fn for_sentinel(&self, addr: &NodeAddr) -> Result<Self, ConfigError> {
        let sentinel = self.sentinel.as_ref();
        let bracketed = if addr.host.contains(':') {
            format!("[{}]", addr.host)
        } else {
            addr.host.clone()
        };
        let mut url = Url::parse(&format!(
            "{}://{bracketed}:{}",
            self.url.scheme(),
            addr.port
        ))
        .map_err(|e| {
            ConfigError(format!(
                "REDIS_SENTINEL entry '{addr}' is not a usable address ({e})"
            ))
        })?;
        if let Some(user) = sentinel.and_then(|s| s.username.as_deref()) {
            url.set_username(user).map_err(|()| {
                ConfigError("REDIS_SENTINEL_USERNAME cannot be used in a URL".into())
            })?;
        }
        if let Some(pass) = sentinel.and_then(|s| s.password.as_deref()) {
            url.set_password(Some(pass)).map_err(|()| {
                ConfigError("REDIS_SENTINEL_PASSWORD cannot be used in a URL".into())
            })?;
            if let Some(encoded) = url.password() {
                secrets::register(encoded);
            }
        }
        Ok(Self {
            url,
            sentinel: None,
            cluster: Some(false),
            ignored: Vec::new(),
            ..self.clone()
        })
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        let mut shown = self.url.clone();
        if shown.password().is_some() {
            // Setting a password on a URL that already has one cannot fail.
            let _ = shown.set_password(Some("***"));
        }
        shown.to_string().replace("%2A%2A%2A", "***")
    }

    /// The full URL, secret included, for the redis crate only.
    pub(crate) fn secret_url(&self) -> &Url {
        &self.url
    }

    pub fn is_tls(&self) -> bool {
        self.url.scheme() == "rediss"
    }

    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or("127.0.0.1")
    }

    pub fn port(&self) -> u16 {
        self.url.port().unwrap_or(6379)
    }

    /// A copy for another node of the same cluster: same user, password,
    /// database, TLS and CA settings, another host and port. An address
    /// that cannot stand in a URL is an error: keeping the seed's host
    /// would send the node's commands to the wrong server.
    pub fn for_node(&self, host: &str, port: u16) -> Result<Self, ConfigError> {
        let bracketed = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        self.at(&bracketed, port).map_err(|()| {
            ConfigError(format!(
                "the cluster announced the node address '{host}:{port}', which is not a host and port streamlab can connect to"
            ))
        })
    }

    /// A copy pointing at another port of localhost (the embedded server).
    pub fn with_local_port(&self, port: u16) -> Result<Self, ConfigError> {
        self.at("127.0.0.1", port).map_err(|()| {
            ConfigError(format!(
                "{} cannot point at the private server (127.0.0.1:{port}): give a redis:// URL",
                self.redacted_url()
            ))
        })
    }

    fn at(&self, host: &str, port: u16) -> Result<Self, ()> {
        let mut other = self.clone();
        // A node is shown by its own URL; it remembers which master the
        // sentinels named it for.
        if let Some(s) = other.sentinel.take() {
            other.via_sentinel = Some(s.master);
        }
        if host.is_empty() {
            return Err(());
        }
        other.url.set_host(Some(host)).map_err(|_| ())?;
        other.url.set_port(Some(port))?;
        Ok(other)
    }
}

fn parse_cluster(value: Option<&str>) -> Result<Option<bool>, ConfigError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "auto") => Ok(None),
        Some("true" | "yes" | "1") => Ok(Some(true)),
        Some("false" | "no" | "0") => Ok(Some(false)),
        Some(other) => Err(ConfigError(format!(
            "REDIS_CLUSTER '{other}' is not auto, true or false: leave it unset to detect a cluster, or use false to treat the server as a single node"
        ))),
    }
}

fn parse_url(raw: &str) -> Result<Url, ConfigError> {
    // The url crate's messages never echo the input, so no secret leaks here.
    let url = Url::parse(raw)
        .map_err(|e| ConfigError(format!("REDIS_URL is not a valid URL ({e}): {URL_HELP}")))?;
    match url.scheme() {
        "redis" | "rediss" => {}
        other => {
            return Err(ConfigError(format!(
                "REDIS_URL has scheme '{other}': {URL_HELP}"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError(format!("REDIS_URL has no host: {URL_HELP}")));
    }
    let path = url.path().trim_start_matches('/');
    if !path.is_empty() && path.parse::<u32>().is_err() {
        return Err(ConfigError(format!(
            "REDIS_URL path '/{path}' is not a database number: {URL_HELP}"
        )));
    }
    Ok(url)
}

fn url_from_parts(inputs: &RedisInputs, host: &str) -> Result<Url, ConfigError> {
    let port = match &inputs.port {
        Some(p) => p
            .trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| {
                ConfigError(format!(
                    "REDIS_PORT '{}' is not a port number: use a number from 1 to 65535",
                    p.trim()
                ))
            })?,
        None => 6379,
    };
    let scheme = if inputs.tls { "rediss" } else { "redis" };
    let host_part = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    Url::parse(&format!("{scheme}://{host_part}:{port}")).map_err(|e| {
        ConfigError(format!(
            "REDIS_HOST '{host}' is not a valid host name ({e}): use a name or an IP address"
        ))
    })
}

fn switch_scheme(url: &Url, scheme: &str) -> Result<Url, ConfigError> {
    let rest = url.as_str().split_once("://").map_or("", |(_, r)| r);
    Url::parse(&format!("{scheme}://{rest}"))
        .map_err(|e| ConfigError(format!("cannot switch REDIS_URL to TLS ({e})")))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> RedisInputs {
        RedisInputs {
            url: Some(url.into()),
            ..RedisInputs::default()
        }
    }

    #[test]
    fn a_password_the_url_overrides_is_named_as_unused() {
        let both = RedisInputs {
            password: Some("Other-pw-1".into()),
            ..with_url("redis://u:Url-pw-1@h:1")
        };
        let s = RedisSettings::from_inputs(&both).unwrap();
        assert_eq!(s.ignored.len(), 1, "{:?}", s.ignored);
        assert!(s.ignored[0].starts_with("REDIS_PASSWORD"));
        assert!(!s.ignored[0].contains("pw-1"), "never the value");
        let used = RedisInputs {
            password: Some("Other-pw-1".into()),
            ..with_url("redis://h:1")
        };
        assert!(
            RedisSettings::from_inputs(&used)
                .unwrap()
                .ignored
                .is_empty()
        );
    }

    #[test]
    fn password_is_redacted_in_display_and_debug() {
        let s =
            RedisSettings::from_inputs(&with_url("rediss://default:hunter2xyz@example.com:12000"))
                .unwrap();
        assert_eq!(s.to_string(), "rediss://default:***@example.com:12000");
        assert!(!format!("{s:?}").contains("hunter2xyz"));
        assert!(s.is_tls());
    }

    #[test]
    fn host_port_password_build_a_url() {
        let inputs = RedisInputs {
            host: Some("cache.local".into()),
            port: Some("6380".into()),
            password: Some("p@ss".into()),
            tls: true,
            ..RedisInputs::default()
        };
        let s = RedisSettings::from_inputs(&inputs).unwrap();
        assert_eq!(s.to_string(), "rediss://:***@cache.local:6380");
        assert_eq!(s.secret_url().password(), Some("p%40ss"));
    }

    #[test]
    fn nothing_configured_means_local_default_not_explicit() {
        let s = RedisSettings::from_inputs(&RedisInputs::default()).unwrap();
        assert!(!s.explicit);
        assert_eq!(s.to_string(), "redis://127.0.0.1:6379");
    }

    #[test]
    fn bad_urls_give_one_line_errors_without_the_secret() {
        for bad in [
            "http://u:topsecret1@h:1",
            "redis://u:topsecret1@:6379",
            "not a url topsecret1",
            "redis://h:1/abc",
        ] {
            let err = RedisSettings::from_inputs(&with_url(bad))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("REDIS_URL"), "{err}");
            assert!(!err.contains("topsecret1"), "{err}");
            assert!(!err.contains('\n'));
        }
    }

    #[test]
    fn cluster_mode_is_auto_true_or_false() {
        let with = |v: &str| RedisInputs {
            cluster: Some(v.into()),
            ..RedisInputs::default()
        };
        let mode = |v: &str| RedisSettings::from_inputs(&with(v)).map(|s| s.cluster);
        assert_eq!(mode("auto"), Ok(None));
        assert_eq!(mode("false"), Ok(Some(false)));
        assert_eq!(mode("TRUE"), Ok(Some(true)));
        let err = mode("maybe").unwrap_err().to_string();
        assert!(err.starts_with("REDIS_CLUSTER 'maybe'"), "{err}");
    }

    #[test]
    fn another_node_keeps_the_credentials() {
        let s = RedisSettings::from_inputs(&with_url("rediss://u:pw1@seed:7000/0")).unwrap();
        let node = s.for_node("10.0.0.2", 7001).unwrap();
        assert_eq!(node.to_string(), "rediss://u:***@10.0.0.2:7001/0");
        assert_eq!(node.secret_url().password(), Some("pw1"));
        assert_eq!(s.for_node("::1", 7002).unwrap().host(), "[::1]");
    }

    #[test]
    fn a_node_address_that_cannot_be_a_url_is_an_error_not_the_seed() {
        let s = RedisSettings::from_inputs(&with_url("redis://u:pw1@seed:7000")).unwrap();
        for host in ["", "bad host", "a/b"] {
            let err = s.for_node(host, 7001).unwrap_err().to_string();
            assert!(err.contains("announced the node address"), "{host}: {err}");
            assert!(!err.contains("pw1"), "{err}");
        }
    }

    #[test]
    fn bad_port_is_named() {
        let inputs = RedisInputs {
            host: Some("h".into()),
            port: Some("70000".into()),
            ..RedisInputs::default()
        };
        let err = RedisSettings::from_inputs(&inputs).unwrap_err().to_string();
        assert!(err.contains("REDIS_PORT '70000'"), "{err}");
    }
}
