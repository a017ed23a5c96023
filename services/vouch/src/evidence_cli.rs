//! `vouch evidence inspect`: decodes a token and prints its claims, as
//! `evcli … print` does, so a supply-chain engineer can see what a device
//! sent without a verifier.
//!
//! Decoding checks structure only: no key is at hand, so signatures are
//! not verified (`vouch verify` does that against a server). The claims are
//! printed in the JSON form Veraison's EARs carry as annotated evidence.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

/// The token formats `vouch evidence inspect` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenFormat {
    /// Try each format in turn.
    Auto,
    /// A PSA token (`application/psa-attestation-token`).
    Psa,
    /// An Arm CCA token (`application/eat-collection; profile=…cca…`).
    Cca,
}

/// `vouch evidence`.
#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Decode a token (a file, or `-` for stdin) and print its claims. The
    /// signatures are not checked: `vouch verify` does that.
    #[command(after_help = "Examples:\n  \
        vouch evidence inspect demo/token.cbor\n  \
        vouch evidence inspect --format cca --json - < cca-token.cbor")]
    Inspect {
        /// The token: a file, or `-` for stdin.
        file: PathBuf,
        /// The token's format.
        #[arg(long, value_enum, default_value = "auto")]
        format: TokenFormat,
        /// Print one JSON document (`{"format": …, "claims": …}`).
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `vouch evidence` subcommand.
pub fn evidence(command: EvidenceCommand) -> anyhow::Result<()> {
    match command {
        EvidenceCommand::Inspect { file, format, json } => {
            let bytes = crate::client_cli::read(&file)?;
            let (format, claims) = decode(&bytes, format)?;
            let doc = json!({ "format": format, "claims": claims });
            let text = if json {
                doc.to_string()
            } else {
                format!(
                    "format: {format}\nsignature: not checked\nclaims:\n{}",
                    serde_json::to_string_pretty(&claims)?
                )
            };
            crate::client_cli::out(&text);
            Ok(())
        }
    }
}

/// The token's format name and claims.
fn decode(bytes: &[u8], format: TokenFormat) -> anyhow::Result<(&'static str, Value)> {
    let cca = || {
        vouch_cca_token::CcaToken::decode(bytes).map(|t| {
            json!({
                vouch_cca_token::PLATFORM_TOKEN_MEMBER: t.platform_claims().annotated_evidence(),
                vouch_cca_token::REALM_TOKEN_MEMBER: t.realm_claims().annotated_evidence(),
            })
        })
    };
    let psa = || vouch_psa_token::Token::decode(bytes).map(|t| t.claims().annotated_evidence());
    match format {
        TokenFormat::Psa => Ok((
            "psa",
            psa().map_err(|e| anyhow::anyhow!("not a PSA token: {e}"))?,
        )),
        TokenFormat::Cca => Ok((
            "cca",
            cca().map_err(|e| anyhow::anyhow!("not a CCA token: {e}"))?,
        )),
        // CCA first: a CCA collection is never a COSE_Sign1, and a PSA
        // token is never a collection, so the order only picks the error.
        TokenFormat::Auto => match (cca(), psa()) {
            (Ok(claims), _) => Ok(("cca", claims)),
            (_, Ok(claims)) => Ok(("psa", claims)),
            (Err(cca), Err(psa)) => {
                bail!("not a token this version reads: as PSA: {psa}; as CCA: {cca}")
            }
        },
    }
}
