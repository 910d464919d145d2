//! The error a command ends with, and the process exit code it maps to.
//!
//! Exit codes (documented in the README): 0 success, 1 runtime error,
//! 2 bad usage or configuration, 3 cannot connect or authenticate,
//! 4 a worker crashed on purpose (`--crash-rate`), 5 Redis is out of memory.

use std::fmt;
use std::sync::Arc;

use crate::redis::RedisFailure;
use crate::redis::config::ConfigError;
use crate::redis::secrets::redact;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    Runtime = 1,
    Usage = 2,
    Connection = 3,
    Crashed = 4,
    OutOfMemory = 5,
}

/// A one-line, secret-free error with its exit code.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: ExitKind,
    message: String,
    /// Set for an unexpected failure: `main` prints this report in full
    /// (`crate::report`) instead of the one line.
    report: Option<Arc<color_eyre::Report>>,
}

impl Failure {
    pub fn new(kind: ExitKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            report: None,
        }
    }

    /// streamlab's own machinery failed where nothing the user did was
    /// wrong: a runtime error whose report keeps every cause and where it
    /// was raised. Its line (for the log) is the chain of causes.
    pub fn unexpected(report: color_eyre::Report) -> Self {
        Self {
            kind: ExitKind::Runtime,
            message: format!("{report:#}"),
            report: Some(Arc::new(report)),
        }
    }

    /// The full report of an unexpected failure.
    pub fn report(&self) -> Option<&color_eyre::Report> {
        self.report.as_deref()
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Usage, message)
    }

    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Runtime, message)
    }

    pub fn exit_code(&self) -> u8 {
        self.kind as u8
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Always one line, always redacted, whatever the source wrote.
        // Redacted first: collapsing whitespace inside a password that has
        // some would keep it from matching, and most of it would show.
        let line = redact(&self.message)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        f.write_str(&line)
    }
}

impl std::error::Error for Failure {}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Self::usage(e.to_string())
    }
}

impl From<RedisFailure> for Failure {
    fn from(e: RedisFailure) -> Self {
        let kind = match &e {
            RedisFailure::Connection(_)
            | RedisFailure::ClusterChanging(_)
            | RedisFailure::Auth(_) => ExitKind::Connection,
            RedisFailure::WrongType(_)
            | RedisFailure::ReadOnlyMode(_)
            | RedisFailure::CrossSlot(_)
            | RedisFailure::WrongNode(_)
            | RedisFailure::UnknownMaster(_) => ExitKind::Usage,
            RedisFailure::OutOfMemory { .. } => ExitKind::OutOfMemory,
            _ => ExitKind::Runtime,
        };
        Self::new(kind, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use color_eyre::eyre::{WrapErr as _, eyre};

    use super::*;

    #[test]
    fn an_unexpected_failure_keeps_its_report_and_logs_its_causes_on_one_line() {
        let inner: Result<(), _> = Err(eyre!("Resource temporarily unavailable"));
        let report = inner
            .wrap_err("cannot start the async runtime")
            .unwrap_err();
        let failure = Failure::unexpected(report);
        assert_eq!(failure.exit_code(), 1);
        assert_eq!(
            failure.to_string(),
            "cannot start the async runtime: Resource temporarily unavailable"
        );
        let kept = failure.report().expect("the report is kept for main");
        assert_eq!(kept.chain().count(), 2);
        assert!(Failure::runtime("x").report().is_none(), "expected: a line");
    }
}
