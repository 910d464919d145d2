//! Process-wide registry of secrets (passwords) that must never be printed.
//!
//! Every place that turns text into output (errors in `main`, the log file
//! writer, the dashboard's error lines) passes it through [`redact`], so a
//! password that slipped into a message from a library is still masked.

use std::sync::{Mutex, OnceLock};

fn registry() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remember a secret so that [`redact`] masks it from now on.
pub fn register(secret: &str) {
    // Very short secrets would mask ordinary words; they are still masked
    // wherever we format a URL ourselves, just not by text search.
    if secret.len() < 3 {
        return;
    }
    let mut list = registry()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !list.iter().any(|s| s == secret) {
        list.push(secret.to_owned());
        // Longest first, so a secret that contains another is masked whole.
        list.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
    // A URL carries the secret percent-encoded; mask those spellings too.
    let form = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>();
    for encoded in [form.replace('+', "%20"), form] {
        if encoded != secret && !list.contains(&encoded) {
            list.push(encoded);
        }
    }
    list.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Replace every registered secret in `text` with `***`.
pub fn redact(text: &str) -> String {
    let list = registry()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = text.to_owned();
    for secret in list.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secret_is_masked_everywhere_in_text() {
        register("s3cr3t-pass");
        assert_eq!(
            redact("auth s3cr3t-pass failed for s3cr3t-pass"),
            "auth *** failed for ***"
        );
    }

    #[test]
    fn url_encoded_form_of_a_secret_is_masked_too() {
        register("p@ss word");
        assert_eq!(redact("redis://u:p%40ss%20word@h"), "redis://u:***@h");
    }
}
