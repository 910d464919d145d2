//! Redis-style glob matching (`*`, `?`, `[abc]`, `[a-z]`, `[^x]`, `\`
//! escapes) for the overview's `/` filter, applied to the keys already
//! found, so filtering costs Redis nothing. `--match` sends the same
//! pattern to SCAN MATCH instead.

/// Whether `text` matches `pattern` as Redis's SCAN MATCH would.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob(&p, &t)
}

fn glob(p: &[char], t: &[char]) -> bool {
    // Iterative with one backtrack point per `*`, so a pattern of many
    // stars cannot take exponential time.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
                continue;
            }
            Some(_) => {
                if let Some(len) = one(&p[pi..], t[ti]) {
                    pi += len;
                    ti += 1;
                    continue;
                }
            }
            None => {}
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
    p[pi..].iter().all(|c| *c == '*')
}

/// If the pattern's first element matches `c`, how many pattern chars it used.
fn one(p: &[char], c: char) -> Option<usize> {
    match p.first()? {
        '?' => Some(1),
        '\\' => (p.get(1) == Some(&c)).then_some(2),
        '[' => class(p, c),
        lit => (*lit == c).then_some(1),
    }
}

/// A `[...]` class: its length if it matches `c`.
fn class(p: &[char], c: char) -> Option<usize> {
    let mut i = 1;
    let negate = p.get(i) == Some(&'^');
    if negate {
        i += 1;
    }
    let mut hit = false;
    while let Some(&ch) = p.get(i) {
        match ch {
            ']' => return (hit != negate).then_some(i + 1),
            '\\' => {
                hit |= p.get(i + 1) == Some(&c);
                i += 2;
            }
            lo if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|hi| *hi != ']') => {
                let hi = p[i + 2];
                hit |= (lo.min(hi)..=lo.max(hi)).contains(&c);
                i += 3;
            }
            lit => {
                hit |= lit == c;
                i += 1;
            }
        }
    }
    // No closing bracket: Redis then treats the rest as the class.
    (hit != negate).then_some(i)
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
