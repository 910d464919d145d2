//! A plan in words, the same on the command line and on the dashboard:
//! the command it sends, what it removes, and which group holds what back.

use super::{GroupLimit, Hold, Plan};
use crate::redis::{TrimMode, command_line, xtrim_cmd};

impl Plan {
    /// The exact command a trim to this plan sends.
    pub fn command(&self) -> String {
        command_line(&xtrim_cmd(&self.key, &self.retention()))
    }

    /// One line: the command, how many entries it removes, first and last.
    /// With ACKED the count is a ceiling: entries a group has not acked
    /// stay.
    pub fn summary(&self) -> String {
        let up_to = if self.mode == Some(TrimMode::Acked) {
            "at most "
        } else {
            ""
        };
        let what = match (self.removal.first, self.removal.last) {
            _ if self.removal.count.is_zero() => "removes nothing".to_owned(),
            (Some(first), Some(last)) => format!(
                "removes {up_to}{} of {} entries, {first} ... {last}",
                self.removal.count, self.length
            ),
            _ => format!(
                "removes {up_to}{} of {} entries",
                self.removal.count, self.length
            ),
        };
        let how = match self.mode {
            Some(TrimMode::Acked) => " (ACKED keeps those a group has not read and acked)",
            Some(TrimMode::DelRef) => " (DELREF also removes their ids from every PEL)",
            Some(TrimMode::KeepRef) | None => "",
        };
        format!("{} {what}{how}", self.command())
    }

    /// One line per group: what it still needs and why; unknown ones too.
    pub fn group_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.limits.iter().map(|l| self.group_line(l)).collect();
        lines.extend(
            self.unknown
                .iter()
                .map(|(group, why)| format!("group {group}: position unknown ({why})")),
        );
        lines
    }

    fn group_line(&self, l: &GroupLimit) -> String {
        let why = match l.hold {
            Hold::Pending(id) => format!("oldest pending entry {id}"),
            Hold::DeliveredUpTo(id) => format!("delivered and acked up to {id}"),
        };
        let verdict = if l.keep_from < self.minid && self.mode == Some(TrimMode::Acked) {
            ": keeps what it has not acked or read (ACKED)"
        } else if l.keep_from < self.minid {
            ": LOSES entries it has not acked or read"
        } else if l.keep_from == self.minid {
            ": holds the trim here"
        } else {
            ""
        };
        format!(
            "group {}: needs {} on ({why}){verdict}",
            l.group, l.keep_from
        )
    }

    /// How much planning cost Redis.
    pub fn cost_line(&self) -> String {
        format!(
            "planned with {} commands, {} entries read to count",
            self.cost.commands, self.cost.entries_read
        )
    }
}
