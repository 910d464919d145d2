//! Where a new partitioned stream's keys go: partition `i` of stream `S`
//! is `{S.p<i>}`, or `{S.p<i>.<k>}` with the smallest `k` whose slot is
//! owned by the master partition `i` is meant for (masters in slot order,
//! round-robin). A pure function of the slot map, so it is tested without
//! a cluster; a single node is one master owning every slot.

use super::naming::partition_key;
use crate::redis::topology::{Master, key_slot};

/// Tries per partition before giving up on a master: a master owning a
/// single slot is hit once in 16384 tries on average.
const MAX_VARIANTS: u32 = 1_000_000;

/// The keys of `n` partitions of `stream`, partition `i` on the `i % M`-th
/// of the `M` masters that own slots (in the order of their first slot).
pub fn place(stream: &str, n: usize, masters: &[Master]) -> Result<Vec<String>, String> {
    let first_slot = |m: &Master| m.slots.iter().map(|r| *r.start()).min();
    let mut owners: Vec<&Master> = masters.iter().filter(|m| m.slot_count() > 0).collect();
    owners.sort_by_key(|m| first_slot(m));
    if owners.is_empty() {
        return Err("no master serves any hash slot".into());
    }
    (0..n)
        .map(|i| key_on(stream, i, owners[i % owners.len()]))
        .collect()
}

fn key_on(stream: &str, index: usize, master: &Master) -> Result<String, String> {
    (0..MAX_VARIANTS)
        .map(|k| partition_key(stream, index, k))
        .find(|key| master.owns(key_slot(key)))
        .ok_or_else(|| {
            format!(
                "found no key for partition {index} of '{stream}' on {} in {MAX_VARIANTS} tries",
                master.addr
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::topology::{NodeAddr, SLOT_COUNT};

    fn master(port: u16, ranges: &[(u16, u16)]) -> Master {
        Master {
            addr: NodeAddr::new("127.0.0.1", port),
            id: String::new(),
            slots: ranges.iter().map(|&(lo, hi)| lo..=hi).collect(),
            replicas: Vec::new(),
        }
    }

    /// The slot map `redis-cli --cluster create` gives three masters,
    /// listed out of slot order.
    fn three() -> Vec<Master> {
        vec![
            master(7003, &[(10923, 16383)]),
            master(7001, &[(0, 5460)]),
            master(7002, &[(5461, 10922)]),
        ]
    }

    fn port_of(key: &str, masters: &[Master]) -> u16 {
        let slot = key_slot(key);
        masters
            .iter()
            .find(|m| m.owns(slot))
            .expect("an owner")
            .addr
            .port
    }

    #[test]
    fn a_single_node_gets_the_plain_names() {
        let one = master(6379, &[(0, SLOT_COUNT - 1)]);
        let keys = place("jobs", 3, &[one]).unwrap();
        assert_eq!(keys, ["{jobs.p0}", "{jobs.p1}", "{jobs.p2}"]);
    }

    #[test]
    fn n_partitions_on_n_masters_get_one_master_each() {
        let masters = three();
        let keys = place("jobs", 3, &masters).unwrap();
        let on: Vec<u16> = keys.iter().map(|k| port_of(k, &masters)).collect();
        assert_eq!(on, [7001, 7002, 7003], "{keys:?}");
        assert!(keys[0].starts_with("{jobs.p0"), "{keys:?}");
    }

    #[test]
    fn more_partitions_than_masters_spread_evenly() {
        let masters = three();
        let keys = place("orders", 8, &masters).unwrap();
        let count = |port| keys.iter().filter(|k| port_of(k, &masters) == port).count();
        assert_eq!(
            (count(7001), count(7002), count(7003)),
            (3, 3, 2),
            "{keys:?}"
        );
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), 8);
    }

    #[test]
    fn a_master_with_one_slot_still_gets_its_partition() {
        let masters = vec![master(1, &[(0, 16382)]), master(2, &[(16383, 16383)])];
        let keys = place("jobs", 2, &masters).unwrap();
        assert_eq!(key_slot(&keys[1]), 16383, "{keys:?}");
        assert!(place("jobs", 1, &[master(3, &[])]).is_err());
    }
}
