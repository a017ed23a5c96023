//! The JWKS document an OIDC issuer serves, which a hostile or broken
//! issuer can make any JSON. Besides "never panic": the key set keeps at
//! most 64 keys, gives each only the asymmetric algorithms of its own type
//! (never HMAC), finds keys by `kid` as documented, and lets a fixed token
//! verify only through a key that names the token's `alg` (and, for a token
//! without `kid`, only when the set holds a single key).
//!
//! The tokens are signed at start-up by keys derived from fixed bytes, so a
//! JWKS holding their public halves (the seeds do) verifies them in every
//! run.

#![no_main]

use vouch_testkit::fuzz_seed as seed;

use std::sync::OnceLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use vouch_auth::jwks::KeySet;
use vouch_auth::{OidcConfig, verify_token};

const ISSUER: &str = "https://keycloak.example:8443/realms/veraison";
const AUDIENCE: &str = "vouch";
const MAX_KEYS: usize = 64;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A P-256 key from a fixed private scalar: a SEC1 `ECPrivateKey` without
/// the public point, which AWS-LC derives.
fn fixed_ec_key() -> EcdsaKeyPair {
    let mut der = vec![0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20];
    der.extend_from_slice(&[0x5a; 32]);
    der.extend_from_slice(&[
        0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ]);
    EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
        .expect("fixed EC key")
}

fn fixed_ed_key() -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&[0xa5; 32]).expect("fixed Ed25519 key")
}

fn ec_jwk(pair: &EcdsaKeyPair, kid: Option<&str>) -> Value {
    let point = pair.public_key().as_ref();
    let mut jwk =
        json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])});
    if let (Some(kid), Some(members)) = (kid, jwk.as_object_mut()) {
        members.insert("kid".to_owned(), json!(kid));
    }
    jwk
}

fn ed_jwk(pair: &Ed25519KeyPair, kid: &str) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(pair.public_key().as_ref())})
}

/// A token the fixture signs.
struct FixedToken {
    text: String,
    alg: Algorithm,
    kid: Option<&'static str>,
}

struct Fixture {
    config: OidcConfig,
    tokens: Vec<FixedToken>,
}

fn sign(header: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "exp": 4_102_444_800_u64,
        "preferred_username": "fuzz", "realm_access": {"roles": ["provisioner"]},
    });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ec = fixed_ec_key();
        let ed = fixed_ed_key();
        let rng = SystemRandom::new();
        let ecdsa = |m: &[u8]| ec.sign(&rng, m).expect("sign").as_ref().to_vec();
        let tokens = vec![
            FixedToken {
                text: sign(&json!({"alg": "ES256", "kid": "fuzz-ec"}), ecdsa),
                alg: Algorithm::ES256,
                kid: Some("fuzz-ec"),
            },
            FixedToken {
                text: sign(&json!({"alg": "ES256"}), ecdsa),
                alg: Algorithm::ES256,
                kid: None,
            },
            FixedToken {
                text: sign(&json!({"alg": "EdDSA", "kid": "fuzz-ed"}), |m| {
                    ed.sign(m).as_ref().to_vec()
                }),
                alg: Algorithm::EdDSA,
                kid: Some("fuzz-ed"),
            },
        ];
        Fixture {
            config: OidcConfig::new(ISSUER, AUDIENCE),
            tokens,
        }
    })
}

/// The algorithm families a key may verify: one curve's ECDSA, EdDSA, or
/// RSA (PKCS#1 v1.5 and PSS).
fn one_family(algorithms: &[Algorithm]) -> bool {
    use Algorithm::*;
    let rsa = [RS256, RS384, RS512, PS256, PS384, PS512];
    match algorithms {
        [ES256] | [ES384] | [EdDSA] => true,
        many => !many.is_empty() && many.iter().all(|a| rsa.contains(a)),
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let ec = fixed_ec_key();
    let ed = fixed_ed_key();
    let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("RSA key");
    let public = rsa.public_key();
    let rsa_jwk = |kid: &str, extra: Value| {
        let mut jwk = json!({
            "kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig",
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
            "x5t": "aGVsbG8", "x5t#S256": "d29ybGQ",
        });
        if let (Some(jwk), Some(extra)) = (jwk.as_object_mut(), extra.as_object()) {
            jwk.extend(extra.clone());
        }
        jwk
    };
    let with = |mut jwk: Value, extra: Value| {
        if let (Some(jwk), Some(extra)) = (jwk.as_object_mut(), extra.as_object()) {
            jwk.extend(extra.clone());
        }
        jwk
    };
    let sets = [
        // Keycloak's shape: a signing and an encryption RSA key.
        json!({"keys": [rsa_jwk("sig-1", json!({})), rsa_jwk("enc-1", json!({"use": "enc", "alg": "RSA-OAEP"}))]}),
        json!({"keys": [ec_jwk(&ec, Some("fuzz-ec")), ed_jwk(&ed, "fuzz-ed")]}),
        json!({"keys": [ec_jwk(&ec, None)]}),
        json!({"keys": [with(ec_jwk(&ec, Some("fuzz-ec")), json!({"alg": "ES256", "use": "sig", "key_ops": ["verify"]}))]}),
        json!({"keys": [with(ec_jwk(&ec, Some("fuzz-ec")), json!({"alg": "RS256"}))]}),
        json!({"keys": [with(ec_jwk(&ec, Some("fuzz-ec")), json!({"key_ops": ["sign"]}))]}),
        json!({"keys": [with(ec_jwk(&ec, Some("fuzz-ec")), json!({"crv": "P-384"}))]}),
        json!({"keys": [with(ed_jwk(&ed, "fuzz-ed"), json!({"crv": "Ed448"}))]}),
        json!({"keys": [{"kty": "oct", "kid": "fuzz-ec", "alg": "HS256", "k": b64(b"secret")}]}),
        json!({"keys": [ec_jwk(&ec, Some("fuzz-ec")), ec_jwk(&ec, Some("fuzz-ec")), 7, null, "x", {}]}),
        json!({"keys": [rsa_jwk("x5c", json!({"x5c": ["MIIB"], "e": "AQAB", "n": "AA"}))]}),
        json!({"keys": vec![ed_jwk(&ed, "many"); MAX_KEYS + 2]}),
        json!({"keys": []}),
        json!({"keys": {}}),
        json!([]),
    ];
    sets.iter().map(|s| s.to_string().into_bytes()).collect()
}

fuzz_target!(
    init: seed::plant(seeds),
    |data: &[u8]| {
        let Ok(set) = KeySet::parse(data) else {
            return;
        };
        assert!(set.keys().len() <= MAX_KEYS, "{} keys kept", set.keys().len());
        for key in set.keys() {
            assert!(one_family(key.algorithms()), "{key:?} may verify {:?}", key.algorithms());
            if let Some(kid) = key.kid() {
                let found = set.find(Some(kid)).expect("a key is found by its kid");
                assert_eq!(found.kid(), Some(kid));
            }
        }
        assert_eq!(set.find(None).is_some(), set.keys().len() == 1);
        let named = |kid: &str| set.keys().iter().any(|k| k.kid() == Some(kid));
        assert_eq!(set.find(Some("fuzz-ec")).is_some(), named("fuzz-ec"));
        let f = fixture();
        for token in &f.tokens {
            if verify_token(&f.config, &set, &token.text).is_ok() {
                let key = set.find(token.kid).expect("a verified token's key is in the set");
                assert!(key.algorithms().contains(&token.alg), "{key:?} verified {:?}", token.alg);
                if token.kid.is_none() {
                    assert_eq!(set.keys().len(), 1, "a token without kid verified against several keys");
                }
            }
        }
    }
);
