//! The OIDC bearer-token path, with tokens the target signs itself so that
//! the fuzzer reaches past the signature: `Authorization: Bearer` parsing,
//! header parsing, `kid`/`alg` key selection, signature verification,
//! `iss`/`aud`/`exp`/`nbf` checks and the principal's name and roles.
//!
//! The JWKS is minted at start-up: an ES256 key (`ec`), an Ed25519 key
//! (`ed`), an RSA key (`rsa`, public only), an HMAC secret (`hs`, which the
//! key set must drop) and a P-256 key published for encryption only (`enc`,
//! also dropped). Input: one mode byte, then the JOSE header JSON, a
//! newline, and the claims JSON; the mode says how the token is signed.
//! Only tokens signed by `ec` or `ed` may verify, and when one does, what
//! was accepted must be what the checks promise.

#![no_main]

use vouch_testkit::fuzz_seed as seed;

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use vouch_auth::jwks::KeySet;
use vouch_auth::{Credentials, OidcConfig, Principal, Role, verify_token};

const ISSUER: &str = "https://keycloak.example:8443/realms/veraison";
const AUDIENCE: &str = "vouch";
/// Far enough ahead that seeds stay valid.
const EXP: i64 = 4_102_444_800;

/// How a fuzz input becomes a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Signed by the published ES256 key `ec`.
    Ec,
    /// Signed by the published Ed25519 key `ed`.
    Ed,
    /// Signed by a P-256 key the JWKS lists for encryption only.
    Rogue,
    /// HS256 with the `ec` public key (PEM) as the secret: key confusion.
    HmacPublicKey,
    /// HS256 with the secret of the JWKS's `oct` key.
    HmacOct,
    /// No signature at all.
    Unsigned,
    /// The input after the mode byte is the whole token.
    Raw,
    /// Signed by `ec`, then the claims are changed by one byte.
    Tampered,
}

const MODES: [Mode; 8] = [
    Mode::Ec,
    Mode::Ed,
    Mode::Rogue,
    Mode::HmacPublicKey,
    Mode::HmacOct,
    Mode::Unsigned,
    Mode::Raw,
    Mode::Tampered,
];

fn mode_byte(mode: Mode) -> u8 {
    MODES.iter().position(|m| *m == mode).map_or(0, |i| i as u8)
}

struct Fixture {
    config: OidcConfig,
    keys: KeySet,
    ec: EcdsaKeyPair,
    ed: Ed25519KeyPair,
    rogue: EcdsaKeyPair,
    public_pem: String,
    oct_secret: Vec<u8>,
    rng: SystemRandom,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn ec_jwk(pair: &EcdsaKeyPair, kid: &str, extra: Value) -> Value {
    // Uncompressed point: 0x04 || x || y.
    let point = pair.public_key().as_ref();
    let mut jwk = json!({
        "kty": "EC", "crv": "P-256", "kid": kid,
        "x": b64(&point[1..33]), "y": b64(&point[33..65]),
    });
    if let (Some(jwk), Some(extra)) = (jwk.as_object_mut(), extra.as_object()) {
        jwk.extend(extra.clone());
    }
    jwk
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key");
        let ed = Ed25519KeyPair::generate().expect("Ed25519 key");
        let rogue = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key");
        let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("RSA key");
        let oct_secret = b"a shared secret the verifier must never accept".to_vec();
        let spki = ec.public_key().as_der().expect("SPKI");
        let public_pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(spki.as_ref())
        );
        let rsa_public = rsa.public_key();
        let jwks = json!({"keys": [
            ec_jwk(&ec, "ec", json!({"use": "sig", "alg": "ES256"})),
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "use": "sig", "alg": "EdDSA",
             "x": b64(ed.public_key().as_ref())},
            {"kty": "RSA", "kid": "rsa", "use": "sig", "alg": "RS256",
             "n": b64(rsa_public.modulus().big_endian_without_leading_zero()),
             "e": b64(rsa_public.exponent().big_endian_without_leading_zero())},
            {"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64(&oct_secret)},
            ec_jwk(&rogue, "enc", json!({"use": "enc"})),
        ]});
        let keys = KeySet::parse(jwks.to_string().as_bytes()).expect("fixture JWKS");
        let kids: Vec<_> = keys.keys().iter().map(|k| k.kid()).collect();
        assert_eq!(kids, [Some("ec"), Some("ed"), Some("rsa")], "usable keys");
        Fixture {
            config: OidcConfig::new(ISSUER, AUDIENCE),
            keys,
            ec,
            ed,
            rogue,
            public_pem,
            oct_secret,
            rng: SystemRandom::new(),
        }
    })
}

fn hs256(secret: &[u8], input: &str) -> Vec<u8> {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    aws_lc_rs::hmac::sign(&key, input.as_bytes())
        .as_ref()
        .to_vec()
}

/// The compact JWS the mode makes of `header` and `claims`.
fn token(f: &Fixture, mode: Mode, header: &[u8], claims: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let ecdsa = |pair: &EcdsaKeyPair| {
        pair.sign(&f.rng, input.as_bytes())
            .expect("sign")
            .as_ref()
            .to_vec()
    };
    let signature = match mode {
        Mode::Ec | Mode::Tampered => ecdsa(&f.ec),
        Mode::Ed => f.ed.sign(input.as_bytes()).as_ref().to_vec(),
        Mode::Rogue => ecdsa(&f.rogue),
        Mode::HmacPublicKey => hs256(f.public_pem.as_bytes(), &input),
        Mode::HmacOct => hs256(&f.oct_secret, &input),
        Mode::Unsigned | Mode::Raw => Vec::new(),
    };
    if mode == Mode::Tampered {
        let mut altered = claims.to_vec();
        altered.push(b' ');
        return format!("{}.{}.{}", b64(header), b64(&altered), b64(&signature));
    }
    format!("{input}.{}", b64(&signature))
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// What the principal of accepted `claims` must be: named by
/// `preferred_username`, else `sub`; the Vouch roles among the realm roles.
fn expected_principal(claims: &Map<String, Value>) -> (String, Vec<Role>) {
    let name = ["preferred_username", "sub"]
        .iter()
        .find_map(|c| claims.get(*c).and_then(Value::as_str))
        .unwrap_or("unnamed")
        .to_owned();
    let roles: BTreeSet<Role> = claims
        .get("realm_access")
        .and_then(|r| r.get("roles"))
        .and_then(Value::as_array)
        .map(|roles| {
            roles
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|r| r.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    (name, roles.into_iter().collect())
}

/// Checks an accepted token against what verification promises.
fn check_accepted(f: &Fixture, mode: Mode, header: &[u8], claims: &[u8], principal: &Principal) {
    let (alg, kid) = match mode {
        Mode::Ec => ("ES256", "ec"),
        Mode::Ed => ("EdDSA", "ed"),
        other => panic!("a token made in mode {other:?} verified"),
    };
    let header: Value = serde_json::from_slice(header).expect("an accepted header is JSON");
    assert_eq!(header["alg"], alg, "accepted under another alg");
    assert_eq!(header["kid"], kid, "accepted under another kid");
    let claims: Map<String, Value> =
        serde_json::from_slice(claims).expect("accepted claims are a JSON object");
    assert_eq!(
        claims.get("iss").and_then(Value::as_str),
        Some(ISSUER),
        "iss"
    );
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == AUDIENCE,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(AUDIENCE)),
        _ => false,
    };
    assert!(
        aud_ok,
        "aud does not name {AUDIENCE}: {:?}",
        claims.get("aud")
    );
    let leeway = f.config.leeway.as_secs_f64();
    let exp = claims
        .get("exp")
        .and_then(Value::as_f64)
        .expect("accepted without a numeric exp");
    assert!(
        exp + leeway + 1.0 >= now(),
        "accepted an expired token (exp {exp})"
    );
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_f64) {
        assert!(
            nbf - leeway - 1.0 <= now(),
            "accepted a token before its nbf ({nbf})"
        );
    }
    let (name, roles) = expected_principal(&claims);
    assert_eq!(principal.name, name);
    assert_eq!(principal.roles, roles);
}

fn seeds() -> Vec<Vec<u8>> {
    let claims = |roles: Value, extra: Value| {
        let mut c = json!({
            "exp": EXP, "iat": 1_700_000_000, "jti": "0a1b", "iss": ISSUER, "aud": AUDIENCE,
            "sub": "5f2e0d1c-0b7e-4d8a-9c61-3a1f0e9b2d47", "typ": "Bearer",
            "azp": "veraison-client", "preferred_username": "veraison-provisioner",
            "realm_access": {"roles": roles},
            "resource_access": {"account": {"roles": ["manage-account"]}},
            "scope": "openid profile email",
        });
        if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(extra.clone());
        }
        c.to_string()
    };
    let good = claims(json!(["offline_access", "provisioner"]), json!({}));
    let claim_sets = [
        good.clone(),
        claims(json!(["manager", "provisioner", "manager", 7]), json!({})),
        claims(json!("manager"), json!({"aud": ["account", AUDIENCE]})),
        claims(json!([]), json!({"nbf": 1_700_000_000, "exp": 4.1e9})),
        claims(json!(["provisioner"]), json!({"exp": 1_600_000_000})),
        claims(json!(["provisioner"]), json!({"iss": [ISSUER]})),
        claims(json!(["provisioner"]), json!({"aud": "someone-else"})),
        claims(json!(["provisioner"]), json!({"nbf": EXP})),
        r#"{"iss":"https://keycloak.example:8443/realms/veraison","aud":"vouch","exp":4102444800,"sub":"x"}"#.to_owned(),
        r#"{"iss":"x","iss":"https://keycloak.example:8443/realms/veraison","aud":"vouch","exp":4102444800}"#.to_owned(),
    ];
    let headers = [
        r#"{"alg":"ES256","typ":"JWT","kid":"ec"}"#,
        r#"{"alg":"EdDSA","typ":"JWT","kid":"ed"}"#,
        r#"{"alg":"ES256","typ":"JWT"}"#,
        r#"{"alg":"RS256","typ":"JWT","kid":"rsa"}"#,
        r#"{"alg":"HS256","typ":"JWT","kid":"hs"}"#,
        r#"{"alg":"HS256","typ":"JWT","kid":"ec"}"#,
        r#"{"alg":"none","typ":"JWT","kid":"ec"}"#,
        r#"{"alg":"ES256","typ":"JWT","kid":"enc"}"#,
        r#"{"alg":"ES384","kid":"ec"}"#,
        r#"{"alg":"ES256","kid":"ec","jku":"https://evil.example/jwks","crit":["exp"]}"#,
    ];
    let mut out = Vec::new();
    let mut push = |mode: Mode, header: &str, claims: &str| {
        let mut input = vec![mode_byte(mode)];
        input.extend_from_slice(header.as_bytes());
        input.push(b'\n');
        input.extend_from_slice(claims.as_bytes());
        out.push(input);
    };
    for claims in &claim_sets {
        push(Mode::Ec, headers[0], claims);
        push(Mode::Ed, headers[1], claims);
    }
    for header in &headers {
        for mode in MODES {
            if mode != Mode::Raw {
                push(mode, header, &good);
            }
        }
    }
    // Whole tokens, signed by a key that is not in the fixture's JWKS.
    let stranger = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key");
    let input = format!("{}.{}", b64(headers[0].as_bytes()), b64(good.as_bytes()));
    let signature = stranger
        .sign(&SystemRandom::new(), input.as_bytes())
        .expect("sign");
    for raw in [
        format!("{input}.{}", b64(signature.as_ref())),
        format!("{input}."),
        format!("{input}.{}.x", b64(signature.as_ref())),
    ] {
        let mut seed = vec![mode_byte(Mode::Raw)];
        seed.extend_from_slice(raw.as_bytes());
        out.push(seed);
    }
    out
}

fuzz_target!(
    init: seed::plant(seeds),
    |data: &[u8]| {
        let Some((&selector, body)) = data.split_first() else {
            return;
        };
        let mode = MODES[usize::from(selector) % MODES.len()];
        let f = fixture();
        if mode == Mode::Raw {
            let mut authorization = b"Bearer ".to_vec();
            authorization.extend_from_slice(body);
            if let Ok(Credentials::Bearer(token)) = Credentials::parse(&authorization) {
                assert!(verify_token(&f.config, &f.keys, &token).is_err(), "a raw token verified");
            }
            if let Ok(text) = std::str::from_utf8(body) {
                assert!(verify_token(&f.config, &f.keys, text).is_err(), "a raw token verified");
            }
            return;
        }
        let split = body.iter().position(|b| *b == b'\n').unwrap_or(body.len());
        let (header, claims) = body.split_at(split);
        let claims = claims.get(1..).unwrap_or_default();
        let token = token(f, mode, header, claims);
        // The token as a client sends it: every compact JWS is a token68,
        // and the header is read up to 16 KiB.
        let authorization = format!("Bearer {token}");
        match Credentials::parse(authorization.as_bytes()) {
            Ok(Credentials::Bearer(parsed)) => assert_eq!(parsed, token),
            _ if authorization.len() > 16 * 1024 => {}
            other => panic!("a compact JWS is not a Bearer credential: {other:?}"),
        }
        if let Ok(principal) = verify_token(&f.config, &f.keys, &token) {
            check_accepted(f, mode, header, claims, &principal);
        }
    }
);
