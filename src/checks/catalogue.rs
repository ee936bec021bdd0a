//! The check catalogue: what each check is, its parameters and defaults,
//! and its mappings to framework items. The built-in catalogue is
//! `mappings/checks.toml`; a mappings directory may add mapping files
//! (`framework = "..."` with `[[map]] check = ... items = [...]`) that attach
//! a team's own controls to the existing checks.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::frameworks::Frameworks;
use super::CheckError;

pub const BUILT_IN: &str = include_str!("../../mappings/checks.toml");

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub default: toml::Value,
    pub description: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Moderate,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Moderate => "moderate",
            Severity::High => "high",
        }
    }
}

/// Where a mapping comes from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// The 800-53 items are in FedRAMP's published control list of a KSI the
    /// check also maps to.
    FedrampKsi,
    /// The OWASP Agentic Top 10 items are those OWASP's own Appendix C
    /// maps the check's OWASP NHI Top 10 items to.
    OwaspNhiAsi,
    /// Our own judgement; no published mapping exists.
    Derived,
    /// A team's own mapping file.
    Local,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub framework: String,
    pub items: Vec<String>,
    pub basis: Basis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub id: String,
    pub title: String,
    /// The Rust function that evaluates it (see `rules::function`).
    pub function: String,
    /// What a failure means for the risk it records.
    pub severity: Severity,
    pub rationale: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
    #[serde(rename = "map", default)]
    pub maps: Vec<Mapping>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    check: Vec<Check>,
}

/// A team's own mapping file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    framework: String,
    map: Vec<LocalMap>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocalMap {
    check: String,
    items: Vec<String>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Catalogue {
    pub checks: Vec<Check>,
}

impl Catalogue {
    pub fn built_in() -> Result<Self, CheckError> {
        Self::parse(BUILT_IN, "built-in mappings/checks.toml")
    }

    pub fn parse(text: &str, name: &str) -> Result<Self, CheckError> {
        let file: CatalogueFile =
            toml::from_str(text).map_err(|e| CheckError::toml(name, text, &e))?;
        let mut seen = std::collections::BTreeSet::new();
        for check in &file.check {
            if !seen.insert(check.id.clone()) {
                return Err(CheckError::Invalid {
                    file: name.into(),
                    reason: format!("check {} is defined twice", check.id),
                });
            }
            if super::rules::function(&check.function).is_none() {
                return Err(CheckError::Invalid {
                    file: name.into(),
                    reason: format!(
                        "check {}: no function named {:?} (known: {})",
                        check.id,
                        check.function,
                        super::rules::NAMES.join(", ")
                    ),
                });
            }
        }
        Ok(Catalogue { checks: file.check })
    }

    pub fn get(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// Adds a team's mapping file's entries to the checks they name.
    pub fn add_mapping_file(&mut self, path: &Path, text: &str) -> Result<(), CheckError> {
        let name = path.display().to_string();
        let file: MappingFile =
            toml::from_str(text).map_err(|e| CheckError::toml(&name, text, &e))?;
        for entry in file.map {
            let check = self
                .checks
                .iter_mut()
                .find(|c| c.id == entry.check)
                .ok_or_else(|| CheckError::Invalid {
                    file: name.clone(),
                    reason: format!("maps to check {:?}, which does not exist", entry.check),
                })?;
            check.maps.push(Mapping {
                framework: file.framework.clone(),
                items: entry.items,
                basis: Basis::Local,
                note: entry.note,
            });
        }
        Ok(())
    }

    /// Every mapping names a known framework and items it holds (aliases
    /// resolve); returns each problem as a line, with whether it comes from
    /// a team's own mapping file.
    pub fn unresolved(&self, frameworks: &Frameworks) -> Vec<(bool, String)> {
        let mut problems = Vec::new();
        for check in &self.checks {
            for map in &check.maps {
                let local = map.basis == Basis::Local;
                let Some(framework) = frameworks.by_id.get(&map.framework) else {
                    problems.push((
                        local,
                        format!("check {}: unknown framework {:?}", check.id, map.framework),
                    ));
                    continue;
                };
                for item in &map.items {
                    if framework.find(item).is_none() {
                        problems.push((
                            local,
                            format!(
                                "check {}: {} {} has no item {item:?}",
                                check.id, framework.id, framework.version
                            ),
                        ));
                    }
                }
            }
        }
        problems
    }
}

/// Loads a mappings directory: framework files (TOML with `[[item]]`, or
/// FedRAMP rules JSON) and mapping files (TOML with `framework` and
/// `[[map]]`), in name order. A team's mapping to an item its framework
/// does not hold is an error; a built-in mapping to an item a replaced
/// framework (another FedRAMP release) no longer holds is returned as a
/// warning, and that item is left out of coverage.
pub fn load_dir(
    dir: &Path,
    catalogue: &mut Catalogue,
    frameworks: &mut Frameworks,
) -> Result<Vec<String>, CheckError> {
    let io = |e: std::io::Error| CheckError::Io {
        path: dir.display().to_string(),
        source: e,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml" || e == "json"))
        .collect();
    paths.sort();
    // Frameworks first, so mapping files can name them.
    let mut mapping_files = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| CheckError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let is_mapping = path.extension().is_some_and(|e| e == "toml")
            && text.lines().any(|l| l.trim_start().starts_with("[[map]]"));
        if is_mapping {
            mapping_files.push((path, text));
        } else {
            frameworks.load_file(&path)?;
        }
    }
    for (path, text) in mapping_files {
        catalogue.add_mapping_file(&path, &text)?;
    }
    let problems = catalogue.unresolved(frameworks);
    let local: Vec<&String> = problems
        .iter()
        .filter(|(l, _)| *l)
        .map(|(_, p)| p)
        .collect();
    if let Some(first) = local.first() {
        return Err(CheckError::Invalid {
            file: dir.display().to_string(),
            reason: format!("{first} ({} problem(s) in all)", local.len()),
        });
    }
    Ok(problems.into_iter().map(|(_, p)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_catalogue_resolves_against_the_built_in_frameworks() {
        let catalogue = Catalogue::built_in().unwrap();
        assert!(catalogue.checks.len() >= 16);
        let frameworks = Frameworks::built_in().unwrap();
        assert_eq!(
            catalogue.unresolved(&frameworks),
            Vec::<(bool, String)>::new()
        );
    }

    #[test]
    fn a_team_mapping_file_attaches_its_controls() {
        let mut catalogue = Catalogue::built_in().unwrap();
        catalogue
            .add_mapping_file(
                Path::new("acme.toml"),
                "framework = \"acme\"\n[[map]]\ncheck = \"mesh-mtls\"\nitems = [\"ACME-NET-4\"]\n",
            )
            .unwrap();
        let maps = &catalogue.get("mesh-mtls").unwrap().maps;
        assert_eq!(maps.last().unwrap().basis, Basis::Local);
        let err = catalogue
            .add_mapping_file(
                Path::new("acme.toml"),
                "framework = \"acme\"\n[[map]]\ncheck = \"nope\"\nitems = []\n",
            )
            .unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn unknown_keys_are_errors_with_their_line() {
        let err = Catalogue::parse(
            "[[check]]\nid = \"x\"\ntitle = \"t\"\nfunction = \"mesh_mtls\"\nseverity = \"low\"\nrationale = \"r\"\nthreshold = 3\n",
            "c.toml",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("c.toml:7:1:"), "{text}");
        assert!(text.contains("threshold"), "{text}");
    }
}
