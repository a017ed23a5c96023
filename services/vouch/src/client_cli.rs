//! The client subcommands: `vouch verify` runs a whole challenge-response
//! against a verification service, `vouch ear inspect` verifies and shows
//! an attestation result, `vouch corim submit` provisions CoRIMs
//! (`crate::corim_cli` has the rest of `vouch corim`).
//!
//! Every failure is an error naming what failed (the exit status is 1);
//! `vouch verify` exits 3 when the verdict is not `affirming` (2 is a usage
//! error), so scripts can tell "could not verify" from "verified, not
//! trustworthy".

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use clap::{Args, Subcommand};
use serde_json::Value;
use vouch_crypto::VerifyingKey;
use vouch_ear::{Ear, TrustTier};
use vouch_testkit::psa::{Device, SwComponent};

/// The PSA token media type `--device` mints.
const PSA_TOKEN: &str = "application/psa-attestation-token";

/// Flags shared by the commands that talk to a server.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Base URL of the service, e.g. `http://127.0.0.1:8443`.
    #[arg(long)]
    pub server: String,
    /// CA certificate (PEM) to trust for an `https://` server, instead of
    /// the system's roots.
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
}

impl ServerArgs {
    fn client(&self) -> anyhow::Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
        if let Some(ca) = &self.tls_ca {
            let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("reading the CA certificates in {}", ca.display()))?;
            builder = builder.tls_certs_only(certs);
        }
        builder.build().context("setting up the HTTP client")
    }

    fn base(&self) -> &str {
        self.server.trim_end_matches('/')
    }
}

/// `vouch verify`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    vouch verify --server http://127.0.0.1:8443 --device demo\n  \
    vouch verify --server https://verifier:8443 --tls-ca ca.crt \\\n    \
    --evidence token.cbor --media-type application/psa-attestation-token --nonce QUJDRA… --json")]
pub struct VerifyArgs {
    /// The verification service.
    #[command(flatten)]
    pub server: ServerArgs,
    /// A device directory written by `vouch testkit device`: its evidence
    /// is minted for the session's nonce.
    #[arg(long, conflicts_with_all = ["evidence", "nonce"])]
    pub device: Option<PathBuf>,
    /// Evidence already minted for `--nonce`.
    #[arg(long, requires_all = ["nonce", "media_type"])]
    pub evidence: Option<PathBuf>,
    /// The evidence's media type (`Content-Type`).
    #[arg(long)]
    pub media_type: Option<String>,
    /// The nonce the evidence was minted for (base64url): the session is
    /// opened with it.
    #[arg(long)]
    pub nonce: Option<String>,
    /// Print the session, verdict and EAR claims as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the EAR (the signed JWT, for `vouch ear inspect`) here.
    #[arg(long)]
    pub ear_out: Option<PathBuf>,
}

/// `vouch ear`.
#[derive(Debug, Subcommand)]
pub enum EarCommand {
    /// Verify an EAR (a JWT, from a file or `-` for stdin) and print it.
    #[command(after_help = "Examples:\n  \
        vouch ear inspect --server http://127.0.0.1:8443 ear.jwt\n  \
        vouch ear inspect --key ear-key.jwk - < ear.jwt")]
    Inspect {
        /// The EAR: a file, or `-` for stdin.
        file: PathBuf,
        /// The verification key, a JWK file.
        #[arg(long, conflicts_with = "server")]
        key: Option<PathBuf>,
        /// Fetch the key a verification service publishes (its discovery
        /// document's `ear-verification-key`).
        #[arg(long)]
        server: Option<String>,
        /// CA certificate (PEM) for an `https://` `--server`.
        #[arg(long)]
        tls_ca: Option<PathBuf>,
        /// Print the claims as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[expect(clippy::print_stdout, reason = "the client commands print results")]
pub(crate) fn out(line: &str) {
    println!("{line}");
}

/// A problem that does not change the outcome. (The client commands set up
/// no logging: their output is for the person or script that ran them.)
#[expect(clippy::print_stderr, reason = "the client commands report on stderr")]
fn warn(line: &str) {
    eprintln!("vouch: warning: {line}");
}

pub(crate) fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).context("reading stdin")?;
        return Ok(bytes);
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// A non-success answer as an error: the status and the problem's detail.
async fn refused(what: &str, response: reqwest::Response) -> anyhow::Error {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let detail = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["detail"].as_str().map(str::to_owned))
        .unwrap_or(body);
    anyhow::anyhow!("{what}: the server answered {status}: {detail}")
}

/// The EAR key a verification service publishes.
async fn published_key(client: &reqwest::Client, base: &str) -> anyhow::Result<VerifyingKey> {
    let url = format!("{base}/.well-known/veraison/verification");
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("fetching {url}"))?;
    if !response.status().is_success() {
        return Err(refused("fetching the EAR key", response).await);
    }
    let doc: Value = response
        .json()
        .await
        .with_context(|| format!("reading {url}"))?;
    VerifyingKey::from_jwk(&doc["ear-verification-key"])
        .with_context(|| format!("the ear-verification-key of {url}"))
}

/// Verifies `jwt` with `key`.
fn verified(jwt: &str, key: &VerifyingKey) -> anyhow::Result<Ear> {
    vouch_ear::verify(jwt, key).context("the EAR does not verify")
}

/// The verdict, then each submod's status, policy and trust vector.
fn describe(ear: &Ear) -> Vec<String> {
    let mut lines = vec![format!("verdict: {}", ear.status())];
    for (name, appraisal) in &ear.submods {
        lines.push(format!(
            "submod {name}: {} (policy {})",
            appraisal.status,
            appraisal.policy_id.as_deref().unwrap_or("none")
        ));
        if let Ok(Value::Object(vector)) = serde_json::to_value(appraisal.trust_vector) {
            for (claim, value) in vector {
                lines.push(format!("  {claim}: {value}"));
            }
        }
    }
    lines
}

/// Where `vouch verify`'s evidence comes from.
enum Evidence {
    /// A test device, which answers the session's nonce.
    Device(Device),
    /// Evidence minted beforehand for a nonce of the caller's.
    Minted {
        bytes: Vec<u8>,
        media_type: String,
        nonce: String,
    },
}

/// `vouch verify`: newSession → evidence → DELETE, then the verdict.
pub async fn verify(args: VerifyArgs) -> anyhow::Result<bool> {
    let evidence = match (&args.device, &args.evidence, &args.media_type, &args.nonce) {
        (Some(dir), None, None, None) => Evidence::Device(crate::testkit_cli::load_device(dir)?),
        (None, Some(path), Some(media_type), Some(nonce)) => Evidence::Minted {
            bytes: read(path)?,
            media_type: media_type.clone(),
            nonce: nonce.clone(),
        },
        _ => bail!("give either --device, or --evidence with --media-type and --nonce"),
    };
    let client = args.server.client()?;
    let base = args.server.base();
    let url = format!("{base}/challenge-response/v1/newSession");
    let mut request = client.post(&url);
    if let Evidence::Minted { nonce, .. } = &evidence {
        request = request.query(&[("nonce", nonce)]);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("opening a session at {url}"))?;
    if response.status() != reqwest::StatusCode::CREATED {
        return Err(refused("opening a session", response).await);
    }
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .context("the new session has no Location")?
        .to_owned();
    let session: Value = response.json().await.context("reading the new session")?;
    let session_url = format!("{base}/challenge-response/v1/{location}");
    let (body, media_type) = match evidence {
        Evidence::Minted {
            bytes, media_type, ..
        } => (bytes, media_type),
        Evidence::Device(device) => {
            let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(
                    session["nonce"]
                        .as_str()
                        .unwrap_or_default()
                        .trim_end_matches('='),
                )
                .context("the session's nonce is not base64url")?;
            let token = device
                .token(&nonce, &SwComponent::acme_components())
                .context("minting the device's evidence")?;
            (token, PSA_TOKEN.to_owned())
        }
    };
    let submitted = client
        .post(&session_url)
        .header("content-type", media_type)
        .body(body)
        .send()
        .await
        .context("submitting the evidence");
    // The session is deleted whatever happened, as Veraison's clients do.
    if let Err(e) = client.delete(&session_url).send().await {
        warn(&format!("deleting the session {session_url}: {e}"));
    }
    let response = submitted?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(refused("submitting the evidence", response).await);
    }
    let session: Value = response.json().await.context("reading the session")?;
    if session["status"] != "complete" {
        bail!(
            "the session ended {}, without a result",
            session["status"].as_str().unwrap_or("?")
        );
    }
    let jwt = session["result"]
        .as_str()
        .context("the session has no result")?;
    let ear = verified(jwt, &published_key(&client, base).await?)?;
    if let Some(path) = &args.ear_out {
        crate::testkit_cli::write(path, jwt.as_bytes())?;
    }
    if args.json {
        out(&serde_json::to_string_pretty(&serde_json::json!({
            "verdict": ear.status(),
            "session": session_url,
            "ear": ear,
        }))?);
    } else {
        for line in describe(&ear) {
            out(&line);
        }
    }
    Ok(ear.status() == TrustTier::Affirming)
}

/// `vouch ear inspect`.
pub async fn ear(command: EarCommand) -> anyhow::Result<()> {
    let EarCommand::Inspect {
        file,
        key,
        server,
        tls_ca,
        json,
    } = command;
    let jwt = String::from_utf8(read(&file)?).context("the EAR is not text")?;
    let jwt = jwt.trim();
    let key = match (key, server) {
        (Some(path), _) => {
            let jwk: Value = serde_json::from_slice(&read(&path)?)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            VerifyingKey::from_jwk(&jwk)
                .with_context(|| format!("{} is not a usable JWK", path.display()))?
        }
        (None, Some(server)) => {
            let server = ServerArgs { server, tls_ca };
            published_key(&server.client()?, server.base()).await?
        }
        (None, None) => bail!("give the verification key: --key JWK or --server URL"),
    };
    let ear = verified(jwt, &key)?;
    if json {
        out(&serde_json::to_string_pretty(&ear)?);
    } else {
        out("signature: valid");
        for line in describe(&ear) {
            out(&line);
        }
        out(&format!("issued at: {}", ear.issued_at));
    }
    Ok(())
}

/// `vouch corim submit`.
pub async fn submit_corims(
    server: ServerArgs,
    media_type: String,
    user: Option<String>,
    token: Option<String>,
    files: Vec<PathBuf>,
) -> anyhow::Result<()> {
    let client = server.client()?;
    let url = format!("{}/endorsement-provisioning/v1/submit", server.base());
    let password = match &user {
        Some(_) => Some(
            std::env::var("VOUCH_PASSWORD")
                .context("--user needs the password in VOUCH_PASSWORD")?,
        ),
        None => None,
    };
    let progress = indicatif::ProgressBar::new(files.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} CoRIMs {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if files.len() < 2 {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut failed = Vec::new();
    for file in &files {
        let body = read(file)?;
        let mut request = client
            .post(&url)
            .header("content-type", &media_type)
            .body(body);
        if let (Some(user), Some(password)) = (&user, &password) {
            request = request.basic_auth(user, Some(password));
        }
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("submitting {} to {url}", file.display()))?;
        if !response.status().is_success() {
            return Err(refused(&format!("submitting {}", file.display()), response).await);
        }
        let answer: Value = response
            .json()
            .await
            .with_context(|| format!("reading the answer to {}", file.display()))?;
        if answer["status"] == "success" {
            progress.suspend(|| out(&format!("{}: stored", file.display())));
        } else {
            let reason = answer["failure-reason"]
                .as_str()
                .unwrap_or("no reason given");
            progress.suspend(|| out(&format!("{}: refused: {reason}", file.display())));
            failed.push(file.display().to_string());
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    if !failed.is_empty() {
        bail!(
            "{} of {} CoRIMs refused: {}",
            failed.len(),
            files.len(),
            failed.join(", ")
        );
    }
    Ok(())
}
