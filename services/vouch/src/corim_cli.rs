//! `vouch corim build|sign|inspect|submit`: what `cocli corim create`,
//! `cocli comid create`, `cocli corim sign` and `cocli corim display` do,
//! from the same JSON templates, plus provisioning.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use serde_json::{Value, json};
use vouch_corim::signed::{CorimSignature, SignedCorim};
use vouch_corim::{Comid, Corim, CorimError};
use vouch_crypto::VerifyingKey;

use crate::client_cli::{ServerArgs, out, read};

/// `vouch corim`.
#[derive(Debug, Subcommand)]
pub enum CorimCommand {
    /// Build a CoRIM from cocli's JSON templates: a CoRIM template and
    /// CoMIDs (JSON templates, CBOR CoMIDs, or folders of either).
    #[command(after_help = "Examples:\n  \
        vouch corim build --template corim-psa.json --comid comid-psa-ta.json \\\n    \
        --comid comid-psa-refval.json --out psa.cbor\n  \
        vouch corim build -t corim.json -m comids/ -o corim.cbor")]
    Build {
        /// The CoRIM template (`corim-id`, `profile`, `validity`,
        /// `entities`, `dependent-rims`), as `cocli corim create --template`.
        #[arg(long, short = 't')]
        template: PathBuf,
        /// A CoMID: a JSON template, a CBOR CoMID (`cocli comid create`'s
        /// output), or a folder of them (`*.json`, `*.cbor`); repeatable.
        #[arg(long, short = 'm')]
        comid: Vec<PathBuf>,
        /// Where to write the CoRIM (default: the template's name with
        /// `.cbor`, in the current folder).
        #[arg(long, short = 'o', visible_alias = "output")]
        out: Option<PathBuf>,
    },
    /// Sign a CoRIM (COSE_Sign1 with `corim-meta`, as `cocli corim sign`).
    #[command(after_help = "Examples:\n  \
        vouch corim sign --key signer.pem --signer-name 'ACME Ltd.' \\\n    \
        --not-after 2027-12-31T00:00:00Z --out psa.signed.cbor psa.cbor\n  \
        vouch corim sign --key signer.jwk --meta meta.json -o psa.signed.cbor psa.cbor")]
    Sign {
        /// The unsigned CoRIM.
        file: PathBuf,
        /// The signing key: a private JWK or a PKCS#8 / SEC1 PEM (P-256,
        /// P-384, P-521, Ed25519).
        #[arg(long, short = 'k')]
        key: PathBuf,
        /// cocli's meta template: `{"signer": {"name", "uri"}, "validity":
        /// {"not-before", "not-after"}}`; flags below override it.
        #[arg(long)]
        meta: Option<PathBuf>,
        /// The signer's name in `corim-meta`.
        #[arg(long)]
        signer_name: Option<String>,
        /// The signer's URI in `corim-meta`.
        #[arg(long)]
        signer_uri: Option<String>,
        /// Start of the signature's validity (RFC 3339).
        #[arg(long)]
        not_before: Option<String>,
        /// End of the signature's validity (RFC 3339).
        #[arg(long)]
        not_after: Option<String>,
        /// The signer's certificate chain (PEM, leaf first), for `x5chain`.
        #[arg(long)]
        x5chain: Option<PathBuf>,
        /// A key id for the protected header (text).
        #[arg(long)]
        kid: Option<String>,
        /// Where to write the signed CoRIM.
        #[arg(long, short = 'o', visible_alias = "output")]
        out: PathBuf,
    },
    /// Show a CoRIM (signed or not) or a CoMID: a summary and the template
    /// that `vouch corim build` turns back into it.
    #[command(after_help = "Examples:\n  \
        vouch corim inspect psa.cbor\n  \
        vouch corim inspect --key signer.pub.pem psa.signed.cbor\n  \
        vouch corim inspect --json - < psa.cbor | jq '.corim.comids[0]'")]
    Inspect {
        /// The CoRIM or CoMID: a file, or `-` for stdin.
        file: PathBuf,
        /// Check a signed CoRIM's signature with this public key (PEM or
        /// JWK).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Print JSON: `{"signed": …, "corim": <template>}`.
        #[arg(long)]
        json: bool,
    },
    /// Submit CoRIMs to a provisioning service, one request each.
    #[command(after_help = "Examples:\n  \
        vouch corim submit --server http://127.0.0.1:9443 \\\n    \
        --media-type 'application/rim+cbor; profile=\"tag:arm.com,2025:psa#1.0.0\"' demo/corim.cbor\n  \
        VOUCH_PASSWORD=… vouch corim submit --server https://prov:9443 --user supply-chain … *.cbor")]
    Submit {
        /// The provisioning service.
        #[command(flatten)]
        server: ServerArgs,
        /// The CoRIMs' media type (`Content-Type`).
        #[arg(long)]
        media_type: String,
        /// HTTP basic user (the password is read from `VOUCH_PASSWORD`).
        #[arg(long, conflicts_with = "token")]
        user: Option<String>,
        /// An OIDC bearer token.
        #[arg(long)]
        token: Option<String>,
        /// The CoRIM files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Runs a `vouch corim` command.
pub fn run(command: CorimCommand, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    match command {
        CorimCommand::Build {
            template,
            comid,
            out: to,
        } => build(&template, &comid, to),
        CorimCommand::Sign {
            file,
            key,
            meta,
            signer_name,
            signer_uri,
            not_before,
            not_after,
            x5chain,
            kid,
            out: to,
        } => {
            let mut signature = match &meta {
                Some(meta) => meta_template(&read_json(meta)?)
                    .with_context(|| format!("the meta template {}", meta.display()))?,
                None => CorimSignature::default(),
            };
            if let Some(name) = signer_name {
                signature.signer_name = name;
            }
            if signature.signer_name.is_empty() {
                bail!("name the signer: --signer-name, or signer.name in --meta");
            }
            signature.signer_uri = signer_uri.or(signature.signer_uri);
            if let Some(t) = not_before {
                signature.not_before = Some(rfc3339(&t).context("--not-before")?);
            }
            if let Some(t) = not_after {
                signature.not_after = Some(rfc3339(&t).context("--not-after")?);
            }
            if let Some(path) = x5chain {
                let pem =
                    String::from_utf8(read(&path)?).context("the --x5chain file is not text")?;
                signature.x5chain = vouch_x509::parse_pem_chain(&pem)
                    .with_context(|| format!("the certificates in {}", path.display()))?
                    .iter()
                    .map(|c| c.der().to_vec())
                    .collect();
            }
            signature.key_id = kid.map(String::into_bytes);
            let corim = read(&file)?;
            vouch_corim::decode(&corim)
                .with_context(|| format!("{} is not an unsigned CoRIM", file.display()))?;
            let key = crate::evidence_cli::signing_key(&key)?;
            let signed = signature.sign(&corim, &key).context("signing the CoRIM")?;
            crate::testkit_cli::write(&to, &signed)?;
            out(&format!("wrote {}", to.display()));
            Ok(())
        }
        CorimCommand::Inspect { file, key, json } => inspect(&file, key.as_deref(), json),
        CorimCommand::Submit {
            server,
            media_type,
            user,
            token,
            files,
        } => runtime.block_on(crate::client_cli::submit_corims(
            server, media_type, user, token, files,
        )),
    }
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    serde_json::from_slice(&read(path)?).with_context(|| format!("{} is not JSON", path.display()))
}

fn rfc3339(text: &str) -> anyhow::Result<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(time::OffsetDateTime::unix_timestamp)
        .with_context(|| format!("{text:?} is not an RFC 3339 time"))
}

/// cocli's `corim sign --meta` template.
fn meta_template(meta: &Value) -> anyhow::Result<CorimSignature> {
    let Some(signer) = meta.get("signer") else {
        bail!("missing `signer`");
    };
    let text = |v: &Value, what: &str| -> anyhow::Result<Option<String>> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            _ => bail!("`{what}` must be a string"),
        }
    };
    let time = |what: &str| -> anyhow::Result<Option<i64>> {
        text(&meta["validity"][what], what)?
            .map(|t| rfc3339(&t).with_context(|| format!("`validity.{what}`")))
            .transpose()
    };
    Ok(CorimSignature {
        signer_name: text(&signer["name"], "signer.name")?.unwrap_or_default(),
        signer_uri: text(&signer["uri"], "signer.uri")?,
        not_before: time("not-before")?,
        not_after: time("not-after")?,
        ..CorimSignature::default()
    })
}

/// The CoMID files given: files as they are, folders as their `*.json` and
/// `*.cbor` files in name order.
fn comid_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if !path.is_dir() {
            files.push(path.clone());
            continue;
        }
        let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading the folder {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json" || x == "cbor"))
            .collect();
        if inside.is_empty() {
            bail!("{} holds no *.json or *.cbor CoMID", path.display());
        }
        inside.sort();
        files.extend(inside);
    }
    Ok(files)
}

/// A CoMID from a JSON template or from CBOR.
fn comid(path: &Path) -> anyhow::Result<Comid> {
    let bytes = read(path)?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return vouch_corim_json::comid_from_json(&bytes)
            .with_context(|| format!("the CoMID template {}", path.display()));
    }
    vouch_corim::decode_comid(&bytes).with_context(|| {
        format!(
            "{} is neither a CoMID template nor a CBOR CoMID",
            path.display()
        )
    })
}

fn build(template: &Path, comids: &[PathBuf], to: Option<PathBuf>) -> anyhow::Result<()> {
    let comids = comid_files(comids)?
        .iter()
        .map(|p| comid(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut json = read(template)?;
    // What `vouch corim inspect --json` prints holds the template under
    // `corim`; take it as it is.
    if let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(&json)
        && !doc.contains_key("corim-id")
        && let Some(corim) = doc.get("corim")
    {
        json = serde_json::to_vec(corim)?;
    }
    let corim = vouch_corim_json::corim_from_json(&json, comids)
        .with_context(|| format!("the CoRIM template {}", template.display()))?;
    let to = to.unwrap_or_else(|| {
        let stem = template.file_stem().unwrap_or(template.as_os_str());
        PathBuf::from(stem).with_extension("cbor")
    });
    crate::testkit_cli::write(&to, &corim.encode())?;
    out(&format!("wrote {}: {}", to.display(), summary(&corim)));
    Ok(())
}

/// "2 CoMIDs: 3 reference values, 1 attestation key".
fn summary(corim: &Corim) -> String {
    let mut counts = [0usize; 4];
    let mut comids = 0;
    for c in corim.comids() {
        comids += 1;
        let t = &c.triples;
        counts[0] += t
            .reference_triples
            .iter()
            .map(|r| r.measurements.len())
            .sum::<usize>();
        counts[1] += t
            .endorsed_triples
            .iter()
            .map(|r| r.measurements.len())
            .sum::<usize>();
        counts[2] += t.attest_key_triples.len();
        counts[3] += t.identity_triples.len();
    }
    let names = [
        "reference value",
        "endorsed value",
        "attestation key",
        "identity key",
    ];
    let parts: Vec<String> = counts
        .iter()
        .zip(names)
        .filter(|(n, _)| **n > 0)
        .map(|(n, name)| format!("{n} {name}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    let others = corim.tags.len() - comids;
    let mut text = format!(
        "{comids} CoMID{}: {}",
        if comids == 1 { "" } else { "s" },
        if parts.is_empty() {
            "no triples the schemes read".to_owned()
        } else {
            parts.join(", ")
        }
    );
    if others > 0 {
        text.push_str(&format!(", and {others} other tag(s)"));
    }
    text
}

/// A public key from PEM (SubjectPublicKeyInfo) or a JWK.
fn verifying_key(path: &Path) -> anyhow::Result<VerifyingKey> {
    let bytes = read(path)?;
    let text = std::str::from_utf8(&bytes).context("not text")?;
    match serde_json::from_str::<Value>(text) {
        Ok(jwk) => VerifyingKey::from_jwk(&jwk).map_err(anyhow::Error::from),
        Err(_) => VerifyingKey::from_pem(text).map_err(anyhow::Error::from),
    }
    .with_context(|| format!("the public key in {}", path.display()))
}

fn time_text(t: Option<i64>) -> Value {
    t.map_or(Value::Null, vouch_corim_json::rfc3339)
}

fn inspect(file: &Path, key: Option<&Path>, as_json: bool) -> anyhow::Result<()> {
    let bytes = read(file)?;
    let (signed, payload) = match SignedCorim::decode(&bytes) {
        Ok(s) => {
            let check = match key {
                Some(k) => {
                    s.sign1
                        .verify(&verifying_key(k)?)
                        .context("the signature does not verify with --key")?;
                    "valid"
                }
                None => "not checked (give --key)",
            };
            let m = &s.meta;
            let doc = json!({
                "algorithm": s.sign1.algorithm().map(|a| a.jws_name()).unwrap_or_default(),
                "signer-name": m.signer_name,
                "signer-uri": m.signer_uri,
                "not-before": time_text(m.not_before),
                "not-after": time_text(m.not_after),
                "key-id": s.sign1.key_id().map(hex::encode),
                "x5chain-certificates": s.sign1.x5chain().map(|c| c.len()).unwrap_or(0),
                "signature": check,
            });
            (Some(doc), s.payload().to_vec())
        }
        Err(_) => {
            if key.is_some() {
                bail!(
                    "{} is not a signed CoRIM, so --key has nothing to check",
                    file.display()
                );
            }
            (None, bytes)
        }
    };
    let (kind, template, headline) = match vouch_corim::decode(&payload) {
        Ok(corim) => (
            "corim",
            vouch_corim_json::corim_to_json(&corim),
            format!("CoRIM {}: {}", corim.id, summary(&corim)),
        ),
        Err(corim_error @ CorimError::Malformed { .. }) if signed.is_none() => {
            match vouch_corim::decode_comid(&payload) {
                Ok(comid) => (
                    "comid",
                    vouch_corim_json::comid_to_json(&comid),
                    format!("CoMID {}", comid.tag_identity.tag_id),
                ),
                Err(_) => bail!("{} is not a CoRIM: {corim_error}", file.display()),
            }
        }
        Err(e) => bail!("{} is not a CoRIM: {e}", file.display()),
    };
    if as_json {
        out(&json!({ "signed": signed, kind: template }).to_string());
        return Ok(());
    }
    out(&headline);
    match &signed {
        Some(s) => {
            for (k, v) in s.as_object().into_iter().flatten() {
                if !v.is_null() {
                    let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    out(&format!("{k}: {v}"));
                }
            }
        }
        None if kind == "corim" => out("signature: none (unsigned CoRIM)"),
        None => {}
    }
    out(&format!(
        "template (vouch corim build reads it back):\n{}",
        serde_json::to_string_pretty(&template)?
    ));
    Ok(())
}
