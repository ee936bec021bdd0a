//! OSCAL document models and versions: what a root key means and which
//! pinned schema release serves a declared `oscal-version`.

use std::fmt;
use std::str::FromStr;

/// An OSCAL model, named by the root key of its JSON form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OscalModel {
    Catalog,
    Profile,
    ComponentDefinition,
    SystemSecurityPlan,
    AssessmentPlan,
    AssessmentResults,
    PlanOfActionAndMilestones,
    /// Added in OSCAL 1.2; only the `complete` schema describes it.
    MappingCollection,
}

impl OscalModel {
    pub const ALL: [OscalModel; 8] = [
        Self::Catalog,
        Self::Profile,
        Self::ComponentDefinition,
        Self::SystemSecurityPlan,
        Self::AssessmentPlan,
        Self::AssessmentResults,
        Self::PlanOfActionAndMilestones,
        Self::MappingCollection,
    ];

    /// The JSON root key (`assessment-results`).
    pub fn root_key(self) -> &'static str {
        match self {
            Self::Catalog => "catalog",
            Self::Profile => "profile",
            Self::ComponentDefinition => "component-definition",
            Self::SystemSecurityPlan => "system-security-plan",
            Self::AssessmentPlan => "assessment-plan",
            Self::AssessmentResults => "assessment-results",
            Self::PlanOfActionAndMilestones => "plan-of-action-and-milestones",
            Self::MappingCollection => "mapping-collection",
        }
    }

    pub fn from_root_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.root_key() == key)
    }

    /// The model name used in the lock file, which is the root key.
    /// Schema files use NIST's shorter stems (`ssp`, `poam`, `component`).
    pub fn schema_file(self) -> &'static str {
        match self {
            Self::Catalog => "oscal_catalog_schema.json",
            Self::Profile => "oscal_profile_schema.json",
            Self::ComponentDefinition => "oscal_component_schema.json",
            Self::SystemSecurityPlan => "oscal_ssp_schema.json",
            Self::AssessmentPlan => "oscal_assessment-plan_schema.json",
            Self::AssessmentResults => "oscal_assessment-results_schema.json",
            Self::PlanOfActionAndMilestones => "oscal_poam_schema.json",
            Self::MappingCollection => COMPLETE_SCHEMA_FILE,
        }
    }
}

/// NIST's schema that covers every model of a release.
pub const COMPLETE_SCHEMA_FILE: &str = "oscal_complete_schema.json";

impl fmt::Display for OscalModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.root_key())
    }
}

/// A three-part OSCAL release number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OscalVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

/// The releases whose schemas proofpack pins, oldest first.
pub const SUPPORTED_VERSIONS: [OscalVersion; 4] = [
    OscalVersion::new(1, 0, 4),
    OscalVersion::new(1, 1, 2),
    OscalVersion::new(1, 1, 3),
    OscalVersion::new(1, 2, 1),
];

/// What `generate` emits unless told otherwise: the release with the widest
/// tool support today.
pub const DEFAULT_VERSION: OscalVersion = OscalVersion::new(1, 1, 3);

impl OscalVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    pub fn is_supported(self) -> bool {
        SUPPORTED_VERSIONS.contains(&self)
    }

    /// The pinned release closest to `self`: same major and minor if there is
    /// one (the nearest patch), otherwise the nearest minor; ties go to the newer.
    pub fn nearest_supported(self) -> OscalVersion {
        let distance = |v: &OscalVersion| {
            (
                self.major.abs_diff(v.major),
                self.minor.abs_diff(v.minor),
                self.patch.abs_diff(v.patch),
            )
        };
        let mut best = SUPPORTED_VERSIONS[0];
        for candidate in SUPPORTED_VERSIONS {
            if distance(&candidate) <= distance(&best) {
                best = candidate;
            }
        }
        best
    }

    /// Whether this release has the `mapping-collection` model.
    pub fn has_mapping_collection(self) -> bool {
        self >= OscalVersion::new(1, 2, 0)
    }

    /// The folder name under a schema directory (`v1.1.3`).
    pub fn dir_name(self) -> String {
        format!("v{self}")
    }
}

impl fmt::Display for OscalVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for OscalVersion {
    type Err = String;

    /// Accepts `1.1.3`, `v1.1.3` and the pre-release forms NIST used
    /// (`1.0.0-rc2`, whose suffix is ignored).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let core = text.trim().trim_start_matches(['v', 'V']);
        let core = core.split(['-', '+']).next().unwrap_or(core);
        let parts: Vec<&str> = core.split('.').collect();
        let number = |part: &str| part.parse::<u32>().ok();
        match parts.as_slice() {
            [major, minor, patch] => {
                if let (Some(a), Some(b), Some(c)) = (number(major), number(minor), number(patch)) {
                    return Ok(Self::new(a, b, c));
                }
            }
            [major, minor] => {
                if let (Some(a), Some(b)) = (number(major), number(minor)) {
                    return Ok(Self::new(a, b, 0));
                }
            }
            _ => {}
        }
        Err(format!(
            "`{text}` is not an OSCAL version; write it as MAJOR.MINOR.PATCH, e.g. 1.1.3"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> OscalVersion {
        text.parse().unwrap()
    }

    #[test]
    fn parses_versions() {
        assert_eq!(v("1.1.3"), OscalVersion::new(1, 1, 3));
        assert_eq!(v("v1.2.1"), OscalVersion::new(1, 2, 1));
        assert_eq!(v("1.0.0-rc2"), OscalVersion::new(1, 0, 0));
        assert!("fedramp2.1.0".parse::<OscalVersion>().is_err());
        assert!("".parse::<OscalVersion>().is_err());
    }

    #[test]
    fn nearest_prefers_same_minor_then_newer() {
        assert_eq!(v("1.1.0").nearest_supported(), v("1.1.2"));
        assert_eq!(v("1.0.0").nearest_supported(), v("1.0.4"));
        assert_eq!(v("1.0.6").nearest_supported(), v("1.0.4"));
        assert_eq!(v("1.2.2").nearest_supported(), v("1.2.1"));
        assert_eq!(v("1.2.0").nearest_supported(), v("1.2.1"));
        assert_eq!(v("1.3.0").nearest_supported(), v("1.2.1"));
        assert_eq!(v("1.1.3").nearest_supported(), v("1.1.3"));
    }

    #[test]
    fn root_keys_round_trip() {
        for model in OscalModel::ALL {
            assert_eq!(OscalModel::from_root_key(model.root_key()), Some(model));
        }
        assert_eq!(OscalModel::from_root_key("fedramp-values"), None);
    }
}
