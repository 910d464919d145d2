//! streamlab's entry point: install the report hooks, load `.env`, parse
//! flags, dispatch, and turn an expected failure into one redacted line and
//! an exit code, an unexpected one into a report.

use std::process::ExitCode;

use color_eyre::eyre::WrapErr as _;
use streamlab::cli::{Cli, Command};
use streamlab::failure::Failure;
use streamlab::{commands, logging, redis, report, tui};

/// mimalloc instead of glibc malloc: the RESP parser allocates every reply
/// element, and glibc's malloc/free were a fifth of the drain's client CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // First: a panic from here on gives the terminal back, then reports.
    report::install(tui::terminal::restore);
    if let Err(e) = load_env_file() {
        streamlab::stderr_line!("error: {e}");
        return ExitCode::from(2);
    }
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    report::set_log_file(cli.global.log_file.as_deref());
    redis::connect::install_crypto_provider();
    if let Err(e) = logging::init(cli.global.log_file.as_deref()) {
        // Expected: the path given is not writable (bad input).
        streamlab::stderr_line!(
            "error: {e:#}: give --log-file (STREAMLAB_LOG_FILE) a file in a directory you can write"
        );
        return ExitCode::from(2);
    }
    let runtime = match runtime(&cli) {
        Ok(rt) => rt,
        Err(unexpected) => {
            report::print(&unexpected);
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            match failure.report() {
                Some(unexpected) => report::print(unexpected),
                None => {
                    tracing::error!("{failure}");
                    streamlab::stderr_line!("error: {failure}");
                }
            }
            ExitCode::from(failure.exit_code())
        }
    }
}

/// The async runtime; failing to start it is unexpected (threads or file
/// descriptors refused by the system), so it is a report, not a line.
fn runtime(cli: &Cli) -> color_eyre::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(Command::Bench(bench)) = &cli.command {
        // A local Redis needs a core of its own: on 2 cores, one client
        // thread drained ~13% faster than two (scripts/bench.sh).
        builder.worker_threads(usize::try_from(bench.client_threads).unwrap_or(1));
    }
    builder
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")
}

async fn dispatch(cli: &Cli) -> Result<(), Failure> {
    let g = &cli.global;
    match &cli.command {
        None => tui::run(g, &cli.dashboard).await,
        Some(Command::Produce(a)) => commands::produce::run(g, a).await,
        Some(Command::Consume(a)) => commands::consume::run(g, a).await,
        Some(Command::Worker(a)) => commands::worker::run(g, a).await,
        Some(Command::Watch(a)) => tui::watch::run(g, a).await,
        Some(Command::Monitor(a)) => commands::monitor::run(g, a).await,
        Some(Command::Info(a)) => commands::info::run(g, a).await,
        Some(Command::Trim(a)) => commands::trim::run(g, a).await,
        Some(Command::Dlq(a)) => commands::dlq::run(g, a).await,
        Some(Command::Bench(a)) => commands::bench::run(g, a).await,
        Some(Command::Read(a)) => commands::read::run(g, a).await,
        Some(Command::Pending(a)) => commands::pending::run(g, a).await,
        Some(Command::Exporter(a)) => commands::exporter::run(g, a).await,
    }
}

/// Flags and environment, with a rejected value reported as one line
/// naming its flag or variable (exit 2); help, version and other usage
/// errors as clap prints them.
fn parse_cli() -> Result<Cli, ExitCode> {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    streamlab::cli::parse_from(&argv).map_err(|err| {
        match streamlab::usage::rejected_value_line(&err, &argv, &streamlab::cli::definition()) {
            Some(line) => {
                streamlab::stderr_line!("error: {line}");
                ExitCode::from(2)
            }
            None => err.exit(),
        }
    })
}

/// `.env` (or `--env-file PATH`) is read before flags are parsed, so clap
/// sees its variables as environment; real environment variables win.
fn load_env_file() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let explicit = args.iter().enumerate().find_map(|(i, a)| {
        a.strip_prefix("--env-file=")
            .map(str::to_owned)
            .or_else(|| {
                (a == "--env-file")
                    .then(|| args.get(i + 1).cloned())
                    .flatten()
            })
    });
    match explicit {
        Some(path) => dotenvy::from_path(&path).map_err(|e| {
            format!(
                "--env-file {path}: {}",
                describe_dotenv(&e, Some(path.as_ref()))
            )
        }),
        None => match dotenvy::dotenv() {
            Ok(_) => Ok(()),
            Err(e) if e.not_found() => Ok(()),
            Err(e) => {
                // dotenvy looks in the working directory and its parents.
                let found = std::env::current_dir().ok().and_then(|dir| {
                    dir.ancestors()
                        .map(|d| d.join(".env"))
                        .find(|p| p.is_file())
                });
                Err(format!(".env: {}", describe_dotenv(&e, found.as_deref())))
            }
        },
    }
}

fn describe_dotenv(e: &dotenvy::Error, path: Option<&std::path::Path>) -> String {
    match e {
        // Named by line number, never by content: the line may hold a secret.
        dotenvy::Error::LineParse(text, idx) => {
            let first = text.lines().next().unwrap_or_default();
            let number = path
                .and_then(|p| std::fs::read_to_string(p).ok())
                .and_then(|file| file.lines().position(|l| l == first))
                .map_or_else(String::new, |n| format!(" {}", n + 1));
            format!(
                "cannot parse line{number} (at character {}): write KEY=value lines (values with spaces in quotes)",
                idx + 1
            )
        }
        dotenvy::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}
