//! Turns clap's rejection of a value into one `error: ` line that names
//! where the value came from: the flag, or the environment variable (also
//! set by `.env`) when the flag was not given. clap itself always names the
//! flag, which sends someone with `STREAMLAB_MIN_IDLE=1000` in a `.env`
//! looking for a flag they never typed.

use std::error::Error as _;
use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// The one line (without `error: `) for a rejected value, or `None` for
/// every other clap outcome (help, version, unknown flags...), which clap
/// prints itself.
pub fn rejected_value_line(
    err: &clap::Error,
    argv: &[OsString],
    cmd: &clap::Command,
) -> Option<String> {
    if !matches!(
        err.kind(),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue
    ) {
        return None;
    }
    let arg = context(err, ContextKind::InvalidArg)?;
    let value = context(err, ContextKind::InvalidValue).unwrap_or_default();
    let flag = arg.split_whitespace().next().unwrap_or(&arg).to_owned();
    let source = match flag.strip_prefix("--") {
        Some(long) if !given_on_command_line(argv, &flag) => env_of(cmd, long).map_or_else(
            || flag.clone(),
            |var| format!("{var} (from the environment or .env)"),
        ),
        _ => flag,
    };
    let reason = err
        .source()
        .map(ToString::to_string)
        .or_else(|| valid_values(err))
        .unwrap_or_else(|| "not accepted".to_owned());
    Some(format!("invalid value '{value}' for {source}: {reason}"))
}

fn context(err: &clap::Error, kind: ContextKind) -> Option<String> {
    match err.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn valid_values(err: &clap::Error) -> Option<String> {
    match err.get(ContextKind::ValidValue)? {
        ContextValue::Strings(values) => Some(format!("use one of {}", values.join(", "))),
        _ => None,
    }
}

fn given_on_command_line(argv: &[OsString], flag: &str) -> bool {
    let with_value = format!("{flag}=");
    argv.iter()
        .filter_map(|a| a.to_str())
        .any(|a| a == flag || a.starts_with(&with_value))
}

/// The environment variable behind `--long`, in this command or any
/// subcommand (a flag shared by several reads the same variable).
fn env_of(cmd: &clap::Command, long: &str) -> Option<String> {
    let here = cmd
        .get_arguments()
        .filter(|a| a.get_long() == Some(long))
        .find_map(|a| a.get_env().map(|e| e.to_string_lossy().into_owned()));
    here.or_else(|| cmd.get_subcommands().find_map(|sub| env_of(sub, long)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::{CommandFactory, Parser};

    fn line(args: &[&str]) -> String {
        let argv: Vec<OsString> = args.iter().map(OsString::from).collect();
        let err = Cli::try_parse_from(&argv).unwrap_err();
        rejected_value_line(&err, &argv, &Cli::command()).unwrap()
    }

    #[test]
    fn a_flag_value_names_the_flag() {
        let l = line(&["streamlab", "worker", "--min-idle", "1000"]);
        assert_eq!(
            l,
            "invalid value '1000' for --min-idle: '1000' has no unit: write 1000ms (= 1s) for milliseconds or 1000s for seconds"
        );
        let l = line(&["streamlab", "worker", "--min-idle=7"]);
        assert!(l.starts_with("invalid value '7' for --min-idle:"), "{l}");
    }

    #[test]
    fn value_enums_list_what_is_accepted() {
        let l = line(&["streamlab", "worker", "--events", "xml"]);
        assert!(l.contains("--events") && l.contains("json"), "{l}");
    }

    #[test]
    fn environment_variables_are_found_in_subcommands() {
        let cmd = Cli::command();
        assert_eq!(
            env_of(&cmd, "min-idle").as_deref(),
            Some("STREAMLAB_MIN_IDLE")
        );
        assert_eq!(env_of(&cmd, "count").as_deref(), Some("STREAMLAB_COUNT"));
        assert_eq!(env_of(&cmd, "json"), None);
    }

    #[test]
    fn other_errors_are_left_to_clap() {
        let argv: Vec<OsString> = ["streamlab", "--no-such-flag"]
            .iter()
            .map(OsString::from)
            .collect();
        let err = Cli::try_parse_from(&argv).unwrap_err();
        assert_eq!(rejected_value_line(&err, &argv, &Cli::command()), None);
    }
}
