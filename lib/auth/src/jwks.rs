//! An issuer's JSON Web Key Set, reduced to the keys that may verify its
//! tokens and the algorithms each may verify.
//!
//! Each key accepts only the asymmetric algorithms of its own type: EC P-256
//! → ES256, P-384 → ES384, RSA → RS256/384/512 and PS256/384/512, Ed25519
//! → EdDSA, or just the one its `alg` names. Symmetric (`oct`) keys,
//! encryption keys and unknown key types are dropped, so neither HS256
//! (with the public key as the secret) nor `none` can ever verify.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use crate::AuthError;

/// Keys beyond this many are ignored: a JWKS holds a handful.
const MAX_KEYS: usize = 64;

/// One key that may verify tokens.
#[derive(Clone)]
pub struct VerificationKey {
    kid: Option<String>,
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

impl VerificationKey {
    /// The key's `kid`, when it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithms this key may verify.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// The key, for `jsonwebtoken::decode`.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

/// The usable keys of a JWKS.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

/// The algorithms a key of this type may verify, before `alg` narrows them.
fn algorithms_for(params: &AlgorithmParameters) -> &'static [Algorithm] {
    match params {
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => &[Algorithm::ES256],
            EllipticCurve::P384 => &[Algorithm::ES384],
            _ => &[],
        },
        AlgorithmParameters::RSA(_) => &[
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
            EllipticCurve::Ed25519 => &[Algorithm::EdDSA],
            _ => &[],
        },
        // Symmetric keys never verify tokens here, whatever `alg` says.
        _ => &[],
    }
}

/// The key, if it is a signature key of a type we accept.
fn usable(jwk: &Jwk) -> Option<VerificationKey> {
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    if matches!(&jwk.common.key_operations, Some(ops) if !ops.contains(&KeyOperations::Verify)) {
        return None;
    }
    let mut algorithms = algorithms_for(&jwk.algorithm).to_vec();
    if let Some(alg) = jwk.common.key_algorithm {
        // An `alg` outside the key's family (or an encryption algorithm)
        // makes the key unusable rather than widening what it accepts.
        let named = Algorithm::try_from(alg).ok()?;
        algorithms.retain(|a| *a == named);
    }
    if algorithms.is_empty() {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerificationKey {
        kid: jwk.common.key_id.clone(),
        key,
        algorithms,
    })
}

impl KeySet {
    /// Parses a JWKS document (`{"keys":[…]}`). Keys that cannot verify
    /// tokens (encryption or symmetric keys, unknown types or curves,
    /// malformed members) are skipped; an error means the document is not
    /// a JWKS at all.
    pub fn parse(json: &[u8]) -> Result<Self, AuthError> {
        let raw: RawSet =
            serde_json::from_slice(json).map_err(|e| AuthError::Jwks(e.to_string()))?;
        let keys = raw
            .keys
            .into_iter()
            .take(MAX_KEYS)
            .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
            .filter_map(|jwk| usable(&jwk))
            .collect();
        Ok(KeySet { keys })
    }

    /// The usable keys.
    pub fn keys(&self) -> &[VerificationKey] {
        &self.keys
    }

    /// Whether no key is usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key a token's `kid` names. A token without a `kid` may use the
    /// set's only key; with several keys it names none.
    pub fn find(&self, kid: Option<&str>) -> Option<&VerificationKey> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None => match self.keys.as_slice() {
                [only] => Some(only),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
    const RSA: &str = r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}"#;
    const OKP: &str =
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

    fn with(member: &str, extra: &str) -> String {
        let trimmed = member.trim_end_matches('}');
        format!("{trimmed},{extra}}}")
    }

    fn set(members: &[String]) -> KeySet {
        KeySet::parse(format!("{{\"keys\":[{}]}}", members.join(",")).as_bytes()).unwrap()
    }

    #[test]
    fn each_key_type_gets_only_its_asymmetric_algorithms() {
        let keys = set(&[
            with(EC, r#""kid":"ec""#),
            with(RSA, r#""kid":"rsa""#),
            with(OKP, r#""kid":"ed""#),
        ]);
        assert_eq!(
            keys.find(Some("ec")).unwrap().algorithms(),
            [Algorithm::ES256]
        );
        assert_eq!(keys.find(Some("rsa")).unwrap().algorithms().len(), 6);
        assert!(
            keys.find(Some("rsa"))
                .unwrap()
                .algorithms()
                .iter()
                .all(|a| !matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        );
        assert_eq!(
            keys.find(Some("ed")).unwrap().algorithms(),
            [Algorithm::EdDSA]
        );
        assert!(keys.find(Some("other")).is_none());
        // Three keys: a token without a kid names none of them.
        assert!(keys.find(None).is_none());
    }

    #[test]
    fn alg_narrows_and_mismatches_drop_the_key() {
        let keys = set(&[
            with(RSA, r#""kid":"rs","alg":"PS256""#),
            with(EC, r#""kid":"bad","alg":"RS256""#),
            with(RSA, r#""kid":"enc","alg":"RSA-OAEP""#),
        ]);
        assert_eq!(
            keys.find(Some("rs")).unwrap().algorithms(),
            [Algorithm::PS256]
        );
        assert_eq!(keys.keys().len(), 1);
    }

    #[test]
    fn symmetric_encryption_and_unknown_keys_are_skipped() {
        let keys = set(&[
            r#"{"kty":"oct","k":"c2VjcmV0","kid":"hmac","alg":"HS256"}"#.to_owned(),
            with(RSA, r#""kid":"enc","use":"enc""#),
            with(EC, r#""kid":"wrapping","key_ops":["wrapKey"]"#),
            r#"{"kty":"EC","crv":"P-521","x":"AQ","y":"AQ","kid":"p521"}"#.to_owned(),
            r#"{"kty":"XYZ","kid":"alien"}"#.to_owned(),
            r#"{"kid":"no type"}"#.to_owned(),
            r#"42"#.to_owned(),
            with(EC, r#""kid":"sig","use":"sig""#),
        ]);
        assert_eq!(keys.keys().len(), 1, "{keys:?}");
        // The only key serves tokens without a kid.
        assert_eq!(keys.find(None).unwrap().kid(), Some("sig"));
    }

    #[test]
    fn documents_that_are_not_key_sets_are_errors() {
        for bad in [&b""[..], b"[]", b"{}", b"{\"keys\":{}}", b"null"] {
            assert!(KeySet::parse(bad).is_err(), "{bad:?}");
        }
        assert!(KeySet::parse(b"{\"keys\":[]}").unwrap().is_empty());
    }
}
