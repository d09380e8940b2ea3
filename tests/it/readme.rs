#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! README.md's command examples, run: every fenced block with `$ steward ...` lines
//! is played in order in a fresh directory (the repository's `policies/` linked in),
//! and every line the README shows under a command must appear, in that order, in
//! what the command printed (stdout, then stderr): the README may leave lines out
//! (`…` marks where), never show one steward does not print. A line ending in `…`
//! matches any line starting so. A `# comment` after two spaces on a command line
//! is not part of it. Just before a block, `<!-- readme: run steward ARGS -->`
//! prepares its directory (the output is not checked) and `<!-- readme: skip WHY -->`
//! leaves a block out, saying why.

use std::path::Path;
use std::process::Command;

struct Block {
    setup: Vec<String>,
    examples: Vec<Example>,
}

struct Example {
    line: usize,
    command: String,
    expected: Vec<String>,
}

/// The blocks of `text`, each a list of examples.
fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Vec<Example>> = None;
    let mut setup = Vec::new();
    let mut skip = false;
    for (i, line) in text.lines().enumerate() {
        if let Some(m) = line
            .strip_prefix("<!-- readme: ")
            .and_then(|m| m.strip_suffix(" -->"))
        {
            if let Some(args) = m.strip_prefix("run steward ") {
                setup.push(args.to_string());
            } else if m.starts_with("skip ") {
                skip = true;
            } else {
                panic!("README.md:{}: unknown marker `{m}`", i + 1);
            }
            continue;
        }
        if line.starts_with("```") {
            match current.take() {
                Some(examples) => {
                    if !examples.is_empty() && !skip {
                        out.push(Block {
                            setup: std::mem::take(&mut setup),
                            examples,
                        });
                    }
                    setup.clear();
                    skip = false;
                }
                None => current = Some(Vec::new()),
            }
            continue;
        }
        let Some(block) = current.as_mut() else {
            continue;
        };
        if let Some(cmd) = line.strip_prefix("$ steward ") {
            let cmd = match cmd.find("  #") {
                Some(at) => cmd[..at].trim_end(),
                None => cmd,
            };
            block.push(Example {
                line: i + 1,
                command: cmd.to_string(),
                expected: Vec::new(),
            });
        } else if let Some(ex) = block.last_mut() {
            ex.expected.push(line.to_string());
        }
    }
    out
}

/// Words of a shell command line: spaces split, '...' and "..." quote.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (None, ' ') => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether every line of `want` (but `…` lines) appears in `got`, in order.
fn matches(want: &[String], got: &[&str]) -> bool {
    let mut got = got.iter();
    want.iter()
        .filter(|w| w.trim() != "…" && !w.trim().is_empty())
        .all(|w| {
            got.any(|g| match w.trim_end().strip_suffix('…') {
                Some(prefix) => g.starts_with(prefix),
                None => g.trim_end() == w.trim_end(),
            })
        })
}

/// Run steward in `dir`; stdout and stderr share one pipe, so the text comes in
/// the order a terminal shows it. Returns whether it exited 0 or 1, and the text.
fn steward(dir: &Path, args: &[String]) -> (bool, String) {
    // A server runs until stopped: an example of one would hang this test, so a block
    // showing `steward serve` must be marked `<!-- readme: skip ... -->`.
    if args.iter().any(|a| a == "serve") {
        return (
            false,
            "(not run: `steward serve` does not exit; mark the block skip)".into(),
        );
    }
    let (mut reader, writer) = std::io::pipe().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_steward"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("STEWARD_DB")
        .env_remove("STEWARD_PLUGIN_STATS")
        .env("NO_COLOR", "1")
        .stdout(writer.try_clone().unwrap())
        .stderr(writer);
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut reader, &mut text).unwrap();
    let ok = child.wait().unwrap().success();
    (ok, text)
}

#[test]
fn readme_examples_print_what_the_readme_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = blocks(&text);
    assert!(!blocks.is_empty(), "README.md has command examples");
    let mut failures = Vec::new();
    let mut ran = 0;
    for block in &blocks {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(root.join("policies"), dir.path().join("policies")).unwrap();
        for args in &block.setup {
            let (ok, text) = steward(dir.path(), &words(args));
            assert!(ok, "README setup `steward {args}` failed: {text}");
        }
        for ex in &block.examples {
            let (_, got) = steward(dir.path(), &words(&ex.command));
            ran += 1;
            let got_lines: Vec<&str> = got.lines().collect();
            let mut want = ex.expected.clone();
            while want.last().is_some_and(|l| l.trim().is_empty()) {
                want.pop();
            }
            let mut got_trimmed = got_lines.clone();
            while got_trimmed.last().is_some_and(|l| l.trim().is_empty()) {
                got_trimmed.pop();
            }
            if !matches(&want, &got_trimmed) {
                failures.push(format!(
                    "README.md:{}: $ steward {}\n--- the README shows:\n{}\n--- steward printed:\n{}",
                    ex.line,
                    ex.command,
                    want.join("\n"),
                    got_trimmed.join("\n")
                ));
            }
        }
    }
    assert!(ran > 10, "only {ran} examples found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn wildcards_match_as_documented() {
    let want: Vec<String> = ["a", "  …", "d…"].iter().map(|s| s.to_string()).collect();
    assert!(matches(&want, &["a", "b", "c", "done"]));
    assert!(matches(&want, &["x", "a", "d"]));
    assert!(!matches(&want, &["a", "b"]));
    assert!(!matches(&want, &["d", "a"]));
    assert_eq!(
        words(r#"ticket open --text "多户 业主" --json '{"a":1}'"#),
        [
            "ticket",
            "open",
            "--text",
            "多户 业主",
            "--json",
            r#"{"a":1}"#
        ]
    );
}
