//! Mints Parsec TPM devices (scheme `PARSEC_TPM`): a fresh P-256
//! attestation key (AK) with a random `kid`, a fresh key for the AK to
//! certify, a platform class and a PCR state; their key attestation
//! evidence for a session nonce
//! (`application/vnd.parallaxsecond.key-attestation.tpm`); and the CoRIM
//! that endorses them (profile `tag:github.com/parallaxsecond,2023-03-03:tpm`:
//! the AK for `{class: 37(class), instance: 560(kid)}`, the PCR values for
//! `{class: 37(class)}`), plus the broken variants negative tests need.
//!
//! ```
//! use vouch_testkit::parsec_tpm::ParsecTpmDevice;
//!
//! let device = ParsecTpmDevice::generate().unwrap();
//! let evidence = device.evidence(&[0x42; 32]).unwrap();
//! let decoded = vouch_tpm::ParsecTpmEvidence::decode(&evidence).unwrap();
//! assert_eq!(decoded.kid(), device.kid());
//! let corim = vouch_corim::decode(&device.corim()).unwrap();
//! assert_eq!(corim.comids().count(), 2);
//! ```

use vouch_corim::{
    Class, ClassId, Comid, ConciseTag, Corim, CorimId, CryptoKey, Digest, DigestAlg, Environment,
    Instance, KeyTriple, Measurement, MeasurementKey, MeasurementValues, Profile, ReferenceTriple,
    TagId, TagIdentity, Triples, alg,
};
use vouch_crypto::{CryptoError, Curve, Hash, SigningKey, VerifyingKey};
use vouch_tpm::TpmAlgId;
use vouch_tpm::mint::{MintError, ParsecTpmClaims, parsec_tpm_evidence};

use crate::corim::random_uuid;
use crate::enacttrust::random_bytes;

/// The CoRIM profile of Parsec TPM endorsements.
pub const PARSEC_TPM_PROFILE: &str = "tag:github.com/parallaxsecond,2023-03-03:tpm";
/// The provisioning media type of current Parsec TPM CoRIMs.
pub const PARSEC_TPM_CORIM_MT: &str =
    "application/rim+cbor; profile=\"tag:github.com/parallaxsecond,2023-03-03:tpm\"";
/// The legacy provisioning media type (profile as untagged text).
pub const PARSEC_TPM_CORIM_LEGACY_MT: &str =
    "application/corim-unsigned+cbor; profile=\"tag:github.com/parallaxsecond,2023-03-03:tpm\"";
/// The Parsec TPM evidence media type.
pub const PARSEC_TPM_EVIDENCE_MT: &str = "application/vnd.parallaxsecond.key-attestation.tpm";

/// The PCRs a minted device quotes (as Parsec's own evidence does).
const QUOTED_PCRS: [u32; 3] = [0, 1, 2];

/// A minted Parsec TPM device.
#[derive(Debug)]
pub struct ParsecTpmDevice {
    kid: Vec<u8>,
    class_id: [u8; 16],
    ak: SigningKey,
    attested: SigningKey,
    pcr_values: Vec<(u32, Vec<u8>)>,
}

impl ParsecTpmDevice {
    /// A fresh device: a random kid (a 33-byte RAND UEID), a random class,
    /// a fresh P-256 AK and attested key, and random SHA-256 values in
    /// PCRs 0–2.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut kid = vec![0x01];
        kid.extend_from_slice(&random_bytes(32));
        Ok(Self {
            kid,
            class_id: random_uuid(),
            ak: SigningKey::generate(Curve::P256)?,
            attested: SigningKey::generate(Curve::P256)?,
            pcr_values: QUOTED_PCRS.iter().map(|p| (*p, random_bytes(32))).collect(),
        })
    }

    /// Another device of the same class and PCR state: its own kid, AK and
    /// attested key.
    pub fn sibling(&self) -> Result<Self, CryptoError> {
        let fresh = Self::generate()?;
        Ok(Self {
            class_id: self.class_id,
            pcr_values: self.pcr_values.clone(),
            ..fresh
        })
    }

    /// The kid (the AK's UEID, the trust anchor's instance).
    pub fn kid(&self) -> &[u8] {
        &self.kid
    }

    /// The platform class.
    pub fn class_id(&self) -> [u8; 16] {
        self.class_id
    }

    /// The attestation key.
    pub fn ak(&self) -> &SigningKey {
        &self.ak
    }

    /// The AK's SubjectPublicKeyInfo PEM, as a CoRIM provisions it.
    pub fn ak_pem(&self) -> String {
        self.ak.verifying_key().to_pem()
    }

    /// The key the AK certifies (what the EAR's key attestation names).
    pub fn attested_key(&self) -> VerifyingKey {
        self.attested.verifying_key()
    }

    /// The PCR values, ascending by index (SHA-256 bank).
    pub fn pcr_values(&self) -> &[(u32, Vec<u8>)] {
        &self.pcr_values
    }

    /// The quote digest of the device's PCR state.
    pub fn pcr_digest(&self) -> Vec<u8> {
        let values: Vec<&[u8]> = self.pcr_values.iter().map(|(_, v)| v.as_slice()).collect();
        vouch_tpm::pcr_digest(Hash::Sha256, &values)
    }

    /// The claims of good evidence for `nonce` (both tokens' `extraData`).
    pub fn claims(&self, nonce: &[u8]) -> ParsecTpmClaims {
        ParsecTpmClaims {
            kid: self.kid.clone(),
            attested_key: self.attested_key(),
            nonce: nonce.to_vec(),
            pcr_bank: TpmAlgId::SHA256,
            pcrs: self.pcr_values.iter().map(|(p, _)| *p).collect(),
            pcr_digest: self.pcr_digest(),
        }
    }

    /// Good evidence for `nonce`.
    pub fn evidence(&self, nonce: &[u8]) -> Result<Vec<u8>, MintError> {
        self.evidence_with(&self.claims(nonce))
    }

    /// Evidence with any claims, signed by this device's AK.
    pub fn evidence_with(&self, claims: &ParsecTpmClaims) -> Result<Vec<u8>, MintError> {
        Ok(parsec_tpm_evidence(claims, &self.ak)?.to_cbor())
    }

    /// Evidence for `nonce` signed by another key.
    pub fn evidence_signed_by(&self, nonce: &[u8], key: &SigningKey) -> Result<Vec<u8>, MintError> {
        Ok(parsec_tpm_evidence(&self.claims(nonce), key)?.to_cbor())
    }

    /// Evidence for `nonce` quoting a PCR digest other than the endorsed
    /// state's.
    pub fn evidence_with_pcr_digest(
        &self,
        nonce: &[u8],
        pcr_digest: &[u8],
    ) -> Result<Vec<u8>, MintError> {
        let mut claims = self.claims(nonce);
        claims.pcr_digest = pcr_digest.to_vec();
        self.evidence_with(&claims)
    }

    /// The reference values of the device's PCR state.
    pub fn pcr_measurements(&self) -> Vec<Measurement> {
        self.pcr_values
            .iter()
            .map(|(pcr, value)| pcr_measurement(*pcr, &[(alg::SHA256, value.clone())]))
            .collect()
    }

    /// The CoRIM endorsing this device (current encoding): its AK and its
    /// class's PCR state, under a random corim-id.
    pub fn corim(&self) -> Vec<u8> {
        ParsecTpmCorim::new()
            .trust_anchor(self.class_id, &self.kid, &self.ak_pem())
            .reference_values(self.class_id, self.pcr_measurements())
            .build()
    }
}

/// A PCR reference value: `mkey` the PCR index, one digest per bank
/// (named-information algorithm id, value).
pub fn pcr_measurement(pcr: u32, digests: &[(i64, Vec<u8>)]) -> Measurement {
    Measurement {
        key: Some(MeasurementKey::Uint(u64::from(pcr))),
        values: MeasurementValues {
            digests: Some(
                digests
                    .iter()
                    .map(|(a, value)| Digest {
                        alg: DigestAlg::Int(*a),
                        value: value.clone(),
                    })
                    .collect(),
            ),
            ..MeasurementValues::default()
        },
        authorized_by: None,
    }
}

/// Builder for Parsec TPM CoRIMs: one CoMID with the reference triples and
/// one with the attest-key triples (Veraison's layout). The defaults make
/// CoRIMs Veraison accepts; [`Self::to_corim`] gives the model for tests
/// that break it further. Methods take `self` and return it, for chaining.
#[derive(Debug, Clone)]
pub struct ParsecTpmCorim {
    id: CorimId,
    legacy: bool,
    trust_anchors: Vec<([u8; 16], Vec<u8>, Vec<CryptoKey>)>,
    reference_values: Vec<([u8; 16], Vec<Measurement>)>,
}

impl Default for ParsecTpmCorim {
    fn default() -> Self {
        Self::new()
    }
}

impl ParsecTpmCorim {
    /// An empty current-encoding CoRIM under a random corim-id.
    pub fn new() -> Self {
        Self {
            id: CorimId::Uuid(random_uuid()),
            legacy: false,
            trust_anchors: Vec::new(),
            reference_values: Vec::new(),
        }
    }

    /// Switches to the legacy encoding: the profile as untagged text, the
    /// kid as a UEID (550) instance. Provision it under
    /// [`PARSEC_TPM_CORIM_LEGACY_MT`].
    pub fn legacy(mut self) -> Self {
        self.legacy = true;
        self
    }

    /// Adds the AK (SubjectPublicKeyInfo PEM) of `kid`, of class `class_id`.
    pub fn trust_anchor(self, class_id: [u8; 16], kid: &[u8], ak_pem: &str) -> Self {
        self.trust_anchor_keys(
            class_id,
            kid,
            vec![CryptoKey::PkixBase64Key(ak_pem.to_owned())],
        )
    }

    /// Adds an attest-key triple with any keys.
    pub fn trust_anchor_keys(
        mut self,
        class_id: [u8; 16],
        kid: &[u8],
        keys: Vec<CryptoKey>,
    ) -> Self {
        self.trust_anchors.push((class_id, kid.to_vec(), keys));
        self
    }

    /// Adds a reference triple (one PCR state) for `class_id`.
    pub fn reference_values(mut self, class_id: [u8; 16], measurements: Vec<Measurement>) -> Self {
        self.reference_values.push((class_id, measurements));
        self
    }

    /// The CoRIM as a model.
    pub fn to_corim(&self) -> Corim {
        let class = |class_id: [u8; 16]| Class {
            class_id: Some(ClassId::Uuid(class_id)),
            ..Class::default()
        };
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
                    .map(|(class_id, measurements)| ReferenceTriple {
                        environment: Environment {
                            class: Some(class(*class_id)),
                            instance: None,
                            group: None,
                        },
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
                    .map(|(class_id, kid, keys)| KeyTriple {
                        environment: Environment {
                            class: Some(class(*class_id)),
                            instance: Some(if self.legacy {
                                Instance::Ueid(kid.clone())
                            } else {
                                Instance::Bytes(kid.clone())
                            }),
                            group: None,
                        },
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
            profile: Some(if self.legacy {
                Profile::Text(PARSEC_TPM_PROFILE.to_owned())
            } else {
                Profile::Uri(PARSEC_TPM_PROFILE.to_owned())
            }),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use vouch_tpm::ParsecTpmEvidence;

    #[test]
    fn minted_evidence_verifies_with_the_ak_and_carries_the_nonce() {
        let device = ParsecTpmDevice::generate().unwrap();
        let evidence = ParsecTpmEvidence::decode(&device.evidence(&[3; 16]).unwrap()).unwrap();
        evidence.verify(&device.ak().verifying_key()).unwrap();
        assert_eq!(evidence.kid(), device.kid());
        assert_eq!(evidence.kat_nonce(), [3; 16]);
        assert_eq!(evidence.pat_nonce(), [3; 16]);
        assert_eq!(evidence.pcrs(), [0, 1, 2]);
        assert_eq!(evidence.pcr_digest(), device.pcr_digest());
        assert_eq!(evidence.attested_key(), &device.attested_key());

        let other = SigningKey::generate(Curve::P256).unwrap();
        let forged =
            ParsecTpmEvidence::decode(&device.evidence_signed_by(&[3; 16], &other).unwrap())
                .unwrap();
        assert!(forged.verify(&device.ak().verifying_key()).is_err());
    }

    #[test]
    fn siblings_share_class_and_state_but_not_keys() {
        let a = ParsecTpmDevice::generate().unwrap();
        let b = a.sibling().unwrap();
        assert_eq!(a.class_id(), b.class_id());
        assert_eq!(a.pcr_digest(), b.pcr_digest());
        assert_ne!(a.kid(), b.kid());
        assert_ne!(a.ak().verifying_key(), b.ak().verifying_key());
    }

    #[test]
    fn corims_decode_in_both_encodings() {
        let device = ParsecTpmDevice::generate().unwrap();
        for legacy in [false, true] {
            let mut builder = ParsecTpmCorim::new()
                .trust_anchor(device.class_id(), device.kid(), &device.ak_pem())
                .reference_values(device.class_id(), device.pcr_measurements());
            if legacy {
                builder = builder.legacy();
            }
            let corim = vouch_corim::decode(&builder.build()).unwrap();
            let comids: Vec<_> = corim.comids().collect();
            assert_eq!(comids.len(), 2);
            assert_eq!(comids[0].triples.reference_triples[0].measurements.len(), 3);
            let instance = &comids[1].triples.attest_key_triples[0].environment.instance;
            if legacy {
                assert_eq!(instance, &Some(Instance::Ueid(device.kid().to_vec())));
                assert_eq!(
                    corim.profile,
                    Some(Profile::Text(PARSEC_TPM_PROFILE.to_owned()))
                );
            } else {
                assert_eq!(instance, &Some(Instance::Bytes(device.kid().to_vec())));
                assert_eq!(
                    corim.profile,
                    Some(Profile::Uri(PARSEC_TPM_PROFILE.to_owned()))
                );
            }
        }
    }
}
