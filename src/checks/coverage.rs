//! Which items of a framework the checks cover, and which none does.

use serde::Serialize;

use super::catalogue::{Basis, Catalogue};
use super::frameworks::Framework;

#[derive(Debug, Clone, Serialize)]
pub struct CoveredBy {
    pub check: String,
    pub basis: Basis,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemCoverage {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub checks: Vec<CoveredBy>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub framework: String,
    pub title: String,
    pub version: String,
    pub items: usize,
    pub covered: usize,
    pub items_detail: Vec<ItemCoverage>,
}

pub fn coverage(framework: &Framework, catalogue: &Catalogue) -> Coverage {
    let items_detail: Vec<ItemCoverage> = framework
        .items
        .iter()
        .map(|item| {
            let mut checks = Vec::new();
            for check in &catalogue.checks {
                for map in check.maps.iter().filter(|m| m.framework == framework.id) {
                    let hits = map
                        .items
                        .iter()
                        .any(|id| framework.find(id).is_some_and(|i| i.id == item.id));
                    if hits && !checks.iter().any(|c: &CoveredBy| c.check == check.id) {
                        checks.push(CoveredBy {
                            check: check.id.clone(),
                            basis: map.basis,
                        });
                    }
                }
            }
            ItemCoverage {
                id: item.id.clone(),
                title: item.title.clone(),
                group: item.group.clone(),
                checks,
            }
        })
        .collect();
    // Headings (an AI RMF function or category, named as the group of
    // other items) are listed but not counted: checks map to outcomes.
    let heading = |id: &str| {
        framework
            .items
            .iter()
            .any(|i| i.group.as_deref() == Some(id))
    };
    let counted = || items_detail.iter().filter(|i| !heading(&i.id));
    Coverage {
        framework: framework.id.clone(),
        title: framework.title.clone(),
        version: framework.version.clone(),
        items: counted().count(),
        covered: counted().filter(|i| !i.checks.is_empty()).count(),
        items_detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::frameworks::Frameworks;

    #[test]
    fn every_owasp_nhi_risk_is_covered() {
        let f = Frameworks::built_in().unwrap();
        let c = coverage(f.get("nhi").unwrap(), &Catalogue::built_in().unwrap());
        let uncovered: Vec<&str> = c
            .items_detail
            .iter()
            .filter(|i| i.checks.is_empty())
            .map(|i| i.id.as_str())
            .collect();
        assert!(uncovered.is_empty(), "{uncovered:?}");
        let ksi = coverage(f.get("ksi").unwrap(), &Catalogue::built_in().unwrap());
        assert!(
            ksi.covered < ksi.items,
            "most KSIs are about processes no log shows"
        );
        let snu = ksi
            .items_detail
            .iter()
            .find(|i| i.id == "KSI-IAM-SNU")
            .unwrap();
        assert!(snu
            .checks
            .iter()
            .any(|c| c.check == "ephemeral-credentials"));
    }
}
