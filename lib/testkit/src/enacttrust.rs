//! Mints EnactTrust TPM nodes (scheme `TPM_ENACTTRUST`): a node id, a fresh
//! P-256 attestation key (AK) and a golden PCR state; their quotes for a
//! session nonce (`application/vnd.enacttrust.tpm-evidence`); and the CoRIM
//! that endorses them (profile `https://enacttrust.com/veraison/1.0.0`: the
//! AK in an attest-key triple and the golden PCR digest in a reference
//! triple, both for `{instance: 37(node-id)}`), plus the broken variants
//! negative tests need.
//!
//! ```
//! use vouch_testkit::enacttrust::{EnactTrustCorim, EnactTrustDevice};
//!
//! let node = EnactTrustDevice::generate().unwrap();
//! let quote = node.evidence(&[0x42; 32]).unwrap();
//! assert_eq!(&quote[..16], node.node_id());
//! let corim = vouch_corim::decode(&node.corim()).unwrap();
//! assert_eq!(corim.comids().count(), 2);
//! // A CoRIM with the AK alone (no golden digest).
//! let ta_only = EnactTrustCorim::new().trust_anchor(node.node_id(), &node.ak_pem()).build();
//! assert!(vouch_corim::decode(&ta_only).is_ok());
//! ```

use uuid::Uuid;
use vouch_corim::{
    Class, ClassId, Comid, ConciseTag, Corim, CorimId, CryptoKey, Digest, DigestAlg, Environment,
    Instance, KeyTriple, Measurement, MeasurementValues, Profile, ReferenceTriple, TagId,
    TagIdentity, Triples, alg,
};
use vouch_crypto::{CryptoError, Curve, Hash, SigningKey};
use vouch_tpm::TpmAlgId;
use vouch_tpm::mint::{EnactTrustClaims, MintError, enacttrust_token};

use crate::corim::random_uuid;

/// The CoRIM profile of EnactTrust endorsements (a tag-32 URI in the
/// current encoding).
pub const ENACTTRUST_PROFILE: &str = "https://enacttrust.com/veraison/1.0.0";
/// The CoRIM profile legacy Veraison integration tests used (untagged text).
pub const ENACTTRUST_PROFILE_LEGACY: &str = "http://enacttrust.com/veraison/1.0.0";
/// The provisioning media type of current EnactTrust CoRIMs.
pub const ENACTTRUST_CORIM_MT: &str =
    "application/rim+cbor; profile=\"https://enacttrust.com/veraison/1.0.0\"";
/// The legacy provisioning media type (untagged `http://` profile).
pub const ENACTTRUST_CORIM_LEGACY_MT: &str =
    "application/corim-unsigned+cbor; profile=\"http://enacttrust.com/veraison/1.0.0\"";
/// The legacy provisioning media type of CoRIMs carrying the `https://`
/// profile as untagged text (Veraison's legacy unit-test CoRIMs).
pub const ENACTTRUST_CORIM_LEGACY_HTTPS_MT: &str =
    "application/corim-unsigned+cbor; profile=\"https://enacttrust.com/veraison/1.0.0\"";
/// The EnactTrust evidence media type.
pub const ENACTTRUST_EVIDENCE_MT: &str = "application/vnd.enacttrust.tpm-evidence";

/// The PCRs a minted node quotes.
const QUOTED_PCRS: [u32; 4] = [1, 2, 3, 4];

/// Random bytes from the system generator.
///
/// # Panics
///
/// Panics if the system random generator fails (test tooling only).
pub(crate) fn random_bytes(len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut out).expect("system random generator");
    out
}

/// A minted EnactTrust node: node id, AK and golden PCR digest.
#[derive(Debug)]
pub struct EnactTrustDevice {
    node_id: [u8; 16],
    ak: SigningKey,
    firmware_version: u64,
    golden: Vec<u8>,
}

impl EnactTrustDevice {
    /// A fresh node: a random (version-4) node id, a fresh P-256 AK, and
    /// random SHA-256 values in PCRs 1–4, whose quote digest is the golden
    /// digest.
    pub fn generate() -> Result<Self, CryptoError> {
        let ak = SigningKey::generate(Curve::P256)?;
        let pcrs: Vec<Vec<u8>> = QUOTED_PCRS.iter().map(|_| random_bytes(32)).collect();
        let values: Vec<&[u8]> = pcrs.iter().map(Vec::as_slice).collect();
        Ok(Self::with_key(
            random_uuid(),
            ak,
            vouch_tpm::pcr_digest(Hash::Sha256, &values),
        ))
    }

    /// A node with the given id, AK and golden digest (for instance
    /// Veraison's `basic.pem` node, to mint its quotes for any nonce).
    pub fn with_key(node_id: [u8; 16], ak: SigningKey, golden: Vec<u8>) -> Self {
        Self {
            node_id,
            ak,
            firmware_version: 7,
            golden,
        }
    }

    /// The node id (RFC 4122 byte order).
    pub fn node_id(&self) -> [u8; 16] {
        self.node_id
    }

    /// The node id, hyphenated.
    pub fn node_id_text(&self) -> String {
        Uuid::from_bytes(self.node_id).hyphenated().to_string()
    }

    /// The attestation key.
    pub fn ak(&self) -> &SigningKey {
        &self.ak
    }

    /// The AK's SubjectPublicKeyInfo PEM, as a CoRIM provisions it.
    pub fn ak_pem(&self) -> String {
        self.ak.verifying_key().to_pem()
    }

    /// The golden PCR digest (SHA-256 bank).
    pub fn golden_digest(&self) -> &[u8] {
        &self.golden
    }

    /// The firmware version the node's quotes report.
    pub fn firmware_version(&self) -> u64 {
        self.firmware_version
    }

    /// The quoted PCRs.
    pub fn pcrs(&self) -> &[u32] {
        &QUOTED_PCRS
    }

    /// The claims of a good quote for `nonce` (the quote's `extraData`).
    pub fn claims(&self, nonce: &[u8]) -> EnactTrustClaims {
        EnactTrustClaims {
            node_id: Uuid::from_bytes(self.node_id),
            firmware_version: self.firmware_version,
            pcr_bank: TpmAlgId::SHA256,
            pcrs: QUOTED_PCRS.to_vec(),
            pcr_digest: self.golden.clone(),
            extra_data: nonce.to_vec(),
        }
    }

    /// A good quote for `nonce`.
    pub fn evidence(&self, nonce: &[u8]) -> Result<Vec<u8>, MintError> {
        self.evidence_with(&self.claims(nonce))
    }

    /// A quote with any claims, signed by this node's AK.
    pub fn evidence_with(&self, claims: &EnactTrustClaims) -> Result<Vec<u8>, MintError> {
        Ok(enacttrust_token(claims, &self.ak)?.to_bytes())
    }

    /// A quote for `nonce` signed by another key.
    pub fn evidence_signed_by(&self, nonce: &[u8], key: &SigningKey) -> Result<Vec<u8>, MintError> {
        Ok(enacttrust_token(&self.claims(nonce), key)?.to_bytes())
    }

    /// A quote for `nonce` over a PCR state other than the golden one.
    pub fn evidence_with_pcr_digest(
        &self,
        nonce: &[u8],
        pcr_digest: &[u8],
    ) -> Result<Vec<u8>, MintError> {
        let mut claims = self.claims(nonce);
        claims.pcr_digest = pcr_digest.to_vec();
        self.evidence_with(&claims)
    }

    /// A good quote for `nonce` whose (unsigned) node id says `node_id`.
    pub fn evidence_as_node(&self, nonce: &[u8], node_id: [u8; 16]) -> Result<Vec<u8>, MintError> {
        let mut claims = self.claims(nonce);
        claims.node_id = Uuid::from_bytes(node_id);
        self.evidence_with(&claims)
    }

    /// The CoRIM endorsing this node (current encoding): its AK and its
    /// golden digest, under a random corim-id.
    pub fn corim(&self) -> Vec<u8> {
        EnactTrustCorim::new()
            .trust_anchor(self.node_id, &self.ak_pem())
            .reference_value(self.node_id, &self.golden)
            .build()
    }
}

/// Which Veraison encoding of EnactTrust CoRIMs to mint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnactTrustEncoding {
    /// The `https://` profile as a tag-32 URI (Veraison HEAD).
    Current,
    /// The `http://` profile as untagged text (legacy integration tests).
    LegacyHttp,
    /// The `https://` profile as untagged text (legacy unit tests).
    LegacyHttps,
}

impl EnactTrustEncoding {
    /// The media type to provision such a CoRIM under.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Current => ENACTTRUST_CORIM_MT,
            Self::LegacyHttp => ENACTTRUST_CORIM_LEGACY_MT,
            Self::LegacyHttps => ENACTTRUST_CORIM_LEGACY_HTTPS_MT,
        }
    }

    fn profile(self) -> Profile {
        match self {
            Self::Current => Profile::Uri(ENACTTRUST_PROFILE.to_owned()),
            Self::LegacyHttp => Profile::Text(ENACTTRUST_PROFILE_LEGACY.to_owned()),
            Self::LegacyHttps => Profile::Text(ENACTTRUST_PROFILE.to_owned()),
        }
    }
}

/// Builder for EnactTrust CoRIMs: one CoMID with the attest-key triples and
/// one with the reference triples (as Veraison's own files are laid out).
/// The defaults make CoRIMs Veraison accepts; [`Self::to_corim`] gives the
/// model for tests that break it further. Methods take `self` and return
/// it, for chaining.
#[derive(Debug, Clone)]
pub struct EnactTrustCorim {
    id: CorimId,
    encoding: EnactTrustEncoding,
    trust_anchors: Vec<([u8; 16], Vec<CryptoKey>)>,
    reference_values: Vec<([u8; 16], Vec<Measurement>)>,
    class: bool,
}

impl Default for EnactTrustCorim {
    fn default() -> Self {
        Self::new()
    }
}

impl EnactTrustCorim {
    /// An empty current-encoding CoRIM under a random corim-id.
    pub fn new() -> Self {
        Self {
            id: CorimId::Uuid(random_uuid()),
            encoding: EnactTrustEncoding::Current,
            trust_anchors: Vec::new(),
            reference_values: Vec::new(),
            class: false,
        }
    }

    /// Selects the encoding.
    pub fn encoding(mut self, encoding: EnactTrustEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// Adds `node_id`'s AK (SubjectPublicKeyInfo PEM).
    pub fn trust_anchor(self, node_id: [u8; 16], ak_pem: &str) -> Self {
        self.trust_anchor_keys(node_id, vec![CryptoKey::PkixBase64Key(ak_pem.to_owned())])
    }

    /// Adds an attest-key triple for `node_id` with any keys.
    pub fn trust_anchor_keys(mut self, node_id: [u8; 16], keys: Vec<CryptoKey>) -> Self {
        self.trust_anchors.push((node_id, keys));
        self
    }

    /// Adds `node_id`'s golden PCR digest (sha-256).
    pub fn reference_value(self, node_id: [u8; 16], digest: &[u8]) -> Self {
        self.reference_measurements(node_id, vec![golden_measurement(digest)])
    }

    /// Adds a reference triple for `node_id` with any measurements.
    pub fn reference_measurements(
        mut self,
        node_id: [u8; 16],
        measurements: Vec<Measurement>,
    ) -> Self {
        self.reference_values.push((node_id, measurements));
        self
    }

    /// Adds a class to every environment, which EnactTrust refuses.
    pub fn with_class(mut self) -> Self {
        self.class = true;
        self
    }

    fn environment(&self, node_id: [u8; 16]) -> Environment {
        Environment {
            class: self.class.then(|| Class {
                class_id: Some(ClassId::Uuid(node_id)),
                ..Class::default()
            }),
            instance: Some(Instance::Uuid(node_id)),
            group: None,
        }
    }

    /// The CoRIM as a model.
    pub fn to_corim(&self) -> Corim {
        let comid = |triples: Triples| {
            ConciseTag::Comid(Comid {
                language: None,
                tag_identity: TagIdentity {
                    tag_id: TagId::Uuid(random_uuid()),
                    tag_version: None,
                },
                entities: None,
                linked_tags: None,
                triples,
            })
        };
        let mut tags = Vec::new();
        if !self.reference_values.is_empty() {
            tags.push(comid(Triples {
                reference_triples: self
                    .reference_values
                    .iter()
                    .map(|(node, measurements)| ReferenceTriple {
                        environment: self.environment(*node),
                        measurements: measurements.clone(),
                    })
                    .collect(),
                ..Triples::default()
            }));
        }
        if !self.trust_anchors.is_empty() {
            tags.push(comid(Triples {
                attest_key_triples: self
                    .trust_anchors
                    .iter()
                    .map(|(node, keys)| KeyTriple {
                        environment: self.environment(*node),
                        keys: keys.clone(),
                        conditions: None,
                    })
                    .collect(),
                ..Triples::default()
            }));
        }
        Corim {
            id: self.id.clone(),
            tags,
            dependent_rims: None,
            profile: Some(self.encoding.profile()),
            validity: None,
            entities: None,
            was_tagged: true,
        }
    }

    /// The encoded CoRIM (tag 501).
    pub fn build(&self) -> Vec<u8> {
        self.to_corim().encode()
    }
}

/// A measurement holding one sha-256 digest, as EnactTrust golden values
/// are written.
pub fn golden_measurement(digest: &[u8]) -> Measurement {
    Measurement {
        key: None,
        values: MeasurementValues {
            digests: Some(vec![Digest {
                alg: DigestAlg::Int(alg::SHA256),
                value: digest.to_vec(),
            }]),
            ..MeasurementValues::default()
        },
        authorized_by: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use vouch_tpm::EnactTrustToken;

    #[test]
    fn minted_quotes_verify_with_the_node_ak_and_carry_the_nonce() {
        let node = EnactTrustDevice::generate().unwrap();
        let token = EnactTrustToken::decode(&node.evidence(&[7; 32]).unwrap()).unwrap();
        token.verify(&node.ak().verifying_key()).unwrap();
        assert_eq!(token.extra_data(), [7; 32]);
        assert_eq!(token.pcr_digest(), node.golden_digest());
        assert_eq!(token.node_id().as_bytes(), &node.node_id());
        assert_eq!(token.node_id().to_string(), node.node_id_text());

        let other = SigningKey::generate(Curve::P256).unwrap();
        let forged =
            EnactTrustToken::decode(&node.evidence_signed_by(&[7; 32], &other).unwrap()).unwrap();
        assert!(forged.verify(&node.ak().verifying_key()).is_err());
        let moved =
            EnactTrustToken::decode(&node.evidence_as_node(&[7; 32], [9; 16]).unwrap()).unwrap();
        assert_eq!(moved.node_id().as_bytes(), &[9; 16]);
        // The node id is outside the signature.
        moved.verify(&node.ak().verifying_key()).unwrap();
    }

    #[test]
    fn nodes_are_fresh() {
        let a = EnactTrustDevice::generate().unwrap();
        let b = EnactTrustDevice::generate().unwrap();
        assert_ne!(a.node_id(), b.node_id());
        assert_ne!(a.ak().verifying_key(), b.ak().verifying_key());
        assert_ne!(a.golden_digest(), b.golden_digest());
    }

    #[test]
    fn corims_decode_in_every_encoding() {
        let node = EnactTrustDevice::generate().unwrap();
        for (encoding, profile) in [
            (
                EnactTrustEncoding::Current,
                Profile::Uri(ENACTTRUST_PROFILE.to_owned()),
            ),
            (
                EnactTrustEncoding::LegacyHttp,
                Profile::Text(ENACTTRUST_PROFILE_LEGACY.to_owned()),
            ),
            (
                EnactTrustEncoding::LegacyHttps,
                Profile::Text(ENACTTRUST_PROFILE.to_owned()),
            ),
        ] {
            let bytes = EnactTrustCorim::new()
                .encoding(encoding)
                .trust_anchor(node.node_id(), &node.ak_pem())
                .reference_value(node.node_id(), node.golden_digest())
                .build();
            let corim = vouch_corim::decode(&bytes).unwrap();
            assert_eq!(corim.profile, Some(profile));
            assert!(corim.was_tagged);
            let comids: Vec<_> = corim.comids().collect();
            assert_eq!(comids.len(), 2);
            assert_eq!(
                comids[1].triples.attest_key_triples[0].environment.instance,
                Some(Instance::Uuid(node.node_id()))
            );
            assert!(encoding.media_type().contains("enacttrust.com"));
        }
    }
}
