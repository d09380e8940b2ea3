#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! Properties of the policy loader: no input makes it panic, and the fingerprint
//! depends on what a policy says, not on how its files are written or split.
//! Everything is loaded from memory ([`MemFiles`]) so the properties run without
//! disk I/O.

use std::path::Path;

use proptest::prelude::*;
use steward::policy::files::MemFiles;
use steward::policy::{self, LoadFailure};
use toml::{Table, Value};

const BASE: &str = include_str!("../../policies/base/policy.toml");
const VK_POLICY: &str = include_str!("../../policies/vk-shanghai/policy.toml");
const VK_CALENDAR: &str = include_str!("../../policies/vk-shanghai/calendar.toml");
const VK_CLASSIFY: &str = include_str!("../../policies/vk-shanghai/scripts/classify.rhai");

// ---------------------------------------------------------------------------
// Loading never panics, and a failure always explains itself.

/// Load `p/policy.toml` (with the shipped base beside it as `base/`) and check what
/// any outcome must satisfy.
fn load_never_panics(policy_toml: impl Into<Vec<u8>>) -> Result<(), TestCaseError> {
    let mut files = MemFiles::default();
    files.insert("base/policy.toml", BASE);
    files.insert("p/policy.toml", policy_toml);
    match policy::load_with(&files, Path::new("p")) {
        Ok(loaded) => {
            let fp = policy::fingerprint(&loaded.policy);
            prop_assert!(is_sha256_hex(&fp), "fingerprint {fp}");
            // Loading is deterministic.
            let again = policy::load_with(&files, Path::new("p"))
                .ok()
                .map(|l| policy::fingerprint(&l.policy));
            prop_assert_eq!(again, Some(fp));
        }
        Err(LoadFailure {
            sources,
            diagnostics,
        }) => {
            prop_assert!(!diagnostics.is_empty(), "a failed load must say why");
            for d in &diagnostics {
                if let Some(loc) = d.loc {
                    let len = sources.text(loc.file).len();
                    prop_assert!(
                        loc.start <= loc.end && loc.end <= len,
                        "{loc:?} outside a file of {len} bytes: {}",
                        d.message
                    );
                }
                let text = d.render(&sources);
                prop_assert!(
                    text.starts_with("error: ") || text.starts_with("warning: "),
                    "{text}"
                );
            }
        }
    }
    Ok(())
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        load_never_panics(bytes)?;
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,300}") {
        load_never_panics(text)?;
    }

    #[test]
    fn arbitrary_text_after_a_header_never_panics(text in "[\\PC\n]{0,300}") {
        load_never_panics(format!("[policy]\nid = \"x\"\nextends = \"../base\"\n{text}"))?;
    }

    #[test]
    fn plausible_toml_never_panics(text in plausible_policy()) {
        load_never_panics(text)?;
    }
}

// ---------------------------------------------------------------------------
// A generator of plausible policies: the schema's keys and sections, values of the
// kinds it expects (durations, names, conditions), and junk mixed in.

const SECTIONS: &[&str] = &[
    "[[limit]]",
    "[[category]]",
    "[[milestone]]",
    "[escalation]",
    "[[escalation.ladder]]",
    "[[revisit]]",
    "[calendar.cn-office]",
    "[calendar.night]",
    "[[hook]]",
    "[[plugin]]",
    "[[pause]]",
    "[[department]]",
    "[[role]]",
    "[reopen]",
    "[closing]",
    "[compensation]",
    "[ordering]",
    "[junk]",
];

const KEYS: &[&str] = &[
    "id",
    "version",
    "title",
    "extends",
    "timezone",
    "calendar",
    "default_category",
    "kind",
    "label",
    "when",
    "priority",
    "class",
    "emergency",
    "major",
    "phase",
    "route",
    "report_to",
    "rules",
    "reached_by",
    "ladder",
    "notify",
    "applies",
    "milestone",
    "within",
    "from",
    "warn_at",
    "repeat",
    "on_breach",
    "escalate_to",
    "step",
    "workdays",
    "hours",
    "holidays",
    "makeup_workdays",
    "stops",
    "notice_within",
    "on",
    "script",
    "wasm",
    "sha256",
    "limits",
    "fallback",
    "config",
    "timers",
    "remove",
    "operations",
    "fuel",
    "memory",
    "after",
    "on_event",
];

const STRINGS: &[&str] = &[
    "",
    "L4",
    "first_response",
    "initial_plan",
    "nowhere",
    "complaint",
    "repair",
    "complaint.unclassified",
    "repair.general",
    "Asia/Shanghai",
    "Mars/Olympus",
    "cn-office",
    "2h",
    "30m",
    "0h",
    "3d",
    "1w",
    "4 business hours",
    "next day 12:00",
    "next day 25:00",
    "99999999999999999999h",
    "-1h",
    "75%",
    "0%",
    "100%",
    "escalated:expert_panel",
    "escalated:",
    "opened",
    "escalate",
    "notify",
    "service_center",
    "engineering",
    "owner",
    "mon",
    "funday",
    "09:00-12:00",
    "13:30-25:00",
    "18:00-09:00",
    "2026-10-01..2026-10-07",
    "2026-10-07..2026-10-01",
    "2026-02-30",
    "0001-01-01..9999-12-31",
    "limit.L1",
    "limit.L2.inquiry",
    "escalation.ladder.leadership",
    "../base",
    "..",
    ".",
    "/",
    "scripts/x.rhai",
    "classify",
    "16MiB",
    "breach",
    "resolved",
    "previous",
    "rain",
    "kind == \"complaint\"",
    "text.contains(\"漏水\") && emergency",
    "colour == 1",
    "((((((((((",
    "急修",
    "\u{0}",
    "\u{202e}",
];

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(KEYS).prop_map(str::to_string),
        1 => "[a-z_]{1,10}",
        1 => "\\PC{1,6}".prop_map(|k| quote(&k)),
    ]
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(STRINGS).prop_map(quote),
        2 => any::<i64>().prop_map(|n| n.to_string()),
        1 => prop::sample::select(&[-1i64, 0, 1, 2, 3, 4, 100][..]).prop_map(|n| n.to_string()),
        1 => any::<bool>().prop_map(|b| b.to_string()),
        1 => Just("1.5".to_string()),
        1 => Just("2026-10-01".to_string()),
        1 => "\\PC{0,20}".prop_map(|s| quote(&s)),
        1 => Just("'''\nkind == \"repair\"\n  && colour\n'''".to_string()),
    ]
}

fn inline_table() -> impl Strategy<Value = String> {
    proptest::collection::vec((key(), scalar()), 0..4).prop_map(|kvs| {
        let kvs = dedupe(kvs);
        format!(
            "{{ {} }}",
            kvs.iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => scalar(),
        2 => proptest::collection::vec(scalar(), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),
        1 => proptest::collection::vec(inline_table(), 0..3).prop_map(|items| format!("[{}]", items.join(", "))),
        1 => inline_table(),
    ]
}

fn dedupe(kvs: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in kvs {
        if !out.iter().any(|(seen, _)| *seen == k) {
            out.push((k, v));
        }
    }
    out
}

fn plausible_policy() -> impl Strategy<Value = String> {
    // Rules mostly get an id, so generated policies get past the first checks.
    let id = prop_oneof![3 => prop::sample::select(STRINGS).prop_map(|s| Some(quote(s))), 1 => Just(None)];
    let section = (
        prop::sample::select(SECTIONS),
        id,
        proptest::collection::vec((key(), value()), 0..7),
    );
    let header = proptest::collection::vec((key(), value()), 0..4);
    (
        any::<bool>(),
        header,
        proptest::collection::vec(section, 0..10),
    )
        .prop_map(|(extends, header, sections)| {
            let mut text = String::from("[policy]\nid = \"generated\"\n");
            if extends {
                text.push_str("extends = \"../base\"\n");
            }
            for (k, v) in dedupe(header) {
                if k != "id" && k != "extends" {
                    text.push_str(&format!("{k} = {v}\n"));
                }
            }
            let mut tables_seen = Vec::new();
            for (header, id, kvs) in sections {
                // A plain table may be opened once; an array of tables many times.
                if !header.starts_with("[[") {
                    if tables_seen.contains(&header) {
                        continue;
                    }
                    tables_seen.push(header);
                }
                text.push('\n');
                text.push_str(header);
                text.push('\n');
                let mut kvs = dedupe(kvs);
                if let Some(id) = id.filter(|_| header.starts_with("[[")) {
                    kvs.retain(|(k, _)| k != "id");
                    kvs.insert(0, ("id".to_string(), id));
                }
                for (k, v) in kvs {
                    text.push_str(&format!("{k} = {v}\n"));
                }
            }
            text
        })
}

// ---------------------------------------------------------------------------
// The fingerprint ignores key order, whitespace, comments, inline versus header
// tables and how a policy is split into files.

/// splitmix64: the reorderings are drawn from one seed that proptest chooses.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len())]
    }
}

/// Writes a [`Table`] back as TOML with its keys in random order, random layout
/// and comments. Arrays keep their order unless they are top-level rule arrays
/// (`[[limit]]`, `[[category]]`, ...), whose rules are keyed by id.
struct Emitter<'r> {
    rng: &'r mut Rng,
    out: String,
}

impl Emitter<'_> {
    fn emit(rng: &mut Rng, table: &Table) -> String {
        let mut e = Emitter {
            rng,
            out: String::new(),
        };
        if e.rng.one_in(2) {
            e.out.push_str("# reordered copy\n\n");
        }
        e.body(&[], table);
        e.out
    }

    fn blank_or_comment(&mut self) {
        match self.rng.below(6) {
            0 => self.out.push('\n'),
            1 => self.out.push_str("# 注释 a comment\n"),
            2 => self.out.push_str("   \t\n"),
            _ => {}
        }
    }

    fn body(&mut self, path: &[String], table: &Table) {
        let mut entries: Vec<(&String, &Value)> = table.iter().collect();
        self.rng.shuffle(&mut entries);
        let mut headers = Vec::new();
        for (k, v) in entries {
            let as_header = match v {
                Value::Table(_) => self.rng.below(3) > 0,
                Value::Array(items) => {
                    !items.is_empty() && items.iter().all(Value::is_table) && self.rng.below(3) > 0
                }
                _ => false,
            };
            if as_header {
                headers.push((k, v));
                continue;
            }
            self.blank_or_comment();
            match v {
                // Dotted keys: `a.b = 1` instead of `a = { b = 1 }`.
                Value::Table(t)
                    if !t.is_empty() && t.values().all(|v| !v.is_table()) && self.rng.one_in(2) =>
                {
                    let mut inner: Vec<_> = t.iter().collect();
                    self.rng.shuffle(&mut inner);
                    for (ik, iv) in inner {
                        let line = format!(
                            "{}.{} = {}\n",
                            key_text(k),
                            key_text(ik),
                            self.value(iv, false)
                        );
                        self.out.push_str(&line);
                    }
                }
                _ => {
                    let indent = self.rng.pick(&["", "  ", "\t"]);
                    let eq = self.rng.pick(&[" = ", "=", "   =  "]);
                    let value = self.value(v, path.is_empty());
                    let trailing = self.rng.pick(&["", "", " # trailing comment", "  "]);
                    self.out
                        .push_str(&format!("{indent}{}{eq}{value}{trailing}\n", key_text(k)));
                }
            }
        }
        for (k, v) in headers {
            let mut sub = path.to_vec();
            sub.push(k.clone());
            let name = sub
                .iter()
                .map(|s| key_text(s))
                .collect::<Vec<_>>()
                .join(".");
            match v {
                Value::Table(t) => {
                    self.blank_or_comment();
                    self.out.push_str(&format!("\n[{name}]\n"));
                    self.body(&sub, t);
                }
                Value::Array(items) => {
                    let mut items: Vec<&Value> = items.iter().collect();
                    if path.is_empty() {
                        self.rng.shuffle(&mut items);
                    }
                    for item in items {
                        if let Value::Table(t) = item {
                            self.blank_or_comment();
                            self.out.push_str(&format!("\n[[{name}]]\n"));
                            self.body(&sub, t);
                        }
                    }
                }
                _ => unreachable!("only tables are emitted as headers"),
            }
        }
    }

    /// A value in inline form; `rules` says an array of tables may be shuffled.
    fn value(&mut self, v: &Value, rules: bool) -> String {
        match v {
            Value::String(s) => self.string(s),
            Value::Array(items) => {
                let mut items: Vec<&Value> = items.iter().collect();
                if rules && items.iter().all(|i| i.is_table()) {
                    self.rng.shuffle(&mut items);
                }
                let sep = self.rng.pick(&[", ", ",", ",\n    ", " ,  "]);
                let parts: Vec<String> = items.into_iter().map(|i| self.value(i, false)).collect();
                let trailing = if !parts.is_empty() && self.rng.one_in(3) {
                    ","
                } else {
                    ""
                };
                format!("[{}{trailing}]", parts.join(sep))
            }
            Value::Table(t) => {
                let mut entries: Vec<_> = t.iter().collect();
                self.rng.shuffle(&mut entries);
                let parts: Vec<String> = entries
                    .into_iter()
                    .map(|(k, v)| format!("{} = {}", key_text(k), self.value(v, false)))
                    .collect();
                if parts.is_empty() {
                    "{}".to_string()
                } else {
                    format!("{{ {} }}", parts.join(", "))
                }
            }
            other => other.to_string(),
        }
    }

    /// The same string as a basic, literal or multi-line literal string.
    fn string(&mut self, s: &str) -> String {
        let literal_ok = !s.contains('\'') && !s.chars().any(|c| c.is_control() && c != '\t');
        let multiline_ok = !s.contains("'''") && !s.starts_with('\n') && !s.ends_with('\'');
        match self.rng.below(3) {
            0 if literal_ok => format!("'{s}'"),
            1 if multiline_ok && s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t') => {
                // A newline right after the opening delimiter is trimmed by TOML.
                let lead = if self.rng.one_in(2) { "\n" } else { "" };
                format!("'''{lead}{s}'''")
            }
            _ => quote(s),
        }
    }
}

fn key_text(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        k.to_string()
    } else {
        quote(k)
    }
}

fn parse(text: &str) -> Table {
    toml::from_str(text).expect("shipped policies are valid TOML")
}

fn merge_into(into: &mut Table, from: Table) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Table(a)), Value::Table(b)) => merge_into(a, b),
            (Some(Value::Array(a)), Value::Array(b)) => a.extend(b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// vk-shanghai as one table, as if its two files were one.
fn vk_merged() -> Table {
    let mut t = parse(VK_POLICY);
    merge_into(&mut t, parse(VK_CALENDAR));
    t
}

/// Split a policy's top level over `n` files: whole keys, and single rules of the
/// rule arrays, each to a random file (the loader concatenates rule arrays).
fn split(rng: &mut Rng, table: &Table, n: usize) -> Vec<Table> {
    let mut parts = vec![Table::new(); n];
    for (k, v) in table {
        match v {
            Value::Array(items) if items.iter().all(Value::is_table) => {
                for item in items {
                    let part = &mut parts[rng.below(n)];
                    match part
                        .entry(k.clone())
                        .or_insert_with(|| Value::Array(Vec::new()))
                    {
                        Value::Array(a) => a.push(item.clone()),
                        _ => unreachable!("rule arrays only hold arrays"),
                    }
                }
            }
            _ => {
                parts[rng.below(n)].insert(k.clone(), v.clone());
            }
        }
    }
    parts
}

fn fingerprint_of(files: &MemFiles) -> Result<String, String> {
    match policy::load_with(files, Path::new("policies/vk-shanghai")) {
        Ok(l) => Ok(policy::fingerprint(&l.policy)),
        Err(f) => Err(f
            .diagnostics
            .iter()
            .map(|d| d.render(&f.sources))
            .collect::<Vec<_>>()
            .join("\n")),
    }
}

/// The fingerprint of the shipped files as the command line loads them.
fn shipped_fingerprint() -> String {
    static FP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    FP.get_or_init(|| {
        let loaded = policy::load_path(Path::new("policies/vk-shanghai"))
            .ok()
            .expect("vk-shanghai loads");
        policy::fingerprint(&loaded.policy)
    })
    .clone()
}

/// The table with its top-level rule arrays sorted by id: what the emitter must keep.
fn rules_by_id(mut table: Table) -> Table {
    for (_, v) in table.iter_mut() {
        if let Value::Array(items) = v {
            items.sort_by(|a, b| {
                let id = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_string);
                id(a).cmp(&id(b))
            });
        }
    }
    table
}

fn reparse(text: &str) -> Result<Table, TestCaseError> {
    toml::from_str(text)
        .map_err(|e| TestCaseError::fail(format!("emitted TOML does not parse: {e}\n{text}")))
}

fn vk_files(base: &str, vk: &[(&str, String)]) -> MemFiles {
    let mut files = MemFiles::default();
    files.insert("policies/base/policy.toml", base);
    // The hook script is not TOML: it is not reordered, only carried along.
    files.insert("policies/vk-shanghai/scripts/classify.rhai", VK_CLASSIFY);
    for (name, text) in vk {
        files.insert(format!("policies/vk-shanghai/{name}"), text.as_str());
    }
    files
}

#[test]
fn memory_layout_gives_the_shipped_fingerprint() {
    let files = vk_files(
        BASE,
        &[
            ("policy.toml", VK_POLICY.into()),
            ("calendar.toml", VK_CALENDAR.into()),
        ],
    );
    assert_eq!(fingerprint_of(&files), Ok(shipped_fingerprint()));
}

#[test]
fn merging_vk_shanghai_into_one_file_keeps_the_fingerprint() {
    // Textually: the two files one after the other.
    let joined = format!("{VK_POLICY}\n{VK_CALENDAR}");
    let files = vk_files(BASE, &[("policy.toml", joined)]);
    assert_eq!(fingerprint_of(&files), Ok(shipped_fingerprint()));
    // And re-emitted from the merged table.
    let text = Emitter::emit(&mut Rng(7), &vk_merged());
    let files = vk_files(BASE, &[("policy.toml", text)]);
    assert_eq!(fingerprint_of(&files), Ok(shipped_fingerprint()));
}

#[test]
fn the_emitter_really_reorders() {
    // Guards the property below against an emitter that always writes one order.
    let merged = vk_merged();
    let texts: std::collections::BTreeSet<String> = (0..8)
        .map(|seed| Emitter::emit(&mut Rng(seed), &merged))
        .collect();
    assert!(texts.len() > 1, "every seed produced the same text");
    let first_keys: std::collections::BTreeSet<String> = texts
        .iter()
        .filter_map(|t| t.lines().find(|l| l.contains('=')).map(str::to_string))
        .collect();
    assert!(
        first_keys.len() > 1,
        "the first key never changes: {first_keys:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn fingerprint_ignores_order_layout_and_file_split(seed in any::<u64>(), n_files in 1usize..4) {
        let mut rng = Rng(seed);
        let base = parse(BASE);
        let base_text = Emitter::emit(&mut rng, &base);
        prop_assert_eq!(rules_by_id(reparse(&base_text)?), rules_by_id(base), "emitter changed the base:\n{}", base_text);

        let merged = vk_merged();
        let names = ["policy.toml", "calendar.toml", "more.toml"];
        let mut vk = Vec::new();
        for (i, part) in split(&mut rng, &merged, n_files).into_iter().enumerate() {
            let text = Emitter::emit(&mut rng, &part);
            prop_assert_eq!(rules_by_id(reparse(&text)?), rules_by_id(part), "emitter changed a part:\n{}", text);
            vk.push((names[i], text));
        }
        let files = vk_files(&base_text, &vk);
        prop_assert_eq!(fingerprint_of(&files), Ok(shipped_fingerprint()), "files: {:#?}", vk);
    }
}

fn limit_ids() -> Vec<String> {
    let merged = vk_merged();
    let Some(Value::Array(limits)) = merged.get("limit") else {
        panic!("vk-shanghai has limits")
    };
    limits
        .iter()
        .filter_map(|l| l.get("id")?.as_str().map(str::to_string))
        .collect()
}

proptest! {
    #[test]
    fn changing_one_limits_within_changes_the_fingerprint(
        index in 0usize..64,
        within in prop::sample::select(&["1m", "90m", "3h", "5d", "2w", "8 business hours", "next day 09:00"][..]),
    ) {
        let ids = limit_ids();
        let id = &ids[index % ids.len()];
        let mut merged = vk_merged();
        let Some(Value::Array(limits)) = merged.get_mut("limit") else { panic!("limits") };
        let limit = limits.iter_mut().find(|l| l.get("id").and_then(Value::as_str) == Some(id.as_str())).expect("limit by id");
        let Some(Value::String(old)) = limit.get("within").cloned() else { panic!("{id} has a within") };
        prop_assume!(old != within);
        limit.as_table_mut().expect("a limit is a table").insert("within".into(), Value::String(within.into()));

        let files = vk_files(BASE, &[("policy.toml", Emitter::emit(&mut Rng(index as u64), &merged))]);
        let changed = fingerprint_of(&files);
        prop_assert!(changed.is_ok(), "{}", changed.unwrap_err());
        prop_assert_ne!(changed.unwrap(), shipped_fingerprint(), "limit {} within {} -> {}", id, old, within);
    }
}

// ---------------------------------------------------------------------------
// Whenever two policies' fingerprints differ, `policy diff` reports a change.

/// Every scalar leaf of a JSON tree, as a path of keys and indices.
fn scalar_paths(v: &serde_json::Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                path.push(k.clone());
                scalar_paths(x, path, out);
                path.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(i.to_string());
                scalar_paths(x, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn leaf_mut<'a>(
    v: &'a mut serde_json::Value,
    path: &[String],
) -> Option<&'a mut serde_json::Value> {
    path.iter().try_fold(v, |v, k| match v {
        serde_json::Value::Object(m) => m.get_mut(k),
        serde_json::Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
        _ => None,
    })
}

fn shipped_vk() -> steward::policy::Policy {
    let mut files = MemFiles::default();
    files.insert("base/policy.toml", BASE);
    files.insert("p/policy.toml", VK_POLICY);
    files.insert("p/calendar.toml", VK_CALENDAR);
    files.insert("p/scripts/classify.rhai", VK_CLASSIFY);
    match policy::load_with(&files, Path::new("p")) {
        Ok(l) => l.policy,
        Err(f) => panic!("vk-shanghai loads: {:?}", f.diagnostics),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any one scalar of the canonical model changed (a string, number or flag
    /// anywhere, including fields the diff code may not know) is reported.
    #[test]
    fn differing_fingerprints_always_diff(pick in any::<prop::sample::Index>(), text in "[a-z0-9]{1,8}", n in 0i64..100_000) {
        let old = shipped_vk();
        let mut value = serde_json::to_value(&old).unwrap();
        let mut paths = Vec::new();
        scalar_paths(&value, &mut Vec::new(), &mut paths);
        let path = pick.get(&paths).clone();
        let leaf = leaf_mut(&mut value, &path).unwrap();
        *leaf = match leaf {
            serde_json::Value::String(_) => serde_json::Value::String(text),
            serde_json::Value::Number(_) => serde_json::json!(n),
            serde_json::Value::Bool(b) => serde_json::Value::Bool(!*b),
            _ => serde_json::Value::String(text),
        };
        // Mutations the model cannot hold (an enum's unknown name, a number where
        // text is expected) are not policies; skip them.
        if let Ok(new) = serde_json::from_value::<steward::policy::Policy>(value)
            && policy::fingerprint(&new) != policy::fingerprint(&old)
        {
            let changes = policy::diff::diff(&old, &new);
            prop_assert!(!changes.is_empty(), "{path:?} changed but diff says nothing");
            prop_assert!(!policy::diff::render(&changes).starts_with("no semantic changes"));
        }
    }
}
