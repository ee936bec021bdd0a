//! proofpack: FedRAMP 20x evidence packages for non-human identities.
//!
//! The library holds every stage; `main.rs` only parses the command line.
//! Stages run in one direction (see DESIGN.md): ingest → model → checks → emit.
//! This first cut carries the OSCAL side: pinned official schemas and a
//! validator that reports every problem with its file, line, column and pointer.

pub mod attest;
pub mod checks;
pub mod config;
pub mod diff;
pub mod exit;
pub mod fedramp;
pub mod generate;
pub mod hash;
pub mod history;
pub mod http;
pub mod ingest;
pub mod json;
pub mod model;
pub mod oscal;
pub mod progress;
pub mod query;
pub mod secrets;
pub mod size;
pub mod summary;
pub mod time;
pub mod yaml;
