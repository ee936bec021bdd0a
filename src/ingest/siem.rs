//! Vendor records as a SIEM data lake stores them (Panther and lakes built
//! the same way): the vendor's own record, with the lake's metadata beside
//! it (`p_log_type`, `p_event_time`, `p_parse_time`, `p_row_id`, `p_any_*`,
//! `p_source_*`, `p_udm`), some keys lower-cased (`authenticationcontext`,
//! `debugcontext`, `eventtype`) and times written without a zone
//! (`2022-12-10 23:33:04.667000000`, UTC by Panther's documented
//! convention, read as such only when the user says so: `naive_times`).
//!
//! [`restore`] gives the vendor's record back: the documented camel-case
//! name of every lower-cased key the vendor's schema knows, the event time
//! from `p_event_time` where the vendor's own time field is missing, and
//! the lake's metadata removed. The readers then read it as they read the
//! vendor's export.

use serde_json::{Map, Value};

/// Whether a record carries a data lake's metadata.
pub fn detect(record: &Value) -> bool {
    record.get("p_log_type").is_some_and(Value::is_string)
        || record.get("p_event_time").is_some_and(Value::is_string)
}

/// Field names, as the vendors document them, that a lake may lower-case:
/// Okta System Log, CloudTrail, Google Cloud audit logs, Entra and Azure
/// activity logs (GitHub's and OpenAI's are lower-case already).
const VENDOR_KEYS: &[&str] = &[
    // Okta System Log (LogEvent and its objects)
    "authenticationContext",
    "authenticationProvider",
    "authenticationStep",
    "credentialProvider",
    "credentialType",
    "externalSessionId",
    "debugContext",
    "debugData",
    "displayMessage",
    "eventType",
    "legacyEventType",
    "securityContext",
    "alternateId",
    "displayName",
    "detailEntry",
    "userAgent",
    "rawUserAgent",
    "geographicalContext",
    "ipAddress",
    "ipChain",
    "postalCode",
    "asNumber",
    "asOrg",
    "isProxy",
    "requestId",
    "requestUri",
    "requestApiTokenId",
    "rootApiTokenId",
    "threatSuspected",
    // CloudTrail
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "requestID",
    "eventID",
    "readOnly",
    "managementEvent",
    "recipientAccountId",
    "eventCategory",
    "tlsDetails",
    "sessionContext",
    "sessionIssuer",
    "sessionCredentialFromConsole",
    "accessKeyId",
    "principalId",
    "accountId",
    "userName",
    "invokedBy",
    "errorCode",
    "errorMessage",
    "sharedEventID",
    "vpcEndpointId",
    "sourceIdentity",
    "webIdFederationData",
    "mfaAuthenticated",
    "creationDate",
    "identityProvider",
    // Google Cloud audit logs
    "protoPayload",
    "authenticationInfo",
    "principalEmail",
    "principalSubject",
    "serviceAccountKeyName",
    "serviceAccountDelegationInfo",
    "firstPartyPrincipal",
    "thirdPartyPrincipal",
    "serviceName",
    "methodName",
    "resourceName",
    "authorizationInfo",
    "requestMetadata",
    "callerIp",
    "callerSuppliedUserAgent",
    "logName",
    "insertId",
    "receiveTimestamp",
    // Entra and Azure Monitor
    "activityDateTime",
    "activityDisplayName",
    "initiatedBy",
    "targetResources",
    "modifiedProperties",
    "createdDateTime",
    "servicePrincipalId",
    "servicePrincipalName",
    "userPrincipalName",
    "appId",
    "tenantId",
    "operationName",
    "resourceId",
    "callerIpAddress",
    "resultType",
    "clientCredentialType",
];

/// The vendor's own time field, by the lake's log type, filled from
/// `p_event_time` when the record lacks it.
fn time_field(log_type: &str) -> Option<&'static str> {
    let vendor = log_type.split('.').next().unwrap_or("");
    Some(match vendor {
        "Okta" => "published",
        "AWS" if log_type.contains("CloudTrail") => "eventTime",
        "GCP" => "timestamp",
        "GitHub" => "created_at",
        "Azure" => "time",
        _ => return None,
    })
}

/// The vendor's record from a lake's row.
pub fn restore(value: Value) -> Value {
    let Value::Object(mut map) = value else {
        return value;
    };
    let log_type = map
        .get("p_log_type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let event_time = map.get("p_event_time").cloned();
    map.retain(|k, _| !k.starts_with("p_"));
    let mut map = restore_keys(map);
    if let (Some(field), Some(time)) = (time_field(&log_type), event_time) {
        map.entry(field).or_insert(time);
    }
    Value::Object(map)
}

fn restore_keys(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(key, value)| {
            let value = match value {
                Value::Object(inner) => Value::Object(restore_keys(inner)),
                Value::Array(items) => Value::Array(
                    items
                        .into_iter()
                        .map(|item| match item {
                            Value::Object(inner) => Value::Object(restore_keys(inner)),
                            other => other,
                        })
                        .collect(),
                ),
                other => other,
            };
            let restored = if key.bytes().all(|b| !b.is_ascii_uppercase()) {
                VENDOR_KEYS
                    .iter()
                    .find(|k| k.len() == key.len() && k.eq_ignore_ascii_case(&key))
                    .map(|k| k.to_string())
                    .unwrap_or(key)
            } else {
                key
            };
            (restored, value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lower_cased_keys_are_restored_and_the_lake_metadata_dropped() {
        let row = json!({"eventtype": "user.mfa.factor.deactivate", "displaymessage": "Reset factor for user",
            "actor": {"alternateId": "homer@springfield.gov", "type": "User"},
            "authenticationcontext": {"authenticationStep": 0, "externalSessionId": "1111111"},
            "target": [{"alternateid": "x", "type": "User"}],
            "p_log_type": "Okta.SystemLog", "p_event_time": "2021-06-04 09:59:53.650807",
            "p_parse_time": "2021-06-04 10:02:33.650807", "p_any_ip_addresses": ["1.1.1.1"]});
        assert!(detect(&row));
        let record = restore(row);
        assert_eq!(record["eventType"], "user.mfa.factor.deactivate");
        assert_eq!(record["displayMessage"], "Reset factor for user");
        assert_eq!(
            record["authenticationContext"]["externalSessionId"],
            "1111111"
        );
        assert_eq!(record["target"][0]["alternateId"], "x");
        assert_eq!(record["published"], "2021-06-04 09:59:53.650807");
        assert!(record
            .as_object()
            .unwrap()
            .keys()
            .all(|k| !k.starts_with("p_")));
    }

    #[test]
    fn the_vendors_own_time_is_kept_and_unknown_log_types_get_none() {
        let row = json!({"eventTime": "2024-01-01T00:00:00Z", "p_log_type": "AWS.CloudTrail", "p_event_time": "2024-01-01 00:00:00"});
        assert_eq!(restore(row)["eventTime"], "2024-01-01T00:00:00Z");
        let row = json!({"thing": 1, "p_log_type": "Custom.Thing", "p_event_time": "2024-01-01 00:00:00"});
        assert_eq!(restore(row), json!({"thing": 1}));
    }
}
