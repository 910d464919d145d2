//! The retention a producer adds with (`--maxlen` or `--minid`, with
//! `--trim-mode`), fitted to the server once at start: a trim mode the
//! server lacks is refused (exit 2, nothing sent), and where approximate
//! trimming with a mode removes nothing (redis#14656) it is made exact.
//! `produce` and the lab's producer both build it here.

use crate::failure::Failure;
use crate::redis::{EntryId, Retention, ServerInfo, TrimMode};

/// The producer's limit as the flags give it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub maxlen: Option<u64>,
    pub minid: Option<EntryId>,
    pub mode: Option<TrimMode>,
}

/// The retention XADD carries (`None`: no trimming), and notes for the
/// user. `--maxlen` bounds the logical stream: each of `partitions` keeps
/// its share.
pub fn producer_retention(
    limits: Limits,
    partitions: usize,
    server: Option<&ServerInfo>,
) -> Result<(Option<Retention>, Vec<String>), Failure> {
    let wanted = match (limits.maxlen, limits.minid) {
        (Some(len), _) => Retention::max_len(len.div_ceil(partitions.max(1) as u64), false),
        (None, Some(id)) => Retention::min_id(id).exactly(false),
        (None, None) => {
            let notes = limits
                .mode
                .map(|m| {
                    format!(
                        "--trim-mode {} has no effect without --maxlen or --minid",
                        m.flag()
                    )
                })
                .into_iter()
                .collect();
            return Ok((None, notes));
        }
    };
    let wanted = wanted.with_mode(limits.mode);
    let Some(server) = server else {
        return Ok((Some(wanted), Vec::new()));
    };
    match server.fit_retention(wanted) {
        Ok((fitted, note)) => Ok((Some(fitted), note.into_iter().collect())),
        Err(why) => Err(Failure::usage(format!(
            "--trim-mode {}: {why}; nothing was sent (without --trim-mode, XADD trims as every server does: entries go whether a group acked them or not)",
            limits.mode.map_or("", TrimMode::flag)
        ))),
    }
}
