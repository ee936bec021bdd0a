//! Platforms' own identities (AKS, EKS, GKE and Google's service agents,
//! OpenShift, K3s, Rancher, AWS's service principals and service-linked
//! roles, Microsoft's first-party applications and tenants, GitHub's own
//! apps, Okta itself), from `mappings/platform-identities.toml`: each entry
//! the record field it names, a pattern and the page of the vendor's
//! documentation that names it. A match is the provider's machinery: a
//! `service` principal whose ownership is `provider`, never a person.

use std::sync::OnceLock;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::model::{Identity, Ownership};

const TABLE: &str = include_str!("../../mappings/platform-identities.toml");

/// Which value of a record an entry names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    /// The acting user or principal: a Kubernetes username, an IAM ARN or
    /// AWS service principal, a Google principal e-mail.
    #[default]
    User,
    /// An Entra application (client) id, lower-case.
    EntraAppId,
    /// The Entra tenant that owns an application, lower-case.
    EntraOwnerTenant,
    /// A GitHub audit event's `actor` login.
    GithubActor,
    /// An Okta System Log event's `actor.type`.
    OktaActorType,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformIdentity {
    pub platform: String,
    #[serde(default)]
    pub field: Field,
    pub pattern: String,
    /// `x509`: the platform authenticates it with a client certificate.
    pub credential: Option<String>,
    pub note: String,
    pub source: String,
}

impl PlatformIdentity {
    pub fn client_certificate(&self) -> bool {
        self.credential.as_deref() == Some("x509")
    }

    /// Why a principal is this identity, for `principal_reason`.
    pub fn reason(&self) -> String {
        format!(
            "{} platform identity `{}`: {} ({})",
            self.platform, self.pattern, self.note, self.source
        )
    }
}

#[derive(Deserialize)]
struct Table {
    identity: Vec<PlatformIdentity>,
}

/// The table, and its patterns as one set (one pass per lookup: the
/// readers ask for every record).
fn table() -> &'static (Vec<PlatformIdentity>, GlobSet) {
    static TABLE_ROWS: OnceLock<(Vec<PlatformIdentity>, GlobSet)> = OnceLock::new();
    TABLE_ROWS.get_or_init(|| {
        // The table ships in the source tree; a unit test parses it.
        let table: Table = toml::from_str(TABLE).expect("platform-identities.toml parses");
        let mut set = GlobSetBuilder::new();
        for row in &table.identity {
            // A backslash escapes a bracket (GitHub's `[bot]` logins) on every OS.
            let glob = GlobBuilder::new(&row.pattern)
                .backslash_escape(true)
                .build()
                .expect("platform-identities.toml patterns compile");
            set.add(glob);
        }
        let set = set
            .build()
            .expect("platform-identities.toml patterns compile");
        (table.identity, set)
    })
}

/// The platform identity `user` is, if any (the first entry that matches).
pub fn lookup(user: &str) -> Option<&'static PlatformIdentity> {
    lookup_field(Field::User, user)
}

/// The platform identity `value` of `field` names, if any (the first entry
/// for that field that matches).
pub fn lookup_field(field: Field, value: &str) -> Option<&'static PlatformIdentity> {
    let (rows, set) = table();
    set.matches(value)
        .into_iter()
        .filter(|&i| rows[i].field == field)
        .min()
        .map(|i| &rows[i])
}

/// The platform identity as a record shows it acting: the provider's, with
/// the platform as vendor and the table's entry as the reason.
pub fn provider_identity(
    platform: &PlatformIdentity,
    access: &super::Normalised,
    provider: &'static str,
) -> Identity {
    Identity {
        id: access.principal_id.clone(),
        kind: "platform-identity".into(),
        provider,
        environment: access
            .environment
            .clone()
            .or_else(|| access.account.clone()),
        last_used_us: Some(access.time_us),
        active: true,
        credential_type: access.credential_type,
        credential_reason: access.credential_reason.clone(),
        ownership: Ownership::Provider,
        vendor: Some(platform.platform.clone()),
        ownership_reason: platform.reason(),
        ..Default::default()
    }
}

/// A Microsoft first-party application, by its application id or by the
/// tenant that owns it (Entra writes both; ids compared lower-case).
pub fn microsoft_application(
    app_id: Option<&str>,
    owner_tenant: Option<&str>,
) -> Option<&'static PlatformIdentity> {
    let by = |field, value: Option<&str>| {
        value.and_then(|v| lookup_field(field, &v.to_ascii_lowercase()))
    };
    by(Field::EntraAppId, app_id).or_else(|| by(Field::EntraOwnerTenant, owner_tenant))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_parses_cites_a_page_and_compiles() {
        let (rows, set) = table();
        assert!(rows.len() >= 15);
        assert_eq!(set.len(), rows.len());
        for row in rows {
            assert!(row.source.starts_with("https://"), "{}", row.pattern);
        }
    }

    /// Usernames as each platform's documentation gives them.
    #[test]
    fn documented_usernames_are_platform_identities_and_customers_are_not() {
        for (user, platform) in [
            ("aksService", "Azure Kubernetes Service"),
            ("masterclient", "Azure Kubernetes Service"),
            ("nodeclient", "Azure Kubernetes Service"),
            ("aksProblemDetector", "Azure Kubernetes Service"),
            ("eks:addon-manager", "Amazon EKS"),
            ("eks:certificate-controller", "Amazon EKS"),
            ("eks:node-manager", "Amazon EKS"),
            ("system:gke-common-webhooks", "Google Kubernetes Engine"),
            (
                "service-123456789@container-engine-robot.iam.gserviceaccount.com",
                "Google Cloud",
            ),
            (
                "service-123456789@gcp-sa-aiplatform.iam.gserviceaccount.com",
                "Google Cloud",
            ),
            ("system:openshift-master", "Red Hat OpenShift"),
            (
                "system:serviceaccount:openshift-monitoring:prometheus-k8s",
                "Red Hat OpenShift",
            ),
            ("system:k3s-controller", "K3s"),
            (
                "arn:aws:iam::111122223333:role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing",
                "AWS",
            ),
            (
                "system:serviceaccount:cattle-system:cattle-cluster-agent",
                "Rancher",
            ),
        ] {
            assert_eq!(
                lookup(user).map(|p| p.platform.as_str()),
                Some(platform),
                "{user}"
            );
        }
        for (field, value, platform) in [
            (
                Field::EntraAppId,
                "00000003-0000-0000-c000-000000000000",
                "Microsoft",
            ),
            (
                Field::EntraOwnerTenant,
                "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
                "Microsoft",
            ),
            (Field::GithubActor, "github-actions[bot]", "GitHub"),
            (Field::OktaActorType, "SystemPrincipal", "Okta"),
        ] {
            assert_eq!(
                lookup_field(field, value).map(|p| p.platform.as_str()),
                Some(platform),
                "{value}"
            );
            // An entry answers for its own field only.
            assert!(lookup(value).is_none(), "{value}");
        }
        assert_eq!(
            lookup("lambda.amazonaws.com").map(|p| p.platform.as_str()),
            Some("AWS")
        );
        for user in [
            "alice@example.com",
            "kubernetes-admin",
            "clusterAdmin",
            "system:serviceaccount:payments:api",
            "ci@acme.iam.gserviceaccount.com",
        ] {
            assert!(lookup(user).is_none(), "{user}");
        }
    }
}
