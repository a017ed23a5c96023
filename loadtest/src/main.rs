//! `vouch-loadtest`: the load generator that proves Vouch's numbers.
//!
//! It reproduces the trials of Veraison's Locust study on AWS (user ramps
//! over the well-known, provision and verify tasks; one against three
//! instances behind a balancer; store weight; scale-out) and the
//! edge-fleet scale method (provision, call home and re-attest fleets of
//! 100 to 100,000 attesters), measures the crypto-only ceiling in the same
//! run, and writes JSON reports and PNG plots. See `docs/performance.md`.

mod ceiling;
mod cli;
mod client;
mod commands;
mod devices;
mod fleet;
mod plot;
mod report;
mod run;
mod scaleout;
mod stats;
mod system;
mod tasks;
mod topology;
mod weight;

use clap::Parser as _;

fn main() {
    let cli = cli::Cli::parse();
    match cli::main(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("vouch-loadtest: {e:#}");
            std::process::exit(2);
        }
    }
}
