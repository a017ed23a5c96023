//! The client subcommands against a running embedded default: `vouch corim
//! submit`, `vouch verify` and `vouch ear inspect`, run as the real binary.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Output;

use common::*;

const PSA_CORIM: &str = "application/rim+cbor; profile=\"tag:arm.com,2025:psa#1.0.0\"";

/// Runs `vouch args…` off the async runtime and returns its output.
async fn vouch(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_vouch"))
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// `vouch verify --server server args…`.
async fn verify_at(server: &str, args: &[&str]) -> Output {
    vouch(&[&["verify", "--server", server], args].concat()).await
}

/// `vouch corim submit --server server --media-type media_type files…`.
async fn submit_at(server: &str, media_type: &str, files: &[&str]) -> Output {
    vouch(
        &[
            &[
                "corim",
                "submit",
                "--server",
                server,
                "--media-type",
                media_type,
            ],
            files,
        ]
        .concat(),
    )
    .await
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// No Rust panic or backtrace ever reaches the user.
fn no_panic(output: &Output) {
    let (stdout, stderr) = text(output);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stdout}\n{stderr}"
    );
}

async fn device_dir(root: &Path, name: &str) -> String {
    let dir = root.join(name);
    let dir = dir.to_str().unwrap().to_owned();
    let output = vouch(&["testkit", "device", "--dir", &dir]).await;
    assert!(output.status.success(), "{:?}", text(&output));
    dir
}

#[tokio::test]
async fn submit_then_verify_a_device_and_inspect_its_ear() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let dir = device_dir(work.path(), "device").await;
    let corim = format!("{dir}/corim.cbor");

    let output = submit_at(&app.provisioning, PSA_CORIM, &[&corim]).await;
    assert!(output.status.success(), "{:?}", text(&output));
    assert!(text(&output).0.contains("stored"));

    let output = verify_at(&app.verification, &["--device", &dir]).await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("verdict: affirming"), "{stdout}");
    assert!(stdout.contains("instance-identity: 2"), "{stdout}");

    let output = verify_at(&app.verification, &["--device", &dir, "--json"]).await;
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["verdict"], "affirming");
    assert_eq!(
        report["ear"]["submods"]["PSA_IOT"]["ear.status"],
        "affirming"
    );
    // The session was deleted afterwards.
    let session = report["session"].as_str().unwrap();
    assert_eq!(app.client.get(session).send().await.unwrap().status(), 404);

    // Evidence minted beforehand for a nonce of the caller's choosing.
    let nonce = "dm91Y2gtY2xpLXRlc3Qtbm9uY2UtMzItYnl0ZXMhISE";
    let token = work.path().join("token.cbor");
    let output = vouch(&[
        "testkit",
        "token",
        "--dir",
        &dir,
        "--nonce",
        nonce,
        "--out",
        token.to_str().unwrap(),
    ])
    .await;
    assert!(output.status.success(), "{:?}", text(&output));
    let output = verify_at(
        &app.verification,
        &[
            "--evidence",
            token.to_str().unwrap(),
            "--media-type",
            PSA_TOKEN_MT,
            "--nonce",
            nonce,
        ],
    )
    .await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("verdict: affirming"), "{stdout}");
    // The same evidence for another nonce is not the device's answer.
    let output = verify_at(
        &app.verification,
        &[
            "--evidence",
            token.to_str().unwrap(),
            "--media-type",
            PSA_TOKEN_MT,
            "--nonce",
            "b3RoZXItbm9uY2UtYnV0LWxvbmctZW5vdWdoLTMyYnl0",
        ],
    )
    .await;
    no_panic(&output);
    assert_eq!(output.status.code(), Some(3), "{:?}", text(&output));

    // An EAR from the API, checked with the published key and with a JWK.
    let (_, response) = app.verify_new_device().await;
    let session: serde_json::Value = response.json().await.unwrap();
    let jwt = session["result"].as_str().unwrap();
    let ear = work.path().join("ear.jwt");
    std::fs::write(&ear, jwt).unwrap();
    let ear = ear.to_str().unwrap();
    let output = vouch(&["ear", "inspect", "--server", &app.verification, ear]).await;
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("signature: valid"), "{stdout}");
    assert!(stdout.contains("verdict: affirming"), "{stdout}");

    let discovery: serde_json::Value = app
        .client
        .get(format!(
            "{}/.well-known/veraison/verification",
            app.verification
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = work.path().join("ear-key.jwk");
    std::fs::write(&jwk, discovery["ear-verification-key"].to_string()).unwrap();
    let output = vouch(&[
        "ear",
        "inspect",
        "--key",
        jwk.to_str().unwrap(),
        "--json",
        ear,
    ])
    .await;
    assert!(output.status.success(), "{:?}", text(&output));
    let claims: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(claims["eat_profile"], "tag:github.com,2023:veraison/ear");

    // A forged EAR: same claims, the signature of another.
    let mut parts: Vec<&str> = jwt.split('.').collect();
    let other = app.verify_new_device().await.1;
    let other: serde_json::Value = other.json().await.unwrap();
    let other_sig = other["result"]
        .as_str()
        .unwrap()
        .rsplit('.')
        .next()
        .unwrap()
        .to_owned();
    parts[2] = &other_sig;
    let forged = work.path().join("forged.jwt");
    std::fs::write(&forged, parts.join(".")).unwrap();
    let output = vouch(&[
        "ear",
        "inspect",
        "--key",
        jwk.to_str().unwrap(),
        forged.to_str().unwrap(),
    ])
    .await;
    no_panic(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).1.contains("does not verify"),
        "{:?}",
        text(&output)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_device_nobody_provisioned_is_not_affirming_and_exits_3() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let dir = device_dir(work.path(), "stranger").await;
    let output = verify_at(&app.verification, &["--device", &dir]).await;
    no_panic(&output);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("verdict: contraindicated"), "{stdout}");
    app.stop().await;
}

#[tokio::test]
async fn bad_input_and_unreachable_servers_are_clear_errors() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let garbage = work.path().join("garbage.cbor");
    std::fs::write(&garbage, b"not a corim").unwrap();
    let dir = device_dir(work.path(), "device").await;
    let corim = format!("{dir}/corim.cbor");

    // Two CoRIMs, one refused: the good one is stored, the exit is 1.
    let output = submit_at(
        &app.provisioning,
        PSA_CORIM,
        &[&corim, garbage.to_str().unwrap()],
    )
    .await;
    no_panic(&output);
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("corim.cbor: stored"), "{stdout}");
    assert!(stderr.contains("1 of 2 CoRIMs refused"), "{stderr}");

    // A media type the server does not take.
    let output = submit_at(&app.provisioning, "application/x-nothing", &[&corim]).await;
    no_panic(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).1.contains("415"), "{:?}", text(&output));

    // Nothing listening.
    let output = verify_at("http://127.0.0.1:1", &["--device", &dir]).await;
    no_panic(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).1.contains("opening a session"),
        "{:?}",
        text(&output)
    );

    // Evidence without its nonce is refused by the command line.
    let output = verify_at(&app.verification, &["--evidence", &corim]).await;
    no_panic(&output);
    assert_eq!(output.status.code(), Some(2), "clap's usage error");
    app.stop().await;
}

/// The command failed (exit 1) with `reason` on stderr, without a panic.
fn exits_1_saying(output: &Output, reason: &str) {
    no_panic(output);
    let (stdout, stderr) = text(output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains(reason), "{stderr}");
}

#[tokio::test]
async fn evidence_inspect_shows_the_claims_of_psa_and_cca_tokens() {
    let work = tempfile::tempdir().unwrap();
    let dir = device_dir(work.path(), "device").await;
    let nonce = "dm91Y2gtY2xpLXRlc3Qtbm9uY2UtMzItYnl0ZXMhISE";
    let output = vouch(&["testkit", "token", "--dir", &dir, "--nonce", nonce]).await;
    assert!(output.status.success(), "{:?}", text(&output));
    let token = format!("{dir}/token.cbor");

    // PSA, found by trying each format; the nonce is the one minted in.
    let output = vouch(&["evidence", "inspect", "--json", &token]).await;
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["format"], "psa");
    let nonce_b64 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, nonce).unwrap(),
    );
    assert_eq!(doc["claims"]["psa-nonce"], nonce_b64.as_str());
    assert!(doc["claims"]["psa-instance-id"].is_string());

    // Human-readable, from stdin.
    let bytes = std::fs::read(&token).unwrap();
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vouch"))
            .args(["evidence", "inspect", "--format", "psa", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("format: psa\nsignature: not checked\n"),
        "{stdout}"
    );
    assert!(stdout.contains(&nonce_b64), "{stdout}");

    // CCA, minted with fresh keys: both tokens' claims come out.
    let cca = vouch_testkit::cca::CcaDevice::generate(vouch_crypto::Curve::P384).unwrap();
    let cca_nonce = [7u8; 64];
    let cca_token = work.path().join("cca.cbor");
    std::fs::write(
        &cca_token,
        cca.token(&cca_nonce, vouch_cca_token::Framing::CmwCollection)
            .unwrap(),
    )
    .unwrap();
    let output = vouch(&["evidence", "inspect", "--json", cca_token.to_str().unwrap()]).await;
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["format"], "cca");
    let realm = &doc["claims"]["cca-realm-delegated-token"];
    assert_eq!(
        realm["cca-realm-challenge"],
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, cca_nonce).as_str()
    );
    assert!(doc["claims"]["cca-platform-token"]["cca-platform-challenge"].is_string());

    // A PSA token is not a CCA token, and garbage is neither: exit 1 with
    // a reason, never a panic.
    let output = vouch(&["evidence", "inspect", "--format", "cca", &token]).await;
    exits_1_saying(&output, "not a CCA token");
    let garbage = work.path().join("garbage");
    std::fs::write(&garbage, b"\xff\x00junk").unwrap();
    let output = vouch(&["evidence", "inspect", garbage.to_str().unwrap()]).await;
    exits_1_saying(&output, "as PSA:");
    let output = vouch(&["evidence", "inspect", "/nonexistent/token"]).await;
    exits_1_saying(&output, "reading /nonexistent/token");
}

/// evcli's PSA claims JSON for a `vouch testkit` device, with the ACME
/// components its CoRIM endorses.
fn evcli_psa_claims(device_dir: &str) -> serde_json::Value {
    use base64::Engine as _;
    let b64 = |hex_text: &str| {
        base64::engine::general_purpose::STANDARD.encode(hex::decode(hex_text).unwrap())
    };
    let device: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{device_dir}/device.json")).unwrap())
            .unwrap();
    let components: Vec<serde_json::Value> = vouch_testkit::psa::SwComponent::acme_components()
        .iter()
        .map(|c| {
            serde_json::json!({
                "measurement-type": c.measurement_type,
                "measurement-value": base64::engine::general_purpose::STANDARD
                    .encode(c.measurement_value.as_ref().unwrap()),
                "version": c.version,
                "signer-id": base64::engine::general_purpose::STANDARD
                    .encode(c.signer_id.as_ref().unwrap()),
            })
        })
        .collect();
    serde_json::json!({
        "eat-profile": "http://arm.com/psa/2.0.0",
        "psa-client-id": 1,
        "psa-security-lifecycle": 12288,
        "psa-implementation-id": b64(device["implementation-id"].as_str().unwrap()),
        "psa-instance-id": b64(device["instance-id"].as_str().unwrap()),
        "psa-boot-seed": "3q2+796tvu/erb7v3q2+796tvu/erb7v3q2+796tvu8=",
        "psa-software-components": components,
        "psa-verification-service-indicator": "https://psa-verifier.org",
        "psa-nonce": "QUp8F0FBs9DpodKK8xUg8NQimf6sQAfe2J1ormzZLxk="
    })
}

#[tokio::test]
async fn evidence_minted_from_evcli_claims_verifies_and_binds_its_keys() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().unwrap();
    let dir = device_dir(work.path(), "device").await;
    let output = submit_at(
        &app.provisioning,
        PSA_CORIM,
        &[&format!("{dir}/corim.cbor")],
    )
    .await;
    assert!(output.status.success(), "{:?}", text(&output));

    // The device's key as a PEM file, its claims as evcli takes them.
    let device: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{dir}/device.json")).unwrap()).unwrap();
    let key = work.path().join("iak.pem");
    std::fs::write(&key, device["private-key"].as_str().unwrap()).unwrap();
    let claims = work.path().join("claims.json");
    std::fs::write(&claims, evcli_psa_claims(&dir).to_string()).unwrap();
    let nonce = "bWludGVkLWZyb20tZXZjbGktY2xhaW1zLWpzb24tMzI";
    let token = work.path().join("token.cbor");
    let (key, claims_s, token_s) = (
        key.to_str().unwrap(),
        claims.to_str().unwrap(),
        token.to_str().unwrap(),
    );
    // Signed by the device's key: affirming. The same claims signed by
    // another key: verified, not affirming (exit 3).
    let other = vouch_crypto::SigningKey::generate(vouch_crypto::Curve::P256).unwrap();
    let other_key = work.path().join("other.pem");
    std::fs::write(&other_key, other.to_pkcs8_pem()).unwrap();
    for (signer, exit) in [(key, 0), (other_key.to_str().unwrap(), 3)] {
        let output = vouch(&[
            "evidence", "mint", "psa", "--claims", claims_s, "--key", signer, "--nonce", nonce,
            "--out", token_s,
        ])
        .await;
        assert!(output.status.success(), "{:?}", text(&output));
        let output = verify_at(
            &app.verification,
            &[
                "--evidence",
                token_s,
                "--media-type",
                "application/psa-attestation-token",
                "--nonce",
                nonce,
            ],
        )
        .await;
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(exit), "{stdout}\n{stderr}");
        if exit == 0 {
            assert!(stdout.contains("verdict: affirming"), "{stdout}");
        }
    }

    // CCA: claims JSON and two fresh keys; the token verifies with the
    // CPAK given, binds the RAK given and carries the nonce.
    let cpak = vouch_crypto::SigningKey::generate(vouch_crypto::Curve::P256).unwrap();
    let rak = vouch_crypto::SigningKey::generate(vouch_crypto::Curve::P384).unwrap();
    let platform = vouch_cca_token::mint::sample_platform_claims();
    let realm = vouch_cca_token::mint::sample_realm_claims(&rak.verifying_key());
    let cca_claims = serde_json::json!({
        "cca-platform-token": platform.annotated_evidence(),
        "cca-realm-delegated-token": realm.annotated_evidence(),
    });
    let files = [
        ("cca.json", cca_claims.to_string()),
        ("cpak.pem", cpak.to_pkcs8_pem()),
        ("rak.pem", rak.to_pkcs8_pem()),
    ];
    for (name, content) in &files {
        std::fs::write(work.path().join(name), content).unwrap();
    }
    let path = |name: &str| work.path().join(name).to_str().unwrap().to_owned();
    let cca_nonce = [9u8; 64];
    let cca_nonce_b64 =
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, cca_nonce);
    let output = vouch(&[
        "evidence",
        "mint",
        "cca",
        "--claims",
        &path("cca.json"),
        "--iak",
        &path("cpak.pem"),
        "--rak",
        &path("rak.pem"),
        "--nonce",
        &cca_nonce_b64,
        "--out",
        &path("cca.cbor"),
    ])
    .await;
    assert!(output.status.success(), "{:?}", text(&output));
    let minted =
        vouch_cca_token::CcaToken::decode(&std::fs::read(path("cca.cbor")).unwrap()).unwrap();
    minted.verify(&cpak.verifying_key()).unwrap();
    assert_eq!(minted.realm_challenge(), &cca_nonce);
    assert!(minted.verify(&other.verifying_key()).is_err());

    // Bad claims and bad keys are clear errors.
    std::fs::write(work.path().join("bad.json"), r#"{"psa-client-id": "one"}"#).unwrap();
    let output = vouch(&[
        "evidence",
        "mint",
        "psa",
        "--claims",
        &path("bad.json"),
        "--key",
        key,
        "--out",
        token_s,
    ])
    .await;
    exits_1_saying(&output, "psa-client-id must be an integer");
    let output = vouch(&[
        "evidence", "mint", "psa", "--claims", claims_s, "--key", claims_s, "--out", token_s,
    ])
    .await;
    exits_1_saying(&output, "private key");
    app.stop().await;
}

#[tokio::test]
async fn corim_build_takes_templates_cbor_comids_and_folders_and_refuses_bad_ones() {
    let work = tempfile::tempdir().unwrap();
    let dir = device_dir(work.path(), "device").await;
    let path = |name: &str| work.path().join(name).to_str().unwrap().to_owned();
    let original =
        vouch_corim::decode(&std::fs::read(format!("{dir}/corim.cbor")).unwrap()).unwrap();

    // The demo CoRIM as cocli's files: a CoRIM template, and its CoMIDs in
    // a folder, the first as a template and the others as CBOR.
    let output = vouch(&["corim", "inspect", "--json", &format!("{dir}/corim.cbor")]).await;
    assert!(output.status.success(), "{:?}", text(&output));
    let mut doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["signed"], serde_json::Value::Null);
    let mut template = doc["corim"].take();
    let comids = template.as_object_mut().unwrap().remove("comids").unwrap();
    std::fs::write(path("corim.json"), template.to_string()).unwrap();
    std::fs::create_dir(path("comids")).unwrap();
    let comids = comids.as_array().unwrap();
    assert!(comids.len() >= 2, "{comids:?}");
    for (i, comid) in comids.iter().enumerate() {
        if i == 0 {
            std::fs::write(path(&format!("comids/{i}.json")), comid.to_string()).unwrap();
        } else {
            let comid = vouch_corim_json::comid_from_json(comid.to_string().as_bytes()).unwrap();
            std::fs::write(path(&format!("comids/{i}.cbor")), comid.encode()).unwrap();
        }
    }
    let output = vouch(&[
        "corim",
        "build",
        "-t",
        &path("corim.json"),
        "-m",
        &path("comids"),
        "-o",
        &path("out.cbor"),
    ])
    .await;
    let (stdout, _) = text(&output);
    assert!(output.status.success(), "{:?}", text(&output));
    assert!(
        stdout.starts_with(&format!("wrote {}: ", path("out.cbor"))),
        "{stdout}"
    );
    let built = vouch_corim::decode(&std::fs::read(path("out.cbor")).unwrap()).unwrap();
    assert_eq!(built, original);

    // Bad templates: the error names the file and the JSON path.
    std::fs::write(
        path("no-id.json"),
        r#"{"profile": {"type": "uri", "value": "x:y"}}"#,
    )
    .unwrap();
    let output = vouch(&[
        "corim",
        "build",
        "-t",
        &path("no-id.json"),
        "-m",
        &path("comids"),
    ])
    .await;
    exits_1_saying(&output, "missing mandatory `corim-id`");
    exits_1_saying(&output, "no-id.json");
    let mut bad = comids[0].clone();
    bad["triples"]["reference-values"][0]["measurements"][0]["value"]["digests"][0] =
        serde_json::json!([1, "AAAA"]);
    std::fs::write(path("bad-comid.json"), bad.to_string()).unwrap();
    let output = vouch(&[
        "corim",
        "build",
        "-t",
        &path("corim.json"),
        "-m",
        &path("bad-comid.json"),
        "-o",
        &path("bad.cbor"),
    ])
    .await;
    exits_1_saying(
        &output,
        "triples.reference-values[0].measurements[0].value.digests[0]: a sha-256 digest is 32 \
         bytes, this is 3",
    );
    assert!(!work.path().join("bad.cbor").exists());
    std::fs::write(path("junk.cbor"), b"\xff\x00").unwrap();
    let output = vouch(&[
        "corim",
        "build",
        "-t",
        &path("corim.json"),
        "-m",
        &path("junk.cbor"),
    ])
    .await;
    exits_1_saying(&output, "is neither a CoMID template nor a CBOR CoMID");
    let output = vouch(&["corim", "inspect", &path("junk.cbor")]).await;
    exits_1_saying(&output, "is not a CoRIM");
}

#[tokio::test]
async fn corim_sign_writes_corim_meta_and_inspect_checks_the_signature() {
    let work = tempfile::tempdir().unwrap();
    let dir = device_dir(work.path(), "device").await;
    let path = |name: &str| work.path().join(name).to_str().unwrap().to_owned();
    let corim = format!("{dir}/corim.cbor");
    let signer = vouch_crypto::SigningKey::generate(vouch_crypto::Curve::P256).unwrap();
    std::fs::write(path("signer.jwk"), signer.to_jwk().to_string()).unwrap();
    std::fs::write(path("signer.pub.pem"), signer.verifying_key().to_pem()).unwrap();
    let other = vouch_crypto::SigningKey::generate(vouch_crypto::Curve::P256).unwrap();
    std::fs::write(path("other.pub.pem"), other.verifying_key().to_pem()).unwrap();
    // cocli's meta template, with the signer's URI and a validity.
    std::fs::write(
        path("meta.json"),
        r#"{"signer": {"name": "ACME Ltd.", "uri": "https://acme.example"},
            "validity": {"not-before": "2026-01-01T00:00:00Z", "not-after": "2031-01-01T00:00:00Z"}}"#,
    )
    .unwrap();
    let output = vouch(&[
        "corim",
        "sign",
        "--key",
        &path("signer.jwk"),
        "--meta",
        &path("meta.json"),
        "--kid",
        "acme-1",
        "-o",
        &path("signed.cbor"),
        &corim,
    ])
    .await;
    assert!(output.status.success(), "{:?}", text(&output));

    let output = vouch(&[
        "corim",
        "inspect",
        "--json",
        "--key",
        &path("signer.pub.pem"),
        &path("signed.cbor"),
    ])
    .await;
    assert!(output.status.success(), "{:?}", text(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let signed = &doc["signed"];
    assert_eq!(signed["signature"], "valid");
    assert_eq!(signed["algorithm"], "ES256");
    assert_eq!(signed["signer-name"], "ACME Ltd.");
    assert_eq!(signed["signer-uri"], "https://acme.example");
    assert_eq!(signed["not-before"], "2026-01-01T00:00:00Z");
    assert_eq!(signed["not-after"], "2031-01-01T00:00:00Z");
    assert_eq!(signed["key-id"], hex::encode("acme-1"));
    let payload =
        vouch_corim::signed::SignedCorim::decode(&std::fs::read(path("signed.cbor")).unwrap())
            .unwrap()
            .payload()
            .to_vec();
    assert_eq!(payload, std::fs::read(&corim).unwrap());

    let output = vouch(&["corim", "inspect", &path("signed.cbor")]).await;
    let (stdout, _) = text(&output);
    assert!(
        stdout.contains("signature: not checked (give --key)"),
        "{stdout}"
    );
    let output = vouch(&[
        "corim",
        "inspect",
        "--key",
        &path("other.pub.pem"),
        &path("signed.cbor"),
    ])
    .await;
    exits_1_saying(&output, "the signature does not verify with --key");
    let output = vouch(&["corim", "inspect", "--key", &path("other.pub.pem"), &corim]).await;
    exits_1_saying(&output, "is not a signed CoRIM");

    // Refused: no signer, a bad time, something that is not a CoRIM.
    let (key, x, signed) = (path("signer.jwk"), path("x"), path("signed.cbor"));
    for (extra, file, reason) in [
        (&[][..], &corim, "name the signer"),
        (
            &["--signer-name", "A", "--not-after", "tomorrow"][..],
            &corim,
            "\"tomorrow\" is not an RFC 3339 time",
        ),
        (
            &["--signer-name", "A"][..],
            &signed,
            "is not an unsigned CoRIM",
        ),
    ] {
        let args = [
            &["corim", "sign", "--key", &key, "-o", &x][..],
            extra,
            &[file],
        ]
        .concat();
        exits_1_saying(&vouch(&args).await, reason);
    }
    assert!(!work.path().join("x").exists());
}
