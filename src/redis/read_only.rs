//! What a read-only connector lets through. Call sites mark each command
//! as writing or not, and a read-only connector refuses the marked ones;
//! on top of that it sends only commands on this list, so a command marked
//! wrongly (or a new one nobody marked) is refused too, before it is sent.
//! Everything here is in Redis's `@read` or `@connection` categories (or
//! is INFO), which is what a read-only ACL user
//! (`+@read +@connection +info -@write`) may run.

use ::redis::{Arg, Cmd, Pipeline};

/// Commands that never write, by name (upper case).
const READ_COMMANDS: &[&str] = &[
    "PING",
    "INFO",
    "DBSIZE",
    "SCAN",
    "TYPE",
    "EXISTS",
    "GET",
    "HGETALL",
    "XINFO",
    "XPENDING",
    "XRANGE",
    "XREVRANGE",
    "XLEN",
    "XREAD",
];

/// Commands that only read with these subcommands.
const READ_SUBCOMMANDS: &[(&str, &[&str])] = &[
    (
        "CLUSTER",
        &["INFO", "SHARDS", "SLOTS", "NODES", "KEYSLOT", "MYID"],
    ),
    ("CLIENT", &["SETNAME", "GETNAME", "ID", "INFO"]),
];

fn word(arg: Option<Arg<&[u8]>>) -> String {
    match arg {
        Some(Arg::Simple(bytes)) => String::from_utf8_lossy(bytes).to_ascii_uppercase(),
        _ => String::new(),
    }
}

/// Whether `cmd` is known to leave the data alone.
pub fn is_read(cmd: &Cmd) -> bool {
    let mut args = cmd.args_iter();
    let name = word(args.next());
    if READ_COMMANDS.contains(&name.as_str()) {
        // XREAD only reads; XREADGROUP (another name) moves entries into a PEL.
        return true;
    }
    let sub = word(args.next());
    READ_SUBCOMMANDS
        .iter()
        .any(|(n, subs)| *n == name && subs.contains(&sub.as_str()))
}

/// Whether every command of `pipe` reads. A MULTI/EXEC block is never
/// needed to read, so it is refused outright.
pub fn pipeline_is_read(pipe: &Pipeline) -> bool {
    !pipe.is_transaction() && pipe.cmd_iter().all(is_read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::redis::cmd;

    #[test]
    fn reads_pass_and_everything_else_is_refused() {
        for c in [
            cmd("XINFO").arg("GROUPS").arg("k").clone(),
            cmd("xpending").arg("k").arg("g").clone(),
            cmd("SCAN").arg("0").arg("TYPE").arg("stream").clone(),
            cmd("CLIENT")
                .arg("SETNAME")
                .arg("streamlab:monitor")
                .clone(),
            cmd("XREAD").arg("STREAMS").arg("k").arg("0").clone(),
        ] {
            assert!(is_read(&c), "{:?}", c.get_packed_command());
        }
        for c in [
            cmd("XREADGROUP").arg("GROUP").arg("g").arg("c").clone(),
            cmd("XADD").arg("k").arg("*").clone(),
            cmd("SET").arg("k").arg("v").clone(),
            cmd("XGROUP")
                .arg("CREATE")
                .arg("k")
                .arg("g")
                .arg("0")
                .clone(),
            cmd("CLIENT").arg("KILL").arg("ID").arg("3").clone(),
            cmd("CONFIG").arg("SET").clone(),
            cmd("EVAL").arg("return 1").arg(0).clone(),
        ] {
            assert!(!is_read(&c), "{:?}", c.get_packed_command());
        }
    }

    #[test]
    fn a_pipeline_reads_only_if_every_command_does() {
        let mut pipe = ::redis::pipe();
        pipe.cmd("XLEN")
            .arg("k")
            .cmd("XINFO")
            .arg("STREAM")
            .arg("k");
        assert!(pipeline_is_read(&pipe));
        pipe.cmd("XACK").arg("k").arg("g").arg("1-0");
        assert!(!pipeline_is_read(&pipe));
        let mut atomic = ::redis::pipe();
        atomic.atomic().cmd("XLEN").arg("k");
        assert!(!pipeline_is_read(&atomic));
    }
}
