//! The in-toto Statement v1 a package's envelope carries: one subject per
//! file of the package, and SLSA Provenance v1 saying how it was made
//! (proofpack and its version as the builder; the config's SHA-256, the
//! window and the OSCAL version as parameters; every input with its
//! SHA-256 as a resolved dependency). Serialised as RFC 8785 canonical
//! JSON, so the same package gives the same payload bytes.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::AttestError;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PROVENANCE: &str = "https://slsa.dev/provenance/v1";
/// What kind of build made the package (a URN: proofpack has no domain of
/// its own to publish the build type's description under).
pub const BUILD_TYPE: &str = "urn:proofpack:buildtype:generate:v1";

/// An input as the provenance lists it.
pub struct Dependency {
    /// The path or URL as configured.
    pub uri: String,
    /// Empty when the input was not hashed whole (a URL).
    pub sha256: String,
    pub bytes: u64,
}

/// How the package was made.
pub struct Provenance<'a> {
    pub version: &'a str,
    pub config_sha256: &'a str,
    pub since: &'a str,
    pub until: &'a str,
    pub oscal_version: &'a str,
    /// The package's `created` time (pinned by `--last-modified`).
    pub finished: &'a str,
    pub dependencies: Vec<Dependency>,
}

/// The statement over `files` (package path → SHA-256), as canonical JSON.
pub fn statement(
    files: &BTreeMap<String, String>,
    p: &Provenance<'_>,
) -> Result<Vec<u8>, AttestError> {
    let subject: Vec<Value> = files
        .iter()
        .map(|(name, sha256)| json!({"name": name, "digest": {"sha256": sha256}}))
        .collect();
    let dependencies: Vec<Value> = p
        .dependencies
        .iter()
        .map(|d| {
            let mut entry = json!({"uri": d.uri, "annotations": {"bytes": d.bytes}});
            if !d.sha256.is_empty() {
                entry["digest"] = json!({"sha256": d.sha256});
            }
            entry
        })
        .collect();
    let statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": subject,
        "predicateType": PROVENANCE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "config": {"digest": {"sha256": p.config_sha256}},
                    "window": {"since": p.since, "until": p.until},
                    "oscalVersion": p.oscal_version,
                },
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {
                    "id": format!("urn:proofpack:builder:{}", p.version),
                    "version": {"proofpack": p.version},
                },
                "metadata": {"finishedOn": p.finished},
            },
        },
    });
    serde_json_canonicalizer::to_vec(&statement)
        .map_err(|e| AttestError::Envelope(format!("the statement cannot be serialised: {e}")))
}

/// What a verifier reads back from a statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// Package path → SHA-256.
    pub subjects: BTreeMap<String, String>,
    pub finished: Option<String>,
    pub builder: Option<String>,
}

pub fn read(payload: &[u8]) -> Result<Read, AttestError> {
    let bad = |why: &str| AttestError::Envelope(format!("the signed statement {why}"));
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| bad(&format!("is not JSON: {e}")))?;
    if value["_type"] != STATEMENT_TYPE {
        return Err(bad("is not an in-toto Statement v1"));
    }
    let mut subjects = BTreeMap::new();
    for s in value["subject"]
        .as_array()
        .ok_or_else(|| bad("has no subjects"))?
    {
        let (Some(name), Some(sha256)) = (s["name"].as_str(), s["digest"]["sha256"].as_str())
        else {
            return Err(bad("has a subject without a name or a SHA-256 digest"));
        };
        subjects.insert(name.to_string(), sha256.to_string());
    }
    let run = &value["predicate"]["runDetails"];
    Ok(Read {
        subjects,
        finished: run["metadata"]["finishedOn"].as_str().map(str::to_string),
        builder: run["builder"]["id"].as_str().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_follows_rfc_8785() {
        // RFC 8785 section 3.2.2 (property sorting by UTF-16 code units) and
        // 3.2.2.2 (numbers as ECMAScript writes them), from the RFC's text.
        let input: Value = serde_json::from_str(
            r#"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
                "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
                "literals": [null, true, false]}"#,
        )
        .unwrap();
        let out = serde_json_canonicalizer::to_string(&input).unwrap();
        assert_eq!(
            out,
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
        let sorting: Value = serde_json::from_str(
            r#"{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
                "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}"#,
        )
        .unwrap();
        let text = serde_json_canonicalizer::to_string(&sorting).unwrap();
        let order = [
            "Carriage Return",
            "One",
            "Control",
            "Latin Small Letter O With Diaeresis",
            "Euro Sign",
            "Emoji: Grinning Face",
            "Hebrew Letter Dalet With Dagesh",
        ];
        let positions: Vec<usize> = order.iter().map(|v| text.find(v).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn a_statement_reads_back_its_subjects() {
        let files = BTreeMap::from([
            ("manifest.json".to_string(), "ab".repeat(32)),
            ("oscal/poam.json".to_string(), "cd".repeat(32)),
        ]);
        let provenance = Provenance {
            version: "0.1.0",
            config_sha256: "ef",
            since: "2026-11-01T00:00:00Z",
            until: "2026-11-02T00:00:00Z",
            oscal_version: "1.1.3",
            finished: "2026-11-02T00:00:00Z",
            dependencies: vec![Dependency {
                uri: "logs/".into(),
                sha256: "12".into(),
                bytes: 3,
            }],
        };
        let bytes = statement(&files, &provenance).unwrap();
        assert_eq!(
            bytes,
            statement(&files, &provenance).unwrap(),
            "deterministic"
        );
        let back = read(&bytes).unwrap();
        assert_eq!(back.subjects, files);
        assert_eq!(back.finished.as_deref(), Some("2026-11-02T00:00:00Z"));
        assert!(read(b"{}").is_err());
    }
}
