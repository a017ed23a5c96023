//! Fleet status end to end on the embedded default: verdicts reached over
//! the verification API show up in the management listener's fleet API,
//! per attester, counted and paged; evidence naming no provisioned
//! attester is not recorded.

// Helper functions here panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use serde_json::Value;
use vouch_ear::TrustTier;
use vouch_testkit::corim::PsaCorimEncoding;
use vouch_testkit::psa::{Device, SwComponent};

/// The id the fleet status shows for a PSA device: base64url of its trust
/// anchor id (implementation id, then instance id).
fn fleet_id(device: &Device) -> String {
    let ta_id = [&device.implementation_id[..], &device.instance_id[..]].concat();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ta_id)
}

/// GET a path of the management listener as JSON.
async fn management_json(app: &TestApp, path: &str) -> Value {
    common::get_json(&app.client, &format!("{}{path}", app.management_url())).await
}

/// Polls the summary until it counts `total` attesters.
async fn summary_with(app: &TestApp, total: u64) -> Value {
    let url = format!("{}/fleet/v1/summary", app.management_url());
    poll_json(&app.client, &url, Duration::from_secs(15), |s| {
        s["total"] == total
    })
    .await
}

#[tokio::test]
async fn verdicts_reach_the_fleet_status_per_attester() {
    let app = spawn_app_with(|s| s.trust.fleet_flush_ms = 50).await;
    // Three affirming devices, one of them twice; one whose firmware
    // nobody endorsed; one whose identity an impostor's key claims.
    let devices = mixed_fleet(&app, 3).await;
    let good = SwComponent::acme_components();
    assert_eq!(
        psa_verdict(&app, &devices[0], &good).await,
        TrustTier::Affirming
    );
    // Neither an unprovisioned device nor garbage is an attester of the
    // fleet.
    let stranger = Device::generate().unwrap();
    assert_eq!(
        psa_verdict(&app, &stranger, &good).await,
        TrustTier::Contraindicated
    );
    let (session, _) = app.session("").await;
    app.submit(&session, PSA_TOKEN_MT, vec![0xd2, 0x84]).await;

    let summary = summary_with(&app, 5).await;
    assert_eq!(summary["stale"], 0);
    assert_eq!(summary["stale_minutes"], 60);
    let statuses =
        serde_json::json!({"affirming": 3, "warning": 1, "contraindicated": 1, "none": 0});
    assert_eq!(summary["statuses"], statuses);
    assert_eq!(
        summary["schemes"],
        serde_json::json!([{"scheme": "PSA_IOT", "total": 5, "stale": 0, "statuses": statuses}])
    );

    // The list holds exactly the provisioned devices, with their verdicts.
    let page = management_json(&app, "/fleet/v1/attesters").await;
    let mut listed: Vec<(String, String, u64)> = page["attesters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_owned(),
                a["status"].as_str().unwrap().to_owned(),
                a["verdicts"].as_u64().unwrap(),
            )
        })
        .collect();
    listed.sort();
    let mut expected: Vec<(String, String, u64)> = devices
        .iter()
        .zip([
            ("affirming", 2),
            ("affirming", 1),
            ("affirming", 1),
            ("warning", 1),
            ("contraindicated", 1),
        ])
        .map(|(d, (status, n))| (fleet_id(d), status.to_owned(), n))
        .collect();
    expected.sort();
    assert_eq!(listed, expected);
    let first = &page["attesters"][0];
    assert_eq!(first["scheme"], "PSA_IOT");
    assert!(first["trust_vector"]["PSA_IOT"].is_object(), "{first}");
    assert!(
        first["last_seen"].as_str().unwrap().ends_with('Z'),
        "{first}"
    );

    // Filters and pages.
    let warning = management_json(&app, "/fleet/v1/attesters?status=warning").await;
    assert_eq!(warning["attesters"][0]["id"], fleet_id(&devices[3]));
    assert_eq!(warning["attesters"].as_array().unwrap().len(), 1);
    let prefix = &fleet_id(&devices[1])[..60];
    let found = management_json(&app, &format!("/fleet/v1/attesters?q={prefix}")).await;
    assert_eq!(found["attesters"][0]["id"], fleet_id(&devices[1]));
    let mut walked = 0;
    let mut path = "/fleet/v1/attesters?limit=2".to_owned();
    loop {
        let page = management_json(&app, &path).await;
        walked += page["attesters"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/fleet/v1/attesters?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(walked, 5);

    // Seven verdicts in the history (the stranger's and the garbage's are
    // not about attesters of the fleet).
    let history = management_json(&app, "/fleet/v1/history").await;
    let verdicts: u64 = history["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["count"].as_u64().unwrap())
        .sum();
    assert_eq!(verdicts, 6);
    app.stop().await;
}

#[tokio::test]
async fn verdicts_waiting_at_shutdown_are_written() {
    // A flush interval longer than the test: only the final write at
    // shutdown can store the verdict, which a second app on the same data
    // directory then reads.
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_owned();
    let first_dir = dir.clone();
    let app = spawn_app_with(move |s| {
        s.data_dir = first_dir;
        s.trust.fleet_flush_ms = 3_600_000;
    })
    .await;
    let device = Device::generate().unwrap();
    app.provision_ok(
        CORIM_CURRENT_MT,
        corim_for(&[&device], PsaCorimEncoding::Current),
    )
    .await;
    assert_eq!(
        psa_verdict(&app, &device, &SwComponent::acme_components()).await,
        TrustTier::Affirming
    );
    let summary = management_json(&app, "/fleet/v1/summary").await;
    assert_eq!(
        summary["total"], 0,
        "written before the interval: {summary}"
    );
    app.stop().await;

    let app = spawn_app_with(move |s| s.data_dir = dir).await;
    let summary = management_json(&app, "/fleet/v1/summary").await;
    assert_eq!(summary["total"], 1, "{summary}");
    assert_eq!(summary["statuses"]["affirming"], 1, "{summary}");
    app.stop().await;
}
