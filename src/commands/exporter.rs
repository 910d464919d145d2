//! `streamlab exporter`: bind the listen address first (a port in use is
//! bad input, said before anything connects), connect read-only as
//! `watch` does, then poll and serve `/metrics` until Ctrl-C or SIGTERM.

use std::io::ErrorKind;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::cli::{ExporterArgs, GlobalArgs};
use crate::exporter::ExporterConfig;
use crate::failure::Failure;
use crate::monitor::diagnosis::Thresholds;
use crate::monitor::keyspace::KeyspaceConfig;
use crate::setup::session::Session;
use crate::setup::signals::shutdown_on_signal;

pub async fn run(global: &GlobalArgs, args: &ExporterArgs) -> Result<(), Failure> {
    let listener = bind(args.listen).await?;
    let session = Session::open(global).await?;
    let connector = session.connector.read_only();
    let config = ExporterConfig {
        keyspace: KeyspaceConfig::new(args.pattern.clone(), args.interval),
        thresholds: Thresholds::new(args.diagnosis.stuck_after, args.diagnosis.poison_after),
        consumer_metrics: !args.no_consumer_metrics,
    };
    let cancel = shutdown_on_signal();
    // The address actually bound (port 0 picks a free one): scripts read it here.
    let bound = listener.local_addr().unwrap_or(args.listen);
    crate::stderr_line!("serving metrics on http://{bound}/metrics (read-only; Ctrl-C stops)");
    crate::exporter::run(listener, &connector, config, cancel).await;
    Ok(())
}

/// Bind `addr`, or say in one line why not and what to do.
async fn bind(addr: SocketAddr) -> Result<TcpListener, Failure> {
    TcpListener::bind(addr).await.map_err(|e| {
        let why = match e.kind() {
            ErrorKind::AddrInUse => format!(
                "--listen {addr}: the port is in use (another exporter?): stop what holds it or choose another port, e.g. --listen {}:0 for any free one",
                addr.ip()
            ),
            ErrorKind::AddrNotAvailable => format!(
                "--listen {addr}: this machine has no such address: use one of its own, 127.0.0.1, or :{} for every interface",
                addr.port()
            ),
            ErrorKind::PermissionDenied => format!(
                "--listen {addr}: not allowed to listen there (ports below 1024 need privileges): choose a port above 1023, e.g. :19121"
            ),
            _ => format!("--listen {addr}: cannot listen there ({e}): choose another address"),
        };
        Failure::usage(why)
    })
}
