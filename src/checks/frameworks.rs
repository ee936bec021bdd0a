//! Frameworks as data: each is a list of items (controls, KSIs, risks,
//! threats) with ids, titles and aliases. Four ship inside the binary (from
//! `mappings/frameworks/`); a team adds its own, or a newer FedRAMP KSI
//! release, by dropping a file in a mappings directory: a TOML framework
//! file in the same form, or FedRAMP's own machine-readable rules JSON
//! (`fedramp-consolidated-rules.json` or an FRMR `documentation` file),
//! whose KSIs replace the built-in ones and whose version is recorded.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::CheckError;

/// The frameworks built into the binary.
pub const BUILT_IN: [(&str, &str); 6] = [
    (
        "nist-800-53-r5.toml",
        include_str!("../../mappings/frameworks/nist-800-53-r5.toml"),
    ),
    (
        "owasp-nhi-top10-2025.toml",
        include_str!("../../mappings/frameworks/owasp-nhi-top10-2025.toml"),
    ),
    (
        "csa-maestro.toml",
        include_str!("../../mappings/frameworks/csa-maestro.toml"),
    ),
    (
        "fedramp-20x-ksi.toml",
        include_str!("../../mappings/frameworks/fedramp-20x-ksi.toml"),
    ),
    (
        "owasp-agentic-top10-2026.toml",
        include_str!("../../mappings/frameworks/owasp-agentic-top10-2026.toml"),
    ),
    (
        "nist-ai-rmf-1.0.toml",
        include_str!("../../mappings/frameworks/nist-ai-rmf-1.0.toml"),
    ),
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub title: String,
    /// A theme, family or layer, for grouping in reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Other ids the same item is known by (FedRAMP's former numeric ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Ids of items merged into this one by a later release.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// For a KSI: the 800-53 controls FedRAMP lists for it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub id: String,
    /// The short name `--framework` accepts (`800-53`, `nhi`, `maestro`, `ksi`).
    pub short: String,
    pub title: String,
    pub version: String,
    pub source: String,
    #[serde(rename = "item")]
    pub items: Vec<Item>,
}

impl Framework {
    /// The item an id or alias names (case-insensitive, as ids are written
    /// both ways: `AC-2` / `ac-2`).
    pub fn find(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| {
            i.id.eq_ignore_ascii_case(id)
                || i.aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
                || i.merged_from.iter().any(|a| a.eq_ignore_ascii_case(id))
        })
    }
}

/// Every framework known to a run, by id.
#[derive(Debug, Clone, Default)]
pub struct Frameworks {
    pub by_id: BTreeMap<String, Framework>,
    /// Where each came from (`built-in` or a path).
    pub origin: BTreeMap<String, String>,
    /// FedRAMP's remediation timeframes (POA&M deadlines): built in, or
    /// from FedRAMP's rules JSON in a mappings folder.
    pub remediation: Option<super::remediation::RemediationRules>,
}

impl Frameworks {
    pub fn built_in() -> Result<Self, CheckError> {
        let mut out = Frameworks::default();
        for (name, text) in BUILT_IN {
            let framework = parse_toml(text, &format!("built-in {name}"))?;
            out.insert(framework, "built-in".into());
        }
        out.remediation = Some(super::remediation::RemediationRules::built_in()?);
        Ok(out)
    }

    fn insert(&mut self, framework: Framework, origin: String) {
        self.origin.insert(framework.id.clone(), origin);
        self.by_id.insert(framework.id.clone(), framework);
    }

    /// A framework by id or short name.
    pub fn get(&self, name: &str) -> Option<&Framework> {
        self.by_id.get(name).or_else(|| {
            self.by_id
                .values()
                .find(|f| f.short.eq_ignore_ascii_case(name))
        })
    }

    /// Adds (or replaces) a framework from a file: TOML in proofpack's form,
    /// or FedRAMP's rules JSON.
    pub fn load_file(&mut self, path: &Path) -> Result<(), CheckError> {
        let text = std::fs::read_to_string(path).map_err(|e| CheckError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let framework = if path.extension().is_some_and(|e| e == "json") {
            let name = path.display().to_string();
            let doc: Value = serde_json::from_str(&text).map_err(|e| CheckError::Invalid {
                file: name.clone(),
                reason: format!("not JSON: {e}"),
            })?;
            let framework = from_fedramp_json(&doc, &name)?;
            // The same file's remediation timeframes replace the built-in ones.
            if let Some(rules) = super::remediation::from_fedramp_json(&doc, &name)? {
                self.remediation = Some(rules);
            }
            framework
        } else {
            parse_toml(&text, &path.display().to_string())?
        };
        self.insert(framework, path.display().to_string());
        Ok(())
    }
}

pub fn parse_toml(text: &str, name: &str) -> Result<Framework, CheckError> {
    let framework: Framework =
        toml::from_str(text).map_err(|e| CheckError::toml(name, text, &e))?;
    let mut seen = std::collections::BTreeSet::new();
    for item in &framework.items {
        if !seen.insert(item.id.to_ascii_lowercase()) {
            return Err(CheckError::Invalid {
                file: name.to_string(),
                reason: format!("item {} is listed twice", item.id),
            });
        }
    }
    Ok(framework)
}

/// FedRAMP's machine-readable rules (CR26 `fedramp-consolidated-rules.json`
/// or an FRMR `FRMR.documentation.json`): the `KSI` themes become a
/// framework with id `fedramp-20x-ksi`; `fka` ids become aliases.
pub fn from_fedramp_json(doc: &Value, name: &str) -> Result<Framework, CheckError> {
    let themes = doc
        .get("KSI")
        .and_then(Value::as_object)
        .ok_or_else(|| CheckError::Invalid {
            file: name.to_string(),
            reason: "no `KSI` object: not a FedRAMP rules file".into(),
        })?;
    let mut items = Vec::new();
    for theme in themes.values() {
        let group = theme
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        let Some(indicators) = theme.get("indicators").and_then(Value::as_object) else {
            continue;
        };
        for (id, ind) in indicators {
            if ind.get("retired").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let strings = |key: &str| -> Vec<String> {
                ind.get(key)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            items.push(Item {
                id: id.clone(),
                title: ind
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(id)
                    .to_string(),
                group: group.clone(),
                aliases: ind
                    .get("fka")
                    .and_then(Value::as_str)
                    .map(|s| vec![s.to_string()])
                    .unwrap_or_default(),
                merged_from: Vec::new(),
                controls: strings("controls"),
            });
        }
    }
    let info = doc.get("info");
    let field = |k: &str| {
        info.and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string()
    };
    Ok(Framework {
        id: "fedramp-20x-ksi".into(),
        short: "ksi".into(),
        title: format!("FedRAMP 20x Key Security Indicators ({})", field("title")),
        version: field("version"),
        source: name.to_string(),
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_frameworks_load_and_resolve_aliases() {
        let f = Frameworks::built_in().unwrap();
        let ksi = f.get("ksi").unwrap();
        assert_eq!(ksi.items.len(), 46);
        assert_eq!(ksi.find("KSI-IAM-03").unwrap().id, "KSI-IAM-SNU");
        assert_eq!(ksi.find("KSI-IAM-MFA").unwrap().id, "KSI-IAM-APM");
        assert_eq!(
            f.get("800-53").unwrap().find("AC-2").unwrap().title,
            "Account Management"
        );
        assert_eq!(
            f.get("nhi").unwrap().find("NHI7:2025").unwrap().title,
            "Long-Lived Secrets"
        );
        assert!(f
            .get("maestro")
            .unwrap()
            .find("Agent Identity Attack (L7)")
            .is_some());
    }

    #[test]
    fn fedramp_json_becomes_the_ksi_framework_with_its_version() {
        let json = r#"{"info": {"title": "Next", "version": "2027.01.01"},
            "KSI": {"IAM": {"name": "Identity", "indicators": {
                "KSI-IAM-SNU": {"fka": "KSI-IAM-03", "name": "Securing Non-User Authentication", "controls": ["ac-2"]},
                "KSI-IAM-OLD": {"name": "Old", "retired": true}}}}}"#;
        let f = from_fedramp_json(&serde_json::from_str(json).unwrap(), "next.json").unwrap();
        assert_eq!(f.version, "2027.01.01");
        assert_eq!(f.items.len(), 1);
        assert_eq!(f.find("KSI-IAM-03").unwrap().controls, vec!["ac-2"]);
    }
}
