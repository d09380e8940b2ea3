//! Reading a policy from files: every `*.toml` of its directory (or one file), then
//! the chain of `extends`, then building and checking the model. All problems are
//! returned together; nothing here panics on any input.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Loc, SourceMap};

use super::build::{self, FileRef};
use super::files::{Files, normalize};
use super::merge;
use super::model::Policy;
use super::raw::{self, Table, Val};
use super::reader::{Ctx, SpanIndex};

pub struct Loaded {
    pub policy: Policy,
    pub sources: SourceMap,
    pub spans: SpanIndex,
    pub warnings: Vec<Diagnostic>,
    /// The policy directories read, the requested one first.
    pub chain: Vec<PathBuf>,
    /// Plug-in module bytes by plug-in id, already checked against their pins.
    pub wasm: Vec<(String, Vec<u8>)>,
}

pub struct LoadFailure {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

/// Longest `extends` chain: deeper is surely a mistake, and would exhaust the stack.
pub const MAX_EXTENDS_DEPTH: usize = 32;

/// Environment variable naming the directory every path a policy names must stay
/// in; without it, the directory that holds the policy's own directory (so that
/// sibling policies can extend each other).
pub const ROOT_VAR: &str = "STEWARD_POLICY_ROOT";

/// Where the files a policy names may be: inside `root` (an identity as
/// [`Files::identity`] gives it), and named like what they are.
struct Confine {
    root: PathBuf,
    shown: PathBuf,
}

impl Confine {
    fn new(files: &dyn Files, path: &Path, root: Option<&Path>) -> Confine {
        let configured = root
            .map(|r| r.as_os_str().to_owned())
            .or_else(|| std::env::var_os(ROOT_VAR).filter(|v| !v.is_empty()));
        if let Some(r) = configured {
            let shown = PathBuf::from(r);
            let probe = if shown.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                shown.clone()
            };
            return Confine {
                root: files.identity(&probe),
                shown,
            };
        }
        let dir = if files.is_dir(path) {
            path.to_path_buf()
        } else {
            path.parent().unwrap_or(Path::new("")).to_path_buf()
        };
        let dir = normalize(&dir);
        let probe = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir.clone()
        };
        // From the resolved directory, so `.` (a policy checked from inside its
        // own directory) still lets it extend its siblings.
        let id = files.identity(&probe);
        let root = id
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| id.clone());
        let shown = match dir.parent() {
            Some(p) if dir.file_name().is_some() => p.to_path_buf(),
            _ => root.clone(),
        };
        Confine { root, shown }
    }

    /// An error message when `path` leaves the root.
    fn check(&self, files: &dyn Files, path: &Path) -> Option<String> {
        let id = files.identity(path);
        let escapes = id
            .components()
            .any(|c| c == std::path::Component::ParentDir);
        let root = if self.root == Path::new(".") {
            Path::new("")
        } else {
            self.root.as_path()
        };
        if !escapes && id.starts_with(root) {
            return None;
        }
        let shown = if self.shown.as_os_str().is_empty() {
            ".".to_string()
        } else {
            self.shown.display().to_string()
        };
        Some(format!(
            "`{}` is outside the policy tree `{shown}`",
            path.display()
        ))
    }
}

fn confine_help() -> String {
    format!(
        "a policy may only name files under the directory that holds it and its sibling policies; set {ROOT_VAR} to allow another root"
    )
}

pub fn load(files: &dyn Files, path: &Path) -> Result<Loaded, LoadFailure> {
    load_within(files, path, None)
}

/// [`load`] with every file the policy names confined to `root` (else to
/// `$STEWARD_POLICY_ROOT`, else to the directory holding the policy's directory).
pub fn load_within(
    files: &dyn Files,
    path: &Path,
    root: Option<&Path>,
) -> Result<Loaded, LoadFailure> {
    let mut sources = SourceMap::default();
    let mut ctx = Ctx {
        hints: Vec::new(),
        diags: Vec::new(),
        spans: SpanIndex::default(),
    };
    let mut chain = Vec::new();
    let confine = Confine::new(files, path, root);
    let tree = load_tree(
        files,
        &confine,
        path,
        &mut sources,
        &mut ctx,
        &mut chain,
        &mut Vec::new(),
        None,
    );
    let Some((table, loc)) = tree else {
        return Err(LoadFailure {
            sources,
            diagnostics: ctx.diags,
        });
    };
    let built = build::build(&table, loc, &sources, &mut ctx);
    super::overlay_hints::apply(&ctx.hints, &mut ctx.diags);
    let mut policy = built.policy;
    let wasm = attach_files(
        files,
        &confine,
        &built.file_refs,
        &mut policy,
        &mut sources,
        &mut ctx,
    );
    super::check::check(&policy, &mut ctx);
    super::event_check::check(&policy, &mut ctx);
    super::literal_check::check(&policy, &sources, &mut ctx);
    check_plugins(&policy, &wasm, &built.file_refs, &mut ctx);
    let (errors, warnings): (Vec<_>, Vec<_>) = ctx
        .diags
        .into_iter()
        .partition(|d| d.severity == crate::diagnostic::Severity::Error);
    if errors.is_empty() {
        Ok(Loaded {
            policy,
            sources,
            spans: ctx.spans,
            warnings,
            chain,
            wasm,
        })
    } else {
        let mut diagnostics = errors;
        diagnostics.extend(warnings);
        Err(LoadFailure {
            sources,
            diagnostics,
        })
    }
}

/// The merged tree of the policy at `path` with its ancestors overlaid beneath it.
#[allow(clippy::too_many_arguments)]
fn load_tree(
    files: &dyn Files,
    confine: &Confine,
    path: &Path,
    sources: &mut SourceMap,
    ctx: &mut Ctx,
    chain: &mut Vec<PathBuf>,
    // (identity, path as resolved from `extends`): the identity detects a cycle,
    // the path names it, so the message does not depend on where the repo lives.
    stack: &mut Vec<(PathBuf, PathBuf)>,
    from: Option<Loc>,
) -> Option<(Table, Loc)> {
    let identity = files.identity(path);
    if stack.iter().any(|(id, _)| *id == identity) {
        let cycle: Vec<String> = stack
            .iter()
            .map(|(_, p)| p.as_path())
            .chain([path])
            .map(|p| p.display().to_string())
            .collect();
        ctx.push(
            Diagnostic::error(from, format!("cyclic `extends`: {}", cycle.join(" → ")))
                .with_help("a policy may not extend itself, directly or through others"),
        );
        return None;
    }
    if stack.len() >= MAX_EXTENDS_DEPTH {
        ctx.push(
            Diagnostic::error(
                from,
                format!("`extends` chain deeper than {MAX_EXTENDS_DEPTH} policies"),
            )
            .with_help("a policy extends a base, which may extend another; not this many"),
        );
        return None;
    }
    if from.is_some() {
        // The requested policy is the user's choice; what it extends is the policy's.
        if !files.exists(path) {
            ctx.error(from, format!("policy `{}` not found", path.display()));
            return None;
        }
        if let Some(message) = confine.check(files, path) {
            ctx.push(Diagnostic::error(from, message).with_help(confine_help()));
            return None;
        }
        if !files.is_dir(path) && path.extension().is_none_or(|e| e != "toml") {
            ctx.push(
                Diagnostic::error(
                    from,
                    format!(
                        "`extends` names `{}`, which is not a policy",
                        path.display()
                    ),
                )
                .with_help("name a policy directory or a `.toml` policy file"),
            );
            return None;
        }
    }
    let paths = if files.is_dir(path) {
        match files.toml_files(path) {
            Ok(p) if p.is_empty() => {
                ctx.error(
                    from,
                    format!("no policy files (*.toml) in `{}`", path.display()),
                );
                return None;
            }
            Ok(p) => p,
            Err(err) => {
                ctx.error(
                    from,
                    format!("cannot read policy directory `{}`: {err}", path.display()),
                );
                return None;
            }
        }
    } else if files.exists(path) {
        vec![path.to_path_buf()]
    } else {
        ctx.error(from, format!("policy `{}` not found", path.display()));
        return None;
    };
    chain.push(path.to_path_buf());
    let mut parts = Vec::new();
    let mut first_loc = None;
    for p in &paths {
        let text = match files.read(p) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => {
                    ctx.error(from, format!("`{}` is not UTF-8 text", p.display()));
                    continue;
                }
            },
            Err(err) => {
                ctx.error(from, format!("cannot read `{}`: {err}", p.display()));
                continue;
            }
        };
        let file = sources.add(p, text);
        match raw::parse(file, sources.text(file)) {
            Ok((table, loc)) => {
                first_loc.get_or_insert(loc);
                parts.push(table);
            }
            Err(d) => ctx.push(d),
        }
    }
    let first_loc = first_loc?;
    let mut table = merge::merge_files(parts, &mut ctx.diags);
    let Some((parent_path, extends_loc)) = take_extends(&mut table, sources, ctx) else {
        return Some((table, first_loc));
    };
    stack.push((identity, path.to_path_buf()));
    let parent = load_tree(
        files,
        confine,
        &parent_path,
        sources,
        ctx,
        chain,
        stack,
        Some(extends_loc),
    );
    stack.pop();
    let (parent, _) = parent?;
    let hints = super::overlay_hints::find(&parent, &table);
    ctx.hints.extend(hints);
    Some((merge::overlay(parent, table, &mut ctx.diags), first_loc))
}

/// Remove `policy.extends` and resolve it relative to the file that wrote it.
fn take_extends(table: &mut Table, sources: &SourceMap, ctx: &mut Ctx) -> Option<(PathBuf, Loc)> {
    let policy = table.get_mut("policy")?;
    let Val::Table(pt) = &mut policy.node.val else {
        return None;
    };
    let entry = pt.remove("extends")?;
    match entry.node.val {
        Val::Str(rel) => {
            let dir = sources
                .path(entry.node.loc.file)
                .parent()
                .unwrap_or(Path::new(""));
            Some((normalize(&dir.join(rel)), entry.node.loc))
        }
        other => {
            ctx.error(
                entry.node.loc,
                format!(
                    "`extends` must be a path string, found {}",
                    other.type_name()
                ),
            );
            None
        }
    }
}

/// Read hook scripts into the policy (their text is part of the fingerprint) and
/// check plug-in modules against their pinned digests.
fn attach_files(
    files: &dyn Files,
    confine: &Confine,
    refs: &[FileRef],
    policy: &mut Policy,
    sources: &mut SourceMap,
    ctx: &mut Ctx,
) -> Vec<(String, Vec<u8>)> {
    let mut wasm = Vec::new();
    for r in refs {
        let dir = sources
            .path(r.loc.file)
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let full = normalize(&dir.join(&r.path));
        if !files.exists(&full) {
            ctx.push(
                Diagnostic::error(r.loc, format!("{} file `{}` not found", r.section, r.path))
                    .with_help(format!("looked for `{}`", full.display())),
            );
            continue;
        }
        if let Some(message) = confine.check(files, &full) {
            ctx.push(Diagnostic::error(r.loc, message).with_help(confine_help()));
            continue;
        }
        let wanted: &[&str] = match r.section {
            "hook" => &["rhai"],
            "calendar" => &["ics"],
            _ => &["wasm", "wat"],
        };
        if full
            .extension()
            .and_then(|e| e.to_str())
            .is_none_or(|e| !wanted.contains(&e))
        {
            // Never read, so never echoed: only files named as scripts or modules.
            ctx.push(
                Diagnostic::error(
                    r.loc,
                    format!(
                        "{} file `{}` must end in .{}",
                        r.section,
                        r.path,
                        wanted.join(" or .")
                    ),
                )
                .with_help(match r.section {
                    "hook" => "hook scripts are rhai files (`.rhai`)",
                    "calendar" => "holiday feeds are iCalendar files (`.ics`)",
                    _ => "plug-ins are WebAssembly modules (`.wasm`, or `.wat` text)",
                }),
            );
            continue;
        }
        let bytes = match files.read(&full) {
            Ok(b) => b,
            Err(err) => {
                ctx.push(
                    Diagnostic::error(
                        r.loc,
                        format!("cannot read {} file `{}`: {err}", r.section, r.path),
                    )
                    .with_help(format!("looked for `{}`", full.display())),
                );
                continue;
            }
        };
        match r.section {
            "hook" => match String::from_utf8(bytes) {
                Ok(text) => {
                    if let Some(h) = policy.hooks.get_mut(&r.id) {
                        h.source = text.clone();
                        let file = sources.add(&full, text);
                        check_hook(&r.id, h, file, sources, ctx);
                    }
                }
                Err(_) => ctx.error(r.loc, format!("script `{}` is not UTF-8 text", r.path)),
            },
            "calendar" => {
                let text = String::from_utf8(bytes).unwrap_or_default();
                if let Some(cal) = policy.calendars.get_mut(&r.id) {
                    super::calendar_data::attach_ics(cal, &r.path, &text, r.loc, ctx);
                }
            }
            _ => {
                let digest = crate::digest::sha256_hex(&bytes);
                if let Some(p) = policy.plugins.get(&r.id) {
                    if digest != p.sha256 {
                        ctx.push(
                            Diagnostic::error(
                                r.loc,
                                format!("plug-in `{}` does not match its pinned sha256", r.id),
                            )
                            .with_help(format!(
                                "the file's sha256 is {digest}; the policy pins {}",
                                p.sha256
                            )),
                        );
                    } else {
                        wasm.push((r.id.clone(), bytes));
                    }
                }
            }
        }
    }
    wasm
}

/// Compile each pinned plug-in and check its interface and config: the plug-in
/// host's own check (`crate::plugin::check`), reported at the plug-in's `wasm` key.
fn check_plugins(policy: &Policy, wasm: &[(String, Vec<u8>)], refs: &[FileRef], ctx: &mut Ctx) {
    for err in crate::plugin::check::check_plugins(&policy.plugin_owner(), wasm) {
        let loc = refs
            .iter()
            .find(|r| r.section == "plugin" && r.id == err.plugin)
            .map(|r| r.loc);
        let help = match err.kind {
            crate::plugin::PluginErrorKind::WrongInterface => format!(
                "plug-ins must implement steward plug-in ABI {}; see plugins/README.md",
                crate::plugin::ABI_VERSION
            ),
            _ => "see plugins/README.md".to_string(),
        };
        ctx.push(Diagnostic::error(loc, err.to_string()).with_help(help));
    }
}

/// Compile a hook script now so `policy check` reports its errors in the script
/// file itself, at line and column.
fn check_hook(
    id: &str,
    hook: &super::model::Hook,
    file: crate::diagnostic::FileId,
    sources: &SourceMap,
    ctx: &mut Ctx,
) {
    use crate::script::hook_script::{CompiledHook, HookError};
    if hook.on == super::model::HookPoint::Events {
        // Already reported: `events` is a plug-in hook point.
        return;
    }
    match CompiledHook::compile(id, hook) {
        Ok(_) => {}
        Err(HookError::Compile {
            line,
            column,
            message,
            ..
        }) => {
            let offset = offset_of(sources.text(file), line, column);
            ctx.push(Diagnostic::error(
                Loc {
                    file,
                    start: offset,
                    end: offset + 1,
                },
                format!("invalid hook script: {message}"),
            ));
        }
        Err(e) => {
            let len = sources.text(file).len().min(1);
            ctx.push(Diagnostic::error(
                Loc {
                    file,
                    start: 0,
                    end: len,
                },
                e.to_string(),
            ));
        }
    }
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = text.get(start..).unwrap_or("");
    start
        + rest
            .chars()
            .take(column.saturating_sub(1))
            .map(char::len_utf8)
            .sum::<usize>()
}
