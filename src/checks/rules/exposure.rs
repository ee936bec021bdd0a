//! Secrets exposed in code, and machine traffic without mutual
//! authentication.

use super::rows;
use crate::checks::evidence::Evidence;
use crate::checks::outcome::{Ctx, Outcome};
use crate::model::tables::{GRANTS, SECRET_FINDINGS};

const SCANNERS: [&str; 2] = ["gitleaks", "trufflehog"];

pub fn secrets_in_code(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let f = &ev.findings;
    if f.len == 0 {
        // An empty report leaves no row behind, so "no findings" and "no
        // scan" look alike; say which one the summary supports.
        return if SCANNERS.iter().any(|s| ev.ingested(s)) {
            Outcome::not_applicable("the scanner reports hold no findings")
        } else {
            Outcome::not_evaluated(
                "no secret-scanner findings in the evidence; an empty gitleaks or trufflehog \
                 report leaves no trace, so this cannot be told from no scan at all",
            )
        };
    }
    let mut out = Outcome::new();
    // Verified secrets first: they are known to work.
    let mut order: Vec<usize> = (0..f.len).collect();
    order.sort_by_key(|&i| (!f.verified[i], i));
    let mut verified = 0;
    for i in order {
        if f.verified[i] {
            verified += 1;
        }
        let id = f.fingerprint.get(i).unwrap_or("?");
        let place = match (f.file.get(i), f.commit.get(i)) {
            (Some(file), Some(commit)) => format!("{file} at {}", &commit[..commit.len().min(12)]),
            (Some(file), None) => file.to_string(),
            _ => "unknown place".to_string(),
        };
        out.fail(
            ctx,
            id,
            format!(
                "{} {} in {place}{}",
                f.tool.get(i).unwrap_or("?"),
                f.rule.get(i).unwrap_or("?"),
                if f.verified[i] {
                    " (verified live)"
                } else {
                    ""
                }
            ),
            rows(SECRET_FINDINGS, &[i]),
        );
    }
    out.metric("verified", verified as u64);
    out.judge_by_subjects("scanner findings", f.len)
}

pub fn mesh_mtls(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let g = &ev.grants;
    let mesh: Vec<usize> = (0..g.len)
        .filter(|&i| g.kind.get(i) == Some("mesh-auth"))
        .collect();
    if mesh.is_empty() {
        return Outcome::not_applicable("no service-mesh authentication settings were given");
    }
    let mut out = Outcome::new();
    for &i in &mesh {
        let mode = g.effect.get(i).unwrap_or("UNSET");
        let flags = g.flags.get(i).unwrap_or("");
        let scope = g.resources.get(i).unwrap_or("?");
        let policy = g.policy.get(i).unwrap_or("?");
        let weak_port = flags.split("; ").find(|f| {
            f.starts_with("port ") && (f.contains("PERMISSIVE") || f.contains("DISABLE"))
        });
        let problem = match mode {
            "PERMISSIVE" | "DISABLE" => Some(format!("{mode} for {scope}")),
            "UNSET" if scope == "mesh-wide" => {
                Some("mesh-wide default left UNSET (Istio treats it as PERMISSIVE)".into())
            }
            _ => weak_port.map(|p| format!("{scope} is {mode} except {p}")),
        };
        if let Some(problem) = problem {
            out.fail(ctx, policy, problem, rows(GRANTS, &[i]));
        }
    }
    out.judge_by_subjects("mesh authentication settings", mesh.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::evidence::Evidence;
    use crate::checks::outcome::Status;
    use crate::checks::rules::testing::*;
    use crate::model::{RawRef, SecretFinding};

    fn finding(fp: &str, verified: Option<bool>) -> SecretFinding {
        SecretFinding {
            tool: "gitleaks",
            rule: "aws-access-token".into(),
            file: Some("deploy/ci.env".into()),
            line: Some(3),
            commit: Some("0123456789abcdef0123".into()),
            repository: None,
            committed_us: None,
            verified,
            fingerprint: fp.into(),
            source_ref: RawRef::default(),
        }
    }

    #[test]
    fn findings_fail_verified_first_and_no_report_is_not_a_pass() {
        let ev = Evidence::from_rows(
            &[],
            &[],
            &[],
            &[finding("a", None), finding("b", Some(true))],
        )
        .unwrap();
        let o = secrets_in_code(&ev, &ctx("secrets-in-code", &[]));
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.subjects[0].id, "b");
        assert!(o.subjects[0].detail.ends_with("(verified live)"));
        assert_eq!(
            o.subjects[1].detail,
            "gitleaks aws-access-token in deploy/ci.env at 0123456789ab"
        );
        let o = secrets_in_code(&evidence(&[], &[], &[]), &ctx("secrets-in-code", &[]));
        assert_eq!(o.status, Status::NotEvaluated);
    }

    #[test]
    fn mesh_modes() {
        let mesh = |mode: &str, scope: &str, flags: &str| {
            let mut g = grant("", "mtls", scope);
            g.principal = None;
            g.kind = "mesh-auth";
            g.effect = mode.into();
            g.flags = flags.into();
            g.policy = format!("PeerAuthentication {scope}");
            g
        };
        let strict = mesh("STRICT", "mesh-wide", "");
        let o = mesh_mtls(
            &evidence(&[], &[], std::slice::from_ref(&strict)),
            &ctx("mesh-mtls", &[]),
        );
        assert_eq!(o.status, Status::Pass);
        let o = mesh_mtls(
            &evidence(
                &[],
                &[],
                &[
                    strict,
                    mesh("PERMISSIVE", "namespace legacy", ""),
                    mesh(
                        "STRICT",
                        "workload pay{app=api}",
                        "port 8080: DISABLE (mTLS disabled)",
                    ),
                    mesh("UNSET", "mesh-wide", ""),
                ],
            ),
            &ctx("mesh-mtls", &[]),
        );
        let details: Vec<&str> = o.subjects.iter().map(|s| s.detail.as_str()).collect();
        assert_eq!(
            details,
            vec![
                "PERMISSIVE for namespace legacy",
                "workload pay{app=api} is STRICT except port 8080: DISABLE (mTLS disabled)",
                "mesh-wide default left UNSET (Istio treats it as PERMISSIVE)"
            ]
        );
        let o = mesh_mtls(&evidence(&[], &[], &[]), &ctx("mesh-mtls", &[]));
        assert_eq!(o.status, Status::NotApplicable);
    }
}
