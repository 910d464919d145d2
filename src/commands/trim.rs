//! `streamlab trim`: XTRIM by MAXLEN (approximate unless --exact) or MINID.

use crate::cli::{GlobalArgs, TrimArgs};
use crate::failure::Failure;
use crate::redis::{EntryId, Retention, xlen, xtrim};
use crate::session::Session;

pub async fn run(global: &GlobalArgs, args: &TrimArgs) -> Result<(), Failure> {
    let retention = match (args.maxlen, &args.minid) {
        (Some(len), None) => Retention::MaxLen {
            len,
            exact: args.exact,
        },
        (None, Some(id)) => Retention::MinId(
            id.parse::<EntryId>()
                .map_err(|e| Failure::usage(format!("--minid: {e}")))?,
        ),
        _ => {
            return Err(Failure::usage(
                "give exactly one of --maxlen N or --minid ID",
            ));
        }
    };
    let session = Session::open(global).await?;
    let mut conn = session.connector.conn("trim");
    let removed = xtrim(&mut conn, &global.stream, &retention).await?;
    let len = xlen(&mut conn, &global.stream).await?;
    let note = match retention {
        Retention::MaxLen { exact: false, .. } => {
            " (approximate: Redis trims whole nodes, so a few more may remain; --exact trims precisely)"
        }
        _ => "",
    };
    println!(
        "removed {removed} entries from '{}'; length now {len}{note}",
        global.stream
    );
    println!("note: trimming deletes entries even if a group has not read or acked them yet");
    Ok(())
}
