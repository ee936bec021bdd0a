//! OSCAL: the official NIST schemas (pinned), and validation of any OSCAL
//! JSON document against them plus the reference checks a schema cannot make.

pub mod constraints;
pub mod diagnostic;
pub mod fetch;
pub mod input;
pub mod locate;
pub mod messages;
pub mod model;
pub mod references;
pub mod render;
pub mod schema_lock;
pub mod schema_store;
pub mod validate;
