//! The modules of `src/` import one way (docs/ARCHITECTURE.md, "Layout"):
//! this test reads every source file and fails on an import that goes
//! sideways or up, naming the file and the module it reached for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Helpers that import nothing of the crate and may be used anywhere.
const LEAVES: [&str; 2] = ["duration", "words"];

/// What each module may import besides itself and the leaves.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("redis", &[][..]),
        ("engine", &["redis"][..]),
        ("monitor", &["redis", "engine"][..]),
        ("supervisor", &["redis", "engine", "monitor"][..]),
        ("bench", &["redis", "engine"][..]),
        ("output", &["redis", "engine", "monitor"][..]),
        ("exporter", &["redis", "monitor"][..]),
        ("cli", &["redis"][..]),
        ("usage", &["cli"][..]),
        ("failure", &["redis"][..]),
        ("logging", &["redis"][..]),
        ("report", &["redis"][..]),
        (
            "setup",
            &["redis", "engine", "output", "cli", "failure"][..],
        ),
        (
            "commands",
            &[
                "redis", "engine", "monitor", "output", "setup", "bench", "cli", "failure",
                "exporter",
            ][..],
        ),
        (
            "tui",
            &[
                "redis",
                "engine",
                "monitor",
                "output",
                "setup",
                "supervisor",
                "cli",
                "failure",
            ][..],
        ),
    ])
}

/// The module a `crate::name` path reaches (the printing macros live in
/// `output`).
fn module_of(name: &str) -> &str {
    match name {
        "stderr_line" | "stdout_line" => "output",
        other => other,
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::x` names used on the file's code lines (comments skipped).
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

#[test]
fn modules_import_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let allowed = allowed();
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap_or(file);
        let first = relative
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy());
        let Some(first) = first else { continue };
        let module = first.trim_end_matches(".rs").to_owned();
        let Some(may) = allowed.get(module.as_str()) else {
            // main.rs, lib.rs and the leaves are not layered.
            assert!(
                ["main", "lib"].contains(&module.as_str()) || LEAVES.contains(&module.as_str()),
                "{}: module '{module}' has no place in the layering; add it to tests/layers.rs and docs/ARCHITECTURE.md",
                relative.display()
            );
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read a source file");
        for name in imports(&text) {
            let target = module_of(&name);
            if target == module || LEAVES.contains(&target) || may.contains(&target) {
                continue;
            }
            wrong.push(format!("{} imports crate::{name}", relative.display()));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layering:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn leaves_import_nothing_of_the_crate() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for leaf in LEAVES {
        let text = std::fs::read_to_string(src.join(format!("{leaf}.rs"))).expect("read a leaf");
        assert_eq!(
            imports(&text),
            BTreeSet::new(),
            "{leaf}.rs imports the crate"
        );
    }
}
