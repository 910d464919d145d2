//! Which partition a produced entry goes to: round-robin by the task's
//! sequence number, or by a stable hash of one field's value, so entries
//! with the same value land in one partition and keep their order there.

/// How the producer spreads entries over partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spread {
    /// Entry `seq` goes to partition `seq % N`.
    RoundRobin,
    /// The value of this field, hashed with [`fnv1a_64`], modulo N.
    ByField(String),
}

impl Spread {
    /// The partition (of `partitions`) for an entry with sequence number
    /// `seq` whose spreading field has `value` (ignored by round-robin).
    pub fn partition_of(&self, partitions: usize, seq: u64, value: &[u8]) -> usize {
        let n = partitions.max(1) as u64;
        let pick = match self {
            Self::RoundRobin => seq % n,
            Self::ByField(_) => fnv1a_64(value) % n,
        };
        usize::try_from(pick).unwrap_or(0)
    }
}

/// 64-bit FNV-1a: tiny, stable across versions and platforms (unlike
/// std's `DefaultHasher`), and well spread on short text values.
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_its_published_test_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn round_robin_cycles_through_the_partitions() {
        let picks: Vec<usize> = (0..6)
            .map(|seq| Spread::RoundRobin.partition_of(3, seq, b""))
            .collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn one_value_always_goes_to_one_partition() {
        let by = Spread::ByField("kind".into());
        let first = by.partition_of(4, 1, b"email");
        assert!((1..100).all(|seq| by.partition_of(4, seq, b"email") == first));
        assert_eq!(by.partition_of(1, 7, b"anything"), 0);
        // Different values do spread.
        let values = ["email", "resize", "report", "sms", "a", "b", "c", "d"];
        let used: std::collections::HashSet<usize> = values
            .iter()
            .map(|v| by.partition_of(4, 0, v.as_bytes()))
            .collect();
        assert!(used.len() > 1, "{used:?}");
    }
}
