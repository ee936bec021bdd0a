//! Managed platforms' own identities (AKS, EKS, GKE and Google's service
//! agents, OpenShift, K3s, Rancher), from `mappings/platform-identities.toml`:
//! each entry a pattern and the page of the vendor's documentation that
//! names it. A match is the cloud provider's machinery: a `service`
//! principal whose ownership is `provider`, never a person.

use std::sync::OnceLock;

use globset::{Glob, GlobSet, GlobSetBuilder};
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
            set.add(Glob::new(&row.pattern).expect("platform-identities.toml patterns compile"));
        }
        let set = set
            .build()
            .expect("platform-identities.toml patterns compile");
        (table.identity, set)
    })
}

/// The platform identity `user` is, if any (the first entry that matches).
pub fn lookup(user: &str) -> Option<&'static PlatformIdentity> {
    let (rows, set) = table();
    set.matches(user).into_iter().min().map(|i| &rows[i])
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
