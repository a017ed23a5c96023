//! Loads the trusted CoRIM signers named by `[corim]` settings.

use std::path::Path;

use anyhow::Context as _;
use vouch_crypto::VerifyingKey;
use vouch_trust::CorimSigners;

use crate::settings::CorimSettings;

/// Reads the signer keys and roots files. A file that is named but cannot
/// be read or holds nothing usable stops start-up: silently trusting no
/// one would refuse every signed CoRIM with a misleading reason.
pub fn load(settings: &CorimSettings) -> anyhow::Result<CorimSigners> {
    let keys = match &settings.signer_keys {
        Some(path) => read_keys(path)
            .with_context(|| format!("reading CoRIM signer keys from {}", path.display()))?,
        None => Vec::new(),
    };
    let roots = match &settings.signer_roots {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading CoRIM signer roots {}", path.display()))?;
            vouch_x509::parse_pem_chain(&text)
                .with_context(|| format!("parsing CoRIM signer roots {}", path.display()))?
        }
        None => Vec::new(),
    };
    let signers = CorimSigners::new(keys, roots, settings.require_signed);
    if settings.require_signed && signers.is_empty() {
        anyhow::bail!(
            "corim.require_signed is set but no CoRIM signer is configured \
             (corim.signer_keys or corim.signer_roots): every CoRIM would be refused"
        );
    }
    Ok(signers)
}

/// Public keys from PEM (one or more `PUBLIC KEY` blocks) or JSON (a JWK,
/// or a JWK Set's `keys`).
fn read_keys(path: &Path) -> anyhow::Result<Vec<VerifyingKey>> {
    let text = std::fs::read_to_string(path)?;
    let trimmed = text.trim_start();
    let keys = if trimmed.starts_with('{') {
        let json: serde_json::Value = serde_json::from_str(trimmed).context("not JSON")?;
        match json.get("keys").and_then(|k| k.as_array()) {
            Some(set) => set
                .iter()
                .map(VerifyingKey::from_jwk)
                .collect::<Result<Vec<_>, _>>()?,
            None => vec![VerifyingKey::from_jwk(&json)?],
        }
    } else {
        pem_blocks(&text)
            .map(VerifyingKey::from_pem)
            .collect::<Result<Vec<_>, _>>()?
    };
    anyhow::ensure!(!keys.is_empty(), "no public key found");
    Ok(keys)
}

/// Splits PEM text into its `-----BEGIN …-----` … `-----END …-----` blocks.
fn pem_blocks(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("-----BEGIN ")
        .filter_map(move |(start, _)| {
            let rest = text.get(start..)?;
            let end_marker = rest.find("-----END ")?;
            let after = rest.get(end_marker + 9..)?;
            let close = after.find("-----")?;
            rest.get(..end_marker + 9 + close + 5)
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use vouch_crypto::{Curve, SigningKey};

    use super::*;

    #[test]
    fn keys_load_from_pem_bundles_and_jwk_sets() {
        let dir = tempfile::tempdir().unwrap();
        let a = SigningKey::generate(Curve::P256).unwrap().verifying_key();
        let b = SigningKey::generate(Curve::P384).unwrap().verifying_key();

        let pem = dir.path().join("keys.pem");
        std::fs::write(&pem, format!("{}\n{}", a.to_pem(), b.to_pem())).unwrap();
        assert_eq!(read_keys(&pem).unwrap(), vec![a.clone(), b.clone()]);

        let set = dir.path().join("keys.json");
        let jwks = serde_json::json!({"keys": [a.to_jwk(), b.to_jwk()]});
        std::fs::write(&set, jwks.to_string()).unwrap();
        assert_eq!(read_keys(&set).unwrap(), vec![a.clone(), b]);

        let one = dir.path().join("key.jwk");
        std::fs::write(&one, a.to_jwk().to_string()).unwrap();
        assert_eq!(read_keys(&one).unwrap(), vec![a]);

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "nothing here").unwrap();
        assert!(read_keys(&empty).is_err());
    }

    #[test]
    fn requiring_signatures_without_signers_is_refused() {
        let settings = CorimSettings {
            require_signed: true,
            ..CorimSettings::default()
        };
        assert!(load(&settings).is_err());
        assert!(load(&CorimSettings::default()).unwrap().is_empty());
    }
}
