//! Keyword classifier, a steward plug-in (ABI 1, hook `classify`).
//!
//! The policy gives an ordered table of rules; the first rule (in table order) with a
//! keyword contained in the owner's text decides the ticket's category, and may set
//! urgency, emergency, major and complaint class. A rule may be limited to one ticket
//! kind. No rule matching means no opinion: the policy's own conditions decide.
//!
//! ```toml
//! [[plugin.config.rule]]
//! category = "repair.emergency"   # must exist in the policy
//! kind = "repair"                  # optional: only tickets of this kind
//! emergency = true                 # optional flags: emergency, major
//! urgency = "emergency"            # optional
//! class = 2                        # optional complaint class 1..3 (D4)
//! keywords = ["困人", "爆管"]
//! ```
//!
//! Matching scans the text once: keywords are bucketed by their first character, so
//! the cost grows with the text, not with the size of the table.
#![cfg_attr(target_arch = "wasm32", no_std)]

use steward_guest::{Fail, Writer};

pub const MAX_RULES: usize = 128;
pub const MAX_KEYWORDS: usize = 2048;
const NONE: u16 = u16::MAX;
const BUCKETS: usize = 256;

#[derive(Clone, Copy)]
pub struct Rule<'a> {
    pub category: &'a str,
    pub kind: &'a str,
    pub urgency: &'a str,
    pub emergency: bool,
    pub major: bool,
    pub class: &'a str,
    pub keywords: u16,
}

impl Rule<'_> {
    const EMPTY: Rule<'static> = Rule {
        category: "",
        kind: "",
        urgency: "",
        emergency: false,
        major: false,
        class: "",
        keywords: 0,
    };
}

#[derive(Clone, Copy)]
struct Keyword<'a> {
    text: &'a str,
    rule: u16,
    next: u16,
}

impl Keyword<'_> {
    const EMPTY: Keyword<'static> = Keyword {
        text: "",
        rule: 0,
        next: NONE,
    };
}

pub struct Table<'a> {
    rules: [Rule<'a>; MAX_RULES],
    n_rules: usize,
    keywords: [Keyword<'a>; MAX_KEYWORDS],
    n_keywords: usize,
    buckets: [u16; BUCKETS],
}

impl<'a> Table<'a> {
    pub const EMPTY: Table<'static> = Table {
        rules: [Rule::EMPTY; MAX_RULES],
        n_rules: 0,
        keywords: [Keyword::EMPTY; MAX_KEYWORDS],
        n_keywords: 0,
        buckets: [NONE; BUCKETS],
    };

    /// Make `*p` an empty table, writing each field in place: the table is too big
    /// to build on a 64 KiB wasm stack, and it lives zero-filled in `.bss` so that
    /// it costs nothing in the module's size.
    ///
    /// # Safety
    /// `p` is valid for writes of a `Table`.
    pub unsafe fn init(p: *mut Table<'a>) {
        let rules = core::ptr::addr_of_mut!((*p).rules) as *mut Rule<'a>;
        for i in 0..MAX_RULES {
            rules.add(i).write(Rule::EMPTY);
        }
        let keywords = core::ptr::addr_of_mut!((*p).keywords) as *mut Keyword<'a>;
        for i in 0..MAX_KEYWORDS {
            keywords.add(i).write(Keyword::EMPTY);
        }
        core::ptr::addr_of_mut!((*p).buckets).write([NONE; BUCKETS]);
        core::ptr::addr_of_mut!((*p).n_rules).write(0);
        core::ptr::addr_of_mut!((*p).n_keywords).write(0);
    }

    /// Read the flat config lines (`rule.N.field=value`, `rule.N.keywords.M=value`).
    pub fn parse(into: &mut Table<'a>, config: &'a str) -> Result<(), Fail> {
        // SAFETY: `into` is a valid table, so valid for writes.
        unsafe { Table::init(into) };
        for (n, line) in config.lines().enumerate() {
            let at = |msg| Fail::at(n as u32 + 1, msg);
            if line.is_empty() {
                continue;
            }
            let (path, value) = match line.split_once('=') {
                Some(pv) => pv,
                None => return Err(at("config line is not path=value")),
            };
            let mut parts = path.split('.');
            if parts.next() != Some("rule") {
                return Err(at("unknown config key: expected `rule`"));
            }
            let i = match parts.next().and_then(|s| s.parse::<usize>().ok()) {
                Some(i) if i < MAX_RULES => i,
                Some(_) => return Err(at("too many rules")),
                None => return Err(at("`rule` must be an array of tables")),
            };
            into.n_rules = into.n_rules.max(i + 1);
            let rule = &mut into.rules[i];
            match parts.next() {
                Some("category") => rule.category = value,
                Some("kind") => rule.kind = value,
                Some("urgency") => rule.urgency = value,
                Some("emergency") => rule.emergency = flag(value).ok_or(at("`emergency` must be true or false"))?,
                Some("major") => rule.major = flag(value).ok_or(at("`major` must be true or false"))?,
                Some("class") => match value {
                    "0" | "1" | "2" | "3" => rule.class = value,
                    _ => return Err(at("`class` must be 0, 1, 2 or 3")),
                },
                Some("keywords") => {
                    if value.is_empty() {
                        return Err(at("empty keyword"));
                    }
                    rule.keywords += 1;
                    into.add_keyword(value, i as u16).map_err(at)?;
                }
                _ => return Err(at("unknown rule key: expected category, kind, urgency, emergency, major, class or keywords")),
            }
        }
        if into.n_rules == 0 {
            return Err(Fail::new("the keyword table has no rules"));
        }
        for r in &into.rules[..into.n_rules] {
            if r.category.is_empty() {
                return Err(Fail::new("every rule needs a `category`"));
            }
            if r.keywords == 0 {
                return Err(Fail::new("every rule needs `keywords`"));
            }
        }
        Ok(())
    }

    fn add_keyword(&mut self, text: &'a str, rule: u16) -> Result<(), &'static str> {
        if self.n_keywords == MAX_KEYWORDS {
            return Err("too many keywords");
        }
        let first = match text.chars().next() {
            Some(c) => c,
            None => return Err("empty keyword"),
        };
        let b = bucket(first);
        self.keywords[self.n_keywords] = Keyword {
            text,
            rule,
            next: self.buckets[b],
        };
        self.buckets[b] = self.n_keywords as u16;
        self.n_keywords += 1;
        Ok(())
    }

    pub fn rules(&self) -> &[Rule<'a>] {
        &self.rules[..self.n_rules]
    }

    /// The first rule, in table order, that applies to `kind` and has a keyword in
    /// `text`.
    pub fn best(&self, kind: &str, text: &str) -> Option<&Rule<'a>> {
        let mut best = NONE;
        let bytes = text.as_bytes();
        for (i, c) in text.char_indices() {
            let mut k = self.buckets[bucket(c)];
            while k != NONE {
                let kw = &self.keywords[k as usize];
                if kw.rule < best && bytes[i..].starts_with(kw.text.as_bytes()) {
                    let r = &self.rules[kw.rule as usize];
                    if r.kind.is_empty() || r.kind == kind {
                        best = kw.rule;
                    }
                }
                k = kw.next;
            }
            if best == 0 {
                break;
            }
        }
        self.rules.get(best as usize)
    }

    /// The ticket record (first line) and text (the rest) in, one record out.
    pub fn classify(&self, input: &str, out: &mut Writer<'_>) -> Result<(), Fail> {
        let (head, text) = match input.split_once('\n') {
            Some(ht) => ht,
            None => return Err(Fail::new("ticket without a record line")),
        };
        let kind = head
            .split('\t')
            .find_map(|f| f.strip_prefix("kind="))
            .unwrap_or("");
        if let Some(r) = self.best(kind, text) {
            out.field(true, "category", r.category);
            if !r.urgency.is_empty() {
                out.field(false, "urgency", r.urgency);
            }
            out.field(
                false,
                "emergency",
                if r.emergency { "true" } else { "false" },
            );
            out.field(false, "major", if r.major { "true" } else { "false" });
            if !r.class.is_empty() {
                out.field(false, "class", r.class);
            }
            out.push("\n");
        }
        Ok(())
    }

    /// Each category the table can answer, once, one per line.
    pub fn categories(&self, out: &mut Writer<'_>) {
        for (i, r) in self.rules().iter().enumerate() {
            if self.rules[..i].iter().all(|e| e.category != r.category) {
                out.push(r.category);
                out.push("\n");
            }
        }
    }
}

fn flag(v: &str) -> Option<bool> {
    match v {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn bucket(c: char) -> usize {
    ((c as u32).wrapping_mul(2_654_435_761) >> 24) as usize % BUCKETS
}

#[cfg(target_arch = "wasm32")]
mod wasm {
    use core::mem::MaybeUninit;

    use steward_guest::{Fail, Global, Writer};

    use super::Table;

    // Zero-filled (`.bss`) until `config` initialises it, which the host always calls
    // first on a new instance.
    static TABLE: Global<MaybeUninit<Table<'static>>> = Global::new(MaybeUninit::uninit());
    static READY: Global<bool> = Global::new(false);

    fn table() -> Option<&'static mut Table<'static>> {
        // SAFETY: exports run one at a time, so no other reference to TABLE or READY
        // is alive; TABLE is initialised once READY is set.
        unsafe {
            if *READY.get() {
                Some(TABLE.get().assume_init_mut())
            } else {
                None
            }
        }
    }

    fn config(text: &'static str) -> Result<(), Fail> {
        // SAFETY: as in `table`; `init` writes every field before READY is set.
        unsafe {
            Table::init(TABLE.get().as_mut_ptr());
            *READY.get() = true;
        }
        match table() {
            Some(t) => Table::parse(t, text),
            None => Err(Fail::new("no table")),
        }
    }

    fn classify(input: &str, out: &mut Writer<'_>) -> Result<(), Fail> {
        match table() {
            Some(t) => t.classify(input, out),
            None => Err(Fail::new("not configured")),
        }
    }

    fn categories(out: &mut Writer<'_>) {
        if let Some(t) = table() {
            t.categories(out)
        }
    }

    steward_guest::plugin! {
        config = config,
        steward_classify = classify,
        categories = categories,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "rule.0.category=repair.emergency\nrule.0.emergency=true\nrule.0.keywords.0=困人\nrule.0.keywords.1=爆管\nrule.0.kind=repair\nrule.0.urgency=emergency\nrule.1.category=repair.leak\nrule.1.keywords.0=漏水\nrule.2.category=complaint.engineering\nrule.2.class=2\nrule.2.keywords.0=开发商\nrule.2.kind=complaint\n";

    fn run(table: &Table<'_>, kind: &str, text: &str) -> std::string::String {
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf);
        let input = std::format!("kind={kind}\ttags=\n{text}");
        table.classify(&input, &mut w).unwrap();
        w.as_str().to_string()
    }

    #[test]
    fn first_rule_in_table_order_wins() {
        let mut t = Box::new(Table::EMPTY);
        Table::parse(&mut t, CONFIG).unwrap();
        assert_eq!(
            run(&t, "repair", "厨房漏水，楼下爆管了"),
            "category=repair.emergency\turgency=emergency\temergency=true\tmajor=false\n"
        );
        assert_eq!(
            run(&t, "repair", "卫生间漏水"),
            "category=repair.leak\temergency=false\tmajor=false\n"
        );
        assert_eq!(
            run(&t, "complaint", "开发商交房质量差"),
            "category=complaint.engineering\temergency=false\tmajor=false\tclass=2\n"
        );
        // Kind filter: emergency keywords do not apply to a complaint.
        assert_eq!(run(&t, "complaint", "电梯困人没人管"), "");
        assert_eq!(run(&t, "repair", "灯不亮"), "");
    }

    #[test]
    fn config_errors_name_the_line() {
        let mut t = Box::new(Table::EMPTY);
        let e = Table::parse(&mut t, "rule.0.category=a\nrule.0.colour=red\n").err();
        assert_eq!(e.map(|e| e.line), Some(2));
        assert!(Table::parse(&mut t, "rule.0.category=a\n").is_err());
        assert!(Table::parse(&mut t, "threshold=1\n").is_err());
    }

    #[test]
    fn categories_are_listed_once() {
        let mut t = Box::new(Table::EMPTY);
        Table::parse(&mut t, CONFIG).unwrap();
        let mut buf = [0u8; 256];
        let mut w = Writer::new(&mut buf);
        t.categories(&mut w);
        assert_eq!(
            w.as_str(),
            "repair.emergency\nrepair.leak\ncomplaint.engineering\n"
        );
    }
}
