//! The `[calendar.ID]` sections: working days and hours, holidays, make-up
//! workdays, included statutory data and holiday feeds, read into [`CalendarDef`]s.

use super::*;

impl Builder<'_> {
    pub(super) fn calendars(&mut self, top: &Reader) -> BTreeMap<String, CalendarDef> {
        let mut out = BTreeMap::new();
        let Some((t, _)) = top.table(self.ctx, "calendar") else {
            return out;
        };
        for entry in &t.entries {
            let crate::policy::raw::Val::Table(ct) = &entry.node.val else {
                self.ctx.error(
                    entry.node.loc,
                    format!("calendar `{}` must be a table", entry.key),
                );
                continue;
            };
            const KEYS: &[&str] = &[
                "workdays",
                "hours",
                "holidays",
                "makeup_workdays",
                "include",
                "ics",
                "business_days",
            ];
            let what = format!("[calendar.{}]", entry.key);
            let r = Reader::new(
                ct,
                entry.node.loc,
                what,
                format!("calendar.{}", entry.key),
                KEYS,
            );
            r.check_keys(self.ctx);
            // Each list is read once (so a wrong type is reported once) and checked
            // with the location of every item.
            let lists = crate::policy::calendar_check::Lists {
                workdays: r.str_list(self.ctx, "workdays"),
                hours: r.str_list(self.ctx, "hours"),
                holidays: r.str_list(self.ctx, "holidays"),
                makeup_workdays: r.str_list(self.ctx, "makeup_workdays"),
            };
            crate::policy::calendar_check::check(&r, &lists, self.ctx);
            let include = r.str_list(self.ctx, "include");
            let include = crate::policy::calendar_data::resolve(&include, self.ctx);
            let business_days = match r.opt_str(self.ctx, "business_days") {
                None => crate::calendar::BusinessDays::SameTime,
                Some((text, loc)) => crate::calendar::BusinessDays::parse(&text).unwrap_or_else(|| {
                    self.ctx.push(
                        Diagnostic::error(loc, format!("unknown business_days `{text}`"))
                            .with_help("expected `same_time` (the clock time of intake on the N-th working day) or `close_of_business` (closing of the N-th working day after the intake day)"),
                    );
                    crate::calendar::BusinessDays::SameTime
                }),
            };
            // iCalendar feeds are read by the loader, which owns file access.
            for (path, loc) in r.str_list(self.ctx, "ics") {
                self.file_refs.push(FileRef {
                    section: "calendar",
                    id: entry.key.clone(),
                    path,
                    loc,
                });
            }
            self.ctx
                .spans
                .insert(format!("calendar.{}", entry.key), entry.node.loc);
            let texts = |list: Vec<(String, Loc)>| list.into_iter().map(|v| v.0).collect();
            let def = CalendarDef {
                workdays: texts(lists.workdays),
                hours: texts(lists.hours),
                holidays: texts(lists.holidays),
                makeup_workdays: texts(lists.makeup_workdays),
                include,
                business_days,
            };
            out.insert(entry.key.clone(), def);
        }
        out
    }
}
