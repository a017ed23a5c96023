//! The TLS listener end to end: real sockets, certificates minted by the
//! test kit, rustls clients.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use vouch_testkit::tls::{KeyKind, TestCa, Usage, write_file};
use vouch_tls::rustls::ClientConfig;
use vouch_tls::{
    ALPN_HTTP, AcceptOptions, ServerTls, ServerTlsFiles, TlsError, TlsListener, client_config,
};

fn router() -> Router {
    Router::new().route("/", get(|| async { "hello" }))
}

/// A CA, and a server certificate from it written to `dir`.
struct Files {
    ca: TestCa,
    ca_file: std::path::PathBuf,
    files: ServerTlsFiles,
}

fn files(dir: &Path) -> Files {
    let ca = TestCa::new("test CA").unwrap();
    let ca_file = dir.join("ca.crt");
    write_file(&ca_file, &ca.cert_pem()).unwrap();
    let server = ca
        .issue(&["localhost", "127.0.0.1"], Usage::Server)
        .unwrap();
    let (cert, key) = server.write(dir, "server").unwrap();
    Files {
        ca,
        ca_file,
        files: ServerTlsFiles {
            cert,
            key,
            client_ca: None,
        },
    }
}

/// Serves `router()` with `tls`; returns the address and the stop token.
async fn start(tls: Arc<ServerTls>) -> (SocketAddr, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(vouch_tls::serve(
        listener,
        router(),
        Some(tls),
        token,
        Duration::from_secs(5),
    ));
    (addr, stop)
}

type Tls = vouch_tls::tokio_rustls::client::TlsStream<TcpStream>;

async fn handshake(addr: SocketAddr, config: Arc<ClientConfig>) -> Result<Tls, TlsError> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    vouch_tls::connect(tcp, "localhost", config).await
}

/// The DER of the certificate the server presented.
fn served_cert(stream: &Tls) -> Vec<u8> {
    stream.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

/// `GET /` over an open connection (HTTP/1.1, kept alive); the body.
async fn get_over(stream: &mut Tls) -> std::io::Result<String> {
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await?;
    let mut buf = vec![0u8; 4096];
    let mut seen = Vec::new();
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).to_string();
        if text.ends_with("hello") {
            return Ok(text);
        }
    }
}

fn http1(ca: &Path) -> Arc<ClientConfig> {
    client_config(ca, None, &[b"http/1.1"]).unwrap()
}

#[tokio::test]
async fn serves_http1_and_http2_over_tls_chosen_by_alpn() {
    let dir = tempfile::tempdir().unwrap();
    let f = files(dir.path());
    let tls = ServerTls::load(f.files.clone(), ALPN_HTTP).unwrap();
    let (addr, stop) = start(tls).await;

    // ALPN as each client offers it.
    let h2 = handshake(addr, client_config(&f.ca_file, None, ALPN_HTTP).unwrap())
        .await
        .unwrap();
    assert_eq!(h2.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let mut h1 = handshake(addr, http1(&f.ca_file)).await.unwrap();
    assert_eq!(h1.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let answer = get_over(&mut h1).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A real HTTP client, over both versions.
    let root = reqwest::Certificate::from_pem(f.ca.cert_pem().as_bytes()).unwrap();
    for (client, version) in [
        (
            reqwest::Client::builder()
                .tls_certs_only([root.clone()])
                .http2_prior_knowledge()
                .build()
                .unwrap(),
            reqwest::Version::HTTP_2,
        ),
        (
            reqwest::Client::builder()
                .tls_certs_only([root.clone()])
                .http1_only()
                .build()
                .unwrap(),
            reqwest::Version::HTTP_11,
        ),
    ] {
        let response = client
            .get(format!("https://127.0.0.1:{}/", addr.port()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.version(), version);
        assert_eq!(response.text().await.unwrap(), "hello");
    }

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut buf)).await;
    assert!(
        !buf.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&buf)
    );

    stop.cancel();
}

#[tokio::test]
async fn a_reload_switches_the_certificate_for_new_connections_only() {
    let dir = tempfile::tempdir().unwrap();
    let f = files(dir.path());
    let tls = ServerTls::load(f.files.clone(), ALPN_HTTP).unwrap();
    let first_print = tls.leaf_fingerprint();
    let (addr, stop) = start(tls.clone()).await;
    let mut before = handshake(addr, http1(&f.ca_file)).await.unwrap();
    let first = served_cert(&before);

    // A new certificate (and key) replaces the files; reload.
    let next = f.ca.issue(&["localhost"], Usage::Server).unwrap();
    write_file(&f.files.cert, &next.chain_pem()).unwrap();
    write_file(&f.files.key, &next.key_pem()).unwrap();
    tls.reload().unwrap();
    assert_ne!(tls.leaf_fingerprint(), first_print);

    let mut after = handshake(addr, http1(&f.ca_file)).await.unwrap();
    assert_eq!(served_cert(&after), next.cert_der);
    assert_ne!(first, next.cert_der);
    assert!(get_over(&mut after).await.unwrap().contains("200 OK"));
    // The connection made before the reload carries on.
    assert!(get_over(&mut before).await.unwrap().contains("200 OK"));
    assert_eq!(served_cert(&before), first);
    stop.cancel();
}

#[tokio::test]
async fn a_failed_reload_keeps_the_certificate_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let f = files(dir.path());
    let tls = ServerTls::load(f.files.clone(), ALPN_HTTP).unwrap();
    let (addr, stop) = start(tls.clone()).await;
    let serving = served_cert(&handshake(addr, http1(&f.ca_file)).await.unwrap());
    let fingerprint = tls.leaf_fingerprint();

    // Half a rotation: the new certificate is there, its key is not.
    let next = f.ca.issue(&["localhost"], Usage::Server).unwrap();
    write_file(&f.files.cert, &next.chain_pem()).unwrap();
    let err = tls.reload().unwrap_err();
    assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
    assert!(err.to_string().contains("does not belong"), "{err}");
    // A truncated file, and a missing one.
    write_file(&f.files.key, "-----BEGIN PRIVATE KEY-----\nAAAA\n").unwrap();
    assert!(tls.reload().is_err());
    std::fs::remove_file(&f.files.key).unwrap();
    let err = tls.reload().unwrap_err();
    assert!(matches!(err, TlsError::Read { .. }), "{err}");
    assert_eq!(vouch_tls::reload_all(std::slice::from_ref(&tls)), 1);

    assert_eq!(tls.leaf_fingerprint(), fingerprint);
    let mut still = handshake(addr, http1(&f.ca_file)).await.unwrap();
    assert_eq!(served_cert(&still), serving);
    assert!(get_over(&mut still).await.unwrap().contains("200 OK"));

    // Once the key is there too, the reload goes through.
    write_file(&f.files.key, &next.key_pem()).unwrap();
    assert_eq!(vouch_tls::reload_all(std::slice::from_ref(&tls)), 0);
    let rotated = handshake(addr, http1(&f.ca_file)).await.unwrap();
    assert_eq!(served_cert(&rotated), next.cert_der);
    stop.cancel();
}

#[tokio::test]
async fn clients_stalled_in_the_handshake_block_no_one_and_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let f = files(dir.path());
    let tls = ServerTls::load(f.files.clone(), ALPN_HTTP).unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let listener = TlsListener::new(
        tcp,
        tls,
        AcceptOptions {
            handshake_timeout: Duration::from_millis(800),
            max_handshakes: 64,
        },
    );
    tokio::spawn(async move { axum::serve(listener, router()).await });

    // Clients that connect and say nothing, or half a ClientHello.
    let mut stalled = Vec::new();
    for i in 0..20 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        if i % 2 == 0 {
            stream
                .write_all(&[0x16, 0x03, 0x01, 0x01, 0x00, 0x01])
                .await
                .unwrap();
        }
        stalled.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;

    // A well-behaved client is served at once.
    let started = Instant::now();
    let mut good = handshake(addr, http1(&f.ca_file)).await.unwrap();
    assert!(get_over(&mut good).await.unwrap().contains("200 OK"));
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "served after {:?}",
        started.elapsed()
    );

    // The stalled ones are closed after the handshake timeout.
    for mut stream in stalled {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf))
            .await
            .expect("a stalled client is dropped after the handshake timeout");
        // Closed: end of stream, a reset, or (after half a ClientHello)
        // at most an alert before the end.
        if let Ok(n) = read {
            assert!(n == 0 || buf[0] == 0x15, "{:?}", &buf[..n]);
        }
    }
}

#[tokio::test]
async fn mutual_tls_wants_a_client_certificate_from_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let f = files(dir.path());
    let tls = ServerTls::load(
        ServerTlsFiles {
            client_ca: Some(f.ca_file.clone()),
            ..f.files.clone()
        },
        ALPN_HTTP,
    )
    .unwrap();
    let (addr, stop) = start(tls).await;

    let good = f.ca.issue(&["front-end"], Usage::Client).unwrap();
    let (good_cert, good_key) = good.write(dir.path(), "good").unwrap();
    let other_ca = TestCa::new("another CA").unwrap();
    let stranger = other_ca.issue(&["front-end"], Usage::Client).unwrap();
    let (bad_cert, bad_key) = stranger.write(dir.path(), "stranger").unwrap();
    let server_only = f.ca.issue(&["front-end"], Usage::Server).unwrap();
    let (so_cert, so_key) = server_only.write(dir.path(), "server-only").unwrap();

    let mut accepted = handshake(
        addr,
        client_config(&f.ca_file, Some((&good_cert, &good_key)), &[b"http/1.1"]).unwrap(),
    )
    .await
    .unwrap();
    assert!(get_over(&mut accepted).await.unwrap().contains("200 OK"));

    // In TLS 1.3 the client learns of the refusal on its first read.
    for (what, config) in [
        ("no client certificate", http1(&f.ca_file)),
        (
            "a certificate from another CA",
            client_config(&f.ca_file, Some((&bad_cert, &bad_key)), &[b"http/1.1"]).unwrap(),
        ),
        (
            "a certificate not for client authentication",
            client_config(&f.ca_file, Some((&so_cert, &so_key)), &[b"http/1.1"]).unwrap(),
        ),
    ] {
        let refused = match handshake(addr, config).await {
            Err(_) => true,
            Ok(mut stream) => get_over(&mut stream).await.is_err(),
        };
        assert!(refused, "{what} was accepted");
    }
    stop.cancel();
}

#[tokio::test]
async fn keys_load_as_pkcs8_sec1_and_pkcs1_and_bad_pairs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = files(dir.path());
    let ec = f.ca.issue(&["localhost"], Usage::Server).unwrap();
    let rsa =
        f.ca.issue_with(&["localhost"], Usage::Server, KeyKind::Rsa2048)
            .unwrap();
    for (name, cert, key_pem) in [
        ("ec-pkcs8", &ec, ec.key_pem()),
        ("ec-sec1", &ec, ec.key_pem_traditional().unwrap()),
        ("rsa-pkcs8", &rsa, rsa.key_pem()),
        ("rsa-pkcs1", &rsa, rsa.key_pem_traditional().unwrap()),
    ] {
        let (cert_file, key_file) = cert.write(dir.path(), name).unwrap();
        write_file(&key_file, &key_pem).unwrap();
        let tls = ServerTls::load(
            ServerTlsFiles {
                cert: cert_file,
                key: key_file,
                client_ca: None,
            },
            ALPN_HTTP,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (addr, stop) = start(tls).await;
        let stream = handshake(addr, http1(&f.ca_file)).await.unwrap();
        assert_eq!(served_cert(&stream), cert.cert_der, "{name}");
        stop.cancel();
    }

    // The key of another certificate.
    let err = ServerTls::load(
        ServerTlsFiles {
            cert: dir.path().join("ec-pkcs8.crt"),
            key: dir.path().join("rsa-pkcs8.key"),
            client_ca: None,
        },
        ALPN_HTTP,
    )
    .unwrap_err();
    assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
    // A key where the certificate should be, and the reverse.
    let err = ServerTls::load(
        ServerTlsFiles {
            cert: dir.path().join("ec-pkcs8.key"),
            key: dir.path().join("ec-pkcs8.crt"),
            client_ca: None,
        },
        ALPN_HTTP,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no PEM CERTIFICATE"), "{err}");
    let err = vouch_tls::load_key(&dir.path().join("ec-pkcs8.crt")).unwrap_err();
    assert!(err.to_string().contains("no PEM private key"), "{err}");
    // A CA file that is not one.
    let err = ServerTls::load(
        ServerTlsFiles {
            client_ca: Some(dir.path().join("ec-pkcs8.key")),
            ..f.files.clone()
        },
        ALPN_HTTP,
    )
    .unwrap_err();
    assert!(err.to_string().contains("ec-pkcs8.key"), "{err}");
}

#[tokio::test]
async fn shutdown_closes_the_listener_and_serve_returns() {
    let dir = tempfile::tempdir().unwrap();
    let f = files(dir.path());
    let tls = ServerTls::load(f.files.clone(), ALPN_HTTP).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let server = tokio::spawn(vouch_tls::serve(
        listener,
        router(),
        Some(tls),
        stop.clone(),
        Duration::from_secs(2),
    ));
    let mut open = handshake(addr, http1(&f.ca_file)).await.unwrap();
    assert!(get_over(&mut open).await.unwrap().contains("200 OK"));
    drop(open);

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve returns after shutdown")
        .unwrap()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "the listener stays open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
