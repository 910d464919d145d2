//! Opening a session with Redis: validate settings, connect, and, for the
//! lab only, fall back to a private embedded server when nothing is
//! configured and nothing answers on 127.0.0.1:6379 (every other command
//! reports on a real server or says that none answers). The first exchange
//! probes the server (name, version, features; `redis/server.rs`) and
//! refuses one that is too old.

use crate::cli::GlobalArgs;
use crate::failure::{ExitKind, Failure};
use crate::redis::config::RedisSettings;
use crate::redis::embedded::{EmbeddedServer, redis_server_available};
use crate::redis::{Connector, RedisFailure};

/// A connected session. Keeps the embedded server (if any) alive.
pub struct Session {
    pub connector: Connector,
    pub embedded: Option<EmbeddedServer>,
}

impl Session {
    /// Connect as `args` say, never to a private server: a report, a
    /// worker or a trim on a server that was started for it and goes away
    /// with it would show nothing anyone asked about.
    pub async fn open(args: &GlobalArgs) -> Result<Self, Failure> {
        Self::connect(args, false).await
    }

    /// Connect for the lab, which runs its own producer and workers and so
    /// has a use for a private redis-server when nothing is configured and
    /// nothing answers (unless `--no-embedded`).
    pub async fn open_lab(args: &GlobalArgs) -> Result<Self, Failure> {
        Self::connect(args, !args.no_embedded).await
    }

    /// Notes for the user go to stderr.
    async fn connect(args: &GlobalArgs, may_start_private: bool) -> Result<Self, Failure> {
        let settings = RedisSettings::from_inputs(&args.redis_inputs())?;
        for what in &settings.ignored {
            crate::stderr_line!("warning: {what}, so this one is not used");
        }
        if settings.tls_insecure {
            crate::stderr_line!(
                "warning: --tls-insecure: the server's certificate host name is not verified"
            );
        }
        let connector = Connector::new(settings.clone())?;
        match probe(&connector).await {
            Ok(()) => Ok(Self {
                connector,
                embedded: None,
            }),
            Err(ProbeError::Redis(e))
                if e.is_connection() && !settings.explicit && may_start_private =>
            {
                Self::embedded(&settings).await
            }
            // Nothing configured: say who would have started a server here.
            Err(ProbeError::Redis(RedisFailure::Connection(m)))
                if !settings.explicit && !args.no_embedded =>
            {
                Err(Failure::new(
                    ExitKind::Connection,
                    format!(
                        "{m}; only the lab (streamlab with no subcommand) starts a private server of its own"
                    ),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn embedded(settings: &RedisSettings) -> Result<Self, Failure> {
        if !redis_server_available() {
            return Err(Failure::new(
                ExitKind::Connection,
                format!(
                    "nothing answers at {settings}, and the lab cannot start a private redis-server since none is installed: start Redis, install redis-server, or set REDIS_URL (e.g. REDIS_URL=rediss://default:<password>@<host>:<port>) in the environment or .env"
                ),
            ));
        }
        let server = EmbeddedServer::start().await.map_err(|e| {
            Failure::new(
                ExitKind::Connection,
                format!("could not start a private redis-server: {e}"),
            )
        })?;
        crate::stderr_line!(
            "note: nothing answers at {settings} and REDIS_URL is not set: started a private redis-server on 127.0.0.1:{} (its data goes away on exit)",
            server.port
        );
        let connector = Connector::new(settings.with_local_port(server.port)?)?;
        probe(&connector).await?;
        Ok(Self {
            connector,
            embedded: Some(server),
        })
    }
}

/// Why a session could not start on a server that answered (or not).
enum ProbeError {
    Redis(RedisFailure),
    TooOld(String),
}

impl From<ProbeError> for Failure {
    fn from(e: ProbeError) -> Self {
        match e {
            // The connect error names the address and the fix already;
            // "connection problem:" in front of it would only repeat it.
            ProbeError::Redis(RedisFailure::Connection(m)) => Failure::new(ExitKind::Connection, m),
            ProbeError::Redis(e) => e.into(),
            ProbeError::TooOld(m) => Failure::usage(m),
        }
    }
}

/// Probe the server once (kept on the connector) and refuse one that lacks
/// what streamlab relies on.
async fn probe(connector: &Connector) -> Result<(), ProbeError> {
    let info = connector.probe_server().await.map_err(ProbeError::Redis)?;
    info.check_supported().map_err(ProbeError::TooOld)
}
