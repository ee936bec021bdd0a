//! Managed platforms' own identities (AKS, EKS, GKE and Google's service
//! agents, OpenShift, K3s, Rancher), from `mappings/platform-identities.toml`:
//! each entry a pattern and the page of the vendor's documentation that
//! names it. A match is the cloud provider's machinery: a `service`
//! principal whose ownership is `provider`, never a person.

use std::sync::OnceLock;

use globset::{Glob, GlobMatcher};
use serde::Deserialize;

const TABLE: &str = include_str!("../../mappings/platform-identities.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformIdentity {
    pub platform: String,
    pub pattern: String,
    /// `x509`: the platform authenticates it with a client certificate.
    pub credential: Option<String>,
    pub note: String,
    pub source: String,
    #[serde(skip)]
    matcher: Option<GlobMatcher>,
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

fn table() -> &'static [PlatformIdentity] {
    static TABLE_ROWS: OnceLock<Vec<PlatformIdentity>> = OnceLock::new();
    TABLE_ROWS.get_or_init(|| {
        // The table ships in the source tree; a unit test parses it.
        let mut table: Table = toml::from_str(TABLE).expect("platform-identities.toml parses");
        for row in &mut table.identity {
            row.matcher = Some(
                Glob::new(&row.pattern)
                    .expect("platform-identities.toml patterns compile")
                    .compile_matcher(),
            );
        }
        table.identity
    })
}

/// The platform identity `user` is, if any (the first entry that matches).
pub fn lookup(user: &str) -> Option<&'static PlatformIdentity> {
    table()
        .iter()
        .find(|row| row.matcher.as_ref().is_some_and(|m| m.is_match(user)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_parses_cites_a_page_and_compiles() {
        assert!(table().len() >= 15);
        for row in table() {
            assert!(row.source.starts_with("https://"), "{}", row.pattern);
            assert!(row.matcher.is_some());
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
