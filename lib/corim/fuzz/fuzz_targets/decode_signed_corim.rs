//! Signed CoRIMs (`application/rim+cose`) as the trust service opens them
//! (`CorimSigners::open`): the COSE_Sign1 envelope and `corim-meta`, then
//! either the `x5chain` (each certificate parsed, the path validated to a
//! configured root, the signature checked with the leaf's key) or the
//! configured signer keys, and finally the payload as an unsigned CoRIM.
//!
//! The configured signers are fixed: a P-256 signer key, and a root under
//! which a fixed intermediate and leaf are issued at start-up (all keys
//! from fixed scalars, so seeds from earlier runs still verify). Besides
//! "never panic":
//! - a signature never verifies under a key that signed nothing;
//! - a validity period read from `corim-meta` has a not-after whenever it
//!   has a not-before;
//! - a payload that decodes as a CoRIM survives encode → decode.
//!
//! Seeds: CoRIMs minted with vouch-testkit, signed as `cocli corim sign`
//! does, by the signer key or by the leaf with its chain.

#![no_main]

mod minted;
use vouch_testkit::fuzz_seed as seed;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_corim::signed::CorimSignature;
use vouch_corim::signed::SignedCorim;
use vouch_crypto::{Curve, SigningKey, VerifyingKey};
use vouch_x509::mint::CertificateBuilder;
use vouch_x509::{Certificate, TrustStore, Usage};

/// The verification time: 2027-01-15.
const NOW: i64 = 1_800_000_000;

struct Fixture {
    signer: SigningKey,
    stranger: VerifyingKey,
    roots: TrustStore,
    /// Leaf, then intermediate, as DER: the seeds' x5chain.
    chain: Vec<Vec<u8>>,
    leaf: SigningKey,
}

fn key(byte: u8) -> SigningKey {
    SigningKey::from_private_scalar(Curve::P256, &[byte; 32]).expect("fixed fuzz key")
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (root_key, ca_key, leaf) = (key(0x22), key(0x23), key(0x24));
        let cert = |subject: &str, key: &SigningKey| {
            CertificateBuilder::new(subject, &key.verifying_key(), NOW).expect("certificate")
        };
        let root = cert("CN=Fuzz CoRIM Root,O=Vouch Fuzz", &root_key)
            .ca(None)
            .self_signed(&root_key)
            .expect("root");
        let ca = cert("CN=Fuzz CoRIM CA,O=Vouch Fuzz", &ca_key)
            .ca(Some(0))
            .issued_by(&root, &root_key)
            .expect("intermediate");
        let leaf_cert = cert("CN=Fuzz CoRIM signer,O=Vouch Fuzz", &leaf)
            .issued_by(&ca, &ca_key)
            .expect("leaf");
        Fixture {
            signer: key(0x21),
            stranger: key(0x11).verifying_key(),
            roots: TrustStore::from_certs([root]),
            chain: vec![leaf_cert.der().to_vec(), ca.der().to_vec()],
            leaf,
        }
    })
}

fn seeds() -> Vec<Vec<u8>> {
    let f = fixture();
    let window = CorimSignature {
        signer_name: "Fuzz signer".to_owned(),
        not_before: Some(NOW - 3_600),
        not_after: Some(NOW + 86_400),
        ..CorimSignature::default()
    };
    let mut out = Vec::new();
    for (i, corim) in minted::corims().iter().enumerate() {
        let (signature, key) = match i % 4 {
            0 => (window.clone(), &f.signer),
            1 => (
                CorimSignature {
                    key_id: Some(f.signer.verifying_key().thumbprint().into_bytes()),
                    not_before: None,
                    ..window.clone()
                },
                &f.signer,
            ),
            2 => (
                CorimSignature {
                    x5chain: f.chain.clone(),
                    ..window.clone()
                },
                &f.leaf,
            ),
            _ => (
                CorimSignature {
                    not_after: Some(NOW - 1),
                    not_before: None,
                    key_id: Some(b"1".to_vec()),
                    ..window.clone()
                },
                &f.signer,
            ),
        };
        out.push(signature.sign(corim, key).expect("sign CoRIM"));
    }
    out
}

fuzz_target!(
    init: seed::plant(seeds),
    |data: &[u8]| {
        let Ok(signed) = SignedCorim::decode(data) else {
            return;
        };
        let f = fixture();
        if signed.meta.not_before.is_some() {
            assert!(signed.meta.not_after.is_some(), "a validity period without not-after");
        }
        assert!(signed.sign1.verify(&f.stranger).is_err(), "verified under a key that signed nothing");
        match signed.sign1.x5chain() {
            Ok(chain) if !chain.is_empty() => {
                let certs: Result<Vec<Certificate>, _> = chain.iter().map(|der| Certificate::from_der(der)).collect();
                if let Ok(certs) = certs
                    && let Ok(validated) = vouch_x509::validate_chain(&certs, &f.roots, NOW, Usage::any())
                    && let Ok(leaf) = validated.leaf().ec_public_key()
                {
                    let _ = signed.sign1.verify(&leaf);
                }
            }
            Ok(_) => {
                let _ = signed.sign1.key_id();
                let _ = signed.sign1.verify(&f.signer.verifying_key());
            }
            Err(_) => {}
        }
        if let Ok(corim) = vouch_corim::decode(signed.payload()) {
            let again = vouch_corim::decode(&corim.encode()).expect("re-encoded CoRIM must decode");
            assert_eq!(corim, again, "CoRIM changed across encode/decode");
        }
    }
);
