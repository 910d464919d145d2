//! Redis-style glob matching (`*`, `?`, `[abc]`, `[a-z]`, `[^x]`, `\`
//! escapes) for the overview's `/` filter, applied to the keys already
//! found, so filtering costs Redis nothing. `--match` sends the same
//! pattern to SCAN MATCH instead. The matching itself is the entries
//! browser's, on bytes as Redis reads a pattern (so `?` is one byte of a
//! multi-byte key, as SCAN MATCH has it).

/// Whether `text` matches `pattern` as Redis's SCAN MATCH would.
pub fn matches(pattern: &str, text: &str) -> bool {
    crate::engine::browse::glob::matches(pattern.as_bytes(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs_match_like_scan_match() {
        for (p, t) in [
            ("*", ""),
            ("orders*", "orders:eu"),
            ("*:dead", "{jobs}:dead"),
            ("t?sks", "tasks"),
            ("[ot]*", "tasks"),
            ("[a-c]x", "bx"),
            ("[^a]x", "bx"),
            ("a\\*b", "a*b"),
            ("*a*b*c*", "xxaxxbxxcxx"),
        ] {
            assert!(matches(p, t), "{p} should match {t}");
        }
        for (p, t) in [
            ("orders", "orders:eu"),
            ("t?sks", "tsks"),
            ("[^t]*", "tasks"),
            ("a\\*b", "axb"),
            ("*:dead", "dead"),
        ] {
            assert!(!matches(p, t), "{p} should not match {t}");
        }
    }

    #[test]
    fn many_stars_stay_fast() {
        let p = "*a".repeat(30);
        assert!(!matches(&p, &"a".repeat(29)));
    }
}
