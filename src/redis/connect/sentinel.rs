//! Finding the master through Redis Sentinel, as Redis's "Sentinel
//! clients" guide says: ask each sentinel in turn, with a short timeout,
//! `SENTINEL get-master-addr-by-name` (the one that answered is asked
//! first next time); confirm with `ROLE` that the instance named is a
//! master; ask again on every reconnect, since sentinels `CLIENT KILL`
//! the clients of an instance they reconfigure and a demoted master
//! answers READONLY. "No sentinel answers" (exit 3) is told apart from
//! "the sentinels do not know this master" (exit 2).
//!
//! One [`Sentinels`] per [`Connector`] (shared with its read-only twin):
//! connections reconnecting at once share one round of questions
//! ([`SHARED_FOR`]), and a change of master is published as a
//! [`Failover`] for whoever reports it (the dashboard's log, a worker's
//! events), and counted in a generation each [`Conn`] compares with the
//! one it dialled at, so a socket to the old master is dropped on its next
//! request even if the sentinels never killed it.
//!
//! [`Connector`]: super::Connector
//! [`Conn`]: super::Conn

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, Value, cmd};
use tokio::sync::watch;

use super::dial::build_client;
use super::link::Link;
use crate::redis::config::{RedisSettings, SentinelSettings};
use crate::redis::errors::{RedisFailure, classify};
use crate::redis::reply::{items, text};
use crate::redis::server::info_fields;
use crate::redis::topology::NodeAddr;

/// How long one sentinel may take to connect, and then to answer.
pub const SENTINEL_TIMEOUT: Duration = Duration::from_millis(1000);
/// Connections that reconnect within this of a resolution use its answer.
pub const SHARED_FOR: Duration = Duration::from_millis(100);

/// The sentinels named another master than before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failover {
    /// The master's name as the sentinels know it.
    pub master: String,
    pub old: NodeAddr,
    pub new: NodeAddr,
}

/// What `info` and the header show of a Sentinel set-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelStatus {
    pub master: String,
    /// The master's address as last resolved (`None` before the first).
    pub address: Option<NodeAddr>,
    pub sentinels: Vec<NodeAddr>,
}

/// One sentinel's answer.
enum Answer {
    Master(NodeAddr),
    /// It knows no master of that name; the names it does know.
    Unknown(Vec<String>),
    /// It refused the credentials (or wants some).
    Refused(String),
    Silent(String),
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Master(m) => write!(f, "master at {m}"),
            Self::Unknown(names) => write!(f, "unknown master (it monitors {names:?})"),
            Self::Refused(why) => write!(f, "refused: {why}"),
            Self::Silent(why) => write!(f, "no answer: {why}"),
        }
    }
}

pub(crate) struct Sentinels {
    settings: SentinelSettings,
    /// A client per sentinel, in the order given.
    clients: Vec<(NodeAddr, Client)>,
    /// The order to ask them in: the last one that answered first.
    order: Mutex<Vec<usize>>,
    current: RwLock<Option<NodeAddr>>,
    generation: AtomicU64,
    resolved_at: Mutex<Option<Instant>>,
    /// One round of questions at a time.
    resolving: tokio::sync::Mutex<()>,
    /// Whether the master was ever found (afterwards "unknown" is taken
    /// for a passing state of the sentinels, not a setting to fix).
    ever: AtomicBool,
    /// Whether the `+switch-master` subscription runs (`sentinel_watch`).
    watching: AtomicBool,
    failovers: watch::Sender<Option<Failover>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Sentinels {
    /// A client per sentinel (no network traffic yet).
    pub(super) fn new(settings: &RedisSettings) -> Result<Option<Self>, RedisFailure> {
        let Some(sentinel) = &settings.sentinel else {
            return Ok(None);
        };
        let mut clients = Vec::new();
        for addr in &sentinel.sentinels {
            let own = settings
                .for_sentinel(addr)
                .map_err(|e| RedisFailure::Server(e.to_string()))?;
            clients.push((addr.clone(), build_client(&own)?));
        }
        Ok(Some(Self {
            settings: sentinel.clone(),
            order: Mutex::new((0..clients.len()).collect()),
            clients,
            current: RwLock::new(None),
            generation: AtomicU64::new(0),
            resolved_at: Mutex::new(None),
            resolving: tokio::sync::Mutex::new(()),
            ever: AtomicBool::new(false),
            watching: AtomicBool::new(false),
            failovers: watch::Sender::new(None),
        }))
    }

    pub(super) fn status(&self) -> SentinelStatus {
        SentinelStatus {
            master: self.settings.master.clone(),
            address: self.current(),
            sentinels: self.settings.sentinels.clone(),
        }
    }

    pub(super) fn master_name(&self) -> &str {
        &self.settings.master
    }

    fn current(&self) -> Option<NodeAddr> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Bumped each time the sentinels name another master.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<Option<Failover>> {
        self.failovers.subscribe()
    }

    /// The master's address, asked of the sentinels now (or shared from a
    /// round that ended within [`SHARED_FOR`]).
    pub(super) async fn resolve(&self) -> Result<NodeAddr, RedisFailure> {
        let _one_round = self.resolving.lock().await;
        let recent = lock(&self.resolved_at).is_some_and(|t| t.elapsed() < SHARED_FOR);
        if let Some(addr) = self.current().filter(|_| recent) {
            return Ok(addr);
        }
        let (mut unknown, mut refused, mut silent) = (Vec::new(), Vec::new(), Vec::new());
        let order = lock(&self.order).clone();
        for i in order {
            let (addr, client) = &self.clients[i];
            let answer = self.ask(client).await;
            tracing::debug!(sentinel = %addr, answer = %answer, "asked for the master");
            match answer {
                Answer::Master(master) => {
                    self.answered_first(i);
                    self.install(master.clone());
                    return Ok(master);
                }
                Answer::Unknown(names) => unknown.push((addr.clone(), names)),
                Answer::Refused(why) => refused.push(format!("{addr} ({why})")),
                Answer::Silent(why) => silent.push(format!("{addr} ({why})")),
            }
        }
        Err(self.failure(&unknown, &refused, &silent))
    }

    /// True the first time: the caller starts the subscription.
    pub(super) fn start_watching(&self) -> bool {
        !self.watching.swap(true, Ordering::AcqRel)
    }

    /// The next [`Self::resolve`] asks the sentinels, whatever the time.
    pub(super) fn forget_answer(&self) {
        *lock(&self.resolved_at) = None;
    }

    /// The sentinels' clients, the one asked first first.
    pub(super) fn clients_in_order(&self) -> Vec<Client> {
        lock(&self.order)
            .iter()
            .map(|i| self.clients[*i].1.clone())
            .collect()
    }

    /// A sentinel announced `+switch-master` to `new`.
    pub(super) fn switched(&self, new: NodeAddr) {
        self.install(new);
    }

    fn answered_first(&self, i: usize) {
        let mut order = lock(&self.order);
        order.retain(|j| *j != i);
        order.insert(0, i);
    }

    /// Keep `master`; a change from a known one is a failover.
    fn install(&self, master: NodeAddr) {
        let old = self
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(master.clone());
        *lock(&self.resolved_at) = Some(Instant::now());
        self.ever.store(true, Ordering::Release);
        if old.as_ref() == Some(&master) {
            return;
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(old) = old {
            tracing::warn!(master = %self.settings.master, %old, new = %master, "failover");
            self.failovers.send_replace(Some(Failover {
                master: self.settings.master.clone(),
                old,
                new: master,
            }));
        }
    }

    /// Why no sentinel named a master, as the failure to report: the
    /// sentinels do not know it (a setting, exit 2, the first time), they
    /// refused the credentials, or none answered (exit 3).
    fn failure(
        &self,
        unknown: &[(NodeAddr, Vec<String>)],
        refused: &[String],
        silent: &[String],
    ) -> RedisFailure {
        let master = &self.settings.master;
        if let Some((_, names)) = unknown.first() {
            let at: Vec<String> = unknown.iter().map(|(a, _)| a.to_string()).collect();
            let known = match names.as_slice() {
                [] => " (they monitor no master)".to_owned(),
                names => format!(" (they monitor: {})", names.join(", ")),
            };
            let message = format!(
                "the sentinels at {} do not know a master named '{master}'{known}: check REDIS_SENTINEL_MASTER (--sentinel-master)",
                at.join(", ")
            );
            return if self.ever.load(Ordering::Acquire) {
                RedisFailure::Connection(message)
            } else {
                RedisFailure::UnknownMaster(message)
            };
        }
        if !refused.is_empty() {
            return RedisFailure::Connection(format!(
                "the sentinels refused streamlab: {}: check REDIS_SENTINEL_USERNAME and REDIS_SENTINEL_PASSWORD (the sentinels' own credentials, apart from the data nodes')",
                refused.join(", ")
            ));
        }
        RedisFailure::Connection(format!(
            "no sentinel answers: {}: check REDIS_SENTINEL (--sentinel) and that the sentinels run",
            silent.join(", ")
        ))
    }

    /// One sentinel, within [`SENTINEL_TIMEOUT`] to connect and again to
    /// answer.
    async fn ask(&self, client: &Client) -> Answer {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(SENTINEL_TIMEOUT))
            .set_response_timeout(Some(SENTINEL_TIMEOUT));
        let connecting = client.get_multiplexed_async_connection_with_config(&config);
        let mut con = match tokio::time::timeout(SENTINEL_TIMEOUT * 2, connecting).await {
            Err(_) => return Answer::Silent("no answer within 1s".into()),
            Ok(Err(e)) => return refusal_or_silence(&e),
            Ok(Ok(con)) => con,
        };
        let mut ask = cmd("SENTINEL");
        ask.arg("get-master-addr-by-name")
            .arg(&self.settings.master);
        match ask.query_async::<Value>(&mut con).await {
            Ok(Value::Nil) => Answer::Unknown(masters_known(&mut con).await),
            Ok(v) => master_of(&v).map_or_else(
                || Answer::Silent(format!("an answer that is no address: {v:?}")),
                Answer::Master,
            ),
            Err(e) => refusal_or_silence(&e),
        }
    }

    /// Whether the instance the sentinels named is a master now (ROLE; a
    /// user not allowed ROLE is asked INFO replication; one allowed
    /// neither takes the sentinels' word). A replica is a failover under
    /// way: a connection error, so the caller backs off and asks again.
    pub(super) async fn confirm_master(
        &self,
        link: &mut Link,
        timeout: Duration,
        addr: &NodeAddr,
    ) -> Result<(), RedisFailure> {
        let role = match role_of(link, timeout).await? {
            Some(role) => role,
            None => return Ok(()),
        };
        if role == "master" {
            return Ok(());
        }
        Err(RedisFailure::Connection(format!(
            "the sentinels name {addr} the master of '{}', but it is a {role} now: a failover is under way",
            self.settings.master
        )))
    }
}

/// `master`, `slave` (`replica`), `sentinel`; `None` when the ACL refuses
/// both ROLE and INFO.
async fn role_of(link: &mut Link, timeout: Duration) -> Result<Option<String>, RedisFailure> {
    match link.command(&cmd("ROLE"), timeout).await {
        Ok(Value::ServerError(_)) => {}
        Ok(v) => return Ok(items(&v).and_then(|i| i.first()).and_then(text)),
        Err(e) if e.code().is_some() => {}
        Err(e) => return Err(classify(&e)),
    }
    let mut info = cmd("INFO");
    info.arg("replication");
    match link.command(&info, timeout).await {
        Ok(v @ (Value::BulkString(_) | Value::VerbatimString { .. } | Value::SimpleString(_))) => {
            let fields = info_fields(&text(&v).unwrap_or_default());
            Ok(fields.get("role").cloned())
        }
        Ok(_) => Ok(None),
        Err(e) if e.code().is_some() => Ok(None),
        Err(e) => Err(classify(&e)),
    }
}

/// `[host, port]` from get-master-addr-by-name.
fn master_of(v: &Value) -> Option<NodeAddr> {
    let [host, port] = items(v)? else {
        return None;
    };
    Some(NodeAddr::new(text(host)?, text(port)?.parse().ok()?))
}

/// The master names a sentinel monitors (SENTINEL MASTERS), to name them
/// when the one asked for is not among them.
async fn masters_known(con: &mut MultiplexedConnection) -> Vec<String> {
    let mut ask = cmd("SENTINEL");
    ask.arg("MASTERS");
    let Ok(v) = ask.query_async::<Value>(con).await else {
        return Vec::new();
    };
    items(&v)
        .unwrap_or_default()
        .iter()
        .filter_map(|m| {
            let fields = items(m)?;
            let at = fields
                .iter()
                .position(|f| text(f).as_deref() == Some("name"))?;
            text(fields.get(at + 1)?)
        })
        .collect()
}

fn refusal_or_silence(e: &::redis::RedisError) -> Answer {
    // A data node (or any server not in sentinel mode) given as a sentinel.
    let unknown_command = e
        .detail()
        .is_some_and(|d| d.to_ascii_lowercase().starts_with("unknown command"));
    if unknown_command {
        return Answer::Silent(
            "not a sentinel: it does not know the SENTINEL command (a data node's address?)".into(),
        );
    }
    match classify(e) {
        RedisFailure::Auth(why) => Answer::Refused(why),
        other => {
            let why = other.to_string();
            let why = why.strip_prefix("connection problem: ").unwrap_or(&why);
            Answer::Silent(why.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_reply_is_host_and_port() {
        let reply = Value::Array(vec![
            Value::BulkString(b"10.0.0.7".to_vec()),
            Value::BulkString(b"6380".to_vec()),
        ]);
        assert_eq!(master_of(&reply), Some(NodeAddr::new("10.0.0.7", 6380)));
        assert_eq!(master_of(&Value::Nil), None);
        let short = Value::Array(vec![Value::BulkString(b"h".to_vec())]);
        assert_eq!(master_of(&short), None);
    }
}
