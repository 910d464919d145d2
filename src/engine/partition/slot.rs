//! The Redis Cluster hash slot of a key: CRC16 (XMODEM) of its hash tag,
//! or of the whole key when it has none, modulo 16384. Placement needs it
//! before any key exists, so it is computed here rather than asked of a
//! server (CLUSTER KEYSLOT); tests compare it with a real cluster.

/// Number of hash slots in a Redis Cluster.
pub const SLOTS: u16 = 16384;

/// The part of `key` that is hashed: the bytes between the first `{` and
/// the first `}` after it, when that is not empty; else the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    let rest = &key[open + 1..];
    match rest.iter().position(|&b| b == b'}') {
        Some(close) if close > 0 => &rest[..close],
        _ => key,
    }
}

/// The slot `key` lives in.
pub fn key_slot(key: &[u8]) -> u16 {
    crc16_xmodem(hash_tag(key)) % SLOTS
}

/// CRC16/XMODEM (polynomial 0x1021, initial value 0), bit by bit: keys
/// are short and placement hashes a few thousand at most.
fn crc16_xmodem(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 == 0 {
                crc << 1
            } else {
                (crc << 1) ^ 0x1021
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_matches_the_xmodem_check_value() {
        // The standard check value of CRC-16/XMODEM.
        assert_eq!(crc16_xmodem(b"123456789"), 0x31C3);
    }

    #[test]
    fn slots_match_what_redis_reports() {
        // CLUSTER KEYSLOT on Redis 7.0: foo 12182, {jobs} and {jobs}:dead 9631.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"{jobs}"), 9631);
        assert_eq!(key_slot(b"{jobs}:dead"), 9631);
        assert_eq!(key_slot(b"jobs"), key_slot(b"{jobs}"));
    }

    #[test]
    fn only_the_first_non_empty_tag_counts() {
        assert_eq!(hash_tag(b"{a}{b}"), b"a");
        assert_eq!(hash_tag(b"x{a}:dead"), b"a");
        assert_eq!(hash_tag(b"{}{b}"), b"{}{b}");
        assert_eq!(hash_tag(b"{open"), b"{open");
        assert_eq!(hash_tag(b"{{a}}"), b"{a");
        assert_eq!(hash_tag(b"plain"), b"plain");
    }
}
