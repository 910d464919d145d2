//! Sentinel settings: `REDIS_SENTINEL=host:port,host:port,...` with
//! `REDIS_SENTINEL_MASTER=<name>`, and the sentinels' own credentials
//! (`REDIS_SENTINEL_USERNAME` / `REDIS_SENTINEL_PASSWORD`), apart from the
//! data nodes' (`REDIS_URL`'s, or `REDIS_USERNAME` / `REDIS_PASSWORD`).
//! The sentinels are reached as the data nodes are: `rediss://` (or
//! `REDIS_TLS=true`) means TLS to both, with the same CA and
//! `--tls-insecure`.

use std::fmt;

use super::{ConfigError, RedisInputs};
use crate::redis::secrets;
use crate::redis::topology::NodeAddr;

/// The port sentinels listen on unless told otherwise.
pub const SENTINEL_PORT: u16 = 26379;

const LIST_HELP: &str = "write REDIS_SENTINEL=host:port,host:port (the sentinels' addresses; the port is 26379 when left out)";

/// Where the sentinels are, which master to ask them for, and how to
/// authenticate with them. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SentinelSettings {
    pub master: String,
    pub sentinels: Vec<NodeAddr>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
}

impl fmt::Debug for SentinelSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentinelSettings")
            .field("master", &self.master)
            .field("sentinels", &self.sentinels)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl SentinelSettings {
    /// `127.0.0.1:26379,127.0.0.1:26380`: the list as given.
    pub fn list(&self) -> String {
        self.sentinels
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Whether the sentinels are asked with a password of their own.
    pub fn authenticates(&self) -> bool {
        self.password.is_some()
    }
}

/// The sentinel settings the inputs give, if any. The sentinels' password
/// is registered as a secret here, before anything could print it.
pub(super) fn from_inputs(inputs: &RedisInputs) -> Result<Option<SentinelSettings>, ConfigError> {
    if let Some(password) = &inputs.sentinel_password {
        secrets::register(password);
    }
    let list = inputs
        .sentinel
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let master = inputs
        .sentinel_master
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let (list, master) = match (list, master) {
        (None, None) => return Ok(None),
        (None, Some(_)) => {
            return Err(ConfigError(
                "REDIS_SENTINEL_MASTER is set but REDIS_SENTINEL is not: give the sentinels' addresses (REDIS_SENTINEL=host:26379,host:26380,...)".into(),
            ));
        }
        (Some(_), None) => {
            return Err(ConfigError(
                "REDIS_SENTINEL is set but REDIS_SENTINEL_MASTER is not: name the master the sentinels monitor (the <name> of `sentinel monitor <name> ...` in their configuration)".into(),
            ));
        }
        (Some(list), Some(master)) => (list, master),
    };
    if master.contains(char::is_whitespace) {
        return Err(ConfigError(format!(
            "REDIS_SENTINEL_MASTER '{master}' holds a space: give the master's name as the sentinels know it"
        )));
    }
    Ok(Some(SentinelSettings {
        master: master.to_owned(),
        sentinels: parse_list(list)?,
        username: inputs.sentinel_username.clone().filter(|u| !u.is_empty()),
        password: inputs.sentinel_password.clone().filter(|p| !p.is_empty()),
    }))
}

/// `host:port,host:port,...`; a host alone gets port 26379, an IPv6
/// address is written in brackets.
fn parse_list(list: &str) -> Result<Vec<NodeAddr>, ConfigError> {
    let mut out: Vec<NodeAddr> = Vec::new();
    for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let addr = parse_one(item).ok_or_else(|| {
            ConfigError(format!(
                "REDIS_SENTINEL entry '{item}' is not host:port: {LIST_HELP}"
            ))
        })?;
        if !out.contains(&addr) {
            out.push(addr);
        }
    }
    if out.is_empty() {
        return Err(ConfigError(format!(
            "REDIS_SENTINEL names no sentinel: {LIST_HELP}"
        )));
    }
    Ok(out)
}

fn parse_one(item: &str) -> Option<NodeAddr> {
    let bad = |c: char| c.is_whitespace() || "/@?#".contains(c);
    if item.contains(bad) {
        return None;
    }
    let (host, port) = if let Some(rest) = item.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => SENTINEL_PORT,
            None => return None,
        };
        (host, port)
    } else {
        match item.split_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (item, SENTINEL_PORT),
        }
    };
    (!host.is_empty() && port > 0).then(|| NodeAddr::new(host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(list: Option<&str>, master: Option<&str>) -> RedisInputs {
        RedisInputs {
            sentinel: list.map(Into::into),
            sentinel_master: master.map(Into::into),
            ..RedisInputs::default()
        }
    }

    #[test]
    fn lists_parse_with_default_ports_and_ipv6() {
        let s = from_inputs(&inputs(
            Some(" 10.0.0.1:26380, sentinel-b ,[::1]:5000,[fe80::1]"),
            Some("mymaster"),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(s.master, "mymaster");
        assert_eq!(
            s.sentinels,
            [
                NodeAddr::new("10.0.0.1", 26380),
                NodeAddr::new("sentinel-b", 26379),
                NodeAddr::new("::1", 5000),
                NodeAddr::new("fe80::1", 26379),
            ]
        );
        assert_eq!(
            s.list(),
            "10.0.0.1:26380,sentinel-b:26379,[::1]:5000,[fe80::1]:26379"
        );
    }

    #[test]
    fn bad_lists_and_missing_halves_are_one_line_errors() {
        for (list, master, says) in [
            (Some("h:port"), Some("m"), "REDIS_SENTINEL entry 'h:port'"),
            (Some("h:0"), Some("m"), "REDIS_SENTINEL entry 'h:0'"),
            (Some("h:1:2"), Some("m"), "REDIS_SENTINEL entry 'h:1:2'"),
            (Some("redis://h:1"), Some("m"), "is not host:port"),
            (Some(" , "), Some("m"), "names no sentinel"),
            (Some("h:1"), None, "REDIS_SENTINEL_MASTER is not"),
            (None, Some("m"), "REDIS_SENTINEL is not"),
            (Some("h:1"), Some("my master"), "holds a space"),
        ] {
            let err = from_inputs(&inputs(list, master)).unwrap_err().to_string();
            assert!(err.contains(says), "{list:?} {master:?}: {err}");
            assert!(!err.contains('\n'));
        }
        assert_eq!(from_inputs(&inputs(None, None)), Ok(None));
        assert_eq!(from_inputs(&inputs(Some(" "), Some(" "))), Ok(None));
    }

    #[test]
    fn the_sentinels_password_is_masked_and_kept_apart() {
        let s = from_inputs(&RedisInputs {
            sentinel_username: Some("watcher".into()),
            sentinel_password: Some("Sentinel-secret-9".into()),
            ..inputs(Some("h:1"), Some("m"))
        })
        .unwrap()
        .unwrap();
        assert!(!format!("{s:?}").contains("Sentinel-secret-9"));
        assert!(s.authenticates());
        assert_eq!(
            secrets::redact("auth Sentinel-secret-9"),
            "auth ***",
            "registered as a secret"
        );
    }
}
