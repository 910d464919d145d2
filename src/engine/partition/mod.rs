//! Partitioned streams: one logical stream held in N stream keys. This
//! module owns the [`Layout`] (which keys make up a logical stream); the
//! registry records it in Redis so every command finds it by name.

pub mod consumers;
pub mod naming;
pub mod open;
pub mod placement;
pub mod spread;
pub mod workers;

/// The stream keys that hold one logical stream's entries, in partition
/// order. A stream streamlab did not partition is one partition: itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The logical stream's name, as the user gives it (`--stream`).
    pub stream: String,
    /// The partition keys; never empty.
    pub partitions: Vec<String>,
}

impl Layout {
    /// A stream of one partition, the stream key itself.
    pub fn single(stream: &str) -> Self {
        Self {
            stream: stream.to_owned(),
            partitions: vec![stream.to_owned()],
        }
    }

    /// How many partitions the stream has.
    pub fn partition_count(&self) -> usize {
        self.partitions.len()
    }

    /// Whether the entries live in keys other than the stream's own name.
    pub fn is_partitioned(&self) -> bool {
        self.partitions.len() > 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_layout_is_the_stream_itself() {
        let l = Layout::single("{jobs}");
        assert_eq!(l.partitions, vec!["{jobs}".to_owned()]);
        assert_eq!(l.partition_count(), 1);
        assert!(!l.is_partitioned());
    }
}
