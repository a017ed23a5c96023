//! The `vouch` binary's library half: configuration, the assembly of the
//! services a process runs, and their lifecycle. `main.rs` only parses the
//! command line and calls in here, so tests start the real thing in-process.

pub mod app;
pub mod cli;
pub mod client_cli;
pub mod corim_cli;
pub mod evidence_cli;
pub mod settings;
pub mod signers;
pub mod testkit_cli;
