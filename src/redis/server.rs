//! Which server streamlab talks to: Redis or Valkey, its version,
//! standalone or cluster, and the stream features it has.
//!
//! Probed once per connection target (`Session::open`) and kept on the
//! [`Connector`], so the header, `monitor --json`, `streamlab info` and the
//! fallbacks all read the same answer. The version comes from INFO server
//! (Valkey says `server_name:valkey` and `valkey_version`, and keeps
//! `redis_version:7.2.4`, the Redis it forked); a user whose ACL refuses
//! INFO still gets an answer from HELLO (Redis 6.0+, in `@connection`).
//! The connector's cluster detection asks the same question first, with
//! the same parsers, and keeps the answer, so the probe does not repeat it.
//! Features follow from the version, and commands are confirmed with one
//! `COMMAND INFO` where the ACL allows it, which is cheaper than guessing.

use std::collections::HashMap;
use std::fmt;

use ::redis::{Value, cmd};
use serde_json::{Value as Json, json};

use crate::redis::connect::{Conn, Connector};
use crate::redis::errors::RedisFailure;
use crate::redis::features::{Feature, Version};
use crate::redis::reply::{items, table, text};
use crate::redis::{Retention, TrimMode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerName {
    Redis,
    Valkey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMode {
    Standalone,
    Cluster,
}

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub name: ServerName,
    pub version: Version,
    pub mode: ServerMode,
    /// In [`Feature::ALL`] order.
    pub features: Vec<Feature>,
}

/// Name, version and mode, before features are derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: ServerName,
    pub version: Version,
    pub mode: ServerMode,
}

impl ServerName {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redis => "redis",
            Self::Valkey => "valkey",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Redis => "Redis",
            Self::Valkey => "Valkey",
        }
    }
}

impl ServerMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standalone => "standalone",
            Self::Cluster => "cluster",
        }
    }
}

impl fmt::Display for ServerInfo {
    /// `Valkey 9.1.2`, `Redis 7.0.15 (cluster)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name.title(), self.version)?;
        if self.mode == ServerMode::Cluster {
            f.write_str(" (cluster)")?;
        }
        Ok(())
    }
}

impl ServerInfo {
    /// Features from the version, overridden by `commands` (name -> exists)
    /// where COMMAND INFO answered.
    pub fn derive(identity: Identity, commands: Option<&HashMap<String, bool>>) -> Self {
        let features = Feature::ALL
            .into_iter()
            .filter(|f| {
                let confirmed = f
                    .command()
                    .and_then(|c| commands.and_then(|found| found.get(c)));
                confirmed.copied().unwrap_or_else(|| {
                    f.expected_in(identity.name == ServerName::Valkey, identity.version)
                })
            })
            .collect();
        Self {
            name: identity.name,
            version: identity.version,
            mode: identity.mode,
            features,
        }
    }

    pub fn has(&self, feature: Feature) -> bool {
        self.features.contains(&feature)
    }

    /// Why `feature` is unavailable, in words for the screen, e.g.
    /// "Redis < 7.0 does not report lag"; `None` when it is available.
    pub fn missing(&self, feature: Feature) -> Option<String> {
        if self.has(feature) {
            return None;
        }
        Some(match self.name {
            ServerName::Redis => {
                format!("Redis < {} {}", feature.since().line(), feature.absence())
            }
            ServerName::Valkey => format!("Valkey {} {}", self.version, feature.absence()),
        })
    }

    /// Refuse servers without what streamlab relies on (XAUTOCLAIM, 6.2).
    pub fn check_supported(&self) -> Result<(), String> {
        let missing: Vec<&str> = [Feature::XAutoClaim, Feature::XPendingIdle]
            .into_iter()
            .filter(|f| !self.has(*f))
            .map(Feature::command_words)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{self} is too old for streamlab: it lacks {} (Redis 6.2 or later, or any Valkey, is needed)",
            missing.join(" and ")
        ))
    }

    /// Why this server cannot trim with `mode` (one line naming Redis
    /// 8.2), or `None` when it can.
    pub fn trim_mode_refusal(&self, mode: TrimMode) -> Option<String> {
        if self.has(Feature::TrimModes) {
            return None;
        }
        Some(format!(
            "trim mode {} needs Redis 8.2 or later, and {self} has no KEEPREF, DELREF or ACKED option (XADD, XTRIM)",
            mode.word()
        ))
    }

    /// Whether approximate trimming (`~`) with `mode` removes nothing on
    /// this server: ACKED or DELREF on Redis 8.2.0 to 8.4.0 (redis#14656).
    pub fn approximate_trim_ignored(&self, mode: Option<TrimMode>) -> bool {
        let broken = Version::new(8, 2, 0)..=Version::new(8, 4, 0);
        self.name == ServerName::Redis
            && broken.contains(&self.version)
            && matches!(mode, Some(TrimMode::Acked | TrimMode::DelRef))
    }

    /// `retention` as this server can run it: refused (why) when it names
    /// a trim mode the server lacks; made exact, with a note saying why,
    /// where approximate trimming with its mode removes nothing.
    pub fn fit_retention(
        &self,
        retention: Retention,
    ) -> Result<(Retention, Option<String>), String> {
        if let Some(why) = retention.mode.and_then(|m| self.trim_mode_refusal(m)) {
            return Err(why);
        }
        if retention.exact || !self.approximate_trim_ignored(retention.mode) {
            return Ok((retention, None));
        }
        let mode = retention.mode.map_or("", TrimMode::word);
        let note = format!(
            "{self} removes nothing when trimming approximately (~) with {mode} (redis#14656): trimming exactly (=) instead"
        );
        Ok((retention.exactly(true), Some(note)))
    }

    /// The `"server"` object of `monitor --json` and `info --json`.
    pub fn to_json(&self) -> Json {
        json!({
            "name": self.name.as_str(),
            "version": self.version.to_string(),
            "mode": self.mode.as_str(),
            "features": self.features.iter().map(|f| f.name()).collect::<Vec<_>>(),
        })
    }
}

/// INFO's `key:value` lines (every section given), as a map.
pub fn info_fields(info: &str) -> HashMap<String, String> {
    info.lines()
        .filter_map(|l| l.trim_end().split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Name, version and mode from INFO (server and cluster sections).
pub fn identity_from_info(fields: &HashMap<String, String>) -> Option<Identity> {
    let valkey = fields.get("server_name").is_some_and(|n| n == "valkey");
    let (name, version) = if valkey {
        (ServerName::Valkey, fields.get("valkey_version")?)
    } else {
        (ServerName::Redis, fields.get("redis_version")?)
    };
    let clustered = fields.get("cluster_enabled").is_some_and(|v| v == "1")
        || ["redis_mode", "server_mode"]
            .iter()
            .any(|k| fields.get(*k).is_some_and(|m| m == "cluster"));
    Some(Identity {
        name,
        version: version.parse().ok()?,
        mode: if clustered {
            ServerMode::Cluster
        } else {
            ServerMode::Standalone
        },
    })
}

/// Name, version and mode from HELLO's reply (`server`, `version`, `mode`).
pub fn identity_from_hello(reply: &Value) -> Option<Identity> {
    let t = table(reply)?;
    let field = |k: &str| t.get(k).and_then(|v| text(v));
    let name = match field("server")?.as_str() {
        "valkey" => ServerName::Valkey,
        _ => ServerName::Redis,
    };
    let mode = match field("mode").as_deref() {
        Some("cluster") => ServerMode::Cluster,
        _ => ServerMode::Standalone,
    };
    Some(Identity {
        name,
        version: field("version")?.parse().ok()?,
        mode,
    })
}

/// The probed server, from the connector if known, else asked now (and
/// kept there for every later caller).
pub async fn server_info(conn: &mut Conn) -> Result<ServerInfo, RedisFailure> {
    if let Some(known) = conn.connector().server() {
        return Ok(known.clone());
    }
    let info = probe(conn).await?;
    conn.connector().set_server(info.clone());
    Ok(info)
}

/// Ask the server who it is, then COMMAND INFO for the commands that
/// confirm features. The first connection of a connector already asked
/// (INFO, or HELLO: the cluster detection's question), so that answer is
/// used; only when REDIS_CLUSTER skipped the question is it asked here.
pub async fn probe(conn: &mut Conn) -> Result<ServerInfo, RedisFailure> {
    conn.connect().await?;
    let identity = match conn.connector().identity() {
        Some(known) => known.clone(),
        None => ask_identity(conn).await?,
    };
    let commands = confirmed_commands(conn).await?;
    Ok(ServerInfo::derive(identity, commands.as_ref()))
}

/// INFO, or HELLO when the ACL refuses INFO.
async fn ask_identity(conn: &mut Conn) -> Result<Identity, RedisFailure> {
    match conn.run(&cmd("INFO"), "INFO", false).await {
        Ok(v) => identity_from_info(&info_fields(&text(&v).unwrap_or_default())),
        Err(RedisFailure::Auth(_)) => {
            let hello = conn.run(&cmd("HELLO"), "HELLO", false).await?;
            identity_from_hello(&hello)
        }
        Err(e) => return Err(e),
    }
    .ok_or_else(|| RedisFailure::Reply("INFO and HELLO name no server version".into()))
}

/// Which of the feature commands exist, or `None` when COMMAND INFO is
/// refused (ACL) or unknown: then the version decides alone.
async fn confirmed_commands(
    conn: &mut Conn,
) -> Result<Option<HashMap<String, bool>>, RedisFailure> {
    let names: Vec<&str> = Feature::ALL.iter().filter_map(|f| f.command()).collect();
    let mut ask = cmd("COMMAND");
    ask.arg("INFO").arg(&names);
    match conn.run(&ask, "COMMAND INFO", false).await {
        Ok(reply) => Ok(items(&reply).map(|rows| {
            names
                .iter()
                .zip(rows)
                .map(|(name, row)| ((*name).to_owned(), !is_absent(row)))
                .collect()
        })),
        Err(e) if e.is_connection() => Err(e),
        Err(_) => Ok(None),
    }
}

/// COMMAND INFO answers nil (RESP2) or an empty row for an unknown command.
fn is_absent(row: &Value) -> bool {
    matches!(row, Value::Nil) || items(row).is_some_and(<[Value]>::is_empty)
}

impl Connector {
    /// Probe now unless known, and keep it (see [`server_info`]).
    pub async fn probe_server(&self) -> Result<ServerInfo, RedisFailure> {
        server_info(&mut self.conn("probe")).await
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
