//! Evaluates constraints over one document tree: NIST's, bound to the
//! definitions they sit on, and external ones (FedRAMP's), bound by their
//! context Metapaths. Allowed values are judged per node after every
//! constraint that targets the node has been seen (Metaschema unions the
//! values of all of them), and index-has-key after every index is built.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, FixedOffset};

use super::metapath::eval::{string_of, Evaluator, Focus, Item, Seq, Vars};
use super::metapath::parser::{Axis, Expr, NodeTest, Step};
use super::rules::{Constraint, KeyField, Kind, Level};
use super::tree::Tree;
use super::{ConstraintSet, Family};

/// Index and uniqueness keys are the document's own values, hashed once per
/// item: foldhash, not SipHash (a crafted document can at worst slow its own
/// validation).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// One failed constraint at one place.
#[derive(Debug, Clone)]
pub struct Violation {
    pub family: Family,
    pub constraint: u32,
    pub pointer: String,
    pub message: String,
}

/// The fate of one constraint in one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Passed,
    Failed,
    NotEvaluated,
}

#[derive(Debug, Default)]
pub struct Evaluation {
    pub violations: Vec<Violation>,
    /// Every constraint that applied (had a context node), with its outcome,
    /// and for not evaluated ones the reason.
    pub outcomes: BTreeMap<(Family, u32), (Outcome, Option<String>)>,
}

impl Evaluation {
    fn record(&mut self, family: Family, id: u32, outcome: Outcome, reason: Option<String>) {
        let entry = self
            .outcomes
            .entry((family, id))
            .or_insert((Outcome::Passed, None));
        if outcome > entry.0 {
            *entry = (outcome, reason);
        }
    }
}

/// A block of constraints (with its `let`s) applied at one context node.
struct Application<'c> {
    family: Family,
    context: u32,
    block: &'c [u32],
}

struct PendingKey {
    family: Family,
    constraint: u32,
    name: String,
    key: String,
    /// The node the key was read from (its pointer is made on failure).
    node: u32,
    message_focus: Option<u32>,
}

pub fn evaluate(tree: &Tree<'_>, set: &ConstraintSet, now: DateTime<FixedOffset>) -> Evaluation {
    let evaluator = Evaluator { tree, now };
    let mut result = Evaluation::default();
    let applications = applications(tree, set, &evaluator, &mut result);

    // (node, constraint) for every allowed-values target, grouped by node
    // once all are known: a sorted vector, not a map of vectors, because
    // nearly every prop and field of a large document is in it.
    let mut allowed: Vec<(u32, Family, u32)> = Vec::new();
    // Index name → key → the node that holds it first. Pointers are only
    // made for failures: building one per key dominated large documents.
    let mut indexes: HashMap<String, FastMap<String, u32>> = HashMap::new();
    let mut pending_keys: Vec<PendingKey> = Vec::new();

    for app in &applications {
        let mut vars: Vars = Vec::new();
        for &id in app.block {
            let constraint = set.constraint(app.family, id);
            if let Some(reason) = &constraint.unsupported {
                // An unsupported `let` binds nothing, so the constraints that
                // read it fail to evaluate too and are reported as such.
                result.record(app.family, id, Outcome::NotEvaluated, Some(reason.clone()));
                continue;
            }
            let focus = Focus::node(app.context);
            if let Kind::Let { var, expression } = &constraint.kind {
                match evaluator.eval(&expression.expr, &focus, &mut vars) {
                    Ok(value) => vars.push((var.clone(), value)),
                    Err(e) => {
                        result.record(app.family, id, Outcome::NotEvaluated, Some(e));
                    }
                }
                continue;
            }
            let targets = match evaluator.eval(&constraint.target.expr, &focus, &mut vars) {
                Ok(t) => t,
                Err(e) => {
                    result.record(app.family, id, Outcome::NotEvaluated, Some(e));
                    continue;
                }
            };
            let mut ctx = Judge {
                evaluator: &evaluator,
                tree,
                family: app.family,
                id,
                constraint,
                context: app.context,
                vars: &mut vars,
                result: &mut result,
            };
            match &constraint.kind {
                Kind::AllowedValues { .. } => {
                    ctx.result.record(app.family, id, Outcome::Passed, None);
                    for item in &targets {
                        match item {
                            Item::Node(n) => allowed.push((*n, app.family, id)),
                            other => ctx.judge_allowed_value(other, &[(app.family, id)], set),
                        }
                    }
                }
                Kind::Matches { regex, datatype } => {
                    ctx.result.record(app.family, id, Outcome::Passed, None);
                    for item in &targets {
                        let value = ctx.text(item);
                        let mut problems = Vec::new();
                        if let Some(re) = regex {
                            if !re.is_match(&value) {
                                problems.push(format!(
                                    "does not match the pattern `{}`",
                                    trim_anchor(re.as_str())
                                ));
                            }
                        }
                        if let Some(dt) = datatype {
                            if !super::datatypes::is_valid(dt, &value) {
                                problems.push(format!("is not a valid {dt}"));
                            }
                        }
                        if !problems.is_empty() {
                            let detail = format!("`{value}` {}", problems.join(" and "));
                            ctx.fail(item, detail);
                        }
                    }
                }
                Kind::Index { name, keys } => {
                    ctx.result.record(app.family, id, Outcome::Passed, None);
                    let index = indexes.entry(name.clone()).or_default();
                    for item in &targets {
                        let Some(key_values) = ctx.keys(item, keys) else {
                            continue;
                        };
                        for key in key_values {
                            if let Some(first) = index.get(&key) {
                                let detail = format!(
                                    "key `{key}` appears twice in index `{name}` (first at {})",
                                    tree.pointer(*first)
                                );
                                ctx.fail(item, detail);
                            } else {
                                index.insert(key, ctx.node_of(item));
                            }
                        }
                    }
                }
                Kind::IndexHasKey { name, keys } => {
                    ctx.result.record(app.family, id, Outcome::Passed, None);
                    for item in &targets {
                        let Some(key_values) = ctx.keys(item, keys) else {
                            continue;
                        };
                        for key in key_values {
                            pending_keys.push(PendingKey {
                                family: app.family,
                                constraint: id,
                                name: name.clone(),
                                key,
                                node: ctx.node_of(item),
                                message_focus: match item {
                                    Item::Node(n) => Some(*n),
                                    _ => None,
                                },
                            });
                        }
                    }
                }
                Kind::IsUnique { keys } => {
                    ctx.result.record(app.family, id, Outcome::Passed, None);
                    let mut seen: FastMap<String, u32> = FastMap::default();
                    for item in &targets {
                        let Some(key_values) = ctx.keys(item, keys) else {
                            continue;
                        };
                        let key = key_values.join("|");
                        if let Some(first) = seen.get(&key) {
                            let detail = format!(
                                "{} repeats the key `{key}` of {}",
                                describe_keys(keys),
                                tree.pointer(*first)
                            );
                            ctx.fail(item, detail);
                        } else {
                            seen.insert(key, ctx.node_of(item));
                        }
                    }
                }
                Kind::HasCardinality { min, max } => {
                    ctx.result.record(app.family, id, Outcome::Passed, None);
                    let count = targets.len() as u64;
                    let too_few = min.is_some_and(|m| count < m);
                    let too_many = max.is_some_and(|m| count > m);
                    if too_few || too_many {
                        let bound = match (min, max) {
                            (Some(a), Some(b)) => format!("between {a} and {b}"),
                            (Some(a), None) => format!("at least {a}"),
                            (None, Some(b)) => format!("at most {b}"),
                            (None, None) => String::new(),
                        };
                        let detail = format!(
                            "{count} item(s) match `{}`; {bound} required",
                            constraint.target.text
                        );
                        let context = Item::Node(app.context);
                        ctx.fail(&context, detail);
                    }
                }
                Kind::Expect { test } => {
                    ctx.result.record(app.family, id, Outcome::Passed, None);
                    for item in &targets {
                        let focus = Focus {
                            item: Some(item.clone()),
                            position: 1,
                            size: 1,
                        };
                        let value = ctx.evaluator.eval(&test.expr, &focus, ctx.vars);
                        match value.and_then(|v| super::metapath::eval::ebv(&v)) {
                            Ok(true) => {}
                            Ok(false) => {
                                let detail = format!("the test `{}` is false", test.text);
                                ctx.fail(item, detail);
                            }
                            Err(e) => {
                                ctx.result
                                    .record(app.family, id, Outcome::NotEvaluated, Some(e));
                                break;
                            }
                        }
                    }
                }
                Kind::Let { .. } => {}
            }
        }
    }

    // Allowed values: a value passes if any constraint on the node lists
    // it or lets others through.
    // Stable by node: each node's constraints stay in the order they were
    // applied, which decides the one a failure is reported against.
    allowed.sort_by_key(|a| a.0);
    let mut constraints: Vec<(Family, u32)> = Vec::new();
    for (i, &(node, family, id)) in allowed.iter().enumerate() {
        constraints.push((family, id));
        if allowed.get(i + 1).is_some_and(|next| next.0 == node) {
            continue;
        }
        let item = Item::Node(node);
        let mut vars = Vec::new();
        let mut judge = Judge {
            evaluator: &evaluator,
            tree,
            family: constraints[0].0,
            id: constraints[0].1,
            constraint: set.constraint(constraints[0].0, constraints[0].1),
            context: node,
            vars: &mut vars,
            result: &mut result,
        };
        judge.judge_allowed_value(&item, &constraints, set);
        constraints.clear();
    }

    for pending in pending_keys {
        let found = indexes
            .get(&pending.name)
            .is_some_and(|index| index.contains_key(&pending.key));
        if found {
            continue;
        }
        let constraint = set.constraint(pending.family, pending.constraint);
        let detail = if indexes.contains_key(&pending.name) {
            format!("`{}` is not a key of index `{}`", pending.key, pending.name)
        } else {
            format!(
                "`{}` cannot be found: the document has nothing for index `{}`",
                pending.key, pending.name
            )
        };
        let message = message_for(&evaluator, constraint, pending.message_focus, &detail);
        result.record(pending.family, pending.constraint, Outcome::Failed, None);
        result.violations.push(Violation {
            family: pending.family,
            constraint: pending.constraint,
            pointer: tree.pointer(pending.node),
            message,
        });
    }
    result
}

/// Every (context node, constraint block) pair of the document.
fn applications<'c>(
    tree: &Tree<'_>,
    set: &'c ConstraintSet,
    evaluator: &Evaluator<'_, '_>,
    result: &mut Evaluation,
) -> Vec<Application<'c>> {
    let mut out = Vec::new();
    if set.nist_enabled {
        for (i, node) in tree.nodes.iter().enumerate() {
            let Some(def) = node.def else { continue };
            let block = &set.metaschema.def(def).constraints;
            if !block.is_empty() {
                out.push(Application {
                    family: Family::Nist,
                    context: i as u32,
                    block,
                });
            }
        }
    }
    for context in &set.external.contexts {
        external_applications(context, 0, evaluator, result, &mut out);
    }
    out
}

fn external_applications<'c>(
    context: &'c super::external::Context,
    from: u32,
    evaluator: &Evaluator<'_, '_>,
    result: &mut Evaluation,
    out: &mut Vec<Application<'c>>,
) {
    let mut matched: Vec<u32> = Vec::new();
    for target in &context.targets {
        let mut vars = Vec::new();
        match evaluator.eval(&target.expr, &Focus::node(from), &mut vars) {
            Ok(items) => matched.extend(items.iter().filter_map(|i| match i {
                Item::Node(n) => Some(*n),
                _ => None,
            })),
            Err(e) => {
                for id in &context.constraints {
                    result.record(
                        Family::External,
                        *id,
                        Outcome::NotEvaluated,
                        Some(e.clone()),
                    );
                }
            }
        }
    }
    matched.sort_unstable();
    matched.dedup();
    for node in matched {
        if !context.constraints.is_empty() {
            out.push(Application {
                family: Family::External,
                context: node,
                block: &context.constraints,
            });
        }
        for child in &context.children {
            external_applications(child, node, evaluator, result, out);
        }
    }
}

struct Judge<'a, 'e, 't> {
    evaluator: &'a Evaluator<'e, 't>,
    tree: &'a Tree<'t>,
    family: Family,
    id: u32,
    constraint: &'a Constraint,
    context: u32,
    vars: &'a mut Vars,
    result: &'a mut Evaluation,
}

impl<'a, 'e, 't> Judge<'a, 'e, 't> {
    fn text(&self, item: &Item) -> std::borrow::Cow<'t, str> {
        match item {
            Item::Node(n) => self.tree.string_value(*n),
            other => std::borrow::Cow::Owned(string_of(other)),
        }
    }

    fn pointer_of(&self, item: &Item) -> String {
        let about_value = matches!(
            self.constraint.kind,
            Kind::AllowedValues { .. } | Kind::Matches { .. }
        );
        match item {
            Item::Node(n) if about_value => self.tree.value_pointer(*n),
            Item::Node(n) => self.tree.pointer(*n),
            _ => self.tree.pointer(self.context),
        }
    }

    /// The node an index or uniqueness key is reported at: the item's, or
    /// the context's for an atomic item.
    fn node_of(&self, item: &Item) -> u32 {
        match item {
            Item::Node(n) => *n,
            _ => self.context,
        }
    }

    /// The key values of an item; several when one key field yields several
    /// values (each `party-uuid` of a responsible party is its own key).
    fn keys(&mut self, item: &Item, keys: &[KeyField]) -> Option<Vec<String>> {
        let focus = Focus {
            item: Some(item.clone()),
            position: 1,
            size: 1,
        };
        let mut parts: Vec<Vec<String>> = Vec::new();
        for key in keys {
            // Most key fields are one flag (`@name`): read it directly rather
            // than through a sequence, which every key of every item pays.
            if let (Item::Node(node), Some(flag)) = (item, attribute_key(&key.target.expr)) {
                let value = self
                    .tree
                    .name_id(flag)
                    .and_then(|id| {
                        self.tree
                            .flags(*node)
                            .find(|f| self.tree.node(*f).name == id)
                    })
                    .map(|f| self.tree.string_value(f));
                let mut text = value.map(|v| v.into_owned()).unwrap_or_default();
                if let Some(pattern) = &key.pattern {
                    if let Some(m) = pattern.captures(&text).and_then(|c| c.get(1)) {
                        text = m.as_str().to_string();
                    }
                }
                parts.push(vec![text]);
                continue;
            }
            let value = match self.evaluator.eval(&key.target.expr, &focus, self.vars) {
                Ok(v) => self.evaluator.atomize(v),
                Err(e) => {
                    self.result
                        .record(self.family, self.id, Outcome::NotEvaluated, Some(e));
                    return None;
                }
            };
            let mut texts: Vec<String> = value.iter().map(string_of).collect();
            if let Some(pattern) = &key.pattern {
                texts = texts
                    .into_iter()
                    .map(|t| match pattern.captures(&t).and_then(|c| c.get(1)) {
                        Some(m) => m.as_str().to_string(),
                        None => t,
                    })
                    .collect();
            }
            texts.retain(|t| !t.is_empty());
            if texts.is_empty() {
                texts.push(String::new());
            }
            parts.push(texts);
        }
        // An item with no key at all is not indexed (a prop without a uuid
        // is not in the index of prop uuids), as Metaschema's validator does.
        if parts.iter().all(|p| p.iter().all(String::is_empty)) {
            return None;
        }
        if parts.len() == 1 {
            return parts.pop();
        }
        Some(vec![parts
            .into_iter()
            .map(|p| p.join(" "))
            .collect::<Vec<_>>()
            .join("|")])
    }

    fn fail(&mut self, item: &Item, detail: String) {
        let focus = match item {
            Item::Node(n) => Some(*n),
            _ => None,
        };
        let message = message_for(self.evaluator, self.constraint, focus, &detail);
        self.result
            .record(self.family, self.id, Outcome::Failed, None);
        self.result.violations.push(Violation {
            family: self.family,
            constraint: self.id,
            pointer: self.pointer_of(item),
            message,
        });
    }

    fn judge_allowed_value(
        &mut self,
        item: &Item,
        constraints: &[(Family, u32)],
        set: &'a ConstraintSet,
    ) {
        let value = self.text(item);
        let mut listed: Vec<&str> = Vec::new();
        let mut others_allowed = false;
        let mut closed = false;
        for (family, id) in constraints {
            if let Kind::AllowedValues {
                values,
                allow_other,
                extensible_none,
            } = &set.constraint(*family, *id).kind
            {
                if values.iter().any(|v| *v == value) {
                    return;
                }
                others_allowed |= *allow_other;
                closed |= *extensible_none;
                listed.extend(values.iter().map(String::as_str));
            }
        }
        if others_allowed && !closed {
            return;
        }
        // Report against the first constraint that closes the list.
        let (family, id) = constraints
            .iter()
            .copied()
            .find(|(f, i)| {
                matches!(
                    set.constraint(*f, *i).kind,
                    Kind::AllowedValues {
                        allow_other: false,
                        ..
                    }
                )
            })
            .unwrap_or(constraints[0]);
        self.family = family;
        self.id = id;
        self.constraint = set.constraint(family, id);
        let mut seen = HashSet::new();
        listed.retain(|v| seen.insert(*v));
        let shown: Vec<String> = listed.iter().take(12).map(|v| format!("`{v}`")).collect();
        let more = if listed.len() > 12 {
            format!(" and {} more", listed.len() - 12)
        } else {
            String::new()
        };
        let detail = format!(
            "`{value}` is not an allowed value here (allowed: {}{more})",
            shown.join(", ")
        );
        self.fail(item, detail);
    }
}

/// The flag name of a key field that is just `@name`.
fn attribute_key(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Step(Step {
            axis: Axis::Attribute,
            test: NodeTest::Name(name),
            predicates,
        }) if predicates.is_empty() => Some(name),
        _ => None,
    }
}

fn describe_keys(keys: &[KeyField]) -> String {
    let names: Vec<&str> = keys.iter().map(|k| k.target.text.as_str()).collect();
    format!("({})", names.join(", "))
}

fn trim_anchor(pattern: &str) -> &str {
    pattern
        .strip_prefix("^(?:")
        .and_then(|p| p.strip_suffix(")$"))
        .unwrap_or(pattern)
}

/// The diagnostic text: what proofpack found, then the constraint's own
/// message (with its `{expr}` templates filled in) when it has one.
fn message_for(
    evaluator: &Evaluator<'_, '_>,
    constraint: &Constraint,
    focus: Option<u32>,
    detail: &str,
) -> String {
    let own = constraint
        .message
        .as_ref()
        .map(|m| fill_template(evaluator, m, focus));
    match own {
        Some(own) => format!("{detail}: {own}"),
        None => detail.to_string(),
    }
}

fn fill_template(evaluator: &Evaluator<'_, '_>, template: &str, focus: Option<u32>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        let expr = &rest[open + 1..open + close];
        let filled = focus.and_then(|n| {
            let parsed = super::metapath::parse(expr).ok()?;
            let value: Seq = evaluator
                .eval(&parsed, &Focus::node(n), &mut Vec::new())
                .ok()?;
            Some(
                evaluator
                    .atomize(value)
                    .iter()
                    .map(string_of)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        });
        out.push_str(&filled.unwrap_or_else(|| format!("{{{expr}}}")));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

pub fn severity_of(level: Level) -> crate::oscal::diagnostic::Severity {
    use crate::oscal::diagnostic::Severity;
    match level {
        Level::Critical | Level::Error => Severity::Error,
        Level::Warning => Severity::Warning,
        Level::Informational | Level::Debug => Severity::Info,
    }
}
