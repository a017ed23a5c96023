//! OIDC bearer tokens against a real JWKS endpoint: the test issuer serves
//! discovery and keys on a loopback port, and the verifier fetches them
//! over HTTP. Every way a token can be wrong is refused; keys are fetched
//! again on an unknown `kid` (rate-limited), rotated keys take over, and
//! keys already held survive an unreachable issuer.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Value, json};
use vouch_auth::testing::{TestIssuer, TestKey, hs256_token, now, unsigned_token};
use vouch_auth::{Authenticator, Denied, OidcAuth, OidcConfig, Role};

const AUDIENCE: &str = "vouch";

fn config(issuer: &TestIssuer) -> OidcConfig {
    OidcConfig {
        min_refresh_interval: Duration::ZERO,
        ..OidcConfig::new(issuer.issuer(), AUDIENCE)
    }
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    headers
}

async fn check(auth: &Authenticator, token: &str, role: Role) -> Result<String, Denied> {
    auth.authorize(&bearer(token), role).await.map(|p| p.name)
}

fn invalid(result: Result<String, Denied>, what: &str) -> String {
    match result {
        Err(Denied::InvalidToken(reason)) => reason,
        other => panic!("{what}: expected an invalid token, got {other:?}"),
    }
}

#[tokio::test]
async fn good_tokens_of_every_key_type_pass() {
    let issuer = TestIssuer::start().await;
    let keys = [
        TestKey::rs256("rsa"),
        TestKey::es256("p256"),
        TestKey::es384("p384"),
        TestKey::eddsa("ed"),
    ];
    for key in &keys {
        issuer.publish(key);
    }
    let auth = Authenticator::oidc(config(&issuer)).unwrap();
    for key in &keys {
        let token = key.sign(&issuer.claims(AUDIENCE, &["provisioner", "offline_access"]));
        assert_eq!(
            check(&auth, &token, Role::Provisioner).await.unwrap(),
            "veraison-provisioner",
            "{}",
            key.kid()
        );
    }
    // One fetch served every key.
    assert_eq!(issuer.jwks_fetches(), 1);

    // An audience list that contains ours is fine, as is a token inside
    // its leeway.
    let mut claims = issuer.claims(AUDIENCE, &["manager"]);
    claims["aud"] = json!(["account", AUDIENCE]);
    claims["exp"] = json!(now() - 5);
    claims["nbf"] = json!(now() + 5);
    check(&auth, &keys[0].sign(&claims), Role::Manager)
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let issuer = TestIssuer::start().await;
    let key = TestKey::rs256("kc-1");
    let ec = TestKey::es256("kc-ec");
    issuer.publish(&key);
    issuer.publish(&ec);
    let auth = Authenticator::oidc(config(&issuer)).unwrap();
    let good = || issuer.claims(AUDIENCE, &["provisioner"]);
    let with = |name: &str, value: Value| {
        let mut claims = good();
        claims[name] = value;
        claims
    };
    let without = |name: &str| {
        let mut claims = good();
        claims.as_object_mut().unwrap().remove(name);
        claims
    };
    let stranger = TestKey::rs256("kc-1");
    let unknown = TestKey::es256("not-published");

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "expired",
            key.sign(&with("exp", json!(now() - 120))),
            "expired",
        ),
        ("no exp", key.sign(&without("exp")), "no exp claim"),
        (
            "not yet valid",
            key.sign(&with("nbf", json!(now() + 600))),
            "not valid yet",
        ),
        (
            "wrong issuer",
            key.sign(&with("iss", json!("http://127.0.0.1:1/realms/veraison"))),
            "another issuer",
        ),
        (
            "issuer with a trailing slash",
            key.sign(&with("iss", json!(format!("{}/", issuer.issuer())))),
            "another issuer",
        ),
        (
            "issuer list",
            key.sign(&with("iss", json!([issuer.issuer(), "x"]))),
            "another issuer",
        ),
        ("no issuer", key.sign(&without("iss")), "no iss claim"),
        (
            "wrong audience",
            key.sign(&with("aud", json!("account"))),
            "audience",
        ),
        ("no audience", key.sign(&without("aud")), "no aud claim"),
        ("unknown key", unknown.sign(&good()), "does not publish"),
        (
            "known kid, other key",
            stranger.sign(&good()),
            "does not verify",
        ),
        (
            "alg none",
            unsigned_token(key.kid(), &good()),
            "not accepted",
        ),
        (
            "HS256 with the public key as secret",
            hs256_token(key.kid(), key.public_pem().as_bytes(), &good()),
            "not accepted",
        ),
        (
            "HS256 with the JWK as secret",
            hs256_token(ec.kid(), ec.jwk().to_string().as_bytes(), &good()),
            "not accepted",
        ),
        (
            "ES384 header on a P-256 key",
            ec.sign_with_header(&json!({"alg":"ES384","kid":ec.kid()}), &good()),
            "does not match",
        ),
        (
            "RS256 header on an EC key",
            ec.sign_with_header(&json!({"alg":"RS256","kid":ec.kid()}), &good()),
            "does not match",
        ),
        (
            "unknown crit extension",
            key.sign_with_header(
                &json!({"alg":"RS256","kid":key.kid(),"crit":["x-vouch"],"x-vouch":1}),
                &good(),
            ),
            "malformed",
        ),
        ("not a JWT", "abc.def".to_owned(), "not a signed JWT"),
        (
            "tampered",
            {
                let token = key.sign(&good());
                let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
                parts[1] = key
                    .sign(&with(
                        "realm_access",
                        json!({"roles":["provisioner","manager"]}),
                    ))
                    .split('.')
                    .nth(1)
                    .unwrap()
                    .to_owned();
                parts.join(".")
            },
            "does not verify",
        ),
    ];
    for (what, token, reason) in cases {
        let got = invalid(check(&auth, &token, Role::Provisioner).await, what);
        assert!(got.contains(reason), "{what}: {got}");
    }

    // Wrong role: authenticated, but 403.
    let manager = key.sign(&issuer.claims(AUDIENCE, &["manager"]));
    assert!(matches!(
        auth.authorize(&bearer(&manager), Role::Provisioner).await,
        Err(Denied::MissingRole {
            role: Role::Provisioner,
            ..
        })
    ));
    // Client roles are not realm roles.
    let mut client_role = good();
    client_role["realm_access"] = json!({"roles": ["offline_access"]});
    client_role["resource_access"] = json!({"veraison-client": {"roles": ["provisioner"]}});
    assert!(matches!(
        auth.authorize(&bearer(&key.sign(&client_role)), Role::Provisioner)
            .await,
        Err(Denied::MissingRole { .. })
    ));
    // No token, or Basic credentials, where a Bearer token is expected.
    assert_eq!(
        auth.authorize(&HeaderMap::new(), Role::Provisioner).await,
        Err(Denied::Missing)
    );
    let mut basic = HeaderMap::new();
    basic.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Basic dTpw"),
    );
    assert!(matches!(
        auth.authorize(&basic, Role::Provisioner).await,
        Err(Denied::Malformed(_))
    ));
}

#[tokio::test]
async fn an_unknown_kid_fetches_the_keys_again_and_rotation_takes_over() {
    let issuer = TestIssuer::start().await;
    let old = TestKey::es256("2026-11");
    issuer.publish(&old);
    let auth = Authenticator::oidc(config(&issuer)).unwrap();
    let claims = issuer.claims(AUDIENCE, &["provisioner"]);
    check(&auth, &old.sign(&claims), Role::Provisioner)
        .await
        .unwrap();
    assert_eq!(issuer.jwks_fetches(), 1);

    // The issuer rotates: the new key is published, the old withdrawn.
    let new = TestKey::rs256("2026-12");
    issuer.publish(&new);
    issuer.withdraw(old.kid());
    // The old key is still held until the keys are fetched again.
    check(&auth, &old.sign(&claims), Role::Provisioner)
        .await
        .unwrap();
    assert_eq!(issuer.jwks_fetches(), 1);
    // A token under the new kid makes the verifier fetch again.
    check(&auth, &new.sign(&claims), Role::Provisioner)
        .await
        .unwrap();
    assert_eq!(issuer.jwks_fetches(), 2);
    // Now the old key is gone.
    let reason = invalid(
        check(&auth, &old.sign(&claims), Role::Provisioner).await,
        "withdrawn key",
    );
    assert!(reason.contains("does not publish"), "{reason}");
}

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_the_issuer_one_fetch_per_interval() {
    let issuer = TestIssuer::start().await;
    let key = TestKey::es256("real");
    issuer.publish(&key);
    let auth = Authenticator::oidc(OidcConfig {
        min_refresh_interval: Duration::from_secs(60),
        ..OidcConfig::new(issuer.issuer(), AUDIENCE)
    })
    .unwrap();
    let claims = issuer.claims(AUDIENCE, &["provisioner"]);
    check(&auth, &key.sign(&claims), Role::Provisioner)
        .await
        .unwrap();
    let before = issuer.jwks_fetches();
    let forger = TestKey::es256("unused");
    let mut tasks = Vec::new();
    for i in 0..50 {
        let auth = auth.clone();
        let token =
            forger.sign_with_header(&json!({"alg":"ES256","kid":format!("random-{i}")}), &claims);
        tasks.push(tokio::spawn(async move {
            auth.authorize(&bearer(&token), Role::Provisioner).await
        }));
    }
    for task in tasks {
        assert!(matches!(task.await.unwrap(), Err(Denied::InvalidToken(_))));
    }
    // The first fetch of the keys was within the interval: none more.
    assert_eq!(issuer.jwks_fetches(), before);
    // The good key still works.
    check(&auth, &key.sign(&claims), Role::Provisioner)
        .await
        .unwrap();
}

#[tokio::test]
async fn held_keys_survive_an_unreachable_issuer_and_missing_ones_are_503() {
    let issuer = TestIssuer::start().await;
    let key = TestKey::es256("held");
    issuer.publish(&key);
    let auth = Authenticator::oidc(OidcConfig {
        // Old at once: every use starts a background refresh.
        max_key_age: Duration::ZERO,
        ..config(&issuer)
    })
    .unwrap();
    let claims = issuer.claims(AUDIENCE, &["provisioner"]);
    check(&auth, &key.sign(&claims), Role::Provisioner)
        .await
        .unwrap();

    issuer.set_failing(true);
    for _ in 0..3 {
        check(&auth, &key.sign(&claims), Role::Provisioner)
            .await
            .unwrap();
    }
    // A key that is not held cannot be checked: retry later, not 401.
    let new = TestKey::es256("new");
    issuer.publish(&new);
    let denied = auth
        .authorize(&bearer(&new.sign(&claims)), Role::Provisioner)
        .await
        .unwrap_err();
    assert!(matches!(denied, Denied::Unavailable(_)), "{denied:?}");
    let response = axum::response::IntoResponse::into_response(auth.refusal(&denied));
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(header::RETRY_AFTER));

    // Back up: the new key is fetched.
    issuer.set_failing(false);
    check(&auth, &new.sign(&claims), Role::Provisioner)
        .await
        .unwrap();
}

#[tokio::test]
async fn old_keys_are_refreshed_in_the_background_so_withdrawn_keys_stop_working() {
    let issuer = TestIssuer::start().await;
    let key = TestKey::es256("soon-withdrawn");
    issuer.publish(&key);
    let auth = Authenticator::oidc(OidcConfig {
        max_key_age: Duration::from_millis(100),
        ..config(&issuer)
    })
    .unwrap();
    let claims = issuer.claims(AUDIENCE, &["provisioner"]);
    check(&auth, &key.sign(&claims), Role::Provisioner)
        .await
        .unwrap();
    issuer.withdraw(key.kid());
    tokio::time::sleep(Duration::from_millis(150)).await;
    // Still held: this use starts the refresh without waiting for it.
    check(&auth, &key.sign(&claims), Role::Provisioner)
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match check(&auth, &key.sign(&claims), Role::Provisioner).await {
            Err(Denied::InvalidToken(reason)) => {
                assert!(reason.contains("does not publish"), "{reason}");
                break;
            }
            Ok(_) => {}
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the key was never dropped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(issuer.jwks_fetches() >= 2);
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_is_not_trusted() {
    let issuer = TestIssuer::start().await;
    let key = TestKey::es256("k");
    issuer.publish(&key);
    issuer.advertise_issuer("https://evil.example/realms/veraison");
    let oidc = Arc::new(OidcAuth::new(config(&issuer)).unwrap());
    let error = oidc.refresh().await.unwrap_err();
    assert!(error.to_string().contains("evil.example"), "{error}");
    assert_eq!(issuer.jwks_fetches(), 0);
    let denied = oidc
        .authenticate(&key.sign(&issuer.claims(AUDIENCE, &["provisioner"])))
        .await
        .unwrap_err();
    assert!(matches!(denied, Denied::Unavailable(_)), "{denied:?}");
}

#[tokio::test]
async fn symmetric_and_encryption_keys_in_the_jwks_are_never_used() {
    let issuer = TestIssuer::start().await;
    let secret = b"a shared secret that must not verify anything";
    use base64::Engine as _;
    issuer.publish_raw(json!({
        "kty": "oct", "kid": "hmac", "alg": "HS256",
        "k": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
    }));
    let enc = TestKey::rs256("enc");
    let mut enc_jwk = enc.jwk();
    enc_jwk["use"] = json!("enc");
    enc_jwk.as_object_mut().unwrap().remove("alg");
    issuer.publish_raw(enc_jwk);
    let auth = Authenticator::oidc(config(&issuer)).unwrap();
    let claims = issuer.claims(AUDIENCE, &["provisioner"]);
    invalid(
        check(
            &auth,
            &hs256_token("hmac", secret, &claims),
            Role::Provisioner,
        )
        .await,
        "HS256 with a published oct key",
    );
    let reason = invalid(
        check(&auth, &enc.sign(&claims), Role::Provisioner).await,
        "encryption key",
    );
    assert!(reason.contains("does not publish"), "{reason}");
}
