//! Validation against FedRAMP's CR26 JSON Schemas (draft 2020-12). The
//! Security Decision Record schema refers to FedRAMP's common-definitions
//! schema by its full URL; both are read from a folder of FedRAMP's schema
//! files (`--fedramp-schema-dir`, or `PROOFPACK_FEDRAMP_SCHEMA_DIR`), never
//! fetched, and formats (`uri`, `date`) are enforced.

use std::path::{Path, PathBuf};

use serde_json::Value;

pub const FEDRAMP_SCHEMA_DIR_ENV: &str = "PROOFPACK_FEDRAMP_SCHEMA_DIR";

/// The newest file in `dir` whose name starts with `prefix`.
fn find(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".json"))
        })
        .collect();
    found.sort();
    found.pop()
}

fn read(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Validates a Security Decision Record; returns the problems (empty when
/// valid), or why it could not be validated.
pub fn validate_sdr(dir: &Path, document: &Value) -> Result<Vec<String>, String> {
    let sdr_path = find(dir, "fedramp-security-decision-record-schema").ok_or_else(|| {
        format!(
            "{}: no fedramp-security-decision-record-schema-*.json",
            dir.display()
        )
    })?;
    let common_path = find(dir, "fedramp-common-definitions-schema").ok_or_else(|| {
        format!(
            "{}: no fedramp-common-definitions-schema-*.json",
            dir.display()
        )
    })?;
    let sdr = read(&sdr_path)?;
    let common = read(&common_path)?;
    let common_id = common
        .get("$id")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{}: no $id", common_path.display()))?
        .to_string();
    // FedRAMP's SDR schema (2026-06-24) refers to common definitions with a
    // path, `...common-definitions-schema-2026-06-24.json/$defs/NAME`, where
    // JSON Schema needs a fragment (`.json#/$defs/NAME`); as written, no
    // validator can resolve it. Each such reference is registered under the
    // URL as written, holding the definition it evidently means.
    let mut refs = Vec::new();
    collect_refs(&sdr, &mut refs);
    let mut registry = jsonschema::Registry::new()
        .add(common_id.as_str(), common.clone())
        .map_err(|e| format!("{}: {e}", common_path.display()))?;
    for r in refs {
        let Some(pointer) = r.strip_prefix(&format!("{common_id}/")) else {
            continue;
        };
        if r.contains('#') {
            continue;
        }
        let mut def = common
            .pointer(&format!("/{pointer}"))
            .cloned()
            .ok_or_else(|| {
                format!(
                    "{}: {r} names nothing in the common definitions",
                    sdr_path.display()
                )
            })?;
        if let (Some(obj), Some(draft)) = (def.as_object_mut(), common.get("$schema")) {
            obj.entry("$schema").or_insert(draft.clone());
        }
        registry = registry
            .add(r.as_str(), def)
            .map_err(|e| format!("{}: {e}", sdr_path.display()))?;
    }
    let registry = registry
        .prepare()
        .map_err(|e| format!("{}: {e}", common_path.display()))?;
    let validator = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&sdr)
        .map_err(|e| format!("{}: {e}", sdr_path.display()))?;
    Ok(validator
        .iter_errors(document)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect())
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}
