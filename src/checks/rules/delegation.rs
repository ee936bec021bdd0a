//! Access held by others: third-party identities (another organisation's
//! app, role or integration) and AI agents, which must act as themselves.

use std::collections::{BTreeMap, HashSet};

use super::{date, days, event_rows, group, rows};
use crate::checks::aggregate::stats::PrincipalStats;
use crate::checks::evidence::Evidence;
use crate::checks::outcome::{Ctx, Outcome, RowRef, MAX_ROWS_PER_SUBJECT};
use crate::model::tables::{GRANTS, IDENTITIES};

/// Third-party identities, each with all the rows naming its id (an
/// inventory row may add the owner and review date a log cannot show).
fn third_parties(ev: &Evidence) -> Vec<(&str, Vec<usize>)> {
    let id = &ev.identities;
    let third: HashSet<&str> = (0..id.len)
        .filter(|&i| id.is_third_party(i))
        .filter_map(|i| id.id.get(i))
        .collect();
    group((0..id.len).filter_map(|i| id.id.get(i).filter(|n| third.contains(n)).map(|n| (i, n))))
}

pub fn third_party_accountable(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let id = &ev.identities;
    let parties = third_parties(ev);
    if parties.is_empty() {
        return Outcome::not_applicable("no third-party identities in the evidence");
    }
    let max_days = ctx.number("max_review_days");
    let mut out = Outcome::new();
    for (name, at) in &parties {
        let owner = at.iter().find_map(|&i| id.owner.get(i));
        // The nearest date by which someone must look at it again.
        let due = at
            .iter()
            .flat_map(|&i| [id.review_by[i], id.expires[i]])
            .flatten()
            .min();
        let vendor = at.iter().find_map(|&i| id.vendor.get(i));
        let what = match vendor {
            Some(v) => format!("{} of {v}", id.kind.get(at[0]).unwrap_or("identity")),
            None => id.kind.get(at[0]).unwrap_or("identity").to_string(),
        };
        let mut problems = Vec::new();
        if owner.is_none() {
            problems.push("no accountable owner".to_string());
        }
        match due {
            None => problems.push("no expiry or review date".to_string()),
            Some(d) if d < ctx.as_of_us => problems.push(format!("review was due {}", date(d))),
            Some(d) if days(d - ctx.as_of_us) as f64 > max_days => problems.push(format!(
                "next review {} is more than {max_days} days away",
                date(d)
            )),
            Some(_) => {}
        }
        if !problems.is_empty() {
            out.fail(
                ctx,
                name,
                format!("third-party {what}: {}", problems.join(", ")),
                rows(IDENTITIES, at),
            );
        }
    }
    out.judge_by_subjects("third-party identities", parties.len())
}

pub fn third_party_least_privilege(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let parties = third_parties(ev);
    if parties.is_empty() {
        return Outcome::not_applicable("no third-party identities in the evidence");
    }
    let names: HashSet<&str> = parties.iter().map(|(n, _)| *n).collect();
    let g = &ev.grants;
    let held = group((0..g.len).filter_map(|i| {
        let principal = g.principal.get(i)?;
        (names.contains(principal) && g.effect.get(i) == Some("Allow")).then_some((i, principal))
    }));
    if held.is_empty() {
        return Outcome::not_evaluated(format!(
            "none of {} third-party identities has a grant in the evidence: give their policies, consents or installations",
            parties.len()
        ));
    }
    let max_scopes = ctx.number("max_scopes");
    let mut out = Outcome::new();
    for (principal, at) in &held {
        let mut problems: Vec<String> = Vec::new();
        let mut scopes = 0usize;
        for &i in at {
            scopes += g.actions.get(i).map_or(0, |a| a.split_whitespace().count());
            if g.admin[i] {
                problems.push(format!(
                    "administrator access ({})",
                    g.flags.get(i).unwrap_or(g.policy.get(i).unwrap_or("?"))
                ));
            } else if g.wildcard_action[i] {
                problems.push(format!("every action ({})", g.policy.get(i).unwrap_or("?")));
            }
            for flag in g.flags.get(i).unwrap_or("").split("; ") {
                if flag.starts_with("broad") {
                    problems.push(flag.to_string());
                }
            }
        }
        if scopes as f64 > max_scopes {
            problems.push(format!(
                "{scopes} scopes or permissions, above {max_scopes}"
            ));
        }
        // Several grants often say the same thing (one per installation event).
        let mut said = HashSet::new();
        problems.retain(|p| said.insert(p.clone()));
        if !problems.is_empty() {
            out.fail(ctx, principal, problems.join("; "), rows(GRANTS, at));
        }
    }
    out.metric("third_party_identities", parties.len() as u64);
    out.judge_by_subjects("third-party identities with grants", held.len())
}

pub fn agent_own_identity(ev: &Evidence, ctx: &Ctx<'_>) -> Outcome {
    let e = &ev.events;
    let id = &ev.identities;
    let max_shared = ctx.number("max_shared_share");
    // Every principal that acted as an agent at least once, with all its calls.
    let calls: Vec<(&str, &PrincipalStats)> = e
        .principals
        .iter()
        .filter(|(name, p)| !name.is_empty() && p.as_agent > 0)
        .map(|(name, p)| (name.as_str(), p))
        .collect();
    // Agent identities and the credentials agents fetched, from any source.
    let held: Vec<usize> = (0..id.len)
        .filter(|&i| {
            id.kind.get(i).is_some_and(|k| k.starts_with("agent"))
                || id
                    .details
                    .get(i)
                    .is_some_and(|d| d.contains("retrieved-by-agent="))
        })
        .collect();
    if calls.is_empty() && held.is_empty() {
        return Outcome::not_applicable("no AI agents in the logs or inventories");
    }
    let mut out = Outcome::new();
    let mut failing: BTreeMap<String, (Vec<String>, Vec<RowRef>, usize)> = BTreeMap::new();
    for (principal, p) in &calls {
        let mut problems = Vec::new();
        let human = &p.agent_with_human_identity;
        if !human.is_empty() {
            problems.push(format!(
                "{} call(s) made with a person's identity",
                human.total
            ));
        }
        let static_calls = &p.agent_static;
        if !static_calls.is_empty() {
            let credential = p
                .agent_static_credential
                .as_ref()
                .map_or("a static credential", |(_, c)| c.as_str());
            problems.push(format!(
                "{} call(s) with a static credential ({credential})",
                static_calls.total
            ));
        }
        // The same identity used by other, non-agent callers. Only an agent
        // known by its user agent can be told from other callers of its
        // identity: an agent platform's role (an AgentCore runtime's, a
        // Vertex AI app's service account) makes all its calls as the agent.
        let all = p.events.total;
        let others = all - p.as_agent;
        if p.agent_by_user_agent && others > 0 && others as f64 / all as f64 > max_shared {
            problems.push(format!(
                "identity shared: {others} of {all} calls were not the agent's"
            ));
        }
        if !problems.is_empty() {
            // The calls at fault (a person's identity first, then static
            // credentials), else all of them.
            let (evidence, total) = if human.is_empty() && static_calls.is_empty() {
                (event_rows(&p.events), p.events.total)
            } else {
                let mut rows = event_rows(human);
                if (human.total as usize) < MAX_ROWS_PER_SUBJECT {
                    rows.extend(event_rows(static_calls));
                }
                (rows, human.total + static_calls.total)
            };
            failing.insert(principal.to_string(), (problems, evidence, total as usize));
        }
    }
    for &i in &held {
        if id.credential_type.get(i) != Some("static") || !id.active[i] {
            continue;
        }
        let name = id.id.get(i).unwrap_or("?");
        let problem = match id.details.get(i).and_then(|d| {
            d.split("; ")
                .find_map(|p| p.strip_prefix("retrieved-by-agent="))
        }) {
            Some(agent) => format!(
                "{agent} draws a static {} from it",
                id.kind.get(i).unwrap_or("credential")
            ),
            None => format!(
                "an agent identity with a static credential ({})",
                id.kind.get(i).unwrap_or("agent")
            ),
        };
        let entry = failing.entry(name.to_string()).or_default();
        entry.0.push(problem);
        entry.1.extend(rows(IDENTITIES, &[i]));
        entry.2 += 1;
    }
    let subjects: HashSet<&str> = calls
        .iter()
        .map(|(p, _)| *p)
        .chain(held.iter().filter_map(|&i| id.id.get(i)))
        .collect();
    for (name, (problems, evidence, total)) in failing {
        out.fail_counted(ctx, &name, problems.join("; "), evidence, total);
    }
    out.metric("agents_in_logs", calls.len() as u64);
    out.metric("agent_identities", held.len() as u64);
    out.judge_by_subjects("agents and agent credentials", subjects.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::outcome::Status;
    use crate::checks::rules::testing::*;
    use crate::model::{CredentialType, Identity, Ownership, PrincipalType};

    fn vendor_app(id: &str) -> Identity {
        let mut row = identity(id, "oauth-client", CredentialType::Static);
        row.ownership = Ownership::ThirdParty;
        row.vendor = Some("Acme Mail".into());
        row.from_log = true;
        row
    }

    fn listed(id: &str, owner: Option<&str>, review_by: Option<i64>) -> Identity {
        let mut row = identity(id, "oauth-client", CredentialType::Static);
        row.owner = owner.map(str::to_string);
        row.review_by_us = review_by;
        row
    }

    #[test]
    fn third_parties_need_an_owner_and_a_near_review_from_any_row_of_their_id() {
        let check = |ids: &[Identity], params: &[(&str, toml::Value)]| {
            third_party_accountable(
                &evidence(&[], ids, &[]),
                &ctx("third-party-accountable", params),
            )
        };
        let out = check(
            &[identity(
                "arn:aws:iam::1:role/app",
                "role",
                CredentialType::Ephemeral,
            )],
            &[],
        );
        assert_eq!(out.status, Status::NotApplicable);
        let as_of = T0 + 100 * DAY;

        let out = check(&[vendor_app("c1")], &[]);
        assert_eq!(out.status, Status::Fail);
        assert!(out.reason.contains("1 of 1"), "{}", out.reason);

        // The inventory row under the same id answers for the log's row.
        let out = check(
            &[
                vendor_app("c1"),
                listed("c1", Some("it-sec"), Some(as_of + 90 * DAY)),
            ],
            &[],
        );
        assert_eq!(out.status, Status::Pass, "{}", out.reason);

        // Overdue, and too far away for the threshold (pass at 365, fail at 60).
        let out = check(
            &[
                vendor_app("c1"),
                listed("c1", Some("it-sec"), Some(as_of - DAY)),
            ],
            &[],
        );
        assert_eq!(out.status, Status::Fail);
        let far = [
            vendor_app("c1"),
            listed("c1", Some("it-sec"), Some(as_of + 90 * DAY)),
        ];
        assert_eq!(
            check(&far, &[("max_review_days", toml::Value::Integer(60))]).status,
            Status::Fail
        );
        assert_eq!(
            check(&far, &[("max_review_days", toml::Value::Integer(90))]).status,
            Status::Pass
        );

        // An inventory entry stating the client is the provider's own wins.
        let mut own = listed("c1", Some("it-sec"), None);
        own.ownership_reason = crate::ingest::nhi_inventory::DECLARED_OWN.into();
        assert_eq!(
            check(&[vendor_app("c1"), own], &[]).status,
            Status::NotApplicable
        );

        // An owner alone is not enough.
        let out = check(&[vendor_app("c1"), listed("c1", Some("it-sec"), None)], &[]);
        assert_eq!(out.status, Status::Fail);
    }

    #[test]
    fn third_party_grants_fail_when_admin_blanket_or_too_many() {
        let check = |grants: &[crate::model::Grant], params: &[(&str, toml::Value)]| {
            third_party_least_privilege(
                &evidence(&[], &[vendor_app("c1")], grants),
                &ctx("third-party-least-privilege", params),
            )
        };
        assert_eq!(
            third_party_least_privilege(
                &evidence(&[], &[], &[]),
                &ctx("third-party-least-privilege", &[])
            )
            .status,
            Status::NotApplicable
        );
        assert_eq!(check(&[], &[]).status, Status::NotEvaluated);
        let narrow = grant(
            "c1",
            "https://www.googleapis.com/auth/gmail.addons.execute",
            "",
        );
        assert_eq!(
            check(std::slice::from_ref(&narrow), &[]).status,
            Status::Pass
        );
        // Another principal's admin grant is not the third party's.
        let mut other = grant("arn:aws:iam::1:role/admin", "*", "*");
        other.admin = true;
        assert_eq!(check(&[narrow.clone(), other], &[]).status, Status::Pass);

        let mut admin = grant("c1", "okta.users.manage", "");
        admin.admin = true;
        admin.flags = "admin scope okta.users.manage".into();
        let out = check(&[admin], &[]);
        assert_eq!(out.status, Status::Fail);
        let mut blanket = grant("c1", "https://mail.google.com/", "");
        blanket.flags = "broad: the whole mailbox scope https://mail.google.com/".into();
        assert_eq!(check(&[blanket], &[]).status, Status::Fail);

        let many = grant("c1", "a b c d", "");
        assert_eq!(
            check(
                std::slice::from_ref(&many),
                &[("max_scopes", toml::Value::Integer(3))]
            )
            .status,
            Status::Fail
        );
        assert_eq!(
            check(&[many], &[("max_scopes", toml::Value::Integer(4))]).status,
            Status::Pass
        );
    }

    fn agent_call(
        principal: &str,
        cred: CredentialType,
        reason: &str,
    ) -> crate::model::AccessEvent {
        let mut e = event(principal, PrincipalType::Agent, cred, T0);
        e.access.principal_reason = reason.into();
        e
    }

    #[test]
    fn agents_fail_with_a_persons_identity_a_static_key_or_a_shared_identity() {
        let check = |events: &[crate::model::AccessEvent],
                     ids: &[Identity],
                     params: &[(&str, toml::Value)]| {
            agent_own_identity(
                &evidence(events, ids, &[]),
                &ctx("agent-own-identity", params),
            )
        };
        let bot = workload("arn:aws:iam::1:role/etl", CredentialType::Ephemeral, T0);
        assert_eq!(
            check(std::slice::from_ref(&bot), &[], &[]).status,
            Status::NotApplicable
        );

        let own = agent_call(
            "arn:aws:bedrock-agentcore:us-east-1:1:runtime/a",
            CredentialType::Ephemeral,
            "an AgentCore runtime",
        );
        assert_eq!(
            check(&[own.clone(), bot.clone()], &[], &[]).status,
            Status::Pass
        );

        let person = agent_call(
            "arn:aws:iam::1:user/ana",
            CredentialType::Ephemeral,
            "user agent names LangChain; the identity alone says human: console session",
        );
        let out = check(&[own.clone(), person], &[], &[]);
        assert_eq!(out.status, Status::Fail);
        assert!(out.reason.contains("1 of 2"), "{}", out.reason);

        let keyed = agent_call(
            "live-app@p.iam.gserviceaccount.com",
            CredentialType::Static,
            "Vertex AI",
        );
        assert_eq!(check(&[keyed], &[], &[]).status, Status::Fail);

        // 1 of 10 calls by another caller: over 5%, under 20%.
        let role = "arn:aws:iam::1:role/shared";
        let mut calls: Vec<_> = (0..9)
            .map(|_| {
                agent_call(
                    role,
                    CredentialType::Ephemeral,
                    "user agent names LangChain",
                )
            })
            .collect();
        calls.push(workload(role, CredentialType::Ephemeral, T0));
        assert_eq!(check(&calls, &[], &[]).status, Status::Fail);
        assert_eq!(
            check(
                &calls,
                &[],
                &[("max_shared_share", toml::Value::Float(0.2))]
            )
            .status,
            Status::Pass
        );

        // An AgentCore runtime's role fetching its token and then reading S3:
        // all of it is the agent, whatever the per-call type says.
        let runtime_role = "arn:aws:iam::1:role/AgentRuntimeRole";
        let mut platform: Vec<_> = vec![agent_call(
            runtime_role,
            CredentialType::Ephemeral,
            "calls AgentCore Identity GetWorkloadAccessToken: an agent runtime",
        )];
        platform.extend((0..5).map(|_| workload(runtime_role, CredentialType::Ephemeral, T0)));
        assert_eq!(check(&platform, &[], &[]).status, Status::Pass);
    }

    #[test]
    fn agent_identities_and_vault_keys_must_not_be_static() {
        let check = |ids: &[Identity]| {
            agent_own_identity(&evidence(&[], ids, &[]), &ctx("agent-own-identity", &[]))
        };
        let mut federated = identity("agent-sp-1", "agent-identity", CredentialType::Ephemeral);
        federated.agent_platform = Some("Microsoft Entra Agent ID".into());
        assert_eq!(check(std::slice::from_ref(&federated)).status, Status::Pass);
        let secret = identity("agent-sp-2", "agent-identity", CredentialType::Static);
        assert_eq!(check(&[federated.clone(), secret]).status, Status::Fail);
        let mut vault_key = identity(
            "arn:aws:bedrock-agentcore:us-east-1:1:token-vault/default/api-key/crm",
            "api-key",
            CredentialType::Static,
        );
        vault_key.details = "retrieved-by-agent=arn:aws:iam::1:role/AgentRuntime".into();
        let out = check(&[vault_key.clone()]);
        assert_eq!(out.status, Status::Fail);
        vault_key.active = false;
        assert_eq!(check(&[vault_key]).status, Status::Pass);
    }
}
