//! The relying-party side of an EAR: `vouch_ear::verify_at` (JWS compact
//! checks, header, signature, claims, `exp`/`nbf`) and `Ear::from_json`.
//!
//! Input: one mode byte, then either the JOSE header JSON, a newline and the
//! claims JSON, which the target signs with a fixed P-256 key so the fuzzer
//! reaches the claims parser, or (raw modes) a whole JWT or claims set.
//! Besides "never panic":
//! - only a JWT signed by the verifying key, under an ES256 header without
//!   `crit`, within its `exp`/`nbf`, verifies; one signed by another key,
//!   or checked with a P-384 key, never does; nor does a raw JWT;
//! - an accepted claims set serialises and parses back to itself, and, when
//!   it passes `Ear::validate`, signs and verifies back to itself.

#![no_main]

use vouch_testkit::fuzz_seed as seed;

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::{Value, json};
use vouch_crypto::{Curve, SigningKey};
use vouch_ear::{
    Ear, EarSigner, KeyAttestation, TRUSTEE_PROFILE, TrustClaim, TrustVector, VerifierId, verify_at,
};

/// The verification time: 2027-01-15.
const NOW: i64 = 1_800_000_000;

const SIGNED: u8 = 0;
const OTHER_KEY: u8 = 1;
const RAW_JWT: u8 = 2;
const RAW_CLAIMS: u8 = 3;
const MODES: u8 = 4;

struct Fixture {
    key: SigningKey,
    other: SigningKey,
    p384: SigningKey,
    signer: EarSigner,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let key = SigningKey::from_private_scalar(Curve::P256, &[0x11; 32]).expect("fixed key");
        Fixture {
            signer: EarSigner::new(key.clone()),
            key,
            other: SigningKey::from_private_scalar(Curve::P256, &[0x22; 32]).expect("fixed key"),
            p384: SigningKey::from_private_scalar(Curve::P384, &[0x33; 48]).expect("fixed key"),
        }
    })
}

fn jws(key: &SigningKey, header: &[u8], claims: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = key.sign(input.as_bytes()).expect("sign");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn round_trips(ear: &Ear) {
    let json = ear.to_json().expect("an accepted EAR serialises");
    let again = Ear::from_json(&json).expect("a serialised EAR parses");
    assert_eq!(&again, ear, "the EAR changed through JSON");
}

/// The members of an accepted header and claims set the checks read. Read
/// through a struct, as the verifier reads them: a `serde_json::Value` of
/// the whole document cannot hold numbers beyond `f64` (`1e400`) in members
/// nobody reads, which JSON allows.
#[derive(Deserialize)]
struct HeaderFields {
    alg: Option<Value>,
    crit: Option<Value>,
}

#[derive(Deserialize)]
struct TimeFields {
    exp: Option<Value>,
    nbf: Option<Value>,
}

fn check_signed(f: &Fixture, header: &[u8], claims: &[u8], ear: &Ear) {
    let header: HeaderFields =
        serde_json::from_slice(header).expect("an accepted header is an object");
    assert_eq!(header.alg.as_ref().and_then(Value::as_str), Some("ES256"));
    assert!(header.crit.is_none(), "accepted a crit header");
    let times: TimeFields = serde_json::from_slice(claims).expect("accepted claims are an object");
    if let Some(exp) = times.exp.as_ref().and_then(Value::as_f64) {
        assert!((NOW as f64) < exp, "accepted at or after exp {exp}");
    }
    if let Some(nbf) = times.nbf.as_ref().and_then(Value::as_f64) {
        assert!(nbf <= NOW as f64, "accepted before nbf {nbf}");
    }
    round_trips(ear);
    if ear.validate().is_ok() {
        let jwt = f.signer.sign(ear).expect("a valid EAR signs");
        let back = verify_at(&jwt, &f.key.verifying_key(), NOW).expect("a signed EAR verifies");
        assert_eq!(&back, ear, "the EAR changed through signing");
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let f = fixture();
    let id = VerifierId {
        build: "0.1.0".to_owned(),
        developer: "Vouch".to_owned(),
    };
    let mut psa = Ear::new("PSA_IOT", id.clone(), NOW - 60);
    psa.set_nonce(&[0xab; 32]).expect("nonce");
    if let Some(a) = psa.submods.get_mut("PSA_IOT") {
        a.trust_vector = TrustVector::all(TrustClaim::AFFIRMING);
        a.trust_vector.configuration = TrustClaim::UNSAFE_CONFIG;
        a.policy_id = Some("policy:PSA_IOT".to_owned());
        a.annotated_evidence = json!({"psa-nonce": "q6ur", "psa-lifecycle": 12288, "psa-software-components": [{"measurement-value": "AQI", "measurement-type": "BL"}]}).as_object().cloned();
    }
    psa.update_status_from_trust_vector();
    let mut parsec = Ear::new("PARSEC_TPM", id.clone(), NOW);
    parsec.raw_evidence = Some(b"evidence".to_vec());
    if let Some(a) = parsec.submods.get_mut("PARSEC_TPM") {
        a.key_attestation = Some(KeyAttestation::from_spki_der(
            &f.key.verifying_key().to_spki_der(),
        ));
        a.policy_claims = json!({"problem": "no policy"}).as_object().cloned();
        a.trust_vector.instance_identity = TrustClaim::UNRECOGNIZED_INSTANCE;
    }
    parsec.update_status_from_trust_vector();
    let mut cca = Ear::new("CCA_SSD_PLATFORM", id, NOW);
    cca.profile = TRUSTEE_PROFILE.to_owned();
    cca.submods
        .insert("CCA_REALM".to_owned(), Default::default());

    let mut claim_sets: Vec<Value> = [psa, parsec, cca]
        .iter()
        .map(|ear| serde_json::from_slice(&ear.to_json().expect("EAR JSON")).expect("JSON"))
        .collect();
    let base = claim_sets[0].clone();
    let with = |extra: Value| {
        let mut v = base.clone();
        if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
            v.extend(extra.clone());
        }
        v
    };
    claim_sets.extend([
        with(json!({"exp": NOW + 600, "nbf": NOW - 600})),
        with(json!({"exp": NOW})),
        with(json!({"nbf": NOW + 1})),
        with(json!({"iat": 1.8e9, "exp": 1.9e9})),
        with(json!({"eat_nonce": "short"})),
        with(json!({"submods": {"X": {"ear.status": 2, "ear.trustworthiness-vector": {"hardware": -1}}}})),
        with(json!({"submods": {"X": {"ear.status": "affirming", "ear.trustworthiness-vector": {"bogus": 2}}}})),
        with(json!({"ear.verifier-id": ["0.1.0", "Vouch"]})),
    ]);
    let headers = [
        format!(
            r#"{{"alg":"ES256","typ":"JWT","kid":"{}"}}"#,
            f.signer.kid()
        ),
        r#"{"alg":"ES256"}"#.to_owned(),
        r#"{"alg":"ES384","typ":"JWT"}"#.to_owned(),
        r#"{"alg":"none"}"#.to_owned(),
        r#"{"alg":"HS256"}"#.to_owned(),
        r#"{"alg":"ES256","crit":["exp"],"exp":1}"#.to_owned(),
        format!(r#"{{"alg":"ES256","jwk":{}}}"#, f.signer.public_jwk()),
        "[]".to_owned(),
    ];
    let mut out = Vec::new();
    for (i, claims) in claim_sets.iter().enumerate() {
        for (j, header) in headers.iter().enumerate() {
            if j != 0 && (i + j) % 3 != 0 {
                continue;
            }
            for mode in [SIGNED, OTHER_KEY] {
                let mut seed = vec![mode];
                seed.extend_from_slice(header.as_bytes());
                seed.push(b'\n');
                seed.extend_from_slice(claims.to_string().as_bytes());
                out.push(seed);
            }
        }
        let mut seed = vec![RAW_CLAIMS];
        seed.extend_from_slice(claims.to_string().as_bytes());
        out.push(seed);
    }
    // Whole JWTs, signed by a key the target does not verify with.
    for claims in claim_sets.iter().take(3) {
        let mut seed = vec![RAW_JWT];
        seed.extend_from_slice(
            jws(
                &f.other,
                headers[0].as_bytes(),
                claims.to_string().as_bytes(),
            )
            .as_bytes(),
        );
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
        let f = fixture();
        let public = f.key.verifying_key();
        match selector % MODES {
            RAW_JWT => {
                if let Ok(text) = std::str::from_utf8(body) {
                    assert!(verify_at(text, &public, NOW).is_err(), "a raw JWT verified");
                    assert!(verify_at(text, &f.p384.verifying_key(), NOW).is_err(), "a raw JWT verified");
                }
            }
            RAW_CLAIMS => {
                if let Ok(ear) = Ear::from_json(body) {
                    round_trips(&ear);
                }
            }
            mode => {
                let split = body.iter().position(|b| *b == b'\n').unwrap_or(body.len());
                let (header, claims) = body.split_at(split);
                let claims = claims.get(1..).unwrap_or_default();
                let signer = if mode == SIGNED { &f.key } else { &f.other };
                let jwt = jws(signer, header, claims);
                assert!(verify_at(&jwt, &f.p384.verifying_key(), NOW).is_err(), "verified with the wrong curve");
                match verify_at(&jwt, &public, NOW) {
                    Ok(ear) if mode == SIGNED => check_signed(f, header, claims, &ear),
                    Ok(_) => panic!("a JWT signed by another key verified"),
                    Err(_) => {}
                }
            }
        }
    }
);
