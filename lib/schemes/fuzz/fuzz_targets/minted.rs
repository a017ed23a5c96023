//! Devices, CoRIMs and evidence of every built-in scheme, minted with
//! vouch-testkit, for the targets' seed corpora. Devices get fresh keys on
//! every mint, so a seed carries the CoRIMs that endorse its evidence
//! rather than relying on keys the target holds.

use vouch_crypto::{Curve, SigningKey};
use vouch_testkit::cca::{CcaCorimEncoding, CcaDevice, Framing, ParsecMintOptions};
use vouch_testkit::corim::{PsaCorim, PsaCorimEncoding, PsaRefValue};
use vouch_testkit::enacttrust::{EnactTrustCorim, EnactTrustDevice, EnactTrustEncoding};
use vouch_testkit::parsec_tpm::{ParsecTpmCorim, ParsecTpmDevice};
use vouch_testkit::psa::{Device, PsaClaims, SwComponent};
use vouch_testkit::riot::{RiotCorim, RiotDevice};

/// The session nonce every seed's evidence answers (a length every scheme
/// takes).
pub const NONCE: [u8; 32] = [0x4e; 32];

/// One scheme's seeds: the CoRIMs that endorse a device, and pieces of
/// evidence from it (good ones first, then ones a verifier must refuse).
// `extract_endorsements` reads only the CoRIMs.
#[allow(dead_code)]
pub struct Minted {
    pub scheme: &'static str,
    pub corims: Vec<Vec<u8>>,
    pub evidence: Vec<Vec<u8>>,
}

fn psa() -> Minted {
    let device = Device::from_seed(7).expect("PSA device");
    let components = SwComponent::acme_components();
    let mut corims = Vec::new();
    for encoding in [PsaCorimEncoding::Current, PsaCorimEncoding::Legacy] {
        let mut corim = PsaCorim::new(encoding);
        corim.trust_anchor(
            device.implementation_id,
            device.instance_id,
            &device.spki_pem(),
        );
        for c in &components {
            if let Some(rv) = PsaRefValue::endorsing(c) {
                corim.reference_value(device.implementation_id, rv);
            }
        }
        corim.validity(None, 4_102_444_800);
        corims.push(corim.build());
    }
    let identity = |claims: PsaClaims| {
        claims
            .with_identity(&device.implementation_id, &device.instance_id)
            .with_nonce(&NONCE)
            .sign(&device.key)
            .expect("PSA token")
    };
    let evidence = vec![
        device.token(&NONCE, &components).expect("PSA token"),
        identity(PsaClaims::profile_1()),
        identity(PsaClaims::profile_2_tfm()),
        device
            .token(&[0x01; 48], &components[..1])
            .expect("PSA token"),
    ];
    Minted {
        scheme: vouch_schemes::psa::NAME,
        corims,
        evidence,
    }
}

fn cca() -> Vec<Minted> {
    let device = CcaDevice::generate(Curve::P384).expect("CCA device");
    let mut corims = Vec::new();
    for encoding in [CcaCorimEncoding::Current, CcaCorimEncoding::Legacy] {
        corims.push(device.platform_corim_in(encoding).build());
        corims.push(device.realm_corim_in(encoding).build());
    }
    let evidence = vec![
        device
            .token(&NONCE, Framing::CmwCollection)
            .expect("CCA token"),
        device
            .token(&NONCE, Framing::EatCollection)
            .expect("CCA token"),
        device.token_unbound(&NONCE).expect("CCA token"),
        device.token_with_unknown_rim(&NONCE).expect("CCA token"),
    ];
    let attested = SigningKey::from_private_scalar(Curve::P256, &[0x5c; 32])
        .expect("attested key")
        .verifying_key();
    let parsec = Minted {
        scheme: vouch_schemes::parsec_cca::NAME,
        corims: vec![device.parsec_corim().build()],
        evidence: vec![
            device
                .parsec_evidence(&NONCE, &attested, &ParsecMintOptions::default())
                .expect("Parsec CCA evidence"),
            device
                .parsec_evidence(
                    &NONCE,
                    &attested,
                    &ParsecMintOptions {
                        break_kat_binding: true,
                        ..ParsecMintOptions::default()
                    },
                )
                .expect("Parsec CCA evidence"),
        ],
    };
    vec![
        Minted {
            scheme: vouch_schemes::cca::NAME,
            corims,
            evidence,
        },
        parsec,
    ]
}

fn enacttrust() -> Minted {
    let device = EnactTrustDevice::generate().expect("EnactTrust device");
    let corims = [
        EnactTrustEncoding::Current,
        EnactTrustEncoding::LegacyHttp,
        EnactTrustEncoding::LegacyHttps,
    ]
    .into_iter()
    .map(|encoding| {
        EnactTrustCorim::new()
            .encoding(encoding)
            .trust_anchor(device.node_id(), &device.ak_pem())
            .reference_value(device.node_id(), device.golden_digest())
            .build()
    })
    .collect();
    let stranger = SigningKey::from_private_scalar(Curve::P256, &[0x6d; 32]).expect("key");
    Minted {
        scheme: vouch_schemes::enacttrust::NAME,
        corims,
        evidence: vec![
            device.evidence(&NONCE).expect("EnactTrust evidence"),
            device
                .evidence_signed_by(&NONCE, &stranger)
                .expect("EnactTrust evidence"),
        ],
    }
}

fn parsec_tpm() -> Minted {
    let device = ParsecTpmDevice::generate().expect("Parsec TPM device");
    let legacy = ParsecTpmCorim::new()
        .legacy()
        .trust_anchor(device.class_id(), device.kid(), &device.ak_pem())
        .reference_values(device.class_id(), device.pcr_measurements())
        .build();
    Minted {
        scheme: vouch_schemes::parsec_tpm::NAME,
        corims: vec![device.corim(), legacy],
        evidence: vec![
            device.evidence(&NONCE).expect("Parsec TPM evidence"),
            device
                .evidence_with_pcr_digest(&NONCE, &[0x77; 32])
                .expect("Parsec TPM evidence"),
        ],
    }
}

fn riot() -> Minted {
    let device = RiotDevice::generate(&[0x6e; 32]).expect("RIoT device");
    let mut evidence = vec![
        device.evidence(),
        device.evidence_alias_only(),
        device.evidence_without_intermediate(),
    ];
    evidence.extend(device.evidence_with_mismatched_device_id().ok());
    evidence.extend(device.evidence_self_signed().ok());
    Minted {
        scheme: vouch_schemes::riot::NAME,
        corims: vec![
            device.corim(),
            RiotCorim::new().cert(&device.trust_anchor_pem()).build(),
            RiotCorim::new()
                .cert_path(&device.trust_anchor_pem())
                .as_identity_triple()
                .build(),
        ],
        evidence,
    }
}

/// Every built-in scheme's seeds.
pub fn all() -> Vec<Minted> {
    let mut out = vec![psa()];
    out.extend(cca());
    out.push(enacttrust());
    out.push(parsec_tpm());
    out.push(riot());
    out
}
