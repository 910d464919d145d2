//! The reports of unexpected failures (color-eyre): a panic's, and an
//! `eyre::Report`'s when streamlab's own machinery fails. Each gives the
//! terminal back first, names the log file to look in, and goes through
//! the secret redactor. Expected failures are `Failure`s instead: one
//! `error:` line (docs/ARCHITECTURE.md "Errors" says where the line is).

use std::fmt;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use color_eyre::config::{HookBuilder, Theme};

use crate::redis::secrets::redact;

/// The log file given by `--log-file`, absolute; set once flags are read.
static LOG_FILE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Install color-eyre's panic and error hooks. Called first in `main`,
/// before anything can take the terminal: a panic calls `give_back` (the
/// terminal's restore, a no-op when it was never taken) before a word of
/// the report is written, so the report lands on the normal screen.
pub fn install(give_back: fn()) {
    let theme = if std::io::stderr().is_terminal() {
        Theme::dark()
    } else {
        Theme::new()
    };
    let (panic_hook, eyre_hook) = HookBuilder::default()
        .theme(theme)
        .panic_section(LogSection)
        .into_hooks();
    // Fails only if a Report was made before: then the default handler
    // (the chain of causes, no colours) stays, which is still a report.
    let _ = eyre_hook.install();
    std::panic::set_hook(Box::new(move |info| {
        give_back();
        let text = redact(&panic_hook.panic_report(info).to_string());
        write_stderr(&text);
        tracing::error!("panic: {}", without_colours(&text));
    }));
}

/// Remember the log file for the reports (`None`: none was asked for).
pub fn set_log_file(path: Option<&Path>) {
    let absolute = path.map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    let _ = LOG_FILE.set(absolute);
}

/// Print the report of an unexpected error (its causes, where it was
/// raised, the log file), redacted, and log it.
pub fn print(report: &color_eyre::Report) {
    let text = redact(&format!("{report:?}\n\n{LogSection}"));
    write_stderr(&text);
    tracing::error!("{}", without_colours(&text));
}

/// The section every report ends with: where to look next.
struct LogSection;

impl fmt::Display for LogSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match LOG_FILE.get().and_then(Option::as_ref) {
            Some(path) => write!(
                f,
                "Log file: {} (what streamlab did before this; STREAMLAB_LOG=debug logs more)",
                path.display()
            ),
            None => f.write_str(
                "Log file: none was written; run again with --log-file PATH (and STREAMLAB_LOG=debug) to keep one",
            ),
        }
    }
}

/// The report without the theme's colours, for the log file: an escape
/// sequence `ESC [ ... final` ends at its first byte in `@`..=`~`.
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Never panics (a report written from a panic hook must not panic again).
fn write_stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
    let _ = err.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_taken_out_for_the_log() {
        assert_eq!(
            without_colours(
                "\u{1b}[31mThe application panicked\u{1b}[0m at \u{1b}[35msrc/x.rs\u{1b}[0m:\u{1b}[35m9\u{1b}[0m"
            ),
            "The application panicked at src/x.rs:9"
        );
        assert_eq!(without_colours("plain: ok"), "plain: ok");
    }
}
