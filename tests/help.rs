//! `--help` of every command groups its flags under headings: the
//! command's own options first, then Connection, Stream and General (the
//! global flags), never one interleaved list; a global flag the command
//! ignores is not listed. The commands are found in the CLI definition, so
//! a subcommand added later is held to the same rule.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::run_bin;

const GLOBAL_HEADINGS: [&str; 3] = ["Connection", "Stream", "General"];

/// One command as the CLI defines it.
struct Defined {
    /// `""` is the dashboard.
    path: String,
    /// Its own flags, in order.
    own: Vec<String>,
    /// The global flags its help lists, with their headings.
    globals: Vec<(String, String)>,
    /// The global flags it accepts but ignores, so its help hides them.
    hidden: Vec<String>,
}

fn commands() -> Vec<Defined> {
    fn long(a: &clap::Arg) -> Option<String> {
        a.get_long().map(|l| format!("--{l}"))
    }
    fn walk(cmd: &clap::Command, path: &str, root: &clap::Command, out: &mut Vec<Defined>) {
        let own = cmd
            .get_arguments()
            .filter(|a| !a.is_global_set() && !a.is_hide_set())
            .filter_map(long)
            .filter(|l| l != "--version")
            .collect();
        // The root's global flags, or the subcommand's own copy of one.
        let mine = |a: &clap::Arg| {
            cmd.get_arguments()
                .find(|m| m.get_id() == a.get_id())
                .cloned()
        };
        let globals: Vec<clap::Arg> = root
            .get_arguments()
            .filter(|a| a.is_global_set())
            .map(|a| mine(a).unwrap_or_else(|| a.clone()))
            .collect();
        out.push(Defined {
            path: path.to_owned(),
            own,
            globals: globals
                .iter()
                .filter(|a| !a.is_hide_set())
                .filter_map(|a| Some((a.get_help_heading()?.to_owned(), long(a)?)))
                .collect(),
            hidden: globals
                .iter()
                .filter(|a| a.is_hide_set())
                .filter_map(long)
                .collect(),
        });
        for sub in cmd.get_subcommands() {
            let path = format!("{path} {}", sub.get_name());
            walk(sub, path.trim(), root, out);
        }
    }
    let root = streamlab::cli::definition();
    let mut out = Vec::new();
    walk(&root, "", &root, &mut out);
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
        all.iter().map(|c| &c.path).collect::<Vec<_>>()
    );
    // Nothing hidden by mistake: only `info`, `bench`, `read` and `exporter` ignore a flag.
    let hiding: Vec<(&str, &[String])> = all
        .iter()
        .filter(|c| !c.hidden.is_empty())
        .map(|c| (c.path.as_str(), c.hidden.as_slice()))
        .collect();
    assert_eq!(
        format!("{hiding:?}"),
        r#"[("info", ["--stream", "--group"]), ("bench", ["--group"]), ("read", ["--group"]), ("exporter", ["--stream", "--group"])]"#
    );
    for Defined {
        path,
        own,
        globals,
        hidden,
    } in &all
    {
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
        // The global flags, under their headings, last and in this order
        // (a heading whose every flag is ignored here is left out).
        let expected: Vec<&str> = GLOBAL_HEADINGS
            .into_iter()
            .filter(|h| globals.iter().any(|(g, _)| g == h))
            .collect();
        assert!(expected.contains(&"Connection") && expected.contains(&"General"));
        let shown: Vec<&str> = names
            .iter()
            .copied()
            .filter(|h| GLOBAL_HEADINGS.contains(h))
            .collect();
        assert_eq!(shown, expected, "{path}: {names:?}");
        assert_eq!(
            names[names.len() - expected.len()..],
            expected,
            "{path}: {names:?}"
        );
        for (heading, flag) in globals {
            assert!(
                with_flags[heading.as_str()].contains(flag),
                "{path}: {flag} not under {heading}: {sections:?}"
            );
        }
        for flag in hidden {
            assert!(
                !sections.iter().any(|(_, f)| f.contains(flag)),
                "{path}: {flag} is ignored here, yet listed: {sections:?}"
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

#[tokio::test]
async fn a_global_flag_hidden_from_a_help_is_still_accepted_there() {
    // Scripts that pass --stream and --group to every subcommand keep working.
    for line in [
        "info --stream s --group g --help",
        "--stream s --group g info --help",
        "bench --group g --help",
    ] {
        let out = run_bin(line, &[], Duration::from_secs(20)).await;
        assert!(out.success(), "{line}: {}", out.stderr);
    }
}
