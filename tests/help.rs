//! `--help` of every command groups its flags under headings: the
//! command's own options first, then Connection, Stream and General (the
//! global flags), never one interleaved list. The commands are found in the
//! CLI definition, so a subcommand added later is held to the same rule.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use clap::CommandFactory;
use common::run_bin;
use streamlab::cli::Cli;

const GLOBAL_HEADINGS: [&str; 3] = ["Connection", "Stream", "General"];

/// Every command path (`""` is the dashboard) with its own flags.
fn commands() -> Vec<(String, Vec<String>)> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, Vec<String>)>) {
        let own = cmd
            .get_arguments()
            .filter(|a| !a.is_global_set() && !a.is_hide_set())
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .filter(|l| l != "--version")
            .collect();
        out.push((path.to_owned(), own));
        for sub in cmd.get_subcommands() {
            walk(sub, format!("{path} {}", sub.get_name()).trim(), out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), "", &mut out);
    out
}

/// The help text as headings in order, each with the flags listed under it.
fn sections(help: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in help.lines() {
        if let Some(heading) = line.strip_suffix(':').filter(|h| !h.starts_with(' ')) {
            out.push((heading.to_owned(), Vec::new()));
        } else if let (Some(flag), Some((_, flags))) = (flag_of(line), out.last_mut()) {
            flags.push(flag);
        }
    }
    out
}

/// `--name` of a flag line (`  -h, --help  Print help`, `      --url <URL>`).
fn flag_of(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    if !trimmed.starts_with('-') || line.len() == trimmed.len() {
        return None;
    }
    let long = trimmed.split_whitespace().find(|w| w.starts_with("--"))?;
    Some(long.trim_end_matches(',').to_owned())
}

#[tokio::test]
async fn every_help_groups_own_flags_first_then_connection_stream_general() {
    let all = commands();
    assert!(
        all.len() >= 9,
        "commands found: {:?}",
        all.iter().map(|c| &c.0).collect::<Vec<_>>()
    );
    for (path, own) in &all {
        let out = run_bin(&format!("{path} --help"), &[], Duration::from_secs(20)).await;
        assert!(out.success(), "{path} --help: {}", out.stderr);
        let sections = sections(&out.stdout);
        let names: Vec<&str> = sections.iter().map(|(h, _)| h.as_str()).collect();
        let with_flags: BTreeMap<&str, &Vec<String>> =
            sections.iter().map(|(h, f)| (h.as_str(), f)).collect();
        assert_eq!(
            with_flags.len(),
            sections.len(),
            "{path}: a heading repeats: {names:?}"
        );
        assert!(
            !names.contains(&"Options"),
            "{path}: flags under a bare Options: {names:?}"
        );
        // The global flags, under their headings, last and in this order.
        let globals: Vec<&str> = names
            .iter()
            .copied()
            .filter(|h| GLOBAL_HEADINGS.contains(h))
            .collect();
        assert_eq!(globals, GLOBAL_HEADINGS, "{path}: {names:?}");
        assert_eq!(
            names[names.len() - 3..],
            GLOBAL_HEADINGS,
            "{path}: {names:?}"
        );
        for (heading, flag) in [
            ("Connection", "--url"),
            ("Connection", "--password"),
            ("Stream", "--stream"),
            ("Stream", "--group"),
            ("General", "--log-file"),
            ("General", "--help"),
        ] {
            assert!(
                with_flags[heading].contains(&flag.to_owned()),
                "{path}: {flag} not under {heading}: {sections:?}"
            );
        }
        // The command's own flags, all under its one heading, listed first.
        if own.is_empty() {
            continue;
        }
        let name = path
            .rsplit(' ')
            .next()
            .filter(|n| !n.is_empty())
            .unwrap_or("dashboard");
        let expected = format!("{}{} options", name[..1].to_uppercase(), &name[1..]);
        assert_eq!(
            names.iter().find(|h| **h != "Commands"),
            Some(&expected.as_str()),
            "{path}: {names:?}"
        );
        let listed = with_flags[expected.as_str()];
        assert_eq!(listed, own, "{path}: own flags under {expected}");
    }
}

#[test]
fn flag_lines_are_told_from_descriptions() {
    assert_eq!(
        flag_of("  -h, --help  Print help").as_deref(),
        Some("--help")
    );
    assert_eq!(
        flag_of("      --url <URL>  Redis URL").as_deref(),
        Some("--url")
    );
    assert_eq!(
        flag_of("          Idle time (--min-idle) after which"),
        None
    );
    assert_eq!(flag_of("--not-indented"), None);
}
