//! Partition key names: partition `i` of stream `S` is `{S.p<i>}`, or
//! `{S.p<i>.<k>}` when placement needed variant `k` to reach a master.
//! Braces and `%` in `S` are percent-escaped, so the whole name sits in
//! one hash tag and two names never share a key.

/// The key of partition `index` of `stream`, variant `variant`.
pub fn partition_key(stream: &str, index: usize, variant: u32) -> String {
    let mut tag = String::with_capacity(stream.len() + 8);
    for c in stream.chars() {
        match c {
            '%' => tag.push_str("%25"),
            '{' => tag.push_str("%7B"),
            '}' => tag.push_str("%7D"),
            c => tag.push(c),
        }
    }
    match variant {
        0 => format!("{{{tag}.p{index}}}"),
        k => format!("{{{tag}.p{index}.{k}}}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::topology::key_slot;

    #[test]
    fn braces_in_the_name_stay_inside_one_tag() {
        let key = partition_key("{jobs}", 1, 0);
        assert_eq!(key, "{%7Bjobs%7D.p1}");
        // Derived keys share the partition's slot.
        let slot = key_slot(&key);
        assert_eq!(key_slot(&format!("{key}:dead")), slot);
        assert_eq!(key_slot(&format!("{key}:offset:basic")), slot);
        // Different names never give the same key.
        assert_ne!(partition_key("%7Bjobs%7D", 1, 0), key);
        assert_eq!(partition_key("a", 2, 7), "{a.p2.7}");
        // As CLUSTER KEYSLOT reports it on Redis 7.0.
        assert_eq!(key_slot("{jobs.p0}"), 15732);
    }
}
