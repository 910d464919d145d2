//! [`Connector`]: one client's settings, shared by every role's [`Conn`].
//!
//! [`Conn`]: super::Conn

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ::redis::Client;

use super::{BLOCK_MARGIN, Conn, DEFAULT_RESPONSE_TIMEOUT, install_crypto_provider};
use crate::config::RedisSettings;
use crate::redis::errors::{RedisFailure, classify};
use crate::redis::server::ServerInfo;

/// Builds connections to one server. Cheap to clone (an `Arc` inside).
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
}

impl Connector {
    /// Prepare a client for `settings` (no network traffic yet).
    pub fn new(settings: RedisSettings) -> Result<Self, RedisFailure> {
        install_crypto_provider();
        let mut url = settings.secret_url().clone();
        if settings.tls_insecure && settings.is_tls() {
            url.set_fragment(Some("insecure"));
        }
        let client = match &settings.ca_cert {
            Some(path) if settings.is_tls() => {
                let pem = std::fs::read(path).map_err(|e| {
                    RedisFailure::Server(format!(
                        "cannot read REDIS_CA_CERT {}: {e}",
                        path.display()
                    ))
                })?;
                let certs = ::redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                };
                Client::build_with_tls(url.as_str(), certs)
            }
            _ => Client::open(url.as_str()),
        }
        .map_err(|e| RedisFailure::Server(format!("invalid Redis settings: {}", classify(&e))))?;
        Ok(Self {
            inner: Arc::new(ConnectorInner {
                client,
                settings,
                read_only: false,
                server: Arc::default(),
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
            }),
        }
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

    /// A connection for a role that never blocks (producer, monitor, admin).
    pub fn conn(&self, role: impl Into<String>) -> Conn {
        Conn::new(self.clone(), role.into(), DEFAULT_RESPONSE_TIMEOUT)
    }

    /// A connection for a blocking reader using `BLOCK block`.
    pub fn blocking_conn(&self, role: impl Into<String>, block: Duration) -> Conn {
        Conn::new(self.clone(), role.into(), block + BLOCK_MARGIN)
    }
}
