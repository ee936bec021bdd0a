//! Records that reached us inside a log shipper's wrapper. A record no
//! reader recognises is searched for the records it carries, by the fields
//! shippers document, in this order:
//!
//! | field | who writes it | holds |
//! |---|---|---|
//! | `_raw` | Splunk, Cribl | the original event, as text |
//! | `event.original` | Elastic (ECS) | the original event, as text |
//! | `_source` | Elastic search hits | the indexed document |
//! | `hits.hits` | Elastic search responses | the hits |
//! | `logEvents[].message` | CloudWatch Logs subscriptions (Firehose, Lambda) | one event each, as text |
//! | `message` | Datadog, CloudWatch exports, Vector, Fluent Bit | the event, as text (JSON only) |
//! | `log` | Fluent Bit, Docker's json-file, Kubernetes node agents | the event, as text or an object |
//! | `properties.log` | Azure diagnostic settings (AKS) | the event, as text or an object |
//! | `data` | Datadog intake bodies, Airbyte records | an event or a list of them |
//! | the only member | test fixtures and API pages (`{"expected": [...]}`) | a list of events |
//!
//! Text fields are opened only when they hold a JSON object; a syslog line
//! in `message` is not an audit record and stays unrecognised. What is
//! found goes through every reader again (it may be another envelope, up to
//! [`MAX_DEPTH`] deep); its raw reference keeps the wrapper's file,
//! position and hash, with the path inside it.

use serde_json::Value;

/// Envelopes opened inside envelopes, at most.
pub const MAX_DEPTH: usize = 4;

/// The records an unrecognised record carries, each with its path inside
/// it; `None` when it carries none by these rules.
pub fn open(record: &Value) -> Option<Vec<(String, Value)>> {
    let object = record.as_object()?;
    let text = |pointer: &str| record.pointer(pointer).and_then(Value::as_str);
    for (pointer, path) in [("/_raw", "_raw"), ("/event/original", "event.original")] {
        if let Some(inner) = text(pointer).and_then(json_object) {
            return Some(vec![(path.to_string(), inner)]);
        }
    }
    if let Some(source) = record.get("_source").filter(|s| s.is_object()) {
        return Some(vec![("_source".into(), source.clone())]);
    }
    if let Some(hits) = record.pointer("/hits/hits").and_then(Value::as_array) {
        return Some(each("hits.hits", hits));
    }
    if let Some(events) = record.get("logEvents").and_then(Value::as_array) {
        let found: Vec<(String, Value)> = events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                let inner = e
                    .get("message")
                    .and_then(Value::as_str)
                    .and_then(json_object)?;
                Some((format!("logEvents[{i}].message"), inner))
            })
            .collect();
        return (!found.is_empty()).then_some(found);
    }
    if let Some(inner) = text("/message").and_then(json_object) {
        return Some(vec![("message".into(), inner)]);
    }
    for (pointer, path) in [("/log", "log"), ("/properties/log", "properties.log")] {
        match record.pointer(pointer) {
            Some(Value::String(s)) => {
                if let Some(inner) = json_object(s) {
                    return Some(vec![(path.to_string(), inner)]);
                }
            }
            Some(inner @ Value::Object(_)) => return Some(vec![(path.to_string(), inner.clone())]),
            _ => {}
        }
    }
    match record.get("data") {
        Some(Value::Array(items)) if !items.is_empty() => return Some(each("data", items)),
        Some(inner @ Value::Object(_)) => return Some(vec![("data".into(), inner.clone())]),
        _ => {}
    }
    if object.len() == 1 {
        let (key, value) = object.iter().next()?;
        if let Value::Array(items) = value {
            if !items.is_empty() && items.iter().all(Value::is_object) {
                return Some(each(key, items));
            }
        }
    }
    None
}

fn each(path: &str, items: &[Value]) -> Vec<(String, Value)> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| (format!("{path}[{i}]"), item.clone()))
        .collect()
}

/// Text that holds a JSON object, parsed.
fn json_object(text: &str) -> Option<Value> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') {
        return None;
    }
    serde_json::from_str::<Value>(trimmed)
        .ok()
        .filter(Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_shippers_field_is_opened() {
        let event = json!({"eventVersion": "1.08", "eventSource": "s3.amazonaws.com"});
        let text = event.to_string();
        for (wrapper, path) in [
            (json!({"_raw": text, "_time": 1, "source": "x"}), "_raw"),
            (
                json!({"event": {"original": text, "kind": "event"}}),
                "event.original",
            ),
            (
                json!({"message": text, "ddsource": "cloudtrail"}),
                "message",
            ),
            (json!({"log": text, "stream": "stdout"}), "log"),
            (
                json!({"category": "kube-audit", "properties": {"log": event.clone()}}),
                "properties.log",
            ),
            (
                json!({"stream": "logs", "data": event.clone(), "emitted_at": 1}),
                "data",
            ),
        ] {
            let found = open(&wrapper).unwrap_or_else(|| panic!("{wrapper}"));
            assert_eq!(found, vec![(path.to_string(), event.clone())], "{wrapper}");
        }
    }

    #[test]
    fn lists_are_opened_element_by_element() {
        let event = json!({"eventVersion": "1.08"});
        let subscription = json!({"messageType": "DATA_MESSAGE", "logGroup": "g", "logEvents": [
            {"id": "1", "timestamp": 1, "message": event.to_string()},
            {"id": "2", "timestamp": 2, "message": "START RequestId: abc"},
            {"id": "3", "timestamp": 3, "message": event.to_string()},
        ]});
        let found = open(&subscription).unwrap();
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["logEvents[0].message", "logEvents[2].message"]);
        let page = json!({"expected": [event.clone(), event.clone()]});
        assert_eq!(open(&page).unwrap().len(), 2);
        let search = json!({"took": 3, "hits": {"hits": [{"_source": event.clone()}]}});
        assert_eq!(open(&search).unwrap()[0].0, "hits.hits[0]");
    }

    #[test]
    fn text_that_is_not_a_json_object_is_left_alone() {
        assert!(open(&json!({"message": "Accepted publickey for root"})).is_none());
        assert!(open(&json!({"_raw": "[1, 2]"})).is_none());
        assert!(open(&json!({"only": [1, 2]})).is_none());
        assert!(open(&json!("text")).is_none());
    }
}
