//! AI agents among the callers. No audit log has an "agent" identity type,
//! but agent frameworks and hosted agents name themselves in the user agent
//! of the calls they make. A call whose user agent names one is an agent's,
//! whatever identity it used; the reason keeps what the identity alone
//! would have said, so an agent acting with a person's session stands out.

use super::Normalised;
use crate::model::PrincipalType;

/// User-agent fragments (lower case) of agent frameworks and hosted agents,
/// with the name shown in the reason.
const AGENTS: &[(&str, &str)] = &[
    ("bedrock-agent", "Amazon Bedrock Agents"),
    ("bedrockagent", "Amazon Bedrock Agents"),
    ("langchain", "LangChain"),
    ("langgraph", "LangGraph"),
    ("llamaindex", "LlamaIndex"),
    ("llama-index", "LlamaIndex"),
    ("autogen", "AutoGen"),
    ("crewai", "CrewAI"),
    ("semantic-kernel", "Semantic Kernel"),
    ("openai-agents", "OpenAI Agents SDK"),
    ("claude-code", "Claude Code"),
    ("vertex-ai-agent", "Vertex AI Agent Builder"),
    ("mcp-server", "a Model Context Protocol server"),
];

/// The agent a user agent names, if any.
pub fn agent_in(user_agent: &str) -> Option<&'static str> {
    let lower = user_agent.to_ascii_lowercase();
    AGENTS
        .iter()
        .find(|(fragment, _)| lower.contains(fragment))
        .map(|(_, name)| *name)
}

/// Marks the record as an agent's when its user agent names one.
pub fn mark(n: &mut Normalised) {
    let Some(agent) = n.user_agent.as_deref().and_then(agent_in) else {
        return;
    };
    n.principal_reason = format!(
        "user agent names {agent}; the identity alone says {}: {}",
        n.principal_type, n.principal_reason
    );
    n.principal_type = PrincipalType::Agent;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_agents_and_nothing_else() {
        assert_eq!(
            agent_in("langchain-aws/0.2.1 Boto3/1.35.0"),
            Some("LangChain")
        );
        assert_eq!(
            agent_in("aws-sdk-java/2.20 exec-env/AWS_Lambda bedrock-agent-runtime"),
            Some("Amazon Bedrock Agents")
        );
        assert_eq!(agent_in("aws-cli/2.15.0 Python/3.11.6"), None);
        assert_eq!(agent_in("Mozilla/5.0 (Macintosh)"), None);
    }
}
