//! Human summaries of a package: Markdown and a self-contained HTML page,
//! rendered from minijinja templates (`templates/`, built in; a team's own
//! copies in a folder override them) with inline SVG charts.

pub mod charts;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::checks::evidence::Evidence;
use crate::checks::frameworks::Frameworks;
use crate::checks::outcome::{Status, DAY_US};
use crate::checks::run::Report;
use crate::config::System;
use crate::generate::deadlines::Deadline;
use crate::generate::ksi_coverage::KsiCoverage;
use charts::Series;

pub const MARKDOWN: &str = "summary.md.j2";
pub const HTML: &str = "summary.html.j2";
const BUILT_IN: [(&str, &str); 2] = [
    (MARKDOWN, include_str!("../../templates/summary.md.j2")),
    (HTML, include_str!("../../templates/summary.html.j2")),
];

#[derive(Debug, Error)]
#[error("{template}:{line}: {message}")]
pub struct TemplateError {
    pub template: String,
    pub line: usize,
    pub message: String,
}

impl TemplateError {
    fn from(e: &minijinja::Error, origins: &BTreeMap<&str, String>) -> Self {
        let name = e.name().unwrap_or("?");
        TemplateError {
            template: origins
                .get(name)
                .cloned()
                .unwrap_or_else(|| name.to_string()),
            line: e.line().unwrap_or(0),
            message: match e.detail() {
                Some(d) => format!("{}: {d}", e.kind()),
                None => e.kind().to_string(),
            },
        }
    }
}

pub struct SummaryInputs<'a> {
    pub system: &'a System,
    pub since: String,
    pub until: String,
    pub generated: String,
    pub report: &'a Report,
    pub sdr: &'a Value,
    /// 800-53 findings: control, title, state.
    pub findings: Vec<(String, String, String)>,
    pub frameworks: &'a Frameworks,
    pub evidence: &'a Evidence,
    pub as_of_us: i64,
    /// Per earlier run: date, KSIs implemented / partially / not.
    pub ksi_trend: Vec<(String, [u64; 3])>,
    /// Which of each KSI's FedRAMP controls the evidence covers.
    pub ksi_coverage: &'a BTreeMap<String, KsiCoverage>,
    /// POA&M deadlines of the failing checks.
    pub deadlines: &'a BTreeMap<String, Deadline>,
    /// What the provider still has to supply (the manifest's `missing`).
    pub missing: &'a [String],
    /// Each check's status in the latest earlier run (empty without a
    /// history).
    pub previous: &'a BTreeMap<String, String>,
    /// A folder whose `summary.md.j2` / `summary.html.j2` replace the built-in ones.
    pub templates: Option<&'a Path>,
}

#[derive(Serialize)]
struct Row {
    id: String,
    title: String,
    status: String,
    checks: Vec<String>,
    /// For KSIs: which of FedRAMP's controls the evidence covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<KsiCoverage>,
}

#[derive(Serialize)]
struct FrameworkTable {
    id: String,
    title: String,
    version: String,
    rows: Vec<Row>,
    /// Items no check covers, folded into one line (ids).
    not_covered: Vec<String>,
    counts: BTreeMap<String, usize>,
    /// Whether rows carry control coverage (the KSI table).
    has_coverage: bool,
}

impl FrameworkTable {
    fn new(f: &crate::checks::frameworks::Framework, title: String, rows: Vec<Row>) -> Self {
        let counts = count(&rows);
        let has_coverage = rows.iter().any(|r| r.coverage.is_some());
        let (uncovered, rows): (Vec<Row>, Vec<Row>) =
            rows.into_iter().partition(|r| r.status == "not covered");
        FrameworkTable {
            id: f.id.clone(),
            title,
            version: f.version.clone(),
            counts,
            has_coverage,
            rows,
            not_covered: uncovered.into_iter().map(|r| r.id).collect(),
        }
    }
}

#[derive(Serialize)]
struct EvidenceLink {
    table: String,
    row: usize,
    /// The CSV line; none when the table is cited in its Parquet file.
    line: Option<usize>,
    href: String,
}

#[derive(Serialize)]
struct SubjectView {
    id: String,
    detail: String,
    rows: Vec<EvidenceLink>,
    more_rows: usize,
    waived_until: Option<String>,
    waiver: Option<String>,
}

#[derive(Serialize)]
struct CheckView {
    id: String,
    title: String,
    status: String,
    reason: String,
    subjects: Vec<SubjectView>,
    more_subjects: usize,
    waived: Vec<SubjectView>,
    /// Subjects of embedded identities answered by verified compensating
    /// controls (their detail lists each control and its state).
    compensated: Vec<SubjectView>,
    ksis: Vec<String>,
    controls: Vec<String>,
    /// For a failing check: when the POA&M says it is due, and why.
    deadline: Option<String>,
    /// Against the latest earlier run: `new`, `still failing`, `fixed`.
    change: Option<String>,
}

/// An AI agent or another organisation's identity, as the summary lists it.
#[derive(Serialize)]
struct DelegatedView {
    id: String,
    kind: String,
    /// `agent` or `third-party` (or both).
    role: String,
    /// The agent platform or the vendor.
    platform: String,
    on_behalf_of: String,
    owner: String,
    why: String,
    evidence: EvidenceLink,
}

/// Agents and third-party identities listed in the summary, at most.
const DELEGATED_SHOWN: usize = 50;

/// Every agent and third-party identity, once per id (first row), so a
/// reader sees who acts for whom without opening the tables.
fn delegated(s: &SummaryInputs<'_>) -> (Vec<DelegatedView>, usize) {
    let id = &s.evidence.identities;
    let mut seen = std::collections::HashSet::new();
    let mut views = Vec::new();
    for i in 0..id.len {
        let platform = id.agent_platform.get(i);
        let third = id.is_third_party(i);
        let agent = platform.is_some() || id.kind.get(i).is_some_and(|k| k.starts_with("agent"));
        if !agent && !third {
            continue;
        }
        let name = id.id.get(i).unwrap_or("?");
        if !seen.insert(name) {
            continue;
        }
        let role = match (agent, third) {
            (true, true) => "agent, third-party",
            (true, false) => "agent",
            _ => "third-party",
        };
        views.push(DelegatedView {
            id: name.to_string(),
            kind: id.kind.get(i).unwrap_or("").to_string(),
            role: role.to_string(),
            platform: platform.or(id.vendor.get(i)).unwrap_or("").to_string(),
            on_behalf_of: id.on_behalf_of.get(i).unwrap_or("").to_string(),
            owner: id.owner.get(i).unwrap_or("").to_string(),
            why: id.ownership_reason.get(i).unwrap_or("").to_string(),
            evidence: link(
                s.report,
                &crate::checks::outcome::RowRef {
                    table: crate::model::tables::IDENTITIES,
                    row: i,
                },
            ),
        });
    }
    // Agents the logs show that no identity row names (by user agent).
    let mut agents: Vec<(u64, &str, &str)> = s
        .evidence
        .events
        .principals
        .iter()
        .filter(|(name, _)| !name.is_empty())
        .filter_map(|(name, p)| {
            let (row, why) = p.first_as_agent.as_ref()?;
            Some((*row, name.as_str(), why.as_str()))
        })
        .collect();
    agents.sort_unstable();
    for (row, name, why) in agents {
        if !seen.insert(name) {
            continue;
        }
        views.push(DelegatedView {
            id: name.to_string(),
            kind: "caller".into(),
            role: "agent".into(),
            platform: String::new(),
            on_behalf_of: String::new(),
            owner: String::new(),
            why: why.to_string(),
            evidence: link(
                s.report,
                &crate::checks::outcome::RowRef {
                    table: crate::model::tables::ACCESS_EVENTS,
                    row: row as usize,
                },
            ),
        });
    }
    let total = views.len();
    views.truncate(DELEGATED_SHOWN);
    (views, total.saturating_sub(DELEGATED_SHOWN))
}

/// Subjects shown per check; the rest are counted (all are in checks.json).
const SHOWN: usize = 25;

/// Where a cited row is: its CSV line, or (a table too large for a CSV
/// copy) its row in the Parquet file.
fn link(report: &Report, row: &crate::checks::outcome::RowRef) -> EvidenceLink {
    let (href, csv) = report.evidence_file(row.table);
    EvidenceLink {
        table: row.table.to_string(),
        row: row.row,
        line: csv.then_some(row.row + 2),
        href,
    }
}

/// What changed since the latest earlier run, for a check with one.
fn change(now: &str, before: Option<&String>) -> Option<String> {
    let before = before?.as_str();
    match (now == "fail", before == "fail") {
        (true, true) => Some("still failing".into()),
        (true, false) => Some(format!("new (was {before})")),
        (false, true) => Some(format!("fixed (now {now})")),
        (false, false) => None,
    }
}

/// The manifest's `missing`, grouped: per-KSI texts by what is missing
/// (statuses, implementation texts, assessor statements), each with its
/// KSIs; anything else on a line of its own.
fn missing_groups(missing: &[String]) -> Vec<minijinja::Value> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut single = Vec::new();
    for item in missing {
        let head = item.split(' ').next().unwrap_or(item);
        let parts: Vec<&str> = head.split('.').collect();
        match parts.as_slice() {
            ["ksi", id, field] => {
                let title = match *field {
                    "status" => "KSI statuses for the controls no check covers",
                    "implementation" => "KSI implementation texts",
                    "assessment" => "assessor statements per KSI",
                    "validation" => "KSI validation texts",
                    other => other,
                };
                groups
                    .entry(title.to_string())
                    .or_default()
                    .push(id.to_string());
            }
            _ => single.push(item.clone()),
        }
    }
    groups
        .into_iter()
        .map(|(title, items)| minijinja::context! { title => title, items => items })
        .chain(
            single
                .into_iter()
                .map(|title| minijinja::context! { title => title, items => Vec::<String>::new() }),
        )
        .collect()
}

fn status_of(statuses: &[Status]) -> &'static str {
    if statuses.contains(&Status::Fail) {
        "not satisfied"
    } else if statuses.contains(&Status::Compensated) {
        "compensated"
    } else if statuses.contains(&Status::Pass) {
        "satisfied"
    } else if statuses.is_empty() {
        "not covered"
    } else {
        "not judged"
    }
}

fn count(rows: &[Row]) -> BTreeMap<String, usize> {
    let mut c = BTreeMap::new();
    for r in rows {
        *c.entry(r.status.clone()).or_insert(0) += 1;
    }
    c
}

/// Status per item of a framework from the checks that map to it.
/// A framework's items with the checks mapped to them; `group_by_layer`
/// folds them into their groups (MAESTRO's layers), `only_mapped` leaves
/// out items no check maps to (the AI RMF's 72 outcomes).
fn by_checks(
    s: &SummaryInputs<'_>,
    framework: &str,
    group_by_layer: bool,
    only_mapped: bool,
) -> Option<FrameworkTable> {
    let f = s.frameworks.by_id.get(framework)?;
    let mut rows: Vec<Row> = Vec::new();
    let mut layers: BTreeMap<String, (Vec<Status>, Vec<String>)> = BTreeMap::new();
    for item in &f.items {
        let mut statuses = Vec::new();
        let mut checks = Vec::new();
        for r in &s.report.results {
            let maps = r
                .mappings
                .iter()
                .any(|m| m.framework == framework && m.items.iter().any(|i| i.id == item.id));
            if maps {
                statuses.push(r.outcome.status);
                checks.push(r.id.clone());
            }
        }
        if group_by_layer {
            let entry = layers
                .entry(item.group.clone().unwrap_or_default())
                .or_default();
            entry.0.extend(statuses);
            for c in checks {
                if !entry.1.contains(&c) {
                    entry.1.push(c);
                }
            }
        } else if !(only_mapped && checks.is_empty()) {
            rows.push(Row {
                id: item.id.clone(),
                title: item.title.clone(),
                status: status_of(&statuses).into(),
                checks,
                coverage: None,
            });
        }
    }
    if group_by_layer {
        rows = layers
            .into_iter()
            .map(|(layer, (statuses, checks))| Row {
                id: layer.clone(),
                title: layer,
                status: status_of(&statuses).into(),
                checks,
                coverage: None,
            })
            .collect();
    }
    Some(FrameworkTable::new(f, f.title.clone(), rows))
}

fn ksi_table(s: &SummaryInputs<'_>) -> Option<FrameworkTable> {
    let f = s.frameworks.by_id.get("fedramp-20x-ksi")?;
    let entries: BTreeMap<&str, &Value> = s.sdr["keySecurityIndicators"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| Some((k["ksiId"].as_str()?, k)))
        .collect();
    let rows: Vec<Row> = f
        .items
        .iter()
        .map(|item| match entries.get(item.id.as_str()) {
            Some(k) => Row {
                id: item.id.clone(),
                title: item.title.clone(),
                status: k["ksiImplementationStatus"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string(),
                checks: k["ksiTests"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| {
                        t.as_str()
                            .map(|t| t.split(':').next().unwrap_or(t).to_string())
                    })
                    .collect(),
                coverage: s.ksi_coverage.get(&item.id).cloned(),
            },
            None => Row {
                id: item.id.clone(),
                title: item.title.clone(),
                status: "not covered".into(),
                checks: Vec::new(),
                coverage: s.ksi_coverage.get(&item.id).cloned(),
            },
        })
        .collect();
    Some(FrameworkTable::new(f, f.title.clone(), rows))
}

fn subject_view(report: &Report, subject: &crate::checks::outcome::Subject) -> SubjectView {
    SubjectView {
        id: subject.id.clone(),
        detail: subject.detail.clone(),
        rows: subject
            .rows
            .iter()
            .take(10)
            .map(|r| link(report, r))
            .collect(),
        more_rows: subject
            .rows_total
            .saturating_sub(subject.rows.len().min(10)),
        waived_until: None,
        waiver: None,
    }
}

fn charts(s: &SummaryInputs<'_>) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    let e = &s.evidence.events;
    // Credential types per source.
    let mix: BTreeMap<&str, [u64; 3]> = e
        .sources
        .iter()
        .map(|(name, stats)| (name.as_str(), stats.all_credentials))
        .collect();
    let days: BTreeMap<String, [u64; 2]> = e
        .days
        .iter()
        .map(|(day, counts)| (crate::time::format_micros(*day)[..10].to_string(), *counts))
        .collect();
    if !mix.is_empty() {
        out.insert(
            "credential_mix",
            charts::stacked_bars(
                "Credential types per log source",
                &[
                    Series {
                        name: "ephemeral",
                        colour: "#2e8b57",
                    },
                    Series {
                        name: "static",
                        colour: "#c0392b",
                    },
                    Series {
                        name: "unknown",
                        colour: "#999999",
                    },
                ],
                &mix.into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_vec()))
                    .collect::<Vec<_>>(),
            ),
        );
    }
    if !days.is_empty() {
        out.insert(
            "activity",
            charts::daily_bars(
                "Access events and denials per day",
                &[
                    Series {
                        name: "events",
                        colour: "#3b6ea5",
                    },
                    Series {
                        name: "denied",
                        colour: "#c0392b",
                    },
                ],
                &days
                    .into_iter()
                    .map(|(k, v)| (k, v.to_vec()))
                    .collect::<Vec<_>>(),
            ),
        );
    }
    // Ages of active static credentials.
    let id = &s.evidence.identities;
    let buckets = [
        "0-30 d",
        "31-90 d",
        "91-180 d",
        "181-365 d",
        "over 1 y",
        "unknown",
    ];
    let mut ages = [0u64; 6];
    let mut any = false;
    for i in (0..id.len).filter(|&i| {
        id.active[i] && id.is_credential(i) && id.credential_type.get(i) == Some("static")
    }) {
        any = true;
        let slot = match id.last_rotated[i].or(id.created[i]) {
            None => 5,
            Some(t) => match (s.as_of_us - t) / DAY_US {
                d if d <= 30 => 0,
                d if d <= 90 => 1,
                d if d <= 180 => 2,
                d if d <= 365 => 3,
                _ => 4,
            },
        };
        ages[slot] += 1;
    }
    if any {
        out.insert(
            "credential_age",
            charts::stacked_bars(
                "Active static credentials by time since rotation",
                &[Series {
                    name: "credentials",
                    colour: "#b9770e",
                }],
                &buckets
                    .iter()
                    .zip(ages)
                    .map(|(b, n)| (b.to_string(), vec![n]))
                    .collect::<Vec<_>>(),
            ),
        );
    }
    if !s.ksi_trend.is_empty() {
        out.insert(
            "ksi_trend",
            charts::daily_bars(
                "KSI status by run",
                &[
                    Series {
                        name: "implemented",
                        colour: "#2e8b57",
                    },
                    Series {
                        name: "partially",
                        colour: "#e67e22",
                    },
                    Series {
                        name: "not implemented",
                        colour: "#c0392b",
                    },
                ],
                &s.ksi_trend
                    .iter()
                    .map(|(d, v)| (d.clone(), v.to_vec()))
                    .collect::<Vec<_>>(),
            ),
        );
    }
    out
}

/// Renders (Markdown, HTML).
pub fn render(s: &SummaryInputs<'_>) -> Result<(String, String), TemplateError> {
    let mut checks: Vec<CheckView> = s
        .report
        .results
        .iter()
        .map(|r| {
            let items = |fw: &str| -> Vec<String> {
                r.mappings
                    .iter()
                    .filter(|m| m.framework == fw)
                    .flat_map(|m| m.items.iter().map(|i| i.id.clone()))
                    .collect()
            };
            CheckView {
                id: r.id.clone(),
                title: r.title.clone(),
                status: r.outcome.status.as_str().to_string(),
                reason: r.outcome.reason.clone(),
                subjects: r
                    .outcome
                    .subjects
                    .iter()
                    .take(SHOWN)
                    .map(|subject| subject_view(s.report, subject))
                    .collect(),
                more_subjects: r.outcome.subjects.len().saturating_sub(SHOWN),
                waived: r
                    .outcome
                    .waived
                    .iter()
                    .map(|w| SubjectView {
                        waived_until: Some(w.waiver.expires.to_string()),
                        waiver: Some(format!(
                            "{} (approved by {})",
                            w.waiver.justification, w.waiver.approver
                        )),
                        ..subject_view(s.report, &w.subject)
                    })
                    .collect(),
                compensated: r
                    .outcome
                    .compensated
                    .iter()
                    .map(|c| subject_view(s.report, &c.subject))
                    .collect(),
                ksis: items("fedramp-20x-ksi"),
                controls: items("nist-800-53-r5"),
                change: change(r.outcome.status.as_str(), s.previous.get(&r.id)),
                deadline: s.deadlines.get(&r.id).map(|d| match &d.due {
                    Some(due) => format!(
                        "POA&M deadline {}: {}",
                        crate::time::prose_time(due),
                        d.explanation
                    ),
                    None => format!("No POA&M deadline: {}", d.explanation),
                }),
            }
        })
        .collect();
    // Not satisfied first.
    checks.sort_by_key(|c| match c.status.as_str() {
        "fail" => 0,
        "compensated" => 1,
        "not-evaluated" => 2,
        "pass" => 3,
        _ => 4,
    });
    let mut frameworks = Vec::new();
    frameworks.extend(ksi_table(s));
    let controls: Vec<Row> = s
        .findings
        .iter()
        .map(|(id, title, state)| Row {
            id: id.clone(),
            title: title.clone(),
            status: state.replace('-', " "),
            checks: s
                .report
                .results
                .iter()
                .filter(|r| {
                    r.mappings.iter().any(|m| {
                        m.framework == "nist-800-53-r5" && m.items.iter().any(|i| &i.id == id)
                    })
                })
                .map(|r| r.id.clone())
                .collect(),
            coverage: None,
        })
        .collect();
    if let Some(f) = s.frameworks.by_id.get("nist-800-53-r5") {
        frameworks.push(FrameworkTable::new(
            f,
            format!("{} — controls with findings", f.title),
            controls,
        ));
    }
    frameworks.extend(by_checks(s, "owasp-nhi-top10-2025", false, false));
    frameworks.extend(by_checks(s, "csa-maestro", true, false));
    frameworks.extend(by_checks(s, "owasp-agentic-top10-2026", false, false));
    frameworks.extend(by_checks(s, "nist-ai-rmf-1.0", false, true));

    let (delegated, more_delegated) = delegated(s);
    // What needs doing first: failing checks, then compensated ones.
    let (needs, others): (Vec<&CheckView>, Vec<&CheckView>) = checks
        .iter()
        .partition(|c| c.status == "fail" || c.status == "compensated");
    let expired: Vec<String> = s
        .report
        .expired_waivers
        .iter()
        .map(|w| {
            format!(
                "{} on {} (expired {}, approved by {})",
                w.check, w.subject, w.expires, w.approver
            )
        })
        .collect();
    let context = minijinja::context! {
        missing => missing_groups(s.missing),
        needs => minijinja::Value::from(minijinja::value::Serde(&needs)),
        others => minijinja::Value::from(minijinja::value::Serde(&others)),
        expired_waivers => expired,
        delegated => minijinja::Value::from(minijinja::value::Serde(&delegated)),
        more_delegated => more_delegated,
        system => minijinja::Value::from(minijinja::value::Serde(s.system)),
        since => crate::time::prose_time(&s.since),
        until => crate::time::prose_time(&s.until),
        generated => crate::time::prose_time(&s.generated),
        version => env!("CARGO_PKG_VERSION"),
        counts => minijinja::Value::from(minijinja::value::Serde(&s.report.counts)),
        checks => minijinja::Value::from(minijinja::value::Serde(&checks)),
        frameworks => minijinja::Value::from(minijinja::value::Serde(&frameworks)),
        charts => charts(s)
            .into_iter()
            .map(|(id, svg)| {
                let title = svg
                    .split("<title>")
                    .nth(1)
                    .and_then(|t| t.split("</title>").next())
                    .unwrap_or(id)
                    .to_string();
                minijinja::context! { id => id, title => title, svg => minijinja::Value::from_safe_string(svg) }
            })
            .collect::<Vec<_>>(),
    };
    let mut env = minijinja::Environment::new();
    // Where each template came from, for error messages.
    let mut origins: BTreeMap<&str, String> = BTreeMap::new();
    for (name, source) in BUILT_IN {
        let own = s.templates.map(|d| d.join(name)).filter(|p| p.is_file());
        let text = match &own {
            Some(path) => {
                origins.insert(name, path.display().to_string());
                std::fs::read_to_string(path).map_err(|e| TemplateError {
                    template: path.display().to_string(),
                    line: 0,
                    message: e.to_string(),
                })?
            }
            None => {
                origins.insert(name, format!("templates/{name} (built in)"));
                source.to_string()
            }
        };
        env.add_template_owned(name.to_string(), text)
            .map_err(|e| TemplateError::from(&e, &origins))?;
    }
    let render = |name: &str| {
        env.get_template(name)
            .and_then(|t| t.render(&context))
            .map_err(|e| TemplateError::from(&e, &origins))
    };
    Ok((render(MARKDOWN)?, render(HTML)?))
}
