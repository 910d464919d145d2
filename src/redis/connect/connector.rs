//! [`Connector`]: one client's settings, shared by every role's [`Conn`].
//!
//! [`Conn`]: super::Conn

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ::redis::Client;

use super::cluster_map::{ClusterMap, Mode, SEED};
use super::dial::build_client;
use super::sentinel::{Failover, SentinelStatus, Sentinels};
use super::{BLOCK_MARGIN, Conn, DEFAULT_RESPONSE_TIMEOUT, install_crypto_provider};
use crate::redis::config::RedisSettings;
use crate::redis::errors::RedisFailure;
use crate::redis::server::{Identity, ServerInfo};
use crate::redis::topology::{Master, NodeAddr, key_slot};

/// Builds connections to one server, or to every node of one cluster.
/// Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Connector {
    pub(super) inner: Arc<ConnectorInner>,
}

pub(super) struct ConnectorInner {
    pub(super) client: Client,
    pub(super) settings: RedisSettings,
    pub(super) read_only: bool,
    /// What `server::probe` found, shared with the read-only twin.
    pub(super) server: Arc<OnceLock<ServerInfo>>,
    /// Who the server said it is when asked whether it is a cluster: the
    /// probe starts from it instead of asking again.
    pub(super) identity: Arc<OnceLock<Identity>>,
    /// Shared by every connection of this connector (and its read-only twin).
    pub(super) cluster: Arc<ClusterMap>,
    /// Where the master is found when it is behind Redis Sentinel.
    pub(super) sentinels: Option<Arc<Sentinels>>,
}

impl Connector {
    /// Prepare a client for `settings` (no network traffic yet).
    pub fn new(settings: RedisSettings) -> Result<Self, RedisFailure> {
        install_crypto_provider();
        let client = build_client(&settings)?;
        let sentinels = Sentinels::new(&settings)?.map(Arc::new);
        // Behind Sentinel the seed is the master they name, set when they
        // are first asked; until then the URL's (unused) address stands in.
        let seed = NodeAddr::new(settings.host().trim_matches(['[', ']']), settings.port());
        let cluster = Arc::new(ClusterMap::new(seed, settings.cluster));
        Ok(Self {
            inner: Arc::new(ConnectorInner {
                client,
                settings,
                read_only: false,
                server: Arc::default(),
                identity: Arc::default(),
                cluster,
                sentinels,
            }),
        })
    }

    /// A connector whose connections refuse every command that writes.
    pub fn read_only(&self) -> Self {
        Self {
            inner: Arc::new(ConnectorInner {
                client: self.inner.client.clone(),
                settings: self.inner.settings.clone(),
                read_only: true,
                server: self.inner.server.clone(),
                identity: self.inner.identity.clone(),
                cluster: self.inner.cluster.clone(),
                sentinels: self.inner.sentinels.clone(),
            }),
        }
    }

    pub(super) fn sentinels(&self) -> Option<&Arc<Sentinels>> {
        self.inner.sentinels.as_ref()
    }

    /// The Sentinel set-up: the master's name, its address as last
    /// resolved, the sentinels; `None` when Sentinel is not used.
    pub fn sentinel(&self) -> Option<SentinelStatus> {
        self.sentinels().map(|s| s.status())
    }

    /// Every change of master the sentinels report from now on (the
    /// latest; `None` until the first), or `None` without Sentinel.
    pub fn failovers(&self) -> Option<tokio::sync::watch::Receiver<Option<Failover>>> {
        self.sentinels().map(|s| s.subscribe())
    }

    pub fn settings(&self) -> &RedisSettings {
        &self.inner.settings
    }

    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// The server as probed (`server::server_info`), once known.
    pub fn server(&self) -> Option<&ServerInfo> {
        self.inner.server.get()
    }

    /// Keep the probe's answer; a later probe of the same target is ignored.
    pub fn set_server(&self, info: ServerInfo) {
        let _ = self.inner.server.set(info);
    }

    /// Name, version and mode as the cluster detection read them (`None`
    /// before the first connection, or when REDIS_CLUSTER skipped it).
    pub fn identity(&self) -> Option<&Identity> {
        self.inner.identity.get()
    }

    pub(super) fn learn_identity(&self, identity: Identity) {
        let _ = self.inner.identity.set(identity);
    }

    pub(super) fn cluster(&self) -> &ClusterMap {
        &self.inner.cluster
    }

    /// A connection for a role that never blocks (producer, monitor, admin).
    pub fn conn(&self, role: impl Into<String>) -> Conn {
        Conn::new(self.clone(), role.into(), DEFAULT_RESPONSE_TIMEOUT)
    }

    /// A connection for a blocking reader using `BLOCK block`. On a
    /// cluster it keeps its own socket to each node it reads from.
    pub fn blocking_conn(&self, role: impl Into<String>, block: Duration) -> Conn {
        Conn::new(self.clone(), role.into(), block + BLOCK_MARGIN)
    }

    /// Whether the server is a Redis Cluster (asks it the first time).
    pub async fn is_cluster(&self) -> Result<bool, RedisFailure> {
        if self.cluster().mode() == Mode::Unknown {
            self.conn("topology").connect().await?;
        }
        Ok(self.cluster().mode() == Mode::Cluster)
    }

    /// Every master with the slot ranges it serves, read fresh if the map
    /// is stale. A single server is one master owning every slot.
    pub async fn masters(&self) -> Result<Vec<Master>, RedisFailure> {
        self.conn("topology").masters().await
    }

    /// The node that serves `key` as far as this connector knows (no
    /// network traffic); `None` before the first connection, or for a slot
    /// no node is known to serve.
    pub fn node_of(&self, key: &str) -> Option<NodeAddr> {
        match self.cluster().mode() {
            Mode::Unknown => None,
            Mode::Standalone => Some(self.cluster().addr(SEED)),
            Mode::Cluster => self.cluster().owner_addr(key_slot(key)),
        }
    }
}
