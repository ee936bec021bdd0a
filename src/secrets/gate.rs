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

/// The evidence folder whose identifier columns tell a key id quoted in
/// prose from a secret: searched after the scan, for the hit values only
/// (most packages never need it).
#[derive(Debug, Default)]
pub struct Identifiers {
    dir: Option<std::path::PathBuf>,
}

impl Identifiers {
    /// The identifier columns' values of the evidence folder `dir`.
    pub fn from_evidence(dir: &Path) -> Identifiers {
        Identifiers {
            dir: Some(dir.to_path_buf()),
        }
    }

    /// Which of `candidates` (their trimmed text) appear in the evidence's
    /// identifier columns, read one row group at a time: memory holds the
    /// candidates and a row group, never the columns.
    fn present(
        dir: &Path,
        candidates: &std::collections::HashSet<String>,
    ) -> std::collections::HashSet<String> {
        let mut found = std::collections::HashSet::new();
        for (table, columns) in IDENTIFIER_COLUMNS {
            let path = dir.join(format!("{table}.parquet"));
            // A table the evidence lacks holds no identifiers.
            let Ok(groups) = crate::model::tables::row_groups(&path) else {
                continue;
            };
            for group in &groups {
                let Ok(frame) = group.read(&path, columns) else {
                    continue;
                };
                for column in frame.columns() {
                    let Ok(strings) = column.str() else { continue };
                    for v in strings.iter().flatten() {
                        if candidates.contains(v) && !found.contains(v) {
                            found.insert(v.to_string());
                        }
                    }
                }
            }
        }
        found
    }

    /// The spans among `spans` that are identifiers of the evidence, pass
    /// every rule alone and do not read as long random keys.
    fn among<'s>(
        &self,
        spans: impl Iterator<Item = &'s Vec<u8>>,
        rules: &RuleSet,
    ) -> std::collections::HashSet<Vec<u8>> {
        let Some(dir) = &self.dir else {
            return Default::default();
        };
        let trimmed: Vec<(Vec<u8>, String)> = spans
            .filter_map(|span| {
                let text = String::from_utf8_lossy(span);
                let t = text
                    .trim_end_matches(['.', ',', ';', ':', ')', ']', '\'', '"'])
                    .to_string();
                (t.len() >= 8
                    && rules.find(t.as_bytes(), "").is_empty()
                    && !(t.len() >= 32 && super::shape::looks_random(&t)))
                .then(|| (span.clone(), t))
            })
            .collect();
        if trimmed.is_empty() {
            return Default::default();
        }
        let candidates = trimmed.iter().map(|(_, t)| t.clone()).collect();
        let present = Self::present(dir, &candidates);
        trimmed
            .into_iter()
            .filter(|(_, t)| present.contains(t))
            .map(|(span, _)| span)
            .collect()
    }
}

/// What scanning one file found.
#[derive(Default)]
struct Scan {
    summary: GateSummary,
    findings: Vec<GateFinding>,
    /// Rule hits whose value may be an identifier of the evidence, by that
    /// value (in memory only), with the first place and the count: judged
    /// after the parallel scan, where reading the identifiers can block
    /// nothing.
    pending: std::collections::HashMap<Vec<u8>, (GateFinding, usize)>,
}

impl Gate<'_> {
    /// Scans every file under `root` (and the file names themselves).
    pub fn scan_dir(&self, root: &Path) -> Result<GateSummary, GateError> {
        let mut files: Vec<String> = Vec::new();
        for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
            // A folder the gate cannot list is an error, not a gap in
            // what it proved.
            let entry = entry.map_err(|e| GateError::Read {
                path: e.path().unwrap_or(root).display().to_string(),
                reason: e.to_string(),
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            if let Ok(rel) = entry.path().strip_prefix(root) {
                files.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        files.sort();
        self.scan_files(root, &files)
    }

    /// Scans the named files under `root`.
    pub fn scan_files(&self, root: &Path, files: &[String]) -> Result<GateSummary, GateError> {
        let scans: Vec<Result<Scan, GateError>> = files
            .par_iter()
            .map(|rel| self.scan_file(&root.join(rel), rel))
            .collect();
        let scans = scans
            .into_iter()
            .collect::<Result<Vec<Scan>, GateError>>()?;
        self.resolve(scans)
    }

    /// Merges the scans, judging the pending hits against the evidence's
    /// identifiers (read once, only if any hit is pending).
    fn resolve(&self, scans: Vec<Scan>) -> Result<GateSummary, GateError> {
        let mut summary = GateSummary {
            seen_values: self.seen.len(),
            ..GateSummary::default()
        };
        let mut findings = Vec::new();
        let mut pending: std::collections::HashMap<Vec<u8>, (GateFinding, usize)> =
            std::collections::HashMap::new();
        for scan in scans {
            summary.merge(scan.summary);
            findings.extend(scan.findings);
            for (span, (finding, count)) in scan.pending {
                pending.entry(span).or_insert((finding, 0)).1 += count;
            }
        }
        let mut total = findings.len();
        let known = self.identifiers.among(pending.keys(), self.rules);
        let mut pending: Vec<_> = pending.into_iter().collect();
        // In the order the files and places were found, as the report lists them.
        pending.sort_by(|a, b| (&a.1 .0.file, &a.1 .0.place).cmp(&(&b.1 .0.file, &b.1 .0.place)));
        for (span, (finding, count)) in pending {
            if known.contains(&span) {
                summary.identifier_hits += count as u64;
            } else {
                findings.push(finding);
                total += count;
            }
        }
        if findings.is_empty() {
            Ok(summary)
        } else {
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
            self.scan_parquet(path, rel, &mut scan)
                .map_err(|e| read_error(e.to_string()))?;
            return Ok(scan);
        }
        if rel.ends_with(".csv") {
            // Streamed: a table's CSV twin can be larger than memory allows.
            let file = std::fs::File::open(path).map_err(|e| read_error(e.to_string()))?;
            scan.summary.bytes += file.metadata().map(|m| m.len()).unwrap_or(0);
            self.scan_csv(
                std::io::BufReader::with_capacity(1 << 20, file),
                rel,
                &mut scan,
            );
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
        self.resolve(vec![scan])
    }

    /// Tests a batch of (row, value) of one column: one sweep over them
    /// joined finds the values with a keyword or a seen value, and only
    /// those are tested in full.
    fn test_batch(&self, sweep: &ColumnSweep, rel: &str, scan: &mut Scan) {
        if sweep.entries.is_empty() {
            return;
        }
        let column = &sweep.name;
        let place = |row: usize| format!("column {column}, row {}", row + 1);
        let value = |i: usize| {
            let (_, start, end) = sweep.entries[i];
            &sweep.joined[start..end]
        };
        if self.rules.has_unkeyed() {
            for (i, &(row, _, _)) in sweep.entries.iter().enumerate() {
                self.test_full(value(i), rel, || place(row), scan);
            }
            return;
        }
        let owner = |at: usize| sweep.entries.partition_point(|&(_, s, _)| s <= at) - 1;
        let mut candidates: Vec<usize> = self
            .rules
            .keyword_positions(&sweep.joined)
            .map(owner)
            .collect();
        candidates.extend(self.seen.find_all_in(&sweep.joined).into_iter().map(owner));
        candidates.sort_unstable();
        candidates.dedup();
        for i in candidates {
            let (row, _, _) = sweep.entries[i];
            self.test_full(value(i), rel, || place(row), scan);
        }
    }

    /// A Parquet table, one column of one row group at a time (memory
    /// holds that much, whatever the table's size): each string column's
    /// values swept.
    fn scan_parquet(
        &self,
        path: &Path,
        rel: &str,
        scan: &mut Scan,
    ) -> polars::prelude::PolarsResult<()> {
        // The footer is checked (row_groups) before polars parses it for
        // the schema.
        let groups = crate::model::tables::row_groups(path)?;
        let file = std::fs::File::open(path)?;
        let schema = crate::model::parquet_guard::decoded(|| ParquetReader::new(file).schema())?;
        for name in schema.iter_names() {
            self.test(name.as_bytes(), rel, || "column name".into(), scan);
            let mut sweep = ColumnSweep::new(name.to_string());
            for group in &groups {
                let frame = group.read(path, &[name.as_str()])?;
                let column = frame.column(name.as_str())?;
                // Only text columns hold what a rule could find.
                if column.dtype() != &DataType::String {
                    break;
                }
                for (row, value) in column.str()?.iter().enumerate() {
                    if let Some(v) = value {
                        sweep.push(self, group.offset + row, v.as_bytes(), rel, scan);
                    }
                }
            }
            sweep.flush(self, rel, scan);
        }
        Ok(())
    }

    /// A CSV table, streamed record by record, each column's values swept
    /// as a Parquet column's are (the header names them).
    fn scan_csv(&self, input: impl std::io::Read, rel: &str, scan: &mut Scan) {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut record = csv::ByteRecord::new();
        let mut sweeps: Vec<ColumnSweep> = Vec::new();
        let mut row = 0usize;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    // Not CSV from here on: what is left is tested as one
                    // string (a reader of the file would see it).
                    let place = format!("row {row}: {e}");
                    scan.findings
                        .extend(
                            self.find_in(record.as_slice(), rel)
                                .into_iter()
                                .map(|rule| GateFinding {
                                    file: rel.into(),
                                    place: place.clone(),
                                    rule,
                                }),
                        );
                    break;
                }
            }
            if row == 0 {
                for (i, cell) in record.iter().enumerate() {
                    self.test(cell, rel, || format!("header, column {}", i + 1), scan);
                    sweeps.push(ColumnSweep::new(String::from_utf8_lossy(cell).into_owned()));
                }
            } else {
                for (i, cell) in record.iter().enumerate() {
                    if i >= sweeps.len() {
                        sweeps.push(ColumnSweep::new(format!("{}", i + 1)));
                    }
                    sweeps[i].push(self, row - 1, cell, rel, scan);
                }
            }
            row += 1;
        }
        for sweep in &mut sweeps {
            sweep.flush(self, rel, scan);
        }
    }

    /// The rules (and the seen values) that find something in `text`.
    fn find_in(&self, text: &[u8], rel: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .rules
            .find(text, rel)
            .into_iter()
            .map(|h| self.rules.rule(h.rule).id.clone())
            .filter(|id| !self.allowed.contains(id))
            .collect();
        if self.seen.find_in(text).is_some() {
            out.push(SEEN_RULE.into());
        }
        out
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
            if self.allowed.iter().any(|a| a == id) {
                *scan.summary.allowed_hits.entry(id.clone()).or_default() += 1;
                continue;
            }
            let finding = GateFinding {
                file: rel.to_string(),
                place: place(),
                rule: id.clone(),
            };
            if self.identifiers.dir.is_some() {
                // One entry per value: a key id a table repeats on every
                // row is judged once.
                let entry = scan
                    .pending
                    .entry(text[hit.start..hit.end].to_vec())
                    .or_insert_with(|| (finding, 0));
                entry.1 += 1;
            } else {
                scan.findings.push(finding);
            }
        }
    }
}

/// Distinct values remembered per column before the memory is cleared:
/// low-cardinality columns (reasons, actions, principals) stay remembered,
/// unique ones (event ids) cost a bounded set.
const DISTINCT_CAP: usize = 1 << 16;

/// One column's values on their way to the sweep: each distinct value
/// once (known by a 64-bit hash with a per-process random seed), copied
/// into one buffer, swept BATCH at a time. A column found to be mostly
/// unique (event ids, hashes, times) stops being deduplicated.
struct ColumnSweep {
    name: String,
    hasher: foldhash::quality::RandomState,
    distinct: Option<std::collections::HashSet<u64, foldhash::fast::FixedState>>,
    seen_values: usize,
    joined: Vec<u8>,
    /// (row, start, end) of each value in `joined`.
    entries: Vec<(usize, usize, usize)>,
}

impl ColumnSweep {
    fn new(name: String) -> Self {
        ColumnSweep {
            name,
            hasher: foldhash::quality::RandomState::default(),
            distinct: Some(Default::default()),
            seen_values: 0,
            joined: Vec::new(),
            entries: Vec::new(),
        }
    }

    fn push(&mut self, gate: &Gate<'_>, row: usize, value: &[u8], rel: &str, scan: &mut Scan) {
        scan.summary.strings += 1;
        if value.is_empty() {
            return;
        }
        self.seen_values += 1;
        if let Some(distinct) = &mut self.distinct {
            let hash = std::hash::BuildHasher::hash_one(&self.hasher, value);
            if !distinct.insert(hash) {
                return;
            }
            if distinct.len() >= DISTINCT_CAP {
                // Mostly unique: remembering costs more than it saves.
                if distinct.len() * 2 > self.seen_values {
                    self.distinct = None;
                } else {
                    distinct.clear();
                }
            }
        }
        let start = self.joined.len();
        self.joined.extend_from_slice(value);
        self.entries.push((row, start, self.joined.len()));
        self.joined.push(b'\n');
        if self.entries.len() >= BATCH {
            self.flush(gate, rel, scan);
        }
    }

    fn flush(&mut self, gate: &Gate<'_>, rel: &str, scan: &mut Scan) {
        gate.test_batch(self, rel, scan);
        self.joined.clear();
        self.entries.clear();
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
