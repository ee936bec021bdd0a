//! Amazon Bedrock model invocation logs (`schemaType: ModelInvocationLog`,
//! as Bedrock delivers them to CloudWatch Logs or S3): `timestamp`,
//! `accountId`, `region`, `requestId`, `operation` (`InvokeModel`,
//! `Converse`, ...), `modelId`, `identity.arn`, and `input` / `output` with
//! the prompt and completion and their token counts.
//!
//! Only who called which model, when, and whether it failed is read: the
//! prompt and completion (`inputBodyJson`, `outputBodyJson`, `inputText`,
//! ...) are never copied anywhere (the raw reference keeps the record's
//! hash, not its content).
//!
//! Principal, from `identity.arn` as CloudTrail names it: an assumed role
//! → the role (its session the session name), a workload on STS session
//! credentials (ephemeral), an agent when the role is a Bedrock Agent's
//! service role (`AmazonBedrockExecutionRoleForAgents_*`, the name AWS's
//! documentation gives it) or an AgentCore runtime's; an IAM Identity
//! Center role → a person; an IAM user → a long-lived identity whose
//! credential (access key or console session) the log does not name; the
//! root user → a person. Resource: the model. Decision: an `errorCode` →
//! denied when it is an access error, else an error; none → allowed.

use crate::json::JsonRef;

use super::cloudtrail::split_assumed_role;
use super::fields::{owned, text};
use super::Normalised;
use crate::model::{CredentialType, Decision, PrincipalType};
use crate::time::parse_time;

pub const SOURCE: &str = "bedrock-invocation";

pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    text(record, "/schemaType") == Some("ModelInvocationLog")
        || text(record, "/identity/arn").is_some()
            && text(record, "/modelId").is_some()
            && text(record, "/operation").is_some()
}

/// Role names that are an agent's by AWS's documentation.
fn agent_role(role_name: &str) -> bool {
    role_name.starts_with("AmazonBedrockExecutionRoleForAgents_")
        || role_name.starts_with("AmazonBedrockAgentCore")
        || role_name.contains("BedrockAgentCoreRuntime")
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let time_value = record.get("timestamp").ok_or("no timestamp")?;
    let time_us = parse_time(time_value).ok_or_else(|| {
        format!(
            "timestamp {} is not a date-time with a time zone",
            time_value.to_value()
        )
    })?;
    let arn =
        text(record, "/identity/arn").ok_or("no identity.arn: the invocation names no caller")?;
    let operation = text(record, "/operation").unwrap_or("InvokeModel");
    let model = text(record, "/modelId").ok_or("no modelId")?;
    let (role, session) = split_assumed_role(arn);
    let (principal_id, principal_type, principal_reason, credential_type, credential_reason, auth) =
        match role {
            Some(role) => {
                let name = role.rsplit('/').next().unwrap_or("").to_string();
                let (kind, why) = if name.starts_with("AWSReservedSSO_") {
                    (PrincipalType::Human, "an IAM Identity Center (SSO) role: a person".to_string())
                } else if agent_role(&name) {
                    (PrincipalType::Agent, format!("role {name}: a Bedrock agent's service role"))
                } else {
                    (PrincipalType::Workload, "an assumed role's session".to_string())
                };
                (
                    role,
                    kind,
                    why,
                    CredentialType::Ephemeral,
                    "identity.arn is an assumed-role session: temporary STS credentials".to_string(),
                    "sts-session",
                )
            }
            None if arn.ends_with(":root") => (
                arn.to_string(),
                PrincipalType::Human,
                "the account root user".to_string(),
                CredentialType::Unknown,
                "the root user: a password or a root access key; the log does not say".to_string(),
                "unknown",
            ),
            None if arn.contains(":user/") => (
                arn.to_string(),
                PrincipalType::Unknown,
                "an IAM user: a person at the console or a program with an access key; the invocation log does not say which".to_string(),
                CredentialType::Unknown,
                "an IAM user's access key (static) or console session: the invocation log names neither".to_string(),
                "unknown",
            ),
            None => (
                arn.to_string(),
                PrincipalType::Unknown,
                "identity.arn is neither a role session nor a user".to_string(),
                CredentialType::Unknown,
                "the invocation log names no credential".to_string(),
                "unknown",
            ),
        };
    let (decision, decision_reason) = match text(record, "/errorCode") {
        None => (Decision::Allow, None),
        Some(code) => {
            let denied = code.contains("AccessDenied") || code.contains("Unauthorized");
            let why = match text(record, "/errorMessage") {
                Some(m) => format!("{code}: {m}"),
                None => code.to_string(),
            };
            (
                if denied {
                    Decision::Deny
                } else {
                    Decision::Error
                },
                Some(why),
            )
        }
    };
    Ok(Normalised {
        time_us,
        event_id: owned(record, "/requestId"),
        principal_id,
        principal_type,
        principal_reason,
        session_name: session,
        credential_id: None,
        credential_type,
        credential_reason,
        auth_method: auth.into(),
        action: format!("bedrock:{operation}"),
        resource: Some(model.to_string()),
        decision,
        decision_reason,
        source_address: None,
        user_agent: None,
        account: owned(record, "/accountId"),
        environment: owned(record, "/region"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn invocation(arn: &str) -> serde_json::Value {
        // Shaped as AWS documents the record (model-invocation-logging).
        json!({"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2024-01-15T12:00:00Z",
            "accountId": "123456789012", "region": "us-east-1", "requestId": "req-1", "operation": "Converse",
            "modelId": "anthropic.claude-3-5-sonnet-20240620-v1:0", "identity": {"arn": arn},
            "input": {"inputContentType": "application/json", "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": "SECRET PROMPT"}]}]}, "inputTokenCount": 12},
            "output": {"outputContentType": "application/json", "outputBodyJson": {"output": {"message": {"content": [{"text": "SECRET ANSWER"}]}}}, "outputTokenCount": 40}})
    }

    #[test]
    fn a_role_session_calls_a_model_and_the_content_is_not_kept() {
        let r = invocation("arn:aws:sts::123456789012:assumed-role/app-role/i-0abc");
        assert!(detect(&r));
        let n = normalise(&r).unwrap();
        assert_eq!(n.principal_id, "arn:aws:iam::123456789012:role/app-role");
        assert_eq!(n.session_name.as_deref(), Some("i-0abc"));
        assert_eq!(n.principal_type, PrincipalType::Workload);
        assert_eq!(n.credential_type, CredentialType::Ephemeral);
        assert_eq!(n.action, "bedrock:Converse");
        assert_eq!(
            n.resource.as_deref(),
            Some("anthropic.claude-3-5-sonnet-20240620-v1:0")
        );
        assert_eq!(n.decision, Decision::Allow);
        let kept = format!("{n:?}");
        assert!(!kept.contains("SECRET"), "{kept}");
    }

    #[test]
    fn agents_people_and_users_as_their_arns_say() {
        let agent = normalise(&invocation(
            "arn:aws:sts::1:assumed-role/AmazonBedrockExecutionRoleForAgents_ABC123/s",
        ))
        .unwrap();
        assert_eq!(agent.principal_type, PrincipalType::Agent);
        let sso = normalise(&invocation(
            "arn:aws:sts::1:assumed-role/AWSReservedSSO_Dev_0123/ana@example.com",
        ))
        .unwrap();
        assert_eq!(sso.principal_type, PrincipalType::Human);
        let user = normalise(&invocation("arn:aws:iam::1:user/ci")).unwrap();
        assert_eq!(user.principal_type, PrincipalType::Unknown);
        assert_eq!(user.credential_type, CredentialType::Unknown);
        let mut denied = invocation("arn:aws:iam::1:user/ci");
        denied["errorCode"] = json!("AccessDeniedException");
        assert_eq!(normalise(&denied).unwrap().decision, Decision::Deny);
        let mut throttled = invocation("arn:aws:iam::1:user/ci");
        throttled["errorCode"] = json!("ThrottlingException");
        assert_eq!(normalise(&throttled).unwrap().decision, Decision::Error);
        let mut none = invocation("x");
        none["identity"] = json!({});
        assert!(normalise(&none).unwrap_err().contains("identity.arn"));
    }
}
