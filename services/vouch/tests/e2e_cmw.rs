//! Evidence wrapped in a RATS Conceptual Message Wrapper: Veraison's
//! verification API unwraps a CMW record to the media type and bytes it
//! carries before choosing a scheme; Vouch does the same, in the CBOR and
//! JSON serialisations and Veraison's `vnd.veraison` spellings.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use vouch_testkit::corim::PsaCorimEncoding;
use vouch_testkit::psa::{Device, SwComponent};

/// Wraps a PSA token into a CMW.
type Wrap = fn(&[u8]) -> Vec<u8>;

async fn problem(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    (
        status,
        body["detail"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn cmw_records_are_appraised_as_the_evidence_they_wrap() {
    let app = spawn_app().await;
    let device = Device::generate().unwrap();
    app.provision_ok(
        CORIM_CURRENT_MT,
        corim_for(&[&device], PsaCorimEncoding::Current),
    )
    .await;
    let wrappings: [(&str, Wrap); 4] = [
        ("application/cmw+cbor", |t| {
            vouch_cmw::wrap_record_cbor(PSA_TOKEN_MT, t)
        }),
        ("application/cmw+json", |t| {
            vouch_cmw::wrap_record_json(PSA_TOKEN_MT, t).into_bytes()
        }),
        ("application/vnd.veraison.cmw", |t| {
            vouch_cmw::wrap_record_cbor(PSA_TOKEN_MT, t)
        }),
        ("application/cmw", |t| {
            vouch_cmw::wrap_record_json(PSA_TOKEN_MT, t).into_bytes()
        }),
    ];
    for (content_type, wrap) in wrappings {
        let (session, nonce) = app.session("").await;
        let token = device
            .token(&nonce, &SwComponent::acme_components())
            .unwrap();
        let response = app.submit(&session, content_type, wrap(&token)).await;
        let ear = ear_of(&app, response).await;
        assert_eq!(
            ear.submods["PSA_IOT"].status.as_str(),
            "affirming",
            "{content_type}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn bad_cmws_are_refused_with_a_problem() {
    let app = spawn_app().await;
    let (session, _) = app.session("").await;

    // Not a CMW at all.
    let (status, detail) = problem(
        app.submit(&session, "application/cmw+cbor", b"\x01\x02".to_vec())
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(detail.starts_with("could not unwrap the CMW: "), "{detail}");

    // A record of a type no scheme handles.
    let record = vouch_cmw::wrap_record_cbor("application/x-unknown", b"evidence");
    let (status, _) = problem(app.submit(&session, "application/cmw+cbor", record).await).await;
    assert_eq!(status, 415);

    // A collection passes through unwrapped, and no scheme takes it.
    let (status, _) = problem(
        app.submit(
            &session,
            "application/cmw+json",
            br#"{"a": ["application/psa-attestation-token", "AAAA"]}"#.to_vec(),
        )
        .await,
    )
    .await;
    assert_eq!(status, 415);

    // The session is still waiting: nothing was appraised.
    let (status, _) = problem(
        app.submit(&session, "application/psa-attestation-token", vec![0])
            .await,
    )
    .await;
    assert_ne!(status, 409);
    app.stop().await;
}
