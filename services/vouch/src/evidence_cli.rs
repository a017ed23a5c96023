//! `vouch evidence`: `mint` signs evcli's claims JSON into a PSA or CCA
//! token, as `evcli psa create` / `cca create` do, so scripts built on
//! evcli carry over; `inspect` decodes a token and prints its claims, as
//! `evcli … print` does, so a supply-chain engineer can see what a device
//! sent without a verifier.
//!
//! `inspect` checks structure only: no key is at hand, so signatures are
//! not verified (`vouch verify` does that against a server). The claims are
//! printed in the JSON form Veraison's EARs carry as annotated evidence,
//! which is also the form `mint` reads.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};
use vouch_crypto::SigningKey;
use vouch_testkit::psa::{KeySet, NonceClaim, PROFILE_1, PsaClaims, SwComponent};

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

/// `vouch evidence mint`: what evcli's `psa create` and `cca create` do.
#[derive(Debug, Subcommand)]
pub enum MintCommand {
    /// Sign evcli's PSA claims JSON into a PSA token (COSE_Sign1).
    #[command(after_help = "Examples:\n  \
        vouch evidence mint psa --claims psa-claims.json --key ec.p256.jwk --out token.cbor\n  \
        vouch evidence mint psa --claims psa-claims.json --key iak.pem --nonce UqsEIZEX… --out token.cbor")]
    Psa {
        /// The claims, as evcli takes them (`eat-profile` or
        /// `psa-profile`, `psa-instance-id`, … with base64 byte strings).
        #[arg(long)]
        claims: PathBuf,
        /// The attestation key: a JWK or a PEM private key.
        #[arg(long)]
        key: PathBuf,
        /// Put this nonce (base64url or base64, as a session gives it) in
        /// `psa-nonce` instead of the file's.
        #[arg(long)]
        nonce: Option<String>,
        /// Where to write the token.
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign evcli's CCA claims JSON (`cca-platform-token` and
    /// `cca-realm-delegated-token`) into a CCA token (CMW collection). The
    /// realm's public key becomes the RAK's and the platform challenge its
    /// hash, so the token binds as a real one does.
    #[command(after_help = "Examples:\n  \
        vouch evidence mint cca --claims cca-claims.json --iak ec.p256.jwk --rak ec.p384.jwk --out cca.cbor")]
    Cca {
        /// The claims, as evcli takes them.
        #[arg(long)]
        claims: PathBuf,
        /// The platform attestation key (CPAK / IAK): a JWK or a PEM key.
        #[arg(long)]
        iak: PathBuf,
        /// The realm attestation key: a JWK or a PEM key.
        #[arg(long)]
        rak: PathBuf,
        /// Use this nonce (base64url or base64, at most 64 bytes,
        /// zero-padded) as the realm challenge instead of the file's.
        #[arg(long)]
        nonce: Option<String>,
        /// Where to write the token.
        #[arg(long)]
        out: PathBuf,
    },
}

/// `vouch evidence`.
#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Mint a token from claims JSON and a key, as evcli does.
    #[command(subcommand)]
    Mint(MintCommand),
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
        EvidenceCommand::Mint(MintCommand::Psa {
            claims,
            key,
            nonce,
            out,
        }) => {
            let mut claims = psa_claims(&read_json(&claims)?)
                .with_context(|| format!("the PSA claims in {}", claims.display()))?;
            if let Some(nonce) = nonce {
                claims.nonce = Some(NonceClaim::Single(decode_b64(&nonce, "--nonce")?));
            }
            let token = claims
                .sign(&signing_key(&key)?)
                .context("signing the token")?;
            crate::testkit_cli::write(&out, &token)
        }
        EvidenceCommand::Mint(MintCommand::Cca {
            claims,
            iak,
            rak,
            nonce,
            out,
        }) => {
            let (platform, realm) = vouch_cca_token::claims_from_json(&read_json(&claims)?)
                .with_context(|| format!("the CCA claims in {}", claims.display()))?;
            let challenge = match nonce {
                Some(nonce) => {
                    vouch_cca_token::realm_challenge_for_nonce(&decode_b64(&nonce, "--nonce")?)
                        .context("--nonce")?
                }
                None => realm.challenge,
            };
            let device =
                vouch_cca_token::mint::CcaDevice::new(signing_key(&iak)?, signing_key(&rak)?);
            let token = device
                .token(&platform, &realm, &challenge, &Default::default())
                .context("minting the token")?;
            crate::testkit_cli::write(&out, &token)
        }
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
        TokenFormat::Auto => match cca() {
            Ok(claims) => Ok(("cca", claims)),
            Err(cca) => match psa() {
                Ok(claims) => Ok(("psa", claims)),
                Err(psa) => {
                    bail!("not a token this version reads: as PSA: {psa}; as CCA: {cca}")
                }
            },
        },
    }
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let bytes = crate::client_cli::read(path)?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not JSON", path.display()))
}

/// A private key from a JWK or PEM file (any curve: P-256 IAKs, P-384
/// RAKs).
pub(crate) fn signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let bytes = crate::client_cli::read(path)?;
    std::str::from_utf8(&bytes)
        .map_err(anyhow::Error::from)
        .and_then(|text| SigningKey::from_jwk_or_pem(text).map_err(anyhow::Error::from))
        .with_context(|| format!("the private key in {}", path.display()))
}

/// Base64 in any of its spellings: sessions give base64url without
/// padding, evcli's files standard base64 with padding.
fn decode_b64(text: &str, what: &str) -> anyhow::Result<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let trimmed = text.trim_end_matches('=');
    let padded = format!("{trimmed}{}", "=".repeat((4 - trimmed.len() % 4) % 4));
    STANDARD
        .decode(&padded)
        .or_else(|_| URL_SAFE.decode(&padded))
        .map_err(|e| anyhow::anyhow!("{what} is not base64: {e}"))
}

fn opt_bytes(claims: &Value, name: &str) -> anyhow::Result<Option<Vec<u8>>> {
    match &claims[name] {
        Value::Null => Ok(None),
        Value::String(s) => decode_b64(s, name).map(Some),
        _ => bail!("{name} must be a base64 string"),
    }
}

fn opt_text(claims: &Value, name: &str) -> anyhow::Result<Option<String>> {
    match &claims[name] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => bail!("{name} must be a string"),
    }
}

fn opt_int(claims: &Value, name: &str) -> anyhow::Result<Option<i64>> {
    match &claims[name] {
        Value::Null => Ok(None),
        v => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| anyhow::anyhow!("{name} must be an integer")),
    }
}

/// evcli's PSA claims JSON (psatoken's member names) as claims to sign.
/// Like `evcli psa create --allow-invalid`, it takes what is there and
/// checks only types: a token with missing claims is a legitimate test.
fn psa_claims(claims: &Value) -> anyhow::Result<PsaClaims> {
    if !claims.is_object() {
        bail!("the claims must be a JSON object");
    }
    let p1 = opt_text(claims, "psa-profile")?;
    let key_set = if p1.as_deref() == Some(PROFILE_1) {
        KeySet::Profile1
    } else {
        KeySet::Profile2
    };
    let profile = match p1 {
        Some(p) => Some(p),
        None => opt_text(claims, "eat-profile")?,
    };
    let sw_components = match &claims["psa-software-components"] {
        Value::Null => None,
        Value::Array(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let at = |e: anyhow::Error| e.context(format!("psa-software-components[{i}]"));
                    Ok(SwComponent {
                        measurement_type: opt_text(c, "measurement-type").map_err(at)?,
                        measurement_value: opt_bytes(c, "measurement-value").map_err(at)?,
                        version: opt_text(c, "version").map_err(at)?,
                        signer_id: opt_bytes(c, "signer-id").map_err(at)?,
                        measurement_desc: opt_text(c, "measurement-description").map_err(at)?,
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
        ),
        _ => bail!("psa-software-components must be an array"),
    };
    let nonce = match &claims["psa-nonce"] {
        Value::Array(items) => Some(NonceClaim::Multiple(
            items
                .iter()
                .map(|n| match n {
                    Value::String(s) => decode_b64(s, "psa-nonce"),
                    _ => bail!("psa-nonce entries must be base64 strings"),
                })
                .collect::<anyhow::Result<_>>()?,
        )),
        _ => opt_bytes(claims, "psa-nonce")?.map(NonceClaim::Single),
    };
    let lifecycle = opt_int(claims, "psa-security-lifecycle")?
        .map(u64::try_from)
        .transpose()
        .context("psa-security-lifecycle must not be negative")?;
    let no_sw = opt_int(claims, "psa-no-sw-measurements")?
        .map(u64::try_from)
        .transpose()
        .context("psa-no-sw-measurements must not be negative")?;
    Ok(PsaClaims {
        key_set,
        profile,
        client_id: opt_int(claims, "psa-client-id")?,
        security_lifecycle: lifecycle,
        implementation_id: opt_bytes(claims, "psa-implementation-id")?,
        instance_id: opt_bytes(claims, "psa-instance-id")?,
        nonce,
        boot_seed: opt_bytes(claims, "psa-boot-seed")?,
        // Profile 1 calls the claim psa-hardware-version; psatoken's
        // profile-2 claims have no such member and ignore it.
        certification_reference: match key_set {
            KeySet::Profile1 => opt_text(claims, "psa-hardware-version")?,
            KeySet::Profile2 => opt_text(claims, "psa-certification-reference")?,
        },
        sw_components,
        no_sw_measurements: no_sw,
        vsi: opt_text(claims, "psa-verification-service-indicator")?,
        extra: Vec::new(),
    })
}
