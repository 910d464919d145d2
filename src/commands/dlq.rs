//! `streamlab dlq list|replay`: the dead-letter stream `<stream>:dead`, or
//! on a partitioned stream each partition's `<partition>:dead`, oldest
//! first across them; a replay puts each entry back on its own partition.

use serde_json::json;

use crate::cli::{DlqAction, DlqArgs, GlobalArgs};
use crate::engine::dead_key;
use crate::engine::dead_letter::replay_fields;
use crate::engine::partition::Layout;
use crate::failure::Failure;
use crate::redis::reply::Entry;
use crate::redis::{Conn, EntryId, FieldRefs, RedisFailure, move_entries, xlen, xrange};
use crate::setup::session::Session;
use crate::setup::streams::resolve_stream;

pub async fn run(global: &GlobalArgs, args: &DlqArgs) -> Result<(), Failure> {
    let session = Session::open(global).await?;
    let layout = resolve_stream(&session.connector, &global.stream).await?;
    let mut conn = session.connector.conn("dlq");
    // The generic WRONGTYPE message blames --stream; here the dead-letter
    // key is as likely the culprit, so name both.
    let wrong_type = |e: RedisFailure| match e {
        RedisFailure::WrongType(_) => Failure::usage(format!(
            "'{}' (the dead letters) or '{}' holds another type of value than a stream: pick another --stream (streamlab never changes a key that is not its own)",
            dead_key(&global.stream),
            global.stream
        )),
        other => other.into(),
    };
    let shown = layout.is_partitioned();
    match &args.action {
        DlqAction::List { count, json } => {
            let count = usize::try_from(*count).unwrap_or(20);
            let entries = oldest(&mut conn, &layout, count)
                .await
                .map_err(wrong_type)?;
            if entries.is_empty() && !json {
                crate::stdout_line!("no dead letters in {}", dead_keys(&layout));
            }
            for (key, e) in &entries {
                print_dead(e, shown.then_some(key.as_str()), *json);
            }
        }
        DlqAction::Replay { count } => {
            let count = usize::try_from(*count).unwrap_or(20);
            let picked = oldest(&mut conn, &layout, count)
                .await
                .map_err(wrong_type)?;
            for key in &layout.partitions {
                let n = picked.iter().filter(|(k, _)| k == key).count();
                if n == 0 && shown {
                    continue;
                }
                let dead = dead_key(key);
                let n = replay(&mut conn, key, &dead, n).await.map_err(wrong_type)?;
                let left = xlen(&mut conn, &dead).await.map_err(wrong_type)?;
                let more = if left > 0 {
                    format!("; {left} left there (--count sets how many go back)")
                } else {
                    String::new()
                };
                crate::stdout_line!(
                    "replayed {n} dead letters from '{dead}' onto '{key}' as new entries{more}"
                );
            }
        }
    }
    Ok(())
}

/// The oldest `count` dead letters over every partition, each with the
/// partition it belongs to (dead-letter ids are times, so they order).
async fn oldest(
    conn: &mut Conn,
    layout: &Layout,
    count: usize,
) -> Result<Vec<(String, Entry)>, RedisFailure> {
    let mut all = Vec::new();
    for key in &layout.partitions {
        let page = xrange(conn, &dead_key(key), "-", "+", count).await?;
        all.extend(page.into_iter().map(|e| (key.clone(), e)));
    }
    all.sort_by_key(|(_, e)| e.id);
    all.truncate(count);
    Ok(all)
}

fn dead_keys(layout: &Layout) -> String {
    let keys: Vec<String> = layout
        .partitions
        .iter()
        .map(|k| format!("'{}'", dead_key(k)))
        .collect();
    keys.join(", ")
}

/// One dead letter; `partition` names its stream on a partitioned one.
fn print_dead(e: &Entry, partition: Option<&str>, as_json: bool) {
    let get = |k: &str| e.field_str(k).unwrap_or_default();
    if as_json {
        let mut line = json!({
            "dead_id": e.id.to_string(), "original_id": get("original_id"), "group": get("group"),
            "consumer": get("consumer"), "error": get("error"),
            // A number, as in worker events; null if the letter lacks it.
            "deliveries": get("deliveries").parse::<u64>().ok(),
        });
        if let Some(key) = partition {
            line["stream"] = json!(key);
        }
        crate::stdout_line!("{line}");
    } else {
        let at = partition.map(|k| format!("{k}  ")).unwrap_or_default();
        crate::stdout_line!(
            "{at}{}  original {}  group {}  consumer {}  deliveries {}  error: {}",
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
