//! From the merged raw tree to the [`Policy`] model, one section at a time. Every
//! problem is collected in [`Ctx`]; a value that cannot be read is left out so the
//! remaining checks still run and the user sees all errors at once.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::diagnostic::{Diagnostic, Loc, SourceMap};
use crate::limit_duration::LimitDuration;
use crate::script::condition::{self, Condition, ConditionError};

use super::model::*;
use super::raw::Table;
use super::reader::{Ctx, Reader};

mod calendar_section;
mod extensions;
mod limits;

const TOP: &[&str] = &[
    "policy",
    "calendar",
    "department",
    "role",
    "category",
    "milestone",
    "limit",
    "escalation",
    "pause",
    "revisit",
    "reopen",
    "closing",
    "compensation",
    "ordering",
    "hook",
    "plugin",
    "event",
    "action",
    "channel",
    "urgency",
];

mod events;
mod steps;
pub use events::is_event_name;

/// A hook or plug-in file reference, resolved by the loader (which owns file access).
pub struct FileRef {
    pub section: &'static str,
    pub id: String,
    pub path: String,
    pub loc: Loc,
}

pub struct Built {
    pub policy: Policy,
    pub file_refs: Vec<FileRef>,
}

pub fn build(root: &Table, root_loc: Loc, sources: &SourceMap, ctx: &mut Ctx) -> Built {
    let top = Reader::new(root, root_loc, "the policy", "", TOP);
    top.check_keys(ctx);
    let engine = condition::engine();
    let mut b = Builder {
        ctx,
        sources,
        engine: &engine,
        file_refs: Vec::new(),
    };

    let header = b.header(&top);
    let calendars = b.calendars(&top);
    let departments = b.labelled(&top, "department");
    let roles = b.labelled(&top, "role");
    let categories = b.categories(&top);
    let actions = b.actions(&top);
    let channels = b.values(&top, "channel");
    let urgencies = b.values(&top, "urgency");
    let milestones = b.milestones(&top, &actions);
    let escalation = b.escalation(&top);
    let limits = b.limits(&top);
    let pauses = b.pauses(&top);
    let revisits = b.revisits(&top);
    let reopen = b.reopen(&top);
    let closing = b.closing(&top);
    let compensation = b.compensation(&top);
    let ordering = b.ordering(&top);
    let hooks = b.hooks(&top);
    let plugins = b.plugins(&top);
    let events = b.events(&top);
    let file_refs = b.file_refs;

    let policy = Policy {
        id: header.id,
        version: header.version,
        title: header.title,
        timezone: header.timezone,
        locale: header.locale,
        calendar: header.calendar,
        default_category: header.default_category,
        calendars,
        departments: departments
            .into_iter()
            .map(|(k, label)| (k, Department { label }))
            .collect(),
        roles: roles
            .into_iter()
            .map(|(k, label)| (k, Role { label }))
            .collect(),
        categories,
        milestones,
        limits,
        escalation,
        pauses,
        revisits,
        reopen,
        closing,
        compensation,
        ordering,
        hooks,
        plugins,
        events,
        actions,
        channels,
        urgencies,
    };
    Built { policy, file_refs }
}

struct Header {
    id: String,
    version: String,
    title: String,
    timezone: String,
    locale: Option<String>,
    calendar: Option<String>,
    default_category: String,
}

struct Builder<'a> {
    ctx: &'a mut Ctx,
    sources: &'a SourceMap,
    engine: &'a rhai::Engine,
    file_refs: Vec<FileRef>,
}

impl Builder<'_> {
    fn header(&mut self, top: &Reader) -> Header {
        let Some((t, loc)) = top.table(self.ctx, "policy") else {
            self.ctx.push(
                Diagnostic::error(top.loc, "the policy has no `[policy]` table")
                    .with_help("start the file with `[policy]` and `id = \"...\"`"),
            );
            return Header {
                id: String::new(),
                version: String::new(),
                title: String::new(),
                timezone: "UTC".into(),
                locale: None,
                calendar: None,
                default_category: String::new(),
            };
        };
        const KEYS: &[&str] = &[
            "id",
            "version",
            "title",
            "extends",
            "timezone",
            "locale",
            "calendar",
            "default_category",
        ];
        let r = Reader::new(t, loc, "[policy]", "policy", KEYS);
        r.check_keys(self.ctx);
        let id = r
            .req_str(self.ctx, "id", "\"my-company\"")
            .map(|v| v.0)
            .unwrap_or_default();
        let timezone = match r.req_str(self.ctx, "timezone", "\"Asia/Shanghai\"") {
            Some((tz, loc)) => {
                if tz.parse::<chrono_tz::Tz>().is_err() {
                    self.ctx.push(
                        Diagnostic::error(loc, format!("unknown timezone `{tz}`"))
                            .with_help("use an IANA name such as `Asia/Shanghai`"),
                    );
                }
                tz
            }
            None => "UTC".into(),
        };
        let default_category = r
            .req_str(self.ctx, "default_category", "\"complaint.unclassified\"")
            .map(|v| v.0)
            .unwrap_or_default();
        Header {
            id,
            version: r.string_or(self.ctx, "version", ""),
            title: r.string_or(self.ctx, "title", ""),
            timezone,
            locale: self.locale(&r),
            calendar: r.opt_str(self.ctx, "calendar").map(|v| v.0),
            default_category,
        }
    }

    /// `locale = "zh-CN"`: a language tag the reports know (en or zh-CN and their variants).
    fn locale(&mut self, r: &Reader) -> Option<String> {
        let (locale, loc) = r.opt_str(self.ctx, "locale")?;
        let l = locale.to_ascii_lowercase();
        let known = ["en", "zh"]
            .iter()
            .any(|p| l == *p || l.starts_with(&format!("{p}-")));
        if !known {
            self.ctx.push(
                Diagnostic::error(loc, format!("unknown locale `{locale}`"))
                    .with_help("reports are written in `zh-CN` or `en`"),
            );
        }
        Some(locale)
    }

    /// Rules of a section, each with a unique `id`; returns (id, reader) pairs.
    fn rules<'t>(
        &mut self,
        top: &Reader<'t>,
        section: &str,
        keys: &'static [&'static str],
    ) -> Vec<(String, Reader<'t>)> {
        let mut out: Vec<(String, Reader<'t>)> = Vec::new();
        for (t, loc) in top.tables(self.ctx, section) {
            let anon = Reader::new(t, loc, format!("[[{section}]]"), section.to_string(), keys);
            let Some((id, id_loc)) = anon.req_str(self.ctx, "id", "\"...\"") else {
                anon.check_keys(self.ctx);
                continue;
            };
            if id.trim().is_empty() {
                self.ctx
                    .error(id_loc, format!("`id` in [[{section}]] must not be empty"));
                continue;
            }
            if out.iter().any(|(seen, _)| *seen == id) {
                self.ctx.push(
                    Diagnostic::error(id_loc, format!("duplicate {section} id `{id}`"))
                        .with_help("ids must be unique within a policy; an overlay changes a rule by reusing its id in the policy that `extends`"),
                );
                continue;
            }
            let r = Reader::new(
                t,
                loc,
                format!("[[{section}]] `{id}`"),
                format!("{section}.{id}"),
                keys,
            );
            r.check_keys(self.ctx);
            self.ctx.spans.insert(format!("{section}.{id}"), id_loc);
            out.push((id, r));
        }
        out
    }

    fn labelled(&mut self, top: &Reader, section: &str) -> BTreeMap<String, String> {
        self.rules(top, section, &["id", "label"])
            .into_iter()
            .map(|(id, r)| {
                let label = r.string_or(self.ctx, "label", &id);
                (id, label)
            })
            .collect()
    }

    fn rule_ids(&mut self, r: &Reader) -> Vec<String> {
        r.strings(self.ctx, "rules")
    }

    /// Compile a condition now so syntax errors and unknown variables are reported
    /// at the exact line and column inside the TOML string.
    fn condition(&mut self, r: &Reader, key: &str) -> Option<String> {
        let (expr, loc) = r.opt_str(self.ctx, key)?;
        if let Err(ConditionError::Compile {
            message,
            line,
            column,
        }) = Condition::compile(self.engine, &expr)
        {
            let at = super::expr_loc::locate(self.sources, loc, line, column);
            self.ctx.push(Diagnostic::error(at, message).with_help(
                "a condition is a rhai expression over the ticket, e.g. `kind == \"repair\" && text.contains(\"漏水\")`",
            ));
        }
        Some(expr)
    }

    fn span(&mut self, r: &Reader, key: &str) -> Option<LimitDuration> {
        let (text, loc) = r.opt_str(self.ctx, key)?;
        match LimitDuration::from_str(&text) {
            Ok(span) => Some(span),
            Err(err) => {
                self.ctx.push(Diagnostic::error(
                    loc,
                    format!("bad duration in `{key}`: {err}"),
                ));
                None
            }
        }
    }

    fn categories(&mut self, top: &Reader) -> BTreeMap<String, Category> {
        const KEYS: &[&str] = &[
            "id",
            "kind",
            "label",
            "when",
            "priority",
            "class",
            "emergency",
            "major",
            "phase",
            "route",
            "form",
            "report_to",
            "publish_result",
            "rules",
        ];
        let mut out = BTreeMap::new();
        for (id, r) in self.rules(top, "category", KEYS) {
            let kind = match r.req_str(self.ctx, "kind", "\"complaint\"") {
                Some((k, loc)) => Kind::parse(&k).or_else(|| {
                    self.ctx.push(
                        Diagnostic::error(loc, format!("unknown kind `{k}`"))
                            .with_help(format!("expected one of: {}", Kind::ALL.join(", "))),
                    );
                    None
                }),
                None => None,
            };
            let class = r.opt_int(self.ctx, "class").and_then(|(n, loc)| {
                if (1..=3).contains(&n) {
                    u8::try_from(n).ok()
                } else {
                    self.ctx.push(
                        Diagnostic::error(loc, format!("complaint class must be 1, 2 or 3, found {n}"))
                            .with_help("D4: 1 management, 2 developer / housing quality, 3 external environment"),
                    );
                    None
                }
            });
            let phase = r.opt_str(self.ctx, "phase").and_then(|(p, loc)| {
                Phase::parse(&p).or_else(|| {
                    self.ctx.push(
                        Diagnostic::error(loc, format!("unknown phase `{p}`"))
                            .with_help("expected `before_occupancy` or `after_occupancy`"),
                    );
                    None
                })
            });
            let category = Category {
                kind: kind.unwrap_or(Kind::Complaint),
                label: r.string_or(self.ctx, "label", &id),
                when: self.condition(&r, "when"),
                priority: r.opt_int(self.ctx, "priority").map(|v| v.0).unwrap_or(0),
                class,
                emergency: r.bool_or(self.ctx, "emergency", false),
                major: r.bool_or(self.ctx, "major", false),
                phase,
                route: r.opt_str(self.ctx, "route").map(|v| v.0),
                form: r.opt_str(self.ctx, "form").map(|v| v.0),
                report_to: r.strings(self.ctx, "report_to"),
                publish_result: r.bool_or(self.ctx, "publish_result", false),
                rules: self.rule_ids(&r),
            };
            out.insert(id, category);
        }
        out
    }

    fn milestones(
        &mut self,
        top: &Reader,
        actions: &BTreeMap<String, ActionDef>,
    ) -> BTreeMap<String, Milestone> {
        let mut out = BTreeMap::new();
        for (id, r) in self.rules(top, "milestone", &["id", "label", "reached_by", "rules"]) {
            let reached_by = self.reached_by(&r, actions);
            let label = r.string_or(self.ctx, "label", &id);
            out.insert(
                id,
                Milestone {
                    label,
                    reached_by,
                    rules: self.rule_ids(&r),
                },
            );
        }
        out
    }

    fn escalation(&mut self, top: &Reader) -> Escalation {
        let Some((t, loc)) = top.table(self.ctx, "escalation") else {
            return Escalation {
                ladder: Vec::new(),
                rules: Vec::new(),
            };
        };
        let r = Reader::new(t, loc, "[escalation]", "escalation", &["ladder", "rules"]);
        r.check_keys(self.ctx);
        let mut ladder: Vec<LadderStep> = Vec::new();
        for (st, sloc) in r.tables(self.ctx, "ladder") {
            let sr = Reader::new(
                st,
                sloc,
                "a ladder step",
                "escalation.ladder",
                &["id", "label", "notify"],
            );
            sr.check_keys(self.ctx);
            let Some((id, id_loc)) = sr.req_str(self.ctx, "id", "\"service_center\"") else {
                continue;
            };
            if ladder.iter().any(|s| s.id == id) {
                self.ctx
                    .error(id_loc, format!("duplicate ladder step `{id}`"));
                continue;
            }
            self.ctx
                .spans
                .insert(format!("escalation.ladder.{id}"), id_loc);
            let step_reader = Reader::new(
                st,
                sloc,
                "a ladder step",
                format!("escalation.ladder.{id}"),
                &[],
            );
            let notify = step_reader.strings(self.ctx, "notify");
            ladder.push(LadderStep {
                label: sr.string_or(self.ctx, "label", &id),
                id,
                notify,
            });
        }
        Escalation {
            ladder,
            rules: self.rule_ids(&r),
        }
    }

    fn pauses(&mut self, top: &Reader) -> BTreeMap<String, PauseRule> {
        let mut out = BTreeMap::new();
        for (id, r) in self.rules(top, "pause", &["id", "label", "applies", "stops", "rules"]) {
            let stops: Vec<String> = r.strings(self.ctx, "stops");
            if stops.is_empty() {
                self.ctx.push(
                    Diagnostic::error(r.loc_of("id"), format!("pause `{id}` stops no clock"))
                        .with_help(
                            "add `stops = [\"resolution\"]` with the milestones whose clocks stop",
                        ),
                );
            }
            let rule = PauseRule {
                label: r.string_or(self.ctx, "label", &id),
                applies: self.condition(&r, "applies"),
                stops,
                rules: self.rule_ids(&r),
            };
            out.insert(id, rule);
        }
        out
    }

    fn revisits(&mut self, top: &Reader) -> BTreeMap<String, Revisit> {
        let mut out = BTreeMap::new();
        for (id, r) in self.rules(top, "revisit", &["id", "label", "applies", "step", "rules"]) {
            let mut steps = Vec::new();
            let tables = r.tables(self.ctx, "step");
            if tables.is_empty() {
                r.missing(self.ctx, "step", "[{ within = \"3d\" }]");
            }
            for (i, (st, sloc)) in tables.into_iter().enumerate() {
                let what = format!("step {} of revisit `{id}`", i + 1);
                let sr = Reader::new(
                    st,
                    sloc,
                    what,
                    format!("revisit.{id}.step.{}", i + 1),
                    &["within", "after", "on_event"],
                );
                sr.check_keys(self.ctx);
                let within = self.span(&sr, "within");
                let on_event = sr.opt_str(self.ctx, "on_event").map(|v| v.0);
                let after = match sr.opt_str(self.ctx, "after") {
                    None => RevisitAnchor::Resolved,
                    Some((a, _)) if a == "resolved" => RevisitAnchor::Resolved,
                    Some((a, _)) if a == "previous" => RevisitAnchor::Previous,
                    Some((a, loc)) => {
                        self.ctx.push(
                            Diagnostic::error(loc, format!("unknown revisit anchor `{a}`"))
                                .with_help("expected `resolved` or `previous`"),
                        );
                        RevisitAnchor::Resolved
                    }
                };
                match (within, on_event) {
                    (Some(within), None) => steps.push(RevisitStep::Within { within, after }),
                    (None, Some(event)) => steps.push(RevisitStep::OnEvent { event }),
                    (Some(_), Some(_)) => self.ctx.push(
                        Diagnostic::error(sloc, format!("{} has both `within` and `on_event`", sr.what))
                            .with_help("a step is due either after a time or on an event; split it in two steps"),
                    ),
                    (None, None) if sr.entry("within").is_none() => self.ctx.push(
                        Diagnostic::error(sloc, format!("{} needs `within` or `on_event`", sr.what))
                            .with_help("e.g. { within = \"3d\" } or { on_event = \"rain\" }"),
                    ),
                    (None, None) => {}
                }
            }
            let revisit = Revisit {
                label: r.string_or(self.ctx, "label", &id),
                applies: self.condition(&r, "applies"),
                steps,
                rules: self.rule_ids(&r),
            };
            out.insert(id, revisit);
        }
        out
    }

    fn section<'t>(
        &mut self,
        top: &Reader<'t>,
        key: &str,
        keys: &'static [&'static str],
    ) -> Option<Reader<'t>> {
        let (t, loc) = top.table(self.ctx, key)?;
        let r = Reader::new(t, loc, format!("[{key}]"), key.to_string(), keys);
        r.check_keys(self.ctx);
        Some(r)
    }

    fn reopen(&mut self, top: &Reader) -> Reopen {
        let Some(r) = self.section(top, "reopen", &["notice_within", "notify", "rules"]) else {
            return Reopen {
                notice_within: None,
                notify: Vec::new(),
                rules: Vec::new(),
            };
        };
        Reopen {
            notice_within: self.span(&r, "notice_within"),
            notify: r.strings(self.ctx, "notify"),
            rules: self.rule_ids(&r),
        }
    }

    fn closing(&mut self, top: &Reader) -> Closing {
        const KEYS: &[&str] = &[
            "invalid_requires_explanation",
            "require_callback",
            "callback_channels",
            "rules",
        ];
        let Some(r) = self.section(top, "closing", KEYS) else {
            return Closing {
                invalid_requires_explanation: true,
                callback_channels: Vec::new(),
                require_callback: false,
                rules: Vec::new(),
            };
        };
        Closing {
            invalid_requires_explanation: r.bool_or(self.ctx, "invalid_requires_explanation", true),
            callback_channels: r.strings(self.ctx, "callback_channels"),
            require_callback: r.bool_or(self.ctx, "require_callback", false),
            rules: self.rule_ids(&r),
        }
    }

    fn compensation(&mut self, top: &Reader) -> Compensation {
        let Some(r) = self.section(top, "compensation", &["notify", "rules"]) else {
            return Compensation {
                notify: Vec::new(),
                rules: Vec::new(),
            };
        };
        Compensation {
            notify: r.strings(self.ctx, "notify"),
            rules: self.rule_ids(&r),
        }
    }

    fn ordering(&mut self, top: &Reader) -> Ordering {
        let default_timers = vec![
            TimerKind::Breach,
            TimerKind::Warning,
            TimerKind::Notice,
            TimerKind::Revisit,
        ];
        let Some(r) = self.section(top, "ordering", &["action_before_deadline", "timers"]) else {
            return Ordering {
                action_before_deadline: true,
                timers: default_timers,
            };
        };
        let mut timers = Vec::new();
        for (t, loc) in r.str_list(self.ctx, "timers") {
            match TimerKind::parse(&t) {
                Some(k) if !timers.contains(&k) => timers.push(k),
                Some(_) => self
                    .ctx
                    .error(loc, format!("timer kind `{t}` is listed twice")),
                None => self.ctx.push(
                    Diagnostic::error(loc, format!("unknown timer kind `{t}`"))
                        .with_help("expected breach, warning, notice or revisit"),
                ),
            }
        }
        for k in default_timers {
            if !timers.contains(&k) {
                timers.push(k);
            }
        }
        Ordering {
            action_before_deadline: r.bool_or(self.ctx, "action_before_deadline", true),
            timers,
        }
    }
}
