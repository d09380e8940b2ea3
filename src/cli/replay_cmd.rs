//! `steward sim replay` and `steward sim generate`: load, run, print. The progress
//! bar shows only when stderr is a terminal; `--stats` prints throughput and the
//! process's peak resident memory (VmHWM) to stderr.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use chrono::NaiveDate;

use crate::policy::CompiledPolicy;
use crate::sim::generate;
use crate::sim::history::HistoryReader;
use crate::sim::replay;
use crate::sim::report::PolicyInfo;

use super::args::{GenerateArgs, Global, ReplayArgs, ReplayFormat};
use super::{EXIT_INPUT, EXIT_OK, load, output, replay_render};

pub fn replay(o: &ReplayArgs, g: &Global) -> i32 {
    let format = g.format;
    if o.policy.is_empty() || o.policy.len() > 2 {
        return super::context::fail("give one --policy to replay under, or two to compare");
    }
    let mut policies = Vec::new();
    for path in &o.policy {
        let Some(loaded) = load::policy(path, format) else {
            return EXIT_INPUT;
        };
        let compiled = match CompiledPolicy::with_plugins(loaded.policy, &loaded.wasm) {
            Ok(c) => c,
            Err(e) => return super::context::fail(format!("{}: {e}", path.display())),
        };
        let info = PolicyInfo {
            path: path.display().to_string(),
            id: compiled.policy.id.clone(),
            version: compiled.policy.version.clone(),
            fingerprint: compiled.fingerprint.clone(),
        };
        policies.push((info, compiled));
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
    let opts = replay::Options {
        reclassify: o.reclassify,
        idle_days: o.idle_days,
        max_diffs: o.max_diffs,
        threads: o
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
    };
    let started = Instant::now();
    let tick = |lines: u64| {
        if let Some(b) = &bar {
            b.set_position(progress.load(std::sync::atomic::Ordering::Relaxed));
            b.set_message(format!("{lines} lines"));
        }
    };
    let name = o.history.display().to_string();
    let report = replay::replay(&name, reader, &policies, &opts, &tick);
    let elapsed = started.elapsed();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    match o.format {
        ReplayFormat::Json => output::json(&serde_json::to_value(&report).unwrap_or_default()),
        ReplayFormat::Csv => print!("{}", replay_render::csv(&report)),
        ReplayFormat::Table => print!("{}", replay_render::table(&report, o.daily)),
    }
    output::eprint(&replay_render::warnings(&report));
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
