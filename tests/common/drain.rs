//! What the fault tests compare their ledgers with: every entry of a
//! stream, read to the end in pages, and whether a group has drained it
//! (nothing pending, the last entry delivered).

#![allow(dead_code, reason = "each test binary uses a different subset")]

use streamlab::redis::reply::Entry;
use streamlab::redis::{
    Conn, parse_groups, xinfo_groups_cmd, xinfo_stream, xpending_summary, xrange,
};

/// Every entry of `key`, oldest first.
pub async fn all_entries(conn: &mut Conn, key: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut start = "-".to_owned();
    loop {
        let page = xrange(conn, key, &start, "+", 5000).await.expect("XRANGE");
        let Some(last) = page.last() else { break };
        start = format!("({}", last.id);
        out.extend(page);
    }
    out
}

/// `group`'s PEL is empty and it has been given the stream's last entry
/// (false while any of it cannot be read, e.g. mid-failover).
pub async fn settled(conn: &mut Conn, stream: &str, group: &str) -> bool {
    let Ok(Some(info)) = xinfo_stream(conn, stream).await else {
        return false;
    };
    let Ok(pending) = xpending_summary(conn, stream, group).await else {
        return false;
    };
    let Ok(groups) = conn
        .run(&xinfo_groups_cmd(stream), "XINFO", false)
        .await
        .and_then(|v| parse_groups(&v))
    else {
        return false;
    };
    let delivered = groups
        .iter()
        .find(|g| g.name == group)
        .and_then(|g| g.last_delivered_id);
    pending.count == 0 && delivered >= info.last_generated_id
}
