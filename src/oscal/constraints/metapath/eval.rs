//! Evaluates Metapath expressions over a document [`Tree`]. Values are XPath
//! sequences of nodes and atomic values; node values compare as untyped
//! text (cast to a number or date-time when the other side is one), as
//! XPath's general comparisons do. Anything the evaluator cannot do is an
//! error, which the constraint engine reports as *not evaluated*.

use std::cmp::Ordering;
use std::rc::Rc;

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::parser::{Axis, BinOp, Cmp, Expr, NodeTest, Step};
use crate::oscal::constraints::tree::{Tree, NONE};

pub const OSCAL_NS: &str = "http://csrc.nist.gov/ns/oscal";

#[derive(Debug, Clone)]
pub enum Item {
    Node(u32),
    Str(String),
    /// Text taken from a node: compares as a string, a number or a date
    /// depending on the other operand.
    Untyped(String),
    Bool(bool),
    Int(i64),
    Dec(f64),
    DateTime(DateTime<FixedOffset>),
    Map(Rc<MapValue>),
}

/// An XPath map, keyed by the string form of its keys, in insertion order.
#[derive(Debug, Default)]
pub struct MapValue {
    pub entries: Vec<(String, Vec<Item>)>,
}

pub type Seq = Vec<Item>;

/// The variables in scope, innermost last.
pub type Vars = Vec<(String, Seq)>;

/// The focus: context item, position and size.
#[derive(Clone)]
pub struct Focus {
    pub item: Option<Item>,
    pub position: usize,
    pub size: usize,
}

impl Focus {
    pub fn node(id: u32) -> Focus {
        Focus {
            item: Some(Item::Node(id)),
            position: 1,
            size: 1,
        }
    }
}

pub struct Evaluator<'a, 't> {
    pub tree: &'a Tree<'t>,
    pub now: DateTime<FixedOffset>,
}

type Result<T> = std::result::Result<T, String>;

impl<'a, 't> Evaluator<'a, 't> {
    pub fn eval(&self, expr: &Expr, focus: &Focus, vars: &mut Vars) -> Result<Seq> {
        match expr {
            Expr::Str(s) => Ok(vec![Item::Str(s.clone())]),
            Expr::Integer(n) => Ok(vec![Item::Int(*n)]),
            Expr::Decimal(n) => Ok(vec![Item::Dec(*n)]),
            Expr::Var(name) => vars
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("variable ${name} is not defined")),
            Expr::ContextItem => focus
                .item
                .clone()
                .map(|i| vec![i])
                .ok_or_else(|| "`.` has no context item".to_string()),
            Expr::Root => Ok(vec![Item::Node(0)]),
            Expr::Sequence(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(self.eval(item, focus, vars)?);
                }
                Ok(out)
            }
            Expr::Step(step) => {
                let node = self.context_node(focus)?;
                self.step(node, step, vars)
            }
            Expr::Path(left, right) => {
                let left = self.eval(left, focus, vars)?;
                let size = left.len();
                let mut out = Vec::new();
                for (i, item) in left.into_iter().enumerate() {
                    if !matches!(item, Item::Node(_)) {
                        return Err("a path step applied to an atomic value".to_string());
                    }
                    let focus = Focus {
                        item: Some(item),
                        position: i + 1,
                        size,
                    };
                    out.extend(self.eval(right, &focus, vars)?);
                }
                node_order(out)
            }
            Expr::Map(left, right) => {
                let left = self.eval(left, focus, vars)?;
                let size = left.len();
                let mut out = Vec::new();
                for (i, item) in left.into_iter().enumerate() {
                    let focus = Focus {
                        item: Some(item),
                        position: i + 1,
                        size,
                    };
                    out.extend(self.eval(right, &focus, vars)?);
                }
                Ok(out)
            }
            Expr::Filter(base, predicates) => {
                let mut items = self.eval(base, focus, vars)?;
                for predicate in predicates {
                    items = self.filter(items, predicate, vars)?;
                }
                Ok(items)
            }
            Expr::Call(name, args) => self.call(name, args, focus, vars),
            Expr::Lookup(base, key) => {
                let base = self.eval(base, focus, vars)?;
                let key = match key {
                    Some(k) => Some(string_of(&self.atomize_one(self.eval(k, focus, vars)?)?)),
                    None => None,
                };
                let mut out = Vec::new();
                for item in base {
                    let Item::Map(map) = item else {
                        return Err("`?` lookup on something that is not a map".to_string());
                    };
                    for (k, v) in &map.entries {
                        if key.as_deref().is_none_or(|want| want == k) {
                            out.extend(v.iter().cloned());
                        }
                    }
                }
                Ok(out)
            }
            Expr::Binary(op, left, right) => self.binary(*op, left, right, focus, vars),
            Expr::Negate(inner) => {
                let value = self.atomize(self.eval(inner, focus, vars)?);
                match value.as_slice() {
                    [] => Ok(vec![]),
                    [one] => Ok(vec![match number_of(one)? {
                        Num::Int(n) => Item::Int(-n),
                        Num::Dec(n) => Item::Dec(-n),
                    }]),
                    _ => Err("unary minus on a sequence".to_string()),
                }
            }
            Expr::If(condition, then, otherwise) => {
                let condition = self.eval(condition, focus, vars)?;
                if ebv(&condition)? {
                    self.eval(then, focus, vars)
                } else {
                    self.eval(otherwise, focus, vars)
                }
            }
            Expr::Quantified {
                every,
                bindings,
                test,
            } => self.quantified(*every, bindings, test, focus, vars),
            Expr::Let(bindings, body) => {
                let depth = vars.len();
                for (name, value) in bindings {
                    let value = self.eval(value, focus, vars)?;
                    vars.push((name.clone(), value));
                }
                let result = self.eval(body, focus, vars);
                vars.truncate(depth);
                result
            }
            Expr::For(bindings, body) => {
                let mut out = Vec::new();
                self.for_each(bindings, focus, vars, &mut |vars| {
                    out.extend(self.eval(body, focus, vars)?);
                    Ok(true)
                })?;
                Ok(out)
            }
        }
    }

    fn context_node(&self, focus: &Focus) -> Result<u32> {
        match &focus.item {
            Some(Item::Node(n)) => Ok(*n),
            Some(_) => Err("a path step needs a node as its context, not a value".to_string()),
            None => Err("a path step has no context".to_string()),
        }
    }

    fn matches_test(&self, id: u32, test: &NodeTest, name: Option<u32>) -> bool {
        match test {
            NodeTest::Any => true,
            NodeTest::Name(_) => name.is_some_and(|n| self.tree.node(id).name == n),
        }
    }

    fn step(&self, node: u32, step: &Step, vars: &mut Vars) -> Result<Seq> {
        let tree = self.tree;
        let name = match &step.test {
            NodeTest::Name(n) => match tree.name_id(n) {
                Some(id) => Some(id),
                // No node has this name: nothing can match.
                None => return Ok(Vec::new()),
            },
            NodeTest::Any => None,
        };
        let test = &step.test;
        let mut out: Vec<u32> = Vec::new();
        match step.axis {
            Axis::Child => out.extend(
                tree.children(node)
                    .filter(|c| self.matches_test(*c, test, name)),
            ),
            Axis::Attribute => out.extend(
                tree.flags(node)
                    .filter(|c| self.matches_test(*c, test, name)),
            ),
            Axis::Parent => {
                let parent = tree.node(node).parent;
                if parent != NONE && self.matches_test(parent, test, name) {
                    out.push(parent);
                }
            }
            Axis::SelfAxis => {
                if self.matches_test(node, test, name) {
                    out.push(node);
                }
            }
            Axis::Descendant | Axis::DescendantOrSelf => {
                if step.axis == Axis::DescendantOrSelf && self.matches_test(node, test, name) {
                    out.push(node);
                }
                out.extend(
                    tree.descendants(node)
                        .filter(|c| self.matches_test(*c, test, name)),
                );
            }
            Axis::Ancestor | Axis::AncestorOrSelf => {
                let mut at = if step.axis == Axis::AncestorOrSelf {
                    node
                } else {
                    tree.node(node).parent
                };
                while at != NONE {
                    if self.matches_test(at, test, name) {
                        out.push(at);
                    }
                    at = tree.node(at).parent;
                }
                out.reverse();
            }
        }
        let mut items: Seq = out.into_iter().map(Item::Node).collect();
        for predicate in &step.predicates {
            items = self.filter(items, predicate, vars)?;
        }
        Ok(items)
    }

    fn filter(&self, items: Seq, predicate: &Expr, vars: &mut Vars) -> Result<Seq> {
        let size = items.len();
        let mut out = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let focus = Focus {
                item: Some(item.clone()),
                position: i + 1,
                size,
            };
            let value = self.eval(predicate, &focus, vars)?;
            let keep = match value.as_slice() {
                [Item::Int(n)] => *n == (i + 1) as i64,
                [Item::Dec(n)] => *n == (i + 1) as f64,
                _ => ebv(&value)?,
            };
            if keep {
                out.push(item);
            }
        }
        Ok(out)
    }

    fn quantified(
        &self,
        every: bool,
        bindings: &[(String, Expr)],
        test: &Expr,
        focus: &Focus,
        vars: &mut Vars,
    ) -> Result<Seq> {
        let mut result = every;
        self.for_each(bindings, focus, vars, &mut |vars| {
            let holds = ebv(&self.eval(test, focus, vars)?)?;
            if holds != every {
                result = !every;
                return Ok(false);
            }
            Ok(true)
        })?;
        Ok(vec![Item::Bool(result)])
    }

    /// Calls `body` for every combination of the bindings' items; `body`
    /// returns false to stop early.
    fn for_each(
        &self,
        bindings: &[(String, Expr)],
        focus: &Focus,
        vars: &mut Vars,
        body: &mut dyn FnMut(&mut Vars) -> Result<bool>,
    ) -> Result<bool> {
        let Some(((name, expr), rest)) = bindings.split_first() else {
            return body(vars);
        };
        let items = self.eval(expr, focus, vars)?;
        for item in items {
            vars.push((name.clone(), vec![item]));
            let go_on = self.for_each(rest, focus, vars, body);
            vars.pop();
            if !go_on? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn binary(
        &self,
        op: BinOp,
        left: &Expr,
        right: &Expr,
        focus: &Focus,
        vars: &mut Vars,
    ) -> Result<Seq> {
        match op {
            BinOp::Or => {
                let l = ebv(&self.eval(left, focus, vars)?)?;
                Ok(vec![Item::Bool(l || ebv(&self.eval(right, focus, vars)?)?)])
            }
            BinOp::And => {
                let l = ebv(&self.eval(left, focus, vars)?)?;
                Ok(vec![Item::Bool(l && ebv(&self.eval(right, focus, vars)?)?)])
            }
            BinOp::General(cmp) => {
                let l = self.atomize(self.eval(left, focus, vars)?);
                let r = self.atomize(self.eval(right, focus, vars)?);
                for a in &l {
                    for b in &r {
                        if compare(a, b, cmp, true)? {
                            return Ok(vec![Item::Bool(true)]);
                        }
                    }
                }
                Ok(vec![Item::Bool(false)])
            }
            BinOp::Value(cmp) => {
                let l = self.atomize(self.eval(left, focus, vars)?);
                let r = self.atomize(self.eval(right, focus, vars)?);
                match (l.as_slice(), r.as_slice()) {
                    ([], _) | (_, []) => Ok(vec![]),
                    ([a], [b]) => Ok(vec![Item::Bool(compare(a, b, cmp, false)?)]),
                    _ => Err(
                        "a value comparison (eq, ne, ...) of a sequence of several items"
                            .to_string(),
                    ),
                }
            }
            BinOp::Concat => {
                let l = self.atomize(self.eval(left, focus, vars)?);
                let r = self.atomize(self.eval(right, focus, vars)?);
                let text = |s: &Seq| s.first().map(string_of).unwrap_or_default();
                Ok(vec![Item::Str(format!("{}{}", text(&l), text(&r)))])
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::IDiv | BinOp::Mod => {
                let l = self.atomize(self.eval(left, focus, vars)?);
                let r = self.atomize(self.eval(right, focus, vars)?);
                match (l.as_slice(), r.as_slice()) {
                    ([], _) | (_, []) => Ok(vec![]),
                    ([a], [b]) => Ok(vec![arithmetic(op, number_of(a)?, number_of(b)?)?]),
                    _ => Err("arithmetic on a sequence of several items".to_string()),
                }
            }
            BinOp::Union | BinOp::Intersect | BinOp::Except => {
                let l = self.eval(left, focus, vars)?;
                let r = self.eval(right, focus, vars)?;
                let nodes = |s: Seq| -> Result<Vec<u32>> {
                    s.into_iter()
                        .map(|i| match i {
                            Item::Node(n) => Ok(n),
                            _ => Err("union, intersect and except take nodes only".to_string()),
                        })
                        .collect()
                };
                let (l, r) = (nodes(l)?, nodes(r)?);
                let mut out: Vec<u32> = match op {
                    BinOp::Union => l.into_iter().chain(r).collect(),
                    BinOp::Intersect => l.into_iter().filter(|n| r.contains(n)).collect(),
                    _ => l.into_iter().filter(|n| !r.contains(n)).collect(),
                };
                out.sort_unstable();
                out.dedup();
                Ok(out.into_iter().map(Item::Node).collect())
            }
            BinOp::Range => {
                let l = self.atomize(self.eval(left, focus, vars)?);
                let r = self.atomize(self.eval(right, focus, vars)?);
                match (l.as_slice(), r.as_slice()) {
                    ([a], [b]) => {
                        let (Num::Int(a), Num::Int(b)) = (number_of(a)?, number_of(b)?) else {
                            return Err("`to` needs integers".to_string());
                        };
                        if b.saturating_sub(a) > 1_000_000 {
                            return Err("a range of over a million integers".to_string());
                        }
                        Ok((a..=b).map(Item::Int).collect())
                    }
                    _ => Ok(vec![]),
                }
            }
        }
    }

    /// Replaces nodes by their typed values (untyped text for OSCAL data).
    pub fn atomize(&self, seq: Seq) -> Seq {
        seq.into_iter()
            .map(|item| match item {
                Item::Node(n) => Item::Untyped(self.tree.string_value(n).into_owned()),
                other => other,
            })
            .collect()
    }

    fn atomize_one(&self, seq: Seq) -> Result<Item> {
        let mut atoms = self.atomize(seq);
        match atoms.len() {
            1 => Ok(atoms.remove(0)),
            0 => Err("an empty sequence where a value was expected".to_string()),
            _ => Err("a sequence of several items where one value was expected".to_string()),
        }
    }

    /// The string of an optional single argument (empty sequence → "").
    fn string_arg(
        &self,
        args: &[Expr],
        i: usize,
        focus: &Focus,
        vars: &mut Vars,
    ) -> Result<String> {
        let Some(arg) = args.get(i) else {
            return Err(format!("argument {} is missing", i + 1));
        };
        let atoms = self.atomize(self.eval(arg, focus, vars)?);
        match atoms.as_slice() {
            [] => Ok(String::new()),
            [one] => Ok(string_of(one)),
            _ => Err(format!("argument {} is a sequence of several items", i + 1)),
        }
    }

    fn call(&self, name: &str, args: &[Expr], focus: &Focus, vars: &mut Vars) -> Result<Seq> {
        let arity = |n: std::ops::RangeInclusive<usize>| -> Result<()> {
            if n.contains(&args.len()) {
                Ok(())
            } else {
                Err(format!(
                    "{name}() takes {n:?} arguments, not {}",
                    args.len()
                ))
            }
        };
        let one = |b: bool| Ok(vec![Item::Bool(b)]);
        match name {
            "true" => one(true),
            "false" => one(false),
            "not" => {
                arity(1..=1)?;
                one(!ebv(&self.eval(&args[0], focus, vars)?)?)
            }
            "boolean" => {
                arity(1..=1)?;
                one(ebv(&self.eval(&args[0], focus, vars)?)?)
            }
            "exists" | "empty" => {
                arity(1..=1)?;
                let found = !self.eval(&args[0], focus, vars)?.is_empty();
                one(if name == "exists" { found } else { !found })
            }
            "count" => {
                arity(1..=1)?;
                Ok(vec![Item::Int(
                    self.eval(&args[0], focus, vars)?.len() as i64
                )])
            }
            "string" | "normalize-space" | "string-length" | "upper-case" | "lower-case" => {
                arity(0..=1)?;
                let text = if args.is_empty() {
                    let item = focus.item.clone().ok_or("no context item")?;
                    string_of(&self.atomize_one(vec![item])?)
                } else {
                    self.string_arg(args, 0, focus, vars)?
                };
                Ok(vec![match name {
                    "string" => Item::Str(text),
                    "normalize-space" => {
                        Item::Str(text.split_whitespace().collect::<Vec<_>>().join(" "))
                    }
                    "upper-case" => Item::Str(text.to_uppercase()),
                    "lower-case" => Item::Str(text.to_lowercase()),
                    _ => Item::Int(text.chars().count() as i64),
                }])
            }
            "number" => {
                arity(0..=1)?;
                let seq = if args.is_empty() {
                    focus.item.clone().into_iter().collect()
                } else {
                    self.eval(&args[0], focus, vars)?
                };
                let atoms = self.atomize(seq);
                Ok(vec![Item::Dec(match atoms.first().map(number_of) {
                    Some(Ok(Num::Int(n))) => n as f64,
                    Some(Ok(Num::Dec(n))) => n,
                    _ => f64::NAN,
                })])
            }
            "data" => {
                arity(0..=1)?;
                let seq = if args.is_empty() {
                    focus.item.clone().into_iter().collect()
                } else {
                    self.eval(&args[0], focus, vars)?
                };
                Ok(self.atomize(seq))
            }
            "starts-with" | "ends-with" | "contains" | "substring-after" | "substring-before" => {
                arity(2..=2)?;
                let s = self.string_arg(args, 0, focus, vars)?;
                let t = self.string_arg(args, 1, focus, vars)?;
                Ok(vec![match name {
                    "starts-with" => Item::Bool(s.starts_with(&t)),
                    "ends-with" => Item::Bool(s.ends_with(&t)),
                    "contains" => Item::Bool(s.contains(&t)),
                    "substring-after" => Item::Str(match s.find(&t) {
                        Some(at) => s[at + t.len()..].to_string(),
                        None => String::new(),
                    }),
                    _ => Item::Str(match s.find(&t) {
                        Some(at) => s[..at].to_string(),
                        None => String::new(),
                    }),
                }])
            }
            "substring" => {
                arity(2..=3)?;
                let s = self.string_arg(args, 0, focus, vars)?;
                let start = self.number_arg(args, 1, focus, vars)?.round();
                let length = match args.get(2) {
                    Some(_) => self.number_arg(args, 2, focus, vars)?.round(),
                    None => f64::INFINITY,
                };
                // XPath positions start at 1; characters whose position p
                // satisfies start <= p < start + length are kept.
                let out: String = s
                    .chars()
                    .enumerate()
                    .filter(|(i, _)| {
                        let p = (*i + 1) as f64;
                        p >= start && p < start + length
                    })
                    .map(|(_, c)| c)
                    .collect();
                Ok(vec![Item::Str(out)])
            }
            "concat" => {
                let mut out = String::new();
                for i in 0..args.len() {
                    out.push_str(&self.string_arg(args, i, focus, vars)?);
                }
                Ok(vec![Item::Str(out)])
            }
            "string-join" => {
                arity(1..=2)?;
                let parts: Vec<String> = self
                    .atomize(self.eval(&args[0], focus, vars)?)
                    .iter()
                    .map(string_of)
                    .collect();
                let sep = if args.len() == 2 {
                    self.string_arg(args, 1, focus, vars)?
                } else {
                    String::new()
                };
                Ok(vec![Item::Str(parts.join(&sep))])
            }
            "matches" => {
                arity(2..=2)?;
                let s = self.string_arg(args, 0, focus, vars)?;
                let pattern = self.string_arg(args, 1, focus, vars)?;
                let re = regex::Regex::new(&pattern)
                    .map_err(|e| format!("matches(): pattern `{pattern}` does not compile: {e}"))?;
                one(re.is_match(&s))
            }
            "distinct-values" => {
                arity(1..=1)?;
                let mut seen: Vec<String> = Vec::new();
                let mut out = Vec::new();
                for item in self.atomize(self.eval(&args[0], focus, vars)?) {
                    let key = string_of(&item);
                    if !seen.contains(&key) {
                        seen.push(key);
                        out.push(item);
                    }
                }
                Ok(out)
            }
            "sum" | "min" | "max" => {
                arity(1..=1)?;
                let atoms = self.atomize(self.eval(&args[0], focus, vars)?);
                let numbers: Vec<f64> = atoms
                    .iter()
                    .map(|a| number_of(a).map(Num::as_f64))
                    .collect::<Result<_>>()?;
                if numbers.is_empty() {
                    return Ok(if name == "sum" {
                        vec![Item::Int(0)]
                    } else {
                        vec![]
                    });
                }
                let value = match name {
                    "sum" => numbers.iter().sum(),
                    "min" => numbers.iter().copied().fold(f64::INFINITY, f64::min),
                    _ => numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                };
                Ok(vec![Item::Dec(value)])
            }
            "last" => Ok(vec![Item::Int(focus.size as i64)]),
            "position" => Ok(vec![Item::Int(focus.position as i64)]),
            "current-dateTime" => Ok(vec![Item::DateTime(self.now)]),
            "current-date" => Ok(vec![Item::DateTime(self.now)]),
            "has-oscal-namespace" => {
                arity(1..=1)?;
                let node = self.context_node(focus)?;
                let wanted: Vec<String> = self
                    .atomize(self.eval(&args[0], focus, vars)?)
                    .iter()
                    .map(string_of)
                    .collect();
                let ns_name = self.tree.name_id("ns");
                let ns = self
                    .tree
                    .flags(node)
                    .find(|f| Some(self.tree.node(*f).name) == ns_name)
                    .map(|f| self.tree.string_value(f));
                // A prop without `ns` is in OSCAL's namespace.
                let ns = ns.unwrap_or(std::borrow::Cow::Borrowed(OSCAL_NS));
                one(wanted.iter().any(|w| *w == ns))
            }
            "path" => {
                arity(0..=1)?;
                let seq = if args.is_empty() {
                    focus.item.clone().into_iter().collect()
                } else {
                    self.eval(&args[0], focus, vars)?
                };
                match seq.as_slice() {
                    [] => Ok(vec![]),
                    [Item::Node(n)] => Ok(vec![Item::Str(self.tree.path(*n))]),
                    _ => Err("path() takes one node".to_string()),
                }
            }
            "map:entry" => {
                arity(2..=2)?;
                let key = string_of(&self.atomize_one(self.eval(&args[0], focus, vars)?)?);
                let value = self.eval(&args[1], focus, vars)?;
                Ok(vec![Item::Map(Rc::new(MapValue {
                    entries: vec![(key, value)],
                }))])
            }
            "map:merge" => {
                arity(1..=2)?;
                // XPath's default for duplicate keys: the first one wins.
                let mut merged = MapValue::default();
                let mut seen = std::collections::HashSet::new();
                for item in self.eval(&args[0], focus, vars)? {
                    let Item::Map(map) = item else {
                        return Err("map:merge() takes maps".to_string());
                    };
                    for (k, v) in &map.entries {
                        if seen.insert(k.clone()) {
                            merged.entries.push((k.clone(), v.clone()));
                        }
                    }
                }
                Ok(vec![Item::Map(Rc::new(merged))])
            }
            other => Err(format!("function {other}() is not supported")),
        }
    }

    fn number_arg(&self, args: &[Expr], i: usize, focus: &Focus, vars: &mut Vars) -> Result<f64> {
        let atoms = self.atomize(self.eval(&args[i], focus, vars)?);
        match atoms.as_slice() {
            [one] => Ok(number_of(one)?.as_f64()),
            _ => Err(format!("argument {} must be one number", i + 1)),
        }
    }
}

/// Puts node results in document order without duplicates, as `/` does.
fn node_order(items: Seq) -> Result<Seq> {
    if items.iter().all(|i| matches!(i, Item::Node(_))) {
        let mut nodes: Vec<u32> = items
            .into_iter()
            .filter_map(|i| match i {
                Item::Node(n) => Some(n),
                _ => None,
            })
            .collect();
        nodes.sort_unstable();
        nodes.dedup();
        return Ok(nodes.into_iter().map(Item::Node).collect());
    }
    if items.iter().any(|i| matches!(i, Item::Node(_))) {
        return Err("a path yields both nodes and values".to_string());
    }
    Ok(items)
}

/// XPath's effective boolean value.
pub fn ebv(seq: &Seq) -> Result<bool> {
    match seq.as_slice() {
        [] => Ok(false),
        [Item::Node(_), ..] => Ok(true),
        [Item::Map(_), ..] => Ok(true),
        [one] => Ok(match one {
            Item::Bool(b) => *b,
            Item::Str(s) | Item::Untyped(s) => !s.is_empty(),
            Item::Int(n) => *n != 0,
            Item::Dec(n) => *n != 0.0 && !n.is_nan(),
            Item::DateTime(_) => {
                return Err("a date-time has no boolean value".to_string());
            }
            Item::Node(_) | Item::Map(_) => true,
        }),
        _ => Err("a sequence of several values has no boolean value".to_string()),
    }
}

pub fn string_of(item: &Item) -> String {
    match item {
        Item::Str(s) | Item::Untyped(s) => s.clone(),
        Item::Bool(b) => b.to_string(),
        Item::Int(n) => n.to_string(),
        Item::Dec(n) => {
            if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{}", *n as i64)
            } else {
                n.to_string()
            }
        }
        Item::DateTime(d) => d.to_rfc3339(),
        Item::Node(_) => String::new(),
        Item::Map(_) => String::new(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i64),
    Dec(f64),
}

impl Num {
    fn as_f64(self) -> f64 {
        match self {
            Num::Int(n) => n as f64,
            Num::Dec(n) => n,
        }
    }
}

fn number_of(item: &Item) -> Result<Num> {
    match item {
        Item::Int(n) => Ok(Num::Int(*n)),
        Item::Dec(n) => Ok(Num::Dec(*n)),
        Item::Untyped(s) | Item::Str(s) => {
            let t = s.trim();
            if let Ok(n) = t.parse::<i64>() {
                Ok(Num::Int(n))
            } else {
                Ok(Num::Dec(t.parse::<f64>().unwrap_or(f64::NAN)))
            }
        }
        Item::Bool(b) => Ok(Num::Int(*b as i64)),
        _ => Err("not a number".to_string()),
    }
}

fn arithmetic(op: BinOp, a: Num, b: Num) -> Result<Item> {
    if let (Num::Int(x), Num::Int(y)) = (a, b) {
        let checked = match op {
            BinOp::Add => x.checked_add(y),
            BinOp::Sub => x.checked_sub(y),
            BinOp::Mul => x.checked_mul(y),
            BinOp::IDiv | BinOp::Mod if y == 0 => return Err("division by zero".to_string()),
            BinOp::IDiv => x.checked_div(y),
            BinOp::Mod => x.checked_rem(y),
            _ => None,
        };
        if let Some(n) = checked {
            return Ok(Item::Int(n));
        }
    }
    let (x, y) = (a.as_f64(), b.as_f64());
    Ok(Item::Dec(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        BinOp::IDiv => (x / y).trunc(),
        _ => x % y,
    }))
}

/// Parses an OSCAL date or date-time (with or without a zone; UTC assumed
/// when absent, as a comparison needs one).
pub fn parse_datetime(text: &str) -> Option<DateTime<FixedOffset>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d);
    }
    if let Ok(d) = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(d.and_utc().fixed_offset());
    }
    let date_part = t.get(..10)?;
    let d = NaiveDate::parse_from_str(date_part, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().fixed_offset())
}

/// Compares two atomic values. `general` comparisons cast untyped text to
/// the other operand's type; value comparisons treat it as a string.
fn compare(a: &Item, b: &Item, cmp: Cmp, general: bool) -> Result<bool> {
    let ordering = match (a, b) {
        (Item::DateTime(x), other) | (other, Item::DateTime(x)) => {
            let y = match other {
                Item::DateTime(y) => *y,
                Item::Str(s) | Item::Untyped(s) => match parse_datetime(s) {
                    Some(y) => y,
                    None => return Ok(cmp == Cmp::Ne),
                },
                _ => return Err("a date-time compared with a non-date".to_string()),
            };
            // Keep the operands' order.
            if matches!(a, Item::DateTime(_)) {
                x.cmp(&y)
            } else {
                y.cmp(x)
            }
        }
        (Item::Bool(x), other) | (other, Item::Bool(x)) => {
            let y = match other {
                Item::Bool(y) => *y,
                Item::Untyped(s) | Item::Str(s) => matches!(s.trim(), "true" | "1"),
                Item::Int(n) => *n != 0,
                _ => return Err("a boolean compared with a non-boolean".to_string()),
            };
            if matches!(a, Item::Bool(_)) {
                x.cmp(&y)
            } else {
                y.cmp(x)
            }
        }
        (Item::Int(_) | Item::Dec(_), _) | (_, Item::Int(_) | Item::Dec(_)) => {
            if !general && (matches!(a, Item::Str(_)) || matches!(b, Item::Str(_))) {
                return Err("a string compared with a number".to_string());
            }
            let x = number_of(a)?.as_f64();
            let y = number_of(b)?.as_f64();
            match x.partial_cmp(&y) {
                Some(o) => o,
                // NaN is unequal to everything.
                None => return Ok(cmp == Cmp::Ne),
            }
        }
        _ => string_of(a).cmp(&string_of(b)),
    };
    Ok(match cmp {
        Cmp::Eq => ordering == Ordering::Equal,
        Cmp::Ne => ordering != Ordering::Equal,
        Cmp::Lt => ordering == Ordering::Less,
        Cmp::Le => ordering != Ordering::Greater,
        Cmp::Gt => ordering == Ordering::Greater,
        Cmp::Ge => ordering != Ordering::Less,
    })
}
