//! `streamlab info`: which server this is (name, version, mode, stream
//! features and what is missing), its memory, and queue-safety advice from
//! INFO. Read-only: a read-only connector, INFO only.

use std::fmt::Write as _;

use serde_json::json;

use crate::cli::{GlobalArgs, InfoArgs};
use crate::failure::Failure;
use crate::monitor::advice::{Advice, Level, advise};
use crate::redis::memory::MemoryState;
use crate::redis::reply::text;
use crate::redis::server::info_fields;
use crate::redis::{Feature, RedisFailure, ServerInfo};
use crate::session::Session;

pub async fn run(global: &GlobalArgs, args: &InfoArgs) -> Result<(), Failure> {
    let session = Session::open(global).await?;
    let connector = session.connector.read_only();
    let server = connector.probe_server().await?;
    let mut conn = connector.conn("info");
    // The advice needs INFO; a user whose ACL refuses it still learns
    // which server this is (the probe fell back to HELLO).
    let (fields, refused) = match conn.run(&::redis::cmd("INFO"), "INFO", false).await {
        Ok(v) => (info_fields(&text(&v).unwrap_or_default()), None),
        Err(e @ RedisFailure::Auth(_)) => (Default::default(), Some(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    let memory = MemoryState::from_fields(&fields);
    let advice = advise(&fields);
    if args.json {
        let v = json!({
            "server": server.to_json(),
            "url": session.connector.settings().to_string(),
            "memory": memory.as_ref().map(|m| json!({
                "used": m.used, "maxmemory": m.max, "policy": m.policy,
            })),
            "advice": advice.iter().map(Advice::to_json).collect::<Vec<_>>(),
            "advice_unavailable": refused,
        });
        println!("{v}");
    } else {
        print!(
            "{}",
            report(
                &server,
                &session,
                memory.as_ref(),
                &advice,
                refused.as_deref()
            )
        );
    }
    Ok(())
}

fn report(
    server: &ServerInfo,
    session: &Session,
    memory: Option<&MemoryState>,
    advice: &[Advice],
    refused: Option<&str>,
) -> String {
    let mut out = String::new();
    let settings = session.connector.settings();
    let _ = writeln!(
        out,
        "server    {server} ({}) at {settings}",
        server.mode.as_str()
    );
    let names: Vec<&str> = server.features.iter().map(|f| f.name()).collect();
    let _ = writeln!(out, "features  {}", names.join(", "));
    for missing in Feature::ALL.iter().filter_map(|f| server.missing(*f)) {
        let _ = writeln!(out, "missing   {missing}");
    }
    if let Some(m) = memory {
        let _ = writeln!(out, "memory    {}", m.describe());
    }
    match (refused, advice.is_empty()) {
        (Some(why), _) => {
            let _ = writeln!(out, "advice    unavailable: INFO is refused ({why})");
        }
        (None, true) => {
            let _ = writeln!(
                out,
                "advice    none: nothing INFO shows puts a queue at risk"
            );
        }
        (None, false) => {
            let _ = writeln!(out, "advice");
            for a in advice {
                let level = match a.level {
                    Level::Warn => "warn",
                    Level::Info => "info",
                };
                let _ = writeln!(out, "  {level}  {:<12} {}", a.topic, a.message);
            }
        }
    }
    out
}
