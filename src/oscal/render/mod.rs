//! One renderer per output format of `proofpack validate`.

pub mod json;
pub mod sarif;
pub mod text;

use super::diagnostic::{FileReport, FileStatus};
use serde::Serialize;

/// Totals over a validation run.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub files: usize,
    pub valid: usize,
    pub invalid: usize,
    pub skipped: usize,
    /// Files that could not be validated (unreadable, no schema).
    pub failed: usize,
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    pub fn of(reports: &[FileReport]) -> Self {
        let mut s = Summary {
            files: reports.len(),
            ..Summary::default()
        };
        for r in reports {
            match r.status {
                FileStatus::Valid => s.valid += 1,
                FileStatus::Invalid => s.invalid += 1,
                FileStatus::Skipped => s.skipped += 1,
                FileStatus::Error => s.failed += 1,
            }
            s.errors += r.errors();
            s.warnings += r.warnings();
        }
        s
    }
}
