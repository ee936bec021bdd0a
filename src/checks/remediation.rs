//! FedRAMP's remediation timeframes (CR26 rule VDR-TFR-PVR): how long a
//! provider of each certification class has, from evaluation, to mitigate or
//! remediate a vulnerability, by its Potential Agency Impact N-rating
//! (VER-EVA-EPA) and its exposure. Built in from
//! `mappings/fedramp-20x-remediation.toml`; FedRAMP's own rules JSON in a
//! mappings folder replaces the table, as it replaces the KSIs.

use chrono::{DateTime, Datelike, Duration, Months, Utc, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::CheckError;
use crate::fedramp::Class;

const BUILT_IN: &str = include_str!("../../mappings/fedramp-20x-remediation.toml");

/// Whether a weakness is reachable from the internet and likely exploitable,
/// in FedRAMP's own keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
pub enum Exposure {
    /// Internet-reachable and likely exploitable.
    #[serde(rename = "irv_lev")]
    InternetReachable,
    /// Not internet-reachable, likely exploitable.
    #[serde(rename = "nirv_lev")]
    NotInternetReachable,
    /// Not likely exploitable.
    #[serde(rename = "nlev")]
    NotLikelyExploitable,
}

impl Exposure {
    pub const ALL: [Exposure; 3] = [
        Exposure::InternetReachable,
        Exposure::NotInternetReachable,
        Exposure::NotLikelyExploitable,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Exposure::InternetReachable => "irv_lev",
            Exposure::NotInternetReachable => "nirv_lev",
            Exposure::NotLikelyExploitable => "nlev",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Exposure::InternetReachable => "internet-reachable and likely exploitable",
            Exposure::NotInternetReachable => "not internet-reachable, likely exploitable",
            Exposure::NotLikelyExploitable => "not likely exploitable",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Hours,
    Days,
    /// Business days: Monday to Friday (FedRAMP's `bizdays`).
    Bizdays,
    Weeks,
    Months,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timeframe {
    pub num: u32,
    pub unit: Unit,
}

impl Timeframe {
    /// The moment the timeframe ends when it starts at `start`.
    pub fn after(self, start: DateTime<Utc>) -> DateTime<Utc> {
        let n = i64::from(self.num);
        match self.unit {
            Unit::Hours => start + Duration::hours(n),
            Unit::Days => start + Duration::days(n),
            Unit::Weeks => start + Duration::weeks(n),
            // Past the end of the calendar chrono cannot represent: saturate.
            Unit::Months => start
                .checked_add_months(Months::new(self.num))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            Unit::Bizdays => {
                let mut at = start;
                let mut left = self.num;
                while left > 0 {
                    at += Duration::days(1);
                    if !matches!(at.weekday(), Weekday::Sat | Weekday::Sun) {
                        left -= 1;
                    }
                }
                at
            }
        }
    }

    pub fn describe(self) -> String {
        let unit = match self.unit {
            Unit::Hours => "hour",
            Unit::Days => "day",
            Unit::Bizdays => "business day",
            Unit::Weeks => "week",
            Unit::Months => "month",
        };
        format!(
            "{} {unit}{}",
            self.num,
            if self.num == 1 { "" } else { "s" }
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    class: Class,
    pain: u8,
    exposure: Exposure,
    num: u32,
    unit: Unit,
}

/// The timeframe table and where it came from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemediationRules {
    /// The rule every timeframe comes from (`VDR-TFR-PVR`).
    pub rule: String,
    pub name: String,
    /// The rule for what has no timeframe (N1): routine operations.
    pub remaining_rule: String,
    pub version: String,
    pub source: String,
    #[serde(rename = "timeframe")]
    entries: Vec<Entry>,
}

impl RemediationRules {
    pub fn built_in() -> Result<Self, CheckError> {
        parse_toml(BUILT_IN, "built-in fedramp-20x-remediation.toml")
    }

    /// FedRAMP's timeframe for a class, N-rating (1-5) and exposure; `None`
    /// where FedRAMP sets none (N1, or a rating outside 1-5).
    pub fn timeframe(&self, class: Class, pain: u8, exposure: Exposure) -> Option<Timeframe> {
        self.entries
            .iter()
            .find(|e| e.class == class && e.pain == pain && e.exposure == exposure)
            .map(|e| Timeframe {
                num: e.num,
                unit: e.unit,
            })
    }

    /// Every (class, N-rating, exposure, timeframe), for tests and reports.
    pub fn table(&self) -> Vec<(Class, u8, Exposure, Timeframe)> {
        self.entries
            .iter()
            .map(|e| {
                (
                    e.class,
                    e.pain,
                    e.exposure,
                    Timeframe {
                        num: e.num,
                        unit: e.unit,
                    },
                )
            })
            .collect()
    }
}

pub fn parse_toml(text: &str, name: &str) -> Result<RemediationRules, CheckError> {
    let rules: RemediationRules =
        toml::from_str(text).map_err(|e| CheckError::toml(name, text, &e))?;
    let mut seen = std::collections::BTreeSet::new();
    for e in &rules.entries {
        if !(1..=5).contains(&e.pain) {
            return Err(CheckError::Invalid {
                file: name.to_string(),
                reason: format!("pain {} is not an N-rating (1 to 5)", e.pain),
            });
        }
        if !seen.insert((e.class as u8, e.pain, e.exposure)) {
            return Err(CheckError::Invalid {
                file: name.to_string(),
                reason: format!(
                    "class {:?}, N{}, {} is listed twice",
                    e.class,
                    e.pain,
                    e.exposure.key()
                ),
            });
        }
    }
    Ok(rules)
}

/// The VDR-TFR-PVR table of FedRAMP's rules JSON, or `None` when the file
/// has no such rule (an FRMR file of KSIs only).
pub fn from_fedramp_json(doc: &Value, name: &str) -> Result<Option<RemediationRules>, CheckError> {
    const RULE: &str = "VDR-TFR-PVR";
    let Some(rule) = doc.pointer(&format!("/FRR/VDR/data/all/TFR/{RULE}")) else {
        return Ok(None);
    };
    let invalid = |reason: String| CheckError::Invalid {
        file: name.to_string(),
        reason: format!("{RULE}: {reason}"),
    };
    let classes = rule
        .get("varies_by_class")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("no `varies_by_class` object".into()))?;
    let mut entries = Vec::new();
    for (class_key, by_class) in classes {
        let class = match class_key.to_ascii_uppercase().as_str() {
            "A" => Class::A,
            "B" => Class::B,
            "C" => Class::C,
            "D" => Class::D,
            other => return Err(invalid(format!("unknown class `{other}`"))),
        };
        let ratings = by_class
            .get("pain_timeframes")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid(format!("class {class_key}: no `pain_timeframes`")))?;
        for (pain_key, timeframes) in ratings {
            let pain: u8 = pain_key
                .parse()
                .map_err(|_| invalid(format!("N-rating `{pain_key}` is not a number")))?;
            for exposure in Exposure::ALL {
                let Some(t) = timeframes.get(exposure.key()) else {
                    continue;
                };
                let num = t
                    .get("timeframe_num")
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        invalid(format!(
                            "class {class_key} N{pain} {}: no `timeframe_num`",
                            exposure.key()
                        ))
                    })?;
                let unit_text = t
                    .get("timeframe_type")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let unit: Unit =
                    serde_json::from_value(Value::String(unit_text.into())).map_err(|_| {
                        invalid(format!(
                            "class {class_key} N{pain} {}: unknown timeframe_type `{unit_text}`",
                            exposure.key()
                        ))
                    })?;
                entries.push(Entry {
                    class,
                    pain,
                    exposure,
                    num,
                    unit,
                });
            }
        }
    }
    let version = doc
        .pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    Ok(Some(RemediationRules {
        rule: RULE.into(),
        name: rule
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(RULE)
            .to_string(),
        remaining_rule: "VDR-TFR-RMN".into(),
        version: format!("CR26 {version}"),
        source: name.to_string(),
        entries,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn built_in_table_has_every_class_rating_and_exposure_but_n1() {
        let r = RemediationRules::built_in().unwrap();
        assert_eq!(r.table().len(), 4 * 4 * 3);
        assert_eq!(
            r.timeframe(Class::B, 4, Exposure::InternetReachable),
            Some(Timeframe {
                num: 8,
                unit: Unit::Days
            })
        );
        assert_eq!(
            r.timeframe(Class::D, 5, Exposure::InternetReachable),
            Some(Timeframe {
                num: 12,
                unit: Unit::Hours
            })
        );
        assert_eq!(r.timeframe(Class::C, 1, Exposure::InternetReachable), None);
    }

    #[test]
    fn timeframes_end_where_the_calendar_says() {
        let t = |num, unit| Timeframe { num, unit };
        // 2026-11-06 is a Friday: 1 business day later is Monday.
        assert_eq!(t(1, Unit::Bizdays).after(at(2026, 11, 6)), at(2026, 11, 9));
        assert_eq!(t(5, Unit::Bizdays).after(at(2026, 11, 6)), at(2026, 11, 13));
        assert_eq!(t(1, Unit::Months).after(at(2026, 1, 31)), at(2026, 2, 28));
        assert_eq!(t(2, Unit::Weeks).after(at(2026, 12, 25)), at(2027, 1, 8));
        assert_eq!(
            t(12, Unit::Hours).after(at(2026, 11, 3)),
            Utc.with_ymd_and_hms(2026, 11, 3, 12, 0, 0).unwrap()
        );
        assert_eq!(t(1, Unit::Days).describe(), "1 day");
        assert_eq!(t(3, Unit::Bizdays).describe(), "3 business days");
    }

    #[test]
    fn fedramp_json_table_is_read_and_bad_units_are_named() {
        let json: Value = serde_json::from_str(
            r#"{"info": {"version": "2027.01.01"}, "FRR": {"VDR": {"data": {"all": {"TFR": {"VDR-TFR-PVR": {
                "name": "Mitigation", "varies_by_class": {"b": {"pain_timeframes": {"1": {},
                "5": {"irv_lev": {"timeframe_type": "days", "timeframe_num": 2}}}}}}}}}}}}"#,
        )
        .unwrap();
        let r = from_fedramp_json(&json, "next.json").unwrap().unwrap();
        assert_eq!(r.version, "CR26 2027.01.01");
        assert_eq!(r.table().len(), 1);
        assert_eq!(
            r.timeframe(Class::B, 5, Exposure::InternetReachable)
                .unwrap()
                .num,
            2
        );
        let bad = json.to_string().replace("\"days\"", "\"fortnights\"");
        let e = from_fedramp_json(&serde_json::from_str(&bad).unwrap(), "next.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("next.json") && e.contains("fortnights"), "{e}");
        assert!(from_fedramp_json(&json!({"KSI": {}}), "ksi.json")
            .unwrap()
            .is_none());
    }

    use serde_json::json;

    #[test]
    fn duplicate_and_out_of_range_entries_are_refused() {
        let one = "rule = \"R\"\nname = \"n\"\nremaining_rule = \"M\"\nversion = \"v\"\nsource = \"s\"\n[[timeframe]]\nclass = \"A\"\npain = 2\nexposure = \"nlev\"\nnum = 1\nunit = \"days\"\n";
        assert!(parse_toml(one, "t.toml").is_ok());
        let twice = format!("{one}{}", &one[one.find("[[timeframe]]").unwrap()..]);
        assert!(parse_toml(&twice, "t.toml")
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let six = one.replace("pain = 2", "pain = 6");
        assert!(parse_toml(&six, "t.toml")
            .unwrap_err()
            .to_string()
            .contains("N-rating"));
    }
}
