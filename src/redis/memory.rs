//! Redis's memory as INFO memory reports it, and what to say when it is
//! full: used against maxmemory, the eviction policy, and what frees it.
//!
//! A queue on a stream grows until something trims it (XACK does not
//! delete), so with `maxmemory` and `noeviction` the day comes when Redis
//! refuses XADD, XGROUP CREATE and MULTI blocks that add entries (dead
//! letters) with `OOM`. Reading, acking and trimming still work.

use std::collections::HashMap;

use ::redis::cmd;

use crate::redis::connect::Conn;
use crate::redis::errors::RedisFailure;
use crate::redis::reply::text;
use crate::redis::server::info_fields;

/// What frees memory for a stream queue, for every OOM message.
pub const OOM_REMEDY: &str = "XACK does not delete entries: trim acknowledged ones (streamlab trim --safe) or raise maxmemory";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryState {
    pub used: u64,
    /// 0 means no limit.
    pub max: u64,
    pub policy: String,
}

impl MemoryState {
    /// From INFO's `used_memory`, `maxmemory`, `maxmemory_policy`.
    pub fn from_fields(fields: &HashMap<String, String>) -> Option<Self> {
        let num = |k: &str| fields.get(k).and_then(|v| v.parse().ok());
        Some(Self {
            used: num("used_memory")?,
            max: num("maxmemory").unwrap_or(0),
            policy: fields.get("maxmemory_policy").cloned().unwrap_or_default(),
        })
    }

    /// Used memory as a share of maxmemory (`None` without a limit).
    #[expect(clippy::cast_precision_loss, reason = "a ratio for advice")]
    pub fn fill(&self) -> Option<f64> {
        (self.max > 0).then(|| self.used as f64 / self.max as f64)
    }

    /// `used 3.1 MB of maxmemory 3.0 MB, policy noeviction`.
    pub fn describe(&self) -> String {
        let max = if self.max == 0 {
            ", no maxmemory".to_owned()
        } else {
            format!(" of maxmemory {}", megabytes(self.max))
        };
        format!("used {}{max}, policy {}", megabytes(self.used), self.policy)
    }
}

impl MemoryState {
    /// `3.1/3.0 MB, noeviction`, for a header.
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    pub fn short(&self) -> String {
        let mb = |b: u64| b as f64 / 1_048_576.0;
        format!(
            "{:.1}/{:.1} MB, {}",
            mb(self.used),
            mb(self.max),
            self.policy
        )
    }
}

#[expect(clippy::cast_precision_loss, reason = "display only")]
fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

/// INFO memory, parsed.
pub async fn memory_state(conn: &mut Conn) -> Result<MemoryState, RedisFailure> {
    let v = conn.run(cmd("INFO").arg("memory"), "INFO", false).await?;
    MemoryState::from_fields(&info_fields(&text(&v).unwrap_or_default()))
        .ok_or_else(|| RedisFailure::Reply("INFO memory has no used_memory".into()))
}

/// One line for an OOM refusal: the state of memory (when INFO is allowed)
/// and what frees it.
pub async fn out_of_memory_detail(conn: &mut Conn) -> String {
    match memory_state(conn).await {
        Ok(m) => format!("{}; {OOM_REMEDY}", m.describe()),
        Err(_) => OOM_REMEDY.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_used_against_max_and_the_policy() {
        let fields = info_fields(
            "used_memory:3250000\r\nmaxmemory:3145728\r\nmaxmemory_policy:noeviction\r\n",
        );
        let m = MemoryState::from_fields(&fields).expect("memory fields");
        assert_eq!(
            m.describe(),
            "used 3.1 MB of maxmemory 3.0 MB, policy noeviction"
        );
        assert!(m.fill().is_some_and(|f| f > 1.0));
        let unlimited = MemoryState { max: 0, ..m };
        assert_eq!(unlimited.fill(), None);
        assert!(unlimited.describe().contains("no maxmemory"));
    }
}
