//! Logging to a file (never the screen), with every line passed through
//! the secret redactor before it is written.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use color_eyre::eyre::WrapErr as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::redis::secrets::redact;

#[derive(Clone)]
struct RedactingFile(Arc<Mutex<File>>);

impl Write for RedactingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = redact(&String::from_utf8_lossy(buf));
        let mut f = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f.write_all(text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .flush()
    }
}

impl<'a> MakeWriter<'a> for RedactingFile {
    type Writer = RedactingFile;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Send logs to `path` (appending). `STREAMLAB_LOG` sets the filter
/// (default `info`). Without a path nothing is logged.
pub fn init(path: Option<&Path>) -> color_eyre::Result<()> {
    let Some(path) = path else { return Ok(()) };
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .wrap_err_with(|| format!("cannot open the log file {}", path.display()))?;
    let filter =
        EnvFilter::try_from_env("STREAMLAB_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(RedactingFile(Arc::new(Mutex::new(file))))
        .try_init();
    Ok(())
}
