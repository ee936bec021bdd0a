//! `proofpack.toml`: the system, the assessment window, the inputs, the
//! output, check thresholds and waivers, attestations, and the KSI texts
//! only the provider can write. Paths are relative to the file's folder.
//!
//! Unknown keys and wrong types are errors naming the file, line and key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::checks::catalogue::Catalogue;
use crate::checks::config::ChecksConfig;
use crate::checks::remediation::Exposure;
use crate::checks::waiver::Waiver;
use crate::checks::CheckError;
use crate::fedramp::Class;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub system: Option<System>,
    #[serde(default)]
    pub window: Window,
    #[serde(default)]
    pub inputs: Inputs,
    #[serde(default)]
    pub output: Output,
    #[serde(default)]
    pub checks: BTreeMap<String, BTreeMap<String, toml::Value>>,
    #[serde(default)]
    pub waivers: Vec<Waiver>,
    /// Embedded or industrial identities that cannot refresh tokens, with
    /// the compensating controls they rely on (`checks/embedded.rs`).
    #[serde(default)]
    pub embedded: Vec<crate::checks::embedded::Declaration>,
    #[serde(default)]
    pub attestations: Vec<Attestation>,
    #[serde(default)]
    pub history: History,
    /// Where incremental runs keep the log objects they have read.
    #[serde(default)]
    pub state: StateConfig,
    /// Provider-written texts per KSI id.
    #[serde(default)]
    pub ksi: BTreeMap<String, KsiText>,
    /// How POA&M deadlines are set.
    #[serde(default)]
    pub poam: Poam,
    /// The key that signs the package.
    #[serde(default)]
    pub signing: Signing,
    /// The folder the file is in (paths are relative to it).
    #[serde(skip)]
    pub base: PathBuf,
    /// SHA-256 of the file's bytes, recorded in the package manifest.
    #[serde(skip)]
    pub sha256: String,
    /// `checks` and `waivers`, validated against the catalogue (waiver
    /// patterns compiled) when the file is parsed.
    #[serde(skip)]
    pub validated: ChecksConfig,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    Low,
    Moderate,
    High,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct System {
    pub name: String,
    pub description: String,
    /// The organisation that runs the system (the OSCAL party).
    pub organization: String,
    pub class: Option<Class>,
    pub impact: Option<Impact>,
    /// The authorization boundary, in words.
    pub boundary: String,
    /// The provider's Certification Package Overview document (the SDR's
    /// required `certificationPackageOverviewUri`).
    pub overview_uri: Option<String>,
    /// The documents' data-classification marking (OSCAL's `marking` prop,
    /// which FedRAMP requires); default `cui`, Controlled Unclassified
    /// Information, what FedRAMP's constraints list.
    pub marking: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub since: Option<toml::value::Datetime>,
    pub until: Option<toml::value::Datetime>,
    /// A length such as `30d`, `12h`, counted back from `until`.
    pub length: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// Paths, globs, URLs or object-store prefixes; an entry may be a table
    /// `{ path = "...", naive_times = "utc" }` to set options for it alone.
    #[serde(default)]
    pub logs: Vec<LogInput>,
    /// How zone-less date-times in every log input are read (default:
    /// refused); `"utc"` for exports that document UTC (SIEM data lakes).
    pub naive_times: Option<NaiveTimes>,
    #[serde(default)]
    pub inventories: Vec<String>,
    #[serde(default)]
    pub policies: Vec<String>,
    #[serde(default)]
    pub scanners: Vec<String>,
    /// The environment variable holding a bearer token for URL inputs.
    pub token_env: Option<String>,
}

/// One log input: its path alone, or with options of its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum LogInput {
    Path(String),
    WithOptions(LogInputOptions),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogInputOptions {
    pub path: String,
    pub naive_times: Option<NaiveTimes>,
}

impl LogInput {
    pub fn path(&self) -> &str {
        match self {
            LogInput::Path(path) => path,
            LogInput::WithOptions(o) => &o.path,
        }
    }

    /// Its own `naive_times`, else the inputs' one.
    pub fn naive_times(&self, default: Option<NaiveTimes>) -> NaiveTimes {
        match self {
            LogInput::WithOptions(LogInputOptions {
                naive_times: Some(n),
                ..
            }) => *n,
            _ => default.unwrap_or_default(),
        }
    }
}

/// How a date-time without a zone (`2022-12-10 23:33:04.667`) is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NaiveTimes {
    /// Refused: the record is rejected, naming this option.
    #[default]
    Reject,
    /// UTC, as the export's producer documents.
    Utc,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Output {
    pub dir: Option<PathBuf>,
    pub oscal_version: Option<String>,
    /// A folder with your own `summary.md.j2` / `summary.html.j2`.
    pub templates: Option<PathBuf>,
    /// Where the package will be published (`https://evidence.example.com/pkg/`):
    /// evidence locations in the FedRAMP records are URIs under it.
    pub base_uri: Option<String>,
    /// Evidence tables with more rows than this get no CSV copy (default
    /// 100,000; the Parquet file holds them, the manifest says so).
    pub csv_max_rows: Option<u64>,
}

/// Where each run's metrics are kept for trends.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct History {
    pub dir: Option<PathBuf>,
}

/// Incremental runs: the folder that remembers each log object read, with
/// its events as a partitioned Parquet dataset (`proofpack ingest --state`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    pub dir: Option<PathBuf>,
}

/// The private key that signs packages: a file, or an environment
/// variable holding the PEM. Never the key itself.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Signing {
    /// A PKCS#8 PEM file, relative to the config.
    pub key: Option<PathBuf>,
    /// An environment variable holding the PKCS#8 PEM.
    pub key_env: Option<String>,
}

/// Evidence only a person can give: an interview or a reviewed document.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    pub title: String,
    pub description: String,
    /// The file attested (copied into the package and hashed).
    pub file: PathBuf,
    /// `INTERVIEW` or `EXAMINE`.
    pub method: AttestationMethod,
    pub attested_by: String,
    pub date: toml::value::Datetime,
    /// 800-53 controls (OSCAL ids) it supports.
    #[serde(default)]
    pub controls: Vec<String>,
    /// KSIs it supports.
    #[serde(default)]
    pub ksis: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum AttestationMethod {
    Interview,
    Examine,
}

#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct KsiText {
    pub implementation: Option<String>,
    pub validation: Option<String>,
    pub assessment: Option<String>,
    /// The provider's statement for the KSI's controls no check covers;
    /// without it a KSI whose controls are only partly covered is at most
    /// "Partially Implemented".
    pub status: Option<KsiStatus>,
}

/// The SDR's `ksiImplementationStatus` values, in FedRAMP's spelling.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum KsiStatus {
    #[serde(rename = "Not Implemented")]
    NotImplemented,
    #[serde(rename = "Partially Implemented")]
    PartiallyImplemented,
    #[serde(rename = "Implemented")]
    Implemented,
}

impl KsiStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KsiStatus::NotImplemented => "Not Implemented",
            KsiStatus::PartiallyImplemented => "Partially Implemented",
            KsiStatus::Implemented => "Implemented",
        }
    }
}

/// How POA&M deadlines are set: FedRAMP's timeframes (VDR-TFR-PVR) for the
/// system's class, from each failing check's N-rating and exposure, or a
/// number of days the provider sets for a check.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Poam {
    /// FedRAMP's Potential Agency Impact N-rating (1-5) per check severity.
    #[serde(default)]
    pub pain: PainBySeverity,
    /// The exposure of every failing check (FedRAMP's keys `irv_lev`,
    /// `nirv_lev`, `nlev`); default `irv_lev`.
    pub exposure: Option<Exposure>,
    /// Per check id: its own N-rating, exposure or number of days.
    #[serde(default)]
    pub checks: BTreeMap<String, PoamCheck>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PainBySeverity {
    pub high: Option<u8>,
    pub moderate: Option<u8>,
    pub low: Option<u8>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PoamCheck {
    pub pain: Option<u8>,
    pub exposure: Option<Exposure>,
    /// Days from evaluation, replacing FedRAMP's timeframe for this check.
    pub days: Option<u32>,
}

impl Config {
    pub fn load(path: &Path, catalogue: &Catalogue) -> Result<Self, CheckError> {
        let bytes = std::fs::read(path).map_err(|e| CheckError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let text = String::from_utf8(bytes.clone()).map_err(|e| CheckError::Invalid {
            file: path.display().to_string(),
            reason: format!("not UTF-8 at byte {}", e.utf8_error().valid_up_to()),
        })?;
        let mut config = Self::parse(&text, &path.display().to_string(), catalogue)?;
        config.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        config.sha256 = crate::hash::sha256_hex(&bytes);
        Ok(config)
    }

    pub fn parse(text: &str, name: &str, catalogue: &Catalogue) -> Result<Self, CheckError> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| CheckError::toml(name, text, &e))?;
        // The checks part is validated where it is defined.
        let mut validated = ChecksConfig {
            checks: config.checks.clone(),
            waivers: config.waivers.clone(),
            embedded: config.embedded.clone(),
        };
        validated.validate(text, name, catalogue)?;
        config.validated = validated;
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .map_or(0, |i| i + 1)
        };
        config.poam.validate(name, catalogue, &line_of)?;
        if let Some(length) = &config.window.length {
            parse_length(length).ok_or_else(|| CheckError::Syntax {
                file: name.into(),
                line: line_of("length"),
                column: 1,
                message: format!(
                    "window.length {length:?} is not a length such as 30d, 12h or 90m"
                ),
            })?;
        }
        Ok(config)
    }

    pub fn output_base_uri(&self) -> Option<String> {
        self.output.base_uri.clone()
    }

    pub fn path(&self, relative: &str) -> String {
        let remote = relative.starts_with("http://")
            || relative.starts_with("https://")
            || crate::ingest::store::is_store_url(relative);
        if remote {
            return relative.to_string();
        }
        let p = Path::new(relative);
        if p.is_absolute() || self.base.as_os_str().is_empty() {
            relative.to_string()
        } else {
            self.base.join(p).display().to_string()
        }
    }
}

impl Poam {
    /// N-ratings are 1 to 5, days at least 1, and every check is known.
    fn validate(
        &self,
        file: &str,
        catalogue: &Catalogue,
        line_of: &dyn Fn(&str) -> usize,
    ) -> Result<(), CheckError> {
        let error = |needle: &str, message: String| CheckError::Syntax {
            file: file.into(),
            line: line_of(needle),
            column: 1,
            message,
        };
        let ratings = [
            ("high", self.pain.high),
            ("moderate", self.pain.moderate),
            ("low", self.pain.low),
        ];
        for (severity, pain) in ratings {
            if let Some(p) = pain.filter(|p| !(1..=5).contains(p)) {
                return Err(error(
                    severity,
                    format!(
                        "poam.pain.{severity} = {p}: an N-rating is 1 to 5 (FedRAMP VER-EVA-EPA)"
                    ),
                ));
            }
        }
        for (id, check) in &self.checks {
            if catalogue.get(id).is_none() {
                return Err(error(
                    id,
                    format!(
                        "[poam.checks.{id}]: no check has this id (see `proofpack checks list`)"
                    ),
                ));
            }
            if let Some(p) = check.pain.filter(|p| !(1..=5).contains(p)) {
                return Err(error(
                    id,
                    format!(
                        "poam.checks.{id}.pain = {p}: an N-rating is 1 to 5 (FedRAMP VER-EVA-EPA)"
                    ),
                ));
            }
            if check.days == Some(0) {
                return Err(error(
                    id,
                    format!("poam.checks.{id}.days = 0: a deadline is at least one day after evaluation"),
                ));
            }
        }
        Ok(())
    }
}

/// `30d`, `12h`, `90m` as microseconds.
pub fn parse_length(text: &str) -> Option<i64> {
    let (digits, unit) = text.trim().split_at(text.trim().len().checked_sub(1)?);
    let n: i64 = digits.parse().ok().filter(|n| *n > 0)?;
    let unit_us = match unit {
        "d" => 86_400_000_000,
        "h" => 3_600_000_000,
        "m" => 60_000_000,
        _ => return None,
    };
    n.checked_mul(unit_us)
}

/// A TOML datetime (offset date-time, or a local date taken as midnight UTC)
/// as microseconds.
pub fn toml_time(dt: &toml::value::Datetime) -> Option<i64> {
    let text = dt.to_string();
    crate::time::parse_time_text(&text)
        .or_else(|| crate::time::parse_time_text(&format!("{text}T00:00:00Z")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, CheckError> {
        Config::parse(text, "proofpack.toml", &Catalogue::built_in().unwrap())
    }

    #[test]
    fn a_full_config() {
        let c = parse(
            r#"
[system]
name = "Payments API"
description = "Card payments"
organization = "Example Corp"
class = "B"
boundary = "AWS account 111122223333"

[window]
until = 2026-11-01T00:00:00Z
length = "30d"

[inputs]
logs = ["logs/*.json"]

[checks.static-credential-rotation]
max_age_days = 60

[[attestations]]
title = "Quarterly access review"
description = "Reviewed NHI grants"
file = "review.pdf"
method = "INTERVIEW"
attested_by = "ciso@example.com"
date = 2026-10-15
controls = ["ac-2"]
"#,
        )
        .unwrap();
        assert_eq!(c.system.unwrap().class, Some(Class::B));
        assert_eq!(parse_length("30d"), Some(30 * 86_400_000_000));
        assert_eq!(c.attestations[0].method, AttestationMethod::Interview);
        assert_eq!(
            toml_time(&c.window.until.unwrap()),
            Some(1_793_491_200_000_000)
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_line() {
        let e = parse("[system]\nname = \"x\"\ncolour = \"blue\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("proofpack.toml:3:1:") && e.contains("colour"),
            "{e}"
        );
        let e = parse("[window]\nlength = \"a month\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("proofpack.toml:2:1:"), "{e}");
        let e = parse("[system]\nname = \"x\"\ndescription = \"d\"\norganization = \"o\"\nboundary = \"b\"\nclass = \"E\"\n").unwrap_err().to_string();
        assert!(
            e.contains(":6:9:") && e.contains("expected one of `A`"),
            "{e}"
        );
    }
}
