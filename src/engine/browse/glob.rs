//! Redis-style glob matching on bytes (`*`, `?`, `[abc]`, `[a-z]`, `[^x]`,
//! `\` escapes), as Redis's own `stringmatchlen` reads a pattern: byte by
//! byte, so it works on values that are not text.

/// Whether `text` matches `pattern`.
pub fn matches(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative with one backtrack point per `*`, so a pattern of many
    // stars cannot take exponential time.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < text.len() {
        if pattern.get(pi) == Some(&b'*') {
            star = Some((pi, ti));
            pi += 1;
            continue;
        }
        if pi < pattern.len()
            && let Some(len) = one(&pattern[pi..], text[ti])
        {
            pi += len;
            ti += 1;
            continue;
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pattern[pi.min(pattern.len())..].iter().all(|&b| b == b'*')
}

/// Whether the pattern's first element matches `b`; how many pattern
/// bytes that element took.
fn one(p: &[u8], b: u8) -> Option<usize> {
    match p.first()? {
        b'?' => Some(1),
        b'\\' if p.len() > 1 => (p[1] == b).then_some(2),
        b'[' => class(p, b),
        &c => (c == b).then_some(1),
    }
}

/// A `[...]` class; an unclosed one is taken literally, as Redis does up
/// to the pattern's end.
fn class(p: &[u8], b: u8) -> Option<usize> {
    let mut i = 1;
    let negate = p.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut hit = false;
    while i < p.len() && p[i] != b']' {
        if p[i] == b'\\' && i + 1 < p.len() {
            hit |= p[i + 1] == b;
            i += 2;
        } else if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
            let (lo, hi) = (p[i].min(p[i + 2]), p[i].max(p[i + 2]));
            hit |= (lo..=hi).contains(&b);
            i += 3;
        } else {
            hit |= p[i] == b;
            i += 1;
        }
    }
    (hit != negate).then_some((i + 1).min(p.len()))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs_as_redis_reads_them() {
        for (p, t, want) in [
            ("*", "", true),
            ("order-*", "order-21", true),
            ("order-?", "order-21", false),
            ("order-??", "order-21", true),
            ("[a-c]x", "bx", true),
            ("[^a-c]x", "bx", false),
            ("[^a-c]x", "dx", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "aXb", false),
            ("*21", "task-21", true),
            ("*2*1*", "x2y1z", true),
            ("abc", "abcd", false),
        ] {
            assert_eq!(matches(p.as_bytes(), t.as_bytes()), want, "{p} {t}");
        }
        assert!(matches(b"\\xff*", b"xff"));
        assert!(matches(b"?b", &[0xff, b'b']));
    }

    #[test]
    fn many_stars_stay_linear() {
        let pattern = "*a".repeat(40);
        let text = "a".repeat(39) + "b";
        assert!(!matches(pattern.as_bytes(), text.as_bytes()));
    }
}
