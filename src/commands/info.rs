//! `streamlab info`: which server this is (name, version, mode, stream
//! features and what is missing), its memory, and queue-safety advice from
//! INFO. Read-only: a read-only connector, INFO only. On a cluster memory
//! and persistence are per node: every master is asked, and each piece of
//! advice names its node.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::cli::{GlobalArgs, InfoArgs};
use crate::failure::Failure;
use crate::monitor::advice::{Advice, Level, advise};
use crate::redis::memory::MemoryState;
use crate::redis::reply::text;
use crate::redis::server::info_fields;
use crate::redis::topology::NodeAddr;
use crate::redis::{Conn, Connector, Feature, RedisFailure, ServerInfo, ServerMode};
use crate::setup::session::Session;

pub async fn run(global: &GlobalArgs, args: &InfoArgs) -> Result<(), Failure> {
    let session = Session::open(global).await?;
    let connector = session.connector.read_only();
    let server = connector.probe_server().await?;
    let mut conn = connector.conn("info");
    let nodes: Vec<Option<NodeAddr>> = if server.mode == ServerMode::Cluster {
        connector
            .masters()
            .await?
            .into_iter()
            .map(|m| Some(m.addr))
            .collect()
    } else {
        vec![None]
    };
    let mut seen = Vec::new();
    for node in nodes {
        seen.push(read_node(&mut conn, node).await?);
    }
    if args.json {
        crate::stdout_line!("{}", to_json(&server, &session, &seen));
    } else {
        print!("{}", report(&server, &session, &seen));
    }
    Ok(())
}

/// What one node's INFO said (the only node, or one cluster master).
struct NodeReport {
    node: Option<NodeAddr>,
    memory: Option<MemoryState>,
    /// Prefixed with the node on a cluster.
    advice: Vec<Advice>,
    /// Why there is no advice: the ACL refuses INFO.
    refused: Option<String>,
}

async fn read_node(conn: &mut Conn, node: Option<NodeAddr>) -> Result<NodeReport, Failure> {
    let info = ::redis::cmd("INFO");
    let reply = match &node {
        Some(addr) => conn.run_on(addr, &info, "INFO", false).await,
        None => conn.run(&info, "INFO", false).await,
    };
    // The advice needs INFO; a user whose ACL refuses it still learns
    // which server this is (the probe fell back to HELLO).
    let (fields, refused) = match reply {
        Ok(v) => (info_fields(&text(&v).unwrap_or_default()), None),
        Err(e @ RedisFailure::Auth(_)) => (Default::default(), Some(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    let mut advice = advise(&fields);
    if let Some(addr) = &node {
        for a in &mut advice {
            a.message = format!("{addr}: {}", a.message);
        }
    }
    Ok(NodeReport {
        memory: MemoryState::from_fields(&fields),
        node,
        advice,
        refused,
    })
}

fn memory_json(m: &MemoryState) -> Value {
    json!({ "used": m.used, "maxmemory": m.max, "policy": m.policy })
}

/// `{"server", "url", "sentinel", "memory", "nodes" (clusters), "advice",
/// "advice_unavailable"}`; `"sentinel"` is `{"master", "address",
/// "sentinels"}` behind Redis Sentinel, else null.
fn to_json(server: &ServerInfo, session: &Session, nodes: &[NodeReport]) -> Value {
    let mut advice: Vec<&Advice> = nodes.iter().flat_map(|n| &n.advice).collect();
    advice.sort_by_key(|a| a.level);
    let memory = match nodes {
        [one] => one.memory.as_ref().map(memory_json),
        _ => None,
    };
    let per_node = (nodes.len() > 1).then(|| {
        nodes
            .iter()
            .map(|n| {
                json!({
                    "node": n.node.as_ref().map(ToString::to_string),
                    "memory": n.memory.as_ref().map(memory_json),
                })
            })
            .collect::<Vec<_>>()
    });
    let connector = &session.connector;
    json!({
        "server": server.to_json(),
        "url": url(connector),
        "sentinel": connector.sentinel().map(|s| json!({
            "master": s.master,
            "address": s.address.map(|a| a.to_string()),
            "sentinels": s.sentinels.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })),
        "memory": memory,
        "nodes": per_node,
        "advice": advice.iter().map(|a| a.to_json()).collect::<Vec<_>>(),
        "advice_unavailable": nodes.iter().find_map(|n| n.refused.clone()),
    })
}

/// The redacted URL; behind Sentinel, that of the master they name now.
fn url(connector: &Connector) -> String {
    let settings = connector.settings();
    let master = connector.sentinel().and_then(|s| s.address);
    master
        .and_then(|m| settings.for_node(&m.host, m.port).ok())
        .map_or_else(|| settings.to_string(), |node| node.to_string())
}

fn report(server: &ServerInfo, session: &Session, nodes: &[NodeReport]) -> String {
    let mut out = String::new();
    let connector = &session.connector;
    // Name and version, then the mode in words (the Display of
    // `ServerInfo` adds "(cluster)" already, which read twice here).
    let _ = writeln!(
        out,
        "server    {} {} ({}) at {}",
        server.name.title(),
        server.version,
        server.mode.as_str(),
        url(connector)
    );
    if let Some(s) = connector.sentinel() {
        let at = s.address.map_or_else(|| "?".to_owned(), |a| a.to_string());
        let list: Vec<String> = s.sentinels.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "sentinel  {} → {at} (sentinels {})",
            s.master,
            list.join(", ")
        );
    }
    let names: Vec<&str> = server.features.iter().map(|f| f.name()).collect();
    let _ = writeln!(out, "features  {}", names.join(", "));
    for missing in Feature::ALL.iter().filter_map(|f| server.missing(*f)) {
        let _ = writeln!(out, "missing   {missing}");
    }
    for n in nodes {
        if let Some(m) = &n.memory {
            let at = n
                .node
                .as_ref()
                .map(|a| format!("{a}: "))
                .unwrap_or_default();
            let _ = writeln!(out, "memory    {at}{}", m.describe());
        }
    }
    let mut advice: Vec<&Advice> = nodes.iter().flat_map(|n| &n.advice).collect();
    advice.sort_by_key(|a| a.level);
    if let Some(why) = nodes.iter().find_map(|n| n.refused.as_deref()) {
        let _ = writeln!(out, "advice    unavailable: INFO is refused ({why})");
    } else if advice.is_empty() {
        let _ = writeln!(
            out,
            "advice    none: nothing INFO shows puts a queue at risk"
        );
    } else {
        let _ = writeln!(out, "advice");
        for a in advice {
            let level = match a.level {
                Level::Warn => "warn",
                Level::Info => "info",
            };
            let _ = writeln!(out, "  {level}  {:<12} {}", a.topic, a.message);
        }
    }
    out
}
