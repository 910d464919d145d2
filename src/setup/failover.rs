//! Reporting Redis Sentinel failovers: the connection layer follows a new
//! master by itself (`redis/connect/`); this turns each change it saw into
//! a `failover` event for whoever shows events (a worker's lines, the
//! dashboard's log and header).

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::engine::event::{Event, SharedSink};
use crate::redis::Connector;

/// Emit [`Event::Failover`] into `sink` for every change of master until
/// `cancel`; `None` when the connector does not use Sentinel.
pub fn report_failovers(
    connector: &Connector,
    sink: SharedSink,
    cancel: CancellationToken,
) -> Option<JoinHandle<()>> {
    let mut changes = connector.failovers()?;
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                changed = changes.changed() => if changed.is_err() { return },
            }
            let Some(f) = changes.borrow_and_update().clone() else {
                continue;
            };
            sink.emit(Event::Failover {
                master: f.master,
                old: f.old,
                new: f.new,
            });
            sink.flush();
        }
    }))
}
