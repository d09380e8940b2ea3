//! `steward estate add|set|list`: the estate registry. Each change is an event of
//! the log (see [`crate::service::registry`]); once any estate is declared, every
//! command that names an estate refuses an undeclared one.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use clap::{Args, Subcommand};

use super::args::{Format, Global, TableJson};
use super::context::{fail, now, open, open_read_only};
use super::{EXIT_OK, output};
use crate::service::{Estate, EstateChange};

#[derive(Subcommand, Debug)]
pub enum EstateCmd {
    /// Declare an estate: its id, name, households (the K4 denominator) and phase dates
    #[command(after_help = "Example:
  steward estate add riverside --name 滨江花园 --households 1200 --phase delivery=2024-06-30 --phase occupancy=2024-09-01")]
    Add {
        /// The estate id tickets and policies use, e.g. `riverside`
        id: String,
        /// Its name, e.g. 滨江花园
        #[arg(long)]
        name: String,
        /// Number of households; the valid-complaint rate (K4) is per household
        #[arg(long)]
        households: u64,
        #[command(flatten)]
        common: Common,
    },
    /// Change a declared estate: the fields given replace the declared ones
    #[command(
        after_help = "Example:\n  steward estate set riverside --households 1260 --phase occupancy=2024-09-15"
    )]
    Set {
        /// The estate id
        id: String,
        /// A new name
        #[arg(long)]
        name: Option<String>,
        /// A new number of households
        #[arg(long)]
        households: Option<u64>,
        #[command(flatten)]
        common: Common,
    },
    /// List the declared estates
    #[command(after_help = "Example:\n  steward estate list --format json")]
    List {
        /// Output format
        #[arg(long, value_enum, default_value_t)]
        format: TableJson,
    },
}

#[derive(Args, Debug)]
pub struct Common {
    /// A phase and the date it begins (delivery, occupancy, ...; 000 §5.2.1); repeatable
    #[arg(long = "phase", value_name = "NAME=DATE")]
    phases: Vec<String>,
    /// Who declares it, recorded in the log
    #[arg(long, default_value = "")]
    by: String,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    format: TableJson,
}

impl EstateCmd {
    pub fn format(&self) -> Format {
        match self {
            EstateCmd::Add { common, .. } | EstateCmd::Set { common, .. } => common.format.into(),
            EstateCmd::List { format } => (*format).into(),
        }
    }
}

pub fn run(cmd: EstateCmd, g: &Global) -> i32 {
    match run_estate(cmd, g) {
        Ok(code) => code,
        Err(e) => fail(e),
    }
}

fn run_estate(cmd: EstateCmd, g: &Global) -> Result<i32, String> {
    let e = match cmd {
        EstateCmd::List { .. } => return list(g),
        EstateCmd::Add {
            id,
            name,
            households,
            common,
        } => {
            let at = now(g)?;
            let phases = phases(&common.phases)?;
            let mut svc = open(g).map_err(|e| e.to_string())?;
            let estate = Estate {
                id,
                name,
                households,
                phases,
                by: common.by,
                declared_at: at,
            };
            svc.add_estate(estate, at).map_err(|e| e.to_string())?
        }
        EstateCmd::Set {
            id,
            name,
            households,
            common,
        } => {
            let at = now(g)?;
            let change = EstateChange {
                name,
                households,
                phases: phases(&common.phases)?,
                by: common.by,
            };
            if change.name.is_none() && change.households.is_none() && change.phases.is_empty() {
                return Err("nothing to change: give --name, --households or --phase".into());
            }
            let mut svc = open(g).map_err(|e| e.to_string())?;
            svc.set_estate(&id, change, at).map_err(|e| e.to_string())?
        }
    };
    if g.format == Format::Json {
        output::json(&json(&e));
    } else {
        print!("{}", table(&[e]));
    }
    Ok(EXIT_OK)
}

fn list(g: &Global) -> Result<i32, String> {
    let estates: Vec<Estate> = if g.db.exists() {
        let svc = open_read_only(g).map_err(|e| e.to_string())?;
        svc.estates()
            .map_err(|e| e.to_string())?
            .into_values()
            .collect()
    } else {
        Vec::new()
    };
    if g.format == Format::Json {
        let v: Vec<_> = estates.iter().map(json).collect();
        output::json(&serde_json::json!({ "estates": v }));
    } else if estates.is_empty() {
        println!(
            "no estate is declared: any estate id is accepted until one is (`steward estate add`)"
        );
    } else {
        print!("{}", table(&estates));
    }
    Ok(EXIT_OK)
}

fn json(e: &Estate) -> serde_json::Value {
    serde_json::json!({
        "estate": e.id, "name": e.name, "households": e.households,
        "phases": e.phases, "by": e.by, "declared_at": e.declared_at.to_rfc3339(),
    })
}

fn table(estates: &[Estate]) -> String {
    let rows: Vec<Vec<String>> = estates
        .iter()
        .map(|e| {
            let phases: Vec<String> = e.phases.iter().map(|(p, d)| format!("{p} {d}")).collect();
            vec![
                e.id.clone(),
                e.name.clone(),
                e.households.to_string(),
                phases.join(", "),
            ]
        })
        .collect();
    output::table(&["estate", "name", "households", "phases"], &rows)
}

/// `NAME=DATE` flags.
fn phases(flags: &[String]) -> Result<BTreeMap<String, NaiveDate>, String> {
    let mut out = BTreeMap::new();
    for f in flags {
        let bad = |why: &str| {
            format!(
                "bad --phase `{f}`: {why} (expected NAME=YYYY-MM-DD, e.g. occupancy=2024-09-01)"
            )
        };
        let (name, date) = f.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|_| bad("the date is not YYYY-MM-DD"))?;
        if out.insert(name.trim().to_owned(), date).is_some() {
            return Err(bad("the phase is given twice"));
        }
    }
    Ok(out)
}
