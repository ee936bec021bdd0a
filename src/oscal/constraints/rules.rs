//! The constraints themselves, as read from a Metaschema module or an
//! external constraint file: what kind, what level, which Metapath, and
//! where it was defined. Expressions are parsed once at load; one that
//! proofpack cannot evaluate is marked with the reason, so a run reports it
//! as *not evaluated* instead of passing it.

use regex::Regex;
use serde::Serialize;

use super::metapath::{self, Expr};

/// Metaschema's constraint levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Critical,
    Error,
    Warning,
    Informational,
    Debug,
}

impl Level {
    fn parse(text: Option<&str>) -> Level {
        match text.unwrap_or("ERROR") {
            "CRITICAL" => Level::Critical,
            "WARNING" => Level::Warning,
            "INFORMATIONAL" => Level::Informational,
            "DEBUG" => Level::Debug,
            _ => Level::Error,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Critical => "CRITICAL",
            Level::Error => "ERROR",
            Level::Warning => "WARNING",
            Level::Informational => "INFORMATIONAL",
            Level::Debug => "DEBUG",
        }
    }
}

/// Where a constraint was written.
#[derive(Debug, Clone, Serialize)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

/// A Metapath as written and as parsed.
#[derive(Debug, Clone)]
pub struct Path {
    pub text: String,
    pub expr: Expr,
}

/// A key of an index or uniqueness constraint: a Metapath and, optionally,
/// a regex whose first group is the key (`#(.*)` for fragment hrefs).
#[derive(Debug, Clone)]
pub struct KeyField {
    pub target: Path,
    pub pattern: Option<Regex>,
}

#[derive(Debug, Clone)]
pub enum Kind {
    AllowedValues {
        values: Vec<String>,
        allow_other: bool,
        /// `none` forbids other constraints from adding values.
        extensible_none: bool,
    },
    Matches {
        regex: Option<Regex>,
        datatype: Option<String>,
    },
    Index {
        name: String,
        keys: Vec<KeyField>,
    },
    IndexHasKey {
        name: String,
        keys: Vec<KeyField>,
    },
    IsUnique {
        keys: Vec<KeyField>,
    },
    HasCardinality {
        min: Option<u64>,
        max: Option<u64>,
    },
    Expect {
        test: Path,
    },
    /// `<let var=... expression=...>`: binds a variable for the constraints
    /// after it in the same block.
    Let {
        var: String,
        expression: Path,
    },
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::AllowedValues { .. } => "allowed-values",
            Kind::Matches { .. } => "matches",
            Kind::Index { .. } => "index",
            Kind::IndexHasKey { .. } => "index-has-key",
            Kind::IsUnique { .. } => "is-unique",
            Kind::HasCardinality { .. } => "has-cardinality",
            Kind::Expect { .. } => "expect",
            Kind::Let { .. } => "let",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Constraint {
    /// The constraint's `id`, or one made from its kind and place when the
    /// module gives none.
    pub id: String,
    pub kind: Kind,
    pub level: Level,
    pub target: Path,
    pub message: Option<String>,
    pub origin: Origin,
    /// Why this constraint cannot be evaluated, when it cannot.
    pub unsupported: Option<String>,
}

/// Functions the evaluator implements; anything else makes a constraint
/// not evaluated.
pub const SUPPORTED_FUNCTIONS: &[&str] = &[
    "not",
    "exists",
    "empty",
    "count",
    "true",
    "false",
    "boolean",
    "string",
    "number",
    "data",
    "starts-with",
    "ends-with",
    "contains",
    "substring",
    "substring-after",
    "substring-before",
    "string-length",
    "normalize-space",
    "upper-case",
    "lower-case",
    "concat",
    "string-join",
    "matches",
    "distinct-values",
    "sum",
    "min",
    "max",
    "last",
    "position",
    "current-dateTime",
    "current-date",
    "has-oscal-namespace",
    "path",
    "map:merge",
    "map:entry",
];

const NS: &str = "http://csrc.nist.gov/ns/oscal/metaschema/1.0";

/// Reads one constraint element; `None` for elements that are not
/// constraints (`formal-name`, `remarks`, ...).
pub fn parse_constraint(
    node: roxmltree::Node<'_, '_>,
    origin: Origin,
    fallback_id: impl FnOnce(&str) -> String,
) -> Option<Constraint> {
    let element = node.tag_name().name();
    let mut problems: Vec<String> = Vec::new();
    let path = parse_path;
    let keys = parse_keys;
    let kind = match element {
        "allowed-values" => Kind::AllowedValues {
            values: node
                .children()
                .filter(|c| c.has_tag_name((NS, "enum")))
                .filter_map(|c| c.attribute("value").map(str::to_string))
                .collect(),
            allow_other: node.attribute("allow-other") == Some("yes"),
            extensible_none: node.attribute("extensible") == Some("none"),
        },
        "matches" => {
            let regex = node.attribute("regex").and_then(|r| {
                // Metaschema (like XML Schema) matches the whole value.
                match Regex::new(&format!("^(?:{r})$")) {
                    Ok(re) => Some(re),
                    Err(e) => {
                        problems.push(format!("regex `{r}` does not compile: {e}"));
                        None
                    }
                }
            });
            let datatype = node.attribute("datatype").map(str::to_string);
            if let Some(dt) = &datatype {
                if !super::datatypes::is_known(dt) {
                    problems.push(format!("datatype `{dt}` is not supported"));
                }
            }
            Kind::Matches { regex, datatype }
        }
        "index" => Kind::Index {
            name: node.attribute("name").unwrap_or_default().to_string(),
            keys: keys(node, &mut problems),
        },
        "index-has-key" => Kind::IndexHasKey {
            name: node.attribute("name").unwrap_or_default().to_string(),
            keys: keys(node, &mut problems),
        },
        "is-unique" => Kind::IsUnique {
            keys: keys(node, &mut problems),
        },
        "has-cardinality" => Kind::HasCardinality {
            min: node.attribute("min-occurs").and_then(|v| v.parse().ok()),
            max: node
                .attribute("max-occurs")
                .filter(|v| *v != "unbounded")
                .and_then(|v| v.parse().ok()),
        },
        "expect" => Kind::Expect {
            test: path(node.attribute("test").unwrap_or("true()"), &mut problems),
        },
        "let" => Kind::Let {
            var: node.attribute("var").unwrap_or_default().to_string(),
            expression: path(node.attribute("expression").unwrap_or("()"), &mut problems),
        },
        "report" => {
            problems.push("the report constraint is not supported".to_string());
            Kind::Expect {
                test: path(node.attribute("test").unwrap_or("true()"), &mut problems),
            }
        }
        _ => return None,
    };
    let target = path(node.attribute("target").unwrap_or("."), &mut problems);
    let message = node
        .children()
        .find(|c| c.has_tag_name((NS, "message")))
        .and_then(|m| m.text())
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "));
    let id = node
        .attribute("id")
        .map(str::to_string)
        .unwrap_or_else(|| fallback_id(element));
    Some(Constraint {
        id,
        level: Level::parse(node.attribute("level")),
        kind,
        target,
        message,
        origin,
        unsupported: if problems.is_empty() {
            None
        } else {
            Some(problems.join("; "))
        },
    })
}

fn parse_path(text: &str, problems: &mut Vec<String>) -> Path {
    match metapath::parse(text) {
        Ok(expr) => {
            let mut functions = Vec::new();
            metapath::called_functions(&expr, &mut functions);
            for f in functions {
                if !SUPPORTED_FUNCTIONS.contains(&f.as_str()) {
                    let note = format!("function {f}() is not supported");
                    if !problems.contains(&note) {
                        problems.push(note);
                    }
                }
            }
            Path {
                text: text.to_string(),
                expr,
            }
        }
        Err(e) => {
            problems.push(format!("cannot parse `{text}`: {e}"));
            Path {
                text: text.to_string(),
                expr: Expr::Sequence(Vec::new()),
            }
        }
    }
}

fn parse_keys(node: roxmltree::Node<'_, '_>, problems: &mut Vec<String>) -> Vec<KeyField> {
    node.children()
        .filter(|c| c.has_tag_name((NS, "key-field")))
        .map(|k| {
            let pattern =
                k.attribute("pattern")
                    .and_then(|p| match Regex::new(&format!("^(?:{p})$")) {
                        Ok(r) => Some(r),
                        Err(e) => {
                            problems.push(format!("key pattern `{p}` does not compile: {e}"));
                            None
                        }
                    });
            KeyField {
                target: parse_path(k.attribute("target").unwrap_or("."), problems),
                pattern,
            }
        })
        .collect()
}
