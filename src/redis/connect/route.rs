//! Where a request goes on a cluster, read from the command itself: the
//! slot of the key(s) it carries, or any node for keyless commands. Call
//! sites never name a node; a request whose keys span slots is refused here
//! (CROSSSLOT) instead of being sent.

use ::redis::{Arg, Cmd, Pipeline};

use crate::redis::errors::RedisFailure;
use crate::redis::topology::slot;

/// The node a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// No key: any node answers (PING, INFO, CLIENT ...).
    Any,
    Slot(u16),
}

/// Commands that carry no key: they go to any node.
const KEYLESS: &[&[u8]] = &[
    b"ACL",
    b"ASKING",
    b"AUTH",
    b"BGREWRITEAOF",
    b"BGSAVE",
    b"CLIENT",
    b"CLUSTER",
    b"COMMAND",
    b"CONFIG",
    b"DBSIZE",
    b"DEBUG",
    b"DISCARD",
    b"ECHO",
    b"EXEC",
    b"FLUSHALL",
    b"FLUSHDB",
    b"FUNCTION",
    b"HELLO",
    b"INFO",
    b"LASTSAVE",
    b"LATENCY",
    b"MIGRATE",
    b"MONITOR",
    b"MULTI",
    b"PING",
    b"QUIT",
    b"READONLY",
    b"READWRITE",
    b"RESET",
    b"ROLE",
    b"SAVE",
    b"SCAN",
    b"SCRIPT",
    b"SELECT",
    b"SHUTDOWN",
    b"SLOWLOG",
    b"TIME",
    b"WAIT",
];

/// Commands whose key is the second argument (after a subcommand).
const KEY_SECOND: &[&[u8]] = &[b"XINFO", b"XGROUP", b"OBJECT", b"MEMORY"];

/// Commands whose every argument is a key.
const ALL_KEYS: &[&[u8]] = &[b"DEL", b"UNLINK", b"EXISTS", b"TOUCH", b"MGET"];

fn is_one_of(name: &[u8], list: &[&[u8]]) -> bool {
    list.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The keys `cmd` carries, in order (none for a keyless command). No
/// allocation: this runs for every command of a 1,000-XADD pipeline.
pub(crate) fn keys(cmd: &Cmd) -> impl Iterator<Item = &[u8]> {
    let (start, count) = key_span(cmd);
    cmd.args_iter()
        .skip(start)
        .take(count)
        .filter_map(|a| match a {
            Arg::Simple(bytes) => Some(bytes),
            _ => None,
        })
}

/// Where the keys are among the arguments (0 is the command's name), and
/// how many there are.
fn key_span(cmd: &Cmd) -> (usize, usize) {
    let mut args = cmd.args_iter();
    let n = args.len();
    let Some(Arg::Simple(name)) = args.next() else {
        return (0, 0);
    };
    // The hot paths first: a 1,000-XADD pipeline asks this 1,000 times.
    if name.eq_ignore_ascii_case(b"XADD") || name.eq_ignore_ascii_case(b"XACK") {
        return (1, usize::from(n > 1));
    }
    if is_one_of(name, KEYLESS) {
        (0, 0)
    } else if is_one_of(name, KEY_SECOND) {
        (2, usize::from(n > 2))
    } else if is_one_of(name, ALL_KEYS) {
        (1, n - 1)
    } else if name.eq_ignore_ascii_case(b"XREAD") || name.eq_ignore_ascii_case(b"XREADGROUP") {
        // STREAMS k1 k2 ... id1 id2 ...: the first half after STREAMS.
        let streams =
            args.position(|a| matches!(a, Arg::Simple(s) if s.eq_ignore_ascii_case(b"STREAMS")));
        match streams {
            Some(at) => (at + 2, (n - at - 2) / 2),
            None => (0, 0),
        }
    } else {
        (1, usize::from(n > 1))
    }
}

/// The route of one command; CROSSSLOT if its keys span slots.
pub(crate) fn of_command(cmd: &Cmd) -> Result<Route, RedisFailure> {
    let mut route = Route::Any;
    let mut first: Option<&[u8]> = None;
    for key in keys(cmd) {
        route = join(route, key, first.unwrap_or(key))?;
        first = first.or(Some(key));
    }
    Ok(route)
}

/// The route of a pipeline or MULTI: its keyed commands must share a slot.
pub(crate) fn of_pipeline(pipe: &Pipeline) -> Result<Route, RedisFailure> {
    let mut route = Route::Any;
    // Most pipelines repeat one key (a batch of XADDs): compare bytes and
    // hash only a key that differs from the one before.
    let mut last: Option<&[u8]> = None;
    for cmd in pipe.cmd_iter() {
        for key in keys(cmd) {
            if last == Some(key) {
                continue;
            }
            route = join(route, key, last.unwrap_or(key))?;
            last = Some(key);
        }
    }
    Ok(route)
}

fn join(route: Route, key: &[u8], earlier: &[u8]) -> Result<Route, RedisFailure> {
    let s = slot(key);
    match route {
        Route::Slot(other) if other != s => Err(RedisFailure::CrossSlot(format!(
            "'{}' (slot {other}) and '{}' (slot {s}) are in different cluster slots, so one request cannot touch both; give the keys a common hash tag, e.g. {{jobs}} and {{jobs}}:dead",
            String::from_utf8_lossy(earlier),
            String::from_utf8_lossy(key),
        ))),
        _ => Ok(Route::Slot(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::topology::key_slot;

    fn cmd(line: &str) -> Cmd {
        let mut c = ::redis::Cmd::new();
        for a in line.split_whitespace() {
            c.arg(a);
        }
        c
    }

    fn route(line: &str) -> Route {
        of_command(&cmd(line)).expect("routable")
    }

    #[test]
    fn the_key_is_found_where_each_command_keeps_it() {
        let s = Route::Slot(key_slot("jobs"));
        for line in [
            "XADD jobs * f v",
            "xack jobs g 1-0",
            "XLEN jobs",
            "XRANGE jobs - + COUNT 1",
            "XPENDING jobs g - + 10",
            "XAUTOCLAIM jobs g c 10 0-0 COUNT 5",
            "XTRIM jobs MAXLEN 5",
            "GET jobs",
            "HGETALL jobs",
            "XINFO STREAM jobs",
            "XINFO CONSUMERS jobs g",
            "XGROUP CREATE jobs g 0 MKSTREAM",
            "XREADGROUP GROUP g c COUNT 10 BLOCK 100 STREAMS jobs >",
            "XREAD COUNT 1 STREAMS jobs 0-0",
            "DEL jobs",
        ] {
            assert_eq!(route(line), s, "{line}");
        }
        for line in [
            "PING",
            "INFO server",
            "CLIENT SETNAME x",
            "XINFO HELP",
            "SCAN 0",
        ] {
            assert_eq!(route(line), Route::Any, "{line}");
        }
    }

    #[test]
    fn keys_in_different_slots_are_refused_client_side() {
        let two = cmd("XREADGROUP GROUP g c STREAMS a b > >");
        assert_ne!(key_slot("a"), key_slot("b"));
        assert!(matches!(of_command(&two), Err(RedisFailure::CrossSlot(_))));
        let mut pipe = ::redis::pipe();
        pipe.atomic();
        pipe.add_command(cmd("XADD jobs:dead * f v"));
        pipe.add_command(cmd("XACK jobs g 1-0"));
        let refused = of_pipeline(&pipe).expect_err("cross-slot");
        assert!(refused.to_string().contains("jobs:dead"), "{refused}");
        let mut tagged = ::redis::pipe();
        tagged.add_command(cmd("XADD {jobs}:dead * f v"));
        tagged.add_command(cmd("XACK {jobs} g 1-0"));
        tagged.add_command(cmd("PING"));
        assert_eq!(
            of_pipeline(&tagged).expect("one slot"),
            Route::Slot(key_slot("{jobs}"))
        );
    }
}
