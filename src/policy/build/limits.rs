//! The `[[limit]]` rules: what milestone each waits for, how long, from when,
//! who may set its deadline, and what a breach does.

use super::*;

impl Builder<'_> {
    pub(super) fn limits(&mut self, top: &Reader) -> BTreeMap<String, Limit> {
        const KEYS: &[&str] = &[
            "id",
            "label",
            "applies",
            "milestone",
            "within",
            "from",
            "calendar",
            "warn_at",
            "repeat",
            "on_breach",
            "escalate_to",
            "notify",
            "set_by",
            "rules",
        ];
        let mut out = BTreeMap::new();
        for (id, r) in self.rules(top, "limit", KEYS) {
            let set_by = r.opt_str(self.ctx, "set_by").map(|v| v.0);
            let milestone = r
                .req_str(self.ctx, "milestone", "\"first_response\"")
                .map(|v| v.0);
            if r.entry("within").is_none() && set_by.is_none() {
                r.missing(self.ctx, "within", "\"24h\"");
            }
            let within = self.span(&r, "within");
            let mut starts = r.str_list(self.ctx, "from").into_iter().map(|(f, _)| {
                if f == "opened" {
                    return ClockStart::Opened;
                }
                match f.strip_prefix("escalated:") {
                    Some(step) => ClockStart::Escalated(step.to_string()),
                    None => ClockStart::Milestone(
                        f.strip_prefix("milestone:").unwrap_or(&f).to_string(),
                    ),
                }
            });
            let from = starts.next().unwrap_or(ClockStart::Opened);
            let also_from: Vec<ClockStart> = starts.collect();
            let warn_at = r.opt_str(self.ctx, "warn_at").and_then(|(w, loc)| {
                let pct = w
                    .strip_suffix('%')
                    .and_then(|n| n.trim().parse::<u8>().ok());
                match pct {
                    Some(p) if (1..100).contains(&p) => Some(p),
                    _ => {
                        self.ctx.push(
                            Diagnostic::error(loc, format!("bad `warn_at` value `{w}`")).with_help(
                                "expected a share of the time between 1% and 99%, e.g. \"75%\"",
                            ),
                        );
                        None
                    }
                }
            });
            let on_breach = self.breach(&r);
            let limit = Limit {
                label: r.string_or(self.ctx, "label", &id),
                applies: self.condition(&r, "applies"),
                // An unreadable value was reported above; a placeholder keeps the
                // cross-reference checks running so every error shows at once.
                milestone: milestone.unwrap_or_default(),
                within: match (within, &set_by) {
                    (Some(w), _) => Some(w),
                    (None, Some(_)) => None,
                    (None, None) => Some(LimitDuration::Wall { minutes: 1 }),
                },
                from,
                also_from,
                set_by,
                calendar: r.opt_str(self.ctx, "calendar").map(|v| v.0),
                warn_at,
                repeat: r.bool_or(self.ctx, "repeat", false),
                on_breach,
                rules: self.rule_ids(&r),
            };
            out.insert(id, limit);
        }
        out
    }

    fn breach(&mut self, r: &Reader) -> Breach {
        let notify = r.strings(self.ctx, "notify");
        let escalate = match (
            r.opt_str(self.ctx, "on_breach"),
            r.opt_str(self.ctx, "escalate_to"),
        ) {
            (_, Some((step, _))) => Some(EscalateTo::Step(step)),
            (Some((mode, _)), None) if mode == "escalate" => Some(EscalateTo::Next),
            (Some((mode, _)), None) if mode == "notify" => None,
            (Some((mode, loc)), None) => {
                self.ctx.push(
                    Diagnostic::error(loc, format!("unknown breach action `{mode}`"))
                        .with_help("expected `escalate` (next ladder step) or `notify`; or set `escalate_to = \"step\"`"),
                );
                None
            }
            (None, None) => None,
        };
        Breach { escalate, notify }
    }
}
