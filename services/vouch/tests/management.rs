//! End to end: the policy management API of the embedded default, and what
//! an active policy does to verification.
//!
//! - Veraison's own policy-management sequence (`test_policy_management`).
//! - Rules that do not compile get 400 with the compiler's message and
//!   nothing is stored; an identical create returns the stored policy.
//! - The API needs the `manager` role under OIDC and basic auth, while the
//!   discovery document stays open.
//! - A PSA policy that marks the executables unsafe turns an affirming
//!   device into a warning, names itself in `ear.appraisal-policy-id`, and
//!   stops doing so once deactivated; a CCA policy checks the realm
//!   challenge against the session nonce, as Veraison's
//!   `cca-verify-challenge` policy does.

// Helpers here panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{Value, json};
use vouch::settings::{AuthMode, AuthUser};
use vouch_auth::testing::{TestIssuer, TestKey};
use vouch_crypto::Curve;
use vouch_ear::{Ear, TrustTier};
use vouch_testkit::cca::{
    CCA_EVIDENCE_MT, CCA_PLATFORM_CORIM_MT, CCA_REALM_CORIM_MT, CcaDevice, Framing,
};
use vouch_testkit::corim::PsaCorimEncoding;
use vouch_testkit::psa::{Device, SwComponent};

const RULES_MT: &str = "application/vnd.veraison.policy.opa";
const POLICY_MT: &str = "application/vnd.veraison.policy+json";
const POLICIES_MT: &str = "application/vnd.veraison.policies+json";
const PROBLEM_MT: &str = "application/problem+json";

/// A PSA policy in the spirit of Veraison's `psa-short.rego`.
const PSA_SHORT: &str = "package policy\n\nexecutables = APPROVED_RT\n";

/// Marks every PSA device's executables unsafe, and says so in the claims.
const PSA_UNSAFE: &str = "package policy

# Whatever the reference values say, these executables are not to be trusted.
executables = UNSAFE_RT

added_claims = {\"policy-note\": \"executables under review\"}
";

/// The realm challenge must be the session nonce itself: a nonce shorter
/// than 64 bytes, which the realm carries zero-padded, does not pass.
const CCA_CHALLENGE: &str = "package policy

session_nonce := base64url.decode(session.nonce)

realm_challenge := base64.decode(evidence.realm[\"cca-realm-challenge\"])

status = AFFIRMING {
\tsession_nonce == realm_challenge
} else = CONTRAINDICATED
";

/// A request to the management API with optional `Authorization`.
fn request(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    authorization: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.management_url()));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    request
}

async fn create_as(
    app: &TestApp,
    scheme_and_query: &str,
    rules: &str,
    authorization: Option<&str>,
) -> reqwest::Response {
    request(
        app,
        reqwest::Method::POST,
        &format!("/management/v1/policy/{scheme_and_query}"),
        authorization,
    )
    .header("Content-Type", RULES_MT)
    .body(rules.to_owned())
    .send()
    .await
    .unwrap()
}

async fn create(app: &TestApp, scheme_and_query: &str, rules: &str) -> reqwest::Response {
    create_as(app, scheme_and_query, rules, None).await
}

/// Creates a policy, asserts 201, and returns its JSON.
async fn created(app: &TestApp, scheme_and_query: &str, rules: &str) -> Value {
    let response = create(app, scheme_and_query, rules).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["content-type"], POLICY_MT);
    response.json().await.unwrap()
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    request(app, reqwest::Method::GET, path, None)
        .send()
        .await
        .unwrap()
}

async fn post(app: &TestApp, path: &str) -> reqwest::Response {
    request(app, reqwest::Method::POST, path, None)
        .send()
        .await
        .unwrap()
}

/// Asserts a problem+json answer with `status` and returns its body.
async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["content-type"], PROBLEM_MT);
    response.json().await.unwrap()
}

async fn activate(app: &TestApp, scheme: &str, uuid: &str) {
    let response = post(
        app,
        &format!("/management/v1/policy/{scheme}/{uuid}/activate"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.unwrap().is_empty());
}

async fn deactivate(app: &TestApp, scheme: &str) {
    let response = post(app, &format!("/management/v1/policies/{scheme}/deactivate")).await;
    assert_eq!(response.status(), 200);
}

async fn list(app: &TestApp, scheme: &str) -> Vec<Value> {
    let response = get(app, &format!("/management/v1/policies/{scheme}")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], POLICIES_MT);
    let body: Value = response.json().await.unwrap();
    body.as_array().unwrap().clone()
}

fn uuid_of(policy: &Value) -> String {
    policy["uuid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn veraisons_policy_management_sequence() {
    let app = spawn_app().await;
    let policy = "/management/v1/policy/PSA_IOT";

    // No policy at all.
    problem(get(&app, policy).await, 404).await;

    let first = created(&app, "PSA_IOT", PSA_SHORT).await;
    assert_eq!(first["name"], "default");
    assert_eq!(first["type"], "opa");
    assert_eq!(first["rules"], PSA_SHORT);
    assert_eq!(first["active"], false);
    let ctime = time::OffsetDateTime::parse(
        first["ctime"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let age = time::OffsetDateTime::now_utc() - ctime;
    assert!(age.abs() < time::Duration::seconds(60), "ctime {ctime}");
    let uuid = uuid_of(&first);
    assert_eq!(uuid.len(), 36, "{uuid}");

    // Stored, none active.
    problem(get(&app, policy).await, 404).await;
    let by_id = get(&app, &format!("{policy}/{uuid}")).await;
    assert_eq!(by_id.status(), 200);
    assert_eq!(by_id.headers()["content-type"], POLICY_MT);
    assert_eq!(by_id.json::<Value>().await.unwrap(), first);

    activate(&app, "PSA_IOT", &uuid).await;
    let active = get(&app, policy).await;
    assert_eq!(active.status(), 200);
    let active: Value = active.json().await.unwrap();
    assert_eq!(active["uuid"], uuid.as_str());
    assert_eq!(active["active"], true);

    let bad = problem(get(&app, "/management/v1/policy/BAD").await, 400).await;
    assert_eq!(bad["title"], "Bad Request");
    assert_eq!(bad["detail"], "unrecognised scheme \"BAD\"");

    let second = created(&app, "PSA_IOT?name=test", PSA_SHORT).await;
    assert_eq!(second["name"], "test");
    assert_eq!(second["active"], false);
    assert_ne!(uuid_of(&second), uuid);
    let active: Value = get(&app, policy).await.json().await.unwrap();
    assert_eq!(active["uuid"], uuid.as_str(), "still the first");

    let policies = list(&app, "PSA_IOT").await;
    assert_eq!(policies.len(), 2);
    assert_eq!(policies.iter().filter(|p| p["active"] == true).count(), 1);
    let named: Value = get(&app, "/management/v1/policies/PSA_IOT?name=test")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(named.as_array().unwrap().len(), 1);
    assert_eq!(named[0]["uuid"], second["uuid"]);

    deactivate(&app, "PSA_IOT").await;
    let policies = list(&app, "PSA_IOT").await;
    assert_eq!(policies.len(), 2);
    assert!(
        policies.iter().all(|p| p["active"] == false),
        "{policies:?}"
    );
    problem(get(&app, policy).await, 404).await;

    // The discovery document, without credentials.
    let doc = get(&app, "/.well-known/veraison/management").await;
    assert_eq!(doc.status(), 200);
    assert_eq!(
        doc.headers()["content-type"],
        "application/vnd.veraison.discovery+json"
    );
    let doc: Value = doc.json().await.unwrap();
    let schemes: Vec<&str> = doc["attestation-schemes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        schemes.contains(&"PSA_IOT") && schemes.contains(&"ARM_CCA"),
        "{schemes:?}"
    );
    assert_eq!(doc["service-state"], "READY");
    assert!(doc["version"].is_string());
    assert_eq!(
        doc["api-endpoints"],
        json!({
            "activatePolicy": "/management/v1/policy/:scheme/:uuid/activate",
            "createPolicy": "/management/v1/policy/:scheme",
            "deactivatePolicies": "/management/v1/policies/:scheme/deactivate",
            "getActivePolicy": "/management/v1/policy/:scheme",
            "getPolicies": "/management/v1/policies/:scheme",
            "getPolicy": "/management/v1/policy/:scheme/:uuid"
        })
    );
    for path in ["/healthz", "/readyz"] {
        assert_eq!(get(&app, path).await.status(), 200, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn invalid_rules_store_nothing_and_identical_creates_store_once() {
    let app = spawn_app().await;
    let detail = |body: &Value| body["detail"].as_str().unwrap_or_default().to_owned();

    let body = problem(
        create(&app, "PSA_IOT", "package policy\nexecutables = ").await,
        400,
    )
    .await;
    assert!(detail(&body).starts_with("invalid policy:"), "{body}");
    // Nothing stored: the scheme has no policies at all.
    problem(get(&app, "/management/v1/policies/PSA_IOT").await, 404).await;

    let body = problem(create(&app, "PSA_IOT", "").await, 400).await;
    assert_eq!(detail(&body), "empty body");
    let response = app
        .client
        .post(format!(
            "{}/management/v1/policy/PSA_IOT",
            app.management_url()
        ))
        .header("Content-Type", "text/plain")
        .body(PSA_SHORT)
        .send()
        .await
        .unwrap();
    let body = problem(response, 400).await;
    assert_eq!(
        detail(&body),
        "the only supported rules format is application/vnd.veraison.policy.opa"
    );
    let body = problem(create(&app, "BAD", PSA_SHORT).await, 400).await;
    assert_eq!(detail(&body), "unrecognised scheme \"BAD\"");

    let first = created(&app, "PSA_IOT", PSA_SHORT).await;
    let again = created(&app, "PSA_IOT", PSA_SHORT).await;
    assert_eq!(uuid_of(&again), uuid_of(&first), "a retry stores no copy");
    assert_eq!(list(&app, "PSA_IOT").await.len(), 1);

    // An invalid policy next to a valid one still stores nothing.
    let body = problem(
        create(
            &app,
            "PSA_IOT?name=broken",
            "package policy\nexecutables = ",
        )
        .await,
        400,
    )
    .await;
    assert!(detail(&body).starts_with("invalid policy:"), "{body}");
    assert_eq!(list(&app, "PSA_IOT").await.len(), 1);

    let body = problem(
        get(&app, "/management/v1/policy/PSA_IOT/not-a-uuid").await,
        400,
    )
    .await;
    assert_eq!(detail(&body), "bad UUID \"not-a-uuid\"");
    problem(
        post(
            &app,
            "/management/v1/policy/PSA_IOT/6ba7b810-9dad-11d1-80b4-00c04fd430c8/activate",
        )
        .await,
        404,
    )
    .await;
    let response = request(
        &app,
        reqwest::Method::GET,
        "/management/v1/policy/PSA_IOT",
        None,
    )
    .header("Accept", "application/json")
    .send()
    .await
    .unwrap();
    let body = problem(response, 406).await;
    assert_eq!(
        detail(&body),
        "the only supported output format is application/vnd.veraison.policy+json"
    );
    app.stop().await;
}

const AUDIENCE: &str = "vouch";

/// The calls of a manager: create, list, get the active policy.
async fn manage(app: &TestApp, authorization: Option<&str>) -> [u16; 3] {
    let create = create_as(app, "PSA_IOT", PSA_SHORT, authorization).await;
    let list = request(
        app,
        reqwest::Method::GET,
        "/management/v1/policies/PSA_IOT",
        authorization,
    )
    .send()
    .await
    .unwrap();
    let active = request(
        app,
        reqwest::Method::GET,
        "/management/v1/policy/PSA_IOT",
        authorization,
    )
    .send()
    .await
    .unwrap();
    [create, list, active].map(|r| r.status().as_u16())
}

/// Asserts that `authorization` is refused with `status` as problem+json,
/// with a `scheme` challenge on 401.
async fn refused(app: &TestApp, authorization: Option<&str>, status: u16, scheme: &str) {
    let response = create_as(app, "PSA_IOT", PSA_SHORT, authorization).await;
    if status == 401 {
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            challenge.starts_with(&format!("{scheme} realm=\"vouch\"")),
            "{challenge}"
        );
    }
    let body = problem(response, status).await;
    if status == 403 {
        assert_eq!(body["detail"], "the manager role is required for this API");
    }
    assert_eq!(
        manage(app, authorization).await,
        [status; 3],
        "{authorization:?}"
    );
}

#[tokio::test]
async fn oidc_management_needs_a_manager_token() {
    let issuer = TestIssuer::start().await;
    let key = TestKey::rs256("kc-rs256");
    issuer.publish(&key);
    let app = spawn_app_with(|s| {
        s.auth.mode = AuthMode::Oidc;
        s.auth.oidc_issuer = Some(issuer.issuer().to_owned());
        s.auth.oidc_audience = Some(AUDIENCE.to_owned());
    })
    .await;
    let bearer = |roles: &[&str]| format!("Bearer {}", key.sign(&issuer.claims(AUDIENCE, roles)));

    refused(&app, None, 401, "Bearer").await;
    let outsider = format!(
        "Bearer {}",
        TestKey::rs256("kc-rs256").sign(&issuer.claims(AUDIENCE, &["manager"]))
    );
    refused(&app, Some(&outsider), 401, "Bearer").await;
    refused(&app, Some(&bearer(&["provisioner"])), 403, "Bearer").await;
    // Discovery and health stay open.
    assert_eq!(
        get(&app, "/.well-known/veraison/management").await.status(),
        200
    );
    assert_eq!(get(&app, "/readyz").await.status(), 200);

    let manager = bearer(&["manager"]);
    // Nothing was stored by the refused calls.
    assert_eq!(
        manage(&app, Some(&manager)).await,
        [201, 200, 404],
        "the first create stores; none is active yet"
    );
    let stored: Value = request(
        &app,
        reqwest::Method::GET,
        "/management/v1/policies/PSA_IOT",
        Some(&manager),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(stored.as_array().unwrap().len(), 1, "{stored}");
    app.stop().await;
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn basic_auth_for_management_alone_needs_the_manager_role() {
    let user = |name: &str, password: &str, roles: &[&str]| AuthUser {
        name: name.to_owned(),
        password_hash: vouch_auth::hash_password(password.as_bytes()).unwrap(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    let app = spawn_app_with(|s| {
        // Only management is guarded; provisioning stays `none`.
        s.auth.management.mode = Some(AuthMode::Basic);
        s.auth.users = vec![
            user("ops", "s3cret", &["manager"]),
            user("supply", "chain", &["provisioner"]),
        ];
    })
    .await;
    refused(&app, None, 401, "Basic").await;
    refused(&app, Some(&basic("ops", "guess")), 401, "Basic").await;
    refused(&app, Some(&basic("supply", "chain")), 403, "Basic").await;
    assert_eq!(
        manage(&app, Some(&basic("ops", "s3cret"))).await,
        [201, 200, 404]
    );
    // Provisioning is not guarded by the management override.
    let device = Device::generate().unwrap();
    app.provision_ok(
        CORIM_CURRENT_MT,
        corim_for(&[&device], PsaCorimEncoding::Current),
    )
    .await;
    app.stop().await;
}

/// Verifies a fresh token of `device` and returns the EAR.
async fn verify_psa(app: &TestApp, device: &Device) -> Ear {
    let (session, nonce) = app.session("").await;
    let token = device
        .token(&nonce, &SwComponent::acme_components())
        .unwrap();
    ear_of(app, app.submit(&session, PSA_TOKEN_MT, token).await).await
}

#[tokio::test]
async fn an_active_psa_policy_changes_the_verdict_until_deactivated() {
    let app = spawn_app().await;
    let device = Device::generate().unwrap();
    app.provision_ok(
        CORIM_CURRENT_MT,
        corim_for(&[&device], PsaCorimEncoding::Current),
    )
    .await;
    let ear = verify_psa(&app, &device).await;
    let submod = &ear.submods["PSA_IOT"];
    assert_eq!(submod.status, TrustTier::Affirming);
    assert_eq!(submod.policy_id.as_deref(), Some("policy:PSA_IOT"));
    let executables = submod.trust_vector.executables;

    // Stored but inactive: no effect.
    let policy = created(&app, "PSA_IOT", PSA_UNSAFE).await;
    let uuid = uuid_of(&policy);
    let ear = verify_psa(&app, &device).await;
    assert_eq!(ear.submods["PSA_IOT"].status, TrustTier::Affirming);
    assert_eq!(
        ear.submods["PSA_IOT"].policy_id.as_deref(),
        Some("policy:PSA_IOT")
    );

    activate(&app, "PSA_IOT", &uuid).await;
    let ear = verify_psa(&app, &device).await;
    let submod = &ear.submods["PSA_IOT"];
    assert_eq!(submod.trust_vector.executables.value(), 32);
    assert_eq!(submod.status, TrustTier::Warning);
    let expected_id = format!("policy:PSA_IOT/{uuid}");
    assert_eq!(submod.policy_id.as_deref(), Some(expected_id.as_str()));
    assert_eq!(
        Value::Object(submod.policy_claims.clone().unwrap()),
        json!({"policy-note": "executables under review"})
    );
    // The rest of the scheme's vector is untouched.
    assert_eq!(submod.trust_vector.instance_identity.value(), 2);

    deactivate(&app, "PSA_IOT").await;
    let ear = verify_psa(&app, &device).await;
    let submod = &ear.submods["PSA_IOT"];
    assert_eq!(submod.status, TrustTier::Affirming);
    assert_eq!(submod.policy_id.as_deref(), Some("policy:PSA_IOT"));
    assert_eq!(submod.trust_vector.executables, executables);

    // Activating a policy that changes nothing keeps the verdict, and still
    // names the policy.
    let short = created(&app, "PSA_IOT", PSA_SHORT).await;
    activate(&app, "PSA_IOT", &uuid_of(&short)).await;
    let ear = verify_psa(&app, &device).await;
    let submod = &ear.submods["PSA_IOT"];
    assert_eq!(submod.status, TrustTier::Affirming);
    let expected_id = format!("policy:PSA_IOT/{}", uuid_of(&short));
    assert_eq!(submod.policy_id.as_deref(), Some(expected_id.as_str()));
    assert_eq!(
        submod.policy_claims.as_ref().map(serde_json::Map::len),
        Some(0),
        "no added claims: {:?}",
        submod.policy_claims
    );
    app.stop().await;
}

#[tokio::test]
async fn a_cca_policy_checks_the_realm_challenge_against_the_session_nonce() {
    let device = CcaDevice::generate(Curve::P256).unwrap();
    let app = spawn_app().await;
    app.provision_ok(CCA_PLATFORM_CORIM_MT, device.platform_corim().build())
        .await;
    app.provision_ok(CCA_REALM_CORIM_MT, device.realm_corim().build())
        .await;
    let policy = created(&app, "ARM_CCA", CCA_CHALLENGE).await;
    let uuid = uuid_of(&policy);
    activate(&app, "ARM_CCA", &uuid).await;
    let expected_id = format!("policy:ARM_CCA/{uuid}");

    let attest = |query: &'static str| {
        let app = &app;
        let device = &device;
        async move {
            let (session, nonce) = app.session(query).await;
            let token = device.token(&nonce, Framing::CmwCollection).unwrap();
            ear_of(app, app.submit(&session, CCA_EVIDENCE_MT, token).await).await
        }
    };
    // A 64-byte nonce is the realm challenge itself: affirming.
    let ear = attest("?nonceSize=64").await;
    for submod in ["CCA_SSD_PLATFORM", "CCA_REALM"] {
        let appraisal = &ear.submods[submod];
        assert_eq!(appraisal.status, TrustTier::Affirming, "{submod}");
        assert_eq!(
            appraisal.policy_id.as_deref(),
            Some(expected_id.as_str()),
            "{submod}"
        );
    }
    // A 32-byte nonce reaches the realm zero-padded: the scheme accepts
    // it, the policy does not.
    let ear = attest("?nonceSize=32").await;
    for submod in ["CCA_SSD_PLATFORM", "CCA_REALM"] {
        assert_eq!(
            ear.submods[submod].status,
            TrustTier::Contraindicated,
            "{submod}"
        );
    }

    // Without the policy the 32-byte nonce is affirming again.
    deactivate(&app, "ARM_CCA").await;
    let ear = attest("?nonceSize=32").await;
    for submod in ["CCA_SSD_PLATFORM", "CCA_REALM"] {
        assert_eq!(ear.submods[submod].status, TrustTier::Affirming, "{submod}");
        assert_eq!(
            ear.submods[submod].policy_id.as_deref(),
            Some("policy:ARM_CCA")
        );
    }
    app.stop().await;
}
