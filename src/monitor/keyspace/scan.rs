//! Finding streams: `SCAN cursor [MATCH pattern] COUNT n TYPE stream`, one
//! bounded step at a time, per node (on a cluster every master has its own
//! keyspace and cursor; a single server is the one-node case). Never KEYS,
//! never a whole SCAN in one go: each step visits about `COUNT` keys, a
//! COUNT each node adapts so that a step stays short.

use ::redis::{Cmd, Value, cmd};

use crate::redis::reply::{bad, items, text};
use crate::redis::topology::NodeAddr;
use crate::redis::{Conn, RedisFailure};

/// Keys the first SCAN step visits (Redis's COUNT hint); later steps
/// follow the time a step takes (see `budget::adapt_count`).
pub const SCAN_COUNT: usize = crate::monitor::keyspace::budget::COUNT_START;

/// One node's walk through its keyspace.
#[derive(Debug, Clone, Default)]
pub struct NodeScan {
    cursor: u64,
    /// Full passes over the keyspace finished so far.
    pub cycles: u64,
    /// Stream keys found in the pass under way.
    pub found_this_cycle: u64,
    /// Stream keys the last complete pass found.
    pub found_last_cycle: Option<u64>,
    /// The COUNT of this node's next step (0 until its first).
    pub count: usize,
}

pub fn scan_cmd(cursor: u64, pattern: Option<&str>, count: usize) -> Cmd {
    let mut c = cmd("SCAN");
    c.arg(cursor);
    if let Some(p) = pattern {
        c.arg("MATCH").arg(p);
    }
    c.arg("COUNT").arg(count).arg("TYPE").arg("stream");
    c
}

/// Decode SCAN's `[next cursor, [keys...]]`.
pub fn parse_scan(v: &Value) -> Result<(u64, Vec<String>), RedisFailure> {
    let [cursor, keys] = items(v).ok_or_else(|| bad("SCAN", v))? else {
        return Err(bad("SCAN", v));
    };
    let next = text(cursor)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad("SCAN cursor", cursor))?;
    let keys = items(keys)
        .ok_or_else(|| bad("SCAN keys", keys))?
        .iter()
        .filter_map(text)
        .collect();
    Ok((next, keys))
}

impl NodeScan {
    /// One step on `node`: the stream keys it found.
    pub async fn step(
        &mut self,
        conn: &mut Conn,
        node: &NodeAddr,
        pattern: Option<&str>,
        count: usize,
    ) -> Result<Vec<String>, RedisFailure> {
        let scan = scan_cmd(self.cursor, pattern, count);
        let reply = conn.run_on(node, &scan, "SCAN", false).await?;
        let (next, keys) = parse_scan(&reply)?;
        self.found_this_cycle += keys.len() as u64;
        self.cursor = next;
        if next == 0 {
            self.cycles += 1;
            self.found_last_cycle = Some(self.found_this_cycle);
            self.found_this_cycle = 0;
        }
        Ok(keys)
    }

    /// Whether a whole pass has been made at least once.
    pub fn complete(&self) -> bool {
        self.cycles > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_is_bounded_and_typed() {
        let packed =
            String::from_utf8_lossy(&scan_cmd(7, Some("orders*"), 500).get_packed_command())
                .replace("\r\n", " ");
        for part in [
            "SCAN", "7", "MATCH", "orders*", "COUNT", "500", "TYPE", "stream",
        ] {
            assert!(packed.contains(part), "{packed}");
        }
        assert!(
            !String::from_utf8_lossy(&scan_cmd(0, None, 1).get_packed_command()).contains("MATCH")
        );
    }

    #[test]
    fn scan_reply_decodes() {
        let bulk = |s: &str| Value::BulkString(s.as_bytes().to_vec());
        let v = Value::Array(vec![bulk("42"), Value::Array(vec![bulk("a"), bulk("b")])]);
        assert_eq!(parse_scan(&v).unwrap(), (42, vec!["a".into(), "b".into()]));
        assert!(parse_scan(&Value::Nil).is_err());
    }
}
