//! `streamlab dlq list|replay`: the dead-letter stream `<stream>:dead`.

use serde_json::json;

use crate::cli::{DlqAction, DlqArgs, GlobalArgs};
use crate::engine::dead_key;
use crate::engine::dead_letter::replay_fields;
use crate::failure::Failure;
use crate::redis::reply::Entry;
use crate::redis::{Conn, EntryId, FieldRefs, RedisFailure, move_entries, xrange};
use crate::session::Session;

pub async fn run(global: &GlobalArgs, args: &DlqArgs) -> Result<(), Failure> {
    let session = Session::open(global).await?;
    let mut conn = session.connector.conn("dlq");
    let dead = dead_key(&global.stream);
    // The generic WRONGTYPE message blames --stream; here the dead-letter
    // key is as likely the culprit, so name both.
    let wrong_type = |e: RedisFailure| match e {
        RedisFailure::WrongType(_) => Failure::usage(format!(
            "'{dead}' (the dead letters) or '{}' holds another type of value than a stream: delete it, or pick another --stream",
            global.stream
        )),
        other => other.into(),
    };
    match &args.action {
        DlqAction::List { count, json } => {
            let entries = xrange(
                &mut conn,
                &dead,
                "-",
                "+",
                usize::try_from(*count).unwrap_or(20),
            )
            .await
            .map_err(wrong_type)?;
            if entries.is_empty() && !json {
                println!("no dead letters in '{dead}'");
            }
            for e in &entries {
                print_dead(e, *json);
            }
        }
        DlqAction::Replay { count } => {
            let n = replay(
                &mut conn,
                &global.stream,
                &dead,
                usize::try_from(*count).unwrap_or(20),
            )
            .await
            .map_err(wrong_type)?;
            println!(
                "replayed {n} dead letters from '{dead}' onto '{}' as new entries",
                global.stream
            );
        }
    }
    Ok(())
}

fn print_dead(e: &Entry, as_json: bool) {
    let get = |k: &str| e.field_str(k).unwrap_or_default();
    if as_json {
        println!(
            "{}",
            json!({
                "dead_id": e.id.to_string(), "original_id": get("original_id"), "group": get("group"),
                "consumer": get("consumer"), "deliveries": get("deliveries"), "error": get("error"),
            })
        );
    } else {
        println!(
            "{}  original {}  group {}  consumer {}  deliveries {}  error: {}",
            e.id,
            get("original_id"),
            get("group"),
            get("consumer"),
            get("deliveries"),
            get("error")
        );
    }
}

/// Dead letters moved per MULTI/EXEC: one round trip per page, not per entry.
const REPLAY_PAGE: usize = 200;

/// Re-add the oldest `count` dead letters' original fields to the stream
/// (with `replayed_from`) and remove them from the DLQ, a page at a time,
/// each page in one MULTI/EXEC.
pub async fn replay(
    conn: &mut Conn,
    stream: &str,
    dead: &str,
    count: usize,
) -> Result<u64, RedisFailure> {
    let mut replayed = 0;
    while replayed < count {
        let page = xrange(conn, dead, "-", "+", (count - replayed).min(REPLAY_PAGE)).await?;
        if page.is_empty() {
            break;
        }
        let fields: Vec<Vec<(String, Vec<u8>)>> = page.iter().map(replay_fields).collect();
        let moves: Vec<(EntryId, FieldRefs)> = page
            .iter()
            .zip(&fields)
            .map(|(e, f)| {
                (
                    e.id,
                    f.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect(),
                )
            })
            .collect();
        move_entries(conn, dead, stream, &moves).await?;
        replayed += page.len();
    }
    Ok(replayed as u64)
}
