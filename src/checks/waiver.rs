//! A waiver: a failing subject of one check accepted, by whom, why and
//! until when. Its own module so that outcomes (which record waived
//! subjects) and the configuration (which reads waivers) both depend on it
//! and not on each other.

use chrono::NaiveDate;
use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize, Serializer};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub check: String,
    /// An identity, credential or other subject id; `*` matches any run of
    /// characters.
    pub subject: String,
    pub justification: String,
    pub approver: String,
    #[serde(deserialize_with = "date", serialize_with = "iso_date")]
    pub expires: NaiveDate,
    #[serde(skip)]
    matcher: Option<GlobMatcher>,
}

impl PartialEq for Waiver {
    fn eq(&self, other: &Self) -> bool {
        (
            &self.check,
            &self.subject,
            &self.justification,
            &self.approver,
            self.expires,
        ) == (
            &other.check,
            &other.subject,
            &other.justification,
            &other.approver,
            other.expires,
        )
    }
}

fn date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    // A TOML local date (`2027-03-31`) or a string holding one.
    let value = toml::Value::deserialize(d)?;
    let text = match &value {
        toml::Value::Datetime(dt) => dt.to_string(),
        toml::Value::String(s) => s.clone(),
        other => {
            return Err(serde::de::Error::custom(format!(
                "expires must be a date (2027-03-31), not {other}"
            )))
        }
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
        serde::de::Error::custom(format!("expires {text:?} is not a date like 2027-03-31"))
    })
}

fn iso_date<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.format("%Y-%m-%d").to_string())
}

impl Waiver {
    /// Compiles a `*` pattern; a plain subject matches itself only.
    pub(crate) fn compile(&mut self) -> Result<(), String> {
        if self.subject.contains('*') {
            let glob = Glob::new(&self.subject).map_err(|e| e.to_string())?;
            self.matcher = Some(glob.compile_matcher());
        }
        Ok(())
    }

    pub fn covers(&self, subject: &str) -> bool {
        match &self.matcher {
            Some(m) => m.is_match(subject),
            None => self.subject == subject,
        }
    }

    /// In force on `day` (the expiry day itself still counts).
    pub fn in_force(&self, day: NaiveDate) -> bool {
        day <= self.expires
    }
}
