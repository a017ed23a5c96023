//! The production topology, as real processes: one `vouch` process per role
//! on a fresh PostgreSQL database (per cluster) and a real memcached, with
//! HAProxy health-checking `/readyz` in front of the verification processes
//! where a load balancer matters. As in production, the REST listeners
//! speak HTTPS and the front ends reach trust over mutual TLS (the test
//! PKI of `common::procs::pki`).
//!
//! Needs PostgreSQL on 127.0.0.1:5432 (or `VOUCH_TEST_POSTGRES_URL`), the
//! memcached binary and HAProxy; without them the tests skip loudly, unless
//! `CI` is set, where they fail. The 1,000-client burst on this topology
//! is `tests/burst.rs`.

// Helpers panic on failure, as tests do.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::flows::{Flow, Tally, flow, open_session, submit_evidence};
use common::procs::{self, Checks, Haproxy, Topology};
use common::*;
use sqlx::{Connection as _, Executor as _};
use vouch_testkit::corim::PsaCorimEncoding;
use vouch_testkit::psa::{Device, SwComponent};
use vouch_testkit::vectors;

const PROBLEM_JSON: &str = "application/problem+json";
const STOP: Duration = Duration::from_secs(15);

/// A client that trusts the test CA, for the HTTPS listeners.
fn client() -> reqwest::Client {
    procs::https_client(Duration::from_secs(30))
}

async fn provision(client: &reqwest::Client, provisioning: &str, corim: Vec<u8>) {
    provision_ok_at(client, provisioning, CORIM_CURRENT_MT, corim).await;
}

/// Provisions `device` alone, in the current CoRIM encoding.
async fn provision_device(client: &reqwest::Client, provisioning: &str, device: &Device) {
    provision(
        client,
        provisioning,
        corim_for(&[device], PsaCorimEncoding::Current),
    )
    .await;
}

/// A new device, provisioned through `provisioning`.
async fn provisioned_device(client: &reqwest::Client, provisioning: &str) -> Device {
    let device = Device::generate().unwrap();
    provision_device(client, provisioning, &device).await;
    device
}

/// `count` new devices, provisioned through `provisioning` in one CoRIM.
async fn provisioned_devices(
    client: &reqwest::Client,
    provisioning: &str,
    count: usize,
) -> Vec<Device> {
    let devices: Vec<Device> = (0..count).map(|_| Device::generate().unwrap()).collect();
    provision(
        client,
        provisioning,
        corim_for(
            &devices.iter().collect::<Vec<_>>(),
            PsaCorimEncoding::Current,
        ),
    )
    .await;
    devices
}

/// Runs one flow for `device` and checks its EAR is `affirming`.
async fn assert_affirming(client: &reqwest::Client, base: &str, device: &Device) {
    assert_eq!(
        flow(client, base, device).await.unwrap().ear_status(),
        "affirming"
    );
}

/// Asserts a 503 problem document with `Retry-After`.
async fn assert_unavailable(response: reqwest::Response, what: &str) {
    let status = response.status();
    if status != 503 {
        let body = response.text().await.unwrap_or_default();
        panic!("{what}: {status}, not 503: {body}");
    }
    assert!(
        response.headers().contains_key("retry-after"),
        "{what}: no Retry-After"
    );
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        PROBLEM_JSON,
        "{what}"
    );
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 503, "{what}: {problem}");
}

async fn status_of(client: &reqwest::Client, url: &str) -> u16 {
    client
        .get(url)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

mod conformance_on_processes {
    //! The PSA conformance checks with trust, verification and provisioning
    //! as separate processes on PostgreSQL and memcached: a fresh database,
    //! memcached and three processes per app.

    use super::*;

    /// The vectors, once PostgreSQL and memcached are known to be there.
    async fn prerequisites() -> Option<PathBuf> {
        let dir = vectors::dir()?;
        drop(Topology::new().await?);
        Some(dir)
    }

    async fn separate_processes() -> TestApp {
        let topology = Topology::new()
            .await
            .expect("PostgreSQL and memcached were there a moment ago");
        TestApp::processes(topology.cluster().await)
    }

    macro_rules! on_processes {
        ($($name:ident),* $(,)?) => {$(
            #[tokio::test]
            async fn $name() {
                let Some(dir) = prerequisites().await else { return };
                common::conformance::$name(&dir, &separate_processes).await;
            }
        )*};
    }

    on_processes!(
        psa_01_good_tokens_are_affirming_with_current_and_legacy_corims,
        psa_02_nonce_mismatch_fails_freshness,
        psa_03_wrong_key_fails_signature_verification,
        psa_04_unknown_instances_have_no_trust_anchor,
        psa_05_unknown_software_is_a_warning,
        psa_06_missing_claims_and_multiple_nonces_establish_no_identity,
        psa_07_components_without_version,
        psa_08_profile_1_token_against_its_legacy_trust_anchor,
        psa_09_genuine_tf_m_tokens,
        psa_10_and_every_negative_token_is_refused_without_a_server_error,
        psa_corims_are_accepted_or_refused_as_the_manifest_says,
    );
}

#[tokio::test]
async fn two_verification_processes_share_sessions() {
    let Some(topology) = Topology::new().await else {
        return;
    };
    let trust = topology.trust(&[]).await;
    let t = [trust.trust.unwrap()];
    let a = topology.verification(&t, &[]).await;
    let b = topology.verification(&t, &[]).await;
    let provisioning = topology.provisioning(&t, &[]).await;
    let client = client();
    let device = provisioned_device(&client, &provisioning.provisioning_url()).await;

    // Created on A, answered on B, read back on A, deleted on B.
    let (session_a, nonce) = open_session(&client, &a.verification_url(), &mut Vec::new())
        .await
        .unwrap();
    let session_b = session_a.replace(&a.verification_url(), &b.verification_url());
    assert_ne!(session_a, session_b);
    let response = submit_evidence(&client, &session_b, &device, &nonce)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let on_b: serde_json::Value = response.json().await.unwrap();
    assert_eq!(on_b["status"], "complete", "{on_b}");
    let on_a: serde_json::Value = client
        .get(&session_a)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(on_a, on_b, "A serves the session B completed");
    let flow = Flow {
        session: on_a,
        stored_bytes: 0,
        served_by: Vec::new(),
    };
    assert_eq!(flow.ear_status(), "affirming");
    let app_key = ear_key_of(&client, &a.verification_url()).await;
    vouch_ear::verify(flow.session["result"].as_str().unwrap(), &app_key)
        .expect("the EAR verifies with the key A publishes");
    assert_eq!(
        client.delete(&session_b).send().await.unwrap().status(),
        204
    );
    assert_eq!(client.get(&session_a).send().await.unwrap().status(), 404);

    a.stop(STOP).await;
    b.stop(STOP).await;
    provisioning.stop(STOP).await;
    trust.stop(STOP).await;
}

#[tokio::test]
async fn provisioning_through_one_trust_reaches_verification_through_another_within_1s() {
    let Some(topology) = Topology::new().await else {
        return;
    };
    let trust1 = topology.trust(&[]).await;
    let trust2 = topology.trust(&[]).await;
    let provisioning = topology.provisioning(&[trust1.trust.unwrap()], &[]).await;
    let verification = topology.verification(&[trust2.trust.unwrap()], &[]).await;
    let client = client();
    let base = verification.verification_url();

    // Trust #2 learns (and caches) that the device does not exist.
    let device = Device::generate().unwrap();
    for _ in 0..2 {
        let seen = flow(&client, &base, &device).await.unwrap();
        assert_eq!(seen.ear_status(), "contraindicated", "{:?}", seen.session);
    }

    provision_device(&client, &provisioning.provisioning_url(), &device).await;
    let provisioned = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let seen = flow(&client, &base, &device).await.unwrap();
        if seen.ear_status() == "affirming" {
            break;
        }
        assert!(
            provisioned.elapsed() < Duration::from_secs(1),
            "trust #2 still answered {} 1 s after trust #1 provisioned ({attempts} attempts)",
            seen.ear_status()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!(
        "new device verified through the other trust instance after {:?} ({attempts} attempts)",
        provisioned.elapsed()
    );

    verification.stop(STOP).await;
    provisioning.stop(STOP).await;
    trust1.stop(STOP).await;
    trust2.stop(STOP).await;
}

/// Verdicts reached on two trust processes land in one fleet status on
/// PostgreSQL, read through a management process over gRPC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_from_two_trust_processes_show_in_one_fleet_status() {
    let Some(topology) = Topology::new().await else {
        return;
    };
    let flush = [("VOUCH_TRUST__FLEET_FLUSH_MS", "50")];
    let trust1 = topology.trust_env(&flush).await;
    let trust2 = topology.trust_env(&flush).await;
    let (t1, t2) = (trust1.trust.unwrap(), trust2.trust.unwrap());
    let provisioning = topology.provisioning(&[t1], &[]).await;
    let verification1 = topology.verification(&[t1], &[]).await;
    let verification2 = topology.verification(&[t2], &[]).await;
    let management = topology.management(&[t2], &[]).await;
    let client = client();
    let devices = provisioned_devices(&client, &provisioning.provisioning_url(), 4).await;
    // Each device attests through both trust processes.
    for device in &devices {
        for verification in [&verification1, &verification2] {
            let seen = flow(&client, &verification.verification_url(), device)
                .await
                .unwrap();
            assert_eq!(seen.ear_status(), "affirming");
        }
    }
    let fleet = |path: &str| format!("{}/fleet/v1/{path}", management.management_url());
    let within = Duration::from_secs(15);
    let summary = poll_json(&client, &fleet("summary"), within, |s| {
        s["total"] == 4 && s["statuses"]["affirming"] == 4
    })
    .await;
    assert_eq!(summary["schemes"][0]["total"], 4);
    // Both trust processes' verdicts were counted: two per attester.
    poll_json(&client, &fleet("attesters"), within, |page| {
        page["attesters"]
            .as_array()
            .is_some_and(|a| a.len() == 4 && a.iter().all(|a| a["verdicts"] == 2))
    })
    .await;
    // A bad parameter is refused by trust's own checks, through gRPC.
    let answer = client
        .get(fleet("attesters?scheme=NOPE"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);

    management.stop(STOP).await;
    verification1.stop(STOP).await;
    verification2.stop(STOP).await;
    provisioning.stop(STOP).await;
    trust1.stop(STOP).await;
    trust2.stop(STOP).await;
}

/// Connections of the test database, by `application_name`.
async fn connections(admin: &mut sqlx::PgConnection, database: &str, application: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
    )
    .bind(database)
    .bind(application)
    .fetch_one(admin)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_answers_503_with_retry_after_and_recovers() {
    let Some(topology) = Topology::new().await else {
        return;
    };
    let trust = topology
        .trust(&[
            "--db-max-connections",
            "1",
            "--db-acquire-timeout-ms",
            "100",
        ])
        .await;
    let t = [trust.trust.unwrap()];
    let verification = topology.verification(&t, &[]).await;
    let provisioning = topology.provisioning(&t, &[]).await;
    let client = client();
    let base = verification.verification_url();
    let first = Device::generate().unwrap();
    let second = Device::generate().unwrap();
    provision(
        &client,
        &provisioning.provisioning_url(),
        corim_for(&[&first, &second], PsaCorimEncoding::Current),
    )
    .await;

    // The provisioning's change notification makes trust look up the keys
    // it touched, on its one pooled connection; let that finish first.
    let mut admin = sqlx::PgConnection::connect(topology.pg.url())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let quiet = Instant::now();
    while busy_connections(&mut admin, topology.pg.name()).await > 0 {
        assert!(
            quiet.elapsed() < Duration::from_secs(5),
            "trust's pool stays busy"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Another client holds the trust-anchor table, so the lookup of the
    // first device sits on trust's only connection, waiting for the lock.
    let mut locker = sqlx::PgConnection::connect(topology.pg.url())
        .await
        .unwrap();
    locker.execute("BEGIN").await.unwrap();
    locker
        .execute("LOCK TABLE trust_anchors IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let (held_session, held_nonce) = open_session(&client, &base, &mut Vec::new()).await.unwrap();
    let held = {
        let client = client.clone();
        let first = first.clone();
        tokio::spawn(async move {
            submit_evidence(&client, &held_session, &first, &held_nonce)
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!held.is_finished(), "the first lookup should be blocked");

    // Every other unseen device now finds no free connection within 100 ms.
    for attempt in 0..5 {
        let (session, nonce) = open_session(&client, &base, &mut Vec::new()).await.unwrap();
        let started = Instant::now();
        let response = submit_evidence(&client, &session, &second, &nonce)
            .await
            .unwrap();
        assert_unavailable(response, &format!("attempt {attempt} while exhausted")).await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the 503 took {:?}",
            started.elapsed()
        );
    }
    let pooled = connections(&mut admin, topology.pg.name(), vouch_store_pool_name()).await;
    assert!(pooled <= 1, "{pooled} pooled connections with a pool of 1");

    // Released: the held request completes and the pool serves again.
    locker.execute("ROLLBACK").await.unwrap();
    let response = held.await.unwrap();
    assert_eq!(response.status(), 200);
    let seen = flow(&client, &base, &second).await.unwrap();
    assert_eq!(seen.ear_status(), "affirming");

    // Both devices are now cached: verifying them needs no connection at
    // all, even with the table locked again.
    locker.execute("BEGIN").await.unwrap();
    locker
        .execute("LOCK TABLE trust_anchors IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    for device in [&first, &second] {
        let started = Instant::now();
        let seen = flow(&client, &base, device).await.unwrap();
        assert_eq!(seen.ear_status(), "affirming");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    locker.execute("ROLLBACK").await.unwrap();

    verification.stop(STOP).await;
    provisioning.stop(STOP).await;
    trust.stop(STOP).await;
}

/// Pooled connections of the test database running a statement.
async fn busy_connections(admin: &mut sqlx::PgConnection, database: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = $1 AND application_name = $2 AND state <> 'idle'",
    )
    .bind(database)
    .bind(vouch_store_pool_name())
    .fetch_one(admin)
    .await
    .unwrap()
}

/// `application_name` of the store's query pool (the listener has its own).
fn vouch_store_pool_name() -> &'static str {
    "vouch-store"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_trust_going_away_and_coming_back() {
    let Some(topology) = Topology::new().await else {
        return;
    };
    let mut trust = topology.trust(&[]).await;
    let addr = trust.trust.unwrap();
    let verification = topology.verification(&[addr], &[]).await;
    let provisioning = topology.provisioning(&[addr], &[]).await;
    let client = client();
    let base = verification.verification_url();
    let ready_v = format!("{base}/readyz");
    let ready_p = format!("{}/readyz", provisioning.provisioning_url());
    procs::wait_for_status(&client, &ready_v, 200, Duration::from_secs(5)).await;
    procs::wait_for_status(&client, &ready_p, 200, Duration::from_secs(5)).await;
    let device = provisioned_device(&client, &provisioning.provisioning_url()).await;
    assert_affirming(&client, &base, &device).await;

    assert!(
        healthcheck(&[
            "--url".into(),
            ready_v.clone(),
            "--url".into(),
            ready_p.clone()
        ])
        .await
    );

    // Trust dies without a goodbye.
    trust.proc().kill();
    let took = procs::wait_for_status(&client, &ready_v, 503, Duration::from_secs(3)).await;
    eprintln!("verification reported not-ready {took:?} after trust died");
    procs::wait_for_status(&client, &ready_p, 503, Duration::from_secs(3)).await;
    assert_eq!(status_of(&client, &format!("{base}/healthz")).await, 200);
    for _ in 0..3 {
        // A session may still open (its media types are cached), but the
        // evidence cannot be appraised: 503, never 500.
        let response = client
            .post(format!("{base}/challenge-response/v1/newSession"))
            .send()
            .await
            .unwrap();
        if response.status() == 201 {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            let body: serde_json::Value = response.json().await.unwrap();
            let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(body["nonce"].as_str().unwrap())
                .unwrap();
            let session = format!("{base}/challenge-response/v1/{location}");
            let response = submit_evidence(&client, &session, &device, &nonce)
                .await
                .unwrap();
            assert_unavailable(response, "evidence while trust is down").await;
        } else {
            assert_unavailable(response, "newSession while trust is down").await;
        }
        let response = client
            .post(format!(
                "{}/endorsement-provisioning/v1/submit",
                provisioning.provisioning_url()
            ))
            .header("Content-Type", CORIM_CURRENT_MT)
            .body(corim_for(&[&device], PsaCorimEncoding::Current))
            .send()
            .await
            .unwrap();
        assert_unavailable(response, "provisioning while trust is down").await;
    }

    // Trust comes back on the same address; the front ends find it again.
    let trust = topology.trust_at(addr, &[]).await;
    let took = procs::wait_for_status(&client, &ready_v, 200, Duration::from_secs(10)).await;
    eprintln!("verification ready again {took:?} after trust restarted");
    procs::wait_for_status(&client, &ready_p, 200, Duration::from_secs(10)).await;
    assert_affirming(&client, &base, &device).await;

    verification.stop(STOP).await;
    provisioning.stop(STOP).await;
    trust.stop(STOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_front_end_started_before_trust_waits_not_ready_then_serves() {
    let Some(topology) = Topology::new().await else {
        return;
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], procs::free_port()));
    // Hold trust's port, closing every connection, until trust takes it:
    // left free for seconds, it was once given to another test's REST
    // listener, whose 404s the front end then got instead of trust.
    let holder = tokio::net::TcpListener::bind(addr).await.unwrap();
    let holding = tokio::spawn(async move {
        loop {
            if let Ok((connection, _)) = holder.accept().await {
                drop(connection);
            }
        }
    });
    let mut verification = topology.verification(&[addr], &[]).await;
    let client = client();
    let base = verification.verification_url();
    let ready = format!("{base}/readyz");
    let device = Device::generate().unwrap();
    for _ in 0..5 {
        assert_eq!(status_of(&client, &ready).await, 503);
        assert_eq!(status_of(&client, &format!("{base}/healthz")).await, 200);
        let response = client
            .post(format!("{base}/challenge-response/v1/newSession"))
            .send()
            .await
            .unwrap();
        assert_unavailable(response, "newSession before trust exists").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        verification.proc().try_wait().is_none(),
        "the front end keeps running without trust"
    );

    holding.abort();
    let _ = holding.await;
    let trust = topology.trust_at(addr, &[]).await;
    let took = procs::wait_for_status(&client, &ready, 200, Duration::from_secs(10)).await;
    eprintln!("verification ready {took:?} after trust started");
    let provisioning = topology.provisioning(&[addr], &[]).await;
    provision_device(&client, &provisioning.provisioning_url(), &device).await;
    assert_affirming(&client, &base, &device).await;

    verification.stop(STOP).await;
    provisioning.stop(STOP).await;
    trust.stop(STOP).await;
}

/// The server of a `postgres://user@host:port/db` URL.
fn server_of(url: &str) -> SocketAddr {
    use std::net::ToSocketAddrs as _;
    let rest = url.split_once("://").unwrap().1;
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host_port.to_socket_addrs().unwrap().next().unwrap()
}

/// The standard gRPC health status of `service` on a trust process.
async fn grpc_health(trust: SocketAddr, service: &str) -> Option<i32> {
    let pki = procs::pki();
    grpc_health_as(
        trust,
        service,
        Some(tonic::transport::Identity::from_pem(
            pki.node.chain_pem(),
            pki.node.key_pem(),
        )),
    )
    .await
}

/// [`grpc_health`] presenting `identity` (or no client certificate).
async fn grpc_health_as(
    trust: SocketAddr,
    service: &str,
    identity: Option<tonic::transport::Identity>,
) -> Option<i32> {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    let pki = procs::pki();
    let mut tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(pki.ca.cert_pem()));
    if let Some(identity) = identity {
        tls = tls.identity(identity);
    }
    let channel = tonic::transport::Endpoint::from_shared(format!("https://{trust}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .ok()?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .ok()?;
    Some(response.into_inner().status)
}

const SERVING: i32 = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
const NOT_SERVING: i32 = tonic_health::pb::health_check_response::ServingStatus::NotServing as i32;

async fn wait_for_grpc_health(trust: SocketAddr, service: &str, want: i32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = grpc_health(trust, service).await;
        if got == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "gRPC health of {service:?} stayed {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Writes a plain-HTTP request to the TLS listener `addr` and reads until
/// the server closes: the answer must not be HTTP.
async fn plain_http_gets_no_answer(addr: SocketAddr) {
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
async fn every_role_serves_https_and_trust_wants_a_client_certificate_from_the_ca() {
    let Some(topology) = Topology::new().await else {
        return;
    };
    let trust = topology.trust(&[]).await;
    let t = [trust.trust.unwrap()];
    let verification = topology.verification(&t, &[]).await;
    let provisioning = topology.provisioning(&t, &[]).await;
    let management = topology.management(&t, &[]).await;
    let client = client();
    for (url, addr) in [
        (verification.verification_url(), verification.verification),
        (provisioning.provisioning_url(), provisioning.provisioning),
        (management.management_url(), management.management),
    ] {
        procs::wait_for_status(
            &client,
            &format!("{url}/readyz"),
            200,
            Duration::from_secs(10),
        )
        .await;
        plain_http_gets_no_answer(addr.unwrap()).await;
    }

    // Management reaches trust over mutual TLS: a policy created through
    // it is stored, and listed back.
    let policies = format!(
        "{}/management/v1/policy/PSA_IOT",
        management.management_url()
    );
    let response = client
        .post(&policies)
        .header("Content-Type", "application/vnd.veraison.policy.opa")
        .body("package policy\n\nexecutables = APPROVED_RT\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: serde_json::Value = response.json().await.unwrap();
    let listed: serde_json::Value = client
        .get(format!(
            "{}/management/v1/policies/PSA_IOT",
            management.management_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["uuid"], created["uuid"], "{listed}");
    let device = provisioned_device(&client, &provisioning.provisioning_url()).await;
    assert_affirming(&client, &verification.verification_url(), &device).await;

    // Trust's gRPC: the test PKI's certificate is served; without a client
    // certificate, with one from another CA, or in plain HTTP/2, nothing.
    wait_for_grpc_health(t[0], "", SERVING).await;
    assert_eq!(grpc_health_as(t[0], "", None).await, None);
    let other = vouch_testkit::tls::TestCa::new("another CA")
        .unwrap()
        .issue(&["localhost"], vouch_testkit::tls::Usage::Client)
        .unwrap();
    let stranger = tonic::transport::Identity::from_pem(other.chain_pem(), other.key_pem());
    assert_eq!(grpc_health_as(t[0], "", Some(stranger)).await, None);
    let plain = tonic::transport::Endpoint::from_shared(format!("http://{}", t[0]))
        .unwrap()
        .connect()
        .await;
    let plain = match plain {
        Err(_) => None,
        Ok(channel) => tonic_health::pb::health_client::HealthClient::new(channel)
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .ok(),
    };
    assert!(plain.is_none(), "plain gRPC answered: {plain:?}");

    verification.stop(STOP).await;
    provisioning.stop(STOP).await;
    management.stop(STOP).await;
    trust.stop(STOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_and_grpc_health_follow_the_database() {
    let Some(topology) = Topology::new().await else {
        return;
    };
    let mut proxy = procs::TcpProxy::start(server_of(topology.pg.url())).await;
    let trust = topology
        .trust_on(
            &proxy.rewrite(topology.pg.url()),
            SocketAddr::from(([127, 0, 0, 1], 0)),
            &[],
        )
        .await;
    let addr = trust.trust.unwrap();
    let verification = topology.verification(&[addr], &[]).await;
    let provisioning = topology.provisioning(&[addr], &[]).await;
    let client = client();
    let base = verification.verification_url();
    let ready = format!("{base}/readyz");
    let trust_service = "vouch.trust.v1.Trust";
    procs::wait_for_status(&client, &ready, 200, Duration::from_secs(5)).await;
    wait_for_grpc_health(addr, "", SERVING).await;
    let known = provisioned_device(&client, &provisioning.provisioning_url()).await;
    // The provisioning's change notification reaches trust asynchronously;
    // an appraisal whose lookup it overtakes is not cached (the cache
    // refuses results that raced an invalidation). Let it land first, so
    // that the appraisal below caches the device.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_affirming(&client, &base, &known).await;

    // The database goes away.
    proxy.cut();
    let unknown = Device::generate().unwrap();
    let response = {
        let (session, nonce) = open_session(&client, &base, &mut Vec::new()).await.unwrap();
        submit_evidence(&client, &session, &unknown, &nonce)
            .await
            .unwrap()
    };
    assert_unavailable(response, "an unseen device while the database is down").await;
    // A device trust has seen is served from its cache.
    assert_affirming(&client, &base, &known).await;
    let took = procs::wait_for_status(&client, &ready, 503, Duration::from_secs(10)).await;
    eprintln!("not-ready {took:?} after the database went away");
    wait_for_grpc_health(addr, "", NOT_SERVING).await;
    wait_for_grpc_health(addr, trust_service, NOT_SERVING).await;
    let status = client.get(&ready).send().await.unwrap();
    let report: serde_json::Value = status.json().await.unwrap();
    assert!(
        report["checks"]["trust"].as_str().unwrap().contains("DOWN"),
        "{report}"
    );

    // It comes back.
    proxy.resume().await;
    let took = procs::wait_for_status(&client, &ready, 200, Duration::from_secs(10)).await;
    eprintln!("ready {took:?} after the database came back");
    wait_for_grpc_health(addr, "", SERVING).await;
    wait_for_grpc_health(addr, trust_service, SERVING).await;
    assert_eq!(
        flow(&client, &base, &unknown).await.unwrap().ear_status(),
        "contraindicated"
    );

    verification.stop(STOP).await;
    provisioning.stop(STOP).await;
    trust.stop(STOP).await;
}

/// Whether `vouch healthcheck ARGS` (with the test PKI for https URLs)
/// exits 0.
async fn healthcheck(args: &[String]) -> bool {
    tokio::process::Command::new(procs::VOUCH)
        .arg("healthcheck")
        .args(args)
        .args(procs::healthcheck_tls_args())
        .env_remove("VOUCH_CONFIG")
        .output()
        .await
        .unwrap()
        .status
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_services_report_not_ready_at_once_and_exit_cleanly() {
    let Some(topology) = Topology::new().await else {
        return;
    };
    let delay = ["--drain-delay-ms", "1500"];
    let mut trust = topology.trust(&delay).await;
    let addr = trust.trust.unwrap();
    let mut verification = topology.verification(&[addr], &delay).await;
    let client = client();
    let base = verification.verification_url();
    let ready = format!("{base}/readyz");
    procs::wait_for_status(&client, &ready, 200, Duration::from_secs(5)).await;
    let trust_url = format!("https://{addr}");
    assert!(healthcheck(&["--url".into(), ready.clone()]).await);
    assert!(healthcheck(&["--trust-url".into(), trust_url.clone()]).await);
    assert!(!healthcheck(&["--url".into(), format!("{base}/no-such-path")]).await);

    // The front end: not-ready at once, still serving during the delay.
    verification.proc().terminate();
    let took = procs::wait_for_status(&client, &ready, 503, Duration::from_millis(500)).await;
    eprintln!("verification not-ready {took:?} after SIGTERM");
    assert!(!healthcheck(&["--url".into(), ready.clone()]).await);
    assert_eq!(status_of(&client, &format!("{base}/healthz")).await, 200);
    let response = client
        .post(format!("{base}/challenge-response/v1/newSession"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "still serving while draining");

    // Trust: NOT_SERVING on the standard health service at once.
    trust.proc().terminate();
    let started = Instant::now();
    wait_for_grpc_health(addr, "", NOT_SERVING).await;
    assert!(started.elapsed() < Duration::from_millis(1_000));
    assert!(!healthcheck(&["--trust-url".into(), trust_url]).await);

    for proc in [verification.proc(), trust.proc()] {
        let status = proc.wait_exit(STOP).await;
        assert!(status.is_some_and(|s| s.success()), "{status:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_behind_a_load_balancer_loses_no_request() {
    let Some(haproxy_bin) = procs::haproxy_binary() else {
        return;
    };
    let Some(topology) = Topology::new().await else {
        return;
    };
    const DRAIN_DELAY_MS: u64 = 1_500;
    const DRAIN_TIMEOUT_MS: u64 = 5_000;
    let trust = topology.trust(&[]).await;
    let t = [trust.trust.unwrap()];
    let drain = ["--drain-delay-ms", "1500"];
    let timeout = [("VOUCH_DRAIN_TIMEOUT_MS", "5000")];
    let mut v0 = topology.front("verification", &t, &drain, &timeout).await;
    let v1 = topology.front("verification", &t, &drain, &timeout).await;
    let provisioning = topology.provisioning(&t, &[]).await;
    let client = client();
    let devices = provisioned_devices(&client, &provisioning.provisioning_url(), 8).await;
    let haproxy = Haproxy::start(
        &haproxy_bin,
        topology.dir(),
        &[v0.verification.unwrap(), v1.verification.unwrap()],
        // Fast checks, so that the drain is seen within the test: a quiet
        // machine answers a check in milliseconds.
        Checks {
            inter_ms: 100,
            fall: 2,
        },
    )
    .await;
    let lb = haproxy.url();

    // Steady load through HAProxy: 8 clients doing full flows back to back.
    let load_started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let log = Arc::new(std::sync::Mutex::new(Vec::<(Instant, String)>::new()));
    let errors = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut workers = Vec::new();
    for device in devices {
        let (client, lb, stop, tally, log, errors) = (
            client.clone(),
            lb.clone(),
            stop.clone(),
            tally.clone(),
            log.clone(),
            errors.clone(),
        );
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                match flow(&client, &lb, &device).await {
                    Ok(seen) if seen.ear_status() == "affirming" => {
                        tally.flows.fetch_add(1, Ordering::SeqCst);
                        let now = Instant::now();
                        let mut log = log.lock().unwrap();
                        log.extend(seen.served_by.into_iter().map(|s| (now, s)));
                    }
                    Ok(seen) => {
                        tally.failures.fetch_add(1, Ordering::SeqCst);
                        errors
                            .lock()
                            .unwrap()
                            .push(format!("not affirming: {}", seen.session));
                    }
                    Err(e) => {
                        tally.failures.fetch_add(1, Ordering::SeqCst);
                        errors.lock().unwrap().push(e);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before_term = tally.flows.load(Ordering::SeqCst);
    let terminated = Instant::now();
    v0.proc().terminate();
    let status = v0
        .proc()
        .wait_exit(Duration::from_millis(
            DRAIN_DELAY_MS + DRAIN_TIMEOUT_MS + 2_000,
        ))
        .await;
    let exited = Instant::now();
    let drained_in = exited - terminated;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }

    let flows = tally.flows.load(Ordering::SeqCst);
    let failures = tally.failures.load(Ordering::SeqCst);
    let errors = errors.lock().unwrap().clone();
    eprintln!(
        "{flows} flows ({before_term} before SIGTERM), {failures} failed; \
         the terminated backend exited {status:?} after {drained_in:?}"
    );
    assert_eq!(
        failures,
        0,
        "failed requests: {:?}",
        &errors[..errors.len().min(10)]
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "the terminated backend did not exit 0 in time: {status:?}\n{}",
        v0.proc().log_tail()
    );
    assert!(
        drained_in >= Duration::from_millis(DRAIN_DELAY_MS),
        "exited after {drained_in:?}, before its drain delay"
    );
    assert!(
        before_term > 0 && flows > before_term,
        "the load kept going"
    );
    let log = log.lock().unwrap().clone();
    let served = |name: &str, from: Instant, to: Instant| {
        log.iter()
            .filter(|(at, s)| s == name && *at >= from && *at <= to)
            .count()
    };
    assert!(
        served("v0", load_started, terminated) > 0,
        "v0 took load before SIGTERM"
    );
    assert!(
        served("v1", load_started, terminated) > 0,
        "v1 took load before SIGTERM"
    );
    assert_eq!(
        served("v0", exited, Instant::now()),
        0,
        "nothing reached v0 after it exited"
    );
    assert!(
        served("v1", exited, Instant::now()) > 0,
        "v1 carried on alone"
    );

    drop(haproxy);
    v1.stop(STOP).await;
    provisioning.stop(STOP).await;
    trust.stop(STOP).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_flight_request_completes_after_sigterm() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let Some(topology) = Topology::new().await else {
        return;
    };
    let trust = topology.trust(&[]).await;
    let t = [trust.trust.unwrap()];
    let mut verification = topology
        .front(
            "verification",
            &t,
            &[],
            &[("VOUCH_DRAIN_TIMEOUT_MS", "10000")],
        )
        .await;
    let provisioning = topology.provisioning(&t, &[]).await;
    let client = client();
    let device = provisioned_device(&client, &provisioning.provisioning_url()).await;
    let base = verification.verification_url();
    let addr = verification.verification.unwrap();
    let (session, nonce) = open_session(&client, &base, &mut Vec::new()).await.unwrap();
    let path = session.trim_start_matches(&base).to_owned();
    let token = device
        .token(&nonce, &SwComponent::acme_components())
        .unwrap();

    // A slow client: headers and half the evidence, then a pause.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut stream = vouch_tls::connect(tcp, "localhost", procs::tls_client_config())
        .await
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {PSA_TOKEN_MT}\r\n\
         Accept: {SESSION_MT}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        token.len()
    );
    let (first_half, second_half) = token.split_at(token.len() / 2);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first_half).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let terminated = Instant::now();
    verification.proc().terminate();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        verification.proc().try_wait().is_none(),
        "the process waits for the request in flight"
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the listener is closed once draining"
    );

    stream.write_all(second_half).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"status\":\"complete\""), "{answer}");
    let status = verification.proc().wait_exit(Duration::from_secs(5)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "exit after the drain: {status:?}\n{}",
        verification.proc().log_tail()
    );
    eprintln!(
        "drained and exited {:?} after SIGTERM",
        terminated.elapsed()
    );

    provisioning.stop(STOP).await;
    trust.stop(STOP).await;
}

#[tokio::test]
async fn vouch_migrate_prepares_a_fresh_postgres_database() {
    let Some(pg) = vouch_store::testing::TestPostgres::create().await else {
        return;
    };
    let unmigrated = vouch_store::StoreConfig {
        run_migrations: false,
        ..pg.config()
    };
    let store = vouch_store::connect(&unmigrated).await.unwrap();
    assert!(
        store.stats().await.is_err(),
        "a fresh database has no tables"
    );
    store.close().await;

    for run in 0..2 {
        let output = tokio::process::Command::new(procs::VOUCH)
            .args(["migrate", "--database-url", pg.url()])
            .env_remove("VOUCH_CONFIG")
            .env_remove("VOUCH_DATABASE_URL")
            .output()
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "run {run}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("migrations applied"), "{stdout}");
    }
    let store = vouch_store::connect(&unmigrated).await.unwrap();
    assert_eq!(
        store.stats().await.unwrap(),
        vouch_store::StoreStats::default()
    );
    store.close().await;
}
