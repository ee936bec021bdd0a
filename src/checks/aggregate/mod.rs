//! The log-based checks' view of the access events: mergeable statistics
//! ([`stats::EventStats`]) built per partition and merged, so a check over
//! one file, a day, a shard or a cluster gives the same answer, and memory
//! does not grow with the number of events.

pub mod engine;
pub mod read;
pub mod rows;
pub mod stats;

pub use rows::Rows;
pub use stats::{EventStats, Needs};

#[cfg(test)]
mod tests {
    //! The property the engines rest on: statistics of a table equal the
    //! merge of its partitions' statistics, however they are cut and
    //! grouped, and so does every check's outcome.

    use super::read::uses_after;
    use super::stats::{default_interactive_agents, EventStats};
    use crate::checks::evidence::{Events, Evidence};
    use crate::checks::rules::testing::{event, identity, DAY, T0};
    use crate::model::tables::access_events_frame;
    use crate::model::{AccessEvent, CredentialType, Decision, PrincipalType};

    /// A small deterministic generator (no dependency for a test).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    fn events(n: usize, seed: u64) -> Vec<AccessEvent> {
        let mut r = Lcg(seed);
        let principals = [
            "arn:aws:iam::1:role/app",
            "arn:aws:iam::1:user/ci",
            "system:serviceaccount:ci:builder",
            "agent-x",
            "",
            "anonymous",
        ];
        let kinds = [
            PrincipalType::Workload,
            PrincipalType::Service,
            PrincipalType::Agent,
            PrincipalType::Human,
            PrincipalType::Anonymous,
        ];
        let creds = [
            CredentialType::Ephemeral,
            CredentialType::Static,
            CredentialType::Unknown,
        ];
        (0..n)
            .map(|_| {
                let mut e = event(
                    principals[r.next(6) as usize],
                    kinds[r.next(5) as usize],
                    creds[r.next(3) as usize],
                    T0 + r.next(40) as i64 * DAY / 8 + r.next(1000) as i64,
                );
                e.source = ["aws-cloudtrail", "k8s-audit"][r.next(2) as usize];
                e.access.decision = [Decision::Allow, Decision::Deny][r.next(2) as usize];
                if r.next(5) == 0 {
                    e.access.resource = None;
                }
                if r.next(4) == 0 {
                    e.access.user_agent = Some("kubectl/v1.29.0".into());
                }
                if r.next(6) == 0 {
                    e.access.auth_method = "console".into();
                }
                if r.next(7) == 0 {
                    e.access.action = "iam:DeleteUser".into();
                    e.access.resource = Some("arn:aws:iam::1:user/ci".into());
                }
                e.access.credential_id = Some(format!("AKIA{}", r.next(3)));
                e.access.account = Some(["111", "222", "333"][r.next(3) as usize].into());
                e.access.principal_reason =
                    ["user agent names an agent", ""][r.next(2) as usize].into();
                e
            })
            .collect()
    }

    fn stats_of(events: &[AccessEvent], offset: u64, needs: &super::Needs) -> EventStats {
        let frame = access_events_frame(events).unwrap();
        let mut s = EventStats::default();
        s.add(&Events::from_frame(&frame).unwrap(), offset, needs);
        s
    }

    #[test]
    fn any_partitioning_merges_to_the_whole() {
        let all = events(600, 7);
        let ev = Evidence::from_rows(
            &all,
            &[identity("AKIA1", "access-key", CredentialType::Static)],
            &[],
            &[],
        )
        .unwrap();
        let needs = ev.identities.needs(&default_interactive_agents());
        let whole = stats_of(&all, 0, &needs);
        let mut r = Lcg(99);
        for _ in 0..20 {
            // Random cuts, then merged in a random grouping.
            let mut cuts: Vec<usize> = (0..r.next(8)).map(|_| r.next(600) as usize).collect();
            cuts.extend([0, 600]);
            cuts.sort_unstable();
            cuts.dedup();
            let mut parts: Vec<EventStats> = cuts
                .windows(2)
                .map(|w| stats_of(&all[w[0]..w[1]], w[0] as u64, &needs))
                .collect();
            while parts.len() > 1 {
                let i = r.next(parts.len() as u64 - 1) as usize;
                let right = parts.remove(i + 1);
                if r.next(2) == 0 {
                    parts[i].merge(right);
                } else {
                    // The later partition first: merging must not care.
                    let left = std::mem::replace(&mut parts[i], right);
                    parts[i].merge(left);
                }
            }
            assert_eq!(parts.pop().unwrap(), whole);
        }
        assert!(whole.revocations.contains_key("ci"));
        let frame = access_events_frame(&all).unwrap();
        let uses = uses_after(&Events::from_frame(&frame).unwrap(), 0, &whole.revocations);
        assert!(!uses.is_empty(), "the generated events use a revoked user");
    }
}
