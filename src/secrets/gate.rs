//! The package-wide secret gate: before a package or an ingest folder
//! lands, every file about to be written is read back and every string in
//! it (each cell of each table, each JSON string and key, each line of
//! text) is tested for (a) any credential value proofpack saw in its
//! inputs and (b) every secret-detection rule. A hit stops the run; the
//! report names the file, the column and row or JSON pointer, and the rule,
//! never the value.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::{DataType, ParquetReader, SerReader};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::rules::RuleSet;
use super::seen::SeenSecrets;

/// Strings swept at once (one keyword and one seen-value pass over them
/// joined): bounds the sweep buffer.
const BATCH: usize = 65_536;
/// Distinct values remembered per column (beyond this, repeats are tested
/// again rather than remembered).
const MAX_DISTINCT: usize = 1 << 20;

/// The rule name for a value proofpack saw in its inputs.
pub const SEEN_RULE: &str = "seen-in-input";
/// Findings listed in an error at most (the count says how many more).
const LISTED: usize = 20;

/// One place a secret was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateFinding {
    /// Path inside the package.
    pub file: String,
    /// `column details, row 3`, a JSON pointer, or `line 12`.
    pub place: String,
    pub rule: String,
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("{}", found_message(.0, *.1))]
    Found(Vec<GateFinding>, usize),
    #[error("secret gate: cannot read {path}: {reason}")]
    Read { path: String, reason: String },
}

fn found_message(findings: &[GateFinding], total: usize) -> String {
    let mut text = format!(
        "secret gate: {total} secret value(s) in files about to be written; nothing was written.\n"
    );
    for f in findings.iter().take(LISTED) {
        text.push_str(&format!("  {}: {}: rule {}\n", f.file, f.place, f.rule));
    }
    if total > LISTED {
        text.push_str(&format!("  ... and {} more\n", total - LISTED));
    }
    text.push_str(
        "A `seen-in-input` hit is a credential proofpack read in an input and a reader copied: a \
         proofpack bug, please report it (without the value). For a rule that fires on a value you \
         have confirmed is not a secret, pass --allow-secret-rule RULE (recorded in the manifest).",
    );
    text
}

/// What the gate read, for the manifest.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct GateSummary {
    pub files: usize,
    /// Cells, JSON strings and lines tested.
    pub strings: u64,
    pub bytes: u64,
    /// Distinct credential values from the inputs searched for.
    pub seen_values: usize,
    /// Rule hits on a value the evidence holds as an identifier (a key id
    /// quoted in a finding's prose), which passed every rule on its own.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub identifier_hits: u64,
    /// Hits let through by `--allow-secret-rule`, per rule.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub allowed_hits: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl GateSummary {
    fn merge(&mut self, other: GateSummary) {
        self.identifier_hits += other.identifier_hits;
        self.files += other.files;
        self.strings += other.strings;
        self.bytes += other.bytes;
        for (rule, n) in other.allowed_hits {
            *self.allowed_hits.entry(rule).or_default() += n;
        }
    }
}

/// What a package's manifest says of its gate: the rules (by SHA-256),
/// those set aside as identifiers and those the user allowed, how
/// fingerprints are made, and what was read.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct GateRecord {
    pub rule_sets: Vec<super::rules::RuleSource>,
    pub identifier_rules: Vec<super::rules::IdentifierRule>,
    #[serde(default)]
    pub allowed_rules: Vec<String>,
    pub fingerprints: String,
    /// Every file but the manifest, which is gated once written.
    pub scanned: GateSummary,
}

/// The gate's rules, the values to look for, and the rules the user allowed.
pub struct Gate<'a> {
    pub rules: &'a RuleSet,
    pub seen: &'a SeenSecrets,
    pub allowed: &'a [String],
    /// Identifier values of the evidence (principal, credential and
    /// identity ids) that passed every rule in their own cells.
    pub identifiers: Identifiers,
}

/// Columns of the evidence tables that hold identifiers.
const IDENTIFIER_COLUMNS: &[(&str, &[&str])] = &[
    (
        "access_events",
        &["principal_id", "credential_id", "session_name"],
    ),
    ("identities", &["id", "owner_id"]),
    ("grants", &["principal"]),
];

/// Identifier values, for telling a key id quoted in prose from a secret.
#[derive(Debug, Default, Clone)]
pub struct Identifiers(std::collections::HashSet<String>);

impl Identifiers {
    /// The identifier columns' values in an evidence folder, each kept only
    /// if no rule finds anything in it alone and it does not read as a
    /// long random key.
    pub fn from_evidence(dir: &Path, rules: &RuleSet) -> Identifiers {
        let mut values = std::collections::HashSet::new();
        for (table, columns) in IDENTIFIER_COLUMNS {
            let Ok(file) = std::fs::File::open(dir.join(format!("{table}.parquet"))) else {
                continue;
            };
            let cols: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
            let Ok(frame) = ParquetReader::new(file).with_columns(Some(cols)).finish() else {
                continue;
            };
            for column in frame.columns() {
                let Ok(strings) = column.str() else { continue };
                for v in strings.iter().flatten() {
                    if v.len() >= 8 && !values.contains(v) {
                        values.insert(v.to_string());
                    }
                }
            }
        }
        values.retain(|v: &String| {
            rules.find(v.as_bytes(), "").is_empty()
                && !(v.len() >= 32 && super::shape::looks_random(v))
        });
        Identifiers(values)
    }

    fn holds(&self, span: &[u8]) -> bool {
        let text = String::from_utf8_lossy(span);
        let trimmed = text.trim_end_matches(['.', ',', ';', ':', ')', ']', '\'', '"']);
        self.0.contains(trimmed)
    }
}

/// What scanning one file found.
#[derive(Default)]
struct Scan {
    summary: GateSummary,
    findings: Vec<GateFinding>,
}

impl Gate<'_> {
    /// Scans every file under `root` (and the file names themselves).
    pub fn scan_dir(&self, root: &Path) -> Result<GateSummary, GateError> {
        let mut files: Vec<String> = walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| {
                e.path()
                    .strip_prefix(root)
                    .ok()
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
            })
            .collect();
        files.sort();
        self.scan_files(root, &files)
    }

    /// Scans the named files under `root`.
    pub fn scan_files(&self, root: &Path, files: &[String]) -> Result<GateSummary, GateError> {
        let scans: Vec<Result<Scan, GateError>> = files
            .par_iter()
            .map(|rel| self.scan_file(&root.join(rel), rel))
            .collect();
        let mut summary = GateSummary {
            seen_values: self.seen.len(),
            ..GateSummary::default()
        };
        let mut findings = Vec::new();
        for scan in scans {
            let scan = scan?;
            summary.merge(scan.summary);
            findings.extend(scan.findings);
        }
        if findings.is_empty() {
            Ok(summary)
        } else {
            let total = findings.len();
            Err(GateError::Found(findings, total))
        }
    }

    fn scan_file(&self, path: &Path, rel: &str) -> Result<Scan, GateError> {
        let read_error = |reason: String| GateError::Read {
            path: rel.to_string(),
            reason,
        };
        let mut scan = Scan::default();
        scan.summary.files = 1;
        self.test(rel.as_bytes(), rel, || "file name".into(), &mut scan);
        if rel.ends_with(".parquet") {
            let file = std::fs::File::open(path).map_err(|e| read_error(e.to_string()))?;
            let frame = ParquetReader::new(file)
                .finish()
                .map_err(|e| read_error(e.to_string()))?;
            for column in frame.columns() {
                let name = column.name().to_string();
                self.test(name.as_bytes(), rel, || "column name".into(), &mut scan);
                if column.dtype() != &DataType::String {
                    continue;
                }
                let values = column.str().map_err(|e| read_error(e.to_string()))?;
                // Each distinct value once, in sweeps of BATCH values.
                let mut distinct = std::collections::HashSet::new();
                let mut batch: Vec<(usize, &[u8])> = Vec::with_capacity(BATCH);
                for (row, value) in values.iter().enumerate() {
                    let Some(v) = value else { continue };
                    scan.summary.strings += 1;
                    if distinct.len() < MAX_DISTINCT && !distinct.insert(v) {
                        continue;
                    }
                    batch.push((row, v.as_bytes()));
                    if batch.len() == BATCH {
                        self.test_batch(&batch, rel, &name, &mut scan);
                        batch.clear();
                    }
                }
                self.test_batch(&batch, rel, &name, &mut scan);
            }
            return Ok(scan);
        }
        let bytes = std::fs::read(path).map_err(|e| read_error(e.to_string()))?;
        self.scan_text_file(&bytes, rel, &mut scan);
        Ok(scan)
    }

    /// A file's bytes by its kind: CSV by cell, JSON by string, the rest
    /// by line.
    fn scan_text_file(&self, bytes: &[u8], rel: &str, scan: &mut Scan) {
        scan.summary.bytes += bytes.len() as u64;
        if rel.ends_with(".csv") {
            self.scan_csv(bytes, rel, scan);
        } else if rel.ends_with(".json") || rel.ends_with(".sarif") {
            match serde_json::from_slice::<Value>(bytes) {
                Ok(value) => self.scan_json(&value, &mut String::new(), rel, scan),
                Err(_) => self.scan_lines(bytes, rel, scan),
            }
        } else {
            self.scan_lines(bytes, rel, scan);
        }
    }

    /// Gates bytes about to be written outside a package (a SARIF or JUnit
    /// report beside it), named `rel`.
    pub fn scan_bytes(&self, rel: &str, bytes: &[u8]) -> Result<GateSummary, GateError> {
        let mut scan = Scan::default();
        scan.summary.files = 1;
        self.scan_text_file(bytes, rel, &mut scan);
        if scan.findings.is_empty() {
            Ok(scan.summary)
        } else {
            let total = scan.findings.len();
            Err(GateError::Found(scan.findings, total))
        }
    }

    /// Tests a batch of (row, value) of one column: one sweep over them
    /// joined finds the values with a keyword or a seen value, and only
    /// those are tested in full.
    fn test_batch(&self, batch: &[(usize, &[u8])], rel: &str, column: &str, scan: &mut Scan) {
        if batch.is_empty() {
            return;
        }
        let place = |row: usize| format!("column {column}, row {}", row + 1);
        if self.rules.has_unkeyed() {
            for &(row, v) in batch {
                self.test_full(v, rel, || place(row), scan);
            }
            return;
        }
        let mut joined = Vec::with_capacity(batch.iter().map(|(_, v)| v.len() + 1).sum());
        let mut starts = Vec::with_capacity(batch.len());
        for (_, v) in batch {
            starts.push(joined.len());
            joined.extend_from_slice(v);
            joined.push(b'\n');
        }
        let owner = |at: usize| starts.partition_point(|&s| s <= at) - 1;
        let mut candidates: Vec<usize> = self.rules.keyword_positions(&joined).map(owner).collect();
        candidates.extend(self.seen.find_all_in(&joined).into_iter().map(owner));
        candidates.sort_unstable();
        candidates.dedup();
        for i in candidates {
            let (row, v) = batch[i];
            self.test_full(v, rel, || place(row), scan);
        }
    }

    /// A CSV file: one sweep over the whole file for keywords and seen
    /// values; each line holding one is parsed and its cells tested, named
    /// by the header.
    fn scan_csv(&self, bytes: &[u8], rel: &str, scan: &mut Scan) {
        let header_end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len());
        let headers = csv_cells(&bytes[..header_end]);
        scan.summary.strings +=
            memchr::memchr_iter(b'\n', bytes).count() as u64 * headers.len().max(1) as u64;
        let mut positions: Vec<usize> = if self.rules.has_unkeyed() {
            memchr::memchr_iter(b'\n', bytes).collect()
        } else {
            self.rules.keyword_positions(bytes).collect()
        };
        positions.extend(self.seen.find_all_in(bytes));
        positions.sort_unstable();
        let mut line_number = 1;
        let mut counted_to = 0;
        // Lines already tested end here: later hits inside them are skipped
        // without looking back for their start.
        let mut tested_to = 0;
        for at in positions {
            if at < tested_to {
                continue;
            }
            let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |p| p + 1);
            line_number += memchr::memchr_iter(b'\n', &bytes[counted_to..start]).count();
            counted_to = start;
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |p| start + p);
            tested_to = end;
            let cells = csv_cells(&bytes[start..end]);
            let aligned = cells.len() == headers.len();
            for (i, cell) in cells.iter().enumerate() {
                let place = || {
                    if line_number == 1 {
                        format!("header, column {}", i + 1)
                    } else if aligned {
                        format!("column {}, row {}", headers[i], line_number - 1)
                    } else {
                        format!("line {line_number}")
                    }
                };
                self.test_full(cell.as_bytes(), rel, place, scan);
            }
        }
    }

    fn scan_json(&self, value: &Value, pointer: &mut String, rel: &str, scan: &mut Scan) {
        match value {
            Value::String(s) => self.test(s.as_bytes(), rel, || pointer.clone(), scan),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push_str(&format!("/{i}"));
                    self.scan_json(item, pointer, rel, scan);
                    pointer.truncate(len);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    self.test(key.as_bytes(), rel, || format!("{pointer} (key)"), scan);
                    self.scan_json(item, pointer, rel, scan);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }

    fn scan_lines(&self, bytes: &[u8], rel: &str, scan: &mut Scan) {
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            self.test(line, rel, || format!("line {}", i + 1), scan);
        }
    }

    /// Tests one string, and counts it.
    fn test(&self, text: &[u8], rel: &str, place: impl Fn() -> String, scan: &mut Scan) {
        scan.summary.strings += 1;
        self.test_full(text, rel, place, scan);
    }

    /// Tests one string against the seen values and every rule.
    fn test_full(&self, text: &[u8], rel: &str, place: impl Fn() -> String, scan: &mut Scan) {
        if text.is_empty() {
            return;
        }
        if self.seen.find_in(text).is_some() {
            scan.findings.push(GateFinding {
                file: rel.to_string(),
                place: place(),
                rule: SEEN_RULE.into(),
            });
        }
        for hit in self.rules.find(text, rel) {
            let id = &self.rules.rule(hit.rule).id;
            if self.identifiers.holds(&text[hit.start..hit.end]) {
                scan.summary.identifier_hits += 1;
                continue;
            }
            if self.allowed.iter().any(|a| a == id) {
                *scan.summary.allowed_hits.entry(id.clone()).or_default() += 1;
                continue;
            }
            scan.findings.push(GateFinding {
                file: rel.to_string(),
                place: place(),
                rule: id.clone(),
            });
        }
    }
}

/// The cells of one CSV line (quotes honoured; a line cut inside a quoted
/// cell yields the rest as one cell).
fn csv_cells(line: &[u8]) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let mut record = csv::ByteRecord::new();
    match reader.read_byte_record(&mut record) {
        Ok(true) => record
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect(),
        _ => vec![String::from_utf8_lossy(line).into_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_secret_is_found_by_place_and_rule_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let secret = "sbp_0123456789abcdef0123456789abcdef01234567";
        std::fs::write(
            dir.path().join("t.csv"),
            format!("id,details\na,command=npx x\nb,--access-token {secret}\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("d.json"),
            format!(r#"{{"a": [{{"b": "ok"}}, {{"c": "pw {secret}"}}]}}"#),
        )
        .unwrap();
        std::fs::write(dir.path().join("s.md"), "# Title\nclean\n").unwrap();
        let seen = SeenSecrets::default();
        let gate = Gate {
            rules: RuleSet::built_in(),
            seen: &seen,
            allowed: &[],
            identifiers: Identifiers::default(),
        };
        let err = gate.scan_dir(dir.path()).unwrap_err();
        let GateError::Found(findings, 2) = &err else {
            panic!("{err}");
        };
        assert_eq!(findings[0].file, "d.json");
        assert_eq!(findings[0].place, "/a/1/c");
        assert_eq!(findings[1].place, "column details, row 2");
        assert_eq!(findings[1].rule, "proofpack-supabase-personal-token");
        assert!(!err.to_string().contains(secret));
        // Allowed, the hits are counted and the gate passes.
        let allowed = ["proofpack-supabase-personal-token".to_string()];
        let gate = Gate {
            allowed: &allowed,
            ..gate
        };
        let summary = gate.scan_dir(dir.path()).unwrap();
        assert_eq!(summary.allowed_hits["proofpack-supabase-personal-token"], 2);
        // A value seen in the inputs is found whatever its shape.
        let mut seen = SeenSecrets::default();
        seen.add("command=npx");
        let gate = Gate {
            rules: RuleSet::built_in(),
            seen: &seen,
            allowed: &allowed,
            identifiers: Identifiers::default(),
        };
        let GateError::Found(findings, 1) = gate.scan_dir(dir.path()).unwrap_err() else {
            panic!()
        };
        assert_eq!(findings[0].rule, SEEN_RULE);
    }
}
