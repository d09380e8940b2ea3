#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should stop loudly
//! The plug-in host against real plug-ins (the shipped keyword classifier and weather
//! source, as committed .wasm) and against misbehaving ones written in WebAssembly text
//! (tests/plugins/*.wat, compiled at test time): each failure stops one call, names
//! the plug-in, gives the ticket its fallback, and the next call succeeds.

use std::collections::BTreeMap;
use std::path::Path;

use steward::plugin::{PluginErrorKind, PluginHost, classify_or_fallback};
use steward::policy::model::{HookPoint, Plugin};
use steward::policy::{self, Loaded};
use steward::script::facts::TicketFacts;

const POLICY: &str = "policies/vk-shanghai-plugins";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> Loaded {
    policy::load_path(&root().join(POLICY)).unwrap_or_else(|f| {
        panic!(
            "{POLICY} loads: {:?}",
            f.diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
        )
    })
}

fn wasm<'a>(loaded: &'a Loaded, id: &str) -> &'a [u8] {
    &loaded.wasm.iter().find(|(i, _)| i == id).unwrap().1
}

fn wat(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/plugins").join(name)).unwrap()
}

fn plugin(on: HookPoint) -> Plugin {
    Plugin {
        on,
        wasm: "test.wat".into(),
        sha256: String::new(),
        fuel: 1_000_000,
        memory_bytes: 2 << 20,
        fallback: Some("repair.general".into()),
        config: BTreeMap::new(),
        rules: vec![],
    }
}

fn ticket(kind: &str, text: &str) -> TicketFacts {
    TicketFacts {
        kind: kind.into(),
        text: text.into(),
        estate: "gardens".into(),
        channel: "hotline".into(),
        ..TicketFacts::default()
    }
}

// --- the shipped keyword classifier ---------------------------------------------

#[test]
fn classifier_sorts_emergency_leak_and_complaint_classes() {
    let l = shipped();
    let host = PluginHost::new().unwrap();
    let mut kw = host
        .load_for_policy("keywords", wasm(&l, "keywords"), &l.policy.plugin_owner())
        .unwrap();
    // (kind, text, category, emergency, class)
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, bool, Option<u8>);
    let cases: &[Case] = &[
        (
            "repair",
            "3号楼电梯困人，请尽快派人",
            Some("repair.emergency"),
            true,
            None,
        ),
        (
            "repair",
            "厨房水管爆管，水漫到客厅",
            Some("repair.emergency"),
            true,
            None,
        ),
        (
            "repair",
            "楼梯扶手松动，老人差点摔倒",
            Some("repair.emergency"),
            true,
            None,
        ),
        (
            "repair",
            "卫生间天花板漏水",
            Some("repair.leak"),
            false,
            None,
        ),
        ("repair", "单元门禁坏了", Some("repair.safety"), false, None),
        (
            "complaint",
            "开发商交房时墙面就有裂缝，至今未修",
            Some("complaint.engineering"),
            false,
            Some(2),
        ),
        (
            "complaint",
            "小区门口市政道路施工，噪音扰民",
            Some("complaint.external"),
            false,
            Some(3),
        ),
        (
            "complaint",
            "多户业主集体投诉保安态度",
            Some("complaint.major"),
            false,
            None,
        ),
        // Emergency keywords are for repairs only; no rule at all: no opinion.
        ("complaint", "电梯困人时物业电话打不通", None, false, None),
        ("repair", "客厅灯具不亮", None, false, None),
    ];
    for (kind, text, category, emergency, class) in cases {
        let c = kw.classify(&ticket(kind, text)).unwrap();
        assert_eq!(c.category.as_deref(), *category, "{text}");
        assert_eq!(c.emergency, *emergency, "{text}");
        assert_eq!(c.class, *class, "{text}");
    }
    let major = kw.classify(&ticket("complaint", "媒体已经曝光")).unwrap();
    assert!(major.major);
    assert_eq!(major.urgency.as_deref(), Some("high"));
    assert_eq!(
        kw.instantiations(),
        1 + cases.len() as u64 + 1,
        "a fresh instance for every call"
    );
}

#[test]
fn classifier_declares_only_policy_categories() {
    let mut l = shipped();
    l.policy.categories.remove("complaint.external");
    let host = PluginHost::new().unwrap();
    let err = host
        .load_for_policy("keywords", wasm(&l, "keywords"), &l.policy.plugin_owner())
        .err()
        .unwrap();
    assert_eq!(err.kind, PluginErrorKind::Config);
    assert!(err.to_string().contains("`complaint.external`"), "{err}");
}

#[test]
fn classifier_config_errors_name_the_line() {
    let l = shipped();
    let host = PluginHost::new().unwrap();
    let mut p = l.policy.plugins["keywords"].clone();
    p.config = BTreeMap::from([("rules".to_string(), serde_json::json!([{"category": "x"}]))]);
    let err = host
        .load("keywords", wasm(&l, "keywords"), &p)
        .err()
        .unwrap();
    assert_eq!(err.kind, PluginErrorKind::Config);
    assert_eq!(err.plugin, "keywords");
    assert!(err.detail.contains("line 1"), "{err}");
}

// --- the shipped weather source -----------------------------------------------------

#[test]
fn weather_emits_rain_at_or_above_threshold() {
    let l = shipped();
    let host = PluginHost::new().unwrap();
    let mut w = host
        .load_for_policy("weather", wasm(&l, "weather"), &l.policy.plugin_owner())
        .unwrap();
    let csv = std::fs::read_to_string(root().join(POLICY).join("observations.csv")).unwrap();
    let events: Vec<String> = w
        .events(&csv)
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e.kind,
                e.estate,
                e.hour.format("%Y-%m-%dT%H:%M")
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            "rain gardens 2026-11-20T14:00",
            "rain gardens 2026-11-20T15:00",
            "rain riverside 2026-11-20T16:00",
        ]
    );
    // A bad row rejects the whole feed, with its line; the next feed is fine.
    let err = w
        .events("estate,hour,rainfall_mm\ngardens,14h,3\n")
        .err()
        .unwrap();
    assert_eq!(err.kind, PluginErrorKind::Rejected);
    assert!(err.detail.contains("line 2"), "{err}");
    assert_eq!(w.events("gardens,2026-11-21T08:00,30\n").unwrap().len(), 1);
}

#[test]
fn hook_points_are_not_interchangeable() {
    let l = shipped();
    let host = PluginHost::new().unwrap();
    let mut w = host
        .load_for_policy("weather", wasm(&l, "weather"), &l.policy.plugin_owner())
        .unwrap();
    let err = w.classify(&ticket("repair", "漏水")).err().unwrap();
    assert_eq!(err.kind, PluginErrorKind::WrongInterface);
    // The weather module as a classify plug-in lacks `steward_classify`.
    let err = host
        .load("weather", wasm(&l, "weather"), &plugin(HookPoint::Classify))
        .err()
        .unwrap();
    assert!(
        err.detail.contains("missing export `steward_classify`"),
        "{err}"
    );
}

// --- misbehaving plug-ins -----------------------------------------------------------

#[test]
fn each_misbehaviour_fails_one_call_and_the_next_call_succeeds() {
    let host = PluginHost::new().unwrap();
    let p = plugin(HookPoint::Classify);
    let mut moody = host.load("moody", &wat("moody.wat"), &p).unwrap();
    let cases = [
        ("T", PluginErrorKind::Trap, "unreachable"),
        ("L", PluginErrorKind::OutOfFuel, "fuel"),
        ("M", PluginErrorKind::OutOfMemory, "memory limit"),
        ("R", PluginErrorKind::Trap, "call stack exhausted"),
        ("G", PluginErrorKind::BadResult, "not UTF-8"),
        ("F", PluginErrorKind::BadResult, "not key=value"),
        (
            "U",
            PluginErrorKind::BadResult,
            "unknown category `no.such`",
        ),
        ("B", PluginErrorKind::BadResult, "outside memory"),
        ("E", PluginErrorKind::Rejected, "I refuse"),
    ];
    let mut categories = std::collections::BTreeSet::new();
    categories.insert("repair.general".to_string());
    moody.restrict_categories(categories);
    for (i, (cmd, kind, detail)) in cases.iter().enumerate() {
        let d = classify_or_fallback(&mut moody, &ticket("repair", cmd), &p);
        let err = d.failure.unwrap_or_else(|| panic!("{cmd} should fail"));
        assert_eq!(err.kind, *kind, "{cmd}: {err}");
        assert_eq!(err.plugin, "moody");
        assert!(err.to_string().contains(detail), "{cmd}: {err}");
        assert!(err.to_string().starts_with("plug-in `moody`: "), "{err}");
        // The ticket gets the policy's fallback.
        assert_eq!(d.classification.category.as_deref(), Some("repair.general"));
        // The same plug-in answers the next ticket, from a fresh instance.
        let ok = moody.classify(&ticket("repair", "ok")).unwrap();
        assert_eq!(
            ok.category.as_deref(),
            Some("repair.general"),
            "after {cmd}"
        );
        // The instance loading checked serves the first call; then one per call.
        assert_eq!(moody.instantiations(), 2 * (i as u64 + 1), "after {cmd}");
    }
}

#[test]
fn a_slow_plugin_is_stopped_by_the_wall_clock_limit() {
    let host = PluginHost::new().unwrap();
    let mut p = plugin(HookPoint::Classify);
    // Fuel at the ceiling: the fill loop would run for minutes on fuel alone.
    p.fuel = steward::plugin::MAX_FUEL;
    let mut moody = host.load("moody", &wat("moody.wat"), &p).unwrap();
    let started = std::time::Instant::now();
    let err = moody.classify(&ticket("repair", "S")).unwrap_err();
    let took = started.elapsed();
    eprintln!("slow plug-in call stopped after {took:?}");
    assert_eq!(err.kind, PluginErrorKind::Timeout, "{err} after {took:?}");
    assert!(err.to_string().contains("250 ms wall-clock limit"), "{err}");
    assert!(
        took >= steward::plugin::CALL_DEADLINE - std::time::Duration::from_millis(15),
        "{took:?}"
    );
    assert!(took < steward::plugin::CALL_DEADLINE * 3, "{took:?}");
    assert!(moody.classify(&ticket("repair", "ok")).is_ok());
}

#[test]
fn no_state_carries_from_one_call_to_the_next() {
    let host = PluginHost::new().unwrap();
    let p = plugin(HookPoint::Classify);
    let mut counter = host.load("counter", &wat("counter.wat"), &p).unwrap();
    for i in 0..5 {
        let c = counter.classify(&ticket("repair", "x")).unwrap();
        assert_eq!(c.category.as_deref(), Some("repair.general"), "call {i}");
    }
}

#[test]
fn fuel_is_per_call_and_deterministic() {
    let l = shipped();
    let host = PluginHost::new().unwrap();
    let mut kw = host
        .load_for_policy("keywords", wasm(&l, "keywords"), &l.policy.plugin_owner())
        .unwrap();
    let t = ticket("repair", &"灯不亮。".repeat(50));
    kw.classify(&t).unwrap();
    let first = kw.last_fuel_used();
    for _ in 0..5 {
        kw.classify(&t).unwrap();
        assert_eq!(kw.last_fuel_used(), first);
    }
    assert!(
        first > 0 && first < l.policy.plugins["keywords"].fuel,
        "{first}"
    );
}

#[test]
fn wrong_interfaces_are_refused_at_load() {
    let host = PluginHost::new().unwrap();
    let p = plugin(HookPoint::Classify);
    let cases = [
        (
            "wrong-missing-export.wat",
            PluginErrorKind::WrongInterface,
            "missing export `steward_classify`",
        ),
        (
            "wrong-import.wat",
            PluginErrorKind::WrongInterface,
            "imports `wasi_snapshot_preview1::fd_write`",
        ),
        (
            "wrong-signature.wat",
            PluginErrorKind::WrongInterface,
            "export `steward_classify` has type (i32) -> (i32), expected (i32, i32) -> (i64)",
        ),
        (
            "wrong-version.wat",
            PluginErrorKind::WrongInterface,
            "speaks ABI version 2",
        ),
        (
            "big-memory.wat",
            PluginErrorKind::OutOfMemory,
            "memory limit",
        ),
        (
            "bad-config.wat",
            PluginErrorKind::Config,
            "no keyword table",
        ),
    ];
    for (file, kind, detail) in cases {
        let err = host
            .load("bad", &wat(file), &p)
            .err()
            .unwrap_or_else(|| panic!("{file} loads"));
        assert_eq!(err.kind, kind, "{file}: {err}");
        assert!(err.to_string().contains(detail), "{file}: {err}");
    }
    let err = host.load("junk", b"\0asm garbage", &p).err().unwrap();
    assert_eq!(err.kind, PluginErrorKind::Invalid);
    let err = host
        .load("route", &wat("moody.wat"), &plugin(HookPoint::Route))
        .err()
        .unwrap();
    assert!(err.detail.contains("no plug-in hook for `route`"), "{err}");
    // The host still loads good plug-ins afterwards.
    assert!(host.load("moody", &wat("moody.wat"), &p).is_ok());
}

#[test]
fn policy_check_refuses_a_wrong_interface() {
    let mut files = policy::files::MemFiles::default();
    let module = wat("wrong-import.wat");
    let digest = steward::digest::sha256_hex(&module);
    files.insert("p/bad.wat", module);
    let base = std::fs::read_to_string(root().join("policies/base/policy.toml")).unwrap();
    files.insert("base/policy.toml", base);
    files.insert(
        "p/policy.toml",
        format!(
            "[policy]\nid = \"p\"\nversion = \"1\"\ntitle = \"t\"\nextends = \"../base\"\n\n\
             [[plugin]]\nid = \"bad\"\non = \"classify\"\nwasm = \"bad.wat\"\nsha256 = \"{digest}\"\n"
        ),
    );
    let failure = policy::load_with(&files, Path::new("p")).err().unwrap();
    let messages: Vec<&str> = failure
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains(
            "plug-in `bad`: wrong interface: imports `wasi_snapshot_preview1::fd_write`"
        )),
        "{messages:?}"
    );
}

#[test]
fn the_shipped_policy_carries_the_built_modules() {
    for p in ["keyword-classifier", "weather"] {
        let built = std::fs::read(root().join(format!("plugins/{p}/{p}.wasm"))).unwrap();
        let shipped =
            std::fs::read(root().join(format!("policies/vk-shanghai-plugins/modules/{p}.wasm")))
                .unwrap();
        assert!(built == shipped, "{p}: run plugins/build.sh");
    }
}

/// A copy of the plug-in policy's chain and its plug-ins under a temp dir, laid out
/// like the repository so the relative `wasm` paths resolve.
fn copy_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        "policies/base/policy.toml",
        "policies/vk-shanghai/policy.toml",
        "policies/vk-shanghai/calendar.toml",
        "policies/vk-shanghai/scripts/classify.rhai",
        "policies/vk-shanghai-plugins/policy.toml",
        "policies/vk-shanghai-plugins/modules/keyword-classifier.wasm",
        "policies/vk-shanghai-plugins/modules/weather.wasm",
    ];
    for f in files {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root().join(f), to).unwrap();
    }
    dir
}

fn steward(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

#[test]
fn one_flipped_byte_fails_policy_check() {
    let dir = copy_repo();
    let policy = dir.path().join(POLICY);
    let ok = steward(&["policy", "check", policy.to_str().unwrap()]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let wasm = dir
        .path()
        .join("policies/vk-shanghai-plugins/modules/weather.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&wasm, bytes).unwrap();
    let out = steward(&["policy", "check", policy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("plug-in `weather` does not match its pinned sha256"),
        "{stderr}"
    );
}

#[test]
fn a_plugin_change_shows_in_policy_diff() {
    let dir = copy_repo();
    // The same module with a custom section appended: valid, but other bytes.
    let wasm = dir
        .path()
        .join("policies/vk-shanghai-plugins/modules/keyword-classifier.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    let old = steward::digest::sha256_hex(&bytes);
    bytes.extend_from_slice(&[0, 4, 3, b'v', b'2', b'!']);
    std::fs::write(&wasm, &bytes).unwrap();
    let new = steward::digest::sha256_hex(&bytes);
    let toml = dir.path().join(POLICY).join("policy.toml");
    let text = std::fs::read_to_string(&toml).unwrap().replace(&old, &new);
    std::fs::write(&toml, text).unwrap();
    let new_policy = dir.path().join(POLICY);
    let out = steward(&["policy", "diff", POLICY, new_policy.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The diff shortens digests.
    assert!(
        stdout.contains(&format!("sha256:{}", &old[..40])),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("sha256:{}", &new[..40])),
        "{stdout}"
    );
    assert!(stdout.contains("plugin keywords sha256"), "{stdout}");
}

// --- the module cache -----------------------------------------------------------------

#[test]
fn a_module_is_compiled_once_per_hash() {
    let host = PluginHost::new().unwrap();
    let p = plugin(HookPoint::Classify);
    let bytes = wat("moody.wat");
    host.load("a", &bytes, &p).unwrap();
    host.load("b", &bytes, &p).unwrap();
    let s = host.stats();
    assert_eq!((s.compiled, s.memory_hits), (1, 1));
    let mut other = bytes.clone();
    other.extend_from_slice(b"\n;; another module, another hash\n");
    host.load("c", &other, &p).unwrap();
    assert_eq!(host.stats().compiled, 2);
}

#[test]
fn precompiled_modules_survive_the_process_in_the_cache_dir() {
    let dir = tempfile::tempdir().unwrap();
    let p = plugin(HookPoint::Classify);
    let bytes = wat("moody.wat");
    let first = PluginHost::new().unwrap().with_cache_dir(dir.path());
    first.load("a", &bytes, &p).unwrap();
    assert_eq!(first.stats().compiled, 1);
    let second = PluginHost::new().unwrap().with_cache_dir(dir.path());
    let mut loaded = second.load("a", &bytes, &p).unwrap();
    assert_eq!((second.stats().compiled, second.stats().disk_hits), (0, 1));
    assert!(loaded.classify(&ticket("repair", "ok")).is_ok());
}
