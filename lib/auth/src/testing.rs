//! A test identity provider: an OIDC discovery document and a JWKS served
//! on a loopback port, with keys minted here, and Keycloak-shaped tokens
//! (`realm_access.roles`) signed by them, good and bad.
//!
//! Test code: failures panic.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use http::StatusCode;
use serde_json::{Value, json};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    i64::try_from(secs).unwrap()
}

enum Signer {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A signing key with its public JWK.
pub struct TestKey {
    kid: String,
    alg: &'static str,
    signer: Signer,
    jwk: Value,
    spki_der: Vec<u8>,
}

impl TestKey {
    fn ec(kid: &str, alg: &'static str) -> Self {
        let (signing, crv, len) = match alg {
            "ES256" => (&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32),
            _ => (&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48),
        };
        let pair = EcdsaKeyPair::generate(signing).unwrap();
        // Uncompressed point: 0x04 || x || y.
        let point = pair.public_key().as_ref().to_vec();
        let jwk = json!({
            "kty": "EC", "crv": crv, "kid": kid, "use": "sig", "alg": alg,
            "x": b64(&point[1..=len]), "y": b64(&point[len + 1..]),
        });
        let spki_der = pair.public_key().as_der().unwrap().as_ref().to_vec();
        TestKey {
            kid: kid.to_owned(),
            alg,
            signer: Signer::Ec(pair),
            jwk,
            spki_der,
        }
    }

    /// A P-256 key (ES256).
    pub fn es256(kid: &str) -> Self {
        Self::ec(kid, "ES256")
    }

    /// A P-384 key (ES384).
    pub fn es384(kid: &str) -> Self {
        Self::ec(kid, "ES384")
    }

    /// A 2048-bit RSA key (RS256), Keycloak's default.
    pub fn rs256(kid: &str) -> Self {
        let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let public = pair.public_key();
        let jwk = json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        });
        let spki_der = public.as_der().unwrap().as_ref().to_vec();
        TestKey {
            kid: kid.to_owned(),
            alg: "RS256",
            signer: Signer::Rsa(pair),
            jwk,
            spki_der,
        }
    }

    /// An Ed25519 key (EdDSA).
    pub fn eddsa(kid: &str) -> Self {
        let pair = Ed25519KeyPair::generate().unwrap();
        let jwk = json!({
            "kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig", "alg": "EdDSA",
            "x": b64(pair.public_key().as_ref()),
        });
        let spki_der = pair.public_key().as_der().unwrap().as_ref().to_vec();
        TestKey {
            kid: kid.to_owned(),
            alg: "EdDSA",
            signer: Signer::Ed(pair),
            jwk,
            spki_der,
        }
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// The public key as PEM (`PUBLIC KEY`), the secret of the classic
    /// HS256 key-confusion attack.
    pub fn public_pem(&self) -> String {
        let body = base64::engine::general_purpose::STANDARD.encode(&self.spki_der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    /// A compact JWS of `claims` under `header`, signed by this key
    /// whatever the header says.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = SystemRandom::new();
        let signature = match &self.signer {
            Signer::Ec(pair) => pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
            Signer::Rsa(pair) => {
                let mut out = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut out,
                )
                .unwrap();
                out
            }
            Signer::Ed(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
        };
        format!("{input}.{}", b64(&signature))
    }

    /// A token of `claims` with this key's `alg` and `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({"alg": self.alg, "typ": "JWT", "kid": self.kid}),
            claims,
        )
    }
}

/// An unsigned token (`alg: none`) naming `kid`.
pub fn unsigned_token(kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT", "kid": kid});
    format!(
        "{}.{}.",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// An HS256 token naming `kid`, with `secret` as the HMAC key.
pub fn hs256_token(kid: &str, secret: &[u8], claims: &Value) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

struct IssuerState {
    issuer: String,
    /// What the discovery document claims as issuer (normally `issuer`).
    advertised_issuer: Mutex<String>,
    keys: Mutex<Vec<Value>>,
    failing: AtomicBool,
    discovery_fetches: AtomicUsize,
    jwks_fetches: AtomicUsize,
}

/// The realm the test issuer serves, as Veraison's Keycloak names it.
pub const REALM: &str = "veraison";

/// A loopback OIDC issuer. Stops when dropped.
pub struct TestIssuer {
    state: Arc<IssuerState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn discovery(State(state): State<Arc<IssuerState>>) -> Response {
    state.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    if state.failing.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let advertised = state.advertised_issuer.lock().unwrap().clone();
    axum::Json(json!({
        "issuer": advertised,
        "jwks_uri": format!("{}/protocol/openid-connect/certs", state.issuer),
        "token_endpoint": format!("{}/protocol/openid-connect/token", state.issuer),
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "ES384", "EdDSA"],
    }))
    .into_response()
}

async fn certs(State(state): State<Arc<IssuerState>>) -> Response {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    if state.failing.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let keys = state.keys.lock().unwrap().clone();
    axum::Json(json!({ "keys": keys })).into_response()
}

impl TestIssuer {
    /// Starts an issuer at `http://127.0.0.1:<port>/realms/veraison`, with
    /// no key published yet.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}/realms/{REALM}", listener.local_addr().unwrap());
        let state = Arc::new(IssuerState {
            advertised_issuer: Mutex::new(issuer.clone()),
            issuer,
            keys: Mutex::new(Vec::new()),
            failing: AtomicBool::new(false),
            discovery_fetches: AtomicUsize::new(0),
            jwks_fetches: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route(
                &format!("/realms/{REALM}/.well-known/openid-configuration"),
                get(discovery),
            )
            .route(
                &format!("/realms/{REALM}/protocol/openid-connect/certs"),
                get(certs),
            )
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        TestIssuer { state, task }
    }

    /// The issuer URL (`iss`).
    pub fn issuer(&self) -> &str {
        &self.state.issuer
    }

    /// Adds `key` to the JWKS.
    pub fn publish(&self, key: &TestKey) {
        self.state.keys.lock().unwrap().push(key.jwk());
    }

    /// Adds a raw JWK to the JWKS (for keys the verifier must ignore).
    pub fn publish_raw(&self, jwk: Value) {
        self.state.keys.lock().unwrap().push(jwk);
    }

    /// Removes the key `kid` from the JWKS.
    pub fn withdraw(&self, kid: &str) {
        self.state
            .keys
            .lock()
            .unwrap()
            .retain(|k| k["kid"].as_str() != Some(kid));
    }

    /// Answers 503 to everything while `failing`.
    pub fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    /// Makes the discovery document name another issuer.
    pub fn advertise_issuer(&self, issuer: &str) {
        *self.state.advertised_issuer.lock().unwrap() = issuer.to_owned();
    }

    /// How often the JWKS was requested.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// How often the discovery document was requested.
    pub fn discovery_fetches(&self) -> usize {
        self.state.discovery_fetches.load(Ordering::SeqCst)
    }

    /// Claims of a good access token as Keycloak issues them: for
    /// `audience`, with realm roles `roles`, valid for five minutes.
    pub fn claims(&self, audience: &str, roles: &[&str]) -> Value {
        let now = now();
        json!({
            "exp": now + 300,
            "iat": now,
            "jti": format!("{:x}", now),
            "iss": self.issuer(),
            "aud": audience,
            "sub": "5f2e0d1c-0b7e-4d8a-9c61-3a1f0e9b2d47",
            "typ": "Bearer",
            "azp": "veraison-client",
            "preferred_username": "veraison-provisioner",
            "realm_access": {"roles": roles},
            "resource_access": {"account": {"roles": ["manage-account"]}},
            "scope": "openid profile email",
        })
    }
}
