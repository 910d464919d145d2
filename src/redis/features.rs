//! Stream features by server version: what each one is called, the first
//! Redis that has it, and how its absence reads on screen.
//!
//! Valkey forked Redis 7.2.4 (and still reports `redis_version:7.2.4`), so
//! every Valkey has what Redis 7.2 had. Later Redis features are only
//! credited to Valkey when COMMAND INFO shows the command (Valkey 9.1 has
//! neither XACKDEL nor XDELEX); options of existing commands (XREADGROUP
//! CLAIM, XADD IDMP, the trim modes KEEPREF / DELREF / ACKED) cannot be
//! seen that way and are never assumed there.

use std::fmt;
use std::str::FromStr;

/// A `major.minor.patch` server version, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// `7.0`: how release lines are named ("Redis < 7.0").
    pub fn line(self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

impl FromStr for Version {
    type Err = String;

    /// `7.0.15`, `8.2`, `255.255.255` (unstable builds); a suffix such as
    /// `-rc1` is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let core = s.trim().split(['-', ' ']).next().unwrap_or_default();
        let mut parts = core.split('.').map(str::parse::<u32>);
        let mut next = || parts.next().transpose().map_err(|e| format!("{s:?}: {e}"));
        let major = next()?.ok_or_else(|| format!("{s:?} is not a version"))?;
        Ok(Self::new(major, next()?.unwrap_or(0), next()?.unwrap_or(0)))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The Redis that Valkey forked.
const VALKEY_BASE: Version = Version::new(7, 2, 4);

/// A stream feature that differs between servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    XAutoClaim,
    XPendingIdle,
    Lag,
    EntriesRead,
    XAutoClaimDeleted,
    XSetIdEntriesAdded,
    ConsumerInactive,
    XAckDel,
    XDelEx,
    /// XADD / XTRIM KEEPREF | DELREF | ACKED (8.2).
    TrimModes,
    XReadGroupClaim,
    XAddIdmp,
}

impl Feature {
    pub const ALL: [Self; 12] = [
        Self::XAutoClaim,
        Self::XPendingIdle,
        Self::Lag,
        Self::EntriesRead,
        Self::XAutoClaimDeleted,
        Self::XSetIdEntriesAdded,
        Self::ConsumerInactive,
        Self::XAckDel,
        Self::XDelEx,
        Self::TrimModes,
        Self::XReadGroupClaim,
        Self::XAddIdmp,
    ];

    /// The name in JSON (`"features": [...]`) and in the README's table.
    pub fn name(self) -> &'static str {
        match self {
            Self::XAutoClaim => "xautoclaim",
            Self::XPendingIdle => "xpending_idle",
            Self::Lag => "lag",
            Self::EntriesRead => "entries_read",
            Self::XAutoClaimDeleted => "xautoclaim_deleted",
            Self::XSetIdEntriesAdded => "xsetid_entries_added",
            Self::ConsumerInactive => "consumer_inactive",
            Self::XAckDel => "xackdel",
            Self::XDelEx => "xdelex",
            Self::TrimModes => "trim_modes",
            Self::XReadGroupClaim => "xreadgroup_claim",
            Self::XAddIdmp => "xadd_idmp",
        }
    }

    /// The first Redis version that has it.
    pub fn since(self) -> Version {
        match self {
            Self::XAutoClaim | Self::XPendingIdle => Version::new(6, 2, 0),
            Self::Lag | Self::EntriesRead | Self::XAutoClaimDeleted | Self::XSetIdEntriesAdded => {
                Version::new(7, 0, 0)
            }
            Self::ConsumerInactive => Version::new(7, 2, 0),
            Self::XAckDel | Self::XDelEx | Self::TrimModes => Version::new(8, 2, 0),
            Self::XReadGroupClaim => Version::new(8, 4, 0),
            Self::XAddIdmp => Version::new(8, 6, 0),
        }
    }

    /// The command whose presence COMMAND INFO can confirm, if any.
    pub fn command(self) -> Option<&'static str> {
        match self {
            Self::XAutoClaim => Some("xautoclaim"),
            Self::XAckDel => Some("xackdel"),
            Self::XDelEx => Some("xdelex"),
            _ => None,
        }
    }

    /// The command or option, as a user would type it.
    pub fn command_words(self) -> &'static str {
        match self {
            Self::XAutoClaim => "XAUTOCLAIM",
            Self::XPendingIdle => "XPENDING IDLE",
            Self::Lag => "XINFO GROUPS lag",
            Self::EntriesRead => "XINFO GROUPS entries-read",
            Self::XAutoClaimDeleted => "XAUTOCLAIM's deleted ids",
            Self::XSetIdEntriesAdded => "XSETID ENTRIESADDED",
            Self::ConsumerInactive => "XINFO CONSUMERS inactive",
            Self::XAckDel => "XACKDEL",
            Self::XDelEx => "XDELEX",
            Self::TrimModes => "XADD/XTRIM KEEPREF|DELREF|ACKED",
            Self::XReadGroupClaim => "XREADGROUP CLAIM",
            Self::XAddIdmp => "XADD IDMP",
        }
    }

    /// How its absence reads after the server's name: "does not report lag".
    pub fn absence(self) -> String {
        match self {
            Self::Lag => "does not report lag".into(),
            Self::EntriesRead => "does not report entries-read".into(),
            Self::ConsumerInactive => "does not report a consumer's inactive time".into(),
            Self::XAutoClaimDeleted => {
                "does not list entries deleted while pending in XAUTOCLAIM's reply".into()
            }
            Self::TrimModes => "has no trim modes (XADD, XTRIM KEEPREF | DELREF | ACKED)".into(),
            other => format!("has no {}", other.command_words()),
        }
    }

    /// Whether a server of this version has it, from the version alone.
    pub fn expected_in(self, valkey: bool, version: Version) -> bool {
        if valkey {
            // The fork has every feature of its base; nothing later is assumed.
            self.since() <= VALKEY_BASE
        } else {
            version >= self.since()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        let v: Version = "7.0.15".parse().expect("a version");
        assert_eq!(v, Version::new(7, 0, 15));
        assert_eq!("8.2".parse(), Ok(Version::new(8, 2, 0)));
        assert_eq!("7.2.0-rc1".parse(), Ok(Version::new(7, 2, 0)));
        assert!("unknown".parse::<Version>().is_err());
        assert!("".parse::<Version>().is_err());
        assert!(Version::new(6, 2, 14) < Version::new(7, 0, 0));
        assert!(Version::new(6, 10, 0) > Version::new(6, 2, 14));
    }

    #[test]
    fn each_version_has_the_features_redis_added_by_then() {
        let has = |v: Version| -> Vec<&str> {
            Feature::ALL
                .into_iter()
                .filter(|f| f.expected_in(false, v))
                .map(Feature::name)
                .collect()
        };
        assert_eq!(has(Version::new(6, 0, 20)), Vec::<&str>::new());
        assert_eq!(has(Version::new(6, 2, 14)), ["xautoclaim", "xpending_idle"]);
        assert_eq!(has(Version::new(7, 0, 15)).len(), 6);
        assert!(has(Version::new(7, 2, 4)).contains(&"consumer_inactive"));
        assert!(has(Version::new(8, 2, 0)).contains(&"xackdel"));
        assert!(has(Version::new(8, 2, 3)).contains(&"trim_modes"));
        assert!(!has(Version::new(7, 4, 0)).contains(&"trim_modes"));
        assert!(!has(Version::new(8, 2, 0)).contains(&"xreadgroup_claim"));
        assert_eq!(has(Version::new(8, 6, 0)).len(), Feature::ALL.len());
    }

    #[test]
    fn valkey_has_its_base_but_no_later_redis_feature_by_version() {
        let v9 = Version::new(9, 1, 2);
        assert!(Feature::ConsumerInactive.expected_in(true, v9));
        assert!(Feature::Lag.expected_in(true, v9));
        assert!(!Feature::XAckDel.expected_in(true, v9));
        assert!(!Feature::XAddIdmp.expected_in(true, v9));
        assert!(!Feature::TrimModes.expected_in(true, v9));
    }
}
