//! End to end: the REST APIs over HTTP against the embedded default.

// Helper functions here panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use vouch_ear::TrustTier;
use vouch_testkit::corim::PsaCorimEncoding;
use vouch_testkit::psa::{Device, PsaClaims, SwComponent};

fn problem_detail(body: &serde_json::Value) -> &str {
    body["detail"].as_str().unwrap_or_default()
}

async fn problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn provision_then_verify_profile_2_and_profile_1() {
    let app = spawn_app().await;
    let device = Device::generate().unwrap();
    app.provision_ok(
        CORIM_CURRENT_MT,
        corim_for(&[&device], PsaCorimEncoding::Current),
    )
    .await;

    let (session, nonce) = app.session("?nonceSize=48").await;
    assert_eq!(nonce.len(), 48);
    let token = device
        .token(&nonce, &SwComponent::acme_components())
        .unwrap();
    let response = app.submit(&session, PSA_TOKEN_MT, token.clone()).await;
    let ear = ear_of(&app, response).await;
    let submod = &ear.submods["PSA_IOT"];
    assert_eq!(submod.status, TrustTier::Affirming);
    assert_eq!(submod.policy_id.as_deref(), Some("policy:PSA_IOT"));
    assert_eq!(ear.nonce_bytes().unwrap().unwrap(), nonce);

    // The session now carries the evidence as sent.
    let stored: serde_json::Value = app
        .client
        .get(&session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["status"], "complete");
    assert_eq!(stored["evidence"]["type"], PSA_TOKEN_MT);

    // Profile 1 evidence from the same device, under another media type.
    let (session, nonce) = app.session("").await;
    let p1 = PsaClaims::profile_1()
        .with_identity(&device.implementation_id, &device.instance_id)
        .with_nonce(&nonce)
        .with_sw_components(SwComponent::acme_components())
        .sign(&device.key)
        .unwrap();
    let response = app
        .submit(
            &session,
            "application/eat-cwt;profile=\"http://arm.com/psa/2.0.0\"",
            p1,
        )
        .await;
    let ear = ear_of(&app, response).await;
    assert_eq!(ear.submods["PSA_IOT"].status, TrustTier::Affirming);
    let evidence = ear.submods["PSA_IOT"].annotated_evidence.as_ref().unwrap();
    assert_eq!(evidence["psa-profile"], "PSA_IOT_PROFILE_1");

    let response = app.client.delete(&session).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let response = app.client.get(&session).send().await.unwrap();
    problem(response, 404).await;
    app.stop().await;
}

#[tokio::test]
async fn legacy_corim_encoding_is_accepted() {
    let app = spawn_app().await;
    let device = Device::generate().unwrap();
    app.provision_ok(
        CORIM_LEGACY_MT,
        corim_for(&[&device], PsaCorimEncoding::Legacy),
    )
    .await;
    let (session, nonce) = app.session("").await;
    let token = device
        .token(&nonce, &SwComponent::acme_components())
        .unwrap();
    let ear = ear_of(&app, app.submit(&session, PSA_TOKEN_MT, token).await).await;
    assert_eq!(ear.submods["PSA_IOT"].status, TrustTier::Affirming);
    app.stop().await;
}

#[tokio::test]
async fn bad_nonce_parameters_are_refused() {
    let app = spawn_app().await;
    let cases = [
        (
            "?nonce=Ppfdfe2JzZLOk=",
            "failed handling nonce request: nonce must be valid base64",
        ),
        (
            "?nonce=AAAA",
            "failed handling nonce request: nonce must be between 8 and 64 bytes long; got 3",
        ),
        (
            "?nonceSize=7",
            "failed handling nonce request: nonceSize must be in range 8..64",
        ),
        (
            "?nonceSize=65",
            "failed handling nonce request: nonceSize must be in range 8..64",
        ),
        (
            "?nonceSize=abc",
            "failed handling nonce request: nonceSize must be in range 8..64",
        ),
        (
            "?nonce=QUp8F0FBs9DpodKK8xUg8NQimf6sQAfe2J1ormzZLxk&nonceSize=32",
            "failed handling nonce request: nonce and nonceSize are mutually exclusive",
        ),
    ];
    for (query, detail) in cases {
        let body = problem(app.new_session(query).await, 400).await;
        assert_eq!(problem_detail(&body), detail, "{query}");
        assert_eq!(body["title"], "Bad Request");
    }
    // A caller-chosen nonce, padded or not, comes back unpadded base64url.
    for query in [
        "?nonce=QUp8F0FBs9DpodKK8xUg8NQimf6sQAfe2J1ormzZLxk=",
        "?nonce=QUp8F0FBs9DpodKK8xUg8NQimf6sQAfe2J1ormzZLxk",
    ] {
        let response = app.new_session(query).await;
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["nonce"], "QUp8F0FBs9DpodKK8xUg8NQimf6sQAfe2J1ormzZLxk");
    }
    app.stop().await;
}

#[tokio::test]
async fn unknown_sessions_and_malformed_ids() {
    let app = spawn_app().await;
    let unknown = format!(
        "{}/challenge-response/v1/session/{}",
        app.verification,
        uuid::Uuid::new_v4()
    );
    let body = problem(app.client.get(&unknown).send().await.unwrap(), 404).await;
    assert!(problem_detail(&body).starts_with("session not found for (id, tenant)=("));
    let body = problem(app.submit(&unknown, PSA_TOKEN_MT, vec![1, 2, 3]).await, 404).await;
    assert!(problem_detail(&body).contains("session not found"));
    // Deleting what is not there is idempotent.
    assert_eq!(
        app.client.delete(&unknown).send().await.unwrap().status(),
        204
    );

    let bad = format!(
        "{}/challenge-response/v1/session/1111-2222-3333",
        app.verification
    );
    let body = problem(app.client.get(&bad).send().await.unwrap(), 400).await;
    assert!(
        problem_detail(&body)
            .starts_with("invalid session id (/challenge-response/v1/session/1111-2222-3333)")
    );
    // Unmatched routes and methods are problems too.
    let nowhere = format!("{}/challenge-response/v1/1111-2222-3333", app.verification);
    problem(app.client.post(&nowhere).send().await.unwrap(), 404).await;
    let wrong_method = format!("{}/challenge-response/v1/newSession", app.verification);
    problem(app.client.get(&wrong_method).send().await.unwrap(), 405).await;
    app.stop().await;
}

#[tokio::test]
async fn unsupported_media_types_get_415_with_accept() {
    let app = spawn_app().await;
    let (session, _) = app.session("").await;
    let response = app
        .submit(&session, "application/json", vec![1, 2, 3])
        .await;
    let accept = response.headers()["accept"].to_str().unwrap().to_owned();
    assert!(
        accept.contains("application/psa-attestation-token"),
        "{accept}"
    );
    let body = problem(response, 415).await;
    assert_eq!(
        problem_detail(&body),
        "no active plugin found for application/json"
    );

    let response = app
        .client
        .post(&session)
        .body(vec![1, 2, 3])
        .send()
        .await
        .unwrap();
    problem(response, 415).await;

    let response = app
        .provision("application/rim+cbor; profile=\"nope\"", vec![1])
        .await;
    let accept = response.headers()["accept"].to_str().unwrap().to_owned();
    assert!(accept.contains("tag:arm.com,2025:psa#1.0.0"), "{accept}");
    problem(response, 415).await;

    let body = problem(app.provision("not a media type", vec![1]).await, 400).await;
    assert!(problem_detail(&body).starts_with("could not check media type with provisioner"));
    app.stop().await;
}

#[tokio::test]
async fn empty_bodies_get_400() {
    let app = spawn_app().await;
    let (session, _) = app.session("").await;
    let body = problem(app.submit(&session, PSA_TOKEN_MT, Vec::new()).await, 400).await;
    assert_eq!(
        problem_detail(&body),
        "unable to read evidence from the request body"
    );
    let body = problem(app.provision(CORIM_CURRENT_MT, Vec::new()).await, 400).await;
    assert_eq!(problem_detail(&body), "empty body");
    app.stop().await;
}

#[tokio::test]
async fn not_acceptable_and_oversized_requests() {
    let app = spawn_app_with(|s| s.verification.max_body_bytes = 1024).await;
    let response = app
        .client
        .post(format!(
            "{}/challenge-response/v1/newSession",
            app.verification
        ))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    let body = problem(response, 406).await;
    assert_eq!(
        problem_detail(&body),
        format!("the only supported output format is {SESSION_MT}")
    );
    let (session, _) = app.session("").await;
    problem(
        app.submit(&session, PSA_TOKEN_MT, vec![0u8; 4096]).await,
        413,
    )
    .await;
    // The discovery document is JSON: `Accept: application/json` is fine.
    let response = app
        .client
        .get(format!(
            "{}/.well-known/veraison/provisioning",
            app.provisioning
        ))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
    let doc: serde_json::Value = response.json().await.unwrap();
    assert_eq!(doc["service-state"], "READY");
    assert!(
        doc["media-types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == CORIM_LEGACY_MT)
    );
    app.stop().await;
}

#[tokio::test]
async fn expired_sessions_are_gone() {
    let app = spawn_app_with(|s| s.verification.session_ttl_secs = 1).await;
    let device = Device::generate().unwrap();
    app.provision_ok(
        CORIM_CURRENT_MT,
        corim_for(&[&device], PsaCorimEncoding::Current),
    )
    .await;
    let (session, nonce) = app.session("").await;
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    problem(app.client.get(&session).send().await.unwrap(), 404).await;
    let token = device
        .token(&nonce, &SwComponent::acme_components())
        .unwrap();
    problem(app.submit(&session, PSA_TOKEN_MT, token).await, 404).await;
    app.stop().await;
}

#[tokio::test]
async fn duplicate_corims_are_stored_once() {
    let app = spawn_app().await;
    let device = Device::generate().unwrap();
    let corim = corim_for(&[&device], PsaCorimEncoding::Current);
    for _ in 0..3 {
        app.provision_ok(CORIM_CURRENT_MT, corim.clone()).await;
    }
    let service = app_stats(&app).await;
    assert_eq!(service.corims, 1);
    assert_eq!(service.trust_anchors, 1);
    assert_eq!(service.reference_values, 3);
    app.stop().await;
}

async fn app_stats(app: &TestApp) -> vouch_store::StoreStats {
    // The test owns the data directory, so it can open the same database.
    let url = format!("sqlite://{}/vouch.db", app.data_dir().display());
    let mut config = vouch_store::StoreConfig::new(url);
    config.run_migrations = false;
    let store = vouch_store::connect(&config).await.unwrap();
    let stats = store.stats().await.unwrap();
    store.close().await;
    stats
}

#[tokio::test]
async fn evidence_for_an_unknown_instance_is_contraindicated() {
    let app = spawn_app().await;
    let known = Device::generate().unwrap();
    let unknown = Device::generate().unwrap();
    app.provision_ok(
        CORIM_CURRENT_MT,
        corim_for(&[&known], PsaCorimEncoding::Current),
    )
    .await;
    let (session, nonce) = app.session("").await;
    let token = unknown
        .token(&nonce, &SwComponent::acme_components())
        .unwrap();
    let ear = ear_of(&app, app.submit(&session, PSA_TOKEN_MT, token).await).await;
    let submod = &ear.submods["PSA_IOT"];
    assert_eq!(submod.status, TrustTier::Contraindicated);
    assert_eq!(
        submod.policy_claims.as_ref().unwrap()["problem"],
        "no trust anchor for evidence"
    );
    assert!(
        submod
            .trust_vector
            .claims()
            .iter()
            .all(|(_, c)| c.value() == 99)
    );
    app.stop().await;
}

#[tokio::test]
async fn stale_nonce_wrong_key_and_unknown_software() {
    let app = spawn_app().await;
    let device = Device::generate().unwrap();
    app.provision_ok(
        CORIM_CURRENT_MT,
        corim_for(&[&device], PsaCorimEncoding::Current),
    )
    .await;

    let (session, _) = app.session("").await;
    let stale = device
        .token(&[7u8; 32], &SwComponent::acme_components())
        .unwrap();
    let ear = ear_of(&app, app.submit(&session, PSA_TOKEN_MT, stale).await).await;
    let problem_text = ear.submods["PSA_IOT"].policy_claims.as_ref().unwrap()["problem"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        problem_text
            .starts_with("integrity validation failed: bad evidence: freshness: psa-nonce (0707"),
        "{problem_text}"
    );

    // Same identity, another key: the signature does not verify.
    let impostor = Device {
        key: vouch_testkit::keys::generate_device_key().unwrap(),
        ..device.clone()
    };
    let (session, nonce) = app.session("").await;
    let forged = impostor
        .token(&nonce, &SwComponent::acme_components())
        .unwrap();
    let ear = ear_of(&app, app.submit(&session, PSA_TOKEN_MT, forged).await).await;
    assert_eq!(
        ear.submods["PSA_IOT"].policy_claims.as_ref().unwrap()["problem"],
        "integrity validation failed: bad evidence: signature verification failed: verification error"
    );

    // Firmware nobody endorsed: a warning, not a failure.
    let (session, nonce) = app.session("").await;
    let mut components = SwComponent::acme_components();
    components[0].measurement_value = Some(vec![0x5a; 32]);
    let token = device.token(&nonce, &components).unwrap();
    let ear = ear_of(&app, app.submit(&session, PSA_TOKEN_MT, token).await).await;
    let submod = &ear.submods["PSA_IOT"];
    assert_eq!(submod.status, TrustTier::Warning);
    assert_eq!(submod.trust_vector.executables.value(), 33);

    // Garbage is bad evidence, reported in the EAR.
    let (session, _) = app.session("").await;
    let ear = ear_of(
        &app,
        app.submit(&session, PSA_TOKEN_MT, vec![0xd2, 0x84]).await,
    )
    .await;
    assert_eq!(
        ear.submods["PSA_IOT"].policy_claims.as_ref().unwrap()["problem"],
        "could not establish identity from evidence"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_finished_session_takes_no_more_evidence() {
    let app = spawn_app().await;
    let device = Device::generate().unwrap();
    app.provision_ok(
        CORIM_CURRENT_MT,
        corim_for(&[&device], PsaCorimEncoding::Current),
    )
    .await;
    let (session, nonce) = app.session("").await;
    let token = device
        .token(&nonce, &SwComponent::acme_components())
        .unwrap();
    assert_eq!(
        app.submit(&session, PSA_TOKEN_MT, token.clone())
            .await
            .status(),
        200
    );
    problem(app.submit(&session, PSA_TOKEN_MT, token).await, 409).await;
    app.stop().await;
}

#[tokio::test]
async fn bad_corims_fail_with_a_reason() {
    let app = spawn_app().await;
    let response = app.provision(CORIM_CURRENT_MT, b"not cbor".to_vec()).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "failed");
    let reason = body["failure-reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "submit endorsement returned error: submit endorsements failed: could not decode CoRIM"
        ),
        "{reason}"
    );
    // A legacy CoRIM under the current media type: the profiles differ.
    let device = Device::generate().unwrap();
    let response = app
        .provision(
            CORIM_CURRENT_MT,
            corim_for(&[&device], PsaCorimEncoding::Legacy),
        )
        .await;
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "failed");
    assert!(
        body["failure-reason"]
            .as_str()
            .unwrap()
            .contains("does not match the media type profile")
    );
    app.stop().await;
}

#[tokio::test]
async fn health_endpoints_answer_on_both_front_ends() {
    let app = spawn_app().await;
    for base in [&app.verification, &app.provisioning] {
        let r = app
            .client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = app
            .client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    app.stop().await;
}
