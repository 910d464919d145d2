//! Redis Cluster topology: the slot of a key, which node owns each slot,
//! and the masters with their slot ranges.
//!
//! The public part is what the rest of streamlab needs to reason about a
//! cluster: [`slot`] (CRC16 of the key's hash tag, as the server computes
//! it), [`NodeAddr`] and [`Master`] (from `Connector::masters()`). The slot
//! map itself is kept per [`Connector`], shared by its connections, and
//! updated by them on MOVED and after a failover or migration.
//!
//! [`Connector`]: crate::redis::Connector

use std::fmt;
use std::ops::RangeInclusive;

/// Slots in a Redis Cluster.
pub const SLOT_COUNT: u16 = 16384;

/// The cluster slot of `key`: CRC16 (XMODEM) of its hash tag, mod 16384.
/// The hash tag is what lies between the first `{` and the first `}` after
/// it, if that is not empty; otherwise the whole key counts. So `{jobs}`
/// and `{jobs}:dead` share a slot, while `{}jobs` hashes whole.
pub fn slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) % SLOT_COUNT
}

/// [`slot`] of a string key.
pub fn key_slot(key: &str) -> u16 {
    slot(key.as_bytes())
}

fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    let rest = &key[open + 1..];
    match rest.iter().position(|&b| b == b'}') {
        Some(len) if len > 0 => &rest[..len],
        _ => key,
    }
}

/// CRC16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster
/// hashes keys with.
fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0, |crc, &b| {
        (crc << 8) ^ CRC16_TABLE[usize::from(((crc >> 8) as u8) ^ b)]
    })
}

const CRC16_TABLE: [u16; 256] = crc16_table();

const fn crc16_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        #[expect(clippy::cast_possible_truncation, reason = "i < 256")]
        let mut crc = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 == 0 {
                crc << 1
            } else {
                (crc << 1) ^ 0x1021
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// A node's address as the cluster announces it (`host:port`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeAddr {
    pub host: String,
    pub port: u16,
}

impl NodeAddr {
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Self {
            host: host.into(),
            port,
        }
    }

    /// Parse `host:port` (the host may be an IPv6 address with colons).
    pub fn parse(text: &str) -> Option<Self> {
        let (host, port) = text.rsplit_once(':')?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        Some(Self::new(host, port.parse().ok()?))
    }
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl serde::Serialize for NodeAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A master and the slots it serves. On a single server: that server,
/// owning every slot (so code that spreads keys over masters works there
/// too, with one master).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Master {
    pub addr: NodeAddr,
    /// The cluster's node id (empty on a single server).
    pub id: String,
    /// Slot ranges, ascending, inclusive.
    pub slots: Vec<RangeInclusive<u16>>,
    pub replicas: Vec<NodeAddr>,
}

impl Master {
    pub fn owns(&self, slot: u16) -> bool {
        self.slots.iter().any(|r| r.contains(&slot))
    }

    /// How many slots it serves.
    pub fn slot_count(&self) -> usize {
        self.slots.iter().map(|r| r.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_is_xmodem() {
        // The check value of CRC-16/XMODEM.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn slots_match_the_server_s() {
        // Values from CLUSTER KEYSLOT on Redis 7.0.
        assert_eq!(key_slot("foo"), 12182);
        assert_eq!(key_slot("bar"), 5061);
        assert_eq!(key_slot("{jobs}"), 9631);
        assert_eq!(key_slot("{jobs}:dead"), 9631);
        assert_eq!(key_slot("{jobs}:offset:c1"), 9631);
        assert_eq!(key_slot("jobs"), key_slot("{jobs}"));
    }

    #[test]
    fn only_the_first_non_empty_tag_between_braces_counts() {
        assert_eq!(hash_tag(b"{user1000}.following"), b"user1000");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        // An empty first tag: the whole key is hashed, not a later tag.
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"{}jobs"), b"{}jobs");
        // The tag runs to the first `}` after the first `{`.
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar"), b"foo{bar");
        assert_eq!(hash_tag(b"}{jobs}"), b"jobs");
    }

    #[test]
    fn node_addresses_parse_and_print() {
        assert_eq!(
            NodeAddr::parse("127.0.0.1:7001"),
            Some(NodeAddr::new("127.0.0.1", 7001))
        );
        let v6 = NodeAddr::parse("::1:7001").expect("ipv6");
        assert_eq!(v6, NodeAddr::new("::1", 7001));
        assert_eq!(v6.to_string(), "[::1]:7001");
        assert_eq!(NodeAddr::parse("[::1]:7001"), Some(v6));
        assert_eq!(NodeAddr::parse("nohost"), None);
    }
}
