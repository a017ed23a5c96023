//! The `require_role` layer on a tiny router shaped like Vouch's: a
//! provisioning route (role `provisioner`), a management route (role
//! `manager`) and open routes. Refused requests never reach the handler:
//! nothing is "stored".

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Extension;
use axum::routing::{get, post};
use base64::Engine as _;
use http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt as _;
use vouch_auth::testing::{TestIssuer, TestKey, hs256_token, now, unsigned_token};
use vouch_auth::{Authenticator, OidcConfig, Principal, Role, User, require_role};

/// The routes, and how many submissions reached their handler.
fn router(auth: &Authenticator) -> (Router, Arc<AtomicUsize>) {
    let stored = Arc::new(AtomicUsize::new(0));
    let counter = stored.clone();
    let submit = post(
        move |Extension(principal): Extension<Principal>, body: String| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                format!("stored {} bytes for {}", body.len(), principal.name)
            }
        },
    )
    .route_layer(require_role(auth.clone(), Role::Provisioner));
    let manage =
        get(|| async { "policies" }).route_layer(require_role(auth.clone(), Role::Manager));
    let router = Router::new()
        .route("/endorsement-provisioning/v1/submit", submit)
        .route("/management/v1/policies/PSA_IOT", manage)
        .route(
            "/.well-known/veraison/provisioning",
            get(|| async { "open" }),
        )
        .route(
            "/challenge-response/v1/newSession",
            post(|| async { "open" }),
        );
    (router, stored)
}

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    body: Value,
}

async fn call(router: &Router, method: &str, path: &str, authorization: Option<&str>) -> Answer {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::from("corim bytes")).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == vouch_http::PROBLEM_JSON);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = if is_problem {
        serde_json::from_slice(&bytes).unwrap()
    } else {
        Value::String(String::from_utf8(bytes.to_vec()).unwrap())
    };
    Answer {
        status,
        challenge,
        body,
    }
}

const SUBMIT: &str = "/endorsement-provisioning/v1/submit";
const MANAGE: &str = "/management/v1/policies/PSA_IOT";

async fn open_routes_stay_open(router: &Router) {
    assert_eq!(
        call(router, "GET", "/.well-known/veraison/provisioning", None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call(router, "POST", "/challenge-response/v1/newSession", None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn oidc_guards_provisioning_and_management_by_realm_role() {
    let issuer = TestIssuer::start().await;
    let key = TestKey::rs256("kc");
    issuer.publish(&key);
    let auth = Authenticator::oidc(OidcConfig {
        min_refresh_interval: Duration::ZERO,
        ..OidcConfig::new(issuer.issuer(), "vouch")
    })
    .unwrap();
    let (router, stored) = router(&auth);
    let bearer = |claims: &Value| format!("Bearer {}", key.sign(claims));
    let provisioner = bearer(&issuer.claims("vouch", &["provisioner"]));
    let manager = bearer(&issuer.claims("vouch", &["manager"]));

    let ok = call(&router, "POST", SUBMIT, Some(&provisioner)).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body, "stored 11 bytes for veraison-provisioner");
    assert_eq!(stored.load(Ordering::SeqCst), 1);
    assert_eq!(
        call(&router, "GET", MANAGE, Some(&manager)).await.status,
        StatusCode::OK
    );

    let mut expired = issuer.claims("vouch", &["provisioner"]);
    expired["exp"] = json!(now() - 600);
    let mut wrong_issuer = issuer.claims("vouch", &["provisioner"]);
    wrong_issuer["iss"] = json!("https://other.example/realms/veraison");
    let good = issuer.claims("vouch", &["provisioner"]);
    let unauthenticated = [
        ("no token", None),
        ("expired", Some(bearer(&expired))),
        ("wrong issuer", Some(bearer(&wrong_issuer))),
        (
            "wrong audience",
            Some(bearer(&issuer.claims("account", &["provisioner"]))),
        ),
        (
            "unknown key",
            Some(format!("Bearer {}", TestKey::es256("x").sign(&good))),
        ),
        (
            "alg none",
            Some(format!("Bearer {}", unsigned_token("kc", &good))),
        ),
        (
            "HS256 with the public key",
            Some(format!(
                "Bearer {}",
                hs256_token("kc", key.public_pem().as_bytes(), &good)
            )),
        ),
        ("basic", Some("Basic dXNlcjpwYXNz".to_owned())),
    ];
    for (what, authorization) in unauthenticated {
        let answer = call(&router, "POST", SUBMIT, authorization.as_deref()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(answer.body["status"], 401, "{what}: {}", answer.body);
        assert_eq!(answer.body["title"], "Unauthorized", "{what}");
        let challenge = answer.challenge.unwrap();
        if what == "no token" {
            assert_eq!(challenge, "Bearer realm=\"vouch\"");
        } else {
            assert_eq!(
                challenge, "Bearer realm=\"vouch\", error=\"invalid_token\"",
                "{what}"
            );
        }
    }
    // Wrong role, both ways round.
    let answer = call(&router, "POST", SUBMIT, Some(&manager)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.body["detail"],
        "the provisioner role is required for this API"
    );
    assert_eq!(
        answer.challenge.as_deref(),
        Some("Bearer realm=\"vouch\", error=\"insufficient_scope\"")
    );
    assert_eq!(
        call(&router, "GET", MANAGE, Some(&provisioner))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Only the one good submission was stored.
    assert_eq!(stored.load(Ordering::SeqCst), 1);
    open_routes_stay_open(&router).await;
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn basic_guards_provisioning_and_management_by_user_role() {
    let auth = Authenticator::basic(vec![
        User {
            name: "supply-chain".into(),
            password_hash: vouch_auth::hash_password(b"p4ss").unwrap(),
            roles: vec!["provisioner".into()],
        },
        User {
            name: "ops".into(),
            password_hash: vouch_auth::hash_password(b"0ps").unwrap(),
            roles: vec!["manager".into()],
        },
    ])
    .unwrap();
    let (router, stored) = router(&auth);

    let ok = call(
        &router,
        "POST",
        SUBMIT,
        Some(&basic("supply-chain", "p4ss")),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body, "stored 11 bytes for supply-chain");
    assert_eq!(
        call(&router, "GET", MANAGE, Some(&basic("ops", "0ps")))
            .await
            .status,
        StatusCode::OK
    );

    for (what, authorization, detail) in [
        ("no credentials", None, "no Basic authorization given"),
        (
            "wrong password",
            Some(basic("supply-chain", "p4sS")),
            "wrong username or password",
        ),
        (
            "unknown user",
            Some(basic("mallory", "p4ss")),
            "wrong username or password",
        ),
        (
            "bearer token",
            Some("Bearer abc.def.ghi".to_owned()),
            "not a Bearer token",
        ),
        ("not base64", Some("Basic ***".to_owned()), "base64"),
    ] {
        let answer = call(&router, "POST", SUBMIT, authorization.as_deref()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(
            answer.challenge.as_deref(),
            Some("Basic realm=\"vouch\""),
            "{what}"
        );
        let text = answer.body["detail"].as_str().unwrap();
        assert!(text.contains(detail), "{what}: {text}");
    }
    let answer = call(&router, "POST", SUBMIT, Some(&basic("ops", "0ps"))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.challenge, None);
    assert_eq!(
        call(&router, "GET", MANAGE, Some(&basic("supply-chain", "p4ss")))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(stored.load(Ordering::SeqCst), 1);
    open_routes_stay_open(&router).await;
}

#[tokio::test]
async fn none_lets_everything_through() {
    let (router, stored) = router(&Authenticator::None);
    let ok = call(&router, "POST", SUBMIT, None).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body, "stored 11 bytes for anonymous");
    assert_eq!(
        call(&router, "GET", MANAGE, None).await.status,
        StatusCode::OK
    );
    assert_eq!(stored.load(Ordering::SeqCst), 1);
}
