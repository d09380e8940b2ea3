//! Conditions as native predicates: the subset of rhai that policies actually
//! write — a fact compared with a literal, `contains` / `starts_with` /
//! `ends_with` on text, `tags.contains`, `&&`, `||`, `!`, parentheses and
//! `true` / `false` — parsed once at policy load and evaluated without an
//! interpreter or a scope. Anything outside that subset (or any doubt about
//! rhai's typing of it) is not a predicate, and the condition runs in rhai.
//!
//! A predicate answers exactly what rhai answers for the same facts; the
//! property test in `tests/condition_paths.rs` holds both paths to that.
//! Evaluation returns `None` when a fact has an unexpected type (a scope filled
//! by other code), so the caller falls back to rhai and its error.

use aho_corasick::{AhoCorasick, AhoCorasickKind};

/// A fact a predicate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    Kind,
    Category,
    Class,
    Text,
    Estate,
    Unit,
    Channel,
    Urgency,
    Major,
    Emergency,
    Phase,
    Tags,
    Hour,
    Weekday,
    Revisits,
    Department,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Str,
    Int,
    Bool,
    Tags,
}

impl Var {
    fn parse(name: &str) -> Option<Var> {
        Some(match name {
            "kind" => Var::Kind,
            "category" => Var::Category,
            "class" => Var::Class,
            "text" => Var::Text,
            "estate" => Var::Estate,
            "unit" => Var::Unit,
            "channel" => Var::Channel,
            "urgency" => Var::Urgency,
            "major" => Var::Major,
            "emergency" => Var::Emergency,
            "phase" => Var::Phase,
            "tags" => Var::Tags,
            "hour" => Var::Hour,
            "weekday" => Var::Weekday,
            "revisits" => Var::Revisits,
            "department" => Var::Department,
            _ => return None,
        })
    }

    /// The variable's name in a rhai scope.
    pub fn name(self) -> &'static str {
        match self {
            Var::Kind => "kind",
            Var::Category => "category",
            Var::Class => "class",
            Var::Text => "text",
            Var::Estate => "estate",
            Var::Unit => "unit",
            Var::Channel => "channel",
            Var::Urgency => "urgency",
            Var::Major => "major",
            Var::Emergency => "emergency",
            Var::Phase => "phase",
            Var::Tags => "tags",
            Var::Hour => "hour",
            Var::Weekday => "weekday",
            Var::Revisits => "revisits",
            Var::Department => "department",
        }
    }

    fn ty(self) -> Type {
        match self {
            Var::Class | Var::Hour | Var::Revisits => Type::Int,
            Var::Major | Var::Emergency => Type::Bool,
            Var::Tags => Type::Tags,
            _ => Type::Str,
        }
    }
}

/// Where a predicate reads the facts: a borrowed view of a ticket, or a rhai scope.
pub trait FactSource {
    /// `f` applied to a text fact; `None` when the fact is not text.
    fn with_str<R>(&self, var: Var, f: impl FnOnce(&str) -> R) -> Option<R>;
    fn int(&self, var: Var) -> Option<i64>;
    fn flag(&self, var: Var) -> Option<bool>;
    fn has_tag(&self, tag: &str) -> Option<bool>;
    /// Does `text` contain keyword `id` (= `lit`)? Sources with the policy's
    /// keyword search answer from it; the default searches for `lit` alone.
    fn text_has(&self, _id: usize, lit: &str) -> Option<bool> {
        self.with_str(Var::Text, |t| t.contains(lit))
    }
}

/// The keyword index of a `text.contains` not numbered in any policy's search.
pub const UNNUMBERED: usize = usize::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn flip(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            c => c,
        }
    }

    fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    Const(bool),
    Flag(Var),
    /// Text fact `==` (or, negated, `!=`) a literal.
    StrEq(Var, Box<str>, bool),
    IntCmp(Var, Cmp, i64),
    /// `text.contains(lit)`, with the keyword's index in the policy's search.
    TextHas(usize, Box<str>),
    /// `text.contains(a) || text.contains(b) || …` once its keywords are numbered:
    /// the usual keyword rule, tested in one loop over the search's hits.
    AnyText(Box<[(usize, Box<str>)]>),
    Contains(Var, Box<str>),
    StartsWith(Var, Box<str>),
    EndsWith(Var, Box<str>),
    HasTag(Box<str>),
    /// `a == b` / `a != b` between two boolean expressions.
    BoolEq(Box<Predicate>, Box<Predicate>, bool),
    Not(Box<Predicate>),
    And(Box<Predicate>, Box<Predicate>),
    Or(Box<Predicate>, Box<Predicate>),
}

impl Predicate {
    /// The predicate `expr` means, or `None` when it is outside the subset.
    pub fn parse(expr: &str) -> Option<Predicate> {
        let tokens = tokenize(expr)?;
        let mut p = Parser { tokens, at: 0 };
        let value = p.or()?;
        if p.at != p.tokens.len() {
            return None;
        }
        match value {
            Value::Bool(pred) => Some(pred),
            _ => None,
        }
    }

    pub fn eval(&self, s: &impl FactSource) -> Option<bool> {
        Some(match self {
            Predicate::Const(b) => *b,
            Predicate::Flag(v) => s.flag(*v)?,
            Predicate::StrEq(v, lit, negated) => s.with_str(*v, |x| (x == &**lit) != *negated)?,
            Predicate::IntCmp(v, cmp, n) => cmp.holds(s.int(*v)?, *n),
            Predicate::TextHas(id, lit) => s.text_has(*id, lit)?,
            Predicate::AnyText(keys) => {
                let mut any = false;
                for (id, lit) in keys {
                    if s.text_has(*id, lit)? {
                        any = true;
                        break;
                    }
                }
                any
            }
            Predicate::Contains(v, lit) => s.with_str(*v, |x| x.contains(&**lit))?,
            Predicate::StartsWith(v, lit) => s.with_str(*v, |x| x.starts_with(&**lit))?,
            Predicate::EndsWith(v, lit) => s.with_str(*v, |x| x.ends_with(&**lit))?,
            Predicate::HasTag(tag) => s.has_tag(tag)?,
            Predicate::BoolEq(a, b, negated) => (a.eval(s)? == b.eval(s)?) != *negated,
            Predicate::Not(p) => !p.eval(s)?,
            Predicate::And(a, b) => a.eval(s)? && b.eval(s)?,
            Predicate::Or(a, b) => a.eval(s)? || b.eval(s)?,
        })
    }

    /// Number every `text.contains` keyword, in order, for the policy's one
    /// search, and join `||` chains of them into one [`Predicate::AnyText`].
    pub fn keywords_mut(&mut self, f: &mut impl FnMut(&str) -> usize) {
        match self {
            Predicate::TextHas(id, lit) => *id = f(lit),
            Predicate::AnyText(keys) => keys.iter_mut().for_each(|(id, lit)| *id = f(lit)),
            Predicate::BoolEq(a, b, _) | Predicate::And(a, b) => {
                a.keywords_mut(f);
                b.keywords_mut(f);
            }
            Predicate::Or(a, b) => {
                a.keywords_mut(f);
                b.keywords_mut(f);
                if let (Some(mut left), Some(right)) = (a.keywords(), b.keywords()) {
                    left.extend(right);
                    *self = Predicate::AnyText(left.into_boxed_slice());
                }
            }
            Predicate::Not(p) => p.keywords_mut(f),
            _ => {}
        }
    }

    /// The keywords of a `text.contains` or of a chain of them, in order.
    fn keywords(&self) -> Option<Vec<(usize, Box<str>)>> {
        match self {
            Predicate::TextHas(id, lit) => Some(vec![(*id, lit.clone())]),
            Predicate::AnyText(keys) => Some(keys.to_vec()),
            _ => None,
        }
    }
}

/// All `text.contains` keywords of a policy as one multi-pattern search: a
/// ticket's text is scanned once, and each keyword condition is a bit test.
#[derive(Debug, Clone)]
pub struct Keywords {
    patterns: Vec<Box<str>>,
    search: Option<AhoCorasick>,
}

impl Default for Keywords {
    fn default() -> Self {
        Keywords::new(Vec::new())
    }
}

impl Keywords {
    pub fn new(patterns: Vec<Box<str>>) -> Keywords {
        // Standard semantics with overlapping search reports every occurrence of
        // every pattern, so "pattern i occurs" is exactly `text.contains(p_i)`.
        let search = if patterns.is_empty() {
            None
        } else {
            // A DFA: a policy's keywords are a few dozen short patterns, so its
            // table is small, and an overlapping search over it is several times
            // faster than over the default NFA.
            AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::DFA))
                .build(patterns.iter().map(|p| p.as_bytes()))
                .ok()
        };
        Keywords { patterns, search }
    }

    /// Is `lit` keyword `id`?
    pub fn is(&self, id: usize, lit: &str) -> bool {
        self.patterns.get(id).is_some_and(|p| &**p == lit)
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Which keywords occur in `text`, by index.
    pub fn hits(&self, text: &str) -> Hits {
        let mut hits = Hits::new(self.patterns.len());
        match &self.search {
            Some(ac) => {
                for m in ac.find_overlapping_iter(text) {
                    hits.set(m.pattern().as_usize());
                }
            }
            // The automaton could not be built (never for policy-sized sets):
            // one scan per keyword gives the same answers.
            None => {
                for (i, p) in self.patterns.iter().enumerate() {
                    if text.contains(&**p) {
                        hits.set(i);
                    }
                }
            }
        }
        hits
    }
}

/// The keywords found in one text: a bit each, in a word for the usual few
/// dozen keywords, so a ticket's search allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hits {
    len: usize,
    bits: u64,
    /// Bits from 64 on, for policies with more keywords.
    more: Vec<bool>,
}

impl Hits {
    fn new(len: usize) -> Hits {
        Hits {
            len,
            bits: 0,
            more: vec![false; len.saturating_sub(64)],
        }
    }

    fn set(&mut self, id: usize) {
        match id {
            0..64 => self.bits |= 1 << id,
            _ => {
                if let Some(h) = self.more.get_mut(id - 64) {
                    *h = true;
                }
            }
        }
    }

    /// Does keyword `id` occur? `None` for an id outside the search.
    pub fn get(&self, id: usize) -> Option<bool> {
        match id {
            _ if id >= self.len => None,
            0..64 => Some(self.bits & (1 << id) != 0),
            _ => self.more.get(id - 64).copied(),
        }
    }
}

// ---------------------------------------------------------------- parsing

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Op(&'static str),
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut end = i;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(Tok::Ident(s[i..end].to_string()));
        } else if c.is_ascii_digit() {
            let mut end = i;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_digit() {
                    end = j + 1;
                    chars.next();
                } else {
                    break;
                }
            }
            // A digit run followed by a letter, `_` or `.` is some other literal
            // (hex, separators, a float): leave it to rhai.
            if chars
                .peek()
                .is_some_and(|&(_, d)| d.is_ascii_alphanumeric() || d == '_' || d == '.')
            {
                return None;
            }
            out.push(Tok::Int(s[i..end].parse().ok()?));
        } else if c == '"' {
            chars.next();
            let mut lit = String::new();
            loop {
                let (_, d) = chars.next()?;
                match d {
                    '"' => break,
                    // Escapes and line continuations are rhai's business.
                    '\\' | '\n' | '\r' => return None,
                    d => lit.push(d),
                }
            }
            out.push(Tok::Str(lit));
        } else {
            chars.next();
            let next = chars.peek().map(|&(_, d)| d);
            let two = |t: &'static str| Some(Tok::Op(t));
            let tok = match (c, next) {
                ('=', Some('=')) => two("=="),
                ('!', Some('=')) => two("!="),
                ('<', Some('=')) => two("<="),
                ('>', Some('=')) => two(">="),
                ('&', Some('&')) => two("&&"),
                ('|', Some('|')) => two("||"),
                _ => None,
            };
            match tok {
                Some(t) => {
                    chars.next();
                    // `===`, `!==`, `&&&`... are not rhai operators we know.
                    if chars
                        .peek()
                        .is_some_and(|&(_, d)| matches!(d, '=' | '&' | '|' | '<' | '>' | '!'))
                    {
                        return None;
                    }
                    out.push(t);
                }
                None => out.push(Tok::Op(match c {
                    '<' => "<",
                    '>' => ">",
                    '!' => "!",
                    '(' => "(",
                    ')' => ")",
                    '.' => ".",
                    _ => return None,
                })),
            }
        }
    }
    Some(out)
}

/// A parsed operand, typed as rhai would type it.
enum Value {
    Bool(Predicate),
    Var(Var),
    Str(String),
    Int(i64),
}

struct Parser {
    tokens: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek_op(&self) -> Option<&'static str> {
        match self.tokens.get(self.at) {
            Some(Tok::Op(o)) => Some(o),
            _ => None,
        }
    }

    fn eat(&mut self, op: &str) -> bool {
        if self.peek_op() == Some(op) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Option<Value> {
        let mut left = self.and()?;
        while self.eat("||") {
            let right = self.and()?;
            left = Value::Bool(Predicate::Or(
                Box::new(boolean(left)?),
                Box::new(boolean(right)?),
            ));
        }
        Some(left)
    }

    fn and(&mut self) -> Option<Value> {
        let mut left = self.comparison()?;
        while self.eat("&&") {
            let right = self.comparison()?;
            left = Value::Bool(Predicate::And(
                Box::new(boolean(left)?),
                Box::new(boolean(right)?),
            ));
        }
        Some(left)
    }

    /// One comparison at most: rhai ranks `==` below `<`, and a chain is rare
    /// enough to leave to it.
    fn comparison(&mut self) -> Option<Value> {
        let left = self.unary()?;
        let cmp = match self.peek_op() {
            Some("==") => Cmp::Eq,
            Some("!=") => Cmp::Ne,
            Some("<") => Cmp::Lt,
            Some("<=") => Cmp::Le,
            Some(">") => Cmp::Gt,
            Some(">=") => Cmp::Ge,
            _ => return Some(left),
        };
        self.at += 1;
        let right = self.unary()?;
        if matches!(self.peek_op(), Some("==" | "!=" | "<" | "<=" | ">" | ">=")) {
            return None;
        }
        compare(left, cmp, right).map(Value::Bool)
    }

    fn unary(&mut self) -> Option<Value> {
        if self.eat("!") {
            let inner = self.unary()?;
            return Some(Value::Bool(Predicate::Not(Box::new(boolean(inner)?))));
        }
        self.atom()
    }

    fn atom(&mut self) -> Option<Value> {
        let tok = self.tokens.get(self.at)?.clone();
        self.at += 1;
        let value = match tok {
            Tok::Op("(") => {
                let inner = self.or()?;
                if !self.eat(")") {
                    return None;
                }
                inner
            }
            Tok::Str(s) => Value::Str(s),
            Tok::Int(n) => Value::Int(n),
            Tok::Ident(name) => match name.as_str() {
                "true" => Value::Bool(Predicate::Const(true)),
                "false" => Value::Bool(Predicate::Const(false)),
                _ => {
                    let var = Var::parse(&name)?;
                    if self.peek_op() == Some(".") {
                        self.at += 1;
                        self.method(var)?
                    } else if var.ty() == Type::Bool {
                        Value::Bool(Predicate::Flag(var))
                    } else {
                        Value::Var(var)
                    }
                }
            },
            Tok::Op(_) => return None,
        };
        // A method on a literal or a call's result, an index, ...: rhai's.
        if self.peek_op() == Some(".") {
            return None;
        }
        Some(value)
    }

    /// `var.method("literal")`.
    fn method(&mut self, var: Var) -> Option<Value> {
        let Some(Tok::Ident(name)) = self.tokens.get(self.at).cloned() else {
            return None;
        };
        self.at += 1;
        if !self.eat("(") {
            return None;
        }
        let Some(Tok::Str(lit)) = self.tokens.get(self.at).cloned() else {
            return None;
        };
        self.at += 1;
        if !self.eat(")") {
            return None;
        }
        let lit: Box<str> = lit.into();
        let pred = match (var.ty(), name.as_str()) {
            (Type::Str, "contains") if var == Var::Text => Predicate::TextHas(UNNUMBERED, lit),
            (Type::Str, "contains") => Predicate::Contains(var, lit),
            (Type::Str, "starts_with") => Predicate::StartsWith(var, lit),
            (Type::Str, "ends_with") => Predicate::EndsWith(var, lit),
            (Type::Tags, "contains") => Predicate::HasTag(lit),
            _ => return None,
        };
        Some(Value::Bool(pred))
    }
}

fn boolean(v: Value) -> Option<Predicate> {
    match v {
        Value::Bool(p) => Some(p),
        _ => None,
    }
}

/// A comparison rhai types the same way: text with a text literal (`==`, `!=`),
/// a number with an integer literal, booleans with booleans.
fn compare(left: Value, cmp: Cmp, right: Value) -> Option<Predicate> {
    let eq = |c: Cmp| match c {
        Cmp::Eq => Some(false),
        Cmp::Ne => Some(true),
        _ => None,
    };
    Some(match (left, right) {
        (Value::Var(v), Value::Str(s)) | (Value::Str(s), Value::Var(v)) if v.ty() == Type::Str => {
            Predicate::StrEq(v, s.into(), eq(cmp)?)
        }
        (Value::Var(v), Value::Int(n)) if v.ty() == Type::Int => Predicate::IntCmp(v, cmp, n),
        (Value::Int(n), Value::Var(v)) if v.ty() == Type::Int => {
            Predicate::IntCmp(v, cmp.flip(), n)
        }
        (Value::Bool(a), Value::Bool(b)) => Predicate::BoolEq(Box::new(a), Box::new(b), eq(cmp)?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_forms_are_predicates() {
        for expr in [
            r#"kind == "repair" && !emergency && category != "repair.leak""#,
            r#"class == 2 && (major || urgency == "high" || tags.contains("major"))"#,
            r#"text.contains("渗水") || text.contains("漏水")"#,
            r#"!emergency && category.starts_with("complaint.")"#,
            "class == 0 || class == 1",
            "emergency",
            "false",
            "hour >= 18 || 9 > hour",
        ] {
            assert!(Predicate::parse(expr).is_some(), "{expr}");
        }
    }

    #[test]
    fn anything_outside_the_subset_is_left_to_rhai() {
        for expr in [
            "class + 1 == 2",
            r#"text.len() > 3"#,
            r#"text.contains("a\"b")"#,
            r#"kind == 1"#,
            r#"class == "1""#,
            r#"kind < "b""#,
            "!class",
            "class",
            "a == 1",
            "hour < 8 == true",
            "0x10 == class",
            "1_000 > class",
            r#""x" in tags"#,
            r#"text.contains("a").to_string()"#,
            "emergency & major",
            "emergency === major",
            "(emergency",
            "emergency)",
            "",
        ] {
            assert_eq!(Predicate::parse(expr), None, "{expr}");
        }
    }

    #[test]
    fn unary_not_binds_tighter_than_comparison_as_in_rhai() {
        let p = Predicate::parse("!emergency == major").expect("a predicate");
        assert!(matches!(p, Predicate::BoolEq(a, _, false) if matches!(*a, Predicate::Not(_))));
    }

    #[test]
    fn keyword_hits_are_substring_tests() {
        let k = Keywords::new(vec!["渗水".into(), "水".into(), "ab".into(), "b".into()]);
        let all = |h: Hits| (0..5).map(|i| h.get(i)).collect::<Vec<_>>();
        let (t, f) = (Some(true), Some(false));
        assert_eq!(all(k.hits("墙面渗水")), [t, t, f, f, None]);
        assert_eq!(all(k.hits("xab")), [f, f, t, t, None]);
        assert_eq!(all(k.hits("")), [f, f, f, f, None]);
    }

    #[test]
    fn a_chain_of_keywords_becomes_one_test_with_the_same_answers() {
        let expr = r#"text.contains("电梯") || text.contains("困人") || text.contains("漏电")"#;
        let plain = Predicate::parse(expr).expect("a predicate");
        let mut numbered = plain.clone();
        let mut words: Vec<Box<str>> = Vec::new();
        numbered.keywords_mut(&mut |lit| {
            words.push(lit.into());
            words.len() - 1
        });
        assert!(
            matches!(&numbered, Predicate::AnyText(k) if k.len() == 3),
            "{numbered:?}"
        );
        // A mixed chain keeps its shape: only pure keyword chains are joined.
        let mut mixed =
            Predicate::parse(r#"emergency || text.contains("电梯")"#).expect("a predicate");
        mixed.keywords_mut(&mut |_| 0);
        assert!(matches!(mixed, Predicate::Or(..)));
        for text in ["电梯困人", "漏电了", "一切正常", ""] {
            let view = crate::script::facts::TicketFacts {
                text: text.into(),
                ..Default::default()
            };
            assert_eq!(
                numbered.eval(&view.view()),
                plain.eval(&view.view()),
                "{text}"
            );
        }
    }

    #[test]
    fn more_than_64_keywords_are_each_found() {
        let words: Vec<String> = (0..100).map(|i| format!("<{i}>")).collect();
        let k = Keywords::new(words.iter().map(|w| w.as_str().into()).collect());
        let text = "<3> and <63> and <64> and <99>";
        let hits = k.hits(text);
        for (i, w) in words.iter().enumerate() {
            assert_eq!(hits.get(i), Some(text.contains(w.as_str())), "keyword {i}");
        }
        assert_eq!(hits.get(100), None);
    }
}
