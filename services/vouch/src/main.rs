//! `vouch`: runs any set of Vouch services. See `vouch --help`.

use clap::Parser as _;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = vouch::cli::Cli::parse();
    match vouch::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vouch: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
