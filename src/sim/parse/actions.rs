//! One scenario step's action (`open`, `respond`, `act`, `deadline`, `event`,
//! …), read from its TOML value into the engine command it stands for.

use super::*;

pub(super) fn action(
    ctx: &mut Ctx,
    key: &str,
    node: &Node,
    start: DateTime<Utc>,
) -> Option<StepAction> {
    let cmd = |ticket: String, cmd: Command| Some(StepAction::Command { ticket, cmd });
    match key {
        "open" => open(ctx, node).map(StepAction::Open),
        "respond" | "plan" | "report" | "expert_reply" | "update" | "notice" => {
            let (ticket, r) = ticket_table(ctx, key, node, &["ticket", "by", "note"])?;
            let action = Action::parse(key)?;
            let by = s(ctx, &r, "by", "");
            let note = s(ctx, &r, "note", "");
            cmd(ticket, Command::Act { action, by, note })
        }
        "act" => {
            let (ticket, r) = ticket_table(ctx, key, node, &["ticket", "step", "by", "note"])?;
            let r = r?;
            let (step, _) = r.req_str(ctx, "step", "\"contact_experts\"")?;
            let by = r.string_or(ctx, "by", "");
            let note = r.string_or(ctx, "note", "");
            let builtin = crate::engine::BUILTIN_STEPS.contains(&step.as_str());
            match Action::parse(&step).filter(|_| builtin) {
                Some(action) => cmd(ticket, Command::Act { action, by, note }),
                None => cmd(ticket, Command::Step { step, by, note }),
            }
        }
        "deadline" => {
            let (ticket, r) = ticket_table(
                ctx,
                key,
                node,
                &["ticket", "limit", "at", "within", "by", "reason"],
            )?;
            let r = r?;
            let (limit, _) = r.req_str(ctx, "limit", "\"E2.deadline\"")?;
            let by = r.string_or(ctx, "by", "");
            let reason = r.string_or(ctx, "reason", "");
            let due = match (r.entry("at"), r.opt_str(ctx, "within")) {
                (Some(e), None) => crate::engine::Due::At(instant(ctx, &e.node, Some(start))?),
                (None, Some((w, loc))) => match w.parse() {
                    Ok(span) => crate::engine::Due::Within(span),
                    Err(e) => {
                        ctx.error(loc, format!("bad duration in `within`: {e}"));
                        return None;
                    }
                },
                _ => {
                    ctx.error(r.loc, "a deadline has either `at` or `within`");
                    return None;
                }
            };
            cmd(
                ticket,
                Command::SetDeadline {
                    limit,
                    due,
                    by,
                    reason,
                },
            )
        }
        "classify" => {
            let (ticket, r) =
                ticket_table(ctx, key, node, &["ticket", "category", "class", "major"])?;
            let r = r?;
            let category = r.opt_str(ctx, "category").map(|(s, _)| s);
            let class = r.opt_int(ctx, "class").and_then(|(n, l)| small(ctx, n, l));
            let major = r.entry("major").map(|_| r.bool_or(ctx, "major", false));
            cmd(
                ticket,
                Command::Classify {
                    category,
                    class,
                    major,
                },
            )
        }
        "assign" => {
            let (ticket, r) =
                ticket_table(ctx, key, node, &["ticket", "department", "tier", "lead"])?;
            let r = r?;
            let (department, _) = r.req_str(ctx, "department", "\"engineering\"")?;
            let tier = r.string_or(ctx, "tier", "L2");
            let lead = r.opt_str(ctx, "lead").map(|(s, _)| s);
            cmd(
                ticket,
                Command::Assign {
                    department,
                    tier,
                    lead,
                },
            )
        }
        "pause" => {
            let (ticket, r) = ticket_table(ctx, key, node, &["ticket", "reason"])?;
            let (reason, _) = r?.req_str(ctx, "reason", "\"waiting_owner\"")?;
            cmd(ticket, Command::Pause { reason })
        }
        "resume" => {
            let (ticket, _) = ticket_table(ctx, key, node, &["ticket"])?;
            cmd(ticket, Command::Resume)
        }
        "resolve" => {
            let (ticket, r) = ticket_table(ctx, key, node, &["ticket", "note"])?;
            let note = s(ctx, &r, "note", "");
            cmd(ticket, Command::Resolve { note })
        }
        "revisit" => {
            let (ticket, r) = ticket_table(
                ctx,
                key,
                node,
                &["ticket", "ok", "problem", "channel", "note"],
            )?;
            let (ok, channel, note) = match &r {
                Some(r) => {
                    let problem = r.bool_or(ctx, "problem", false);
                    let ok = r.bool_or(ctx, "ok", !problem);
                    if ok == problem {
                        ctx.error(r.loc, "a revisit is either `ok = true` or `problem = true`");
                    }
                    (
                        ok,
                        r.string_or(ctx, "channel", "phone"),
                        r.string_or(ctx, "note", ""),
                    )
                }
                None => (true, "phone".into(), String::new()),
            };
            cmd(ticket, Command::Revisit { ok, channel, note })
        }
        "close" => {
            let (ticket, r) = ticket_table(ctx, key, node, &["ticket", "invalid"])?;
            let invalid = r
                .as_ref()
                .and_then(|r| r.opt_str(ctx, "invalid"))
                .map(|(s, _)| s);
            cmd(ticket, Command::Close { invalid })
        }
        "reopen" => {
            let (ticket, r) = ticket_table(ctx, key, node, &["ticket", "reason"])?;
            let reason = s(ctx, &r, "reason", "reopened");
            cmd(ticket, Command::Reopen { reason })
        }
        "waive" => {
            let (ticket, r) = ticket_table(ctx, key, node, &["ticket", "slot", "reason", "by"])?;
            let slot = r
                .as_ref()
                .and_then(|r| r.opt_str(ctx, "slot"))
                .map(|(s, _)| s);
            let reason = s(ctx, &r, "reason", "");
            let by = s(ctx, &r, "by", "");
            cmd(ticket, Command::WaiveRevisit { slot, reason, by })
        }
        "compensation" => {
            let (ticket, r) = ticket_table(ctx, key, node, &["ticket", "amount", "note"])?;
            let r = r?;
            let (amount, _) = r.req_str(ctx, "amount", "\"500\"")?;
            let note = r.string_or(ctx, "note", "");
            cmd(ticket, Command::Compensation { amount, note })
        }
        "rain" => match &node.val {
            Val::Str(estate) => Some(StepAction::Event {
                kind: "rain".into(),
                estate: estate.clone(),
            }),
            other => {
                ctx.error(
                    node.loc,
                    format!("`rain` names an estate, found {}", other.type_name()),
                );
                None
            }
        },
        "event" => match &node.val {
            Val::Table(t) => {
                let r = Reader::new(t, node.loc, "`event`", "event", &["kind", "estate"]);
                r.check_keys(ctx);
                let kind = r.req_str(ctx, "kind", "\"rain\"");
                let estate = r.req_str(ctx, "estate", "\"gardens\"");
                Some(StepAction::Event {
                    kind: kind?.0,
                    estate: estate?.0,
                })
            }
            other => {
                ctx.error(
                    node.loc,
                    format!(
                        "`event` must be a table {{ kind, estate }}, found {}",
                        other.type_name()
                    ),
                );
                None
            }
        },
        "tick" => Some(StepAction::Tick),
        _ => None,
    }
}

fn small(ctx: &mut Ctx, n: i64, loc: Loc) -> Option<u8> {
    match u8::try_from(n) {
        Ok(v) => Some(v),
        Err(_) => {
            ctx.error(
                loc,
                format!("expected a complaint class 1, 2 or 3, found {n}"),
            );
            None
        }
    }
}

fn open(ctx: &mut Ctx, node: &Node) -> Option<OpenTicket> {
    let Val::Table(t) = &node.val else {
        ctx.push(
            Diagnostic::error(
                node.loc,
                format!("`open` must be a table, found {}", node.val.type_name()),
            )
            .with_help(
                "open = { ref = \"T1\", estate = \"gardens\", kind = \"repair\", text = \"...\" }",
            ),
        );
        return None;
    };
    let r = Reader::new(t, node.loc, "`open`", "open", OPEN);
    r.check_keys(ctx);
    let id = match (r.opt_str(ctx, "ref"), r.opt_str(ctx, "id")) {
        (Some((id, _)), _) | (None, Some((id, _))) => Some(id),
        (None, None) => {
            r.missing(ctx, "ref", "\"T1\"");
            None
        }
    };
    let estate = r.req_str(ctx, "estate", "\"gardens\"");
    let kind = r.req_str(ctx, "kind", "\"repair\"");
    let text = r.req_str(ctx, "text", "\"卫生间天花板渗水\"");
    if let Some((k, l)) = &kind
        && crate::policy::model::Kind::parse(k).is_none()
    {
        ctx.error(
            *l,
            format!("unknown kind `{k}`: expected inquiry, repair, complaint or suggestion"),
        );
    }
    let class = r
        .opt_int(ctx, "class")
        .and_then(|(n, l)| small(ctx, n, l))
        .unwrap_or(0);
    Some(OpenTicket {
        id: id?,
        estate: estate?.0,
        unit: r.string_or(ctx, "unit", ""),
        owner: r.string_or(ctx, "owner", ""),
        channel: r.string_or(ctx, "channel", "hotline"),
        kind: kind?.0,
        text: text?.0,
        urgency: r.string_or(ctx, "urgency", ""),
        major: r.bool_or(ctx, "major", false),
        phase: r.string_or(ctx, "phase", ""),
        tags: r
            .str_list(ctx, "tags")
            .into_iter()
            .map(|(s, _)| s)
            .collect(),
        class,
    })
}
