//! The OSCAL documents of a package: an assessment plan, the assessment
//! results that import it, and a POA&M. Built from the check report, so
//! every claim points at an observation, and every observation at hashed
//! evidence rows in the package's back-matter.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::deadlines::Deadline;
use super::ids::uuid;
use crate::checks::catalogue::Catalogue;
use crate::checks::outcome::Status;
use crate::checks::run::{CheckResult, Report};
use crate::config::{Attestation, System};

/// proofpack's namespace for the props it defines.
pub const NS: &str = "https://proofpack.dev/ns/oscal";

/// A file of the package, as a back-matter resource.
#[derive(Debug, Clone)]
pub struct Resource {
    pub uuid: String,
    pub title: String,
    /// Relative to the `oscal/` folder (`../evidence/grants.csv`).
    pub href: String,
    /// Relative to the package root (`evidence/grants.csv`).
    pub path: String,
    pub media_type: &'static str,
    pub sha256: String,
    /// The evidence table the file holds, for CSV tables.
    pub table: Option<&'static str>,
}

impl Resource {
    fn to_json(&self) -> Value {
        json!({
            "uuid": self.uuid,
            "title": self.title,
            "rlinks": [{
                "href": self.href,
                "media-type": self.media_type,
                "hashes": [{"algorithm": "SHA-256", "value": self.sha256}]
            }]
        })
    }
}

pub struct DocInputs<'a> {
    pub system: &'a System,
    pub oscal_version: &'a str,
    pub last_modified: String,
    pub since: String,
    pub until: String,
    /// When the checks ran (the as-of time) and when their results lapse.
    pub collected: String,
    pub expires: String,
    pub cadence_days: i64,
    pub report: &'a Report,
    pub catalogue: &'a Catalogue,
    /// Identity rows from the inventories and the logs.
    pub identities: Vec<SubjectIdentity>,
    pub resources: Vec<Resource>,
    pub attestations: Vec<(Attestation, Resource)>,
    /// POA&M deadlines of the failing checks, by check id.
    pub deadlines: &'a BTreeMap<String, Deadline>,
    /// Where the provider's system description lives.
    pub ssp_href: Option<String>,
}

pub struct Documents {
    pub assessment_plan: Value,
    pub assessment_results: Value,
    pub poam: Value,
}

/// FedRAMP's namespace, and the one `fedramp-version` its constraints accept.
const FEDRAMP_NS: &str = "http://fedramp.gov/ns/oscal";
const FEDRAMP_VERSION: &str = "fedramp-3.0.0rc1-oscal-1.1.2";

fn metadata(d: &DocInputs<'_>, title: String) -> Value {
    let party = uuid(&["party", &d.system.organization]);
    let marking = d.system.marking.as_deref().unwrap_or("cui");
    json!({
        "title": title,
        // Generated documents are published when written.
        "published": d.last_modified,
        "last-modified": d.last_modified,
        "props": [
            {"name": "fedramp-version", "ns": FEDRAMP_NS, "value": FEDRAMP_VERSION},
            nist_prop("marking", marking),
        ],
        "version": d.until[..10],
        "oscal-version": d.oscal_version,
        "roles": [{"id": "assessor", "title": "Automated assessor (proofpack)"}],
        "parties": [{"uuid": party, "type": "organization", "name": d.system.organization}],
        "responsible-parties": [{"role-id": "assessor", "party-uuids": [party]}]
    })
}

fn prop(name: &str, value: &str) -> Value {
    json!({"name": name, "ns": NS, "value": value})
}

/// An identity as an OSCAL inventory item: its id, kind, and the facts
/// that say who else is behind it (`nhi-ownership` third-party, `vendor`,
/// `agent-platform`, `acts-for`).
pub struct SubjectIdentity {
    pub id: String,
    pub kind: String,
    pub facts: Vec<(&'static str, String)>,
}

/// A prop in NIST's own namespace (no `ns`), for names NIST defines at that
/// place, such as an activity's `method`.
fn nist_prop(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

/// 800-53 controls the report's checks map to, in catalogue order.
fn mapped_controls(report: &Report) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for r in &report.results {
        for m in r
            .mappings
            .iter()
            .filter(|m| m.framework == "nist-800-53-r5")
        {
            for item in &m.items {
                if seen.insert(item.id.clone()) {
                    out.push(item.id.clone());
                }
            }
        }
    }
    out
}

fn reviewed_controls(controls: &[String]) -> Value {
    json!({"control-selections": [{
        "include-controls": controls.iter().map(|c| json!({"control-id": c})).collect::<Vec<_>>()
    }]})
}

/// The provider's system description, which the plan and the POA&M import.
/// It is not part of the package: with no `system.overview_uri` the resource
/// names the system by its identifier and says the document's location is
/// not configured, rather than pointing at a file of the package that is no
/// SSP.
fn ssp_resource(d: &DocInputs<'_>) -> Value {
    let mut resource = json!({
        "uuid": uuid(&["ssp", &d.system.name]),
        "title": format!("{}: system description held by the provider", d.system.name),
    });
    match &d.ssp_href {
        Some(href) => {
            resource["description"] = json!(d.system.boundary);
            resource["rlinks"] = json!([{"href": href}]);
        }
        None => {
            // NIST wants an rlink on every resource: the system's own
            // identifier (the POA&M's system-id) as an RFC 4122 URN names
            // the system without claiming a document.
            resource["description"] = json!(format!(
                "{} The provider's system description is not part of this package and its location is not configured (system.overview_uri).",
                d.system.boundary
            ));
            resource["rlinks"] =
                json!([{"href": format!("urn:uuid:{}", uuid(&["system", &d.system.name]))}]);
        }
    }
    resource
}

pub fn build(d: &DocInputs<'_>) -> Documents {
    let run_key = format!("{}|{}|{}", d.system.name, d.since, d.until);
    let controls = mapped_controls(d.report);
    let ssp_uuid = uuid(&["ssp", &d.system.name]);

    // ---- assessment plan
    let activities: Vec<Value> = d
        .report
        .results
        .iter()
        .map(|r| {
            let check = d.catalogue.get(&r.id);
            json!({
                "uuid": uuid(&["activity", &r.id]),
                "title": r.title,
                "description": check.map_or(String::new(), |c| c.rationale.trim().to_string()),
                "props": [prop("check-id", &r.id), nist_prop("method", "TEST")]
            })
        })
        .collect();
    let task = json!({
        "uuid": uuid(&["task", &run_key]),
        "type": "action",
        "title": "Automated NHI evidence run",
        "description": format!(
            "Ingest the configured audit logs, inventories, policies and scanner reports, and run every check over them; repeated every {} day(s).",
            d.cadence_days
        ),
        "timing": {"within-date-range": {"start": d.since, "end": d.until}},
        "associated-activities": activities.iter().map(|a| json!({
            "activity-uuid": a["uuid"],
            "subjects": [{"type": "inventory-item", "include-all": {}}]
        })).collect::<Vec<_>>()
    });
    let assessment_plan = json!({"assessment-plan": {
        "uuid": uuid(&["assessment-plan", &run_key]),
        "metadata": metadata(d, format!("NHI assessment plan: {}", d.system.name)),
        "import-ssp": {"href": format!("#{ssp_uuid}")},
        "local-definitions": {"activities": activities},
        "reviewed-controls": reviewed_controls(&controls),
        "assessment-subjects": [{
            "type": "inventory-item",
            "description": "Every non-human identity and credential the inventories list, and every principal the logs show.",
            "include-all": {}
        }],
        "tasks": [task],
        "back-matter": {"resources": [ssp_resource(d)]}
    }});

    // ---- inventory items: every identity, and every other subject named
    let mut items: BTreeMap<String, Value> = BTreeMap::new();
    for identity in &d.identities {
        let (id, kind) = (&identity.id, &identity.kind);
        items.entry(id.clone()).or_insert_with(|| {
            let mut props = vec![prop("asset-id", id), prop("nhi-kind", kind)];
            props.extend(identity.facts.iter().map(|(name, value)| prop(name, value)));
            json!({
                "uuid": uuid(&["subject", id]),
                "description": format!("{kind} {id}"),
                "props": props
            })
        });
    }
    for r in &d.report.results {
        let named = r
            .outcome
            .subjects
            .iter()
            .chain(r.outcome.waived.iter().map(|w| &w.subject))
            .chain(r.outcome.compensated.iter().map(|c| &c.subject));
        for s in named {
            items.entry(s.id.clone()).or_insert_with(|| {
                json!({
                    "uuid": uuid(&["subject", &s.id]),
                    "description": format!("{} (named by check {})", s.id, r.id),
                    "props": [prop("asset-id", &s.id)]
                })
            });
        }
    }

    // ---- observations, one per check
    let by_table: BTreeMap<&str, &Resource> = d
        .resources
        .iter()
        .filter_map(|r| r.table.map(|t| (t, r)))
        .collect();
    let checks_resource = d.resources.iter().find(|r| r.path == "checks.json");
    let mut observations = Vec::new();
    let mut obs_uuid: BTreeMap<&str, String> = BTreeMap::new();
    for r in &d.report.results {
        let id = uuid(&["observation", &run_key, &r.id]);
        obs_uuid.insert(&r.id, id.clone());
        observations.push(observation(d, r, &id, &by_table, checks_resource));
    }
    for (a, res) in &d.attestations {
        let id = uuid(&["attestation", &a.title, &res.sha256]);
        let date = a.date.to_string();
        let collected = if date.len() == 10 {
            format!("{date}T00:00:00Z")
        } else {
            date.clone()
        };
        observations.push(json!({
            "uuid": id,
            "title": a.title,
            "description": format!("{} Attested by {} on {}.", a.description, a.attested_by, date),
            "props": [prop("attested-by", &a.attested_by)],
            "methods": [match a.method {
                crate::config::AttestationMethod::Interview => "INTERVIEW",
                crate::config::AttestationMethod::Examine => "EXAMINE",
            }],
            "types": ["control-objective"],
            "relevant-evidence": [{"href": format!("#{}", res.uuid), "description": format!("{} ({})", a.title, res.path)}],
            "collected": collected,
        }));
    }

    // ---- risks: open for failures, deviation-approved for waivers
    let mut risks = Vec::new();
    let mut risk_of: BTreeMap<&str, String> = BTreeMap::new();
    for r in &d.report.results {
        let obs = &obs_uuid[r.id.as_str()];
        if r.outcome.status == Status::Fail {
            let id = uuid(&["risk", &run_key, &r.id]);
            risk_of.insert(&r.id, id.clone());
            let mut risk = json!({
                "uuid": id,
                "title": format!("{}: not met", r.title),
                "description": d.catalogue.get(&r.id).map_or(String::new(), |c| c.rationale.trim().to_string()),
                "statement": format!("{} Subjects: {}.", r.outcome.reason, subject_list(r)),
                "status": "open",
                "related-observations": [{"observation-uuid": obs}]
            });
            if let Some(deadline) = d.deadlines.get(&r.id) {
                add_deadline(
                    &mut risk,
                    deadline,
                    &uuid(&["remediation", &run_key, &r.id]),
                );
            }
            risks.push(risk);
        }
        if !r.outcome.compensated.is_empty() {
            let id = uuid(&["compensated-risk", &run_key, &r.id]);
            if r.outcome.status == Status::Compensated {
                risk_of.insert(&r.id, id.clone());
            }
            risks.push(compensated_risk(r, id, obs, &by_table));
        }
        if !r.outcome.waived.is_empty() {
            let latest = r
                .outcome
                .waived
                .iter()
                .map(|w| w.waiver.expires)
                .max()
                .unwrap_or_default();
            let lines: Vec<String> = r
                .outcome
                .waived
                .iter()
                .map(|w| {
                    format!(
                        "{} — waived until {} by {}: {}",
                        w.subject.id, w.waiver.expires, w.waiver.approver, w.waiver.justification
                    )
                })
                .collect();
            risks.push(json!({
                "uuid": uuid(&["accepted-risk", &run_key, &r.id]),
                "title": format!("{}: accepted for {} subject(s)", r.title, r.outcome.waived.len()),
                "description": "Subjects a waiver covers: the risk is accepted until the waiver expires.",
                "statement": lines.join("\n"),
                "status": "deviation-approved",
                "deadline": format!("{latest}T23:59:59Z"),
                "related-observations": [{"observation-uuid": obs}]
            }));
        }
    }

    // ---- findings, one per 800-53 control with a judged check
    let mut findings = Vec::new();
    for control in &controls {
        let judged: Vec<&CheckResult> = d
            .report
            .results
            .iter()
            .filter(|r| {
                matches!(
                    r.outcome.status,
                    Status::Pass | Status::Fail | Status::Compensated
                )
            })
            .filter(|r| {
                r.mappings.iter().any(|m| {
                    m.framework == "nist-800-53-r5" && m.items.iter().any(|i| &i.id == control)
                })
            })
            .collect();
        let attested: Vec<&(Attestation, Resource)> = d
            .attestations
            .iter()
            .filter(|(a, _)| a.controls.iter().any(|c| c.eq_ignore_ascii_case(control)))
            .collect();
        if judged.is_empty() && attested.is_empty() {
            continue;
        }
        // Compensated checks are not satisfied as written: their risk is a
        // requested deviation, answered by verified compensating controls.
        let failing: Vec<&&CheckResult> = judged
            .iter()
            .filter(|r| matches!(r.outcome.status, Status::Fail | Status::Compensated))
            .collect();
        let state = if failing.is_empty() {
            "satisfied"
        } else {
            "not-satisfied"
        };
        let mut related: Vec<Value> = judged
            .iter()
            .map(|r| json!({"observation-uuid": obs_uuid[r.id.as_str()]}))
            .collect();
        for (a, res) in &attested {
            related
                .push(json!({"observation-uuid": uuid(&["attestation", &a.title, &res.sha256])}));
        }
        let title = d
            .report
            .results
            .iter()
            .flat_map(|r| r.mappings.iter())
            .flat_map(|m| m.items.iter())
            .find(|i| &i.id == control)
            .map_or(String::new(), |i| i.title.clone());
        let mut finding = json!({
            "uuid": uuid(&["finding", &run_key, control]),
            "title": format!("{} {title}", label(control)),
            "description": format!(
                "{}: {}.",
                if failing.is_empty() { "Satisfied" } else { "Not satisfied" },
                judged.iter().map(|r| format!("{} {}", r.id, r.outcome.status.as_str()))
                    .chain(attested.iter().map(|(a, _)| format!("attested: {}", a.title)))
                    .collect::<Vec<_>>().join(", ")
            ),
            "target": {"type": "objective-id", "target-id": format!("{control}_obj"), "status": {"state": state}},
            "related-observations": related
        });
        let related_risks: Vec<Value> = failing
            .iter()
            .filter_map(|r| risk_of.get(r.id.as_str()))
            .map(|id| json!({"risk-uuid": id}))
            .collect();
        if !related_risks.is_empty() {
            finding["related-risks"] = Value::Array(related_risks);
        }
        findings.push(finding);
    }

    let all_items: Vec<Value> = items.values().cloned().collect();
    let mut back_matter: Vec<Value> = d.resources.iter().map(Resource::to_json).collect();
    back_matter.extend(d.attestations.iter().map(|(_, r)| r.to_json()));
    let mut result = json!({
        "uuid": uuid(&["result", &run_key]),
        "title": format!("NHI evidence run for {}", d.system.name),
        "description": format!(
            "{} checks over the evidence of {} to {}: {} pass, {} fail, {} compensated, {} not applicable, {} not evaluated.",
            d.report.results.len(), d.since, d.until,
            d.report.counts.get("pass").unwrap_or(&0), d.report.counts.get("fail").unwrap_or(&0),
            d.report.counts.get("compensated").unwrap_or(&0),
            d.report.counts.get("not-applicable").unwrap_or(&0), d.report.counts.get("not-evaluated").unwrap_or(&0)
        ),
        "start": d.since,
        "end": d.until,
        "reviewed-controls": reviewed_controls(&controls),
        "observations": observations,
    });
    if !items.is_empty() {
        result["local-definitions"] =
            json!({"inventory-items": items.into_values().collect::<Vec<_>>()});
    }
    if !risks.is_empty() {
        result["risks"] = Value::Array(risks.clone());
    }
    if !findings.is_empty() {
        result["findings"] = Value::Array(findings.clone());
    }
    let assessment_results = json!({"assessment-results": {
        "uuid": uuid(&["assessment-results", &run_key]),
        "metadata": metadata(d, format!("NHI assessment results: {}", d.system.name)),
        "import-ap": {"href": "assessment-plan.json"},
        "results": [result],
        "back-matter": {"resources": back_matter.clone()}
    }});

    // ---- POA&M: an item per not-satisfied finding, and the accepted risks
    let open: Vec<&Value> = findings
        .iter()
        .filter(|f| f["target"]["status"]["state"] == "not-satisfied")
        .collect();
    let needed_obs: BTreeSet<String> = open
        .iter()
        .flat_map(|f| f["related-observations"].as_array().into_iter().flatten())
        .chain(
            risks
                .iter()
                .flat_map(|r| r["related-observations"].as_array().into_iter().flatten()),
        )
        .filter_map(|o| o["observation-uuid"].as_str().map(str::to_string))
        .collect();
    let poam_observations: Vec<Value> = d
        .report
        .results
        .iter()
        .map(|r| obs_uuid[r.id.as_str()].clone())
        .filter(|u| needed_obs.contains(u))
        .filter_map(|u| {
            // The same observation as in the results, by value.
            let all = assessment_results["assessment-results"]["results"][0]["observations"]
                .as_array()?;
            all.iter().find(|o| o["uuid"] == u.as_str()).cloned()
        })
        .chain(
            // Attestation observations related to open findings.
            assessment_results["assessment-results"]["results"][0]["observations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|o| {
                    o["methods"][0] != "TEST"
                        && needed_obs.contains(o["uuid"].as_str().unwrap_or(""))
                })
                .cloned(),
        )
        .collect();
    // A failing check's deadline, by the uuid of its risk.
    let deadline_of: BTreeMap<&str, &Deadline> = risk_of
        .iter()
        .filter_map(|(check, risk)| Some((risk.as_str(), d.deadlines.get(*check)?)))
        .collect();
    let deviations: BTreeSet<&str> = risks
        .iter()
        .filter(|r| r["status"] == "deviation-requested")
        .filter_map(|r| r["uuid"].as_str())
        .collect();
    let poam_items: Vec<Value> = open
        .iter()
        .map(|f| {
            // A finding whose only risks are requested deviations is an
            // operational requirement to approve, not a fix to make.
            let related: Vec<&str> = f["related-risks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["risk-uuid"].as_str())
                .collect();
            let deviation = !related.is_empty() && related.iter().all(|r| deviations.contains(r));
            let mut item = json!({
                "uuid": uuid(&["poam-item", &run_key, f["uuid"].as_str().unwrap_or("")]),
                "title": f["title"],
                "description": if deviation {
                    format!(
                        "Operational requirement (deviation requested): static credentials of embedded identities, answered by compensating controls verified over the evidence (the risk's mitigating factors). {}",
                        f["description"].as_str().unwrap_or("")
                    )
                } else {
                    format!("Remediate: {}", f["description"].as_str().unwrap_or(""))
                },
                "related-findings": [{"finding-uuid": f["uuid"]}],
                "related-observations": f["related-observations"],
            });
            if let Some(r) = f.get("related-risks") {
                item["related-risks"] = r.clone();
            }
            // The item is due when the first of its risks is.
            let first = f["related-risks"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| deadline_of.get(r["risk-uuid"].as_str()?))
                // Dated deadlines first, earliest first; undated (N1) last.
                .min_by(|a, b| (a.due.is_none(), &a.due).cmp(&(b.due.is_none(), &b.due)));
            if let Some(deadline) = first {
                item["props"] = Value::Array(deadline_props(deadline));
                let due = deadline.due.as_deref().map_or_else(
                    || "No deadline".to_string(),
                    |due| format!("Due {due}"),
                );
                item["description"] = json!(format!(
                    "{} {due}: {}",
                    item["description"].as_str().unwrap_or(""),
                    deadline.explanation
                ));
            }
            item
        })
        .chain(risks.iter().filter(|r| r["status"] == "deviation-approved").map(|r| {
            json!({
                "uuid": uuid(&["poam-item", &run_key, r["uuid"].as_str().unwrap_or("")]),
                "title": r["title"],
                "description": format!("Accepted risk until {}: {}", r["deadline"].as_str().unwrap_or(""), r["statement"].as_str().unwrap_or("")),
                "related-observations": r["related-observations"],
                "related-risks": [{"risk-uuid": r["uuid"]}]
            })
        }))
        .collect();
    let mut poam_body = json!({
        "uuid": uuid(&["poam", &run_key]),
        "metadata": metadata(d, format!("NHI plan of action and milestones: {}", d.system.name)),
        "import-ssp": {"href": format!("#{ssp_uuid}")},
        "system-id": {"identifier-type": "http://ietf.org/rfc/rfc4122", "id": uuid(&["system", &d.system.name])},
        "poam-items": poam_items,
    });
    // The inventory items the POA&M's observations name, defined locally.
    let named: BTreeSet<&str> = poam_observations
        .iter()
        .flat_map(|o| o["subjects"].as_array().into_iter().flatten())
        .filter_map(|s| s["subject-uuid"].as_str())
        .collect();
    let poam_items_defined: Vec<Value> = all_items
        .iter()
        .filter(|i| named.contains(i["uuid"].as_str().unwrap_or("")))
        .cloned()
        .collect();
    if !poam_items_defined.is_empty() {
        poam_body["local-definitions"] = json!({"inventory-items": poam_items_defined});
    }
    if !poam_observations.is_empty() {
        poam_body["observations"] = Value::Array(poam_observations);
    }
    if !risks.is_empty() {
        poam_body["risks"] = Value::Array(risks);
    }
    if !open.is_empty() {
        poam_body["findings"] = Value::Array(open.into_iter().cloned().collect());
    }
    let mut poam_back = vec![ssp_resource(d)];
    poam_back.extend(back_matter);
    poam_body["back-matter"] = json!({"resources": poam_back});
    Documents {
        assessment_plan,
        assessment_results,
        poam: json!({"plan-of-action-and-milestones": poam_body}),
    }
}

/// Props naming a deadline, the rule it comes from and its inputs.
fn deadline_props(deadline: &Deadline) -> Vec<Value> {
    let mut props = Vec::new();
    if let Some(due) = &deadline.due {
        props.push(prop("remediation-deadline", due));
    }
    props.push(prop("remediation-rule", &deadline.basis));
    props.push(prop(
        "potential-agency-impact",
        &format!("N{}", deadline.pain),
    ));
    props.push(prop("exposure", deadline.exposure.key()));
    props
}

/// A failing check's risk gets its deadline, the props saying where it
/// comes from, and a planned remediation with the deadline as milestone.
fn add_deadline(risk: &mut Value, deadline: &Deadline, remediation_uuid: &str) {
    risk["props"] = Value::Array(deadline_props(deadline));
    let mut remediation = json!({
        "uuid": remediation_uuid,
        "lifecycle": "planned",
        "title": "Mitigate or remediate",
        "description": deadline.explanation,
    });
    if let Some(due) = &deadline.due {
        risk["deadline"] = json!(due);
        remediation["tasks"] = json!([{
            "uuid": uuid(&["milestone", remediation_uuid]),
            "type": "milestone",
            "title": format!("Mitigated or remediated ({})", deadline.basis),
            "timing": {"on-date": {"date": due}},
        }]);
    }
    risk["remediations"] = json!([remediation]);
}

/// `ia-5.1` → `IA-5(1)`.
fn label(control: &str) -> String {
    match control.split_once('.') {
        Some((base, enh)) => format!("{}({enh})", base.to_uppercase()),
        None => control.to_uppercase(),
    }
}

/// The risk of static credentials kept by embedded identities: a requested
/// deviation (a FedRAMP operational requirement), each verified control a
/// mitigating factor linked to the rows that show it, the provider-attested
/// ones said to be so.
fn compensated_risk(
    r: &CheckResult,
    id: String,
    obs: &str,
    by_table: &BTreeMap<&str, &Resource>,
) -> Value {
    let mut factors = Vec::new();
    let mut lines = Vec::new();
    for c in &r.outcome.compensated {
        lines.push(format!("{}: {}", c.subject.id, c.subject.detail));
        for control in &c.embedded.controls {
            let state = match control.state {
                crate::checks::embedded::ControlState::Held => "verified",
                crate::checks::embedded::ControlState::Broken => "broken",
                crate::checks::embedded::ControlState::Attested => "provider-attested",
            };
            let mut factor = json!({
                "uuid": uuid(&["mitigating-factor", &id, &c.subject.id, &control.control]),
                "description": format!(
                    "{} for {} ({state}): {}",
                    control.control, c.subject.id, control.detail
                ),
                "subjects": [{"subject-uuid": uuid(&["subject", &c.subject.id]), "type": "inventory-item"}],
            });
            // One link per evidence table (a link's href and rel are its
            // key), naming the rows that show the control.
            let mut rows: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for row in &control.rows {
                rows.entry(row.table).or_default().push(row.row.to_string());
            }
            let links: Vec<Value> = rows
                .iter()
                .filter_map(|(table, list)| by_table.get(table).map(|res| (res, list)))
                .map(|(res, list)| {
                    json!({"href": format!("#{}", res.uuid), "rel": "reference",
                        "text": format!("rows {} of {} (0-based; {} in all)", list.join(", "), res.path, control.rows_total)})
                })
                .collect();
            if !links.is_empty() {
                factor["links"] = Value::Array(links);
            }
            factors.push(factor);
        }
    }
    json!({
        "uuid": id,
        "title": format!("{}: compensated for {} embedded subject(s)", r.title, r.outcome.compensated.len()),
        "description": "Static credentials of embedded or industrial identities that cannot refresh tokens: an operational requirement, answered by compensating controls verified over the evidence.",
        "statement": lines.join("\n"),
        "status": "deviation-requested",
        "mitigating-factors": factors,
        "related-observations": [{"observation-uuid": obs}]
    })
}

fn subject_list(r: &CheckResult) -> String {
    let ids: Vec<&str> = r
        .outcome
        .subjects
        .iter()
        .take(20)
        .map(|s| s.id.as_str())
        .collect();
    let more = r.outcome.subjects.len().saturating_sub(ids.len());
    if more > 0 {
        format!("{} and {more} more", ids.join(", "))
    } else {
        ids.join(", ")
    }
}

fn observation(
    d: &DocInputs<'_>,
    r: &CheckResult,
    id: &str,
    by_table: &BTreeMap<&str, &Resource>,
    checks_resource: Option<&Resource>,
) -> Value {
    let named: Vec<&crate::checks::outcome::Subject> = r
        .outcome
        .subjects
        .iter()
        .chain(r.outcome.waived.iter().map(|w| &w.subject))
        .chain(r.outcome.compensated.iter().map(|c| &c.subject))
        .collect();
    // Rows per table, across the subjects.
    let mut rows: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for s in &named {
        for row in &s.rows {
            rows.entry(row.table).or_default().insert(row.row);
        }
    }
    let mut evidence: Vec<Value> = Vec::new();
    for (table, set) in &rows {
        if let Some(res) = by_table.get(table) {
            let list: Vec<String> = set.iter().take(200).map(|r| r.to_string()).collect();
            evidence.push(json!({
                "href": format!("#{}", res.uuid),
                "description": format!(
                    "rows {}{} of {} ({})",
                    list.join(", "),
                    if set.len() > list.len() { format!(" and {} more", set.len() - list.len()) } else { String::new() },
                    res.path,
                    if res.path.ends_with(".csv") { "0-based; CSV line = row + 2" } else { "0-based" }
                )
            }));
        }
    }
    if let Some(res) = checks_resource {
        evidence.push(json!({
            "href": format!("#{}", res.uuid),
            "description": format!("the full result of check {} (metrics, every subject, every row) in {}", r.id, res.path)
        }));
    }
    let mut obs = json!({
        "uuid": id,
        "title": r.title,
        "description": format!("{}: {}", r.outcome.status.as_str(), r.outcome.reason),
        "props": [prop("check-id", &r.id), prop("check-status", r.outcome.status.as_str())],
        "methods": ["TEST"],
        "types": [if r.outcome.status == Status::Fail { "finding" } else { "control-objective" }],
        "relevant-evidence": evidence,
        "collected": d.collected,
        "expires": d.expires,
    });
    if !named.is_empty() {
        obs["subjects"] = Value::Array(
            named
                .iter()
                .map(|s| json!({"subject-uuid": uuid(&["subject", &s.id]), "type": "inventory-item", "title": s.id}))
                .collect(),
        );
    }
    obs
}
