//! Writing to stdout from the commands that stream lines (worker events,
//! consume, monitor). `println!` panics once the reader has gone away
//! (`streamlab worker | head -1`: EPIPE, since Rust ignores SIGPIPE): a
//! partitioned worker's loop panicked with its batch unacked. Here a
//! closed stdout is remembered instead, and the commands stop as a process
//! killed by SIGPIPE would, without acknowledging or saving what they
//! could not report: a worker leaves its batch pending, consume does not
//! save the offset past lines nobody saw.

use std::io::{ErrorKind, Write as _};
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether a write found stdout closed by its reader.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Note the outcome of a write to stdout; false when it failed.
pub fn noted(result: std::io::Result<()>) -> bool {
    match result {
        Ok(()) => true,
        Err(e) => {
            if e.kind() == ErrorKind::BrokenPipe {
                CLOSED.store(true, Ordering::Relaxed);
            }
            false
        }
    }
}

/// Write `text` as it is and flush it; false if it could not be written.
pub fn print(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    noted(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

/// Write `text` and a newline; false if it could not be written.
pub fn line(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    noted(writeln!(out, "{text}"))
}

/// `eprintln!` that never panics: with stderr closed too (`2>&1 | head -1`)
/// `eprintln!` panicked on the last error line and the exit code became
/// 101; the line is lost instead and the exit code kept.
#[macro_export]
macro_rules! stderr_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` that never panics: a reader gone away (`| head -1`) is noted
/// (see [`closed`]) and the line dropped.
#[macro_export]
macro_rules! stdout_line {
    ($($arg:tt)*) => {{
        $crate::output::stdout::line(&format!($($arg)*));
    }};
}
