//! Checks: the evidence model turned into verdicts.
//!
//! The catalogue (`mappings/checks.toml`, built in; more in a mappings
//! directory) names each check, its parameters and its mappings to the
//! frameworks (`mappings/frameworks/`). Each check is bound to one function
//! in [`rules`] that reads the evidence tables of an ingest folder and
//! returns an [`outcome::Outcome`]: a status that never passes silently
//! (`not-applicable` and `not-evaluated` say why), metrics, the failing
//! subjects with their evidence rows, and the subjects a waiver covers.

pub mod aggregate;
pub mod catalogue;
pub mod config;
pub mod coverage;
pub mod embedded;
pub mod evidence;
pub mod frameworks;
pub mod outcome;
pub mod remediation;
pub mod render;
pub mod rules;
pub mod run;
pub mod waiver;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CheckError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: {reason}")]
    Invalid { file: String, reason: String },
    #[error("{dir}: {reason}")]
    Evidence { dir: String, reason: String },
    #[error(transparent)]
    Polars(#[from] polars::prelude::PolarsError),
}

impl CheckError {
    /// A TOML error with the line and column of its span.
    pub fn toml(file: &str, text: &str, e: &toml::de::Error) -> Self {
        let (line, column) = e
            .span()
            .map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                (line, column)
            })
            .unwrap_or((0, 0));
        CheckError::Syntax {
            file: file.to_string(),
            line,
            column,
            message: e.message().to_string(),
        }
    }
}
