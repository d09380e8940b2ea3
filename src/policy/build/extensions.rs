//! The sections that extend a policy with code: rhai `[[hook]]`s and WASM
//! `[[plugin]]`s, their sandbox limits (capped at the host's ceilings) and the
//! files they name, which the loader reads.

use super::*;

impl Builder<'_> {
    fn hook_point(&mut self, r: &Reader) -> Option<HookPoint> {
        let (on, loc) = r.req_str(self.ctx, "on", "\"classify\"")?;
        HookPoint::parse(&on).or_else(|| {
            self.ctx.push(
                Diagnostic::error(loc, format!("unknown hook point `{on}`"))
                    .with_help(format!("expected one of: {}", HookPoint::ALL.join(", "))),
            );
            None
        })
    }

    pub(super) fn hooks(&mut self, top: &Reader) -> BTreeMap<String, Hook> {
        const KEYS: &[&str] = &["id", "on", "script", "limits", "fallback", "rules"];
        let mut out = BTreeMap::new();
        for (id, r) in self.rules(top, "hook", KEYS) {
            let on = self.hook_point(&r);
            let script = r.req_str(self.ctx, "script", "\"scripts/classify.rhai\"");
            let mut limits = ScriptLimits::default();
            if let Some((lt, lloc)) = r.table(self.ctx, "limits") {
                let lr = Reader::new(
                    lt,
                    lloc,
                    format!("limits of hook `{id}`"),
                    format!("hook.{id}.limits"),
                    &["operations", "call_depth", "string_size", "array_size"],
                );
                lr.check_keys(self.ctx);
                use crate::script::sandbox as sb;
                if let Some(n) = self.capped_int(&lr, "operations", sb::MAX_OPERATIONS) {
                    limits.operations = n;
                }
                if let Some(n) = self.capped_int(&lr, "call_depth", sb::MAX_CALL_DEPTH as u64) {
                    limits.call_depth = n as usize;
                }
                if let Some(n) = self.capped_int(&lr, "string_size", sb::MAX_STRING_SIZE as u64) {
                    limits.string_size = n as usize;
                }
                if let Some(n) = self.capped_int(&lr, "array_size", sb::MAX_ARRAY_SIZE as u64) {
                    limits.array_size = n as usize;
                }
            }
            if let (Some(on), Some((path, loc))) = (on, script) {
                self.file_refs.push(FileRef {
                    section: "hook",
                    id: id.clone(),
                    path: path.clone(),
                    loc,
                });
                let hook = Hook {
                    on,
                    script: path,
                    source: String::new(),
                    limits,
                    fallback: r.opt_str(self.ctx, "fallback").map(|v| v.0),
                    rules: self.rule_ids(&r),
                };
                out.insert(id, hook);
            }
        }
        out
    }

    /// A limit a policy sets: a positive integer no higher than the host's ceiling.
    fn capped_int(&mut self, r: &Reader, key: &str, ceiling: u64) -> Option<u64> {
        let (n, loc) = r.opt_int(self.ctx, key)?;
        match u64::try_from(n) {
            Ok(v) if (1..=ceiling).contains(&v) => Some(v),
            _ => {
                self.ctx.push(
                    Diagnostic::error(loc, format!("`{key}` = {n} in {} is out of range", r.what))
                        .with_help(format!(
                            "use a value from 1 to {ceiling} (the host ceiling)"
                        )),
                );
                None
            }
        }
    }

    pub(super) fn plugins(&mut self, top: &Reader) -> BTreeMap<String, Plugin> {
        const KEYS: &[&str] = &[
            "id", "on", "wasm", "sha256", "limits", "fallback", "config", "rules",
        ];
        let mut out = BTreeMap::new();
        for (id, r) in self.rules(top, "plugin", KEYS) {
            let on = self.hook_point(&r);
            let wasm = r.req_str(self.ctx, "wasm", "\"plugins/x/x.wasm\"");
            let sha = r.req_str(self.ctx, "sha256", "\"<64 hex digits>\"");
            if let Some((s, loc)) = &sha
                && (s.len() != 64 || !s.chars().all(|c| c.is_ascii_hexdigit()))
            {
                self.ctx.push(Diagnostic::error(
                    *loc,
                    "`sha256` must be 64 hexadecimal digits",
                ));
            }
            let (mut fuel, mut memory_bytes) = (10_000_000u64, 16u64 << 20);
            if let Some((lt, lloc)) = r.table(self.ctx, "limits") {
                let lr = Reader::new(
                    lt,
                    lloc,
                    format!("limits of plug-in `{id}`"),
                    format!("plugin.{id}.limits"),
                    &["fuel", "memory"],
                );
                lr.check_keys(self.ctx);
                if let Some(n) = self.capped_int(&lr, "fuel", crate::plugin::MAX_FUEL) {
                    fuel = n;
                }
                if let Some((m, loc)) = lr.opt_str(self.ctx, "memory") {
                    match parse_bytes(&m) {
                        Some(b) if b > crate::plugin::MAX_MEMORY => self.ctx.push(
                            Diagnostic::error(
                                loc,
                                format!("`memory` = \"{m}\" exceeds the host ceiling"),
                            )
                            .with_help(format!("at most {} MiB", crate::plugin::MAX_MEMORY >> 20)),
                        ),
                        Some(b) => memory_bytes = b,
                        None => self.ctx.push(
                            Diagnostic::error(loc, format!("bad memory size `{m}`"))
                                .with_help("e.g. \"16MiB\" or \"512KiB\""),
                        ),
                    }
                }
            }
            let config = match r.table(self.ctx, "config") {
                Some((ct, _)) => ct
                    .entries
                    .iter()
                    .map(|e| (e.key.clone(), crate::policy::raw_json::to_json(&e.node)))
                    .collect(),
                None => BTreeMap::new(),
            };
            if let (Some(on), Some((path, loc)), Some((sha, _))) = (on, wasm, sha) {
                self.file_refs.push(FileRef {
                    section: "plugin",
                    id: id.clone(),
                    path: path.clone(),
                    loc,
                });
                let plugin = Plugin {
                    on,
                    wasm: path,
                    sha256: sha.to_ascii_lowercase(),
                    fuel,
                    memory_bytes,
                    fallback: r.opt_str(self.ctx, "fallback").map(|v| v.0),
                    config,
                    rules: self.rule_ids(&r),
                };
                out.insert(id, plugin);
            }
        }
        out
    }
}

fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let (num, mult) = [
        ("GiB", 1u64 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("B", 1),
    ]
    .iter()
    .find_map(|(suffix, m)| t.strip_suffix(suffix).map(|n| (n.trim(), *m)))?;
    num.parse::<u64>()
        .ok()?
        .checked_mul(mult)
        .filter(|b| *b > 0)
}
