//! `streamlab consume`: the basic single consumer, printing each entry.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use crate::cli::{ConsumeArgs, GlobalArgs};
use crate::engine::consumer::{BasicConsumer, ConsumerConfig, StartFrom, StartNote};
use crate::engine::event::NullSink;
use crate::engine::partition::Layout;
use crate::engine::partition::consumers::Fanin;
use crate::failure::Failure;
use crate::redis::RedisFailure;
use crate::redis::id::now_ms;
use crate::redis::reply::Entry;
use crate::setup::session::Session;
use crate::setup::signals::shutdown_on_signal;
use crate::setup::streams::resolve_stream;

pub async fn run(global: &GlobalArgs, args: &ConsumeArgs) -> Result<(), Failure> {
    let from: StartFrom = args.from.parse().map_err(Failure::usage)?;
    let session = Session::open(global).await?;
    let layout = resolve_stream(&session.connector, &global.stream).await?;
    let mut consumers = Vec::new();
    let mut last = BTreeMap::new();
    for (index, key) in layout.partitions.iter().enumerate() {
        let consumer = start_on(&session, &layout, index, args, from).await?;
        last.insert(key.clone(), consumer.last_seen());
        consumers.push((key.clone(), consumer));
    }
    let mut fanin = Fanin::start(consumers);
    let cancel = shutdown_on_signal();
    let mut seen = 0;
    while args.limit.is_none_or(|l| seen < l) {
        let delivery = tokio::select! {
            () = cancel.cancelled() => break,
            d = fanin.next() => match d {
                Some(d) => d?,
                None => break,
            },
        };
        let batch = &delivery.entries;
        let take = args.limit.map_or(batch.len(), |l| {
            usize::try_from(l - seen)
                .unwrap_or(usize::MAX)
                .min(batch.len())
        });
        let shown = layout.is_partitioned().then_some(delivery.stream.as_str());
        // The offset is saved after the batch is printed: with stdout
        // closed by its reader nothing more is printed, so nothing is saved.
        if !batch[..take]
            .iter()
            .all(|e| print_entry(e, shown, args.json))
        {
            break;
        }
        if let Some(entry) = batch[..take].last() {
            last.insert(delivery.stream.clone(), entry.id);
        }
        seen += take as u64;
        delivery.done(take).await?;
    }
    fanin.stop();
    let ids: Vec<String> = last.values().map(ToString::to_string).collect();
    crate::stderr_line!("read {seen} entries; last seen id {}", ids.join(", "));
    Ok(())
}

/// Start the basic consumer on partition `index`, saying where it starts.
async fn start_on(
    session: &Session,
    layout: &Layout,
    index: usize,
    args: &ConsumeArgs,
    from: StartFrom,
) -> Result<BasicConsumer, Failure> {
    let key = &layout.partitions[index];
    let role = if layout.is_partitioned() {
        format!("consumer:{}:p{index}", args.name)
    } else {
        format!("consumer:{}", args.name)
    };
    let conn = session.connector.blocking_conn(role, args.block);
    let config = ConsumerConfig {
        stream: key.clone(),
        name: args.name.clone(),
        count: usize::try_from(args.count).unwrap_or(100),
        block: args.block,
        save_offset: !args.no_save,
    };
    let offset = crate::engine::offset_key(key, &args.name);
    let (consumer, note) = BasicConsumer::start(conn, config, from, Arc::new(NullSink))
        .await
        .map_err(|e| match e {
            // At start the saved-offset key is read too: name both suspects.
            RedisFailure::WrongType(_) => Failure::usage(format!(
                "'{key}' or its offset key '{offset}' holds another type of value: pick another --stream or --name (streamlab never changes a key that is not its own)"
            )),
            other => other.into(),
        })?;
    crate::stderr_line!("{}", describe_start(&note, key));
    Ok(consumer)
}

fn describe_start(note: &StartNote, stream: &str) -> String {
    match note {
        StartNote::ResumedFromSaved(id) => format!("resuming '{stream}' after saved offset {id}"),
        StartNote::NoSavedOffsetUsingEnd(id) => format!(
            "no saved offset: starting at '$' (after {id}). Entries added before now are NOT shown; use --from 0-0 to read the backlog"
        ),
        StartNote::FromEnd(id) => {
            format!("starting at '$' (after {id}): only entries added from now on are shown")
        }
        StartNote::FromBeginning => format!("reading '{stream}' from 0-0: the whole backlog first"),
        StartNote::FromId(id) => format!("reading '{stream}' after {id}"),
    }
}

/// One entry as a line; `partition` names its key on a partitioned stream.
/// False when stdout could not take it.
fn print_entry(entry: &Entry, partition: Option<&str>, as_json: bool) -> bool {
    let fields = entry.fields.clone().unwrap_or_default();
    if as_json {
        let map: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| (k.clone(), json!(String::from_utf8_lossy(v))))
            .collect();
        let mut line = json!({ "id": entry.id.to_string(), "fields": map });
        if let Some(key) = partition {
            line["stream"] = json!(key);
        }
        return crate::output::stdout::line(&line.to_string());
    }
    let at = partition.map(|k| format!("{k} ")).unwrap_or_default();
    let shown: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", shorten(&String::from_utf8_lossy(v))))
        .collect();
    crate::output::stdout::line(&format!(
        "{at}{} ({} ms old)  {}",
        entry.id,
        entry.id.age_ms(now_ms()),
        shown.join(" ")
    ))
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= 60 {
        return s.to_owned();
    }
    let head: String = s.chars().take(57).collect();
    format!("{head}...")
}
