//! The external events a policy declares: the kinds its revisit steps wait
//! for (`step = [{ on_event = "rain" }]`, V4). An event of another kind would
//! be logged and wake nothing, so `POST /v1/events` refuses it by name.

use std::collections::BTreeSet;

use crate::policy::model::{Policy, RevisitStep};

pub fn declared(p: &Policy) -> BTreeSet<String> {
    p.revisits
        .values()
        .flat_map(|r| r.steps.iter())
        .filter_map(|s| match s {
            RevisitStep::OnEvent { event } => Some(event.clone()),
            RevisitStep::Within { .. } => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_default_declares_rain() {
        let company = crate::policy::embedded::load("vk-shanghai").ok().unwrap();
        let kinds: Vec<String> = super::declared(&company.policy).into_iter().collect();
        assert_eq!(kinds, ["rain"]);
    }
}
