//! The checks part of `proofpack.toml`: threshold overrides and waivers.
//!
//! ```toml
//! [checks.static-credential-rotation]
//! max_age_days = 60
//!
//! [[waivers]]
//! check = "least-privilege-grants"
//! subject = "system:serviceaccount:monitoring:prometheus-operator"  # `*` wildcards allowed
//! justification = "operator manages its own CRDs; reviewed in CHG-1234"
//! approver = "ciso@example.com"
//! expires = 2027-03-31
//! ```
//!
//! Unknown keys, unknown checks and parameters, and values of the wrong type
//! are errors naming the file, line and key. A waiver past its `expires`
//! date is not honoured, and is reported.

use std::collections::BTreeMap;

use super::catalogue::Catalogue;
use super::waiver::Waiver;
use super::CheckError;

#[derive(Debug, Clone, Default)]
pub struct ChecksConfig {
    /// Parameter overrides by check id.
    pub checks: BTreeMap<String, BTreeMap<String, toml::Value>>,
    pub waivers: Vec<Waiver>,
    /// Embedded identities and the compensating controls they rely on.
    pub embedded: Vec<super::embedded::Declaration>,
}

impl ChecksConfig {
    /// Checks overrides and waivers against the catalogue; `text` locates
    /// the offending line.
    pub fn validate(
        &mut self,
        text: &str,
        name: &str,
        catalogue: &Catalogue,
    ) -> Result<(), CheckError> {
        let config = self;
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.contains(needle))
                .map_or(0, |i| i + 1)
        };
        let invalid = |needle: &str, reason: String| CheckError::Syntax {
            file: name.to_string(),
            line: line_of(needle),
            column: 1,
            message: reason,
        };
        for (check_id, params) in &config.checks {
            let check = catalogue.get(check_id).ok_or_else(|| {
                invalid(
                    &format!("[checks.{check_id}]"),
                    format!("[checks.{check_id}]: no such check (see `proofpack checks list`)"),
                )
            })?;
            for (key, value) in params {
                let param = check.parameters.get(key).ok_or_else(|| {
                    let known: Vec<&str> = check.parameters.keys().map(String::as_str).collect();
                    invalid(
                        key,
                        format!(
                            "checks.{check_id}.{key}: no such parameter (known: {})",
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    )
                })?;
                let numeric = |v: &toml::Value| v.is_integer() || v.is_float();
                let same_type = (numeric(&param.default) && numeric(value))
                    || (param.default.is_array()
                        && value
                            .as_array()
                            .is_some_and(|a| a.iter().all(toml::Value::is_str)));
                if !same_type {
                    return Err(invalid(
                        key,
                        format!(
                            "checks.{check_id}.{key} is {value}; it must be of type {} (like {})",
                            param.default.type_str(),
                            param.default
                        ),
                    ));
                }
                if numeric(value)
                    && value
                        .as_float()
                        .or(value.as_integer().map(|i| i as f64))
                        .is_some_and(|v| v < 0.0)
                {
                    return Err(invalid(
                        key,
                        format!("checks.{check_id}.{key} cannot be negative"),
                    ));
                }
            }
        }
        for (i, waiver) in config.waivers.iter_mut().enumerate() {
            let at = |field: &str| format!("waivers[{i}].{field}");
            if catalogue.get(&waiver.check).is_none() {
                return Err(invalid(
                    &waiver.check,
                    format!("{}: no such check {:?}", at("check"), waiver.check),
                ));
            }
            for (field, value) in [
                ("subject", &waiver.subject),
                ("justification", &waiver.justification),
                ("approver", &waiver.approver),
            ] {
                if value.trim().is_empty() {
                    return Err(invalid("[[waivers]]", format!("{} is empty", at(field))));
                }
            }
            waiver
                .compile()
                .map_err(|e| invalid(&waiver.subject, format!("{}: {e}", at("subject"))))?;
        }
        for declaration in &config.embedded {
            declaration.check().map_err(|reason| {
                invalid(
                    &declaration.subject,
                    format!("[[embedded]] {:?}: {reason}", declaration.subject),
                )
            })?;
        }
        Ok(())
    }

    /// The parameters of a check: defaults, then overrides.
    pub fn params(&self, check: &super::catalogue::Check) -> BTreeMap<String, toml::Value> {
        let mut params: BTreeMap<String, toml::Value> = check
            .parameters
            .iter()
            .map(|(k, p)| (k.clone(), p.default.clone()))
            .collect();
        if let Some(overrides) = self.checks.get(&check.id) {
            params.extend(overrides.clone());
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn parse(text: &str) -> Result<ChecksConfig, CheckError> {
        crate::config::Config::parse(text, "proofpack.toml", &Catalogue::built_in().unwrap())
            .map(|c| c.validated)
    }

    #[test]
    fn overrides_and_waivers() {
        let c = parse(
            "[checks.static-credential-rotation]\nmax_age_days = 30\n\n[[waivers]]\ncheck = \"least-privilege-grants\"\nsubject = \"system:serviceaccount:monitoring:*\"\njustification = \"reviewed\"\napprover = \"ciso@example.com\"\nexpires = 2027-03-31\n",
        )
        .unwrap();
        let catalogue = Catalogue::built_in().unwrap();
        let params = c.params(catalogue.get("static-credential-rotation").unwrap());
        assert_eq!(params["max_age_days"], toml::Value::Integer(30));
        let w = &c.waivers[0];
        assert!(w.covers("system:serviceaccount:monitoring:prometheus-operator"));
        assert!(!w.covers("system:serviceaccount:default:x"));
        assert!(w.in_force(NaiveDate::from_ymd_opt(2027, 3, 31).unwrap()));
        assert!(!w.in_force(NaiveDate::from_ymd_opt(2027, 4, 1).unwrap()));
    }

    #[test]
    fn mistakes_name_the_key_and_line() {
        let e = parse("[checks.static-credential-rotation]\nmax_age = 30\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("proofpack.toml:2:1:") && e.contains("max_age_days"),
            "{e}"
        );
        let e = parse("[checks.no-such-check]\nx = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("proofpack.toml:1:") && e.contains("no such check"),
            "{e}"
        );
        let e = parse("[checks.static-credential-rotation]\nmax_age_days = \"ninety\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(":2:") && e.contains("must be of type integer"),
            "{e}"
        );
        let e = parse("[[waivers]]\ncheck = \"mesh-mtls\"\nsubject = \"x\"\njustification = \"j\"\napprover = \"a\"\nexpires = \"soon\"\n").unwrap_err().to_string();
        assert!(e.contains("not a date"), "{e}");
        let e = parse("[settings]\nx = 1\n").unwrap_err().to_string();
        assert!(
            e.starts_with("proofpack.toml:1:") && e.contains("settings"),
            "{e}"
        );
    }
}
