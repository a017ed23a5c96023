//! The shared RIOT vectors (MANIFEST.md §9.4, §9.5, §9.6 RIOT-01..03,
//! §9.8d), read at run time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use minicbor::Decoder;
use minicbor::data::{Tag, Type};
use vouch_testkit::vectors;
use vouch_x509::{
    Certificate, TrustStore, Usage, X509Error, oid, parse_pem_chain, parse_riot_subject_alt_name,
    riot_composite_device_id, validate_chain,
};

const FWID: &str = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d";
const DEVICE_ID: &str = "049f3466258b7106237feb648ddfd556b8b938c3076a618940975f20989d61f3799d0482f46c8c4a94ba5e003dda668f58c290ca6f63dae5cd5a5a54cc0c072fae";

/// 2025-06-01T00:00:00Z: inside every RIOT certificate's 2020–2030 window.
const IN_WINDOW: i64 = 1_748_736_000;
/// 2020-10-21 09:01:05Z and 2030-10-19 09:01:05Z: the alias certificate's
/// bounds (§9.8d).
const ALIAS_NOT_BEFORE: i64 = 1_603_270_865;
const ALIAS_NOT_AFTER: i64 = 1_918_630_865;

fn text(dir: &Path, rel: &str) -> String {
    String::from_utf8(vectors::read(dir, rel)).expect("UTF-8")
}

fn chain(dir: &Path, rel: &str) -> Vec<Certificate> {
    parse_pem_chain(&text(dir, rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn legacy_anchors(dir: &Path) -> TrustStore {
    TrustStore::from_certs(chain(dir, "riot/trust-anchors/TrustAnchor.pem"))
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// First 16 hex digits of SHA-256(SPKI DER): the MANIFEST's key labels.
fn fp(cert: &Certificate) -> String {
    let spki = cert.public_key_spki_der().unwrap();
    hex::encode(&vouch_crypto::Hash::Sha256.digest(&spki)[..8])
}

fn dir() -> Option<PathBuf> {
    vectors::dir()
}

#[test]
fn riot01_evidence_and_anchor_parse_as_the_manifest_lists() {
    let Some(dir) = dir() else { return };
    let evidence = chain(&dir, "riot/evidence/evidence.pem");
    let summary: Vec<(String, String, String)> = evidence
        .iter()
        .map(|c| (c.subject(), c.issuer(), fp(c)))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "C=US,O=MSR_TEST,CN=[S]DevID:D613EB15879D904E".to_owned(),
                "C=US,O=MSR_TEST,CN=[I]DevID:D613EB15879D904E".to_owned(),
                "84b2af963105e4cd".to_owned()
            ),
            (
                "C=US,O=MSR_TEST,CN=[I]DevID:D613EB15879D904E".to_owned(),
                "C=US,O=MSR_TEST,CN=Vendor Intermediate CA 0".to_owned(),
                "d613eb15879d904e".to_owned()
            ),
            (
                "C=US,O=MSR_TEST,CN=Vendor Intermediate CA 0".to_owned(),
                "C=US,O=MSR_TEST,CN=Vendor Intermediate CA 1".to_owned(),
                "65d30b4b462482f4".to_owned()
            ),
        ]
    );
    let alias = &evidence[0];
    assert_eq!(alias.serial_hex(), "60ef37944119c67d");
    assert_eq!(alias.not_before_unix(), ALIAS_NOT_BEFORE);
    assert_eq!(alias.not_after_unix(), ALIAS_NOT_AFTER);
    assert!(!alias.is_ca());
    assert_eq!(alias.extended_key_usage(), Some(&[oid::KP_CLIENT_AUTH][..]));
    let critical: Vec<String> = alias.critical_extensions().map(|o| o.to_string()).collect();
    assert!(critical.contains(&"2.5.29.17".to_owned()), "{critical:?}");
    assert_eq!(evidence[1].path_len_constraint(), Some(1));

    let anchors = chain(&dir, "riot/trust-anchors/TrustAnchor.pem");
    let fps: Vec<String> = anchors.iter().map(fp).collect();
    assert_eq!(
        fps,
        ["78a515fbefccb7a4", "9da5afb9c0507c42", "b0c1c69aeea16de8"]
    );
    let store = TrustStore::from_certs(anchors.clone());
    assert_eq!(store.roots(), &anchors[2..]);
    assert_eq!(store.intermediates(), &anchors[..2]);
    // PEM round trip keeps the DER.
    for cert in &anchors {
        assert_eq!(&parse_pem_chain(&cert.to_pem()).unwrap()[0], cert);
    }
}

#[test]
fn riot01_chain_validates_now_and_inside_its_window() {
    let Some(dir) = dir() else { return };
    let evidence = chain(&dir, "riot/evidence/evidence.pem");
    let anchors = legacy_anchors(&dir);
    // The CA certificates start a second after the alias certificate.
    for at in [now(), IN_WINDOW, ALIAS_NOT_BEFORE + 1, ALIAS_NOT_AFTER] {
        let validated = validate_chain(&evidence, &anchors, at, Usage::riot_alias())
            .unwrap_or_else(|e| panic!("at {at}: failed to verify alias cert: {e}"));
        let path: Vec<String> = validated
            .certificates()
            .iter()
            .map(|c| c.subject())
            .collect();
        assert_eq!(
            path,
            [
                "C=US,O=MSR_TEST,CN=[S]DevID:D613EB15879D904E",
                "C=US,O=MSR_TEST,CN=[I]DevID:D613EB15879D904E",
                "C=US,O=MSR_TEST,CN=Vendor Intermediate CA 0",
                "C=US,O=MSR_TEST,CN=Vendor Intermediate CA 1",
                "C=US,O=MSR_TEST,CN=Vendor Intermediate CA 2",
                "C=US,CN=Vendor Root CA O=MSR_TEST",
            ]
        );
        assert_eq!(validated.leaf(), &evidence[0]);
        assert_eq!(validated.root(), &anchors.roots()[0]);
    }
    // Certificates in the evidence may come in any order after the leaf.
    let shuffled = [
        evidence[0].clone(),
        evidence[2].clone(),
        evidence[1].clone(),
    ];
    validate_chain(&shuffled, &anchors, IN_WINDOW, Usage::riot_alias()).unwrap();
}

#[test]
fn riot01_chain_outside_its_window_is_expired_or_not_yet_valid() {
    let Some(dir) = dir() else { return };
    let evidence = chain(&dir, "riot/evidence/evidence.pem");
    let anchors = legacy_anchors(&dir);
    let after = validate_chain(
        &evidence,
        &anchors,
        ALIAS_NOT_AFTER + 1,
        Usage::riot_alias(),
    )
    .unwrap_err();
    assert_eq!(
        after.to_string(),
        "x509: certificate has expired or is not yet valid: current time 2030-10-19T09:01:06Z is after 2030-10-19T09:01:05Z"
    );
    let before = validate_chain(
        &evidence,
        &anchors,
        ALIAS_NOT_BEFORE - 1,
        Usage::riot_alias(),
    )
    .unwrap_err();
    assert!(
        before
            .to_string()
            .ends_with("current time 2020-10-21T09:01:04Z is before 2020-10-21T09:01:05Z"),
        "{before}"
    );
}

#[test]
fn riot01_alias_needs_its_san_allowed_and_client_auth() {
    let Some(dir) = dir() else { return };
    let evidence = chain(&dir, "riot/evidence/evidence.pem");
    let anchors = legacy_anchors(&dir);
    // Like Go before the SAN is removed from UnhandledCriticalExtensions.
    let e = validate_chain(&evidence, &anchors, IN_WINDOW, Usage::client_auth()).unwrap_err();
    assert!(
        matches!(&e, X509Error::UnhandledCriticalExtension { oid, .. } if oid == "2.5.29.17"),
        "{e}"
    );
    let code_signing = Usage::any()
        .allow_critical_extension(oid::SUBJECT_ALT_NAME)
        .require_extended_key_usage(oid::KP_CODE_SIGNING);
    assert_eq!(
        validate_chain(&evidence, &anchors, IN_WINDOW, code_signing).unwrap_err(),
        X509Error::IncompatibleUsage
    );
    let any = Usage::any().allow_critical_extension(oid::SUBJECT_ALT_NAME);
    validate_chain(&evidence, &anchors, IN_WINDOW, any).unwrap();
}

#[test]
fn riot01_composite_device_id_claims() {
    let Some(dir) = dir() else { return };
    let evidence = chain(&dir, "riot/evidence/evidence.pem");
    let claims = riot_composite_device_id(&evidence[0]).unwrap();
    assert_eq!(hex::encode(claims.fwid()), FWID);
    assert_eq!(hex::encode(claims.device_id()), DEVICE_ID);
    assert_eq!(claims.fwid_alg(), &oid::SHA256);
    // The DeviceID in the alias certificate is the DeviceID certificate's
    // key (fingerprint d613eb15879d904e).
    assert_eq!(
        claims.device_id_key().unwrap(),
        evidence[1].ec_public_key().unwrap()
    );
    assert_eq!(
        claims.device_id_spki_der(),
        evidence[1].public_key_spki_der().unwrap()
    );

    // veraison/dice's riot-ext.der is the same extension value.
    let ext = vectors::read(&dir, "riot/dice/riot-ext.der");
    assert_eq!(
        evidence[0].extension(&oid::SUBJECT_ALT_NAME),
        Some((true, ext.as_slice()))
    );
    assert_eq!(parse_riot_subject_alt_name(&ext).unwrap(), claims);

    // The intermediate certificates carry no CompositeDeviceID.
    assert!(matches!(
        riot_composite_device_id(&evidence[1]),
        Err(X509Error::Riot(_))
    ));
}

#[test]
fn riot02_chain_without_ca0_is_signed_by_unknown_authority() {
    let Some(dir) = dir() else { return };
    let evidence = chain(&dir, "riot/derived/riot-evidence-no-ca0.pem");
    assert_eq!(evidence.len(), 2);
    let e =
        validate_chain(&evidence, &legacy_anchors(&dir), now(), Usage::riot_alias()).unwrap_err();
    assert_eq!(e, X509Error::UnknownAuthority { hint: None });
    assert_eq!(
        format!("failed to verify alias cert: {e}"),
        "failed to verify alias cert: x509: certificate signed by unknown authority"
    );
}

#[test]
fn riot02_alias_only_fails() {
    let Some(dir) = dir() else { return };
    let evidence = chain(&dir, "riot/derived/riot-evidence-alias-only.pem");
    // One block: the RIOT scheme refuses it before validation (`problem
    // extracting token cert PEM block`); validation alone fails too.
    assert_eq!(evidence.len(), 1);
    assert_eq!(
        validate_chain(&evidence, &legacy_anchors(&dir), now(), Usage::riot_alias()).unwrap_err(),
        X509Error::UnknownAuthority { hint: None }
    );
    // The claims are still readable: they just are not trusted.
    let claims = riot_composite_device_id(&evidence[0]).unwrap();
    assert_eq!(hex::encode(claims.fwid()), FWID);
}

#[test]
fn riot02_nothing_validates_without_the_root() {
    let Some(dir) = dir() else { return };
    let evidence = chain(&dir, "riot/evidence/evidence.pem");
    let mut only_intermediates = TrustStore::new();
    for cert in chain(&dir, "riot/trust-anchors/TrustAnchor.pem") {
        only_intermediates.add_intermediate(cert);
    }
    assert!(only_intermediates.is_empty());
    assert_eq!(
        validate_chain(&evidence, &only_intermediates, now(), Usage::riot_alias()).unwrap_err(),
        X509Error::UnknownAuthority { hint: None }
    );
}

/// Collects the text of every CBOR tag-556 (pkix-base64-cert-path) item,
/// descending into tag-506 (encoded CoMID) byte strings.
fn cert_paths(d: &mut Decoder<'_>, out: &mut Vec<String>, depth: usize) {
    assert!(depth < 64, "CoRIM nests too deep");
    match d.datatype().unwrap() {
        Type::Tag => {
            let tag = d.tag().unwrap();
            if tag == Tag::new(556) {
                out.push(d.str().unwrap().to_owned());
            } else if tag == Tag::new(506) {
                let comid = d.bytes().unwrap();
                cert_paths(&mut Decoder::new(comid), out, depth + 1);
            } else {
                cert_paths(d, out, depth + 1);
            }
        }
        Type::Array => {
            let n = d.array().unwrap().expect("definite array");
            for _ in 0..n {
                cert_paths(d, out, depth + 1);
            }
        }
        Type::Map => {
            let n = d.map().unwrap().expect("definite map");
            for _ in 0..n {
                cert_paths(d, out, depth + 1);
                cert_paths(d, out, depth + 1);
            }
        }
        _ => d.skip().unwrap(),
    }
}

#[test]
fn riot03_corim_cert_path_is_the_trust_anchor_and_validates_the_evidence() {
    let Some(dir) = dir() else { return };
    let corim = vectors::read(&dir, "riot/corim/current/corim-riot-valid.cbor");
    let mut paths = Vec::new();
    cert_paths(&mut Decoder::new(&corim), &mut paths, 0);
    assert_eq!(paths.len(), 1, "one pkix-base64-cert-path");
    let provisioned = parse_pem_chain(&paths[0]).unwrap();
    assert_eq!(
        provisioned,
        chain(&dir, "riot/trust-anchors/TrustAnchor.pem")
    );
    let anchors = TrustStore::from_certs(provisioned);
    assert_eq!(anchors.roots().len(), 1);
    let evidence = chain(&dir, "riot/evidence/evidence.pem");
    let validated = validate_chain(&evidence, &anchors, now(), Usage::riot_alias()).unwrap();
    assert_eq!(validated.certificates().len(), 6);
}
