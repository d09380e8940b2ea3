//! Every event a revisit step waits for must be a declared `[[event]]` kind:
//! otherwise `steward event` refuses to record it and the ticket can never close.

use crate::diagnostic::{Diagnostic, did_you_mean};

use super::model::{Policy, RevisitStep};
use super::reader::Ctx;

pub fn check(p: &Policy, ctx: &mut Ctx) {
    let declared: Vec<&str> = p.events.keys().map(String::as_str).collect();
    for (id, v) in &p.revisits {
        for (i, step) in v.steps.iter().enumerate() {
            let RevisitStep::OnEvent { event } = step else {
                continue;
            };
            if declared.contains(&event.as_str()) {
                continue;
            }
            let key = format!("revisit.{id}.step.{}.on_event", i + 1);
            let loc = ctx
                .spans
                .get(&key)
                .or_else(|| ctx.spans.get(&format!("revisit.{id}")));
            let d = Diagnostic::error(
                loc,
                format!(
                    "revisit `{id}` waits for event `{event}`, which the policy does not declare"
                ),
            );
            let d = match did_you_mean(event, declared.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None if declared.is_empty() => d.with_help(format!(
                    "declare it with [[event]] id = \"{event}\", so `steward event {event} --estate E` can record it"
                )),
                None => d.with_help(format!(
                    "declared: {}; or declare it with [[event]] id = \"{event}\"",
                    declared.join(", ")
                )),
            };
            ctx.push(d);
        }
    }
}
