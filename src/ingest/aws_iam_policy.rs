//! AWS IAM policies → grants: bare policy documents, managed-policy versions
//! (`{"PolicyVersion": {"Document": ...}}`, as `get-policy-version` prints
//! them), and `get-account-authorization-details` dumps, whose users and
//! roles also become identities and whose role trust policies become
//! `trust` grants. The IAM listing calls (`list-roles` / `get-role`,
//! `list-users` / `get-user`, `list-access-keys`) give roles with their trust
//! policies (URL-encoded as the raw API returns them, or as JSON), users
//! with their last console sign-in, and access keys with status and age.
//!
//! Flags, per statement: `wildcard_action` (an action with `*`),
//! `wildcard_resource` (`*`), `admin` (Allow of `*` or `iam:*` on `*`, or an
//! Allow with `NotAction` on `*`), and in `flags`: `iam:PassRole on *`,
//! `sts:AssumeRole on *`, `NotAction allow`, and for trust policies `any
//! principal may assume` (`"*"` or `{"AWS": "*"}` without conditions) and
//! `a whole account may assume` (`arn:aws:iam::ACCOUNT:root`).

use serde_json::Value;

use super::fields::{owned, text};
use crate::model::{CredentialType, Grant, Identity, RawRef};
use crate::time::parse_time;

pub const SOURCE: &str = "aws-iam";

/// A bare policy document.
fn is_document(v: &Value) -> bool {
    v.get("Statement").is_some()
        && (v.get("Version").is_some() || v.get("Statement").is_some_and(Value::is_array))
}

/// Whether a record is an IAM policy or an authorization-details dump.
pub fn detect(record: &Value) -> bool {
    is_document(record)
        || record.pointer("/PolicyVersion/Document").is_some()
        || record.get("RoleDetailList").is_some()
        || record.get("UserDetailList").is_some()
        || is_listing(record)
}

fn listed(record: &Value, list: &str, one: &str, field: &str) -> bool {
    let has = |v: &Value| v.get(field).is_some() && v.get("Arn").is_some();
    record
        .get(list)
        .and_then(Value::as_array)
        .is_some_and(|items| items.iter().any(has))
        || record.get(one).is_some_and(has)
}

/// `list-roles`, `get-role`, `list-users`, `get-user`, `list-access-keys`.
fn is_listing(record: &Value) -> bool {
    listed(record, "Roles", "Role", "RoleName")
        || listed(record, "Users", "User", "UserName")
        || record
            .get("AccessKeyMetadata")
            .and_then(Value::as_array)
            .is_some_and(|keys| keys.iter().all(|k| k.get("AccessKeyId").is_some()))
}

/// What a record yields.
pub struct Parsed {
    pub grants: Vec<Grant>,
    pub identities: Vec<Identity>,
}

pub fn parse(record: &Value, file: &str, source_ref: &RawRef) -> Result<Parsed, String> {
    let mut out = Parsed {
        grants: Vec::new(),
        identities: Vec::new(),
    };
    let stem = file
        .rsplit('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".json")
        .to_string();
    if is_document(record) {
        statements(
            record,
            None,
            &stem,
            "permission",
            source_ref,
            &mut out.grants,
        )?;
    } else if let Some(document) = record.pointer("/PolicyVersion/Document") {
        statements(
            document,
            None,
            &stem,
            "permission",
            source_ref,
            &mut out.grants,
        )?;
    } else if is_listing(record) {
        listing(record, source_ref, &mut out)?;
    } else {
        authorization_details(record, source_ref, &mut out)?;
    }
    Ok(out)
}

/// The items of `list` (or the single `one`), each with its own position.
fn items<'a>(
    record: &'a Value,
    list: &str,
    one: &str,
    source_ref: &RawRef,
) -> Vec<(&'a Value, RawRef)> {
    match (record.get(list).and_then(Value::as_array), record.get(one)) {
        (Some(items), _) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let position = format!("{}, {list}[{i}]", source_ref.position);
                (
                    item,
                    RawRef {
                        position,
                        ..source_ref.clone()
                    },
                )
            })
            .collect(),
        (None, Some(item)) => vec![(item, source_ref.clone())],
        (None, None) => Vec::new(),
    }
}

fn listing(record: &Value, source_ref: &RawRef, out: &mut Parsed) -> Result<(), String> {
    for (list, one, kind) in [("Roles", "Role", "iam-role"), ("Users", "User", "iam-user")] {
        for (item, item_ref) in items(record, list, one, source_ref) {
            let arn = owned(item, "/Arn")
                .ok_or_else(|| format!("{item_ref:?}: an entry without an Arn"))?;
            out.identities
                .push(principal_identity(item, &arn, kind, &item_ref));
            let before = out.grants.len();
            trust_grants(item, &arn, &item_ref, &mut out.grants)?;
            mark_vendor_role(&mut out.identities, &arn, &out.grants[before..]);
        }
    }
    for (key, key_ref) in items(record, "AccessKeyMetadata", "AccessKey", source_ref) {
        let id = owned(key, "/AccessKeyId").ok_or("an access key without an AccessKeyId")?;
        let user = owned(key, "/UserName");
        let created = key.get("CreateDate").and_then(parse_time);
        // Temporary keys (ASIA...) are never listed here; the prefix still decides.
        let (credential_type, credential_reason) = if id.starts_with("ASIA") {
            (
                CredentialType::Ephemeral,
                "ASIA prefix: temporary STS key".to_string(),
            )
        } else {
            (
                CredentialType::Static,
                "an IAM user's long-term access key (AKIA)".to_string(),
            )
        };
        out.identities.push(Identity {
            id,
            kind: "access-key".into(),
            provider: "aws",
            owner_id: user.clone(),
            owner: None,
            environment: None,
            created_us: created,
            last_used_us: None,
            last_rotated_us: created,
            expires_us: None,
            active: text(key, "/Status") != Some("Inactive"),
            credential_type,
            credential_reason,
            details: user.map(|u| format!("user_name={u}")).unwrap_or_default(),
            source_ref: key_ref,
            ..Default::default()
        });
    }
    Ok(())
}

/// A role's trust policy (who may assume it) as `trust` grants.
fn trust_grants(
    item: &Value,
    arn: &str,
    item_ref: &RawRef,
    out: &mut Vec<Grant>,
) -> Result<(), String> {
    match item.get("AssumeRolePolicyDocument") {
        Some(trust) => statements(trust, Some(arn), "trust policy", "trust", item_ref, out),
        None => Ok(()),
    }
}

/// A user or role as an identity row.
fn principal_identity(item: &Value, arn: &str, kind: &str, item_ref: &RawRef) -> Identity {
    let role = kind == "iam-role";
    let mut details = Vec::new();
    if let Some(path) = text(item, "/Path").filter(|p| *p != "/") {
        details.push(format!("path={path}"));
    }
    if let Some(d) = text(item, "/Description") {
        details.push(format!("description={d}"));
    }
    if let Some(region) = text(item, "/RoleLastUsed/Region") {
        details.push(format!("last_used_region={region}"));
    }
    let password_used = item.get("PasswordLastUsed").and_then(parse_time);
    if password_used.is_some() {
        details.push("console password used".to_string());
    }
    // Teams tag IAM principals with who answers for them.
    let owner = item.get("Tags").and_then(Value::as_array).and_then(|tags| {
        ["owner", "team", "contact"].iter().find_map(|want| {
            tags.iter().find_map(|t| {
                let key = text(t, "/Key")?;
                key.eq_ignore_ascii_case(want)
                    .then(|| text(t, "/Value").map(str::to_string))
                    .flatten()
            })
        })
    });
    Identity {
        id: arn.to_string(),
        kind: kind.into(),
        provider: "aws",
        owner_id: None,
        owner,
        environment: arn.split(':').nth(4).map(str::to_string),
        created_us: item.get("CreateDate").and_then(parse_time),
        last_used_us: item
            .pointer("/RoleLastUsed/LastUsedDate")
            .and_then(parse_time)
            .or(password_used),
        last_rotated_us: None,
        expires_us: None,
        active: true,
        credential_type: if role {
            CredentialType::Ephemeral
        } else {
            CredentialType::Unknown
        },
        credential_reason: if role {
            "a role: callers get temporary STS credentials".into()
        } else {
            "the listing does not show the user's keys (see the credential report)".into()
        },
        details: details.join("; "),
        source_ref: item_ref.clone(),
        ..Default::default()
    }
}

fn authorization_details(
    record: &Value,
    source_ref: &RawRef,
    out: &mut Parsed,
) -> Result<(), String> {
    // Managed policies by ARN, at their default version.
    let mut managed = std::collections::HashMap::new();
    for policy in record
        .get("Policies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(arn), Some(versions)) = (
            text(policy, "/Arn"),
            policy.get("PolicyVersionList").and_then(Value::as_array),
        ) else {
            continue;
        };
        if let Some(default) = versions
            .iter()
            .find(|v| v.get("IsDefaultVersion").and_then(Value::as_bool) == Some(true))
        {
            if let Some(document) = default.get("Document") {
                managed.insert(
                    arn.to_string(),
                    (
                        text(policy, "/PolicyName").unwrap_or(arn).to_string(),
                        document.clone(),
                    ),
                );
            }
        }
    }
    for (list, kind, inline_key) in [
        ("UserDetailList", "iam-user", "UserPolicyList"),
        ("RoleDetailList", "iam-role", "RolePolicyList"),
        ("GroupDetailList", "iam-group", "GroupPolicyList"),
    ] {
        for (i, item) in record
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let Some(arn) = owned(item, "/Arn") else {
                return Err(format!("{list}[{i}] has no Arn"));
            };
            let item_ref = RawRef {
                position: format!("{}, {list}[{i}]", source_ref.position),
                ..source_ref.clone()
            };
            if kind != "iam-group" {
                out.identities
                    .push(principal_identity(item, &arn, kind, &item_ref));
            }
            // Inline policies, then attached managed ones at their default version.
            let array = |key: &str| {
                item.get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
            };
            let inline = array(inline_key).filter_map(|p| {
                let name = text(p, "/PolicyName").unwrap_or("inline");
                p.get("PolicyDocument").map(|d| (name, d))
            });
            let attached = array("AttachedManagedPolicies")
                .filter_map(|a| text(a, "/PolicyArn").and_then(|arn| managed.get(arn)))
                .map(|(name, document)| (name.as_str(), document));
            for (name, document) in inline.chain(attached) {
                statements(
                    document,
                    Some(&arn),
                    name,
                    "permission",
                    &item_ref,
                    &mut out.grants,
                )?;
            }
            let before = out.grants.len();
            trust_grants(item, &arn, &item_ref, &mut out.grants)?;
            mark_vendor_role(&mut out.identities, &arn, &out.grants[before..]);
        }
    }
    Ok(())
}

/// A role another AWS account may assume only with an external id is a
/// third party's way in: AWS documents `sts:ExternalId` as the guard for
/// granting a third party (a monitoring or security vendor) access.
fn mark_vendor_role(identities: &mut [Identity], arn: &str, trust: &[Grant]) {
    let own = arn.split(':').nth(4).unwrap_or("");
    let vendor = trust
        .iter()
        .filter(|g| g.effect == "Allow" && g.flags.contains(EXTERNAL_ID))
        .flat_map(|g| g.resources.split(' '))
        .filter_map(|p| p.strip_prefix("AWS:"))
        .map(|p| match p.split(':').nth(4) {
            Some(account) => account,
            None => p,
        })
        .find(|account| account.len() == 12 && *account != own);
    let Some(account) = vendor else { return };
    if let Some(role) = identities.iter_mut().rev().find(|i| i.id == arn) {
        role.ownership = crate::model::Ownership::ThirdParty;
        role.vendor = Some(format!("AWS account {account}"));
        role.ownership_reason = format!(
            "its trust policy lets AWS account {account} assume it with an external id \
             (sts:ExternalId, AWS's guard for third-party access)"
        );
    }
}

/// The flag of a trust statement that requires `sts:ExternalId`.
const EXTERNAL_ID: &str = "external id required";

/// Strings of a string-or-array field.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn statements(
    document: &Value,
    principal: Option<&str>,
    policy: &str,
    kind: &'static str,
    source_ref: &RawRef,
    out: &mut Vec<Grant>,
) -> Result<(), String> {
    // Documents arrive as JSON strings, and URL-encoded from the raw IAM API.
    let parsed;
    let document = match document {
        Value::String(s) => {
            let decoded = if s.trim_start().starts_with('%') {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map_err(|e| {
                        format!("policy {policy}: URL-encoded document is not UTF-8: {e}")
                    })?
                    .into_owned()
            } else {
                s.clone()
            };
            parsed = serde_json::from_str::<Value>(&decoded)
                .map_err(|e| format!("policy {policy}: document is not JSON: {e}"))?;
            &parsed
        }
        other => other,
    };
    let list: Vec<&Value> = match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err(format!("policy {policy} has no Statement")),
    };
    for (i, statement) in list.into_iter().enumerate() {
        let effect = text(statement, "/Effect").unwrap_or("").to_string();
        let not_action = statement.get("NotAction").is_some();
        let actions = strings(
            statement
                .get("Action")
                .or_else(|| statement.get("NotAction")),
        );
        let has_conditions = statement
            .get("Condition")
            .is_some_and(|c| c.as_object().is_some_and(|m| !m.is_empty()));
        let mut flags = Vec::new();
        let external_id = statement
            .get("Condition")
            .and_then(Value::as_object)
            .is_some_and(|operators| {
                operators.values().any(|keys| {
                    keys.as_object().is_some_and(|keys| {
                        keys.keys()
                            .any(|k| k.eq_ignore_ascii_case("sts:ExternalId"))
                    })
                })
            });
        if kind == "trust" && external_id {
            flags.push(EXTERNAL_ID.to_string());
        }
        let (resources, not_resource) = if kind == "trust" {
            (
                trusted(statement.get("Principal"), has_conditions, &mut flags),
                false,
            )
        } else {
            (
                strings(
                    statement
                        .get("Resource")
                        .or_else(|| statement.get("NotResource")),
                ),
                statement.get("NotResource").is_some(),
            )
        };
        let allow = effect == "Allow";
        let any_resource = resources.iter().any(|r| r == "*");
        let wildcard_action = actions.iter().any(|a| a.contains('*'));
        // NotAction on `*` is admin-equivalent unless it keeps IAM out of
        // reach (PowerUserAccess excludes iam:*, so it cannot grant itself more).
        let excludes_iam = not_action
            && actions
                .iter()
                .any(|a| a == "*" || a.to_ascii_lowercase().starts_with("iam:"));
        let admin = kind == "permission"
            && allow
            && any_resource
            && (if not_action {
                !excludes_iam
            } else {
                actions.iter().any(|a| a == "*" || a == "iam:*")
            });
        if kind == "permission" && allow {
            if not_action {
                flags.push("NotAction allow".to_string());
            }
            for (action, label) in [
                ("iam:PassRole", "iam:PassRole on *"),
                ("sts:AssumeRole", "sts:AssumeRole on *"),
            ] {
                let grants_it = actions.iter().any(|a| {
                    a.eq_ignore_ascii_case(action)
                        || a == "*"
                        || a.eq_ignore_ascii_case(&format!("{}:*", &action[..3]))
                });
                if any_resource && grants_it && !not_action {
                    flags.push(label.to_string());
                }
            }
        }
        if admin {
            flags.insert(0, "admin-equivalent".to_string());
        }
        out.push(Grant {
            principal: principal.map(str::to_string),
            policy: policy.to_string(),
            kind,
            effect,
            actions: actions.join(" "),
            not_action,
            resources: resources.join(" "),
            not_resource,
            has_conditions,
            wildcard_action,
            wildcard_resource: any_resource,
            admin,
            flags: flags.join("; "),
            source_ref: RawRef {
                position: format!("{}, {policy} statement {}", source_ref.position, i + 1),
                ..source_ref.clone()
            },
        });
    }
    Ok(())
}

/// The principals a trust statement lets assume the role, with flags for
/// anyone and for whole accounts.
fn trusted(
    principal: Option<&Value>,
    has_conditions: bool,
    flags: &mut Vec<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    match principal {
        Some(Value::String(s)) => out.push(s.clone()),
        Some(Value::Object(map)) => {
            for (kind, value) in map {
                for p in strings(Some(value)) {
                    out.push(format!("{kind}:{p}"));
                }
            }
        }
        _ => {}
    }
    if out.iter().any(|p| p == "*" || p == "AWS:*") {
        flags.push(
            if has_conditions {
                "any principal may assume (with conditions)"
            } else {
                "any principal may assume"
            }
            .to_string(),
        );
    }
    if out.iter().any(|p| {
        p.starts_with("AWS:")
            && (p.ends_with(":root") || p[4..].chars().all(|c| c.is_ascii_digit()))
    }) {
        flags.push("a whole account may assume".to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw() -> RawRef {
        RawRef {
            file: "p.json".into(),
            position: "record 1".into(),
            sha256: String::new(),
        }
    }

    #[test]
    fn admin_and_wildcards() {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Action": ["ecr:*", "s3:GetObject"], "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"},
            {"Effect": "Allow", "NotAction": ["s3:DeleteBucket"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}
        ]});
        assert!(detect(&doc));
        let g = parse(&doc, "dir/Admin.json", &raw()).unwrap().grants;
        assert_eq!(g.len(), 5);
        assert!(g[0].admin && g[0].wildcard_action && g[0].wildcard_resource);
        assert!(g[0].flags.starts_with("admin-equivalent"));
        assert_eq!(g[0].policy, "Admin");
        assert!(!g[1].admin && g[1].wildcard_action && !g[1].wildcard_resource);
        assert!(
            !g[2].admin && g[2].not_action,
            "NotAction iam:* keeps IAM out of reach"
        );
        assert!(g[3].admin && g[3].flags.contains("NotAction allow"));
        assert!(g[4].flags.contains("iam:PassRole on *") && g[4].has_conditions);
    }

    #[test]
    fn a_role_another_account_assumes_with_an_external_id_is_a_vendors() {
        let role = |arn: &str, principal: &str, condition: Value| {
            json!({"Arn": arn, "RoleName": "r", "RolePolicyList": [], "AttachedManagedPolicies": [],
                "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": principal},
                    "Action": "sts:AssumeRole", "Condition": condition}]}})
        };
        let details = json!({"RoleDetailList": [
            role("arn:aws:iam::111111111111:role/DatadogAWSIntegrationRole", "arn:aws:iam::464622532012:root",
                json!({"StringEquals": {"sts:ExternalId": "x"}})),
            role("arn:aws:iam::111111111111:role/OrgAccess", "arn:aws:iam::222222222222:root",
                json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}})),
            role("arn:aws:iam::111111111111:role/SelfWithId", "111111111111",
                json!({"StringEquals": {"sts:externalid": "x"}}))
        ], "Policies": []});
        let parsed = parse(&details, "auth.json", &raw()).unwrap();
        let vendor = &parsed.identities[0];
        assert_eq!(vendor.ownership, crate::model::Ownership::ThirdParty);
        assert_eq!(vendor.vendor.as_deref(), Some("AWS account 464622532012"));
        assert!(parsed.grants[0].flags.contains(EXTERNAL_ID));
        // Another account without an external id (an organisation's own
        // access role), and this account's own: not third-party.
        assert_eq!(
            parsed.identities[1].ownership,
            crate::model::Ownership::Internal
        );
        assert_eq!(
            parsed.identities[2].ownership,
            crate::model::Ownership::Internal
        );
    }

    #[test]
    fn trust_policies_open_to_anyone_or_an_account() {
        let details = json!({"RoleDetailList": [{"Arn": "arn:aws:iam::1:role/open", "RoleName": "open",
            "AssumeRolePolicyDocument": {"Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999:root"}, "Action": "sts:AssumeRole"}]},
            "RolePolicyList": [], "AttachedManagedPolicies": [{"PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]}],
            "Policies": [{"Arn": "arn:aws:iam::aws:policy/AdministratorAccess", "PolicyName": "AdministratorAccess",
                "PolicyVersionList": [{"IsDefaultVersion": true, "Document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]}]});
        let parsed = parse(&details, "auth.json", &raw()).unwrap();
        assert_eq!(parsed.identities.len(), 1);
        assert_eq!(parsed.identities[0].kind, "iam-role");
        let admin = parsed
            .grants
            .iter()
            .find(|g| g.policy == "AdministratorAccess")
            .unwrap();
        assert!(admin.admin);
        assert_eq!(admin.principal.as_deref(), Some("arn:aws:iam::1:role/open"));
        let trust: Vec<&Grant> = parsed.grants.iter().filter(|g| g.kind == "trust").collect();
        assert_eq!(trust[0].flags, "any principal may assume");
        assert_eq!(trust[1].flags, "a whole account may assume");
    }
}
