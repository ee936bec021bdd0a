//! Subcommands whose argument handling is more than a few lines, one file
//! each, so `main.rs` stays a dispatcher.

pub mod checks;
pub mod diff;
pub mod generate;
pub mod history;
pub mod ui;
