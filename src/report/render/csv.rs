//! The report as CSV: one long table with the columns `section,name,metric,value`
//! (RFC 4180 quoting), so every figure is one row and a spreadsheet can pivot it.

use super::num;
use crate::report::figures::{CloseRow, KindCounts, PeriodReport};

struct Rows(String);

impl Rows {
    fn row(&mut self, section: &str, name: &str, metric: &str, value: impl ToString) {
        for (i, cell) in [section, name, metric, &value.to_string()]
            .iter()
            .enumerate()
        {
            if i > 0 {
                self.0.push(',');
            }
            self.0.push_str(&quote(cell));
        }
        self.0.push_str("\r\n");
    }
}

/// Quotes a cell when it holds a comma, quote or line break, after neutralizing
/// it as a formula.
fn quote(cell: &str) -> String {
    let cell = neutralize(cell);
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.into_owned()
    }
}

/// A spreadsheet runs a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return as a formula (`=HYPERLINK(…)`, `+cmd|…`): such a cell gets a leading
/// apostrophe, which spreadsheets show as text (OWASP's advice for CSV injection).
/// Numbers stay as they are, so `-3` is still minus three.
fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

pub fn csv(r: &PeriodReport) -> String {
    let mut o = Rows(String::new());
    o.row("section", "name", "metric", "value");
    o.row("report", r.kind.as_str(), "from", r.period.first_day);
    o.row("report", r.kind.as_str(), "to", r.period.last_day);
    o.row("report", r.kind.as_str(), "timezone", &r.period.timezone);
    o.row(
        "report",
        r.kind.as_str(),
        "estate",
        r.estate.as_deref().unwrap_or("all"),
    );
    for p in &r.policies {
        o.row(
            "policy",
            &p.fingerprint,
            "id",
            p.id.as_deref().unwrap_or(""),
        );
        o.row(
            "policy",
            &p.fingerprint,
            "version",
            p.version.as_deref().unwrap_or(""),
        );
        o.row("policy", &p.fingerprint, "events", p.events);
    }
    let t = &r.tickets;
    o.row("tickets", "all", "opened", t.opened);
    for (i, k) in KindCounts::NAMES.iter().enumerate() {
        o.row("tickets", k, "opened", t.by_kind.get(i));
    }
    o.row("tickets", "all", "closed", t.closed);
    o.row("tickets", "all", "reopened", t.reopened);
    o.row(
        "tickets",
        "all",
        "compensation_claims",
        t.compensation_claims,
    );
    let c = &r.complaints;
    o.row("complaints", "all", "opened", c.opened);
    o.row("complaints", "all", "valid", c.valid);
    o.row("complaints", "all", "invalid", c.invalid);
    o.row("complaints", "all", "closed", c.closed);
    o.row("complaints", "all", "close_rate", num(c.close_rate));
    close(&mut o, "specialist", &r.specialists);
    close(&mut o, "department", &r.departments);
    for e in r
        .valid_rate
        .estates
        .iter()
        .chain(r.valid_rate.overall.iter())
    {
        o.row(
            "valid_rate",
            &e.estate,
            "households",
            e.households.map_or_else(String::new, |h| h.to_string()),
        );
        o.row("valid_rate", &e.estate, "valid", e.valid);
        o.row(
            "valid_rate",
            &e.estate,
            "per_mille_per_year",
            num(e.per_mille_per_year),
        );
        o.row(
            "valid_rate",
            &e.estate,
            "target_per_mille",
            r.valid_rate.target_per_mille,
        );
    }
    let rv = &r.revisits;
    o.row("revisits", "repairs", "resolved", rv.resolved_repairs);
    o.row("revisits", "repairs", "revisited", rv.revisited);
    o.row("revisits", "repairs", "not_yet_due", rv.not_yet_due);
    o.row("revisits", "repairs", "rate", num(rv.rate));
    o.row("revisits", "repairs", "overdue", rv.overdue);
    for l in &r.limits {
        o.row("limit", &l.limit, "on_time", l.on_time);
        o.row("limit", &l.limit, "breached", l.breached);
        o.row("limit", &l.limit, "met_late", l.met_late);
        o.row("limit", &l.limit, "on_time_rate", num(l.rate));
    }
    for s in &r.escalations {
        o.row("escalation", &s.step, "count", s.count);
    }
    for x in &r.top_categories {
        o.row("category", &x.name, "opened", x.count);
    }
    for x in &r.top_estates {
        o.row("estate", &x.name, "opened", x.count);
    }
    for b in &r.series {
        let day = b.start.to_string();
        for (i, k) in KindCounts::NAMES.iter().enumerate() {
            o.row("series", &day, &format!("opened_{k}"), b.opened.get(i));
        }
        o.row("series", &day, "clocks_on_time", b.on_time);
        o.row("series", &day, "clocks_settled", b.settled);
        o.row("series", &day, "repairs_resolved", b.resolved);
        o.row("series", &day, "repairs_revisited", b.revisited);
    }
    for l in &r.new_complaints {
        let fields = [
            ("estate", Some(&l.estate)),
            ("specialist", Some(&l.specialist)),
            ("category", Some(&l.category)),
            ("opened", Some(&l.opened)),
            ("text", Some(&l.text)),
            ("first_response", l.first_response.as_ref()),
            ("plan", l.plan.as_ref()),
            ("plan_note", l.plan_note.as_ref()),
            ("plan_due", l.plan_due.as_ref()),
            ("committed", l.committed.as_ref()),
            ("status", Some(&l.status)),
        ];
        for (metric, value) in fields {
            o.row(
                "new_complaint",
                &l.ticket,
                metric,
                value.map_or("", |v| v.as_str()),
            );
        }
    }
    for n in &r.notes {
        o.row("note", "", "", n);
    }
    o.0
}

fn close(o: &mut Rows, section: &str, rows: &[CloseRow]) {
    for c in rows {
        o.row(section, &c.name, "complaints", c.complaints);
        o.row(section, &c.name, "complaints_closed", c.complaints_closed);
        o.row(
            section,
            &c.name,
            "complaint_close_rate",
            num(c.complaint_close_rate),
        );
        o.row(section, &c.name, "tickets", c.tickets);
        o.row(section, &c.name, "tickets_closed", c.tickets_closed);
        o.row(section, &c.name, "close_rate", num(c.close_rate));
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn cells_are_quoted_when_needed() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formulas_are_neutralized_and_numbers_kept() {
        assert_eq!(
            quote("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(quote("+cmd|' /C calc'!A0"), "'+cmd|' /C calc'!A0");
        assert_eq!(quote("-2+3"), "'-2+3");
        assert_eq!(quote("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(quote("\t=1"), "'\t=1");
        assert_eq!(quote("-3"), "-3");
        assert_eq!(quote("-0.25"), "-0.25");
        assert_eq!(quote("E1=x"), "E1=x");
    }
}
