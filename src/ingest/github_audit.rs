//! GitHub audit log events (organisation and enterprise audit log, as the
//! REST API, the audit log streams and exports deliver them: `action`,
//! `actor`, `@timestamp` / `created_at` in epoch milliseconds).
//!
//! Credential, from `programmatic_access_type` (GitHub's own words) and the
//! token fields (`hashed_token`, `token_id`, `token_scopes` say a token
//! authenticated the request even without a type; scopes make it a classic
//! personal access token or an OAuth token: static): a personal access token, classic or fine-grained, or an
//! OAuth app token → static (they live until revoked or their set expiry);
//! a GitHub App's installation (server-to-server) or user-to-server token
//! → ephemeral (one hour, eight hours); an event with no token type →
//! unknown (a web session, or the log does not say). The credential id is
//! `hashed_token` (GitHub's base64 SHA-256 of the token: an id, not the
//! secret), else `token_id`, else the token's name
//! (`user_programmatic_access_name`).
//!
//! Principal: the `actor` login; none at all (account recovery before
//! signing in) → anonymous. A bot (`actor_is_bot`, a `[bot]` login)
//! or a GitHub App token → workload (an App acting as itself); a person's
//! account acting through a personal access token or OAuth token →
//! service (a program using their account, as for an IAM user's access
//! key); any other actor → human. Decision: failed logins and challenges
//! (`*.failed_login`, `*_failure`) → deny; everything else the log records
//! happened → allow.

use crate::json::JsonRef;

use super::fields::{owned, text, truthy};
use super::observed::{scope_grant, Observed};
use super::Normalised;
use crate::model::{CredentialType, Decision, Identity, Ownership, PrincipalType};
use crate::time::parse_time;

pub const SOURCE: &str = "github-audit";

pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    let action = text(record, "/action").is_some_and(|a| a.contains('.'));
    let time = record.get("@timestamp").is_some() || record.get("created_at").is_some();
    let github = ["actor", "actor_id", "_document_id", "operation_type", "org"]
        .iter()
        .any(|k| record.get(k).is_some());
    action && time && github
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let action = text(record, "/action").ok_or("no action")?;
    let time_value = record
        .get("@timestamp")
        .or_else(|| record.get("created_at"))
        .ok_or("no @timestamp or created_at")?;
    let time_us = parse_time(time_value)
        .ok_or_else(|| format!("time {} is not a point in time", time_value.to_value()))?;
    let actor = owned(record, "/actor").or_else(|| {
        record
            .get("actor_id")
            .map(|v| format!("github-user-id:{}", v.to_value()))
    });
    // GitHub records requests made without signing in (account recovery)
    // with no actor at all.
    let Some(actor) = actor else {
        return Ok(Normalised {
            time_us,
            event_id: owned(record, "/_document_id"),
            principal_id: "anonymous".into(),
            principal_type: PrincipalType::Anonymous,
            principal_reason: "no actor: a request made without signing in".into(),
            session_name: None,
            credential_id: None,
            credential_type: CredentialType::Unknown,
            credential_reason: "anonymous: no credential was presented".into(),
            auth_method: "anonymous".into(),
            action: action.to_string(),
            resource: owned(record, "/user").map(|u| format!("user:{u}")),
            decision: Decision::Allow,
            decision_reason: None,
            source_address: owned(record, "/actor_ip"),
            user_agent: owned(record, "/user_agent"),
            account: owned(record, "/org").or_else(|| owned(record, "/business")),
            environment: None,
        });
    };
    // The token fields say a token authenticated the request even when the
    // event names no type (GitHub's audit-log docs: `hashed_token`,
    // `token_id`, `token_scopes`); scopes are what a classic personal
    // access token or an OAuth token carries.
    let scopes = text(record, "/token_scopes");
    let token_seen = record.get("hashed_token").is_some_and(|v| !v.is_null())
        || record.get("token_id").is_some_and(|v| !v.is_null())
        || scopes.is_some();
    let token_type = text(record, "/programmatic_access_type").or(if scopes.is_some() {
        Some("token with scopes (a classic personal access token or an OAuth token)")
    } else if token_seen {
        Some("token of a type the event does not name")
    } else {
        None
    });
    let lowered = token_type.map(str::to_ascii_lowercase).unwrap_or_default();
    let app_token = lowered.contains("server-to-server")
        || lowered.contains("user-to-server")
        || lowered.contains("installation");
    let (credential_type, credential_reason, auth_method) = match token_type {
        Some(t) if app_token => (
            CredentialType::Ephemeral,
            format!("{t}: a GitHub App token that expires within hours"),
            "github-app-token",
        ),
        Some(t) if lowered.contains("personal access token") && !lowered.contains("oauth") => (
            CredentialType::Static,
            format!("{t}: lives until revoked or its set expiry"),
            "personal-access-token",
        ),
        Some(t) if lowered.contains("oauth") && !lowered.contains("classic personal") => (
            CredentialType::Static,
            format!("{t}: an OAuth app token that does not expire by itself"),
            "oauth-token",
        ),
        Some(t) if scopes.is_some() => (
            CredentialType::Static,
            format!(
                "token_scopes {}: a {t}, which lives until revoked",
                scopes.unwrap_or("")
            ),
            "scoped-token",
        ),
        Some(t) => (
            CredentialType::Unknown,
            format!("programmatic_access_type {t}"),
            "token",
        ),
        None => (
            CredentialType::Unknown,
            "no programmatic_access_type: a web session, or the log does not say".into(),
            if text(record, "/operation_type") == Some("authentication") {
                "password"
            } else {
                "unknown"
            },
        ),
    };
    let credential_id = token_type.and(
        owned(record, "/hashed_token")
            .or_else(|| {
                record
                    .get("token_id")
                    .map(|v| format!("token-id:{}", v.to_value()))
            })
            .or_else(|| owned(record, "/user_programmatic_access_name")),
    );
    let bot = truthy(record, "/actor_is_bot") || actor.ends_with("[bot]");
    // GitHub's own apps (Actions, Dependabot, ...), from the cited table.
    let github = super::platform::lookup_field(super::platform::Field::GithubActor, &actor);
    let (principal_type, principal_reason) = if let Some(platform) = github {
        (PrincipalType::Service, platform.reason())
    } else if bot || app_token {
        (
            PrincipalType::Workload,
            if bot {
                "a bot account: a GitHub App acting as itself".to_string()
            } else {
                "acting through a GitHub App token".to_string()
            },
        )
    } else if let Some(t) = token_type {
        // As for an IAM user's access key: a person's account used by a
        // program through a token they made.
        (
            PrincipalType::Service,
            format!("a person's account used through a {t} (a program, not a sign-in)"),
        )
    } else {
        (PrincipalType::Human, "a person's account".to_string())
    };
    let denied = action.ends_with("failed_login") || action.ends_with("_failure");
    let resource = owned(record, "/repo")
        .map(|r| format!("repo:{r}"))
        .or_else(|| {
            action
                .starts_with("personal_access_token.")
                .then(|| owned(record, "/user_programmatic_access_name"))
                .flatten()
                .map(|n| format!("personal_access_token:{n}"))
        })
        .or_else(|| owned(record, "/org").map(|o| format!("org:{o}")))
        .or_else(|| owned(record, "/business").map(|b| format!("enterprise:{b}")))
        .or_else(|| owned(record, "/user").map(|u| format!("user:{u}")));
    Ok(Normalised {
        time_us,
        event_id: owned(record, "/_document_id"),
        principal_id: actor,
        principal_type,
        principal_reason,
        session_name: None,
        credential_id,
        credential_type,
        credential_reason,
        auth_method: auth_method.into(),
        action: action.to_string(),
        resource,
        decision: if denied {
            Decision::Deny
        } else {
            Decision::Allow
        },
        decision_reason: denied.then(|| action.to_string()),
        source_address: owned(record, "/actor_ip"),
        user_agent: owned(record, "/user_agent"),
        account: owned(record, "/org").or_else(|| owned(record, "/business")),
        environment: None,
    })
}

/// A GitHub App installation (`integration_installation.*`): the App as a
/// third-party identity (its owner holds its code and private key), and
/// what it was given as a grant: `permissions` where the event lists them,
/// the repositories, and `repository_selection: all` flagged as broad.
pub fn observe<'a, J: JsonRef<'a>>(record: J, access: &Normalised) -> Observed {
    let mut seen = Observed::default();
    if access.principal_type == PrincipalType::Service {
        if let Some(platform) =
            super::platform::lookup_field(super::platform::Field::GithubActor, &access.principal_id)
        {
            seen.identities.push(super::platform::provider_identity(
                platform, access, "github",
            ));
        }
    }
    let Some(action) =
        text(record, "/action").filter(|a| a.starts_with("integration_installation."))
    else {
        return seen;
    };
    let Some(app) = text(record, "/integration").or_else(|| text(record, "/name")) else {
        return seen;
    };
    let org = text(record, "/org").or_else(|| {
        record
            .get("org")
            .and_then(J::as_array)
            .and_then(|mut items| items.find_map(J::as_str))
    });
    let installer = access.principal_id.clone();
    let account = org.unwrap_or(installer.as_str()).to_string();
    let selection = text(record, "/repository_selection");
    let repositories: Vec<String> = record
        .get("repositories_added_names")
        .and_then(J::as_array)
        .map(|items| items.filter_map(J::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let removed = matches!(
        action,
        "integration_installation.destroy" | "integration_installation.suspend"
    );
    let mut details = vec![format!("installation={action}")];
    if let Some(sel) = selection {
        details.push(format!("repository_selection={sel}"));
    }
    seen.identities.push(Identity {
        id: format!("github-app:{app}@{account}"),
        kind: "github-app".into(),
        provider: "github",
        environment: Some(account.clone()),
        created_us: (action == "integration_installation.create").then_some(access.time_us),
        last_used_us: None,
        active: !removed,
        credential_type: CredentialType::Ephemeral,
        credential_reason: "GitHub App installation tokens last one hour (the App's private key, held by its owner, mints them)".into(),
        details: details.join("; "),
        ownership: Ownership::ThirdParty,
        vendor: Some(app.to_string()),
        ownership_reason: format!(
            "GitHub App {app} installed on {account} by {installer}: its owner holds its code and private key"
        ),
        ..Default::default()
    });
    if removed {
        return seen;
    }
    let mut actions: Vec<String> = Vec::new();
    let mut flags: Vec<String> = Vec::new();
    if let Some(members) = record.get("permissions").and_then(J::as_object) {
        for (permission, level) in members {
            let level = level.as_str().unwrap_or("?");
            actions.push(format!("{permission}:{level}"));
            if level == "write"
                && matches!(
                    permission,
                    "administration" | "organization_administration" | "members"
                )
            {
                flags.push(format!("admin permission {permission}:write"));
            }
        }
    }
    if selection == Some("all") {
        flags.push(format!("broad: every repository of {account}"));
    }
    if actions.is_empty() && flags.is_empty() && repositories.is_empty() {
        return seen;
    }
    let mut grant = scope_grant(
        &format!("github-app:{app}@{account}"),
        format!("GitHub App installation ({action}) by {installer}"),
        &actions,
        flags,
    );
    grant.resources = if selection == Some("all") {
        format!("{account}/*")
    } else {
        repositories.join(" ")
    };
    grant.wildcard_resource = selection == Some("all");
    seen.grants.push(grant);
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Shaped as GitHub's audit-log documentation describes a request made
    /// with a token (`hashed_token`, `token_id`, `token_scopes`), with no
    /// `programmatic_access_type` (as Elastic's GitHub integration input).
    #[test]
    fn a_request_with_token_fields_is_the_tokens_use_without_a_type() {
        let n = normalise(&event(json!({"action": "api.request", "hashed_token": "k0Cg1Ag+0pQ5m2PvsNI0bO0MpBl4ZEkvWpmXvQkTgNc=",
            "token_id": 137, "token_scopes": "repo,read:org", "user_agent": "curl/8.4.0"}))).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Service);
        assert_eq!(n.credential_type, CredentialType::Static);
        assert_eq!(
            n.credential_id.as_deref(),
            Some("k0Cg1Ag+0pQ5m2PvsNI0bO0MpBl4ZEkvWpmXvQkTgNc=")
        );
        assert!(
            n.credential_reason.contains("repo,read:org"),
            "{}",
            n.credential_reason
        );
        // A token id alone: a token's use, its kind unknown.
        let n = normalise(&event(json!({"action": "api.request", "token_id": 9}))).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Service);
        assert_eq!(n.credential_type, CredentialType::Unknown);
        assert_eq!(n.credential_id.as_deref(), Some("token-id:9"));
        // No token field: a person.
        let n = normalise(&event(json!({"action": "repo.create"}))).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Human);
    }

    fn event(extra: serde_json::Value) -> serde_json::Value {
        let mut e = json!({"@timestamp": 1_711_431_195_806i64, "action": "git.clone", "actor": "octocat",
            "actor_id": 1, "org": "acme", "repo": "acme/payments", "_document_id": "d1"});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    }

    #[test]
    fn an_app_installed_on_every_repository_is_a_broad_third_party_grant() {
        let install = event(
            json!({"action": "integration_installation.repositories_added", "integration": "GitGuardian",
            "name": "GitGuardian", "repository_selection": "all", "repositories_added_names": ["acme/payments"], "org": []}),
        );
        let n = normalise(&install).unwrap();
        let seen = observe(&install, &n);
        let app = &seen.identities[0];
        assert_eq!(app.id, "github-app:GitGuardian@octocat");
        assert_eq!(app.ownership, Ownership::ThirdParty);
        assert_eq!(app.vendor.as_deref(), Some("GitGuardian"));
        let grant = &seen.grants[0];
        assert!(
            grant.flags.starts_with("broad: every repository"),
            "{}",
            grant.flags
        );
        assert!(grant.wildcard_resource && !grant.admin);

        let admin = event(
            json!({"action": "integration_installation.create", "integration": "Deployer", "org": "acme",
            "repository_selection": "selected", "permissions": {"administration": "write", "contents": "read"}}),
        );
        let seen = observe(&admin, &normalise(&admin).unwrap());
        assert_eq!(seen.identities[0].id, "github-app:Deployer@acme");
        assert!(seen.grants[0].admin);
        assert_eq!(seen.grants[0].actions, "administration:write contents:read");

        let gone = event(
            json!({"action": "integration_installation.destroy", "integration": "Deployer", "org": "acme"}),
        );
        let seen = observe(&gone, &normalise(&gone).unwrap());
        assert!(!seen.identities[0].active && seen.grants.is_empty());
    }

    /// GitHub's own apps, by the logins GitHub's documentation gives them:
    /// the provider's service; a customer's App stays a workload.
    #[test]
    fn githubs_own_apps_are_the_providers_service() {
        for actor in ["github-actions[bot]", "dependabot[bot]"] {
            let record = event(
                json!({"action": "pull_request.create", "actor": actor, "actor_is_bot": true,
                "programmatic_access_type": "GitHub App server-to-server token"}),
            );
            let n = normalise(&record).unwrap();
            assert_eq!(n.principal_type, PrincipalType::Service, "{actor}");
            assert!(
                n.principal_reason.contains("docs.github.com"),
                "{}",
                n.principal_reason
            );
            let seen = observe(&record, &n);
            assert_eq!(seen.identities[0].ownership, Ownership::Provider);
            assert_eq!(seen.identities[0].vendor.as_deref(), Some("GitHub"));
        }
        // Not a glob class: `[bot]` is matched as written.
        let look_alike = event(
            json!({"action": "pull_request.create", "actor": "github-actionsb", "actor_is_bot": true}),
        );
        assert_eq!(
            normalise(&look_alike).unwrap().principal_type,
            PrincipalType::Workload
        );
    }

    #[test]
    fn tokens_decide_the_credential_and_apps_are_workloads() {
        let pat = normalise(&event(json!({"programmatic_access_type": "Fine-grained personal access token",
            "hashed_token": "zZ2ENvDlbmTbnVqAuU4EdvEbCVnXkGEzh0rjCBf3Ppk=", "user_programmatic_access_name": "deploy"}))).unwrap();
        assert_eq!(pat.credential_type, CredentialType::Static);
        assert_eq!(
            pat.credential_id.as_deref(),
            Some("zZ2ENvDlbmTbnVqAuU4EdvEbCVnXkGEzh0rjCBf3Ppk=")
        );
        assert_eq!(pat.principal_type, PrincipalType::Service);
        assert_eq!(pat.resource.as_deref(), Some("repo:acme/payments"));
        let app = normalise(&event(
            json!({"programmatic_access_type": "GitHub App server-to-server token",
            "actor": "deploy-app[bot]", "actor_is_bot": true}),
        ))
        .unwrap();
        assert_eq!(
            (app.credential_type, app.principal_type),
            (CredentialType::Ephemeral, PrincipalType::Workload)
        );
        let web = normalise(&event(
            json!({"action": "user.failed_login", "operation_type": "authentication"}),
        ))
        .unwrap();
        assert_eq!(
            (web.credential_type, web.decision),
            (CredentialType::Unknown, Decision::Deny)
        );
        assert!(detect(&event(json!({}))));
        assert!(!detect(&json!({"action": "x.y", "@timestamp": 1})));
    }
}
