//! `steward report daily|weekly|quarterly`: turns flags into a
//! [`report::Request`], runs [`report::generate`] on a read-only database and
//! prints it in the chosen format. Everything else lives in [`crate::report`].

use crate::report::{self, Households, Lang, PeriodSpec, ReportKind, Request, households};
use crate::store::Store;

use super::EXIT_OK;
use super::args::{Global, LangArg, ReportArgs, ReportCmd, ReportFormat};
use super::context::{fail, now};

pub fn run(cmd: ReportCmd, g: &Global) -> i32 {
    match report(cmd, g) {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

fn report(cmd: ReportCmd, g: &Global) -> Result<i32, String> {
    let (kind, given, common) = match cmd {
        ReportCmd::Daily { date, common } => (ReportKind::Daily, date, common),
        ReportCmd::Weekly { week_of, common } => (ReportKind::Weekly, week_of, common),
        ReportCmd::Quarterly { quarter, common } => (ReportKind::Quarterly, quarter, common),
    };
    let period = period(kind, given.as_deref(), &common).map_err(|e| e.to_string())?;
    let households = households(&common)?;
    let req = Request {
        kind,
        period,
        estate: common.estate.clone(),
        households,
        now: now(g)?,
    };
    let store = Store::open_read_only(&g.db).map_err(|e| e.to_string())?;
    let mut r = report::generate(&store, &req).map_err(|e| e.to_string())?;
    // --lang wins; else the policy's locale chose it in `generate`.
    match common.lang {
        Some(LangArg::En) => r.lang = Lang::En,
        Some(LangArg::ZhCn) => r.lang = Lang::ZhCn,
        None => {}
    }
    let text = match common.format {
        ReportFormat::Json => report::render::json(&r) + "\n",
        ReportFormat::Csv => report::render::csv(&r),
        ReportFormat::Html => report::render::html(&r),
        ReportFormat::Table => report::render::table(&r),
    };
    match &common.output {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(EXIT_OK)
}

fn period(
    kind: ReportKind,
    given: Option<&str>,
    common: &ReportArgs,
) -> Result<PeriodSpec, report::ReportError> {
    if let (Some(from), Some(to)) = (&common.from, &common.to) {
        return Ok(PeriodSpec::Range(
            report::parse_date(from)?,
            report::parse_date(to)?,
        ));
    }
    let Some(text) = given else {
        return Ok(PeriodSpec::Default);
    };
    Ok(match kind {
        ReportKind::Daily => PeriodSpec::Day(report::parse_date(text)?),
        ReportKind::Weekly => PeriodSpec::WeekOf(report::parse_date(text)?),
        ReportKind::Quarterly => {
            let (y, q) = report::parse_quarter(text)?;
            PeriodSpec::Quarter(y, q)
        }
    })
}

fn households(common: &ReportArgs) -> Result<Households, String> {
    let mut h = Households::new();
    if let Some(path) = &common.estates {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read estates file `{}`: {e}", path.display()))?;
        households::parse_file(&path.display().to_string(), &text, &mut h)
            .map_err(|e| e.to_string())?;
    }
    for flag in &common.households {
        households::parse_flag(flag, &mut h).map_err(|e| e.to_string())?;
    }
    Ok(h)
}
