//! CoRIMs of every scheme's profiles, minted with vouch-testkit, to seed
//! the targets' corpora.

use vouch_crypto::Curve;
use vouch_testkit::cca::{CcaCorimEncoding, CcaDevice};
use vouch_testkit::corim::{PsaCorim, PsaCorimEncoding, PsaRefValue};
use vouch_testkit::enacttrust::{EnactTrustCorim, EnactTrustDevice, EnactTrustEncoding};
use vouch_testkit::parsec_tpm::ParsecTpmDevice;
use vouch_testkit::psa::{Device, SwComponent};
use vouch_testkit::riot::{RiotCorim, RiotDevice};

/// Unsigned CoRIMs: PSA, CCA platform and realm, Parsec CCA, EnactTrust,
/// Parsec TPM and RIoT, in their current and legacy encodings.
pub fn corims() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let psa = Device::from_seed(7).expect("PSA device");
    for encoding in [PsaCorimEncoding::Current, PsaCorimEncoding::Legacy] {
        let mut corim = PsaCorim::new(encoding);
        corim
            .trust_anchor(psa.implementation_id, psa.instance_id, &psa.spki_pem())
            .vendor_model("ACME", "RoadRunner")
            .entity("ACME Ltd.", "https://acme.example")
            .validity(Some(1_700_000_000), 4_102_444_800);
        for component in SwComponent::acme_components() {
            if let Some(rv) = PsaRefValue::endorsing(&component) {
                corim.reference_value(psa.implementation_id, rv);
            }
        }
        out.push(corim.build());
    }
    let cca = CcaDevice::generate(Curve::P384).expect("CCA device");
    for encoding in [CcaCorimEncoding::Current, CcaCorimEncoding::Legacy] {
        out.push(cca.platform_corim_in(encoding).build());
        out.push(cca.realm_corim_in(encoding).build());
    }
    out.push(cca.parsec_corim().build());
    let node = EnactTrustDevice::generate().expect("EnactTrust device");
    for encoding in [EnactTrustEncoding::Current, EnactTrustEncoding::LegacyHttp] {
        out.push(
            EnactTrustCorim::new()
                .encoding(encoding)
                .trust_anchor(node.node_id(), &node.ak_pem())
                .reference_value(node.node_id(), node.golden_digest())
                .build(),
        );
    }
    out.push(
        ParsecTpmDevice::generate()
            .expect("Parsec TPM device")
            .corim(),
    );
    let riot = RiotDevice::generate(&[0x6e; 32]).expect("RIoT device");
    out.push(riot.corim());
    out.push(
        RiotCorim::new()
            .cert(&riot.trust_anchor_pem())
            .with_reference_value()
            .build(),
    );
    out
}
