//! EARs as signed JWTs (JWS compact serialisation).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use vouch_crypto::{Algorithm, SigningKey, VerifyingKey};

use crate::ear::deserialize_numeric_date;
use crate::{B64URL, Ear, EarError, is_json_object};

/// Largest JWT [`verify`] accepts, in bytes. EARs carry the annotated
/// evidence, a few kilobytes even for CCA.
pub const MAX_JWT_LEN: usize = 1 << 20;

/// Signs EARs as JWTs with one key (ES256 for P-256, ES384 for P-384).
///
/// The base64url JOSE header (`{"alg":"ES256","typ":"JWT","kid":…}`, the
/// key id being the key's RFC 7638 thumbprint) is built once, so signing
/// costs one JSON serialisation, one signature and the base64url encoding.
/// Cheap to clone.
#[derive(Clone)]
pub struct EarSigner {
    key: SigningKey,
    alg: Algorithm,
    kid: String,
    header_b64: String,
    public_jwk: Value,
}

impl std::fmt::Debug for EarSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EarSigner")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl EarSigner {
    /// A signer using `key`; the algorithm follows the key's curve.
    pub fn new(key: SigningKey) -> Self {
        let alg = key.algorithm();
        let verifying = key.verifying_key();
        let kid = verifying.thumbprint();
        // The thumbprint is base64url, so it needs no JSON escaping.
        let header = format!(
            r#"{{"alg":"{}","typ":"JWT","kid":"{kid}"}}"#,
            alg.jws_name()
        );
        let header_b64 = B64URL.encode(header);
        let mut public_jwk = verifying.to_jwk();
        if let Some(members) = public_jwk.as_object_mut() {
            members.insert("alg".to_owned(), Value::String(alg.jws_name().to_owned()));
            members.insert("kid".to_owned(), Value::String(kid.clone()));
        }
        Self {
            key,
            alg,
            kid,
            header_b64,
            public_jwk,
        }
    }

    /// Validates `ear` ([`Ear::validate`]) and signs it, returning the JWT.
    pub fn sign(&self, ear: &Ear) -> Result<String, EarError> {
        ear.validate()?;
        let mut payload = Vec::with_capacity(1024);
        serde_json::to_writer(&mut payload, ear).map_err(EarError::Serialize)?;
        let mut jwt = String::with_capacity(
            self.header_b64.len()
                + 2
                + base64_len(payload.len())
                + base64_len(self.alg.signature_len()),
        );
        jwt.push_str(&self.header_b64);
        jwt.push('.');
        B64URL.encode_string(&payload, &mut jwt);
        let signature = self.key.sign(jwt.as_bytes()).map_err(EarError::Sign)?;
        jwt.push('.');
        B64URL.encode_string(&signature, &mut jwt);
        Ok(jwt)
    }

    /// The public key as a JWK with `kty`, `crv`, `x`, `y`, `alg` and `kid`:
    /// what the verification service publishes as `ear-verification-key`.
    pub fn public_jwk(&self) -> Value {
        self.public_jwk.clone()
    }

    /// The key id in the JWT header (RFC 7638 thumbprint).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWS algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The public half of the signing key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }
}

/// Unpadded base64 length of `n` bytes.
fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    crit: Option<Value>,
}

#[derive(Deserialize)]
struct TimeClaims {
    #[serde(default, deserialize_with = "optional_numeric_date")]
    exp: Option<i64>,
    #[serde(default, deserialize_with = "optional_numeric_date")]
    nbf: Option<i64>,
}

fn optional_numeric_date<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    deserialize_numeric_date(deserializer).map(Some)
}

/// Verifies an EAR JWT with `key` at the current time and parses its claims.
///
/// See [`verify_at`] for the checks.
pub fn verify(jwt: &str, key: &VerifyingKey) -> Result<Ear, EarError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    verify_at(jwt, key, now)
}

/// Verifies an EAR JWT with `key` as of `now` (Unix seconds) and parses its
/// claims.
///
/// Strict JWS compact checks: exactly three non-empty base64url (unpadded)
/// parts and nothing around them; a JSON-object header whose `alg` is ES256
/// or ES384 and matches the key's curve (`none`, HMAC and anything else are
/// refused, as is any `crit` header); a valid signature; then a payload that
/// parses as an [`Ear`], with JWT `exp`/`nbf` honoured when present. A key
/// embedded in the header (`jwk`) is never trusted: the caller chooses the
/// key. The EAT profile is not checked here (see [`Ear::validate`]).
pub fn verify_at(jwt: &str, key: &VerifyingKey, now: i64) -> Result<Ear, EarError> {
    if jwt.len() > MAX_JWT_LEN {
        return Err(EarError::Malformed("JWT is larger than 1 MiB"));
    }
    let mut parts = jwt.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(EarError::Malformed("expected three dot-separated parts"));
    };
    if header_b64.is_empty() || payload_b64.is_empty() {
        return Err(EarError::Malformed("empty header or payload"));
    }

    let header_json = B64URL
        .decode(header_b64)
        .map_err(|_| EarError::Malformed("header is not unpadded base64url"))?;
    if !is_json_object(&header_json) {
        return Err(EarError::Header("not a JSON object".to_owned()));
    }
    let header: Header =
        serde_json::from_slice(&header_json).map_err(|e| EarError::Header(e.to_string()))?;
    if header.crit.is_some() {
        return Err(EarError::Header(
            "critical header parameters are not supported".to_owned(),
        ));
    }
    let alg =
        Algorithm::from_jws_name(&header.alg).ok_or(EarError::UnsupportedAlgorithm(header.alg))?;
    if alg.curve() != key.curve() {
        return Err(EarError::AlgorithmMismatch {
            alg,
            curve: key.curve(),
        });
    }

    if signature_b64.is_empty() {
        return Err(EarError::Malformed("missing signature"));
    }
    let signature = B64URL
        .decode(signature_b64)
        .map_err(|_| EarError::Malformed("signature is not unpadded base64url"))?;
    let signing_input = jwt
        .get(..header_b64.len() + 1 + payload_b64.len())
        .ok_or(EarError::Malformed("expected three dot-separated parts"))?;
    key.verify(alg, signing_input.as_bytes(), &signature)
        .map_err(EarError::Signature)?;

    let payload = B64URL
        .decode(payload_b64)
        .map_err(|_| EarError::Malformed("payload is not unpadded base64url"))?;
    let ear = Ear::from_json(&payload)?;
    let times: TimeClaims = serde_json::from_slice(&payload).map_err(EarError::Claims)?;
    if let Some(exp) = times.exp
        && now >= exp
    {
        return Err(EarError::Expired { exp, now });
    }
    if let Some(nbf) = times.nbf
        && now < nbf
    {
        return Err(EarError::NotYetValid { nbf, now });
    }
    Ok(ear)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TrustClaim, TrustTier, VerifierId};
    use serde_json::json;
    use vouch_crypto::Curve;

    fn sample() -> Ear {
        let mut ear = Ear::new(
            "PSA_IOT",
            VerifierId {
                build: "test".to_owned(),
                developer: "Vouch".to_owned(),
            },
            1_700_000_000,
        );
        ear.set_nonce(&[1; 32]).unwrap();
        let a = ear.submods.get_mut("PSA_IOT").unwrap();
        a.trust_vector.hardware = TrustClaim::GENUINE_HARDWARE;
        a.trust_vector.executables = TrustClaim::UNRECOGNIZED_RUNTIME;
        a.policy_id = Some("policy:PSA_IOT".to_owned());
        ear.update_status_from_trust_vector();
        ear
    }

    /// Builds a JWS from raw parts, signed with `key`.
    fn forge(key: &SigningKey, header: &Value, payload: &[u8]) -> String {
        let input = format!(
            "{}.{}",
            B64URL.encode(serde_json::to_vec(header).unwrap()),
            B64URL.encode(payload)
        );
        let sig = key.sign(input.as_bytes()).unwrap();
        format!("{input}.{}", B64URL.encode(sig))
    }

    #[test]
    fn sign_verify_round_trip() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let signer = EarSigner::new(key.clone());
        let ear = sample();
        let jwt = signer.sign(&ear).unwrap();
        let back = verify(&jwt, &key.verifying_key()).unwrap();
        assert_eq!(back, ear);
        assert_eq!(back.submods["PSA_IOT"].status, TrustTier::Warning);

        // A different key does not verify it.
        let other = SigningKey::generate(Curve::P256).unwrap();
        assert!(matches!(
            verify(&jwt, &other.verifying_key()),
            Err(EarError::Signature(_))
        ));
    }

    #[test]
    fn header_and_public_jwk() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let signer = EarSigner::new(key.clone());
        let jwt = signer.sign(&sample()).unwrap();
        let header_b64 = jwt.split('.').next().unwrap();
        let header: Value = serde_json::from_slice(&B64URL.decode(header_b64).unwrap()).unwrap();
        let kid = key.verifying_key().thumbprint();
        assert_eq!(header, json!({"alg": "ES256", "typ": "JWT", "kid": kid}));
        assert_eq!(signer.kid(), kid);
        assert_eq!(signer.algorithm(), Algorithm::Es256);

        let jwk = signer.public_jwk();
        let mut expected = key.verifying_key().to_jwk();
        expected["alg"] = json!("ES256");
        expected["kid"] = json!(kid);
        assert_eq!(jwk, expected);
        assert!(jwk.get("d").is_none());
        // The published JWK is enough to verify.
        let published = VerifyingKey::from_jwk(&jwk).unwrap();
        assert!(verify(&jwt, &published).is_ok());
    }

    #[test]
    fn p384_keys_sign_es384() {
        let key = SigningKey::generate(Curve::P384).unwrap();
        let signer = EarSigner::new(key.clone());
        assert_eq!(signer.algorithm(), Algorithm::Es384);
        let jwt = signer.sign(&sample()).unwrap();
        assert_eq!(verify(&jwt, &key.verifying_key()).unwrap(), sample());
        let p256 = SigningKey::generate(Curve::P256).unwrap();
        assert!(matches!(
            verify(&jwt, &p256.verifying_key()),
            Err(EarError::AlgorithmMismatch { .. })
        ));
    }

    #[test]
    fn signing_validates_first() {
        let signer = EarSigner::new(SigningKey::generate(Curve::P256).unwrap());
        let mut ear = sample();
        ear.nonce = Some("short".to_owned());
        assert!(matches!(signer.sign(&ear), Err(EarError::InvalidNonce(_))));
        let mut ear = sample();
        ear.submods.clear();
        assert!(matches!(signer.sign(&ear), Err(EarError::Invalid(_))));
    }

    #[test]
    fn structural_rejections() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let vk = key.verifying_key();
        let jwt = EarSigner::new(key.clone()).sign(&sample()).unwrap();
        let (h, rest) = jwt.split_once('.').unwrap();
        let (p, s) = rest.split_once('.').unwrap();

        let malformed = [
            format!(".{jwt}"),
            format!("{jwt}."),
            format!("{jwt}.trailing"),
            format!("{h}.{p}"),
            format!("{h}..{s}"),
            format!(".{p}.{s}"),
            format!("{h}.{p}."),
            format!("{h}={}", &jwt[h.len()..]),
            format!("{h}.{p}.{s}=="),
            format!("{h}.{p}+.{s}"),
            format!(" {jwt}"),
            format!("{jwt}\n"),
            String::new(),
            "a.b".to_owned(),
            "x".repeat(MAX_JWT_LEN + 1),
        ];
        for bad in &malformed {
            let shown: String = bad.chars().take(60).collect();
            assert!(verify(bad, &vk).is_err(), "accepted {shown:?}");
        }

        // Tampering with the payload breaks the signature.
        let mut ear = sample();
        ear.submods.get_mut("PSA_IOT").unwrap().status = TrustTier::Affirming;
        let forged_payload = B64URL.encode(serde_json::to_vec(&ear).unwrap());
        assert!(matches!(
            verify(&format!("{h}.{forged_payload}.{s}"), &vk),
            Err(EarError::Signature(_))
        ));
    }

    #[test]
    fn algorithm_rejections() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let vk = key.verifying_key();
        let payload = serde_json::to_vec(&sample()).unwrap();
        for alg in ["none", "HS256", "RS256", "PS256", "EdDSA", "es256", ""] {
            let jwt = forge(&key, &json!({"alg": alg, "typ": "JWT"}), &payload);
            assert!(
                matches!(verify(&jwt, &vk), Err(EarError::UnsupportedAlgorithm(_))),
                "{alg}"
            );
        }
        let es384 = forge(&key, &json!({"alg": "ES384"}), &payload);
        assert!(matches!(
            verify(&es384, &vk),
            Err(EarError::AlgorithmMismatch { .. })
        ));
        let crit = forge(
            &key,
            &json!({"alg": "ES256", "crit": ["b64"], "b64": false}),
            &payload,
        );
        assert!(matches!(verify(&crit, &vk), Err(EarError::Header(_))));
        let no_alg = forge(&key, &json!({"typ": "JWT"}), &payload);
        assert!(matches!(verify(&no_alg, &vk), Err(EarError::Header(_))));
        let array = forge(&key, &json!(["ES256"]), &payload);
        assert!(matches!(verify(&array, &vk), Err(EarError::Header(_))));
        // A correctly signed ES256 JWT with extra header members is fine.
        let extra = forge(
            &key,
            &json!({"alg": "ES256", "typ": "JWT", "kid": "k", "x5t": "y"}),
            &payload,
        );
        assert!(verify(&extra, &vk).is_ok());
    }

    #[test]
    fn payload_rejections() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let vk = key.verifying_key();
        let header = json!({"alg": "ES256"});
        for payload in [
            &b"{}"[..],
            b"[]",
            b"null",
            b"not json",
            b"{\"eat_profile\":1}",
        ] {
            let jwt = forge(&key, &header, payload);
            assert!(
                verify(&jwt, &vk).is_err(),
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
        let as_array = forge(
            &key,
            &header,
            br#"[null,{"build":"b","developer":"d"},null,"p",1,{"s":{"ear.status":"none"}}]"#,
        );
        assert!(verify(&as_array, &vk).is_err());
    }

    #[test]
    fn invalid_utf8_in_ignored_members_is_refused() {
        // serde_json skips the members a struct ignores without checking
        // their UTF-8; the fuzz target verify_ear found such a header.
        let key = SigningKey::generate(Curve::P256).unwrap();
        let vk = key.verifying_key();
        let sign = |header: &[u8], payload: &[u8]| {
            let input = format!("{}.{}", B64URL.encode(header), B64URL.encode(payload));
            let sig = key.sign(input.as_bytes()).unwrap();
            format!("{input}.{}", B64URL.encode(sig))
        };
        let claims = serde_json::to_vec(&sample()).unwrap();
        let good_header = br#"{"alg":"ES256","kid":"k"}"#;
        assert!(verify(&sign(good_header, &claims), &vk).is_ok());
        let bad_header = b"{\"alg\":\"ES256\",\"kid\":\"\xff\"}";
        assert!(matches!(
            verify(&sign(bad_header, &claims), &vk),
            Err(EarError::Header(_))
        ));
        let mut bad_claims = claims[..claims.len() - 1].to_vec();
        bad_claims.extend_from_slice(b",\"x-unknown\":\"\xc3\"}");
        assert!(verify(&sign(good_header, &bad_claims), &vk).is_err());
        assert!(Ear::from_json(&bad_claims).is_err());
    }

    #[test]
    fn time_claims() {
        let key = SigningKey::generate(Curve::P256).unwrap();
        let vk = key.verifying_key();
        let mut claims = serde_json::to_value(sample()).unwrap();
        claims["exp"] = json!(2_000);
        claims["nbf"] = json!(1_000);
        let jwt = forge(
            &key,
            &json!({"alg": "ES256"}),
            &serde_json::to_vec(&claims).unwrap(),
        );
        assert!(verify_at(&jwt, &vk, 1_500).is_ok());
        assert!(verify_at(&jwt, &vk, 1_000).is_ok());
        assert!(matches!(
            verify_at(&jwt, &vk, 999),
            Err(EarError::NotYetValid {
                nbf: 1_000,
                now: 999
            })
        ));
        assert!(matches!(
            verify_at(&jwt, &vk, 2_000),
            Err(EarError::Expired { exp: 2_000, .. })
        ));
        assert!(matches!(verify(&jwt, &vk), Err(EarError::Expired { .. })));
        claims["exp"] = json!("soon");
        let jwt = forge(
            &key,
            &json!({"alg": "ES256"}),
            &serde_json::to_vec(&claims).unwrap(),
        );
        assert!(matches!(
            verify_at(&jwt, &vk, 1_500),
            Err(EarError::Claims(_))
        ));
    }
}
