//! Changes to rhai hooks and WASM plug-ins, which decide at run time.

use super::*;

fn point(p: HookPoint) -> String {
    HookPoint::ALL[p as usize].to_string()
}

fn sha256(text: &str) -> String {
    format!("sha256:{}", crate::digest::sha256_hex(text.as_bytes()))
}

/// Scripts and plug-ins decide at run time; any change to them is `unknown`, shown
/// with the SHA-256 of the old and new script text or module.
pub(super) fn hooks(out: &mut Out, a: &Policy, b: &Policy) {
    let at = |id: &str, h: &Hook| At::new("hook", id).rules(&h.rules);
    let summary = |h: &Hook| format!("on {}: {} ({})", point(h.on), h.script, sha256(&h.source));
    by_id(
        out,
        &a.hooks,
        &b.hooks,
        at,
        summary,
        Effect::Unknown,
        |out, at, o, n| {
            out.field(at, "on", point(o.on), point(n.on), Effect::Unknown);
            out.field(
                at,
                "script",
                o.script.clone(),
                n.script.clone(),
                Effect::Neutral,
            );
            out.field(
                at,
                "source",
                sha256(&o.source),
                sha256(&n.source),
                Effect::Unknown,
            );
            if o.source != n.source
                && let Some(c) = out.changes.last_mut()
            {
                c.text_diff = Some(crate::policy::diff::text::unified(
                    &o.script, &n.script, &o.source, &n.source,
                ));
            }
            let (ol, nl) = (&o.limits, &n.limits);
            out.field(
                at,
                "limits.operations",
                ol.operations.to_string(),
                nl.operations.to_string(),
                Effect::Unknown,
            );
            out.field(
                at,
                "limits.call_depth",
                ol.call_depth.to_string(),
                nl.call_depth.to_string(),
                Effect::Unknown,
            );
            out.field(
                at,
                "limits.string_size",
                ol.string_size.to_string(),
                nl.string_size.to_string(),
                Effect::Unknown,
            );
            out.field(
                at,
                "limits.array_size",
                ol.array_size.to_string(),
                nl.array_size.to_string(),
                Effect::Unknown,
            );
            out.field(
                at,
                "fallback",
                opt(&o.fallback),
                opt(&n.fallback),
                Effect::Unknown,
            );
            rule_ids(out, at, &o.rules, &n.rules);
        },
    );
}

pub(super) fn plugins(out: &mut Out, a: &Policy, b: &Policy) {
    let at = |id: &str, p: &Plugin| At::new("plugin", id).rules(&p.rules);
    let summary = |p: &Plugin| format!("on {}: {} (sha256:{})", point(p.on), p.wasm, p.sha256);
    by_id(
        out,
        &a.plugins,
        &b.plugins,
        at,
        summary,
        Effect::Unknown,
        |out, at, o, n| {
            out.field(at, "on", point(o.on), point(n.on), Effect::Unknown);
            out.field(at, "wasm", o.wasm.clone(), n.wasm.clone(), Effect::Neutral);
            let sha = |p: &Plugin| format!("sha256:{}", p.sha256);
            out.field(at, "sha256", sha(o), sha(n), Effect::Unknown);
            out.field(
                at,
                "fuel",
                o.fuel.to_string(),
                n.fuel.to_string(),
                Effect::Unknown,
            );
            out.field(
                at,
                "memory_bytes",
                o.memory_bytes.to_string(),
                n.memory_bytes.to_string(),
                Effect::Unknown,
            );
            out.field(
                at,
                "fallback",
                opt(&o.fallback),
                opt(&n.fallback),
                Effect::Unknown,
            );
            let keys: BTreeSet<&String> = o.config.keys().chain(n.config.keys()).collect();
            for key in keys {
                let text = |v: Option<&serde_json::Value>| {
                    v.map_or("(none)".to_string(), |v| v.to_string())
                };
                out.field(
                    at,
                    &format!("config.{key}"),
                    text(o.config.get(key)),
                    text(n.config.get(key)),
                    Effect::Unknown,
                );
            }
            rule_ids(out, at, &o.rules, &n.rules);
        },
    );
}
