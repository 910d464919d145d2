//! Counts in messages read as English: "1 entry", "3 entries". Shared so
//! every layer words a count the same way.

/// `n` followed by the singular or the plural noun.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// [`count`] of entries, the noun most messages need.
pub fn entries(n: impl Into<u64>) -> String {
    count(n, "entry", "entries")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(entries(1u64), "1 entry");
        assert_eq!(entries(0u64), "0 entries");
        assert_eq!(entries(2u64), "2 entries");
        assert_eq!(count(1u64, "delivery", "deliveries"), "1 delivery");
        assert_eq!(count(5u64, "consumer", "consumers"), "5 consumers");
    }
}
