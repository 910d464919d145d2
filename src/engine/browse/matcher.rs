//! What a search looks for in an entry: `field=value` (a field of that
//! name holds exactly that value), `field~text` (holds a value containing
//! it), plain text (any field name or value contains it), and `read
//! --match FIELD=GLOB` (a value matching a Redis glob). Everything is
//! compared as bytes, so binary values can be found too; case matters.

use memchr::memmem;

use super::glob;

/// One condition on an entry's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// A field named `field` holds exactly `value`.
    Equals { field: Vec<u8>, value: Vec<u8> },
    /// A field named `field` holds a value containing `text`.
    Contains { field: Vec<u8>, text: Vec<u8> },
    /// A field named `field` holds a value matching the glob `pattern`.
    Glob { field: Vec<u8>, pattern: Vec<u8> },
    /// Some field name or value contains `text`.
    Text(Vec<u8>),
}

impl Matcher {
    /// Whether the entry's fields satisfy this condition (any of a
    /// duplicated field's values may).
    pub fn matches(&self, fields: &[(Vec<u8>, Vec<u8>)]) -> bool {
        let any = |name: &[u8], test: &dyn Fn(&[u8]) -> bool| {
            fields.iter().any(|(k, v)| k == name && test(v))
        };
        match self {
            Self::Equals { field, value } => any(field, &|v| v == value.as_slice()),
            Self::Contains { field, text } => any(field, &|v| contains(v, text)),
            Self::Glob { field, pattern } => any(field, &|v| glob::matches(pattern, v)),
            Self::Text(text) => fields
                .iter()
                .any(|(k, v)| contains(k, text) || contains(v, text)),
        }
    }

    /// The condition as it was typed, for status lines.
    pub fn describe(&self) -> String {
        let t = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match self {
            Self::Equals { field, value } => format!("{}={}", t(field), t(value)),
            Self::Contains { field, text } => format!("{}~{}", t(field), t(text)),
            Self::Glob { field, pattern } => format!("{}={} (glob)", t(field), t(pattern)),
            Self::Text(text) => t(text),
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memmem::find(haystack, needle).is_some()
}

/// The dashboard's `/` search: `field=value`, `field~text`, or plain text.
/// A first `=` or `~` after a field name (no spaces in it) makes a field
/// search; anything else is plain text.
pub fn parse_search(text: &str) -> Result<Matcher, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("search for what? field=value, field~text, or any text".into());
    }
    let op = t.find(['=', '~']);
    match op {
        Some(at) if at > 0 && !t[..at].contains(' ') => {
            let (field, rest) = t.split_at(at);
            let (field, value) = (field.as_bytes().to_vec(), rest.as_bytes()[1..].to_vec());
            Ok(if rest.starts_with('=') {
                Matcher::Equals { field, value }
            } else {
                Matcher::Contains { field, text: value }
            })
        }
        _ => Ok(Matcher::Text(t.as_bytes().to_vec())),
    }
}

/// `read --match FIELD=GLOB`.
pub fn parse_match(text: &str) -> Result<Matcher, String> {
    match text.split_once('=') {
        Some((field, pattern)) if !field.is_empty() => Ok(Matcher::Glob {
            field: field.as_bytes().to_vec(),
            pattern: pattern.as_bytes().to_vec(),
        }),
        _ => Err(format!(
            "--match '{text}' needs FIELD=GLOB, e.g. --match 'order_id=21' or --match 'kind=email*'"
        )),
    }
}

/// Whether every condition holds (none: every entry matches).
pub fn all_match(matchers: &[Matcher], fields: &[(Vec<u8>, Vec<u8>)]) -> bool {
    matchers.iter().all(|m| m.matches(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &[u8])]) -> Vec<(Vec<u8>, Vec<u8>)> {
        pairs
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.to_vec()))
            .collect()
    }

    #[test]
    fn searches_parse_as_the_help_says() {
        assert_eq!(
            parse_search("order_id=21"),
            Ok(Matcher::Equals {
                field: b"order_id".to_vec(),
                value: b"21".to_vec()
            })
        );
        assert_eq!(
            parse_search("payload~3bf9"),
            Ok(Matcher::Contains {
                field: b"payload".to_vec(),
                text: b"3bf9".to_vec()
            })
        );
        assert_eq!(
            parse_search("task failed"),
            Ok(Matcher::Text(b"task failed".to_vec()))
        );
        assert_eq!(parse_search("a b=c"), Ok(Matcher::Text(b"a b=c".to_vec())));
        assert_eq!(parse_search("=x"), Ok(Matcher::Text(b"=x".to_vec())));
        assert!(parse_search("  ").is_err());
        assert!(parse_match("kind").unwrap_err().contains("FIELD=GLOB"));
        assert!(parse_match("=x").is_err());
    }

    #[test]
    fn matching_is_by_bytes_over_every_duplicate() {
        let f = fields(&[("f", b"1"), ("f", b"2"), ("bin", &[0, 0xff, 7])]);
        assert!(parse_search("f=2").unwrap().matches(&f));
        assert!(!parse_search("f=3").unwrap().matches(&f));
        assert!(parse_search("f~1").unwrap().matches(&f));
        assert!(parse_search("bi").unwrap().matches(&f));
        let binary = Matcher::Contains {
            field: b"bin".to_vec(),
            text: vec![0xff],
        };
        assert!(binary.matches(&f));
        assert!(parse_match("f=[2-3]").unwrap().matches(&f));
        assert!(!parse_match("g=*").unwrap().matches(&f));
        assert!(all_match(&[], &f));
    }
}
