//! What CloudTrail records show besides the access: agents and the roles
//! other organisations assume.
//!
//! **Bedrock AgentCore Identity** (`bedrock-agentcore.amazonaws.com`,
//! implemented from AWS's API reference; no public trail holds these
//! calls): `GetWorkloadAccessToken`, `…ForJWT` and `…ForUserId` hand an
//! agent its workload access token, so their caller is the agent's
//! runtime, an agent; the workload identity (`requestParameters.
//! workloadName`) becomes an `agent-identity`, acting for
//! `requestParameters.userId` (or for the person whose JWT was exchanged).
//! `GetResourceOauth2Token` and `GetResourceApiKey` are an agent fetching a
//! credential for an outside resource from the token vault: an OAuth token
//! (ephemeral) or an API key (static), recorded as the credential provider
//! the agent draws on.
//!
//! **Roles assumed from another account**: `sts:AssumeRole` of a role in
//! the recipient account by a caller of another account (not an AWS
//! service) is that organisation's way in: the role is third-party, the
//! vendor the calling account, with the external id noted when given
//! (AWS's documented pattern for granting third parties access).

use crate::json::JsonRef;

use super::bedrock_agentcore::PLATFORM;
use super::fields::{owned, text};
use super::observed::Observed;
use super::Normalised;
use crate::model::{CredentialType, Identity, Ownership, PrincipalType};

const AGENTCORE: &str = "bedrock-agentcore.amazonaws.com";

/// Marks the caller of an AgentCore Identity token call as an agent
/// (`source` and `event` as the record names them: no lookups per record).
pub fn mark_agent(source: &str, event: &str, access: &mut Normalised) {
    if source != AGENTCORE {
        return;
    }
    if !(event.starts_with("GetWorkloadAccessToken") || event.starts_with("GetResource")) {
        return;
    }
    if matches!(
        access.principal_type,
        PrincipalType::Human | PrincipalType::Anonymous | PrincipalType::Agent
    ) {
        return;
    }
    access.principal_reason = format!(
        "calls AgentCore Identity {event}: an agent runtime; the identity alone says {}: {}",
        access.principal_type, access.principal_reason
    );
    access.principal_type = PrincipalType::Agent;
}

pub fn observe<'a, J: JsonRef<'a>>(record: J, access: &Normalised) -> Observed {
    let mut seen = Observed::default();
    // The action says which records can show anything, without touching
    // the record: nearly every CloudTrail record returns here.
    let interesting =
        access.action == "sts:AssumeRole" || access.action.starts_with("bedrock-agentcore:");
    if !interesting || access.decision != crate::model::Decision::Allow {
        return seen;
    }
    let source = text(record, "/eventSource").unwrap_or("");
    let event = text(record, "/eventName").unwrap_or("");
    if source == AGENTCORE {
        agentcore(record, access, event, &mut seen);
    } else if source == "sts.amazonaws.com" && event == "AssumeRole" {
        assumed_from_elsewhere(record, access, &mut seen);
    }
    seen
}

fn agentcore<'a, J: JsonRef<'a>>(record: J, access: &Normalised, event: &str, seen: &mut Observed) {
    let region = owned(record, "/awsRegion").unwrap_or_default();
    let account = access.account.clone().unwrap_or_default();
    let workload = text(record, "/requestParameters/workloadName");
    if event.starts_with("GetWorkloadAccessToken") {
        let Some(workload) = workload else { return };
        let on_behalf_of = match event {
            "GetWorkloadAccessTokenForUserId" => owned(record, "/requestParameters/userId"),
            "GetWorkloadAccessTokenForJWT" => Some("a person's JWT (exchanged)".into()),
            _ => None,
        };
        seen.identities.push(Identity {
            id: format!(
                "arn:aws:bedrock-agentcore:{region}:{account}:workload-identity-directory/default/workload-identity/{workload}"
            ),
            kind: "agent-identity".into(),
            provider: "aws",
            environment: access.account.clone(),
            last_used_us: Some(access.time_us),
            active: true,
            credential_type: CredentialType::Ephemeral,
            credential_reason: "AgentCore workload access tokens are short-lived".into(),
            details: format!("runtime_role={}", access.principal_id),
            agent_platform: Some(PLATFORM.into()),
            on_behalf_of,
            ..Default::default()
        });
        return;
    }
    let Some(provider) = text(record, "/requestParameters/resourceCredentialProviderName") else {
        return;
    };
    let (kind, credential_type, reason) = match event {
        "GetResourceApiKey" => (
            "api-key",
            CredentialType::Static,
            "an API key kept in AgentCore's token vault: valid until rotated",
        ),
        _ => (
            "oauth-token",
            CredentialType::Ephemeral,
            "an OAuth access token from AgentCore's credential provider",
        ),
    };
    seen.identities.push(Identity {
        id: format!(
            "arn:aws:bedrock-agentcore:{region}:{account}:token-vault/default/{kind}/{provider}"
        ),
        kind: kind.into(),
        provider: "aws",
        environment: access.account.clone(),
        last_used_us: Some(access.time_us),
        active: true,
        credential_type,
        credential_reason: reason.into(),
        details: format!("retrieved-by-agent={}", access.principal_id),
        agent_platform: Some(PLATFORM.into()),
        ..Default::default()
    });
}

/// The account an ARN names (`arn:aws:iam::123:role/x` → `123`).
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

fn assumed_from_elsewhere<'a, J: JsonRef<'a>>(record: J, access: &Normalised, seen: &mut Observed) {
    if text(record, "/userIdentity/type") == Some("AWSService") {
        return;
    }
    let Some(role) = text(record, "/requestParameters/roleArn") else {
        return;
    };
    let recipient = text(record, "/recipientAccountId");
    let caller = text(record, "/userIdentity/accountId");
    let (Some(recipient), Some(caller)) = (recipient, caller) else {
        return;
    };
    if caller == recipient || arn_account(role) != Some(recipient) {
        return;
    }
    let external = record.pointer("/requestParameters/externalId").is_some();
    seen.identities.push(Identity {
        id: role.to_string(),
        kind: "role".into(),
        provider: "aws",
        environment: Some(recipient.to_string()),
        last_used_us: Some(access.time_us),
        active: true,
        credential_type: CredentialType::Ephemeral,
        credential_reason: "assumed through STS: session credentials".into(),
        ownership: Ownership::ThirdParty,
        vendor: Some(format!("AWS account {caller}")),
        ownership_reason: format!(
            "assumed by {} of AWS account {caller}, not this account{}",
            access.principal_id,
            if external {
                " (with an external id, AWS's pattern for third-party access)"
            } else {
                ""
            }
        ),
        ..Default::default()
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn trail(source: &str, name: &str, params: Value) -> Value {
        json!({"eventVersion": "1.08", "eventTime": "2026-03-01T12:00:00Z", "eventSource": source, "eventName": name,
            "awsRegion": "us-east-1", "recipientAccountId": "111111111111", "requestParameters": params,
            "userIdentity": {"type": "AssumedRole", "accountId": "111111111111", "accessKeyId": "ASIAEXAMPLE0000001",
                "arn": "arn:aws:sts::111111111111:assumed-role/AgentRuntimeRole/session-1",
                "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::111111111111:role/AgentRuntimeRole"}}}})
    }

    fn read(record: &Value) -> (Normalised, Observed) {
        let n = super::super::cloudtrail::normalise(record).unwrap();
        let seen = observe(record, &n);
        (n, seen)
    }

    #[test]
    fn a_workload_token_call_is_an_agent_acting_for_its_user() {
        let (n, seen) = read(&trail(
            AGENTCORE,
            "GetWorkloadAccessTokenForUserId",
            json!({"workloadName": "support-agent", "userId": "customer-42"}),
        ));
        assert_eq!(
            n.principal_type,
            PrincipalType::Agent,
            "{}",
            n.principal_reason
        );
        assert!(n.principal_reason.contains("AgentCore Identity"));
        let agent = &seen.identities[0];
        assert_eq!(agent.kind, "agent-identity");
        assert!(agent.id.ends_with("workload-identity/support-agent"));
        assert_eq!(agent.on_behalf_of.as_deref(), Some("customer-42"));
        assert_eq!(agent.credential_type, CredentialType::Ephemeral);
    }

    #[test]
    fn an_api_key_from_the_token_vault_is_a_static_credential_of_the_agent() {
        let (_, seen) = read(&trail(
            AGENTCORE,
            "GetResourceApiKey",
            json!({"resourceCredentialProviderName": "crm-key"}),
        ));
        let key = &seen.identities[0];
        assert_eq!(key.kind, "api-key");
        assert_eq!(key.credential_type, CredentialType::Static);
        assert!(key
            .details
            .starts_with("retrieved-by-agent=arn:aws:iam::111111111111:role/AgentRuntimeRole"));
        let (_, seen) = read(&trail(
            AGENTCORE,
            "GetResourceOauth2Token",
            json!({"resourceCredentialProviderName": "github", "oauth2Flow": "USER_FEDERATION"}),
        ));
        assert_eq!(
            seen.identities[0].credential_type,
            CredentialType::Ephemeral
        );
    }

    #[test]
    fn a_role_assumed_from_another_account_is_third_party() {
        let mut record = trail(
            "sts.amazonaws.com",
            "AssumeRole",
            json!({"roleArn": "arn:aws:iam::111111111111:role/VendorIntegration", "roleSessionName": "v", "externalId": "x"}),
        );
        record["userIdentity"] =
            json!({"type": "AWSAccount", "principalId": "AIDAVENDOR", "accountId": "464622532012"});
        let (_, seen) = read(&record);
        let role = &seen.identities[0];
        assert_eq!(role.ownership, Ownership::ThirdParty);
        assert_eq!(role.vendor.as_deref(), Some("AWS account 464622532012"));
        assert!(role.ownership_reason.contains("external id"));
        // The same account assuming its own role is not.
        let own = trail(
            "sts.amazonaws.com",
            "AssumeRole",
            json!({"roleArn": "arn:aws:iam::111111111111:role/Deploy"}),
        );
        assert!(read(&own).1.identities.is_empty());
        // Nor is this account assuming another's role (it is the third party there).
        let out = trail(
            "sts.amazonaws.com",
            "AssumeRole",
            json!({"roleArn": "arn:aws:iam::222222222222:role/Theirs"}),
        );
        assert!(read(&out).1.identities.is_empty());
    }
}
