//! Amazon Bedrock AgentCore application logs, as CloudWatch vends them for
//! a Runtime (the hosted agent: `InvokeAgentRuntime` sessions) and a
//! Gateway (the MCP gateway in front of an agent's tools): OpenTelemetry
//! log records with `resource_arn`, `event_timestamp` (epoch ms) or
//! `timeUnixNano`, `attributes."aws.resource.type"`
//! (`AWS::BedrockAgentCore::Runtime` / `::Gateway`), `body`.
//!
//! The principal is the runtime or gateway itself, an agent by what it is
//! (its ARN, `arn:aws:bedrock-agentcore:…:runtime/…` or `…:gateway/…`).
//! These logs name no credential: AgentCore Identity's workload access
//! tokens appear in CloudTrail (see `cloudtrail`). A Runtime record's
//! `body.request_payload.actor_id` is the end user the agent acts for
//! (AgentCore's placeholder `DEFAULT` means none was named). A Gateway
//! record's action is the tool call it logs (`tools/call NAME`, its target
//! the resource). `body.isError` or an ERROR severity → error.

use crate::json::JsonRef;

use super::fields::{owned, text, truthy};
use super::observed::Observed;
use super::Normalised;
use crate::model::{CredentialType, Decision, Identity, PrincipalType};

pub const SOURCE: &str = "bedrock-agentcore";
pub const PLATFORM: &str = "Amazon Bedrock AgentCore";

/// The runtime or gateway the record is about.
fn resource_arn<'a, J: JsonRef<'a>>(record: J) -> Option<&'a str> {
    text(record, "/resource_arn")
        .or_else(|| {
            record
                .pointer("/resource/attributes")
                .and_then(|a| a.get("cloud.resource_id"))
                .and_then(J::as_str)
        })
        .filter(|arn| arn.starts_with("arn:aws:bedrock-agentcore:"))
}

pub fn detect<'a, J: JsonRef<'a>>(record: J) -> bool {
    resource_arn(record).is_some()
        && (record.get("event_timestamp").is_some() || record.get("timeUnixNano").is_some())
}

/// `runtime` or `gateway` (or what else the ARN's resource type says).
fn component(arn: &str) -> &str {
    arn.rsplit(':')
        .next()
        .and_then(|r| r.split('/').next())
        .unwrap_or("")
}

pub fn normalise<'a, J: JsonRef<'a>>(record: J) -> Result<Normalised, String> {
    let arn = resource_arn(record).ok_or("no resource_arn of a Bedrock AgentCore resource")?;
    let time_us = record
        .get("event_timestamp")
        .and_then(J::as_i64)
        .map(|ms| ms.saturating_mul(1000))
        .or_else(|| {
            record
                .get("timeUnixNano")
                .and_then(|n| n.as_u64().map(|n| (n / 1000) as i64))
        })
        .filter(|t| *t > 0)
        .ok_or("neither event_timestamp (epoch ms) nor timeUnixNano is a time")?;
    let attributes = record.get("attributes");
    let attribute = |name: &str| {
        attributes
            .and_then(|a| a.get(name))
            .and_then(J::as_str)
            .map(str::to_string)
    };
    let kind = component(arn);
    let message = text(record, "/body/log");
    let tool_call = message.and_then(|m| {
        let rest = m.strip_prefix("Processing request for tool ")?;
        Some(match rest.split_once(" from target ") {
            Some((tool, target)) => (tool.to_string(), Some(target.to_string())),
            None => (rest.to_string(), None),
        })
    });
    let (action, resource) = match &tool_call {
        Some((tool, target)) => (
            format!("tools/call {tool}"),
            Some(match target {
                Some(t) => format!("{arn}/target/{t}"),
                None => arn.to_string(),
            }),
        ),
        None => (
            text(record, "/operation")
                .map(str::to_string)
                .or_else(|| attribute("aws.operation.name"))
                .unwrap_or_else(|| format!("{kind} log")),
            Some(arn.to_string()),
        ),
    };
    let failed = truthy(record, "/body/isError")
        || text(record, "/severityText").is_some_and(|s| s.eq_ignore_ascii_case("ERROR"));
    let (decision, decision_reason) = if failed {
        (
            Decision::Error,
            message
                .map(str::to_string)
                .or(Some("the agent logged an error".into())),
        )
    } else {
        (Decision::Allow, None)
    };
    Ok(Normalised {
        time_us,
        event_id: owned(record, "/request_id").or_else(|| attribute("aws.request.id")),
        principal_id: arn.to_string(),
        principal_type: PrincipalType::Agent,
        principal_reason: format!(
            "a Bedrock AgentCore {kind} (resource_arn): the agent platform's own log"
        ),
        session_name: owned(record, "/session_id").or_else(|| attribute("session.id")),
        credential_id: None,
        credential_type: CredentialType::Unknown,
        credential_reason:
            "AgentCore application logs name no credential; its workload tokens are in CloudTrail"
                .into(),
        auth_method: "unknown".into(),
        action,
        resource,
        decision,
        decision_reason,
        source_address: None,
        user_agent: None,
        account: owned(record, "/account_id").or_else(|| attribute("aws.account.id")),
        environment: arn.split(':').nth(3).map(str::to_string),
    })
}

/// The runtime or gateway as an agent identity, with the end user a
/// runtime session names.
pub fn observe<'a, J: JsonRef<'a>>(record: J, access: &Normalised) -> Observed {
    let on_behalf_of = text(record, "/body/request_payload/actor_id")
        .filter(|a| *a != "DEFAULT")
        .map(str::to_string);
    let kind = component(&access.principal_id);
    Observed {
        identities: vec![Identity {
            id: access.principal_id.clone(),
            kind: format!("agent-{kind}"),
            provider: "aws",
            environment: access.account.clone(),
            created_us: Some(access.time_us),
            last_used_us: Some(access.time_us),
            active: true,
            credential_type: CredentialType::Unknown,
            credential_reason: access.credential_reason.clone(),
            agent_platform: Some(PLATFORM.into()),
            on_behalf_of,
            ..Default::default()
        }],
        grants: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_gateway_tool_call_is_the_agent_calling_a_tool() {
        let record = json!({"resource_arn": "arn:aws:bedrock-agentcore:us-west-2:845123678901:gateway/gw-1", "event_timestamp": 1768432156789i64,
            "body": {"isError": false, "log": "Processing request for tool Docs___fetch from target T1"}, "account_id": "845123678901"});
        assert!(detect(&record));
        let n = normalise(&record).unwrap();
        assert_eq!(n.principal_type, PrincipalType::Agent);
        assert_eq!(n.action, "tools/call Docs___fetch");
        assert_eq!(
            n.resource.as_deref(),
            Some("arn:aws:bedrock-agentcore:us-west-2:845123678901:gateway/gw-1/target/T1")
        );
        assert_eq!(n.environment.as_deref(), Some("us-west-2"));
        assert_eq!(n.time_us, 1_768_432_156_789_000);
        assert_eq!(n.decision, Decision::Allow);
    }

    #[test]
    fn a_runtime_session_names_the_user_it_acts_for() {
        let record = json!({"resource_arn": "arn:aws:bedrock-agentcore:us-east-1:1:runtime/support-1", "timeUnixNano": 1763962575492617002u64,
            "operation": "InvokeAgentRuntime", "session_id": "s-1", "severityText": "ERROR",
            "body": {"request_payload": {"prompt": "hi", "actor_id": "customer-42"}}});
        let n = normalise(&record).unwrap();
        assert_eq!(n.action, "InvokeAgentRuntime");
        assert_eq!(n.session_name.as_deref(), Some("s-1"));
        assert_eq!(n.decision, Decision::Error);
        let seen = observe(&record, &n);
        assert_eq!(seen.identities[0].kind, "agent-runtime");
        assert_eq!(
            seen.identities[0].on_behalf_of.as_deref(),
            Some("customer-42")
        );
        let mut default_actor = record.clone();
        default_actor["body"]["request_payload"]["actor_id"] = json!("DEFAULT");
        let seen = observe(&default_actor, &n);
        assert_eq!(seen.identities[0].on_behalf_of, None);
    }
}
