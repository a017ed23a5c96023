//! Path validation over freshly minted chains: every check has a case that
//! passes and one that fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use vouch_crypto::{Curve, SigningKey};
use vouch_x509::mint::{
    self, CertificateBuilder, Minted, RiotDevice, SignerChain, intermediate_ca, root_ca,
};
use vouch_x509::x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use vouch_x509::{
    Certificate, MAX_CHAIN_LEN, MAX_PRESENTED_CERTS, ObjectIdentifier, TrustStore, Usage,
    X509Error, oid, parse_pem_chain, parse_riot_subject_alt_name, riot_composite_device_id,
    validate_chain,
};

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn key() -> SigningKey {
    SigningKey::generate(Curve::P256).unwrap()
}

fn leaf_builder(name: &str, key: &SigningKey) -> CertificateBuilder {
    CertificateBuilder::new(&format!("CN={name},O=Test"), &key.verifying_key(), NOW).unwrap()
}

fn leaf_under(issuer: &Minted) -> Minted {
    let k = key();
    let cert = leaf_builder("leaf", &k)
        .issued_by(&issuer.cert, &issuer.key)
        .unwrap();
    Minted { cert, key: k }
}

fn roots(certs: &[&Certificate]) -> TrustStore {
    let mut store = TrustStore::new();
    for c in certs {
        store.add_root((*c).clone());
    }
    store
}

struct Pki {
    root: Minted,
    inter: Minted,
    leaf: Minted,
}

fn pki() -> Pki {
    let root = root_ca("Root", NOW).unwrap();
    let inter = intermediate_ca("Intermediate", &root, None, NOW).unwrap();
    let leaf = leaf_under(&inter);
    Pki { root, inter, leaf }
}

fn validate(chain: &[&Certificate], store: &TrustStore, at: i64) -> Result<usize, X509Error> {
    let chain: Vec<Certificate> = chain.iter().map(|c| (*c).clone()).collect();
    validate_chain(&chain, store, at, Usage::any()).map(|v| v.certificates().len())
}

fn hint(e: &X509Error) -> &str {
    match e {
        X509Error::UnknownAuthority { hint: Some(h) } => h,
        other => panic!("expected an unknown-authority hint, got {other}"),
    }
}

#[test]
fn a_minted_chain_validates() {
    let p = pki();
    let store = roots(&[&p.root.cert]);
    let chain = [p.leaf.cert.clone(), p.inter.cert.clone()];
    let v = validate_chain(&chain, &store, NOW, Usage::any()).unwrap();
    assert_eq!(
        v.certificates(),
        &[
            p.leaf.cert.clone(),
            p.inter.cert.clone(),
            p.root.cert.clone()
        ]
    );
    assert_eq!(v.leaf(), &p.leaf.cert);
    assert_eq!(v.root(), &p.root.cert);
    // The intermediate may come from the store instead of the chain.
    let mut store2 = store.clone();
    store2.add_intermediate(p.inter.cert.clone());
    assert_eq!(validate(&[&p.leaf.cert], &store2, NOW), Ok(3));
    // A root sent along in the chain is harmless.
    assert_eq!(
        validate(&[&p.leaf.cert, &p.inter.cert, &p.root.cert], &store, NOW),
        Ok(3)
    );
}

#[test]
fn validity_is_checked_on_every_certificate() {
    let root = root_ca("Root", NOW).unwrap();
    let inter = intermediate_ca("Intermediate", &root, None, NOW).unwrap();
    let store = roots(&[&root.cert]);
    let expired = {
        let k = key();
        leaf_builder("old", &k)
            .validity(NOW - 10 * DAY, NOW - DAY)
            .issued_by(&inter.cert, &inter.key)
            .unwrap()
    };
    let e = validate(&[&expired, &inter.cert], &store, NOW).unwrap_err();
    assert!(matches!(&e, X509Error::Expired { .. }), "{e}");
    assert!(
        e.to_string().starts_with(
            "x509: certificate has expired or is not yet valid: current time 2027-01-15T08:00:00Z is after"
        ),
        "{e}"
    );
    let future = {
        let k = key();
        leaf_builder("future", &k)
            .validity(NOW + DAY, NOW + 10 * DAY)
            .issued_by(&inter.cert, &inter.key)
            .unwrap()
    };
    let e = validate(&[&future, &inter.cert], &store, NOW).unwrap_err();
    assert!(e.to_string().contains("is before"), "{e}");
    // Inside its window it validates.
    assert_eq!(
        validate(&[&future, &inter.cert], &store, NOW + 2 * DAY),
        Ok(3)
    );

    // An expired intermediate or root fails the chain too.
    let old_inter = {
        let k = key();
        let cert = CertificateBuilder::new("CN=Old CA", &k.verifying_key(), NOW)
            .unwrap()
            .ca(None)
            .validity(NOW - 10 * DAY, NOW - DAY)
            .issued_by(&root.cert, &root.key)
            .unwrap();
        Minted { cert, key: k }
    };
    let leaf = leaf_under(&old_inter);
    let e = validate(&[&leaf.cert, &old_inter.cert], &store, NOW).unwrap_err();
    assert!(
        matches!(&e, X509Error::Expired { subject, .. } if subject == "CN=Old CA"),
        "{e}"
    );
    let old_root = {
        let k = key();
        let cert = CertificateBuilder::new("CN=Old Root", &k.verifying_key(), NOW)
            .unwrap()
            .ca(None)
            .validity(NOW - 10 * DAY, NOW - DAY)
            .self_signed(&k)
            .unwrap();
        Minted { cert, key: k }
    };
    let leaf = leaf_under(&old_root);
    let e = validate(&[&leaf.cert], &roots(&[&old_root.cert]), NOW).unwrap_err();
    assert!(
        matches!(&e, X509Error::Expired { subject, .. } if subject == "CN=Old Root"),
        "{e}"
    );
}

#[test]
fn an_unrelated_root_is_an_unknown_authority() {
    let p = pki();
    let other = root_ca("Other Root", NOW).unwrap();
    let e = validate(&[&p.leaf.cert, &p.inter.cert], &roots(&[&other.cert]), NOW).unwrap_err();
    assert_eq!(e, X509Error::UnknownAuthority { hint: None });
    assert_eq!(
        e.to_string(),
        "x509: certificate signed by unknown authority"
    );
    assert_eq!(
        validate(&[&p.leaf.cert, &p.inter.cert], &TrustStore::new(), NOW).unwrap_err(),
        X509Error::UnknownAuthority { hint: None }
    );
}

#[test]
fn a_same_named_impostor_issuer_fails_its_signature_check() {
    let p = pki();
    // Same subject as the real root, different key.
    let k = key();
    let impostor = CertificateBuilder::new(&p.root.cert.subject(), &k.verifying_key(), NOW)
        .unwrap()
        .ca(None)
        .self_signed(&k)
        .unwrap();
    assert_eq!(impostor.subject(), p.root.cert.subject());
    let e = validate(&[&p.leaf.cert, &p.inter.cert], &roots(&[&impostor]), NOW).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "x509: certificate signed by unknown authority (possibly because of \"x509: ECDSA verification failure\" while trying to verify candidate authority certificate {:?})",
            p.root.cert.subject()
        )
    );
    // With both in the store, the genuine root is found.
    assert_eq!(
        validate(
            &[&p.leaf.cert, &p.inter.cert],
            &roots(&[&impostor, &p.root.cert]),
            NOW
        ),
        Ok(3)
    );
}

#[test]
fn a_tampered_certificate_fails() {
    let p = pki();
    let store = roots(&[&p.root.cert]);
    let der = p.leaf.cert.der().to_vec();
    // The last byte belongs to the signature's s value.
    let mut sig_flip = der.clone();
    *sig_flip.last_mut().unwrap() ^= 0x01;
    let bad_sig = Certificate::from_der(&sig_flip).unwrap();
    let e = validate(&[&bad_sig, &p.inter.cert], &store, NOW).unwrap_err();
    assert!(hint(&e).contains("ECDSA verification failure"), "{e}");

    // A change in the signed part (inside the subject name) too.
    let name_at = der
        .windows(4)
        .position(|w| w == b"leaf")
        .expect("subject CN in DER");
    let mut tbs_flip = der.clone();
    tbs_flip[name_at] = b'L';
    let bad_tbs = Certificate::from_der(&tbs_flip).unwrap();
    assert_eq!(bad_tbs.subject(), "CN=Leaf,O=Test");
    let e = validate(&[&bad_tbs, &p.inter.cert], &store, NOW).unwrap_err();
    assert!(hint(&e).contains("ECDSA verification failure"), "{e}");
}

#[test]
fn issuers_must_be_cas() {
    let root = root_ca("Root", NOW).unwrap();
    let store = roots(&[&root.cert]);
    let issuer_with = |name: &str, bc: Option<BasicConstraints>, ku: Option<KeyUsage>| {
        let k = key();
        let cert = CertificateBuilder::new(&format!("CN={name}"), &k.verifying_key(), NOW)
            .unwrap()
            .basic_constraints(bc)
            .key_usage(ku)
            .issued_by(&root.cert, &root.key)
            .unwrap();
        Minted { cert, key: k }
    };
    let cert_sign = Some(KeyUsage(KeyUsages::KeyCertSign.into()));
    let ca = Some(BasicConstraints {
        ca: true,
        path_len_constraint: None,
    });
    let not_ca = Some(BasicConstraints {
        ca: false,
        path_len_constraint: None,
    });

    for (name, bc, ku, wanted) in [
        ("No BC", None, cert_sign, "is not a CA"),
        ("BC false", not_ca, cert_sign, "is not a CA"),
        (
            "No keyCertSign",
            ca.clone(),
            Some(KeyUsage(KeyUsages::DigitalSignature.into())),
            "keyUsage without keyCertSign",
        ),
    ] {
        let issuer = issuer_with(name, bc, ku);
        let leaf = leaf_under(&issuer);
        let e = validate(&[&leaf.cert, &issuer.cert], &store, NOW).unwrap_err();
        assert!(
            matches!(&e, X509Error::NotAuthorizedToSign { detail, .. } if detail.contains(wanted)),
            "{name}: {e}"
        );
        assert!(
            e.to_string()
                .starts_with("x509: certificate is not authorized to sign other certificates"),
            "{e}"
        );
    }
    // A CA without keyUsage is fine (keyUsage is checked only when present).
    let issuer = issuer_with("CA without KU", ca, None);
    let leaf = leaf_under(&issuer);
    assert_eq!(validate(&[&leaf.cert, &issuer.cert], &store, NOW), Ok(3));

    // A trusted root must be a CA too.
    let k = key();
    let leafy_root = leaf_builder("leafy root", &k).self_signed(&k).unwrap();
    let leaf = {
        let lk = key();
        leaf_builder("leaf", &lk)
            .issued_by(&leafy_root, &k)
            .unwrap()
    };
    let e = validate(&[&leaf], &roots(&[&leafy_root]), NOW).unwrap_err();
    assert!(matches!(e, X509Error::NotAuthorizedToSign { .. }), "{e}");
}

#[test]
fn path_length_constraints_are_honoured() {
    // root(pathLen 0) → intermediate → leaf: one intermediate too many.
    let k = key();
    let root0 = CertificateBuilder::new("CN=Root0", &k.verifying_key(), NOW)
        .unwrap()
        .ca(Some(0))
        .self_signed(&k)
        .unwrap();
    let root0 = Minted {
        cert: root0,
        key: k,
    };
    let inter = intermediate_ca("Inter", &root0, None, NOW).unwrap();
    let leaf = leaf_under(&inter);
    let e = validate(&[&leaf.cert, &inter.cert], &roots(&[&root0.cert]), NOW).unwrap_err();
    assert_eq!(
        e,
        X509Error::TooManyIntermediates {
            subject: "CN=Root0".to_owned()
        }
    );
    // Directly under a pathLen-0 CA a leaf is fine.
    let direct = leaf_under(&root0);
    assert_eq!(
        validate(&[&direct.cert], &roots(&[&root0.cert]), NOW),
        Ok(2)
    );

    // root → A(pathLen 0) → B → leaf fails at A; root → A(pathLen 1) → B → leaf passes.
    let root = root_ca("Root", NOW).unwrap();
    let store = roots(&[&root.cert]);
    for (path_len, ok) in [(0u8, false), (1, true)] {
        let a = intermediate_ca("A", &root, Some(path_len), NOW).unwrap();
        let b = intermediate_ca("B", &a, None, NOW).unwrap();
        let leaf = leaf_under(&b);
        let r = validate(&[&leaf.cert, &b.cert, &a.cert], &store, NOW);
        if ok {
            assert_eq!(r, Ok(4));
        } else {
            assert!(
                matches!(r, Err(X509Error::TooManyIntermediates { .. })),
                "{r:?}"
            );
        }
    }
}

#[test]
fn unknown_critical_extensions_are_refused_unless_allowed_on_the_leaf() {
    let p = pki();
    let store = roots(&[&p.root.cert]);
    let private = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");
    let leaf_with = |critical: bool| {
        let k = key();
        leaf_builder("ext", &k)
            .extension(private, critical, &[0x05, 0x00])
            .issued_by(&p.inter.cert, &p.inter.key)
            .unwrap()
    };
    let critical_leaf = leaf_with(true);
    let chain = [critical_leaf.clone(), p.inter.cert.clone()];
    let e = validate_chain(&chain, &store, NOW, Usage::any()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "x509: unhandled critical extension 1.3.6.1.4.1.99999.1 in \"CN=ext,O=Test\""
    );
    let allowing = Usage::any().allow_critical_extension(private);
    assert_eq!(allowing.allowed_critical_extensions(), &[private]);
    validate_chain(&chain, &store, NOW, allowing.clone()).unwrap();
    // Non-critical unknown extensions are ignored.
    assert_eq!(
        validate(&[&leaf_with(false), &p.inter.cert], &store, NOW),
        Ok(3)
    );

    // The allowance covers the leaf only, not an issuer.
    let k = key();
    let inter = CertificateBuilder::new("CN=Critical CA", &k.verifying_key(), NOW)
        .unwrap()
        .ca(None)
        .extension(private, true, &[0x05, 0x00])
        .issued_by(&p.root.cert, &p.root.key)
        .unwrap();
    let inter = Minted {
        cert: inter,
        key: k,
    };
    let leaf = leaf_under(&inter);
    let e = validate_chain(
        &[leaf.cert.clone(), inter.cert.clone()],
        &store,
        NOW,
        allowing,
    )
    .unwrap_err();
    assert!(
        matches!(&e, X509Error::UnhandledCriticalExtension { subject, .. } if subject == "CN=Critical CA"),
        "{e}"
    );
}

#[test]
fn extended_key_usage_is_required_along_the_path() {
    let p = pki();
    let store = roots(&[&p.root.cert]);
    let with_eku = |issuer: &Minted, ekus: &[ObjectIdentifier]| {
        let k = key();
        leaf_builder("eku", &k)
            .extended_key_usage(ekus, false)
            .issued_by(&issuer.cert, &issuer.key)
            .unwrap()
    };
    let check = |leaf: &Certificate, inter: &Certificate, usage: Usage| {
        validate_chain(&[leaf.clone(), inter.clone()], &store, NOW, usage).map(|_| ())
    };
    let client = with_eku(&p.inter, &[oid::KP_CLIENT_AUTH]);
    let server = with_eku(&p.inter, &[oid::KP_SERVER_AUTH]);
    let any = with_eku(&p.inter, &[oid::ANY_EXTENDED_KEY_USAGE]);
    assert_eq!(check(&client, &p.inter.cert, Usage::client_auth()), Ok(()));
    assert_eq!(
        check(&server, &p.inter.cert, Usage::client_auth()),
        Err(X509Error::IncompatibleUsage)
    );
    assert_eq!(check(&any, &p.inter.cert, Usage::client_auth()), Ok(()));
    // No EKU: any purpose.
    assert_eq!(
        check(&p.leaf.cert, &p.inter.cert, Usage::client_auth()),
        Ok(())
    );
    // No requirement: any EKU passes (CoRIM signers).
    assert_eq!(check(&server, &p.inter.cert, Usage::any()), Ok(()));
    // An intermediate's EKU constrains what it issues.
    let k = key();
    let code_ca = CertificateBuilder::new("CN=Code CA", &k.verifying_key(), NOW)
        .unwrap()
        .ca(None)
        .extended_key_usage(&[oid::KP_CODE_SIGNING], false)
        .issued_by(&p.root.cert, &p.root.key)
        .unwrap();
    let code_ca = Minted {
        cert: code_ca,
        key: k,
    };
    let client_under_code = with_eku(&code_ca, &[oid::KP_CLIENT_AUTH]);
    assert_eq!(
        check(&client_under_code, &code_ca.cert, Usage::client_auth()),
        Err(X509Error::IncompatibleUsage)
    );
    assert_eq!(
        check(
            &client_under_code,
            &code_ca.cert,
            Usage::any().require_extended_key_usage(oid::KP_CODE_SIGNING)
        ),
        Err(X509Error::IncompatibleUsage)
    );
}

#[test]
fn chain_length_and_input_size_are_bounded() {
    let root = root_ca("Root", NOW).unwrap();
    let store = roots(&[&root.cert]);
    // MAX_CHAIN_LEN - 2 intermediates fit (leaf and root make up the rest).
    let mut cas = vec![root];
    for i in 0..MAX_CHAIN_LEN - 1 {
        let next = intermediate_ca(&format!("CA {i}"), cas.last().unwrap(), None, NOW).unwrap();
        cas.push(next);
    }
    let build = |depth: usize| {
        // Leaf under cas[depth]; intermediates cas[depth..=1].
        let leaf = leaf_under(&cas[depth]);
        let mut chain = vec![leaf.cert];
        chain.extend(cas[1..=depth].iter().rev().map(|m| m.cert.clone()));
        chain
    };
    let fits = build(MAX_CHAIN_LEN - 2);
    assert_eq!(
        validate_chain(&fits, &store, NOW, Usage::any())
            .unwrap()
            .certificates()
            .len(),
        MAX_CHAIN_LEN
    );
    let too_long = build(MAX_CHAIN_LEN - 1);
    assert_eq!(
        validate_chain(&too_long, &store, NOW, Usage::any()).unwrap_err(),
        X509Error::ChainTooLong { max: MAX_CHAIN_LEN }
    );

    let p = pki();
    let many = vec![p.leaf.cert.clone(); MAX_PRESENTED_CERTS + 1];
    assert_eq!(
        validate_chain(&many, &roots(&[&p.root.cert]), NOW, Usage::any()).unwrap_err(),
        X509Error::TooManyCertificates {
            count: MAX_PRESENTED_CERTS + 1,
            max: MAX_PRESENTED_CERTS
        }
    );
    assert_eq!(
        validate_chain(&[], &store, NOW, Usage::any()).unwrap_err(),
        X509Error::EmptyChain
    );
}

#[test]
fn signature_checks_are_bounded() {
    let p = pki();
    let mut store = roots(&[&p.root.cert]);
    // 150 same-named decoy intermediates, none of which signed the leaf.
    for _ in 0..150 {
        let k = key();
        let decoy = CertificateBuilder::new(&p.inter.cert.subject(), &k.verifying_key(), NOW)
            .unwrap()
            .ca(None)
            .issued_by(&p.root.cert, &p.root.key)
            .unwrap();
        store.add_intermediate(decoy);
    }
    assert_eq!(
        validate(&[&p.leaf.cert], &store, NOW).unwrap_err(),
        X509Error::SignatureCheckLimit
    );
    // The genuine intermediate, presented first, is tried first.
    assert_eq!(validate(&[&p.leaf.cert, &p.inter.cert], &store, NOW), Ok(3));
}

#[test]
fn path_building_backtracks_and_survives_loops() {
    let root = root_ca("Root", NOW).unwrap();
    let store = roots(&[&root.cert]);
    // Two certificates for the same intermediate key: an expired one first.
    let k = key();
    let expired = CertificateBuilder::new("CN=Reissued CA", &k.verifying_key(), NOW)
        .unwrap()
        .ca(None)
        .serial(1)
        .validity(NOW - 10 * DAY, NOW - DAY)
        .issued_by(&root.cert, &root.key)
        .unwrap();
    let current = CertificateBuilder::new("CN=Reissued CA", &k.verifying_key(), NOW)
        .unwrap()
        .ca(None)
        .serial(2)
        .issued_by(&root.cert, &root.key)
        .unwrap();
    let leaf = leaf_under(&Minted {
        cert: current.clone(),
        key: k.clone(),
    });
    assert_eq!(
        validate(&[&leaf.cert, &expired, &current], &store, NOW),
        Ok(3)
    );
    // With only the expired one, its expiry is reported.
    assert!(matches!(
        validate(&[&leaf.cert, &expired], &store, NOW),
        Err(X509Error::Expired { .. })
    ));

    // X and Y certify each other; no root above them.
    let (kx, ky) = (key(), key());
    let x = CertificateBuilder::new("CN=X", &kx.verifying_key(), NOW)
        .unwrap()
        .ca(None);
    let y = CertificateBuilder::new("CN=Y", &ky.verifying_key(), NOW)
        .unwrap()
        .ca(None);
    let y_self = y.clone().self_signed(&ky).unwrap();
    let x_by_y = x.issued_by(&y_self, &ky).unwrap();
    let y_by_x = y.issued_by(&x_by_y, &kx).unwrap();
    let leaf = leaf_under(&Minted {
        cert: x_by_y.clone(),
        key: kx,
    });
    assert_eq!(
        validate(&[&leaf.cert, &x_by_y, &y_by_x], &store, NOW).unwrap_err(),
        X509Error::UnknownAuthority { hint: None }
    );
}

#[test]
fn a_trusted_leaf_validates_alone() {
    let root = root_ca("Self", NOW).unwrap();
    assert_eq!(validate(&[&root.cert], &roots(&[&root.cert]), NOW), Ok(1));
}

#[test]
fn other_curves_chain_too() {
    for curve in [Curve::P384, Curve::P521] {
        let rk = SigningKey::generate(curve).unwrap();
        let root = CertificateBuilder::new("CN=Big Root", &rk.verifying_key(), NOW)
            .unwrap()
            .ca(None)
            .self_signed(&rk)
            .unwrap();
        let root = Minted {
            cert: root,
            key: rk,
        };
        let leaf = leaf_under(&root);
        assert_eq!(
            validate(&[&leaf.cert], &roots(&[&root.cert]), NOW),
            Ok(2),
            "{curve}"
        );
    }
}

#[test]
fn trust_store_sorts_a_provisioned_path() {
    let p = pki();
    let store = TrustStore::from_certs([
        p.inter.cert.clone(),
        p.root.cert.clone(),
        p.inter.cert.clone(),
    ]);
    assert_eq!(store.roots(), std::slice::from_ref(&p.root.cert));
    assert_eq!(store.intermediates(), std::slice::from_ref(&p.inter.cert));
    assert_eq!(validate(&[&p.leaf.cert], &store, NOW), Ok(3));
}

#[test]
fn minted_riot_devices_validate_and_report_their_claims() {
    let fwid = [0x5a; 32];
    let device = RiotDevice::generate(&fwid, NOW).unwrap();
    let chain = parse_pem_chain(&device.evidence_pem()).unwrap();
    assert_eq!(chain.len(), 3);
    let anchors = TrustStore::from_certs(parse_pem_chain(&device.trust_anchor_pem()).unwrap());
    let v = validate_chain(&chain, &anchors, NOW, Usage::riot_alias()).unwrap();
    assert_eq!(v.certificates().len(), 4);
    let claims = riot_composite_device_id(&chain[0]).unwrap();
    assert_eq!(claims.fwid(), &fwid);
    assert_eq!(claims.fwid_alg(), &oid::SHA256);
    assert_eq!(
        claims.device_id_key().unwrap(),
        device.device_id.key.verifying_key()
    );
    assert_eq!(
        claims.device_id(),
        device.device_id.key.verifying_key().sec1_point()
    );
    // The alias SAN is critical, so plain client auth refuses it.
    assert!(matches!(
        validate_chain(&chain, &anchors, NOW, Usage::client_auth()),
        Err(X509Error::UnhandledCriticalExtension { .. })
    ));
    // A second device under the same vendor CAs.
    let second = RiotDevice::under(
        device.root.clone(),
        device.intermediate.clone(),
        &[1; 32],
        NOW,
    )
    .unwrap();
    let chain2 = parse_pem_chain(&second.evidence_pem()).unwrap();
    validate_chain(&chain2, &anchors, NOW, Usage::riot_alias()).unwrap();
    // Another vendor's device does not validate.
    let stranger = RiotDevice::generate(&fwid, NOW).unwrap();
    let chain3 = parse_pem_chain(&stranger.evidence_pem()).unwrap();
    assert_eq!(
        validate_chain(&chain3, &anchors, NOW, Usage::riot_alias()).unwrap_err(),
        X509Error::UnknownAuthority { hint: None }
    );
}

#[test]
fn riot_san_in_both_encodings_decodes_the_same() {
    let k = key();
    let bare =
        mint::riot_subject_alt_name(&k.verifying_key(), oid::SHA256, &[9; 32], false).unwrap();
    let conformant =
        mint::riot_subject_alt_name(&k.verifying_key(), oid::SHA256, &[9; 32], true).unwrap();
    assert_ne!(bare, conformant);
    let a = parse_riot_subject_alt_name(&bare).unwrap();
    let b = parse_riot_subject_alt_name(&conformant).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.fwid(), &[9; 32]);
}

#[test]
fn signer_chains_validate_for_any_usage() {
    let signer = SignerChain::generate(NOW).unwrap();
    let x5chain: Vec<Certificate> = signer
        .x5chain_der()
        .iter()
        .map(|d| Certificate::from_der(d).unwrap())
        .collect();
    let anchors = TrustStore::from_certs(parse_pem_chain(&signer.root_pem()).unwrap());
    let v = validate_chain(&x5chain, &anchors, NOW, Usage::any()).unwrap();
    assert_eq!(v.certificates().len(), 3);
    // The leaf key verifies what the signer signs.
    let sig = signer.leaf.key.sign(b"corim").unwrap();
    let key = v.leaf().ec_public_key().unwrap();
    key.verify(key.algorithm(), b"corim", &sig).unwrap();
    // Signing certificates carry no EKU, so a code-signing requirement
    // is met vacuously (as in Go); clientAuth likewise.
    validate_chain(
        &x5chain,
        &anchors,
        NOW,
        Usage::any().require_extended_key_usage(oid::KP_CODE_SIGNING),
    )
    .unwrap();
}

#[test]
fn builder_refuses_bad_input() {
    let k = key();
    let other = key();
    let b = CertificateBuilder::new("CN=x", &k.verifying_key(), NOW).unwrap();
    assert!(matches!(b.self_signed(&other), Err(X509Error::Mint(_))));
    let b = CertificateBuilder::new("CN=x", &k.verifying_key(), NOW)
        .unwrap()
        .validity(-5, NOW);
    assert!(matches!(b.self_signed(&k), Err(X509Error::Mint(_))));
    assert!(CertificateBuilder::new("not a name", &k.verifying_key(), NOW).is_err());
}
