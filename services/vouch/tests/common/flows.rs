//! One verification flow over HTTP (newSession → evidence → DELETE), as the
//! topology and burst tests run it against processes behind HAProxy, and
//! the counts of a load run.

use std::sync::atomic::AtomicU64;

use base64::Engine as _;
use vouch_testkit::psa::{Device, SwComponent};

use super::PSA_TOKEN_MT;

/// What one verification flow saw.
#[derive(Debug)]
pub struct Flow {
    /// The session's final document.
    pub session: serde_json::Value,
    /// Its size in bytes, as stored in the session store.
    pub stored_bytes: usize,
    /// `X-Served-By` of each response, when a load balancer set it.
    pub served_by: Vec<String>,
}

impl Flow {
    /// The EAR's status for PSA, read from the JWT payload (signature
    /// checks are left to the tests that fetch the published key).
    pub fn ear_status(&self) -> String {
        let jwt = self.session["result"].as_str().unwrap_or_default();
        let payload = jwt.split('.').nth(1).unwrap_or_default();
        let claims: serde_json::Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        claims["submods"]["PSA_IOT"]["ear.status"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

pub fn served_by(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("x-served-by")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Opens a session on `base`, returning its URL and nonce.
pub async fn open_session(
    client: &reqwest::Client,
    base: &str,
    served: &mut Vec<String>,
) -> Result<(String, Vec<u8>), String> {
    let response = client
        .post(format!("{base}/challenge-response/v1/newSession"))
        .send()
        .await
        .map_err(|e| format!("newSession: {e}"))?;
    served.extend(served_by(&response));
    if response.status() != 201 {
        // The body tells a load balancer's refusal from Vouch's own
        // problem document.
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        return Err(format!("newSession: {status} {}", truncated(&body)));
    }
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| format!("newSession body: {e}"))?;
    let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body["nonce"].as_str().unwrap_or_default())
        .map_err(|e| format!("nonce: {e}"))?;
    Ok((format!("{base}/challenge-response/v1/{location}"), nonce))
}

/// Submits `device`'s evidence for `nonce` to `session`.
pub async fn submit_evidence(
    client: &reqwest::Client,
    session: &str,
    device: &Device,
    nonce: &[u8],
) -> reqwest::Result<reqwest::Response> {
    let token = device
        .token(nonce, &SwComponent::acme_components())
        .unwrap();
    client
        .post(session)
        .header("Content-Type", PSA_TOKEN_MT)
        .body(token)
        .send()
        .await
}

/// newSession → evidence → DELETE on `base`; any unexpected answer is an
/// error naming the step.
pub async fn flow(client: &reqwest::Client, base: &str, device: &Device) -> Result<Flow, String> {
    let mut served = Vec::new();
    let (session, nonce) = open_session(client, base, &mut served).await?;
    let response = submit_evidence(client, &session, device, &nonce)
        .await
        .map_err(|e| format!("evidence: {e}"))?;
    served.extend(served_by(&response));
    if response.status() != 200 {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        return Err(format!("evidence: {status} {}", truncated(&body)));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("evidence body: {e}"))?;
    let document: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("evidence body: {e}"))?;
    if document["status"] != "complete" {
        return Err(format!("evidence: session is {}", document["status"]));
    }
    let response = client
        .delete(&session)
        .send()
        .await
        .map_err(|e| format!("DELETE: {e}"))?;
    served.extend(served_by(&response));
    if response.status() != 204 {
        return Err(format!("DELETE: {}", response.status()));
    }
    Ok(Flow {
        session: document,
        stored_bytes: body.len(),
        served_by: served,
    })
}

/// At most 200 characters of `text`, for error messages.
fn truncated(text: &str) -> String {
    text.chars().take(200).collect()
}

/// Counts of a load run.
#[derive(Default)]
pub struct Tally {
    pub flows: AtomicU64,
    pub failures: AtomicU64,
}
