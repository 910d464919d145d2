//! Opening the stream a command or the dashboard works on: its recorded
//! partition layout (or a new one, recorded), and how a producer spreads
//! entries over it.

use crate::cli::PartitionArgs;
use crate::engine::partition::Layout;
use crate::engine::partition::open::{OpenError, Opened, open};
use crate::engine::partition::spread::Spread;
use crate::engine::registry::{self, CreatedBy};
use crate::failure::Failure;
use crate::redis::{Conn, Connector, RedisFailure};

/// Open `stream` for a command that may create it: its recorded layout,
/// or a new one with `--partitions`, recorded as created by `by`. A server
/// that refuses to store the record (an ACL without hash writes) does not
/// stop a one-partition stream: stderr says so, and the stream then counts
/// as not created by streamlab (`None`).
pub async fn open_stream(
    conn: &mut Conn,
    stream: &str,
    by: CreatedBy,
    args: &PartitionArgs,
) -> Result<(Option<Opened>, Layout), Failure> {
    let wanted = args
        .partitions
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    // The slot map matters only to place new partitions.
    let masters = match wanted {
        Some(n) if n > 1 => conn.connector().masters().await?,
        _ => Vec::new(),
    };
    match open(conn, stream, by, wanted, &masters).await {
        Ok(opened) => {
            let layout = opened.layout.clone();
            Ok((Some(opened), layout))
        }
        Err(OpenError::Layout(m)) => Err(Failure::usage(m)),
        Err(OpenError::Redis(RedisFailure::Auth(m))) if wanted.is_none_or(|n| n <= 1) => {
            crate::stderr_line!(
                "note: cannot record '{stream}' in {} ({m}); streamlab will not know it created this stream",
                registry::record_key(stream)
            );
            Ok((None, Layout::single(stream)))
        }
        Err(OpenError::Redis(e)) => Err(e.into()),
    }
}

/// The partitions of `stream` for a command that only uses it. A server
/// that refuses to show the record (an ACL without hash reads) leaves the
/// stream as one partition, itself, and stderr says so.
pub async fn resolve_stream(connector: &Connector, stream: &str) -> Result<Layout, Failure> {
    let mut conn = connector.conn("registry");
    match registry::resolve(&mut conn, stream).await {
        Ok(layout) => Ok(layout),
        Err(RedisFailure::Auth(m)) => {
            crate::stderr_line!(
                "note: cannot read {} ({m}); treating '{stream}' as one stream",
                registry::record_key(stream)
            );
            Ok(Layout::single(stream))
        }
        Err(e) => Err(e.into()),
    }
}

/// How `args` asks the producer to spread entries over partitions.
pub fn spread_of(args: &PartitionArgs) -> Spread {
    args.partition_by
        .clone()
        .map_or(Spread::RoundRobin, Spread::ByField)
}
