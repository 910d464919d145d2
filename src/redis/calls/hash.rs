//! Hash and key commands behind streamlab's stream registry: HGETALL
//! (reads), HSETNX of several fields in one MULTI/EXEC (writes), EXISTS.

use ::redis::cmd;

use crate::redis::connect::Conn;
use crate::redis::errors::RedisFailure;
use crate::redis::reply::{bad, count, fields};

/// HGETALL: the hash's field/value pairs; empty when the key is absent.
pub async fn hgetall(conn: &mut Conn, key: &str) -> Result<Vec<(String, Vec<u8>)>, RedisFailure> {
    let v = conn.run(cmd("HGETALL").arg(key), "HGETALL", false).await?;
    fields(&v).ok_or_else(|| bad("HGETALL", &v))
}

/// HSETNX every field in one MULTI/EXEC: fields the hash already has keep
/// their values, so an existing record is never overwritten, and a new one
/// is written whole or not at all. Returns whether the first field was set
/// (the caller puts a field every record has first: `true` means the hash
/// did not exist before this call).
pub async fn hset_absent(
    conn: &mut Conn,
    key: &str,
    pairs: &[(String, String)],
) -> Result<bool, RedisFailure> {
    if pairs.is_empty() {
        return Ok(false);
    }
    let mut pipe = ::redis::pipe();
    pipe.atomic();
    for (field, value) in pairs {
        pipe.add_command(cmd("HSETNX").arg(key).arg(field).arg(value).clone());
    }
    let replies = conn
        .run_pipeline(&pipe, "HSETNX", true, pairs.len() + 2)
        .await?;
    let first = replies
        .first()
        .ok_or_else(|| bad("HSETNX", &::redis::Value::Nil))?;
    Ok(count(first).ok_or_else(|| bad("HSETNX", first))? == 1)
}

/// EXISTS key: whether the key holds a value of any type.
pub async fn exists(conn: &mut Conn, key: &str) -> Result<bool, RedisFailure> {
    let v = conn.run(cmd("EXISTS").arg(key), "EXISTS", false).await?;
    Ok(count(&v).ok_or_else(|| bad("EXISTS", &v))? > 0)
}
