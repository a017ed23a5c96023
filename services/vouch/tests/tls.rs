//! TLS on the REST listeners and mutual TLS between the front ends and
//! trust:
//!
//! - a `vouch serve` process serving HTTPS on every REST listener
//!   (verification, provisioning, management), refusing plain HTTP there,
//!   and reloading its certificates on SIGHUP (a broken rotation keeps the
//!   old ones); `vouch healthcheck` over HTTPS and mutual TLS;
//! - start-up errors for unusable TLS files;
//! - trust refusing callers without a client certificate from its CA: the
//!   call fails, and nothing they sent is stored or appraised.

// Helpers panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::procs::{self, Vouch};
use common::*;
use vouch::settings::{Role, Settings, TrustTlsSettings};
use vouch_ear::TrustTier;
use vouch_proto::trust as pb;
use vouch_testkit::corim::PsaCorimEncoding;
use vouch_testkit::psa::{Device, SwComponent};
use vouch_testkit::tls::{IssuedCert, TestCa, Usage, write_file};
use vouch_trust_api::{GrpcTrust, GrpcTrustOptions, ServiceStatus, Trust as _};

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// The certificate a TLS server at `addr` presents.
async fn served_cert(addr: SocketAddr, ca: &Path) -> Vec<u8> {
    let config = vouch_tls::client_config(ca, None, vouch_tls::ALPN_HTTP).unwrap();
    served_cert_with(addr, config).await
}

/// The certificate a TLS server at `addr` presents to a client with
/// `config`.
async fn served_cert_with(
    addr: SocketAddr,
    config: std::sync::Arc<vouch_tls::rustls::ClientConfig>,
) -> Vec<u8> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let stream = vouch_tls::connect(tcp, "localhost", config).await.unwrap();
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

/// Waits until `addr` presents `want` to a client trusting `ca`.
async fn wait_for_cert(addr: SocketAddr, ca: &Path, want: &[u8]) {
    let config = vouch_tls::client_config(ca, None, vouch_tls::ALPN_HTTP).unwrap();
    wait_for_cert_with(addr, config, want).await;
}

/// Waits until `addr` presents `want` to a client with `config`.
async fn wait_for_cert_with(
    addr: SocketAddr,
    config: std::sync::Arc<vouch_tls::rustls::ClientConfig>,
    want: &[u8],
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while served_cert_with(addr, config.clone()).await != want {
        assert!(
            Instant::now() < deadline,
            "{addr} still serves the old certificate"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `vouch healthcheck ARGS`: exit status and stderr.
async fn healthcheck(args: &[String]) -> (bool, String) {
    let output = tokio::process::Command::new(procs::VOUCH)
        .arg("healthcheck")
        .args(args)
        .env_remove("VOUCH_CONFIG")
        .env_remove("VOUCH_TRUST_TLS__CA")
        .env_remove("VOUCH_TRUST_TLS__CERT")
        .env_remove("VOUCH_TRUST_TLS__KEY")
        .output()
        .await
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Provisions `device` at the provisioning listener `base`; the status.
async fn provision(client: &reqwest::Client, base: &str, device: &Device) -> u16 {
    client
        .post(format!("{base}/endorsement-provisioning/v1/submit"))
        .header("Content-Type", CORIM_CURRENT_MT)
        .body(corim_for(&[device], PsaCorimEncoding::Current))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Appraises fresh evidence of `device` at the verification listener
/// `base`: the PSA status of the EAR, verified with the key `base`
/// publishes.
async fn appraise(client: &reqwest::Client, base: &str, device: &Device) -> TrustTier {
    let (session, nonce) = open_session_at(client, base, "").await;
    let response = client
        .post(&session)
        .header("Content-Type", PSA_TOKEN_MT)
        .body(
            device
                .token(&nonce, &SwComponent::acme_components())
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let session: serde_json::Value = response.json().await.unwrap();
    assert_eq!(session["status"], "complete", "{session}");
    let jwt = session["result"].as_str().unwrap();
    let ear = vouch_ear::verify(jwt, &ear_key_of(client, base).await).unwrap();
    ear.submods["PSA_IOT"].status
}

/// Writes a plain-HTTP request to the TLS port `addr`: the answer must not
/// be HTTP, and the server must close the connection (or reset it) rather
/// than hang.
async fn plain_http_is_refused(addr: SocketAddr) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut buf))
        .await
        .expect("the server closes a plain-HTTP connection");
    // Closed, perhaps after a TLS alert (a record of type 21), or reset.
    assert!(
        read.is_err() || buf.is_empty() || buf[0] == 0x15,
        "{addr} answered plain HTTP with {:?}",
        String::from_utf8_lossy(&buf)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_certificate_and_a_bad_reload_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("reload CA").unwrap();
    let ca_file = dir.path().join("ca.crt");
    write_file(&ca_file, &ca.cert_pem()).unwrap();
    let first = ca.issue(&["localhost", "127.0.0.1"], Usage::Both).unwrap();
    let (cert, key) = first.write(dir.path(), "tls").unwrap();
    let any = "127.0.0.1:0".to_owned();
    let args = [
        "--data-dir".into(),
        path(&dir.path().join("data")),
        "--database-url".into(),
        "memory:".into(),
        "--verification-addr".into(),
        any.clone(),
        "--provisioning-addr".into(),
        any.clone(),
        "--management-addr".into(),
        any.clone(),
        "--trust-addr".into(),
        any,
        "--tls-cert".into(),
        path(&cert),
        "--tls-key".into(),
        path(&key),
        "--trust-tls-ca".into(),
        path(&ca_file),
        "--trust-tls-cert".into(),
        path(&cert),
        "--trust-tls-key".into(),
        path(&key),
    ];
    let proc = Vouch::spawn("all", dir.path(), &args, &[]);
    let mut vouch = Vouch::listening_of(
        proc,
        &["trust", "verification", "provisioning", "management"],
    )
    .await;
    let stdout = vouch.proc().stdout().join("\n");
    assert!(
        stdout.contains("verification listening on https://"),
        "{stdout}"
    );
    assert!(
        stdout.contains("trust (gRPC) listening on https://"),
        "{stdout}"
    );
    assert!(
        stdout.contains("management listening on https://"),
        "{stdout}"
    );
    let verification = vouch.verification.unwrap();
    let provisioning = vouch.provisioning.unwrap();
    let management = vouch.management.unwrap();
    let trust = vouch.trust.unwrap();
    for listener in [verification, provisioning, management] {
        assert_eq!(served_cert(listener, &ca_file).await, first.cert_der);
        plain_http_is_refused(listener).await;
    }

    // The whole flow over HTTPS (by name and by address: the certificate
    // names both).
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let device = Device::generate().unwrap();
    let provisioning_url = format!("https://localhost:{}", provisioning.port());
    assert_eq!(provision(&client, &provisioning_url, &device).await, 200);
    let base = format!("https://127.0.0.1:{}", verification.port());
    assert_eq!(
        appraise(&client, &base, &device).await,
        TrustTier::Affirming
    );
    let response = client
        .get(format!(
            "https://localhost:{}/.well-known/veraison/management",
            management.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // A client that does not trust the CA gets no answer.
    let stranger = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(
            TestCa::new("another CA").unwrap().cert_pem().as_bytes(),
        )
        .unwrap()])
        .build()
        .unwrap();
    assert!(stranger.get(format!("{base}/readyz")).send().await.is_err());

    // `vouch healthcheck` over HTTPS and over mutual TLS.
    let ready = format!("{base}/readyz");
    let trust_url = format!("https://{trust}");
    let (ok, err) = healthcheck(&[
        "--url".into(),
        ready.clone(),
        "--tls-ca".into(),
        path(&ca_file),
        "--trust-url".into(),
        trust_url.clone(),
        "--trust-tls-ca".into(),
        path(&ca_file),
        "--trust-tls-cert".into(),
        path(&cert),
        "--trust-tls-key".into(),
        path(&key),
    ])
    .await;
    assert!(ok, "{err}");
    let (ok, err) = healthcheck(&["--url".into(), ready.clone()]).await;
    assert!(!ok && err.contains("--tls-ca"), "{err}");
    let (ok, err) = healthcheck(&[
        "--trust-url".into(),
        trust_url.clone(),
        "--trust-tls-ca".into(),
        path(&ca_file),
    ])
    .await;
    assert!(!ok && err.contains("--trust-tls-cert"), "{err}");

    // A new certificate, then SIGHUP: new connections get it.
    let second = ca.issue(&["localhost", "127.0.0.1"], Usage::Both).unwrap();
    write_file(&cert, &second.chain_pem()).unwrap();
    write_file(&key, &second.key_pem()).unwrap();
    vouch.proc().signal("HUP");
    wait_for_cert(verification, &ca_file, &second.cert_der).await;
    wait_for_cert(provisioning, &ca_file, &second.cert_der).await;
    wait_for_cert(management, &ca_file, &second.cert_der).await;
    assert_ne!(first.cert_der, second.cert_der);
    // Trust's gRPC listener (mutual TLS) reloads too.
    let grpc_client =
        vouch_tls::client_config(&ca_file, Some((&cert, &key)), vouch_tls::ALPN_GRPC).unwrap();
    wait_for_cert_with(trust, grpc_client, &second.cert_der).await;
    // The process still appraises, over the reloaded certificates.
    assert_eq!(
        appraise(&client, &base, &device).await,
        TrustTier::Affirming
    );

    // A broken rotation: a certificate whose key is missing. SIGHUP logs
    // the failure and the process keeps serving the second certificate.
    let third = ca.issue(&["localhost", "127.0.0.1"], Usage::Both).unwrap();
    write_file(&cert, &third.chain_pem()).unwrap();
    vouch.proc().signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !vouch.proc().log_tail().contains("TLS reload failed") {
        assert!(
            Instant::now() < deadline,
            "no reload failure logged\n{}",
            vouch.proc().log_tail()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(vouch.proc().try_wait().is_none(), "still running");
    for listener in [verification, provisioning, management] {
        assert_eq!(served_cert(listener, &ca_file).await, second.cert_der);
    }
    assert_eq!(
        client.get(&ready).send().await.unwrap().status(),
        200,
        "still serving"
    );
    let (ok, err) = healthcheck(&[
        "--trust-url".into(),
        trust_url,
        "--trust-tls-ca".into(),
        path(&ca_file),
        "--trust-tls-cert".into(),
        path(&dir.path().join("client.crt")),
        "--trust-tls-key".into(),
        path(&dir.path().join("client.key")),
    ])
    .await;
    assert!(!ok && err.contains("client.crt"), "{err}");

    vouch.stop(Duration::from_secs(15)).await;
}

/// `vouch serve ARGS` must fail at start; its stderr.
async fn fails_to_start(args: &[String]) -> String {
    let output = tokio::process::Command::new(procs::VOUCH)
        .arg("serve")
        .args(args)
        .env("VOUCH_LOG", "off")
        .env_remove("VOUCH_CONFIG")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success(), "{args:?} started");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn unusable_tls_files_stop_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("CA").unwrap();
    let ca_file = dir.path().join("ca.crt");
    write_file(&ca_file, &ca.cert_pem()).unwrap();
    let (cert, key) = ca
        .issue(&["localhost"], Usage::Both)
        .unwrap()
        .write(dir.path(), "a")
        .unwrap();
    let (_, other_key) = ca
        .issue(&["localhost"], Usage::Both)
        .unwrap()
        .write(dir.path(), "b")
        .unwrap();
    let base = [
        "--data-dir".to_owned(),
        path(&dir.path().join("data")),
        "--database-url".into(),
        "memory:".into(),
        "--verification-addr".into(),
        "127.0.0.1:0".into(),
        "--provisioning-addr".into(),
        "127.0.0.1:0".into(),
        "--management-addr".into(),
        "127.0.0.1:0".into(),
        "--trust-addr".into(),
        "127.0.0.1:0".into(),
    ];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let (cert, key, other_key, ca_file) =
        (path(&cert), path(&key), path(&other_key), path(&ca_file));

    let err = fails_to_start(&with(&["--tls-cert", &cert])).await;
    assert!(err.contains("--tls-key"), "{err}");
    let err = fails_to_start(&with(&["--tls-key", &key])).await;
    assert!(err.contains("--tls-cert"), "{err}");
    let err = fails_to_start(&with(&["--tls-cert", &cert, "--tls-key", &other_key])).await;
    assert!(err.contains("does not belong to the certificate"), "{err}");
    let err = fails_to_start(&with(&["--tls-cert", &key, "--tls-key", &key])).await;
    assert!(err.contains("no PEM CERTIFICATE"), "{err}");
    let err = fails_to_start(&with(&[
        "--tls-cert",
        &cert,
        "--tls-key",
        "/nonexistent.key",
    ]))
    .await;
    assert!(err.contains("/nonexistent.key"), "{err}");
    let err = fails_to_start(&with(&[
        "--trust-tls-ca",
        &ca_file,
        "--trust-tls-cert",
        &cert,
    ]))
    .await;
    assert!(err.contains("--trust-tls-key"), "{err}");
    let err = fails_to_start(&with(&[
        "--trust-tls-ca",
        &cert,
        "--trust-tls-cert",
        &cert,
        "--trust-tls-key",
        &other_key,
    ]))
    .await;
    assert!(err.contains("does not belong to the certificate"), "{err}");
    // Front ends: https trust URLs go with mutual TLS, and only with it.
    let front = [
        "--role".to_owned(),
        "verification".into(),
        "--verification-addr".into(),
        "127.0.0.1:0".into(),
    ];
    let err = fails_to_start(
        &[
            &front[..],
            &["--trust-url".into(), "https://127.0.0.1:1".into()],
        ]
        .concat(),
    )
    .await;
    assert!(err.contains("--trust-tls-ca"), "{err}");
    let err = fails_to_start(
        &[
            &front[..],
            &[
                "--trust-url".into(),
                "http://127.0.0.1:1".into(),
                "--trust-tls-ca".into(),
                ca_file.clone(),
                "--trust-tls-cert".into(),
                cert.clone(),
                "--trust-tls-key".into(),
                other_key,
            ],
        ]
        .concat(),
    )
    .await;
    assert!(err.contains("not https"), "{err}");
}

/// The files of one mutual-TLS party.
struct Party {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Party {
    fn new(dir: &Path, name: &str, ca_file: &Path, issued: &IssuedCert) -> Self {
        let (cert, key) = issued.write(dir, name).unwrap();
        Party {
            ca: ca_file.to_owned(),
            cert,
            key,
        }
    }

    fn settings(&self) -> TrustTlsSettings {
        TrustTlsSettings {
            ca: Some(self.ca.clone()),
            cert: Some(self.cert.clone()),
            key: Some(self.key.clone()),
            server_name: None,
        }
    }

    fn client(&self, trust: SocketAddr) -> GrpcTrust {
        GrpcTrust::connect_lazy(
            &[format!("https://{trust}")],
            &GrpcTrustOptions {
                tls: Some(
                    vouch::app::trust_client_tls(&self.ca, &self.cert, &self.key, None).unwrap(),
                ),
                connect_timeout: Duration::from_secs(2),
                request_timeout: Duration::from_secs(5),
                ..Default::default()
            },
        )
        .unwrap()
    }
}

/// Front ends (verification and provisioning, in-process, plain HTTP)
/// calling trust at `trust` as `party`, or without TLS at all.
async fn front_ends(
    trust: SocketAddr,
    party: Option<&Party>,
    data: &Path,
) -> (vouch::app::Running, String, String) {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let (scheme, trust_tls) = match party {
        Some(party) => ("https", party.settings()),
        None => ("http", TrustTlsSettings::default()),
    };
    let settings = Settings {
        role: vec![Role::Verification, Role::Provisioning],
        data_dir: data.to_owned(),
        verification_addr: any,
        provisioning_addr: any,
        trust_url: Some(format!("{scheme}://{trust}")),
        trust_tls,
        drain_timeout_ms: 2_000,
        ..Settings::default()
    };
    let running = vouch::app::start(&settings).await.unwrap();
    let v = format!("http://{}", running.verification.unwrap());
    let p = format!("http://{}", running.provisioning.unwrap());
    (running, v, p)
}

/// A tonic channel to trust at `trust` that verifies it against `ca` and
/// presents `identity`'s certificate, or none.
fn raw_channel(
    trust: SocketAddr,
    ca: &TestCa,
    identity: Option<&Party>,
) -> impl std::future::Future<Output = Result<tonic::transport::Channel, tonic::transport::Error>> + use<>
{
    let mut tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(ca.cert_pem()));
    if let Some(party) = identity {
        tls = tls.identity(tonic::transport::Identity::from_pem(
            std::fs::read(&party.cert).unwrap(),
            std::fs::read(&party.key).unwrap(),
        ));
    }
    let endpoint = tonic::transport::Endpoint::from_shared(format!("https://{trust}"))
        .unwrap()
        .tls_config(tls)
        .unwrap();
    async move { endpoint.connect().await }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_refuses_callers_without_a_client_certificate_from_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("cluster CA").unwrap();
    let ca_file = dir.path().join("ca.crt");
    write_file(&ca_file, &ca.cert_pem()).unwrap();
    let other_ca = TestCa::new("another CA").unwrap();
    let other_ca_file = dir.path().join("other-ca.crt");
    write_file(&other_ca_file, &other_ca.cert_pem()).unwrap();

    let trust_party = Party::new(
        dir.path(),
        "trust",
        &ca_file,
        &ca.issue(&["localhost", "127.0.0.1"], Usage::Server)
            .unwrap(),
    );
    let front = Party::new(
        dir.path(),
        "front",
        &ca_file,
        &ca.issue(&["verification-0"], Usage::Client).unwrap(),
    );
    // A client certificate from another CA (the client itself trusts the
    // right CA, so only trust's check of it can fail).
    let stranger = Party::new(
        dir.path(),
        "stranger",
        &ca_file,
        &other_ca.issue(&["verification-0"], Usage::Client).unwrap(),
    );
    // A good client certificate, but a client that trusts another CA.
    let misled = Party {
        ca: other_ca_file.clone(),
        ..Party::new(
            dir.path(),
            "misled",
            &ca_file,
            &ca.issue(&["verification-1"], Usage::Client).unwrap(),
        )
    };

    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let trust_settings = Settings {
        role: vec![Role::Trust],
        data_dir: dir.path().join("trust"),
        trust_addr: any,
        database_url: Some("memory:".into()),
        trust_tls: trust_party.settings(),
        drain_timeout_ms: 2_000,
        ..Settings::default()
    };
    let running_trust = vouch::app::start(&trust_settings).await.unwrap();
    let trust = running_trust.trust.unwrap();
    let stop_trust = running_trust.shutdown_token();
    let trust_done = tokio::spawn(running_trust.wait());

    // The trust API itself.
    let state = front.client(trust).service_state().await.unwrap();
    assert_eq!(state.status, ServiceStatus::Ready);
    for (what, party) in [
        ("a client certificate from another CA", &stranger),
        ("a client that does not trust trust's CA", &misled),
    ] {
        let refused = party.client(trust).service_state().await;
        assert!(refused.is_err(), "{what}: {refused:?}");
    }
    let plain = GrpcTrust::connect_lazy(&[format!("http://{trust}")], &GrpcTrustOptions::default())
        .unwrap();
    assert!(plain.service_state().await.is_err(), "plain HTTP/2");

    // The standard health service, as a raw tonic client: with no client
    // certificate, refused; with one, SERVING.
    let health = |identity: Option<&Party>| {
        let connecting = raw_channel(trust, &ca, identity);
        async move {
            let channel = connecting.await?;
            let response = tonic_health::pb::health_client::HealthClient::new(channel)
                .check(tonic_health::pb::HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .map_err(|status| format!("{status}"))?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(response.into_inner().status)
        }
    };
    assert_eq!(
        health(Some(&front)).await.unwrap(),
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    assert!(health(None).await.is_err(), "no client certificate");
    assert!(health(Some(&stranger)).await.is_err(), "another CA");

    // The trust API as a raw client that provisions: with the front end's
    // certificate it works; without a client certificate, or with one from
    // another CA, the call fails (and, as the appraisals at the end show,
    // nothing is stored).
    let unseen = Device::generate().unwrap();
    let raw_provisioned = Device::generate().unwrap();
    let provision_raw = |identity: Option<&Party>, device: &Device| {
        let connecting = raw_channel(trust, &ca, identity);
        let request = pb::SubmitEndorsementsRequest {
            media_type: CORIM_CURRENT_MT.to_owned(),
            data: corim_for(&[device], PsaCorimEncoding::Current).into(),
        };
        async move {
            let channel = connecting.await?;
            let response = pb::trust_client::TrustClient::new(channel)
                .submit_endorsements(request)
                .await
                .map_err(|status| format!("{status}"))?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(response.into_inner())
        }
    };
    provision_raw(Some(&front), &raw_provisioned)
        .await
        .expect("a front end's certificate is accepted");
    let refused = provision_raw(None, &unseen).await;
    assert!(refused.is_err(), "no client certificate: {refused:?}");
    let refused = provision_raw(Some(&stranger), &unseen).await;
    assert!(refused.is_err(), "another CA: {refused:?}");

    // Front ends with a certificate from another CA, or speaking plain
    // gRPC: they never get ready, and answer 503 to sessions and to
    // provisioning, never an appraisal and never a stored endorsement.
    let client = reqwest::Client::new();
    for (what, party, data) in [
        ("another CA", Some(&stranger), "stranger-data"),
        ("no TLS", None, "plain-data"),
    ] {
        let (refused, v, p) = front_ends(trust, party, &dir.path().join(data)).await;
        for _ in 0..5 {
            assert_eq!(
                client
                    .get(format!("{v}/readyz"))
                    .send()
                    .await
                    .unwrap()
                    .status(),
                503,
                "{what}"
            );
            let response = client
                .post(format!("{v}/challenge-response/v1/newSession"))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_eq!(status, 503, "{what}: {body}");
            assert_eq!(provision(&client, &p, &unseen).await, 503, "{what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let stop = refused.shutdown_token();
        let done = tokio::spawn(refused.wait());
        stop.cancel();
        done.await.unwrap().unwrap();
    }

    // With the right certificate, the whole flow; the device the refused
    // callers tried to provision has no trust anchor.
    let (accepted, v, p) = front_ends(trust, Some(&front), &dir.path().join("front-data")).await;
    procs::wait_for_status(
        &client,
        &format!("{v}/readyz"),
        200,
        Duration::from_secs(10),
    )
    .await;
    let device = Device::generate().unwrap();
    assert_eq!(provision(&client, &p, &device).await, 200);
    assert_eq!(appraise(&client, &v, &device).await, TrustTier::Affirming);
    assert_eq!(
        appraise(&client, &v, &raw_provisioned).await,
        TrustTier::Affirming
    );
    assert_eq!(
        appraise(&client, &v, &unseen).await,
        TrustTier::Contraindicated
    );

    let stop = accepted.shutdown_token();
    let done = tokio::spawn(accepted.wait());
    stop.cancel();
    done.await.unwrap().unwrap();
    stop_trust.cancel();
    trust_done.await.unwrap().unwrap();
}
