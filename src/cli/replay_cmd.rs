//! `steward sim replay` and `steward sim generate`: load, run, print. The progress
//! bar shows only when stderr is a terminal; `--stats` prints throughput and the
//! process's peak resident memory (VmHWM) to stderr.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use chrono::NaiveDate;

use crate::policy::CompiledPolicy;
use crate::sim::generate;
use crate::sim::history::HistoryReader;
use crate::sim::replay;
use crate::sim::report::{EstatePolicy, PolicyInfo};

use super::args::{Format, GenerateArgs, Global, ReplayArgs, ReplayFormat};
use super::{EXIT_INPUT, EXIT_OK, load, output, replay_render};

pub fn replay(o: &ReplayArgs, g: &Global) -> i32 {
    let format = g.format;
    if o.policy.is_empty() || o.policy.len() > 2 {
        return super::context::fail("give one --policy to replay under, or two to compare");
    }
    let mut policies = Vec::new();
    for path in &o.policy {
        let Some(compiled) = compile(path, format) else {
            return EXIT_INPUT;
        };
        policies.push((info(path, &compiled), compiled));
    }
    // Estate overlays: compiled once each, per side.
    let mut overlays: Vec<Vec<(String, CompiledPolicy)>> =
        (0..policies.len()).map(|_| Vec::new()).collect();
    for spec in &o.estate_policy {
        let (sides, estate, path) = match estate_policy(spec, policies.len()) {
            Ok(x) => x,
            Err(e) => return super::context::fail(e),
        };
        for side in sides {
            let Some(compiled) = compile(Path::new(&path), format) else {
                return EXIT_INPUT;
            };
            let p = info(Path::new(&path), &compiled);
            policies[side].0.estates.insert(
                estate.clone(),
                EstatePolicy {
                    path: p.path,
                    id: p.id,
                    version: p.version,
                    fingerprint: p.fingerprint,
                },
            );
            overlays[side].retain(|(e, _)| *e != estate);
            overlays[side].push((estate.clone(), compiled));
        }
    }
    let sides: Vec<replay::SidePolicies<'_>> = policies
        .iter()
        .zip(&overlays)
        .map(|((_, base), own)| replay::SidePolicies {
            base,
            estates: own.iter().map(|(e, c)| (e.clone(), c)).collect(),
        })
        .collect();
    let infos: Vec<PolicyInfo> = policies.iter().map(|(i, _)| i.clone()).collect();
    if let Some(map) = &o.map {
        return replay_register(o, g, map, &infos, &sides);
    }
    let reader = match HistoryReader::open(&o.history) {
        Ok(r) => r,
        Err(e) => return super::context::fail(e),
    };
    let progress = reader.progress.clone();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(reader.size.unwrap_or(0));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} replaying [{bar:40}] {bytes}/{total_bytes} {msg} ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    });
    let opts = replay_options(o);
    let started = Instant::now();
    let tick = |lines: u64| {
        if let Some(b) = &bar {
            b.set_position(progress.load(std::sync::atomic::Ordering::Relaxed));
            b.set_message(format!("{lines} lines"));
        }
    };
    let name = o.history.display().to_string();
    let report = replay::replay_sides(&name, reader, &infos, &sides, &opts, &tick);
    let elapsed = started.elapsed();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    print_report(o, &report, &opts, elapsed)
}

fn replay_options(o: &ReplayArgs) -> replay::Options {
    replay::Options {
        reclassify: o.reclassify,
        idle_days: o.idle_days,
        max_diffs: o.max_diffs,
        threads: o
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        estate: o.estate.clone(),
    }
}

fn compile(path: &Path, format: Format) -> Option<CompiledPolicy> {
    let loaded = load::policy(path, format)?;
    match CompiledPolicy::with_plugins(loaded.policy, &loaded.wasm) {
        Ok(c) => Some(c),
        Err(e) => {
            super::context::fail(format!("{}: {e}", path.display()));
            None
        }
    }
}

fn info(path: &Path, c: &CompiledPolicy) -> PolicyInfo {
    PolicyInfo {
        path: path.display().to_string(),
        id: c.policy.id.clone(),
        version: c.policy.version.clone(),
        fingerprint: c.fingerprint.clone(),
        estates: Default::default(),
    }
}

/// `ESTATE=PATH` (every side), `A:ESTATE=PATH` or `B:ESTATE=PATH`.
fn estate_policy(spec: &str, sides: usize) -> Result<(Vec<usize>, String, String), String> {
    let (which, rest) = match spec.split_once(':') {
        Some(("A" | "a", rest)) => (Some(0), rest),
        Some(("B" | "b", rest)) => (Some(1), rest),
        _ => (None, spec),
    };
    let Some((estate, path)) = rest
        .split_once('=')
        .filter(|(e, p)| !e.trim().is_empty() && !p.trim().is_empty())
    else {
        return Err(format!(
            "--estate-policy `{spec}`: expected ESTATE=PATH, A:ESTATE=PATH or B:ESTATE=PATH"
        ));
    };
    let list = match which {
        None => (0..sides).collect(),
        Some(s) if s < sides => vec![s],
        Some(_) => {
            return Err(format!(
                "--estate-policy `{spec}` names side B, but only one --policy was given"
            ));
        }
    };
    Ok((list, estate.trim().to_string(), path.trim().to_string()))
}

/// `--history REGISTER --map MAPPING`: the register's good rows as the history;
/// its bad rows are reported like malformed history lines.
fn replay_register(
    o: &ReplayArgs,
    g: &Global,
    map: &Path,
    infos: &[PolicyInfo],
    sides: &[replay::SidePolicies<'_>],
) -> i32 {
    let mapping = match crate::import::mapping::Mapping::load(map) {
        Ok(m) => m,
        Err(e) => return super::context::fail(e),
    };
    let now = match &g.now {
        Some(t) => match super::context::parse_time(t) {
            Ok(t) => t,
            Err(e) => return super::context::fail(e),
        },
        None => chrono::Utc::now(),
    };
    let opts = crate::import::Options {
        now,
        encoding: o.encoding.map(|e| e.label().to_string()),
    };
    let reg = match crate::import::Register::open(&o.history, mapping, &opts) {
        Ok(r) => r,
        Err(e) => return super::context::fail(e),
    };
    let records = match reg.records() {
        Ok(r) => r,
        Err(e) => return super::context::fail(e),
    };
    let bad = reg.bad.iter().map(|b| Err(b.to_line_error()));
    let ropts = replay_options(o);
    let started = Instant::now();
    let name = o.history.display().to_string();
    let report = replay::replay_sides(
        &name,
        bad.chain(records.map(Ok)),
        infos,
        sides,
        &ropts,
        &|_| {},
    );
    print_report(o, &report, &ropts, started.elapsed())
}

fn print_report(
    o: &ReplayArgs,
    report: &crate::sim::report::Report,
    opts: &replay::Options,
    elapsed: std::time::Duration,
) -> i32 {
    match o.format {
        ReplayFormat::Json => output::json(&serde_json::to_value(report).unwrap_or_default()),
        ReplayFormat::Csv => print!("{}", replay_render::csv(report)),
        ReplayFormat::Table => print!("{}", replay_render::table(report, o.daily)),
    }
    output::eprint(&replay_render::warnings(report));
    if o.stats {
        let tickets = report.stats.first().map_or(0, |s| s.opened);
        let secs = elapsed.as_secs_f64().max(1e-9);
        eprintln!(
            "stats: {} lines, {tickets} tickets under {} policy(ies), {} thread(s) in {:.2} s: {:.0} tickets/s, {:.0} lines/s; peak memory {}",
            report.records,
            report.policies.len(),
            opts.threads,
            secs,
            tickets as f64 / secs,
            report.records as f64 / secs,
            peak_memory().unwrap_or_else(|| "unknown".into())
        );
    }
    if report.malformed > 0 {
        EXIT_INPUT
    } else {
        EXIT_OK
    }
}

/// Peak resident set size of this process (Linux `VmHWM`).
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.1} MiB (VmHWM)", kb / 1024.0))
}

pub fn generate(a: &GenerateArgs) -> i32 {
    let (seed, tickets, days, estates, start) = (a.seed, a.tickets, a.days, a.estates, &a.start);
    let out = a.out.as_deref();
    let Ok(start) = NaiveDate::parse_from_str(start, "%Y-%m-%d") else {
        return super::context::fail(format!(
            "bad --start `{start}`: expected a date like 2026-07-01"
        ));
    };
    if days == 0 {
        return super::context::fail("--days must be at least 1");
    }
    let opts = generate::Options {
        seed,
        tickets,
        days,
        estates,
        start,
        json: out.is_some_and(|p| p.extension().is_some_and(|e| e == "jsonl" || e == "json")),
    };
    let result = match out {
        Some(path) => std::fs::File::create(path)
            .and_then(|f| {
                let mut w = std::io::BufWriter::new(f);
                let r = generate::generate(&opts, &mut w)?;
                w.flush()?;
                Ok(r)
            })
            .map_err(|e| format!("{}: {e}", path.display())),
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            generate::generate(&opts, &mut lock).map_err(|e| e.to_string())
        }
    };
    match result {
        Ok(w) => {
            eprintln!(
                "generated {} tickets, {} lines, {} rain days (seed {seed}){}",
                w.tickets,
                w.lines,
                w.rain_days,
                out.map(|p| format!(" into {}", p.display()))
                    .unwrap_or_default()
            );
            EXIT_OK
        }
        Err(e) => super::context::fail(e),
    }
}
