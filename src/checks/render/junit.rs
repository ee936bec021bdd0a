//! Check results as JUnit XML: one test case per check; a failing check is
//! a failure listing its subjects, one that could not be judged is skipped
//! with its reason. Jenkins, GitLab and GitHub test reporters read it.

use crate::checks::outcome::Status;
use crate::checks::run::Report;

fn escape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

pub fn junit(report: &Report) -> String {
    let count = |s: Status| {
        report
            .results
            .iter()
            .filter(|r| r.outcome.status == s)
            .count()
    };
    let (failures, skipped) = (
        count(Status::Fail),
        count(Status::NotApplicable) + count(Status::NotEvaluated),
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"proofpack\" tests=\"{n}\" failures=\"{failures}\" skipped=\"{skipped}\">\n  <testsuite name=\"proofpack checks ({})\" tests=\"{n}\" failures=\"{failures}\" skipped=\"{skipped}\" timestamp=\"{}\">\n",
        escape(&report.evidence),
        escape(&report.as_of),
        n = report.results.len()
    ));
    for r in &report.results {
        out.push_str(&format!(
            "    <testcase classname=\"proofpack.{}\" name=\"{}: {}\">\n",
            r.severity.as_str(),
            escape(&r.id),
            escape(&r.title)
        ));
        match r.outcome.status {
            Status::Fail => {
                let body: Vec<String> = r
                    .outcome
                    .subjects
                    .iter()
                    .map(|s| {
                        let rows: Vec<String> = s
                            .rows
                            .iter()
                            .take(5)
                            .map(|x| format!("{}#{}", x.table, x.row))
                            .collect();
                        format!("{}: {} [{}]", s.id, s.detail, rows.join(" "))
                    })
                    .collect();
                out.push_str(&format!(
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                    escape(&r.outcome.reason),
                    r.severity.as_str(),
                    escape(&body.join("\n"))
                ));
            }
            Status::NotApplicable | Status::NotEvaluated => {
                out.push_str(&format!(
                    "      <skipped message=\"{}: {}\"/>\n",
                    r.outcome.status.as_str(),
                    escape(&r.outcome.reason)
                ));
            }
            Status::Pass | Status::Compensated => {
                out.push_str(&format!(
                    "      <system-out>{}: {}</system-out>\n",
                    r.outcome.status.as_str(),
                    escape(&r.outcome.reason)
                ));
            }
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
