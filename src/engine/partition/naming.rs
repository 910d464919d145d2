//! Partition key names: partition `i` of stream `S` is `{S.p<i>}`, or
//! `{S.p<i>.<k>}` when placement needed variant `k` to reach a master.
//! Braces and `%` in `S` are percent-escaped, so the whole name sits in
//! one hash tag and two names never share a key. Parsing a key back gives
//! the logical stream it may belong to (the registry confirms it).

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

/// The logical stream and partition index a key would have if streamlab
/// named it, or `None` when it cannot be one of its partition keys. Only
/// the stream's registry record says whether it really is.
pub fn parse_partition_key(key: &str) -> Option<(String, usize)> {
    let tag = key.strip_prefix('{')?.strip_suffix('}')?;
    let (rest, last) = tag.rsplit_once('.')?;
    let (stream, index) = match last.strip_prefix('p') {
        Some(index) => (rest, index),
        // A variant: `<stream>.p<i>.<k>`.
        None if is_number(last) => {
            let (stream, index) = rest.rsplit_once('.')?;
            (stream, index.strip_prefix('p')?)
        }
        None => return None,
    };
    if !is_number(index) || stream.is_empty() {
        return None;
    }
    Some((unescape(stream)?, index.parse().ok()?))
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Undo the escaping; `None` for text `partition_key` never writes.
fn unescape(tag: &str) -> Option<String> {
    if tag.contains(['{', '}']) {
        return None;
    }
    let mut out = String::with_capacity(tag.len());
    let mut rest = tag;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3)?;
        out.push(match code {
            "25" => '%',
            "7B" => '{',
            "7D" => '}',
            _ => return None,
        });
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Some(out)
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

    #[test]
    fn keys_parse_back_to_their_stream_and_index() {
        for (stream, index, variant) in [
            ("jobs", 0, 0),
            ("jobs", 12, 3),
            ("{jobs}", 1, 0),
            ("a.p1", 0, 0),
            ("a.p1", 2, 9),
            ("100%", 4, 1),
            ("x.7", 3, 0),
        ] {
            let key = partition_key(stream, index, variant);
            assert_eq!(
                parse_partition_key(&key),
                Some((stream.to_owned(), index)),
                "{key}"
            );
        }
    }

    #[test]
    fn other_keys_are_not_partitions() {
        for key in [
            "jobs",
            "{jobs}",
            "{jobs.p}",
            "{jobs.px}",
            "{.p0}",
            "{jobs.p0}:dead",
            "{jobs.p0.x}",
            "{jobs.p0.}",
            "{a%7}.p0}",
            "{a%41.p0}",
            "{{a.p0}",
        ] {
            assert_eq!(parse_partition_key(key), None, "{key}");
        }
    }
}
