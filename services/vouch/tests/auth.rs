//! End to end: provisioning behind OIDC bearer tokens (a real JWKS endpoint
//! served by the test issuer, with keys it mints) and behind basic auth.
//! A caller with the `provisioner` role provisions, and the device then
//! verifies affirming; every bad credential gets 401/403 as problem+json
//! and stores nothing (the device has no trust anchor afterwards).
//! Verification, `.well-known` and health stay open.

// Helpers here panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine as _;
use common::*;
use serde_json::json;
use vouch::settings::{AuthMode, AuthUser};
use vouch_auth::testing::{TestIssuer, TestKey, hs256_token, now, unsigned_token};
use vouch_testkit::corim::PsaCorimEncoding;
use vouch_testkit::psa::{Device, SwComponent};

const AUDIENCE: &str = "vouch";

async fn submit(app: &TestApp, authorization: Option<&str>, corim: Vec<u8>) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!(
            "{}/endorsement-provisioning/v1/submit",
            app.provisioning
        ))
        .header("Content-Type", CORIM_CURRENT_MT)
        .body(corim);
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request.send().await.unwrap()
}

/// Asserts a problem+json refusal with `status` and returns (challenge, detail).
async fn refused(response: reqwest::Response, status: u16, what: &str) -> (Option<String>, String) {
    assert_eq!(response.status(), status, "{what}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "{what}"
    );
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], status, "{what}: {body}");
    assert_eq!(body["type"], "about:blank", "{what}");
    (
        challenge,
        body["detail"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Whether `device` verifies as affirming against what is provisioned.
async fn affirmed(app: &TestApp, device: &Device) -> bool {
    let (session, nonce) = app.session("").await;
    let token = device
        .token(&nonce, &SwComponent::acme_components())
        .unwrap();
    let ear = ear_of(app, app.submit(&session, PSA_TOKEN_MT, token).await).await;
    ear.submods["PSA_IOT"].status.as_str() == "affirming"
}

/// Verification, discovery and health answer without credentials.
async fn open_without_credentials(app: &TestApp) {
    for url in [
        format!("{}/.well-known/veraison/provisioning", app.provisioning),
        format!("{}/.well-known/veraison/verification", app.verification),
        format!("{}/healthz", app.provisioning),
        format!("{}/readyz", app.provisioning),
    ] {
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
    }
    assert_eq!(app.new_session("").await.status(), 201);
}

#[tokio::test]
async fn oidc_provisioning_needs_a_provisioner_token_and_bad_ones_store_nothing() {
    let issuer = TestIssuer::start().await;
    let key = TestKey::rs256("kc-rs256");
    issuer.publish(&key);
    let app = spawn_app_with(|s| {
        s.auth.mode = AuthMode::Oidc;
        s.auth.oidc_issuer = Some(issuer.issuer().to_owned());
        s.auth.oidc_audience = Some(AUDIENCE.to_owned());
        // Small, to show that refused bodies are never read.
        s.provisioning.max_body_bytes = 64 * 1024;
    })
    .await;
    open_without_credentials(&app).await;

    let device = Device::generate().unwrap();
    let corim = corim_for(&[&device], PsaCorimEncoding::Current);
    let good = issuer.claims(AUDIENCE, &["provisioner"]);
    let with = |name: &str, value: serde_json::Value| {
        let mut claims = good.clone();
        claims[name] = value;
        claims
    };
    let bearer = |token: String| Some(format!("Bearer {token}"));
    let unauthenticated = [
        ("no token", None, "no Bearer token given"),
        (
            "expired",
            bearer(key.sign(&with("exp", json!(now() - 600)))),
            "expired",
        ),
        (
            "wrong issuer",
            bearer(key.sign(&with(
                "iss",
                json!("https://elsewhere.example/realms/veraison"),
            ))),
            "another issuer",
        ),
        (
            "wrong audience",
            bearer(key.sign(&with("aud", json!("account")))),
            "audience",
        ),
        (
            "unknown key",
            bearer(TestKey::rs256("kc-rs256").sign(&good)),
            "does not verify",
        ),
        (
            "unknown kid",
            bearer(TestKey::es256("kc-new").sign(&good)),
            "does not publish",
        ),
        (
            "alg none",
            bearer(unsigned_token(key.kid(), &good)),
            "not accepted",
        ),
        (
            "HS256 with the public key as secret",
            bearer(hs256_token(key.kid(), key.public_pem().as_bytes(), &good)),
            "not accepted",
        ),
        (
            "basic instead of bearer",
            Some("Basic dTpw".to_owned()),
            "Basic",
        ),
    ];
    for (what, authorization, reason) in unauthenticated {
        let response = submit(&app, authorization.as_deref(), corim.clone()).await;
        let (challenge, detail) = refused(response, 401, what).await;
        assert!(detail.contains(reason), "{what}: {detail}");
        let challenge = challenge.unwrap_or_else(|| panic!("{what}: no challenge"));
        assert!(
            challenge.starts_with("Bearer realm=\"vouch\""),
            "{what}: {challenge}"
        );
    }
    // Wrong role: 403.
    let manager = key.sign(&issuer.claims(AUDIENCE, &["manager"]));
    let (challenge, detail) = refused(
        submit(&app, bearer(manager).as_deref(), corim.clone()).await,
        403,
        "manager",
    )
    .await;
    assert_eq!(detail, "the provisioner role is required for this API");
    assert!(challenge.unwrap().contains("insufficient_scope"));
    // A refused request's body is never read: no 413 for an oversized one.
    let (_, detail) = refused(
        submit(&app, None, vec![0; 256 * 1024]).await,
        401,
        "big body",
    )
    .await;
    assert!(detail.contains("no Bearer token"), "{detail}");

    // Nothing was stored.
    assert!(!affirmed(&app, &device).await);

    // The provisioner's token stores, and the device then verifies.
    let response = submit(&app, bearer(key.sign(&good)).as_deref(), corim).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "success", "{body}");
    assert!(affirmed(&app, &device).await);
    app.stop().await;
}

fn basic(user: &str, password: &str) -> Option<String> {
    Some(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    ))
}

#[tokio::test]
async fn basic_provisioning_needs_a_provisioner_password_and_bad_ones_store_nothing() {
    let user = |name: &str, password: &str, roles: &[&str]| AuthUser {
        name: name.to_owned(),
        password_hash: vouch_auth::hash_password(password.as_bytes()).unwrap(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    let users = vec![
        user("supply-chain", "endorse-me", &["provisioner"]),
        user("ops", "manage-me", &["manager"]),
    ];
    let app = spawn_app_with(|s| {
        // Set per API: the provisioning override wins over `auth.mode`.
        s.auth.provisioning.mode = Some(AuthMode::Basic);
        s.auth.users = users;
    })
    .await;
    open_without_credentials(&app).await;

    let device = Device::generate().unwrap();
    let corim = corim_for(&[&device], PsaCorimEncoding::Current);
    for (what, authorization, reason) in [
        ("no credentials", None, "no Basic authorization given"),
        (
            "wrong password",
            basic("supply-chain", "endorse-m3"),
            "wrong username or password",
        ),
        (
            "unknown user",
            basic("mallory", "endorse-me"),
            "wrong username or password",
        ),
        (
            "bearer token",
            Some("Bearer abc.def.ghi".to_owned()),
            "not a Bearer token",
        ),
    ] {
        let response = submit(&app, authorization.as_deref(), corim.clone()).await;
        let (challenge, detail) = refused(response, 401, what).await;
        assert!(detail.contains(reason), "{what}: {detail}");
        assert_eq!(
            challenge.as_deref(),
            Some("Basic realm=\"vouch\""),
            "{what}"
        );
    }
    let (challenge, _) = refused(
        submit(&app, basic("ops", "manage-me").as_deref(), corim.clone()).await,
        403,
        "wrong role",
    )
    .await;
    assert_eq!(challenge, None);
    assert!(!affirmed(&app, &device).await);

    let response = submit(&app, basic("supply-chain", "endorse-me").as_deref(), corim).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "success", "{body}");
    assert!(affirmed(&app, &device).await);
    app.stop().await;
}

#[tokio::test]
async fn the_default_needs_no_credentials() {
    let app = spawn_app().await;
    let device = Device::generate().unwrap();
    let response = submit(&app, None, corim_for(&[&device], PsaCorimEncoding::Current)).await;
    assert_eq!(response.status(), 200);
    assert!(affirmed(&app, &device).await);
    app.stop().await;
}
