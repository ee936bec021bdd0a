//! The rows a finding may cite, kept as a capped list with the total: the
//! first rows by position in the access-event table, so that merging two
//! partitions' lists (in any grouping) keeps the same rows as reading the
//! whole table at once.

use serde::{Deserialize, Serialize};

use crate::checks::outcome::MAX_ROWS_PER_SUBJECT;

/// How many rows a list keeps; a finding cites at most this many.
pub const KEPT: usize = MAX_ROWS_PER_SUBJECT;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rows {
    /// Every row counted.
    pub total: u64,
    /// The lowest rows, ascending, at most [`KEPT`].
    pub first: Vec<u64>,
}

impl Rows {
    /// Counts `row`. Rows arrive in ascending order within one partition,
    /// so the first [`KEPT`] are the lowest.
    pub fn push(&mut self, row: u64) {
        self.total += 1;
        if self.first.len() < KEPT {
            debug_assert!(self.first.last().is_none_or(|&last| last < row));
            self.first.push(row);
        }
    }

    /// Adds another partition's rows (the two never share a row).
    pub fn merge(&mut self, other: Rows) {
        self.total += other.total;
        if other.first.is_empty() {
            return;
        }
        if self.first.last().is_some_and(|&last| last < other.first[0]) {
            // The usual case: partitions in table order.
            let room = KEPT.saturating_sub(self.first.len());
            self.first.extend(other.first.into_iter().take(room));
            return;
        }
        let mut all = std::mem::take(&mut self.first);
        all.extend(other.first);
        all.sort_unstable();
        all.dedup();
        all.truncate(KEPT);
        self.first = all;
    }

    /// The lowest row counted.
    pub fn lowest(&self) -> Option<u64> {
        self.first.first().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// Several lists as one (the rows of each subject's several groups).
pub fn union<'a>(lists: impl IntoIterator<Item = &'a Rows>) -> Rows {
    let mut out = Rows::default();
    for list in lists {
        out.merge(list.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(rows: impl IntoIterator<Item = u64>) -> Rows {
        let mut r = Rows::default();
        for row in rows {
            r.push(row);
        }
        r
    }

    #[test]
    fn merging_in_any_order_keeps_the_lowest_rows_and_every_count() {
        let whole = of(0..200);
        let (a, b, c) = (of(0..70), of(70..120), of(120..200));
        for parts in [
            vec![a.clone(), b.clone(), c.clone()],
            vec![c.clone(), a.clone(), b.clone()],
            vec![b.clone(), c.clone(), a.clone()],
        ] {
            let mut merged = Rows::default();
            for p in parts {
                merged.merge(p);
            }
            assert_eq!(merged, whole);
        }
        assert_eq!(whole.first.len(), KEPT);
        assert_eq!(whole.total, 200);
    }
}
