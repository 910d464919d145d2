//! One-shot commands the user triggers (trim, ack, claim, dead-letter,
//! fetch an entry, a page or a search step of the entries view): each runs
//! in its own task, bounded by a timeout, on a shared admin connection
//! (what only reads: on a read-only one), and reports an [`Outcome`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::sync::mpsc::Sender;

use super::{
    BrowseRequest, Done, EngineCommand, Outcome, Refusal, SearchRequest, bulk, group_admin,
};
use crate::engine::browse::Fetched;
use crate::engine::browse::page::{page, pending_of};
use crate::engine::browse::search::search_step;
use crate::engine::dead_key;
use crate::engine::dead_letter::{BY_HAND, DeadLetter};
use crate::redis::{
    Conn, EntryId, RedisFailure, command_line, dead_letter, ping, xack, xack_cmd, xclaim,
    xclaim_cmd, xrange, xrange_raw,
};

/// Longest a user-triggered command may take before it is reported failed.
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest a bulk action (or marking every matching entry) may take: it
/// walks the PEL and sends a command per 500 entries, up to the mark limit.
pub const BULK_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) struct Admin {
    conn: Arc<Mutex<Conn>>,
    /// A read-only connection for what only looks (entries, pages, searches).
    browse: Arc<Mutex<Conn>>,
    stream: String,
    outcomes: Sender<Outcome>,
}

impl Admin {
    pub(super) fn new(conn: Conn, browse: Conn, stream: String, outcomes: Sender<Outcome>) -> Self {
        Self {
            conn: Arc::new(Mutex::new(conn)),
            browse: Arc::new(Mutex::new(browse)),
            stream,
            outcomes,
        }
    }

    /// Run one of the Redis one-shots on the stream in focus; other
    /// commands are not ours.
    pub(super) fn run(&mut self, command: EngineCommand) {
        if let EngineCommand::Focus(stream) = command {
            self.stream = stream;
            return;
        }
        let (conn, key) = (self.conn.clone(), self.stream.clone());
        let browse = self.browse.clone();
        match command {
            EngineCommand::Trim(retention) => self.spawn("trim".into(), async move {
                group_admin::trim(&mut *conn.lock().await, &key, &retention).await
            }),
            EngineCommand::PlanTrim(target) => self.spawn("plan a trim".into(), async move {
                group_admin::plan_trim(&mut *conn.lock().await, &key, target, None).await
            }),
            EngineCommand::PlanModeTrim(target, mode) => {
                self.spawn("plan a trim".into(), async move {
                    let mut c = conn.lock().await;
                    group_admin::plan_trim(&mut c, &key, target, Some(mode)).await
                });
            }
            EngineCommand::PlanAckedTrim => self.spawn("plan a trim".into(), async move {
                group_admin::plan_acked_trim(&mut *conn.lock().await, &key).await
            }),
            EngineCommand::SetId { group, id } => self.spawn("XGROUP SETID".into(), async move {
                group_admin::set_id(&mut *conn.lock().await, &key, &group, &id).await
            }),
            EngineCommand::DestroyGroup { group } => {
                self.spawn("XGROUP DESTROY".into(), async move {
                    group_admin::destroy(&mut *conn.lock().await, &key, &group).await
                });
            }
            EngineCommand::DeleteConsumer {
                group,
                consumer,
                pending,
            } => self.spawn(format!("delete {consumer}"), async move {
                let mut c = conn.lock().await;
                group_admin::remove_consumer(&mut c, &key, &group, &consumer, pending).await
            }),
            EngineCommand::Ack { group, id } => {
                self.spawn(format!("ack {id}"), ack(conn, key, group, id));
            }
            EngineCommand::Claim { group, id, to } => {
                self.spawn(format!("claim {id}"), claim(conn, key, group, id, to));
            }
            EngineCommand::DeadLetter {
                group,
                id,
                owner,
                deliveries,
            } => {
                let why = Hand {
                    group,
                    owner,
                    deliveries,
                };
                self.spawn(format!("dead-letter {id}"), kill_entry(conn, key, id, why));
            }
            EngineCommand::FetchEntry(id) => {
                self.spawn_on(&self.browse, format!("fetch {id}"), fetch(browse, key, id));
            }
            EngineCommand::Browse(request) => {
                self.spawn_on(
                    &self.browse,
                    "read a page of entries".into(),
                    browse_page(browse, request),
                );
            }
            EngineCommand::Search(request) => {
                self.spawn_on(
                    &self.browse,
                    "search entries".into(),
                    search(browse, request),
                );
            }
            EngineCommand::MarkMatching { group, filter } => {
                let op = async move {
                    bulk::mark_matching(&mut *conn.lock().await, &key, group, filter).await
                };
                self.spawn_for(&self.conn, "mark matching entries".into(), BULK_TIMEOUT, op);
            }
            EngineCommand::Repair {
                group,
                repair,
                entries,
            } => {
                let what = format!("{} {} entries", repair.done_word(), entries.len());
                let op = async move {
                    bulk::repair(&mut *conn.lock().await, &key, group, repair, entries).await
                };
                self.spawn_for(&self.conn, what, BULK_TIMEOUT, op);
            }
            _ => {}
        }
    }

    fn spawn<F>(&self, what: String, op: F)
    where
        F: Future<Output = Result<Outcome, RedisFailure>> + Send + 'static,
    {
        self.spawn_on(&self.conn, what, op);
    }

    /// Run `op` (which locks `conn`) in a task, bounded by [`ADMIN_TIMEOUT`].
    fn spawn_on<F>(&self, conn: &Shared, what: String, op: F)
    where
        F: Future<Output = Result<Outcome, RedisFailure>> + Send + 'static,
    {
        self.spawn_for(conn, what, ADMIN_TIMEOUT, op);
    }

    /// Run `op` (which locks `conn`) in a task bounded by `limit`, and
    /// report its outcome.
    fn spawn_for<F>(&self, conn: &Shared, what: String, limit: Duration, op: F)
    where
        F: Future<Output = Result<Outcome, RedisFailure>> + Send + 'static,
    {
        let tx = self.outcomes.clone();
        let conn = conn.clone();
        tokio::spawn(async move {
            let checked = async {
                // The admin socket idles between key presses; one broken by a
                // server restart or CLIENT KILL fails this PING (and is
                // dropped), so the command itself dials a fresh one.
                let _ = ping(&mut *conn.lock().await).await;
                op.await
            };
            let outcome = match tokio::time::timeout(limit, checked).await {
                Ok(Ok(o)) => o,
                Ok(Err(e)) => Outcome::Refused(Refusal::Redis {
                    what,
                    error: e.to_string(),
                }),
                Err(_) => {
                    // The socket may still deliver the late reply: drop it.
                    if let Ok(mut c) = conn.try_lock() {
                        c.disconnect();
                    }
                    Outcome::Refused(Refusal::TimedOut { what, after: limit })
                }
            };
            match &outcome {
                // Payloads stay out of the log file.
                Outcome::Entry { id, .. } => tracing::info!(%id, "entry fetched"),
                Outcome::Page { page, commands, .. } => {
                    tracing::debug!(rows = page.rows.len(), commands, "page read");
                }
                Outcome::Searched { step, .. } => {
                    tracing::debug!(
                        examined = step.examined,
                        found = step.found.is_some(),
                        "search step"
                    );
                }
                other => tracing::info!(outcome = ?other, "dashboard command done"),
            }
            // Waits for room: a reader that went away closes the channel.
            let _ = tx.send(outcome).await;
        });
    }
}

type Shared = Arc<Mutex<Conn>>;

async fn ack(
    conn: Shared,
    key: String,
    group: String,
    id: EntryId,
) -> Result<Outcome, RedisFailure> {
    let mut c = conn.lock().await;
    group_admin::sending(&xack_cmd(&key, &group, &[id]));
    let n = xack(&mut c, &key, &group, &[id]).await?;
    Ok(if n == 1 {
        Outcome::Done(Done::Acked { id, group })
    } else {
        Outcome::Refused(Refusal::NoLongerPending { action: "ack", id })
    })
}

async fn claim(
    conn: Shared,
    key: String,
    group: String,
    id: EntryId,
    to: String,
) -> Result<Outcome, RedisFailure> {
    let mut c = conn.lock().await;
    group_admin::sending(&xclaim_cmd(&key, &group, &to, 0, &[id]));
    let claimed = xclaim(&mut c, &key, &group, &to, 0, &[id]).await?;
    Ok(if claimed.is_empty() {
        Outcome::Refused(Refusal::NoLongerPending {
            action: "claim",
            id,
        })
    } else {
        Outcome::Done(Done::Claimed { id, to })
    })
}

/// Why an entry is dead-lettered by hand.
struct Hand {
    group: String,
    owner: String,
    deliveries: u64,
}

/// Copy the entry to `<stream>:dead` and XACK it, atomically.
async fn kill_entry(
    conn: Shared,
    key: String,
    id: EntryId,
    why: Hand,
) -> Result<Outcome, RedisFailure> {
    let mut c = conn.lock().await;
    let found = xrange(&mut c, &key, &id.to_string(), &id.to_string(), 1).await?;
    let original = found.into_iter().find(|e| e.id == id);
    let why_letter = DeadLetter {
        group: &why.group,
        consumer: &why.owner,
        deliveries: why.deliveries,
        error: BY_HAND,
    };
    let fields = why_letter.fields(id, original.as_ref().and_then(|e| e.fields.as_deref()));
    let borrowed: Vec<(&str, &[u8])> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let dead = dead_key(&key);
    let ack_line = command_line(&xack_cmd(&key, &why.group, &[id]));
    let xadd = format!("XADD {dead} * original_id {id} ...");
    // As `dead_letter` sends them: one MULTI only when both keys share a slot.
    let sent = if c.one_slot(&[&key, &dead]).await? {
        format!("MULTI; {xadd}; {ack_line}; EXEC")
    } else {
        format!("{xadd}; then {ack_line}")
    };
    tracing::info!(command = %sent, "admin action: sending");
    let dead_id = dead_letter(&mut c, &key, &dead, &why.group, id, &borrowed).await?;
    Ok(Outcome::Done(Done::DeadLettered {
        id,
        dead_key: dead,
        dead_id,
    }))
}

/// The entry's fields, byte-exact; `Deleted` when the stream no longer
/// holds it (a pending id whose entry was deleted or trimmed).
async fn fetch(conn: Shared, key: String, id: EntryId) -> Result<Outcome, RedisFailure> {
    let mut c = conn.lock().await;
    let at = id.to_string();
    let found = xrange_raw(&mut c, &key, &at, &at, 1).await?;
    let fields = match found.into_iter().find(|e| e.id == id) {
        Some(e) => Fetched::Fields(e.fields),
        None => Fetched::Deleted,
    };
    Ok(Outcome::Entry { id, fields })
}

/// A page of entries, then the page's pending entries in the group.
async fn browse_page(conn: Shared, r: BrowseRequest) -> Result<Outcome, RedisFailure> {
    let mut c = conn.lock().await;
    let page = page(&mut c, &r.keys, &r.query).await?;
    let (pending, more) = match &r.group {
        Some(g) => pending_of(&mut c, &r.keys, g, &page.rows).await?,
        None => (Vec::new(), 0),
    };
    let commands = page.commands + more;
    Ok(Outcome::Page {
        seq: r.seq,
        page,
        pending,
        commands,
    })
}

async fn search(conn: Shared, r: SearchRequest) -> Result<Outcome, RedisFailure> {
    let mut c = conn.lock().await;
    let step = search_step(&mut c, &r.keys, &r.query).await?;
    Ok(Outcome::Searched { seq: r.seq, step })
}
