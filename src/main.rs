//! streamlab's entry point: load `.env`, parse flags, dispatch, and turn
//! any failure into one redacted line and an exit code.

use std::process::ExitCode;

use clap::Parser;
use streamlab::cli::{Cli, Command};
use streamlab::failure::Failure;
use streamlab::{commands, logging, redis, tui};

fn main() -> ExitCode {
    if let Err(e) = load_env_file() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    redis::connect::install_crypto_provider();
    if let Err(e) = logging::init(cli.global.log_file.as_deref()) {
        eprintln!("error: cannot open the log file: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            tracing::error!("{failure}");
            eprintln!("error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}

async fn dispatch(cli: &Cli) -> Result<(), Failure> {
    let g = &cli.global;
    match &cli.command {
        None => tui::run(g, &cli.dashboard).await,
        Some(Command::Produce(a)) => commands::produce::run(g, a).await,
        Some(Command::Consume(a)) => commands::consume::run(g, a).await,
        Some(Command::Worker(a)) => commands::worker::run(g, a).await,
        Some(Command::Monitor(a)) => commands::monitor::run(g, a).await,
        Some(Command::Trim(a)) => commands::trim::run(g, a).await,
        Some(Command::Dlq(a)) => commands::dlq::run(g, a).await,
        Some(Command::Bench(a)) => commands::bench::run(g, a).await,
    }
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
        Some(path) => dotenvy::from_path(&path)
            .map_err(|e| format!("--env-file {path}: {}", describe_dotenv(&e))),
        None => match dotenvy::dotenv() {
            Ok(_) => Ok(()),
            Err(e) if e.not_found() => Ok(()),
            Err(e) => Err(format!(".env: {}", describe_dotenv(&e))),
        },
    }
}

fn describe_dotenv(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(_, idx) => format!(
            "cannot parse the line at byte {idx}: write KEY=value lines (values with spaces in quotes)"
        ),
        dotenvy::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}
