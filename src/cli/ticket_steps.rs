//! `steward ticket act ID` without a step: the steps the ticket's policy takes,
//! each with the milestones it reaches, so the command line shows what a policy's
//! `[[action]]` tables added.

use crate::engine::BUILTIN_STEPS;
use crate::policy::model::Policy;
use crate::service::AppError;

use super::args::{Format, Global};
use super::context::open_read_only;
use super::{EXIT_OK, output};

pub fn list(id: &str, g: &Global) -> Result<i32, AppError> {
    let svc = open_read_only(g)?;
    let row = svc.store().read(|tx| -> Result<_, AppError> {
        let row = tx
            .ticket(id)?
            .ok_or_else(|| AppError::UnknownTicket(id.to_string()))?;
        let ticket = crate::service::parse_ticket(&row)?;
        let text = tx
            .policy(&ticket.fingerprint)?
            .ok_or_else(|| AppError::MissingPolicy(ticket.fingerprint.clone()))?;
        Ok(text)
    })?;
    let policy: Policy = serde_json::from_str(&row)
        .map_err(|e| AppError::UnreadablePolicy(format!("of ticket `{id}`"), e.to_string()))?;
    let steps = rows(&policy);
    match g.format {
        Format::Json => output::json(&serde_json::json!({
            "ticket": id,
            "policy": policy.id,
            "steps": steps.iter().map(|s| serde_json::json!({
                "step": s.step,
                "declared": s.declared,
                "label": s.label,
                "by": s.by,
                "reaches": s.reaches,
                "rules": s.rules,
            })).collect::<Vec<_>>(),
        })),
        _ => {
            let table: Vec<Vec<String>> = steps
                .iter()
                .map(|s| {
                    vec![
                        s.step.clone(),
                        s.label.clone(),
                        s.by.clone().unwrap_or_else(|| "-".into()),
                        dash(&s.reaches.join(", ")),
                        dash(&s.rules.join(", ")),
                    ]
                })
                .collect();
            let mut text = format!(
                "steps of policy {} (record one: steward ticket act {id} STEP --by WHO)\n",
                policy.id
            );
            text.push_str(&output::table(
                &["step", "label", "by", "reaches", "rules"],
                &table,
            ));
            output::print(&text);
        }
    }
    Ok(EXIT_OK)
}

struct StepRow {
    step: String,
    declared: bool,
    label: String,
    by: Option<String>,
    reaches: Vec<String>,
    rules: Vec<String>,
}

fn rows(p: &Policy) -> Vec<StepRow> {
    let reaches = |step: &str| -> Vec<String> {
        p.milestones
            .iter()
            .filter(|(_, m)| m.reached_by.iter().any(|a| a == step))
            .map(|(id, _)| id.clone())
            .collect()
    };
    let builtin = BUILTIN_STEPS.iter().map(|s| StepRow {
        step: (*s).to_string(),
        declared: false,
        label: builtin_label(s).into(),
        by: None,
        reaches: reaches(s),
        rules: Vec::new(),
    });
    let declared = p.actions.iter().map(|(id, a)| StepRow {
        step: id.clone(),
        declared: true,
        label: a.label.clone(),
        by: a.by.clone(),
        reaches: reaches(id),
        rules: a.rules.clone(),
    });
    builtin.chain(declared).collect()
}

/// What each built-in action stands for in the procedure.
fn builtin_label(step: &str) -> &'static str {
    match step {
        "respond" => "first response to the owner (built-in)",
        "plan" => "initial handling plan (built-in)",
        "report" => "handling form to the service center (built-in)",
        "expert_reply" => "the expert panel's reply (built-in)",
        "update" => "progress update to the owner (built-in)",
        "notice" => "written notice to maintenance, V5 (built-in)",
        _ => "(built-in)",
    }
}

fn dash(s: &str) -> String {
    if s.is_empty() { "-".into() } else { s.into() }
}
