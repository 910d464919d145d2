//! Where a new partitioned stream's keys go: partition `i` of stream `S`
//! is `{S.p<i>}`, or `{S.p<i>.<k>}` with the smallest `k` whose slot is
//! owned by the master partition `i` is meant for (masters in slot order,
//! round-robin). A pure function of the slot map, so it is tested without
//! a cluster; a single node is one master owning every slot.

use super::naming::partition_key;
use super::slot::{SLOTS, key_slot};

/// Tries per partition before giving up on a master: a master owning a
/// single slot is hit once in 16384 tries on average.
const MAX_VARIANTS: u32 = 1_000_000;

/// One master and the slot ranges (inclusive) it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotOwner {
    /// How the master is named in messages (its address).
    pub name: String,
    pub ranges: Vec<(u16, u16)>,
}

impl SlotOwner {
    /// A single server: every slot is its own.
    pub fn standalone() -> Self {
        Self {
            name: "standalone".into(),
            ranges: vec![(0, SLOTS - 1)],
        }
    }

    pub fn owns(&self, slot: u16) -> bool {
        self.ranges
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&slot))
    }

    fn first_slot(&self) -> Option<u16> {
        self.ranges.iter().map(|&(lo, _)| lo).min()
    }
}

/// The keys of `n` partitions of `stream`, partition `i` on the `i % M`-th
/// of the `M` masters that own slots (in the order of their first slot).
pub fn place(stream: &str, n: usize, masters: &[SlotOwner]) -> Result<Vec<String>, String> {
    let mut owners: Vec<&SlotOwner> = masters
        .iter()
        .filter(|m| m.first_slot().is_some())
        .collect();
    owners.sort_by_key(|m| m.first_slot());
    if owners.is_empty() {
        return Err("no master serves any hash slot".into());
    }
    (0..n)
        .map(|i| key_on(stream, i, owners[i % owners.len()]))
        .collect()
}

fn key_on(stream: &str, index: usize, master: &SlotOwner) -> Result<String, String> {
    (0..MAX_VARIANTS)
        .map(|k| partition_key(stream, index, k))
        .find(|key| master.owns(key_slot(key.as_bytes())))
        .ok_or_else(|| {
            format!(
                "found no key for partition {index} of '{stream}' on {} in {MAX_VARIANTS} tries",
                master.name
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(name: &str, ranges: &[(u16, u16)]) -> SlotOwner {
        SlotOwner {
            name: name.into(),
            ranges: ranges.to_vec(),
        }
    }

    /// The slot map `redis-cli --cluster create` gives three masters.
    fn three() -> Vec<SlotOwner> {
        vec![
            owner("c", &[(10923, 16383)]),
            owner("a", &[(0, 5460)]),
            owner("b", &[(5461, 10922)]),
        ]
    }

    fn master_of<'a>(key: &str, masters: &'a [SlotOwner]) -> &'a str {
        let slot = key_slot(key.as_bytes());
        let m = masters.iter().find(|m| m.owns(slot)).expect("an owner");
        &m.name
    }

    #[test]
    fn a_single_node_gets_the_plain_names() {
        let keys = place("jobs", 3, &[SlotOwner::standalone()]).unwrap();
        assert_eq!(keys, ["{jobs.p0}", "{jobs.p1}", "{jobs.p2}"]);
    }

    #[test]
    fn n_partitions_on_n_masters_get_one_master_each() {
        let masters = three();
        let keys = place("jobs", 3, &masters).unwrap();
        let on: Vec<&str> = keys.iter().map(|k| master_of(k, &masters)).collect();
        assert_eq!(on, ["a", "b", "c"], "{keys:?}");
        assert!(keys[0].starts_with("{jobs.p0"), "{keys:?}");
    }

    #[test]
    fn more_partitions_than_masters_spread_evenly() {
        let masters = three();
        let keys = place("orders", 8, &masters).unwrap();
        let count = |name: &str| {
            keys.iter()
                .filter(|k| master_of(k, &masters) == name)
                .count()
        };
        assert_eq!((count("a"), count("b"), count("c")), (3, 3, 2), "{keys:?}");
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), 8);
    }

    #[test]
    fn a_master_with_one_slot_still_gets_its_partition() {
        let masters = vec![
            owner("big", &[(0, 16382)]),
            owner("tiny", &[(16383, 16383)]),
        ];
        let keys = place("jobs", 2, &masters).unwrap();
        assert_eq!(key_slot(keys[1].as_bytes()), 16383, "{keys:?}");
        let none = place("jobs", 1, &[owner("empty", &[])]);
        assert!(none.is_err());
    }
}
