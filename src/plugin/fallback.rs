//! What the engine's classify step does with a plug-in: take its answer, or, when the
//! call failed, the plug-in's `fallback` category and the error to record on the
//! ticket. Kept beside the host so every caller applies the fallback the same way.

use super::declaration::Plugin;
use super::error::PluginError;
use super::loaded::LoadedPlugin;
use super::wire::PluginClassification;
use crate::script::facts::TicketFacts;

/// A classify plug-in's effect on a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassifyOutcome {
    /// The plug-in's answer, or on failure just `category: fallback`. A `None`
    /// category leaves the decision to the policy's conditions (and, failing those,
    /// to its `default_category`).
    pub classification: PluginClassification,
    /// The failure to record on the ticket, naming the plug-in.
    pub failure: Option<PluginError>,
}

/// Run `loaded` on `facts`; on any failure, fall back to `plugin.fallback`.
pub fn classify_or_fallback(
    loaded: &mut LoadedPlugin,
    facts: &TicketFacts,
    plugin: &Plugin,
) -> ClassifyOutcome {
    match loaded.classify(facts) {
        Ok(classification) => ClassifyOutcome {
            classification,
            failure: None,
        },
        Err(e) => ClassifyOutcome {
            classification: PluginClassification {
                category: plugin.fallback.clone(),
                ..PluginClassification::default()
            },
            failure: Some(e),
        },
    }
}
