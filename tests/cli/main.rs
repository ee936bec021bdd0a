//! End-to-end tests: the real `proofpack` binary on NIST's and FedRAMP's
//! published documents (from `../shared`, beside the checkout) and on
//! documents mutated from them.

mod agents;
mod checks;
mod docs;
mod embedded;
mod engines;
mod frameworks;
mod generate;
mod hostile;
mod identity_sources;
mod incremental;
mod ingest;
mod kubernetes;
mod mutations;
mod schemas;
mod secrets;
mod security_lake;
mod signing;
mod sql;
mod store;
mod store_emulators;
mod util;
mod validate;
