//! FedRAMP terms more than one layer uses: the config states them, the
//! checks and the package generator act on them.

use serde::{Deserialize, Serialize};

/// FedRAMP 20x certification class (CR26).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum Class {
    A,
    B,
    C,
    D,
}
