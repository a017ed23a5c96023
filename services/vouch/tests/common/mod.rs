//! `spawn_app()`: the whole of Vouch in-process on free loopback ports, with
//! a fresh data directory per test, driven over real HTTP. The same
//! [`TestApp`] also drives separate `vouch` processes ([`procs`]), so the
//! conformance checks ([`conformance`]) run against either.

// Shared by several test binaries, each using a different subset; helpers
// panic on failure on purpose, as tests do.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use vouch::settings::Settings;
use vouch_testkit::corim::{PsaCorim, PsaCorimEncoding, PsaRefValue};
use vouch_testkit::psa::{Device, SwComponent};

pub mod burst;
pub mod conformance;
pub mod flows;
pub mod procs;

pub const SESSION_MT: &str = "application/vnd.veraison.challenge-response-session+json";
pub const PSA_TOKEN_MT: &str = "application/psa-attestation-token";
pub const CORIM_CURRENT_MT: &str = "application/rim+cbor; profile=\"tag:arm.com,2025:psa#1.0.0\"";
pub const CORIM_LEGACY_MT: &str =
    "application/corim-unsigned+cbor; profile=\"http://arm.com/psa/iot/1\"";

pub struct TestApp {
    pub verification: String,
    pub provisioning: String,
    /// Base URL of the management API; `None` for a cluster of processes,
    /// which runs no management process.
    pub management: Option<String>,
    pub trust: SocketAddr,
    pub client: reqwest::Client,
    backend: Backend,
}

/// What runs behind a [`TestApp`].
enum Backend {
    /// `vouch::app` inside the test process, on SQLite in a temp dir.
    InProcess {
        stop: tokio_util::sync::CancellationToken,
        done: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
        data: tempfile::TempDir,
    },
    /// One process per role on PostgreSQL and memcached.
    Processes(Box<procs::Cluster>),
}

fn test_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A test app with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A test app whose settings the caller may adjust.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let data = tempfile::tempdir().expect("temp dir");
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut settings = Settings {
        data_dir: data.path().to_owned(),
        verification_addr: any,
        provisioning_addr: any,
        management_addr: any,
        trust_addr: any,
        drain_timeout_ms: 5_000,
        ..Settings::default()
    };
    adjust(&mut settings);
    let running = vouch::app::start(&settings).await.expect("vouch starts");
    let verification = format!(
        "http://{}",
        running.verification.expect("verification runs")
    );
    let provisioning = format!(
        "http://{}",
        running.provisioning.expect("provisioning runs")
    );
    let management = running.management.map(|addr| format!("http://{addr}"));
    let trust = running.trust.expect("trust runs");
    let stop = running.shutdown_token();
    let done = tokio::spawn(running.wait());
    TestApp {
        verification,
        provisioning,
        management,
        trust,
        client: test_client(),
        backend: Backend::InProcess {
            stop,
            done: Some(done),
            data,
        },
    }
}

impl TestApp {
    /// Drives a cluster of separate processes.
    pub fn processes(cluster: procs::Cluster) -> TestApp {
        TestApp {
            verification: cluster.verification.verification_url(),
            provisioning: cluster.provisioning.provisioning_url(),
            management: None,
            trust: cluster.trust.trust.expect("trust address"),
            // The processes serve HTTPS with the test PKI.
            client: procs::https_client(Duration::from_secs(30)),
            backend: Backend::Processes(Box::new(cluster)),
        }
    }

    /// Base URL of the management API.
    pub fn management_url(&self) -> &str {
        self.management
            .as_deref()
            .expect("this app runs the management API")
    }

    /// The in-process app's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        match &self.backend {
            Backend::InProcess { data, .. } => data.path(),
            Backend::Processes(cluster) => cluster.topology.dir(),
        }
    }

    /// Stops the app gracefully and checks that it stopped cleanly.
    pub async fn stop(self) {
        match self.backend {
            Backend::InProcess { stop, mut done, .. } => {
                stop.cancel();
                if let Some(done) = done.take() {
                    done.await.expect("join").expect("clean shutdown");
                }
            }
            Backend::Processes(cluster) => cluster.stop().await,
        }
    }

    pub async fn provision(&self, media_type: &str, corim: Vec<u8>) -> reqwest::Response {
        self.client
            .post(format!(
                "{}/endorsement-provisioning/v1/submit",
                self.provisioning
            ))
            .header("Content-Type", media_type)
            .body(corim)
            .send()
            .await
            .expect("provisioning request")
    }

    /// Provisions and asserts success.
    pub async fn provision_ok(&self, media_type: &str, corim: Vec<u8>) {
        provision_ok_at(&self.client, &self.provisioning, media_type, corim).await;
    }

    pub async fn new_session(&self, query: &str) -> reqwest::Response {
        self.client
            .post(format!(
                "{}/challenge-response/v1/newSession{query}",
                self.verification
            ))
            .send()
            .await
            .expect("newSession request")
    }

    /// Creates a session and returns (session URL, nonce bytes).
    pub async fn session(&self, query: &str) -> (String, Vec<u8>) {
        open_session_at(&self.client, &self.verification, query).await
    }

    pub async fn submit(
        &self,
        session_url: &str,
        media_type: &str,
        evidence: Vec<u8>,
    ) -> reqwest::Response {
        self.client
            .post(session_url)
            .header("Content-Type", media_type)
            .body(evidence)
            .send()
            .await
            .expect("evidence request")
    }

    /// The `media-types` of `/.well-known/veraison/verification` and
    /// `/.well-known/veraison/provisioning`.
    pub async fn advertised_media_types(&self) -> (Vec<String>, Vec<String>) {
        let mut lists = Vec::new();
        for url in [
            format!("{}/.well-known/veraison/verification", self.verification),
            format!("{}/.well-known/veraison/provisioning", self.provisioning),
        ] {
            let doc: serde_json::Value = self
                .client
                .get(url)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            lists.push(
                doc["media-types"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m.as_str().unwrap().to_owned())
                    .collect::<Vec<_>>(),
            );
        }
        let provisioning = lists.pop().unwrap();
        (lists.pop().unwrap(), provisioning)
    }

    /// Provisions a new PSA device with the ACME reference values, opens a
    /// session and submits the device's evidence for it: the session URL
    /// and the response to the submission.
    pub async fn verify_new_device(&self) -> (String, reqwest::Response) {
        let device = Device::generate().unwrap();
        self.provision_ok(
            CORIM_CURRENT_MT,
            corim_for(&[&device], PsaCorimEncoding::Current),
        )
        .await;
        let (session, nonce) = self.session("").await;
        let token = device
            .token(&nonce, &SwComponent::acme_components())
            .unwrap();
        let response = self.submit(&session, PSA_TOKEN_MT, token).await;
        (session, response)
    }

    /// The EAR verification key from the well-known document.
    pub async fn ear_key(&self) -> vouch_crypto::VerifyingKey {
        ear_key_of(&self.client, &self.verification).await
    }
}

/// A CoRIM endorsing `devices` with the ACME reference values.
/// Provisions `corim` at the provisioning service `base` and asserts that
/// it was stored.
pub async fn provision_ok_at(
    client: &reqwest::Client,
    base: &str,
    media_type: &str,
    corim: Vec<u8>,
) {
    let response = client
        .post(format!("{base}/endorsement-provisioning/v1/submit"))
        .header("Content-Type", media_type)
        .body(corim)
        .send()
        .await
        .expect("provisioning request");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "success", "{body}");
}

/// Opens a session at the verification service `base` (`query` is
/// appended to `newSession`) and returns (session URL, nonce bytes).
pub async fn open_session_at(
    client: &reqwest::Client,
    base: &str,
    query: &str,
) -> (String, Vec<u8>) {
    let response = client
        .post(format!("{base}/challenge-response/v1/newSession{query}"))
        .send()
        .await
        .expect("newSession request");
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("session/"), "{location}");
    let body: serde_json::Value = response.json().await.unwrap();
    use base64::Engine as _;
    let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body["nonce"].as_str().unwrap())
        .unwrap();
    (format!("{base}/challenge-response/v1/{location}"), nonce)
}

pub fn corim_for(devices: &[&Device], encoding: PsaCorimEncoding) -> Vec<u8> {
    let mut corim = PsaCorim::new(encoding);
    for device in devices {
        corim.trust_anchor(
            device.implementation_id,
            device.instance_id,
            &device.spki_pem(),
        );
    }
    if let Some(first) = devices.first() {
        for c in SwComponent::acme_components() {
            let mut rv = PsaRefValue::endorsing(&c).unwrap();
            // Only the legacy encoding pins versions.
            if encoding != PsaCorimEncoding::Legacy {
                rv.version = None;
            }
            corim.reference_value(first.implementation_id, rv);
        }
    }
    corim.build()
}

/// The verified EAR of a completed session response.
pub async fn ear_of(app: &TestApp, response: reqwest::Response) -> vouch_ear::Ear {
    assert_eq!(response.status(), 200);
    let session: serde_json::Value = response.json().await.unwrap();
    assert_eq!(session["status"], "complete", "{session}");
    let jwt = session["result"].as_str().expect("result");
    vouch_ear::verify(jwt, &app.ear_key().await).expect("EAR verifies with the published key")
}

/// GET `url` as JSON; anything but 200 fails the test with the body.
pub async fn get_json(client: &reqwest::Client, url: &str) -> serde_json::Value {
    let response = client.get(url).send().await.unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: {e}: {body}"))
}

/// Polls GET `url` until its JSON passes `done`, at most `within` (the
/// fleet recorder writes in batches), and returns that JSON.
pub async fn poll_json(
    client: &reqwest::Client,
    url: &str,
    within: Duration,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + within;
    loop {
        let json = get_json(client, url).await;
        if done(&json) {
            return json;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "GET {url} still answers {json} after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Provisions `affirming + 2` PSA devices and gives each one verdict: the
/// first `affirming` attest with endorsed firmware, the next with firmware
/// nobody endorsed (warning), and the last is only ever impersonated by
/// another key (contraindicated). Returns the devices in that order.
pub async fn mixed_fleet(app: &TestApp, affirming: usize) -> Vec<Device> {
    let devices: Vec<Device> = (0..affirming + 2)
        .map(|_| Device::generate().unwrap())
        .collect();
    app.provision_ok(
        CORIM_CURRENT_MT,
        corim_for(
            &devices.iter().collect::<Vec<_>>(),
            PsaCorimEncoding::Current,
        ),
    )
    .await;
    let endorsed = SwComponent::acme_components();
    for device in &devices[..affirming] {
        assert_eq!(
            psa_verdict(app, device, &endorsed).await,
            vouch_ear::TrustTier::Affirming
        );
    }
    let mut unknown_firmware = SwComponent::acme_components();
    unknown_firmware[0].measurement_value = Some(vec![0x5a; 32]);
    assert_eq!(
        psa_verdict(app, &devices[affirming], &unknown_firmware).await,
        vouch_ear::TrustTier::Warning
    );
    let impostor = Device {
        key: vouch_testkit::keys::generate_device_key().unwrap(),
        ..devices[affirming + 1].clone()
    };
    assert_eq!(
        psa_verdict(app, &impostor, &endorsed).await,
        vouch_ear::TrustTier::Contraindicated
    );
    devices
}

/// Runs one session for `device`, its token over `components`, and returns
/// the PSA verdict of the (verified) EAR.
pub async fn psa_verdict(
    app: &TestApp,
    device: &Device,
    components: &[SwComponent],
) -> vouch_ear::TrustTier {
    let (session, nonce) = app.session("").await;
    let token = device.token(&nonce, components).unwrap();
    let ear = ear_of(app, app.submit(&session, PSA_TOKEN_MT, token).await).await;
    ear.submods["PSA_IOT"].status
}

/// The EAR verification key the verification service at `base` publishes.
pub async fn ear_key_of(client: &reqwest::Client, base: &str) -> vouch_crypto::VerifyingKey {
    let doc: serde_json::Value = client
        .get(format!("{base}/.well-known/veraison/verification"))
        .send()
        .await
        .expect("well-known request")
        .json()
        .await
        .expect("well-known document");
    vouch_crypto::VerifyingKey::from_jwk(&doc["ear-verification-key"]).expect("EAR key")
}
