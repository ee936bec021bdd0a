//! Metaschema data types, for `matches` constraints that name a `datatype`.
//! Each follows the pattern or grammar Metaschema's own JSON schema gives.

use std::sync::OnceLock;

use regex::Regex;

const KNOWN: &[&str] = &[
    "string",
    "token",
    "integer",
    "non-negative-integer",
    "positive-integer",
    "decimal",
    "boolean",
    "date",
    "date-with-timezone",
    "date-time",
    "date-time-with-timezone",
    "uuid",
    "uri",
    "uri-reference",
    "ip-v4-address",
    "ip-v6-address",
    "email-address",
    "hostname",
    "base64",
];

pub fn is_known(datatype: &str) -> bool {
    KNOWN.contains(&datatype)
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("built-in datatype pattern"))
}

/// Whether `value` is a valid lexical form of `datatype`.
pub fn is_valid(datatype: &str, value: &str) -> bool {
    static TOKEN: OnceLock<Regex> = OnceLock::new();
    static DATE: OnceLock<Regex> = OnceLock::new();
    static DATE_TZ: OnceLock<Regex> = OnceLock::new();
    static DATE_TIME: OnceLock<Regex> = OnceLock::new();
    static DATE_TIME_TZ: OnceLock<Regex> = OnceLock::new();
    static UUID: OnceLock<Regex> = OnceLock::new();
    static URI: OnceLock<Regex> = OnceLock::new();
    static EMAIL: OnceLock<Regex> = OnceLock::new();
    static BASE64: OnceLock<Regex> = OnceLock::new();
    match datatype {
        "string" => !value.trim().is_empty(),
        "token" => re(&TOKEN, r"^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$").is_match(value),
        "integer" => value.parse::<i64>().is_ok(),
        "non-negative-integer" => value.parse::<u64>().is_ok(),
        "positive-integer" => value.parse::<u64>().is_ok_and(|n| n > 0),
        "decimal" => {
            !value.is_empty()
                && value.parse::<f64>().is_ok()
                && !value.contains(['e', 'E'])
                && value.chars().all(|c| c.is_ascii_digit() || "+-.".contains(c))
        }
        "boolean" => matches!(value, "true" | "false" | "1" | "0"),
        "date" => {
            re(&DATE, r"^\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?$").is_match(value)
                && valid_calendar_date(value)
        }
        "date-with-timezone" => {
            re(&DATE_TZ, r"^\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})$").is_match(value)
                && valid_calendar_date(value)
        }
        "date-time" => {
            re(
                &DATE_TIME,
                r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$",
            )
            .is_match(value)
                && valid_calendar_date(value)
        }
        "date-time-with-timezone" => {
            re(
                &DATE_TIME_TZ,
                r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
            )
            .is_match(value)
                && valid_calendar_date(value)
        }
        "uuid" => re(
            &UUID,
            r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[45][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$",
        )
        .is_match(value),
        "uri" => {
            re(&URI, r"^[a-zA-Z][a-zA-Z0-9+\-.]+:.*\S$").is_match(value) && url::Url::parse(value).is_ok()
        }
        "uri-reference" => {
            !value.chars().any(char::is_whitespace)
                && url::Url::parse("http://base.invalid/")
                    .and_then(|base| base.join(value))
                    .is_ok()
        }
        "ip-v4-address" => value.parse::<std::net::Ipv4Addr>().is_ok(),
        "ip-v6-address" => value.parse::<std::net::Ipv6Addr>().is_ok(),
        "email-address" => re(&EMAIL, r"^.+@.+$").is_match(value),
        "hostname" => {
            !value.is_empty() && !value.chars().any(char::is_whitespace) && value.len() <= 253
        }
        "base64" => re(&BASE64, r"^[0-9A-Za-z+/]+={0,2}$").is_match(value),
        _ => false,
    }
}

fn valid_calendar_date(value: &str) -> bool {
    value
        .get(..10)
        .is_some_and(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_forms() {
        assert!(is_valid("date", "2026-02-28"));
        assert!(!is_valid("date", "2026-02-30"));
        assert!(is_valid("date-time-with-timezone", "2026-11-03T06:00:00Z"));
        assert!(!is_valid("date-time-with-timezone", "2026-11-03T06:00:00"));
        assert!(is_valid("uuid", "8a1a5b6b-3f8c-4a52-9a6e-0a1f7b0c2d3e"));
        assert!(!is_valid("uuid", "not-a-uuid"));
        assert!(is_valid("uri", "https://example.com/x"));
        assert!(!is_valid("uri", "#frag"));
        assert!(is_valid("uri-reference", "#frag"));
        assert!(is_valid("ip-v4-address", "10.0.0.1"));
        assert!(!is_valid("ip-v4-address", "10.0.0.256"));
        assert!(is_valid("ip-v6-address", "::1"));
        assert!(is_valid("integer", "-3"));
        assert!(!is_valid("integer", "3.5"));
    }
}
