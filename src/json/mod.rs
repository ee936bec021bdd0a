//! A compact, read-only JSON document for validating large inputs.
//!
//! `serde_json::Value` costs 6 to 9 times the size of the text it came from
//! (a heap allocation per key and string, a B-tree node per object). The
//! [`Tape`] keeps the text and one 16-byte entry per value, borrowing every
//! unescaped string from the text, so an 80 MB OSCAL document validates in
//! about twice its size. `schema_node` lets the `jsonschema` crate validate a
//! tape directly.

pub mod access;
pub mod schema_node;
pub mod tape;

pub use access::JsonRef;
pub use tape::{Tape, TapeNode};
