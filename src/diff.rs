//! What changed between two runs: findings newly not satisfied, resolved
//! and unchanged; identities added and removed; checks whose status or
//! metrics moved. Works on two packages, or two assessment-results files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Moved {
    pub check: String,
    pub metric: String,
    pub old: Value,
    pub new: Value,
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct Diff {
    pub old: String,
    pub new: String,
    /// Controls whose finding became not-satisfied (or appeared so).
    pub newly_not_satisfied: Vec<String>,
    /// Controls whose finding was not-satisfied and no longer is.
    pub resolved: Vec<String>,
    pub unchanged_not_satisfied: Vec<String>,
    pub unchanged_satisfied: Vec<String>,
    pub identities_added: Vec<String>,
    pub identities_removed: Vec<String>,
    /// Check statuses that changed: check → (old, new).
    pub checks_changed: BTreeMap<String, (String, String)>,
    pub metrics_moved: Vec<Moved>,
}

fn read(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The assessment results, and the check report when a package is given.
fn load(path: &Path) -> Result<(Value, Option<Value>), String> {
    if path.is_dir() {
        let ar = read(&path.join("oscal/assessment-results.json"))?;
        let checks = read(&path.join("checks.json")).ok();
        Ok((ar, checks))
    } else {
        let ar = read(path)?;
        if ar.get("assessment-results").is_none() {
            return Err(format!("{}: not OSCAL assessment results", path.display()));
        }
        Ok((ar, None))
    }
}

fn findings(ar: &Value) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for result in ar["assessment-results"]["results"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for f in result["findings"].as_array().into_iter().flatten() {
            if let (Some(target), Some(state)) = (
                f["target"]["target-id"].as_str(),
                f["target"]["status"]["state"].as_str(),
            ) {
                out.insert(
                    target.trim_end_matches("_obj").to_string(),
                    state.to_string(),
                );
            }
        }
    }
    out
}

fn identities(ar: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for result in ar["assessment-results"]["results"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for item in result["local-definitions"]["inventory-items"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let id = item["props"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == "asset-id")
                .and_then(|p| p["value"].as_str());
            if let Some(id) = id {
                out.insert(id.to_string());
            }
        }
    }
    out
}

/// check id → (status, metrics), from checks.json or, failing that, from the
/// observations' props.
fn checks(
    ar: &Value,
    report: Option<&Value>,
) -> BTreeMap<String, (String, BTreeMap<String, Value>)> {
    let mut out = BTreeMap::new();
    if let Some(report) = report {
        for r in report["results"].as_array().into_iter().flatten() {
            let metrics = r["metrics"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(_, v)| v.is_number())
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            out.insert(
                r["id"].as_str().unwrap_or("").to_string(),
                (r["status"].as_str().unwrap_or("").to_string(), metrics),
            );
        }
        return out;
    }
    for result in ar["assessment-results"]["results"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for o in result["observations"].as_array().into_iter().flatten() {
            let prop = |name: &str| {
                o["props"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|p| p["name"] == name)
                    .and_then(|p| p["value"].as_str())
                    .map(str::to_string)
            };
            if let (Some(id), Some(status)) = (prop("check-id"), prop("check-status")) {
                out.insert(id, (status, BTreeMap::new()));
            }
        }
    }
    out
}

pub fn diff(old: &Path, new: &Path) -> Result<Diff, String> {
    let (old_ar, old_report) = load(old)?;
    let (new_ar, new_report) = load(new)?;
    let mut d = Diff {
        old: old.display().to_string(),
        new: new.display().to_string(),
        ..Diff::default()
    };
    let (fo, fnew) = (findings(&old_ar), findings(&new_ar));
    for (control, state) in &fnew {
        let before = fo.get(control).map(String::as_str);
        match (before, state.as_str()) {
            (Some("not-satisfied"), "not-satisfied") => {
                d.unchanged_not_satisfied.push(control.clone())
            }
            (_, "not-satisfied") => d.newly_not_satisfied.push(control.clone()),
            (Some("not-satisfied"), _) => d.resolved.push(control.clone()),
            _ => d.unchanged_satisfied.push(control.clone()),
        }
    }
    for (control, state) in &fo {
        if state == "not-satisfied" && !fnew.contains_key(control) {
            d.resolved.push(control.clone());
        }
    }
    let (io, inew) = (identities(&old_ar), identities(&new_ar));
    d.identities_added = inew.difference(&io).cloned().collect();
    d.identities_removed = io.difference(&inew).cloned().collect();
    let (co, cn) = (
        checks(&old_ar, old_report.as_ref()),
        checks(&new_ar, new_report.as_ref()),
    );
    for (id, (status, metrics)) in &cn {
        let Some((old_status, old_metrics)) = co.get(id) else {
            continue;
        };
        if old_status != status {
            d.checks_changed
                .insert(id.clone(), (old_status.clone(), status.clone()));
        }
        for (metric, value) in metrics {
            if let Some(before) = old_metrics.get(metric) {
                if before != value {
                    d.metrics_moved.push(Moved {
                        check: id.clone(),
                        metric: metric.clone(),
                        old: before.clone(),
                        new: value.clone(),
                    });
                }
            }
        }
    }
    Ok(d)
}

pub fn text(d: &Diff) -> String {
    let mut out = format!("{} → {}\n", d.old, d.new);
    let list = |label: &str, items: &[String], out: &mut String| {
        out.push_str(&format!("{label}: {}\n", items.len()));
        for i in items {
            out.push_str(&format!("  {i}\n"));
        }
    };
    list("newly not satisfied", &d.newly_not_satisfied, &mut out);
    list("resolved", &d.resolved, &mut out);
    out.push_str(&format!(
        "unchanged: {} not satisfied, {} satisfied\n",
        d.unchanged_not_satisfied.len(),
        d.unchanged_satisfied.len()
    ));
    list("identities added", &d.identities_added, &mut out);
    list("identities removed", &d.identities_removed, &mut out);
    out.push_str(&format!(
        "checks whose status changed: {}\n",
        d.checks_changed.len()
    ));
    for (id, (a, b)) in &d.checks_changed {
        out.push_str(&format!("  {id}: {a} → {b}\n"));
    }
    out.push_str(&format!("metrics that moved: {}\n", d.metrics_moved.len()));
    for m in &d.metrics_moved {
        out.push_str(&format!(
            "  {} {}: {} → {}\n",
            m.check, m.metric, m.old, m.new
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ar(findings: &[(&str, &str)], ids: &[&str]) -> Value {
        json!({"assessment-results": {"results": [{
            "findings": findings.iter().map(|(c, s)| json!({"target": {"target-id": format!("{c}_obj"), "status": {"state": s}}})).collect::<Vec<_>>(),
            "local-definitions": {"inventory-items": ids.iter().map(|i| json!({"props": [{"name": "asset-id", "value": i}]})).collect::<Vec<_>>()},
            "observations": []
        }]}})
    }

    #[test]
    fn new_resolved_unchanged_and_identities() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
        std::fs::write(
            &a,
            ar(
                &[
                    ("ac-2", "not-satisfied"),
                    ("ia-5", "satisfied"),
                    ("sc-8", "not-satisfied"),
                ],
                &["x", "y"],
            )
            .to_string(),
        )
        .unwrap();
        std::fs::write(
            &b,
            ar(
                &[
                    ("ac-2", "satisfied"),
                    ("ia-5", "not-satisfied"),
                    ("sc-8", "not-satisfied"),
                ],
                &["y", "z"],
            )
            .to_string(),
        )
        .unwrap();
        let d = diff(&a, &b).unwrap();
        assert_eq!(d.newly_not_satisfied, vec!["ia-5"]);
        assert_eq!(d.resolved, vec!["ac-2"]);
        assert_eq!(d.unchanged_not_satisfied, vec!["sc-8"]);
        assert_eq!(d.identities_added, vec!["z"]);
        assert_eq!(d.identities_removed, vec!["x"]);
    }
}
