//! What the server itself saw: INFO commandstats (calls, failures,
//! refusals per command), which of those commands write (COMMAND INFO
//! flags), and a read-only ACL user. Included with `#[path]` by the tests
//! that prove a console wrote nothing.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use streamlab::redis::Conn;
use streamlab::redis::reply::{items, text};

use crate::common::raw;

/// The ACL rules of the read-only user the issue names.
pub const READ_ONLY_RULES: &str = "+@read +@connection +info -@write";

/// Create `user` with `password`, allowed only `rules` on every key.
pub async fn acl_user(conn: &mut Conn, user: &str, password: &str, rules: &str) {
    let mut args = vec!["ACL", "SETUSER", user, "reset", "on"];
    let secret = format!(">{password}");
    args.extend([secret.as_str(), "~*", "&*"]);
    args.extend(rules.split_whitespace());
    raw(conn, &args).await;
}

/// One `cmdstat_` line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandStat {
    /// As Redis names it: `xinfo|groups`, `client|setname`, `scan`.
    pub name: String,
    pub calls: u64,
    pub usec: u64,
    /// Refused before running (ACL, wrong arity, OOM...).
    pub rejected: u64,
    /// Ran and returned an error.
    pub failed: u64,
}

/// Parse INFO commandstats.
pub fn parse_command_stats(info: &str) -> Vec<CommandStat> {
    info.lines()
        .filter_map(|line| line.trim().strip_prefix("cmdstat_"))
        .filter_map(|rest| {
            let (name, values) = rest.split_once(':')?;
            let mut stat = CommandStat {
                name: name.to_owned(),
                ..CommandStat::default()
            };
            for kv in values.split(',') {
                let (k, v) = kv.split_once('=')?;
                let n = v.parse().unwrap_or(0);
                match k {
                    "calls" => stat.calls = n,
                    "usec" => stat.usec = n,
                    "rejected_calls" => stat.rejected = n,
                    "failed_calls" => stat.failed = n,
                    _ => {}
                }
            }
            Some(stat)
        })
        .collect()
}

pub async fn command_stats(conn: &mut Conn) -> Vec<CommandStat> {
    let info = raw(conn, &["INFO", "commandstats"]).await;
    parse_command_stats(&text(&info).unwrap_or_default())
}

/// The `errorstat_` lines of INFO errorstats (`NOPERM`, `ERR`...).
pub async fn error_stats(conn: &mut Conn) -> Vec<String> {
    let info = raw(conn, &["INFO", "errorstats"]).await;
    text(&info)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("errorstat_"))
        .map(str::to_owned)
        .collect()
}

/// Whether Redis flags the command (or subcommand, `xgroup|create`) as
/// one that writes.
pub async fn is_write_command(conn: &mut Conn, name: &str) -> bool {
    let info = raw(conn, &["COMMAND", "INFO", name]).await;
    let Some([doc]) = items(&info) else {
        panic!("COMMAND INFO {name}: {info:?}");
    };
    let flags = items(doc)
        .and_then(|d| d.get(2))
        .and_then(items)
        .unwrap_or_default();
    flags.iter().filter_map(text).any(|f| f == "write")
}

/// The commands in `stats` that write, as Redis classifies them.
pub async fn write_commands(conn: &mut Conn, stats: &[CommandStat]) -> Vec<String> {
    let mut out = Vec::new();
    for s in stats {
        if is_write_command(conn, &s.name).await {
            out.push(format!("{} ({} calls)", s.name, s.calls));
        }
    }
    out
}

/// What a read-only client must leave in `stats`: no writing command,
/// none refused or failed, and no error reply counted by the server.
pub async fn assert_read_only(conn: &mut Conn, stats: &[CommandStat]) {
    let writes = write_commands(conn, stats).await;
    assert!(
        writes.is_empty(),
        "write commands reached the server: {writes:?}"
    );
    let refused: Vec<_> = stats
        .iter()
        .filter(|s| s.rejected > 0 || s.failed > 0)
        .collect();
    assert!(refused.is_empty(), "refused or failed: {refused:?}");
    assert_eq!(error_stats(conn).await, Vec::<String>::new());
}

#[test]
fn commandstats_lines_parse() {
    let info = "# Commandstats\r\ncmdstat_xinfo|groups:calls=4,usec=20,usec_per_call=5.00,rejected_calls=1,failed_calls=2\r\ncmdstat_scan:calls=7,usec=70,usec_per_call=10.00,rejected_calls=0,failed_calls=0\r\n";
    let stats = parse_command_stats(info);
    assert_eq!(stats.len(), 2);
    assert_eq!(
        stats[0],
        CommandStat {
            name: "xinfo|groups".into(),
            calls: 4,
            usec: 20,
            rejected: 1,
            failed: 2
        }
    );
    assert_eq!(stats[1].usec, 70);
}
