//! The external engines: the same statistics as SQL (`sql/event_stats.sql`),
//! run by DuckDB or Spark over the access-event
//! table, their results read back into [`EventStats`]. A test holds the
//! two equal, so the SQL and the Rust cannot drift apart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::rows::{Rows, KEPT};
use super::stats::{EventStats, Interactive, Needs, Span, DAY_US};

const STATISTICS: &str = include_str!("../../../sql/event_stats.sql");
const DRIVER: &str = include_str!("../../../sql/engine.py");

/// Which engine computes the statistics of the access events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Engine {
    /// proofpack itself, row group by row group (the default).
    #[default]
    Embedded,
    /// DuckDB, through its Python package (`pip install duckdb`).
    Duckdb,
    /// Apache Spark: `spark-submit` on PATH or in SPARK_HOME, else the
    /// `pyspark` package (`pip install pyspark`, with a Java runtime).
    Spark,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Missing(String),
    #[error("the {engine} engine failed on {table}: {message}")]
    Failed {
        engine: &'static str,
        table: String,
        message: String,
    },
    #[error("the {engine} engine's result {result} is not as expected: {message}")]
    Result {
        engine: &'static str,
        result: String,
        message: String,
    },
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Embedded => "embedded",
            Engine::Duckdb => "duckdb",
            Engine::Spark => "spark",
        }
    }
}

/// The Python an engine runs in: PROOFPACK_PYTHON, else `python3`.
fn python() -> PathBuf {
    std::env::var_os("PROOFPACK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"))
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `spark-submit` in SPARK_HOME, else on PATH.
fn spark_submit() -> Option<PathBuf> {
    std::env::var_os("SPARK_HOME")
        .map(|home| PathBuf::from(home).join("bin/spark-submit"))
        .filter(|p| p.is_file())
        .or_else(|| on_path("spark-submit"))
}

/// Whether `python` can import `module`.
fn importable(python: &Path, module: &str) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {module}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The command that runs the driver for `engine`, or how to install it.
fn launcher(engine: Engine) -> Result<Command, EngineError> {
    let python = python();
    match engine {
        Engine::Embedded => unreachable!("the embedded engine runs no driver"),
        Engine::Duckdb => {
            if !importable(&python, "duckdb") {
                return Err(EngineError::Missing(format!(
                    "--engine duckdb needs DuckDB's Python package in {}: `{} -m pip install duckdb` \
                     (or set PROOFPACK_PYTHON to a Python that has it)",
                    python.display(),
                    python.display()
                )));
            }
            Ok(Command::new(python))
        }
        Engine::Spark => {
            if let Some(submit) = spark_submit() {
                let mut cmd = Command::new(submit);
                cmd.args(["--conf", "spark.ui.enabled=false"]);
                return Ok(cmd);
            }
            if !importable(&python, "pyspark") {
                return Err(EngineError::Missing(format!(
                    "--engine spark needs `spark-submit` (on PATH or in SPARK_HOME/bin) or the \
                     pyspark package in {}: `{} -m pip install pyspark` and a Java runtime \
                     (Debian: `apt-get install default-jre-headless`); PROOFPACK_PYTHON names \
                     another Python",
                    python.display(),
                    python.display()
                )));
            }
            Ok(Command::new(python))
        }
    }
}

/// A SQL string literal of `text` for `engine` (Spark reads backslashes
/// as escapes; DuckDB does not).
fn literal(engine: Engine, text: &str) -> String {
    let mut quoted = text.replace('\'', "''");
    if engine == Engine::Spark {
        quoted = quoted.replace('\\', "\\\\");
    }
    format!("'{quoted}'")
}

/// The interactive user agents an event's client matched, in order, as
/// `concat_ws` of one CASE term each.
fn interactive_expression(engine: Engine, agents: &[String]) -> String {
    if agents.is_empty() {
        return "''".into();
    }
    let terms: Vec<String> = agents
        .iter()
        .map(|a| {
            let a = literal(engine, a);
            format!("CASE WHEN instr(COALESCE(user_agent, ''), {a}) > 0 THEN {a} END")
        })
        .collect();
    format!(
        "concat_ws({}, {})",
        literal(engine, SEPARATOR),
        terms.join(", ")
    )
}

/// Between matched agents in the SQL result (never in a configured agent).
const SEPARATOR: &str = "\u{1f}";

/// VALUES rows (name, microseconds), led by a row of NULLs.
fn values(engine: Engine, rows: impl Iterator<Item = (String, i64)>) -> String {
    let mut out = vec!["(CAST(NULL AS STRING), CAST(NULL AS BIGINT))".to_string()];
    out.extend(rows.map(|(name, t)| format!("({}, CAST({t} AS BIGINT))", literal(engine, &name))));
    out.join(", ")
}

/// Runs one SQL file on the table; returns each result's rows.
fn run(
    engine: Engine,
    table: &Path,
    sql: &str,
) -> Result<BTreeMap<String, Vec<Value>>, EngineError> {
    let failed = |message: String| EngineError::Failed {
        engine: engine.name(),
        table: table.display().to_string(),
        message,
    };
    let work = tempfile::tempdir().map_err(|e| failed(format!("a temporary folder: {e}")))?;
    let driver = work.path().join("engine.py");
    let sql_file = work.path().join("statistics.sql");
    let out = work.path().join("results");
    std::fs::create_dir(&out).map_err(|e| failed(e.to_string()))?;
    std::fs::write(&driver, DRIVER).map_err(|e| failed(e.to_string()))?;
    std::fs::write(&sql_file, sql).map_err(|e| failed(e.to_string()))?;
    let output = launcher(engine)?
        .arg(&driver)
        .arg(engine.name())
        .arg(table)
        .arg(&sql_file)
        .arg(&out)
        .output()
        .map_err(|e| failed(format!("cannot start it: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // The engine's last lines say what went wrong; the rest is its log.
        let tail: Vec<&str> = stderr.lines().rev().take(12).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(failed(tail.join("\n")));
    }
    let mut results = BTreeMap::new();
    for entry in std::fs::read_dir(&out).map_err(|e| failed(e.to_string()))? {
        let path = entry.map_err(|e| failed(e.to_string()))?.path();
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path).map_err(|e| failed(e.to_string()))?;
        let rows = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<Vec<Value>, _>>()
            .map_err(|e| failed(format!("{name}: {e}")))?;
        results.insert(name, rows);
    }
    Ok(results)
}

/// Reads one result's fields, naming the result and field when absent.
struct Reader<'a> {
    engine: Engine,
    result: &'a str,
}

impl Reader<'_> {
    fn bad(&self, message: String) -> EngineError {
        EngineError::Result {
            engine: self.engine.name(),
            result: self.result.to_string(),
            message,
        }
    }
    fn int(&self, row: &Value, field: &str) -> Result<Option<i64>, EngineError> {
        match row.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| self.bad(format!("{field} is {n}, not an integer"))),
            Some(Value::String(s)) => s
                .parse()
                .map(Some)
                .map_err(|_| self.bad(format!("{field} is {s:?}, not an integer"))),
            Some(other) => Err(self.bad(format!("{field} is {other}, not an integer"))),
        }
    }
    fn count(&self, row: &Value, field: &str) -> Result<u64, EngineError> {
        Ok(self.int(row, field)?.unwrap_or(0).max(0) as u64)
    }
    fn text(&self, row: &Value, field: &str) -> Result<Option<String>, EngineError> {
        match row.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.bad(format!("{field} is {other}, not text"))),
        }
    }
    fn key(&self, row: &Value, field: &str) -> Result<String, EngineError> {
        Ok(self.text(row, field)?.unwrap_or_default())
    }
}

/// The statistics of the access-event table at `table`, computed by
/// `engine` (DuckDB or Spark).
pub fn event_stats(engine: Engine, table: &Path, needs: &Needs) -> Result<EventStats, EngineError> {
    let sql = STATISTICS
        .replace(
            "{interactive}",
            &interactive_expression(engine, &needs.interactive_agents),
        )
        .replace(
            "{expiring}",
            &values(
                engine,
                needs.expiring.iter().map(|(name, t)| (name.clone(), *t)),
            ),
        )
        .replace("{rows_kept}", &KEPT.to_string());
    let results = run(engine, table, &sql)?;
    let mut stats = from_results(engine, &results, needs)?;
    lists(engine, &results, "after", &mut stats)?;
    Ok(stats)
}

fn rows_of<'a>(results: &'a BTreeMap<String, Vec<Value>>, name: &str) -> &'a [Value] {
    results.get(name).map_or(&[], Vec::as_slice)
}

/// Every capped list of the `lists` result into `stats`.
fn lists(
    engine: Engine,
    results: &BTreeMap<String, Vec<Value>>,
    result: &str,
    stats: &mut EventStats,
) -> Result<(), EngineError> {
    let r = Reader { engine, result };
    for row in rows_of(results, result) {
        let list = r.key(row, "list")?;
        let (k1, k2) = (r.key(row, "k1")?, r.key(row, "k2")?);
        let total = r.count(row, "total")?;
        let at = r.count(row, "row")?;
        let target: &mut Rows = match list.as_str() {
            "missing" => stats.missing.entry(k1).or_default(),
            "anonymous_allowed" => stats.anonymous_allowed.entry((k1, k2)).or_default(),
            "places" => stats.places.entry(k1).or_default().entry(k2),
            "revoked_uses" => stats.revoked_uses.entry(format!("{k1}\0{k2}")).or_default(),
            "used_after_expiry" => stats.used_after_expiry.entry(k1).or_default(),
            _ => {
                let p = stats.principals.entry(k1).or_default();
                match list.as_str() {
                    "events" => &mut p.events,
                    "workload_or_agent" => &mut p.workload_or_agent,
                    "static_nhi" => &mut p.static_nhi,
                    "denied_nhi" => &mut p.denied_nhi,
                    "agent_with_human_identity" => &mut p.agent_with_human_identity,
                    "agent_static" => &mut p.agent_static,
                    "denied_by_hour" => {
                        let hour = k2
                            .parse()
                            .map_err(|_| r.bad(format!("hour {k2:?} is not a number")))?;
                        p.denied_by_hour.entry(hour).or_default()
                    }
                    "interactive" => {
                        let why = if let Some(method) = k2.strip_prefix("method:") {
                            Interactive::Method(method.to_string())
                        } else if let Some(agents) = k2.strip_prefix("agents:") {
                            Interactive::Agents(
                                agents.split(SEPARATOR).map(str::to_string).collect(),
                            )
                        } else {
                            return Err(r.bad(format!("interactive key {k2:?}")));
                        };
                        p.interactive.entry(why).or_default()
                    }
                    other => return Err(r.bad(format!("unknown list {other:?}"))),
                }
            }
        };
        target.total = total;
        target.first.push(at);
    }
    // Rows arrive in any order; a list keeps its lowest, ascending.
    let sort = |rows: &mut Rows| rows.first.sort_unstable();
    stats.missing.values_mut().for_each(sort);
    stats.anonymous_allowed.values_mut().for_each(sort);
    stats
        .places
        .values_mut()
        .flat_map(|m| m.0.iter_mut().map(|(_, rows)| rows))
        .for_each(sort);
    stats.revoked_uses.values_mut().for_each(sort);
    stats.used_after_expiry.values_mut().for_each(sort);
    for p in stats.principals.values_mut() {
        for rows in [
            &mut p.events,
            &mut p.workload_or_agent,
            &mut p.static_nhi,
            &mut p.denied_nhi,
            &mut p.agent_with_human_identity,
            &mut p.agent_static,
        ] {
            sort(rows);
        }
        p.denied_by_hour.values_mut().for_each(sort);
        p.interactive.values_mut().for_each(sort);
    }
    Ok(())
}

fn from_results(
    engine: Engine,
    results: &BTreeMap<String, Vec<Value>>,
    needs: &Needs,
) -> Result<EventStats, EngineError> {
    let mut stats = EventStats::default();
    let reader = |result| Reader { engine, result };

    let r = reader("totals");
    if let Some(row) = rows_of(results, "totals").first() {
        stats.records = r.count(row, "records")?;
        stats.min_time = r.int(row, "min_time")?;
        stats.attributable = r.count(row, "attributable")?;
        stats.nhi_events = r.count(row, "nhi_events")?;
        stats.nhi_denied = r.count(row, "nhi_denied")?;
        stats.anonymous = r.count(row, "anonymous")?;
    }
    let r = reader("sources");
    for row in rows_of(results, "sources") {
        let s = stats.sources.entry(r.key(row, "source")?).or_default();
        s.timed = r.count(row, "timed")?;
        s.nhi_credentials = [
            r.count(row, "nhi_ephemeral")?,
            r.count(row, "nhi_static")?,
            r.count(row, "nhi_unknown")?,
        ];
        s.all_credentials = [
            r.count(row, "all_ephemeral")?,
            r.count(row, "all_static")?,
            r.count(row, "all_unknown")?,
        ];
    }
    let r = reader("minutes");
    for row in rows_of(results, "minutes") {
        let source = r.key(row, "source")?;
        let minute = r.int(row, "minute")?.unwrap_or(0);
        let at = (r.int(row, "t")?.unwrap_or(0), r.count(row, "row")?);
        let span = stats
            .sources
            .entry(source)
            .or_default()
            .minutes
            .entry(minute)
            .or_insert(Span {
                first: at,
                last: at,
            });
        if r.int(row, "a")? == Some(1) {
            span.first = at;
        }
        if r.int(row, "b")? == Some(1) {
            span.last = at;
        }
    }
    let r = reader("days");
    for row in rows_of(results, "days") {
        let day = r.int(row, "day")?.unwrap_or(0) * DAY_US;
        stats
            .days
            .insert(day, [r.count(row, "events")?, r.count(row, "denied")?]);
    }
    let r = reader("principals");
    for row in rows_of(results, "principals") {
        let p = stats
            .principals
            .entry(r.key(row, "principal")?)
            .or_default();
        p.nhi_events = r.count(row, "nhi_events")?;
        p.as_agent = r.count(row, "as_agent")?;
        p.agent_by_user_agent = r.count(row, "agent_by_user_agent")? > 0;
    }
    let r = reader("firsts");
    for row in rows_of(results, "firsts") {
        let p = stats
            .principals
            .entry(r.key(row, "principal")?)
            .or_default();
        let at = r.count(row, "row")?;
        let value = r.text(row, "value")?;
        match r.key(row, "what")?.as_str() {
            "denied" => {
                let t = value.as_deref().and_then(|v| v.parse().ok());
                p.first_denied = Some((at, t));
            }
            "as_agent" => p.first_as_agent = Some((at, value.unwrap_or_default())),
            "agent_static_credential" => {
                p.agent_static_credential = Some((at, value.unwrap_or_default()))
            }
            other => return Err(r.bad(format!("unknown first {other:?}"))),
        }
    }
    let r = reader("last_seen");
    for row in rows_of(results, "last_seen") {
        let name = r.key(row, "name")?;
        if needs.identity_ids.contains(&name) {
            if let Some(t) = r.int(row, "t")? {
                stats.last_seen.insert(name, t);
            }
        }
    }
    let r = reader("revocations");
    for row in rows_of(results, "revocations") {
        stats.revocations.insert(
            r.key(row, "target")?,
            (r.int(row, "t")?.unwrap_or(0), r.count(row, "row")?),
        );
    }
    let r = reader("placed");
    for row in rows_of(results, "placed") {
        stats.placed_principals.insert(r.key(row, "principal")?);
    }
    lists(engine, results, "lists", &mut stats)?;
    Ok(stats)
}
