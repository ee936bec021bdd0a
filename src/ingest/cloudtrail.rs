//! AWS CloudTrail records (any `eventVersion` from 1.0x to 1.10).
//!
//! Credential type, first rule that applies:
//! 1. access key prefix `ASIA` → ephemeral (STS session key), `AKIA` → static
//!    (long-term IAM user key). The prefix decides even for an `IAMUser`,
//!    which carries an `ASIA` key in console and MFA sessions;
//! 2. `AssumedRole`, `WebIdentityUser`, `SAMLUser`, `FederatedUser`,
//!    `AWSService`, and `sessionCredentialFromConsole` → ephemeral;
//! 3. otherwise unknown, saying what was missing.
//!
//! Principal type: `AWSService` → service; `Root`, SSO roles
//! (`AWSReservedSSO_*`) and console sessions → human; roles assumed through
//! web identity, by EC2 instance profiles or by other sessions → workload;
//! IAM users calling with an access key outside the console → service (a
//! programmatic user); `AWSAccount` with `ANONYMOUS_PRINCIPAL` → anonymous
//! (an unauthenticated request, no credential); anything else → unknown.
//! A caller of Bedrock AgentCore Identity's token calls → agent (see
//! `cloudtrail_observe`, which also reads agents and third-party roles).

use crate::json::JsonRef;

use super::fields::{non_empty_object, owned, text, truthy};
use super::Normalised;
use crate::model::{CredentialType, Decision, PrincipalType};
use crate::time::parse_time;

pub const SOURCE: &str = "aws-cloudtrail";

/// Whether a record is a CloudTrail event.
pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    record.get("eventSource").is_some() && record.get("eventName").is_some()
        || record.get("eventVersion").is_some() && record.get("userIdentity").is_some()
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let event_name = text(record, "/eventName").ok_or("no eventName")?;
    let event_source = text(record, "/eventSource").ok_or("no eventSource")?;
    let time_value = record
        .get("eventTime")
        .filter(|v| !v.is_null())
        .or_else(|| record.get("@timestamp"))
        .ok_or("no eventTime (nor @timestamp)")?;
    let time_us = parse_time(time_value).ok_or_else(|| {
        format!(
            "eventTime {} is not a date-time with a time zone",
            time_value.to_value()
        )
    })?;
    if !record.get("userIdentity").is_some_and(J::is_object) {
        return Err("no userIdentity: the record names no caller".into());
    }

    let identity = classify_identity(record);
    let service = event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(event_source);
    let (decision, decision_reason) = decision(record);
    let mut access = Normalised {
        time_us,
        event_id: owned(record, "/eventID"),
        principal_id: identity.principal_id,
        principal_type: identity.principal_type,
        principal_reason: identity.principal_reason,
        session_name: identity.session_name,
        credential_id: identity.credential_id,
        credential_type: identity.credential_type,
        credential_reason: identity.credential_reason,
        auth_method: identity.auth_method,
        action: format!("{service}:{event_name}"),
        resource: resource(record, service).or_else(|| denied_resource(record)),
        decision,
        decision_reason,
        source_address: owned(record, "/sourceIPAddress"),
        user_agent: owned(record, "/userAgent"),
        account: owned(record, "/recipientAccountId")
            .or_else(|| owned(record, "/userIdentity/accountId")),
        environment: owned(record, "/awsRegion"),
    };
    super::cloudtrail_observe::mark_agent(event_source, event_name, &mut access);
    Ok(access)
}

struct Identity {
    principal_id: String,
    principal_type: PrincipalType,
    principal_reason: String,
    session_name: Option<String>,
    credential_id: Option<String>,
    credential_type: CredentialType,
    credential_reason: String,
    auth_method: String,
}

fn classify_identity<'a, J: JsonRef<'a>>(record: J) -> Identity {
    let kind = text(record, "/userIdentity/type").unwrap_or("");
    let arn = text(record, "/userIdentity/arn");
    let key = owned(record, "/userIdentity/accessKeyId");
    let console = truthy(record, "/sessionCredentialFromConsole")
        || text(record, "/userAgent").is_some_and(|ua| {
            ua.contains("console.")
                || ua.contains("signin.amazonaws.com")
                || ua.starts_with("Mozilla/")
        });
    let web_identity = non_empty_object(record, "/userIdentity/sessionContext/webIdFederationData");
    let ec2_delivery = text(record, "/userIdentity/sessionContext/ec2RoleDelivery");

    // S3 (and other data events) log unauthenticated requests as an
    // `AWSAccount` whose account is `ANONYMOUS_PRINCIPAL`.
    let anonymous = kind == "AWSAccount"
        && [
            text(record, "/userIdentity/accountId"),
            text(record, "/userIdentity/principalId"),
        ]
        .contains(&Some("ANONYMOUS_PRINCIPAL"));
    if anonymous {
        return Identity {
            principal_id: "anonymous".into(),
            principal_type: PrincipalType::Anonymous,
            principal_reason:
                "userIdentity.type AWSAccount with ANONYMOUS_PRINCIPAL: an unauthenticated request"
                    .into(),
            session_name: None,
            credential_id: None,
            credential_type: CredentialType::Unknown,
            credential_reason: "anonymous: no credential was presented".into(),
            auth_method: "anonymous".into(),
        };
    }
    // Canonical principal: the role, not the session; the service for AWSService.
    let (principal_id, session_name) = match kind {
        "AssumedRole" => {
            let (role, session) = split_assumed_role(arn.unwrap_or(""));
            let issuer = owned(record, "/userIdentity/sessionContext/sessionIssuer/arn");
            (issuer.or(role).or_else(|| arn.map(str::to_string)), session)
        }
        "AWSService" => (owned(record, "/userIdentity/invokedBy"), None),
        _ => (arn.map(str::to_string), None),
    };
    let principal_id = principal_id
        .or_else(|| owned(record, "/userIdentity/principalId"))
        .or_else(|| owned(record, "/userIdentity/invokedBy"))
        .unwrap_or_else(|| format!("unknown:{kind}"));

    let (credential_type, credential_reason, auth_method) = match key.as_deref() {
        Some(k) if k.starts_with("ASIA") => (
            CredentialType::Ephemeral,
            "access key id starts with ASIA: temporary STS session credentials".to_string(),
            session_method(kind, web_identity, ec2_delivery, console),
        ),
        Some(k) if k.starts_with("AKIA") => (
            CredentialType::Static,
            "access key id starts with AKIA: long-term IAM access key".to_string(),
            "access-key".to_string(),
        ),
        _ => match kind {
            "AssumedRole" | "WebIdentityUser" | "SAMLUser" | "FederatedUser" => (
                CredentialType::Ephemeral,
                format!("userIdentity.type {kind}: credentials issued by STS for a session"),
                session_method(kind, web_identity, ec2_delivery, console),
            ),
            "AWSService" => (
                CredentialType::Ephemeral,
                "userIdentity.type AWSService: the service acts with credentials AWS manages and rotates".to_string(),
                "aws-service".to_string(),
            ),
            _ if console => (
                CredentialType::Ephemeral,
                "console session (sessionCredentialFromConsole or console user agent)".to_string(),
                "console".to_string(),
            ),
            _ => (
                CredentialType::Unknown,
                match &key {
                    Some(k) => format!("access key id `{}` has neither the ASIA nor the AKIA prefix", redact_key(k)),
                    None => format!("userIdentity.type {} with no access key id", if kind.is_empty() { "(none)" } else { kind }),
                },
                "unknown".to_string(),
            ),
        },
    };

    let role_name = principal_id.rsplit('/').next().unwrap_or("");
    let platform = super::platform::lookup(&principal_id);
    let (principal_type, principal_reason) = match kind {
        "AWSService" => (
            PrincipalType::Service,
            platform.map_or_else(
                || "userIdentity.type AWSService".to_string(),
                |p| p.reason(),
            ),
        ),
        "Root" => (PrincipalType::Human, "the account root user".to_string()),
        // AWS's own service acting through a service-linked role
        // (documented in mappings/platform-identities.toml).
        _ if platform.is_some() => (
            PrincipalType::Service,
            platform.map(|p| p.reason()).unwrap_or_default(),
        ),
        "AssumedRole" if role_name.starts_with("AWSReservedSSO_") => (
            PrincipalType::Human,
            "IAM Identity Center (SSO) role".to_string(),
        ),
        _ if console => (PrincipalType::Human, "console session".to_string()),
        "AssumedRole" | "WebIdentityUser" => (
            PrincipalType::Workload,
            if web_identity || kind == "WebIdentityUser" {
                "role assumed through web identity (OIDC) federation".to_string()
            } else if ec2_delivery.is_some() {
                "EC2 instance profile role".to_string()
            } else {
                "role session outside the console".to_string()
            },
        ),
        "IAMUser" if key.is_some() => (
            PrincipalType::Service,
            "IAM user calling the API with an access key outside the console".to_string(),
        ),
        _ => (
            PrincipalType::Unknown,
            format!(
                "userIdentity.type {}",
                if kind.is_empty() { "(none)" } else { kind }
            ),
        ),
    };

    Identity {
        principal_id,
        principal_type,
        principal_reason,
        session_name,
        credential_id: key,
        credential_type,
        credential_reason,
        auth_method,
    }
}

fn session_method(
    kind: &str,
    web_identity: bool,
    ec2_delivery: Option<&str>,
    console: bool,
) -> String {
    if web_identity || kind == "WebIdentityUser" {
        "web-identity".into()
    } else if kind == "SAMLUser" {
        "saml".into()
    } else if ec2_delivery.is_some() {
        "instance-profile".into()
    } else if console {
        "console".into()
    } else if kind == "FederatedUser" {
        "federation-token".into()
    } else {
        "sts-session".into()
    }
}

/// `arn:aws:sts::123:assumed-role/ROLE/SESSION` → (`arn:aws:iam::123:role/ROLE`, `SESSION`).
pub fn split_assumed_role(arn: &str) -> (Option<String>, Option<String>) {
    let Some((prefix, rest)) = arn.split_once(":assumed-role/") else {
        return (None, None);
    };
    let (role, session) = match rest.rsplit_once('/') {
        Some((role, session)) => (role, Some(session.to_string())),
        None => (rest, None),
    };
    let iam_prefix = prefix.replacen(":sts:", ":iam:", 1);
    (Some(format!("{iam_prefix}:role/{role}")), session)
}

/// Keeps the prefix and the last four characters of a key id for messages.
fn redact_key(key: &str) -> String {
    let n = key.chars().count();
    if n <= 8 {
        return key.to_string();
    }
    let head: String = key.chars().take(4).collect();
    let tail: String = key.chars().skip(n - 4).collect();
    format!("{head}...{tail}")
}

fn decision<'a, J: JsonRef<'a>>(record: J) -> (Decision, Option<String>) {
    let code = text(record, "/errorCode");
    let message = text(record, "/errorMessage");
    let reason = match (code, message) {
        (Some(c), Some(m)) => Some(format!("{c}: {m}")),
        (Some(c), None) => Some(c.to_string()),
        (None, Some(m)) => Some(m.to_string()),
        (None, None) => None,
    };
    let Some(code) = code else {
        return (Decision::Allow, reason);
    };
    let denied = code.contains("AccessDenied")
        || code.contains("UnauthorizedOperation")
        || code.contains("Unauthorized")
        || code == "Forbidden";
    (
        if denied {
            Decision::Deny
        } else {
            Decision::Error
        },
        reason,
    )
}

/// What was acted on: the record's `resources` ARNs, else the usual request
/// parameters that name a target.
fn resource<'a, J: JsonRef<'a>>(record: J, service: &str) -> Option<String> {
    if let Some(resources) = record.get("resources").and_then(J::as_array) {
        let arns: Vec<&str> = resources
            .filter_map(|r| r.get("ARN").and_then(J::as_str))
            .collect();
        if !arns.is_empty() {
            return Some(arns.join(" "));
        }
    }
    let params = record.get("requestParameters").filter(|p| p.is_object())?;
    if let Some(bucket) = text(params, "/bucketName") {
        return Some(match text(params, "/key") {
            Some(key) => format!("arn:aws:s3:::{bucket}/{key}"),
            None => format!("arn:aws:s3:::{bucket}"),
        });
    }
    for key in [
        "roleArn",
        "policyArn",
        "secretId",
        "functionName",
        "name",
        "roleName",
        "userName",
        "groupName",
        "instanceId",
        "trailName",
        "keyId",
        "queueUrl",
        "topicArn",
        "tableName",
        "clusterName",
        "snapshotId",
        "imageId",
        "dBSnapshotIdentifier",
        "logGroupName",
        "hostedZoneId",
    ] {
        // A member, not a pointer: no string built per key per record.
        let value = params
            .get(key)
            .and_then(J::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if let Some(value) = value {
            return Some(if value.starts_with("arn:") {
                value.to_string()
            } else {
                format!("{service}:{key}/{value}")
            });
        }
    }
    let instances = params.pointer("/instancesSet/items").and_then(J::as_array);
    if let Some(items) = instances {
        let ids: Vec<&str> = items
            .filter_map(|i| i.get("instanceId").and_then(J::as_str))
            .collect();
        if !ids.is_empty() {
            return Some(
                ids.iter()
                    .map(|id| format!("ec2:instance/{id}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    None
}

/// A denied call often has no request parameters, but IAM's message names
/// the target: "... is not authorized to perform: X on resource: ARN".
fn denied_resource<'a, J: JsonRef<'a>>(record: J) -> Option<String> {
    let message = text(record, "/errorMessage")?;
    let after = message.split("on resource: ").nth(1)?;
    let arn = after
        .split(|c: char| c.is_whitespace() || c == ',')
        .next()?
        .trim_end_matches(['.', ')']);
    arn.starts_with("arn:").then(|| arn.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn event(identity: Value) -> Value {
        json!({"eventVersion": "1.08", "eventTime": "2024-10-08T10:15:32Z", "eventSource": "s3.amazonaws.com",
               "eventName": "GetObject", "userIdentity": identity, "requestParameters": {"bucketName": "b", "key": "k"}})
    }

    #[test]
    fn key_prefix_decides_even_for_iam_users() {
        let n = normalise(&event(json!({"type": "IAMUser", "arn": "arn:aws:iam::1:user/pedro", "accessKeyId": "ASIA5FLZVX4OI4ZDQJOL"}))).unwrap();
        assert_eq!(n.credential_type, CredentialType::Ephemeral);
        assert!(n.credential_reason.contains("ASIA"));
        let n = normalise(&event(json!({"type": "IAMUser", "arn": "arn:aws:iam::1:user/backup", "accessKeyId": "AKIAIOSFODNN7EXAMPLE"}))).unwrap();
        assert_eq!(n.credential_type, CredentialType::Static);
        assert_eq!(n.principal_type, PrincipalType::Service);
        assert_eq!(n.resource.as_deref(), Some("arn:aws:s3:::b/k"));
    }

    #[test]
    fn assumed_roles_split_the_session() {
        let n = normalise(&event(json!({"type": "AssumedRole", "arn": "arn:aws:sts::111:assumed-role/ci-deployer/gha-42",
            "accessKeyId": "ASIAXYZ", "sessionContext": {"sessionIssuer": {}, "webIdFederationData": {"federatedProvider": "arn:aws:iam::111:oidc-provider/token.actions.githubusercontent.com"}}}))).unwrap();
        assert_eq!(n.principal_id, "arn:aws:iam::111:role/ci-deployer");
        assert_eq!(n.session_name.as_deref(), Some("gha-42"));
        assert_eq!(n.principal_type, PrincipalType::Workload);
        assert_eq!(n.auth_method, "web-identity");
    }

    /// A service-linked role's session, as AWS's IAM guide describes it
    /// (path `aws-service-role/`): AWS's own service, not the customer's
    /// workload.
    #[test]
    fn service_linked_roles_are_aws_services() {
        let n = normalise(&event(json!({"type": "AssumedRole",
            "arn": "arn:aws:sts::1:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling", "accessKeyId": "ASIAX",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::1:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"}}}))).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Service);
        assert!(
            n.principal_reason.contains("service-linked role"),
            "{}",
            n.principal_reason
        );
    }

    #[test]
    fn sso_roles_are_people_and_services_are_services() {
        let n = normalise(&event(json!({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_abc/jane"}))).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Human);
        assert_eq!(n.credential_type, CredentialType::Ephemeral);
        let n = normalise(&event(
            json!({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}),
        ))
        .unwrap();
        assert_eq!(n.principal_id, "ec2.amazonaws.com");
        assert_eq!(n.principal_type, PrincipalType::Service);
    }

    #[test]
    fn errors_map_to_deny_or_error() {
        let n = normalise(&event(
            json!({"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}),
        ))
        .unwrap();
        assert_eq!(n.principal_type, PrincipalType::Anonymous);
        assert_eq!(
            (n.principal_id.as_str(), n.credential_id.as_deref()),
            ("anonymous", None)
        );
        let n = normalise(&event(json!({"type": "AWSAccount", "principalId": "AIDAEXAMPLE", "accountId": "444455556666"}))).unwrap();
        assert_ne!(
            n.principal_type,
            PrincipalType::Anonymous,
            "another account is not anonymous"
        );
        let mut e = event(json!({"type": "Root", "arn": "arn:aws:iam::1:root"}));
        e["errorCode"] = json!("Client.UnauthorizedOperation");
        e["errorMessage"] = json!("You are not authorized");
        let n = normalise(&e).unwrap();
        assert_eq!(n.decision, Decision::Deny);
        assert_eq!(
            n.decision_reason.as_deref(),
            Some("Client.UnauthorizedOperation: You are not authorized")
        );
        e["errorCode"] = json!("AccessDenied");
        e["errorMessage"] = json!("User: arn:aws:iam::1:user/c is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::1:role/r");
        e["requestParameters"] = json!(null);
        assert_eq!(
            normalise(&e).unwrap().resource.as_deref(),
            Some("arn:aws:iam::1:role/r")
        );
        e["errorCode"] = json!("EntityTemporarilyUnmodifiableException");
        assert_eq!(normalise(&e).unwrap().decision, Decision::Error);
    }

    #[test]
    fn records_without_a_caller_or_time_are_refused_with_a_reason() {
        let mut e = event(json!(null));
        assert!(normalise(&e).unwrap_err().contains("userIdentity"));
        e["userIdentity"] = json!({"type": "Root"});
        e["eventTime"] = json!("yesterday");
        assert!(normalise(&e).unwrap_err().contains("eventTime"));
    }
}
