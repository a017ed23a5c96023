//! Signed CoRIMs (`application/rim+cose`): a COSE_Sign1 whose payload is an
//! unsigned CoRIM and whose protected header carries `corim-meta` (label 8:
//! the signer and a validity period), as draft-ietf-rats-corim §4.2 and
//! veraison/corim write them.
//!
//! Trust opens the envelope before any scheme sees the CoRIM: the signature
//! must verify with an operator-configured signer key, or with the leaf of
//! an `x5chain` (label 33) that chains to an operator-configured root; the
//! validity period must hold now. Anything else refuses the CoRIM, and
//! nothing is stored.

use vouch_corim::signed::SignedCorim;
use vouch_cose::Sign1;
use vouch_crypto::VerifyingKey;
use vouch_x509::{Certificate, TrustStore, Usage};

/// Who may sign CoRIMs, and whether unsigned ones are accepted.
#[derive(Clone, Default)]
pub struct CorimSigners {
    keys: Vec<VerifyingKey>,
    roots: TrustStore,
    require_signed: bool,
}

impl std::fmt::Debug for CorimSigners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorimSigners")
            .field("keys", &self.keys.len())
            .field("roots", &self.roots.roots().len())
            .field("require_signed", &self.require_signed)
            .finish()
    }
}

impl CorimSigners {
    /// Trusts `keys` directly and any `x5chain` that chains to `roots`
    /// (self-signed certificates; any others are kept as intermediates).
    /// With `require_signed`, unsigned CoRIM media types are not offered.
    pub fn new(keys: Vec<VerifyingKey>, roots: Vec<Certificate>, require_signed: bool) -> Self {
        CorimSigners {
            keys,
            roots: TrustStore::from_certs(roots),
            require_signed,
        }
    }

    /// Whether provisioning refuses unsigned CoRIMs.
    pub fn require_signed(&self) -> bool {
        self.require_signed
    }

    /// Whether any signer is trusted at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.roots.is_empty()
    }

    /// Verifies a signed CoRIM at `now` (Unix seconds) and returns its
    /// payload, the unsigned CoRIM. The error is the reason shown to the
    /// submitter.
    pub fn open(&self, data: &[u8], now: i64) -> Result<Vec<u8>, String> {
        let signed = SignedCorim::decode(data).map_err(|e| e.to_string())?;
        // The signature first: until it holds, nothing in the envelope
        // (the validity period included) is worth reporting.
        self.check_signer(&signed.sign1, now)?;
        if let Some(not_after) = signed.meta.not_after
            && not_after <= now
        {
            return Err(format!(
                "signed CoRIM expired: its signature validity ended at {}",
                crate::service::rfc3339(not_after)
            ));
        }
        if let Some(not_before) = signed.meta.not_before
            && not_before > now
        {
            return Err(format!(
                "signed CoRIM is not yet valid: its signature validity starts at {}",
                crate::service::rfc3339(not_before)
            ));
        }
        Ok(signed.payload().to_vec())
    }

    fn check_signer(&self, sign1: &Sign1, now: i64) -> Result<(), String> {
        let chain = sign1
            .x5chain()
            .map_err(|e| format!("signed CoRIM x5chain: {e}"))?;
        if !chain.is_empty() {
            let certs = chain
                .iter()
                .map(|der| Certificate::from_der(der))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("signed CoRIM x5chain: {e}"))?;
            if self.roots.is_empty() {
                return Err(
                    "signed CoRIM carries an x5chain, but no CoRIM signer roots are configured: \
                     unknown signer"
                        .to_owned(),
                );
            }
            let validated = vouch_x509::validate_chain(&certs, &self.roots, now, Usage::any())
                .map_err(|e| format!("signed CoRIM signer certificate refused: {e}"))?;
            let key = validated
                .leaf()
                .ec_public_key()
                .map_err(|e| format!("signed CoRIM signer certificate: {e}"))?;
            return sign1
                .verify(&key)
                .map_err(|e| format!("signed CoRIM signature does not verify: {e}"));
        }
        if self.keys.is_empty() {
            return Err(
                "no CoRIM signer keys are configured, so the CoRIM's signer is unknown".to_owned(),
            );
        }
        // A `kid` naming a configured key (its RFC 7638 thumbprint) tells a
        // bad signature apart from an unknown signer. Other kids (Veraison's
        // tools write "1") are only hints: every key is tried.
        let kid = sign1.key_id();
        if let Some(key) = kid.and_then(|kid| self.keys.iter().find(|k| names_key(kid, k))) {
            return sign1
                .verify(key)
                .map_err(|e| format!("signed CoRIM signature does not verify: {e}"));
        }
        if self.keys.iter().any(|k| sign1.verify(k).is_ok()) {
            return Ok(());
        }
        Err(match kid {
            Some(kid) => format!(
                "signed CoRIM signer (kid {}) is not a configured CoRIM signer, or its signature \
                 is bad",
                hex::encode(kid)
            ),
            None => "signed CoRIM signature does not verify with any configured CoRIM signer key \
                     (unknown signer or bad signature)"
                .to_owned(),
        })
    }
}

/// Whether a `kid` names `key`: its RFC 7638 thumbprint, as text
/// (base64url) or as the raw 32 bytes.
fn names_key(kid: &[u8], key: &VerifyingKey) -> bool {
    use base64::Engine as _;
    let thumbprint = key.thumbprint();
    kid == thumbprint.as_bytes()
        || base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&thumbprint)
            .is_ok_and(|raw| raw == kid)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use vouch_corim::signed::HEADER_CORIM_META;
    use vouch_cose::{Sign1Builder, Value};
    use vouch_crypto::{Curve, SigningKey};
    use vouch_x509::mint::SignerChain;

    use super::*;

    const NOW: i64 = 1_800_000_000;

    /// `corim-meta` as veraison/corim writes it: a byte string holding
    /// `{0: {0: name}, 1: {0: not-before, 1: not-after}}`.
    fn meta(not_before: Option<i64>, not_after: Option<i64>) -> Value {
        let mut validity = Vec::new();
        if let Some(t) = not_before {
            validity.push((Value::from(0), Value::Tag(1, Box::new(Value::from(t)))));
        }
        if let Some(t) = not_after {
            validity.push((Value::from(1), Value::Tag(1, Box::new(Value::from(t)))));
        }
        let mut map = vec![(
            Value::from(0),
            Value::Map(vec![(Value::from(0), Value::Text("Test signer".into()))]),
        )];
        if !validity.is_empty() {
            map.push((Value::from(1), Value::Map(validity)));
        }
        let mut bytes = Vec::new();
        vouch_cose::ciborium::ser::into_writer(&Value::Map(map), &mut bytes).unwrap();
        Value::Bytes(bytes)
    }

    fn signed(key: &SigningKey, meta: Value) -> Vec<u8> {
        Sign1Builder::new()
            .protected_param(HEADER_CORIM_META, meta)
            .sign(key, b"corim payload")
            .unwrap()
    }

    fn window() -> Value {
        meta(Some(NOW - 10), Some(NOW + 10))
    }

    #[test]
    fn a_configured_key_opens_a_signed_corim_within_its_validity() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let signers = CorimSigners::new(vec![key.verifying_key()], vec![], false);
        assert_eq!(
            signers.open(&signed(&key, window()), NOW).unwrap(),
            b"corim payload"
        );
        // Without a validity period the signature alone decides.
        assert!(signers.open(&signed(&key, meta(None, None)), NOW).is_ok());
        // Any of several configured keys, and the P-384 and P-521 ones too.
        for curve in [Curve::P384, Curve::P521] {
            let other = SigningKey::generate(curve).unwrap();
            let signers = CorimSigners::new(
                vec![key.verifying_key(), other.verifying_key()],
                vec![],
                false,
            );
            assert!(signers.open(&signed(&other, window()), NOW).is_ok());
        }
    }

    #[test]
    fn expired_and_future_corims_are_refused_with_their_dates() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let signers = CorimSigners::new(vec![key.verifying_key()], vec![], false);
        let expired = signers
            .open(&signed(&key, meta(None, Some(NOW))), NOW)
            .unwrap_err();
        assert!(expired.contains("expired"), "{expired}");
        let future = signers
            .open(&signed(&key, meta(Some(NOW + 1), Some(NOW + 100))), NOW)
            .unwrap_err();
        assert!(future.contains("not yet valid"), "{future}");
    }

    #[test]
    fn unknown_signers_and_bad_signatures_are_refused() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let stranger = SigningKey::generate(Curve::P256).unwrap();
        let signers = CorimSigners::new(vec![key.verifying_key()], vec![], false);
        let unknown = signers.open(&signed(&stranger, window()), NOW).unwrap_err();
        assert!(unknown.contains("does not verify"), "{unknown}");

        let nobody = CorimSigners::default();
        let none = nobody.open(&signed(&key, window()), NOW).unwrap_err();
        assert!(none.contains("no CoRIM signer keys"), "{none}");

        // A kid that names the configured key separates a bad signature
        // from an unknown signer.
        let kid = key.verifying_key().thumbprint().into_bytes();
        let named = Sign1Builder::new()
            .protected_param(HEADER_CORIM_META, window())
            .key_id(kid)
            .sign(&stranger, b"corim payload")
            .unwrap();
        let bad = signers.open(&named, NOW).unwrap_err();
        assert!(bad.contains("signature does not verify"), "{bad}");
        let unnamed = Sign1Builder::new()
            .protected_param(HEADER_CORIM_META, window())
            .key_id(b"someone else".to_vec())
            .sign(&stranger, b"corim payload")
            .unwrap();
        let who = signers.open(&unnamed, NOW).unwrap_err();
        assert!(who.contains("not a configured CoRIM signer"), "{who}");
        // A kid that names nobody is a hint only.
        let hinted = Sign1Builder::new()
            .protected_param(HEADER_CORIM_META, window())
            .key_id(b"1".to_vec())
            .sign(&key, b"corim payload")
            .unwrap();
        assert!(signers.open(&hinted, NOW).is_ok());

        let mut tampered = signed(&key, window());
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(signers.open(&tampered, NOW).is_err());
    }

    #[test]
    fn malformed_envelopes_are_refused() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let signers = CorimSigners::new(vec![key.verifying_key()], vec![], false);
        let no_meta = Sign1Builder::new().sign(&key, b"corim payload").unwrap();
        assert!(
            signers
                .open(&no_meta, NOW)
                .unwrap_err()
                .contains("corim-meta")
        );
        for bad_meta in [
            Value::Text("meta".into()),
            Value::Map(vec![]),
            Value::Bytes(vec![0xff]),
        ] {
            let bytes = signed(&key, bad_meta.clone());
            assert!(signers.open(&bytes, NOW).is_err(), "{bad_meta:?}");
        }
        assert!(signers.open(b"\xd2\x84", NOW).is_err());
        assert!(signers.open(&[], NOW).is_err());
    }

    #[test]
    fn an_x5chain_must_chain_to_a_configured_root() {
        let chain = SignerChain::generate(NOW - 100).unwrap();
        let x5chain = chain.x5chain_der();
        let bytes = Sign1Builder::new()
            .protected_param(HEADER_CORIM_META, window())
            .x5chain(&x5chain)
            .sign(&chain.leaf.key, b"corim payload")
            .unwrap();
        let root = chain.root.cert.clone();
        let signers = CorimSigners::new(vec![], vec![root], false);
        assert_eq!(signers.open(&bytes, NOW).unwrap(), b"corim payload");

        let other = SignerChain::generate(NOW - 100).unwrap();
        let strangers = CorimSigners::new(vec![], vec![other.root.cert.clone()], false);
        let refused = strangers.open(&bytes, NOW).unwrap_err();
        assert!(refused.contains("signer certificate refused"), "{refused}");

        let keys_only = CorimSigners::new(vec![chain.leaf.key.verifying_key()], vec![], false);
        assert!(
            keys_only
                .open(&bytes, NOW)
                .unwrap_err()
                .contains("no CoRIM signer roots")
        );

        // The chain is right but the signature is the intermediate's.
        let forged = Sign1Builder::new()
            .protected_param(HEADER_CORIM_META, window())
            .x5chain(&x5chain)
            .sign(&chain.intermediate.key, b"corim payload")
            .unwrap();
        assert!(signers.open(&forged, NOW).is_err());
    }

    #[test]
    fn veraison_signed_corims_verify_and_are_expired_today() {
        let Some(dir) = vouch_testkit::vectors::dir() else {
            return;
        };
        let jwk: serde_json::Value = serde_json::from_slice(&vouch_testkit::vectors::read(
            &dir,
            "corim-generic/corimlib/ec-p256.jwk",
        ))
        .unwrap();
        let key = VerifyingKey::from_jwk(&jwk).unwrap();
        let signers = CorimSigners::new(vec![key], vec![], false);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        for file in [
            "corim-generic/corimlib/signed-good-corim.cbor",
            "corim-generic/corimlib/signed-example-corim.cbor",
            "corim-generic/cocli/signed-corim-valid.cbor",
        ] {
            let bytes = vouch_testkit::vectors::read(&dir, file);
            let reason = signers.open(&bytes, now).unwrap_err();
            assert!(reason.contains("expired"), "{file}: {reason}");
            // Before 2025-12-31 the same bytes open.
            assert!(signers.open(&bytes, 1_700_000_000).is_ok(), "{file}");
        }
        // No signature validity: the signature alone decides.
        let cots = vouch_testkit::vectors::read(
            &dir,
            "corim-generic/cocli/signed-corim-valid-with-cots.cbor",
        );
        assert!(signers.open(&cots, now).is_ok());
        let mangled = vouch_testkit::vectors::read(
            &dir,
            "corim-generic/cocli/data-signed-corim-bad-signature.cbor",
        );
        let reason = signers.open(&mangled, now).unwrap_err();
        assert!(reason.contains("could not decode"), "{reason}");
    }
}
