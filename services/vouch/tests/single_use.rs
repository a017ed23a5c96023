//! Evidence is accepted once per session, also under concurrency: of many
//! simultaneous submissions to one session exactly one is appraised and
//! answered 200 with an EAR; every other gets 409. With the in-process
//! session store and with memcached, where the claim is memcached's
//! compare-and-swap.

// Helper functions here panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use vouch_ear::TrustTier;
use vouch_testkit::corim::PsaCorimEncoding;
use vouch_testkit::psa::{Device, SwComponent};

/// Simultaneous submissions per session.
const SUBMISSIONS: usize = 48;

/// Sessions raced per store.
const ROUNDS: usize = 3;

/// Races `SUBMISSIONS` copies of one valid token against each of `ROUNDS`
/// fresh sessions.
async fn exactly_one_submission_is_appraised(app: &TestApp) {
    let device = Device::generate().unwrap();
    app.provision_ok(
        CORIM_CURRENT_MT,
        corim_for(&[&device], PsaCorimEncoding::Current),
    )
    .await;
    for round in 0..ROUNDS {
        let (session, nonce) = app.session("").await;
        let token = device
            .token(&nonce, &SwComponent::acme_components())
            .unwrap();
        // Every request is sent and waiting for its answer before the first
        // one can have finished: the barrier releases them together.
        let start = Arc::new(tokio::sync::Barrier::new(SUBMISSIONS));
        let tasks: Vec<_> = (0..SUBMISSIONS)
            .map(|_| {
                let (client, session, token, start) = (
                    app.client.clone(),
                    session.clone(),
                    token.clone(),
                    start.clone(),
                );
                tokio::spawn(async move {
                    start.wait().await;
                    client
                        .post(&session)
                        .header("Content-Type", PSA_TOKEN_MT)
                        .body(token)
                        .send()
                        .await
                        .expect("evidence request")
                })
            })
            .collect();
        let mut appraised = Vec::new();
        let mut refused = 0;
        let mut other = Vec::new();
        for task in tasks {
            let response = task.await.unwrap();
            match response.status().as_u16() {
                200 => appraised.push(response),
                409 => {
                    assert_eq!(
                        response.headers()["content-type"],
                        "application/problem+json"
                    );
                    let problem: serde_json::Value = response.json().await.unwrap();
                    let detail = problem["detail"].as_str().unwrap();
                    assert!(detail.contains("already has evidence"), "{detail}");
                    refused += 1;
                }
                status => other.push((status, response.text().await.unwrap())),
            }
        }
        assert!(
            other.is_empty(),
            "round {round}: unexpected answers {other:?}"
        );
        assert_eq!(
            (appraised.len(), refused),
            (1, SUBMISSIONS - 1),
            "round {round}: exactly one 200, every other 409"
        );
        let ear = ear_of(app, appraised.pop().unwrap()).await;
        assert_eq!(ear.submods["PSA_IOT"].status, TrustTier::Affirming);
        assert_eq!(ear.nonce_bytes().unwrap().unwrap(), nonce);

        // The session keeps the one result, and still refuses evidence.
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
        let jwt = stored["result"].as_str().unwrap();
        let again = vouch_ear::verify(jwt, &app.ear_key().await).unwrap();
        assert_eq!(again.nonce_bytes().unwrap().unwrap(), nonce);
        assert_eq!(
            app.submit(&session, PSA_TOKEN_MT, token).await.status(),
            409
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_evidence_is_accepted_once_with_in_process_sessions() {
    let app = spawn_app_with(|s| s.sessions = "memory".to_owned()).await;
    exactly_one_submission_is_appraised(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_evidence_is_accepted_once_with_memcached_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let Some(memcached) = procs::Memcached::start(dir.path()).await else {
        return;
    };
    let url = memcached.url();
    let app = spawn_app_with(|s| s.sessions = url).await;
    exactly_one_submission_is_appraised(&app).await;
    app.stop().await;
    drop(memcached);
}
