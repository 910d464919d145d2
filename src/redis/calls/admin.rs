//! The commands behind the admin actions (ack, claim, trim, XGROUP SETID /
//! DESTROY / DELCONSUMER), each as a builder and a typed call that sends
//! that same builder. A confirmation shows [`command_line`] of the builder,
//! so what the user approves is byte for byte what is sent. All write.

use ::redis::{Arg, Cmd, cmd};

use super::Retention;
use crate::redis::connect::Conn;
use crate::redis::errors::RedisFailure;
use crate::redis::id::EntryId;
use crate::redis::reply::{bad, count};

pub fn xack_cmd(key: &str, group: &str, ids: &[EntryId]) -> Cmd {
    let mut c = cmd("XACK");
    c.arg(key).arg(group).arg(ids);
    c
}

/// XCLAIM key group consumer min-idle id...
pub fn xclaim_cmd(key: &str, group: &str, to: &str, min_idle_ms: u64, ids: &[EntryId]) -> Cmd {
    let mut c = cmd("XCLAIM");
    c.arg(key).arg(group).arg(to).arg(min_idle_ms).arg(ids);
    c
}

/// XTRIM key MAXLEN|MINID =|~ limit [KEEPREF|DELREF|ACKED].
pub fn xtrim_cmd(key: &str, retention: &Retention) -> Cmd {
    let mut c = cmd("XTRIM");
    c.arg(key);
    retention.push_args(&mut c);
    c
}

/// XGROUP SETID key group id (`$` for the stream's end, `0` for its start).
pub fn xgroup_setid_cmd(key: &str, group: &str, id: &str) -> Cmd {
    cmd("XGROUP")
        .arg("SETID")
        .arg(key)
        .arg(group)
        .arg(id)
        .clone()
}

pub fn xgroup_destroy_cmd(key: &str, group: &str) -> Cmd {
    cmd("XGROUP").arg("DESTROY").arg(key).arg(group).clone()
}

pub fn xgroup_delconsumer_cmd(key: &str, group: &str, consumer: &str) -> Cmd {
    cmd("XGROUP")
        .arg("DELCONSUMER")
        .arg(key)
        .arg(group)
        .arg(consumer)
        .clone()
}

/// A command as the user reads it: arguments joined by spaces, any that is
/// empty or holds a space or a quote in double quotes, and bytes that are
/// not printable text written as `\xNN` inside quotes (as redis-cli does),
/// so the line says exactly what is sent.
pub fn command_line(c: &Cmd) -> String {
    c.args_iter()
        .map(|arg| match arg {
            Arg::Simple(bytes) => shown_arg(bytes),
            _ => "<cursor>".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn shown_arg(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.chars().any(char::is_control) => {
            if text.is_empty() || text.contains([' ', '"', '\'']) {
                format!("{text:?}")
            } else {
                text.to_owned()
            }
        }
        _ => {
            let mut out = String::from("\"");
            for &b in bytes {
                match b {
                    b'"' | b'\\' => out.extend(['\\', char::from(b)]),
                    0x20..=0x7e => out.push(char::from(b)),
                    _ => out.push_str(&format!("\\x{b:02x}")),
                }
            }
            out.push('"');
            out
        }
    }
}

/// XGROUP SETID.
pub async fn xgroup_setid(
    conn: &mut Conn,
    key: &str,
    group: &str,
    id: &str,
) -> Result<(), RedisFailure> {
    let c = xgroup_setid_cmd(key, group, id);
    conn.run(&c, "XGROUP SETID", true).await.map(|_| ())
}

/// XGROUP DESTROY; false when there was no such group.
pub async fn xgroup_destroy(conn: &mut Conn, key: &str, group: &str) -> Result<bool, RedisFailure> {
    let v = conn
        .run(&xgroup_destroy_cmd(key, group), "XGROUP DESTROY", true)
        .await?;
    Ok(count(&v).ok_or_else(|| bad("XGROUP DESTROY", &v))? == 1)
}

/// XGROUP DELCONSUMER; returns how many entries the consumer still had
/// pending (they leave the PEL with it).
pub async fn delete_consumer(
    conn: &mut Conn,
    key: &str,
    group: &str,
    consumer: &str,
) -> Result<u64, RedisFailure> {
    let c = xgroup_delconsumer_cmd(key, group, consumer);
    let v = conn.run(&c, "XGROUP DELCONSUMER", true).await?;
    Ok(count(&v).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::TrimMode;

    #[test]
    fn command_lines_read_as_typed() {
        let id = EntryId { ms: 5, seq: 1 };
        assert_eq!(
            command_line(&xack_cmd("orders", "billing", &[id])),
            "XACK orders billing 5-1"
        );
        assert_eq!(
            command_line(&xclaim_cmd("orders", "billing", "w2", 0, &[id])),
            "XCLAIM orders billing w2 0 5-1"
        );
        let maxlen = Retention::max_len(10, true);
        assert_eq!(
            command_line(&xtrim_cmd("orders", &maxlen)),
            "XTRIM orders MAXLEN = 10"
        );
        assert_eq!(
            command_line(&xtrim_cmd("o", &Retention::min_id(id))),
            "XTRIM o MINID 5-1"
        );
        let acked = Retention::max_len(0, true).with_mode(Some(TrimMode::Acked));
        assert_eq!(
            command_line(&xtrim_cmd("o", &acked)),
            "XTRIM o MAXLEN = 0 ACKED"
        );
        let delref = Retention::min_id(id)
            .exactly(false)
            .with_mode(Some(TrimMode::DelRef));
        assert_eq!(
            command_line(&xtrim_cmd("o", &delref)),
            "XTRIM o MINID ~ 5-1 DELREF"
        );
        assert_eq!(
            command_line(&xgroup_setid_cmd("o", "g", "$")),
            "XGROUP SETID o g $"
        );
        assert_eq!(
            command_line(&xgroup_delconsumer_cmd("my stream", "g", "")),
            "XGROUP DELCONSUMER \"my stream\" g \"\""
        );
        let binary = cmd("XADD")
            .arg("k")
            .arg(&[0xff_u8, b'a', b'\n', b'"'][..])
            .clone();
        assert_eq!(command_line(&binary), "XADD k \"\\xffa\\x0a\\\"\"");
    }
}
