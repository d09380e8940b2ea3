#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The import rules of the module layout, checked on the source text: command
//! files of the CLI never use each other (shared code lives in leaf modules),
//! the plug-in host and the script sandbox use nothing of `policy`, and SHA-256
//! is computed in one place.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The code of `path` without `//` comments, so prose may name anything.
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn cli_command_files_never_use_each_other() {
    let cli = root().join("cli");
    let commands: Vec<String> = std::fs::read_dir(&cli)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|s| s.ends_with("_cmd") || s == "demo")
        .collect();
    assert!(commands.len() > 10, "{commands:?}");
    for name in &commands {
        let text = code(&cli.join(format!("{name}.rs")));
        for other in commands.iter().filter(|o| *o != name) {
            for form in [format!("super::{other}"), format!("cli::{other}")] {
                assert!(
                    !text.contains(&form),
                    "src/cli/{name}.rs uses the command file {other}"
                );
            }
        }
    }
}

#[test]
fn plugin_and_script_use_nothing_of_policy() {
    for dir in ["plugin", "script"] {
        let mut files = rust_files(&root().join(dir));
        files.push(root().join(format!("{dir}.rs")));
        for f in files {
            let text = code(&f);
            assert!(
                !text.contains("crate::policy"),
                "{} uses crate::policy",
                f.display()
            );
        }
    }
}

#[test]
fn sha256_is_computed_by_the_digest_module() {
    // The event chain hashes its fields incrementally (store/chain.rs); every other
    // digest goes through `digest::sha256_hex`.
    let allowed = ["digest.rs", "store/chain.rs", "store/tests.rs"];
    for f in rust_files(&root()) {
        let rel = f
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if allowed.contains(&rel.as_str()) {
            continue;
        }
        assert!(!code(&f).contains("sha2::"), "src/{rel} uses sha2 directly");
    }
}
