//! `streamlab consume`: the basic single consumer, printing each entry.

use std::sync::Arc;

use serde_json::json;

use crate::cli::{ConsumeArgs, GlobalArgs};
use crate::commands::shutdown_on_signal;
use crate::engine::consumer::{BasicConsumer, ConsumerConfig, StartFrom, StartNote};
use crate::engine::event::NullSink;
use crate::failure::Failure;
use crate::redis::RedisFailure;
use crate::redis::id::now_ms;
use crate::redis::reply::Entry;
use crate::session::Session;

pub async fn run(global: &GlobalArgs, args: &ConsumeArgs) -> Result<(), Failure> {
    let from: StartFrom = args.from.parse().map_err(Failure::usage)?;
    let session = Session::open(global).await?;
    let conn = session
        .connector
        .blocking_conn(format!("consumer:{}", args.name), args.block);
    let config = ConsumerConfig {
        stream: global.stream.clone(),
        name: args.name.clone(),
        count: usize::try_from(args.count).unwrap_or(100),
        block: args.block,
        save_offset: !args.no_save,
    };
    let offset = crate::engine::offset_key(&global.stream, &args.name);
    let (mut consumer, note) = BasicConsumer::start(conn, config, from, Arc::new(NullSink))
        .await
        .map_err(|e| match e {
            // At start the saved-offset key is read too: name both suspects.
            RedisFailure::WrongType(_) => Failure::usage(format!(
                "'{}' or its offset key '{offset}' holds another type of value: delete it, or pick another --stream or --name",
                global.stream
            )),
            other => other.into(),
        })?;
    eprintln!("{}", describe_start(&note, &global.stream));
    let cancel = shutdown_on_signal();
    let mut seen = 0;
    while args.limit.is_none_or(|l| seen < l) {
        let batch = tokio::select! {
            () = cancel.cancelled() => break,
            b = consumer.next_batch() => b?,
        };
        let take = args.limit.map_or(batch.len(), |l| {
            usize::try_from(l - seen)
                .unwrap_or(usize::MAX)
                .min(batch.len())
        });
        for entry in &batch[..take] {
            print_entry(entry, args.json);
        }
        seen += take as u64;
        consumer.commit(&batch[..take]).await?;
    }
    eprintln!("read {seen} entries; last seen id {}", consumer.last_seen());
    Ok(())
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

fn print_entry(entry: &Entry, as_json: bool) {
    let fields = entry.fields.clone().unwrap_or_default();
    if as_json {
        let map: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(k, v)| (k.clone(), json!(String::from_utf8_lossy(v))))
            .collect();
        println!("{}", json!({ "id": entry.id.to_string(), "fields": map }));
        return;
    }
    let shown: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", shorten(&String::from_utf8_lossy(v))))
        .collect();
    println!(
        "{} ({} ms old)  {}",
        entry.id,
        entry.id.age_ms(now_ms()),
        shown.join(" ")
    );
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= 60 {
        return s.to_owned();
    }
    let head: String = s.chars().take(57).collect();
    format!("{head}...")
}
