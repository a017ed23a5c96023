//! Mints Arm CCA devices (schemes `ARM_CCA` and `PARSEC_CCA`): a fresh
//! platform attestation key (CPAK, on P-256, P-384 or P-521), a fresh realm
//! attestation key (RAK, P-384), a random implementation ID, instance ID and
//! realm (RIM, REMs, personalization value); their CCA tokens for a session
//! nonce in either framing (tag 399 or the CMW tag 907), Parsec CCA key
//! attestation evidence; and the CoRIMs that endorse them:
//!
//! - a platform CoRIM ([`CcaPlatformCorim`]): the CPAK trust anchor for
//!   `{class: 560(implementation-id), instance: 550(instance-id)}`, the
//!   software components (`cca.software-component`) and the platform
//!   configuration (`cca.platform-config`) for `{class:
//!   560(implementation-id)}`, profile `tag:arm.com,2025:cca_platform#1.0.0`
//!   (or the legacy `http://arm.com/cca/ssd/1` encoding, or the Parsec CCA
//!   profile);
//! - a realm CoRIM ([`CcaRealmCorim`]): `cca.rim`, `cca.rem0..3` and
//!   `cca.rpv` for `{class: 560(RIM)}`, profile
//!   `tag:arm.com,2025:cca_realm#1.0.0` (or the legacy integrity-register
//!   encoding, `http://arm.com/cca/realm/1`).
//!
//! Tokens are minted by `vouch_cca_token::mint`; the negative variants
//! (wrong CPAK, broken binding, wrong realm challenge, unknown RIM, a
//! mismatching software component) are what negative tests need.
//!
//! ```
//! use vouch_crypto::Curve;
//! use vouch_testkit::cca::{CcaDevice, Framing};
//!
//! let device = CcaDevice::generate(Curve::P384).unwrap();
//! let token = device.token(&[0x42; 32], Framing::CmwCollection).unwrap();
//! let decoded = vouch_cca_token::CcaToken::decode(&token).unwrap();
//! decoded.verify(&device.cpak().verifying_key()).unwrap();
//! let corim = vouch_corim::decode(&device.platform_corim().build()).unwrap();
//! assert_eq!(corim.comids().count(), 2);
//! ```

use vouch_cca_token::mint::{self, sample_platform_claims, sample_realm_claims};
use vouch_cca_token::{CcaError, Measurement, PlatformClaims, RealmClaims, SwComponent};
use vouch_corim::{
    Class, ClassId, Comid, ConciseTag, Corim, CorimId, CryptoKey, Digest, DigestAlg, Environment,
    Instance, IntegrityRegister, KeyTriple, MeasurementKey, MeasurementValues, Profile,
    PsaRefValId, RawValue, ReferenceTriple, RegisterId, TagId, TagIdentity, Triples, Validity,
    Version, alg,
};
use vouch_crypto::{Curve, SigningKey, VerifyingKey};

// Re-exported so tests that mint with this module can also read tokens back
// without depending on the token crate themselves.
pub use vouch_cca_token::mint::{MintOptions, ParsecMintOptions};
pub use vouch_cca_token::{CcaToken, Framing, ParsecCcaEvidence};

use crate::corim::random_uuid;
use crate::enacttrust::random_bytes;

/// The CCA evidence media type.
pub const CCA_EVIDENCE_MT: &str =
    "application/eat-collection; profile=\"http://arm.com/CCA-SSD/1.0.0\"";
/// CoRIM profile of platform endorsements (current encoding).
pub const CCA_PLATFORM_PROFILE: &str = "tag:arm.com,2025:cca_platform#1.0.0";
/// CoRIM profile of realm endorsements (current encoding).
pub const CCA_REALM_PROFILE: &str = "tag:arm.com,2025:cca_realm#1.0.0";
/// CoRIM profile of platform endorsements (legacy encoding).
pub const CCA_PLATFORM_PROFILE_LEGACY: &str = "http://arm.com/cca/ssd/1";
/// CoRIM profile of realm endorsements (legacy encoding).
pub const CCA_REALM_PROFILE_LEGACY: &str = "http://arm.com/cca/realm/1";
/// Provisioning media type of current platform CoRIMs.
pub const CCA_PLATFORM_CORIM_MT: &str =
    "application/rim+cbor; profile=\"tag:arm.com,2025:cca_platform#1.0.0\"";
/// Provisioning media type of current realm CoRIMs.
pub const CCA_REALM_CORIM_MT: &str =
    "application/rim+cbor; profile=\"tag:arm.com,2025:cca_realm#1.0.0\"";
/// Provisioning media type of legacy platform CoRIMs (the transitional
/// `rim+cbor` form).
pub const CCA_PLATFORM_CORIM_LEGACY_MT: &str =
    "application/rim+cbor; profile=\"http://arm.com/cca/ssd/1\"";
/// Provisioning media type of legacy realm CoRIMs (the transitional
/// `rim+cbor` form).
pub const CCA_REALM_CORIM_LEGACY_MT: &str =
    "application/rim+cbor; profile=\"http://arm.com/cca/realm/1\"";
/// Veraison's pre-2026 provisioning media type of platform CoRIMs.
pub const CCA_PLATFORM_CORIM_UNSIGNED_MT: &str =
    "application/corim-unsigned+cbor; profile=\"http://arm.com/cca/ssd/1\"";
/// Veraison's pre-2026 provisioning media type of realm CoRIMs.
pub const CCA_REALM_CORIM_UNSIGNED_MT: &str =
    "application/corim-unsigned+cbor; profile=\"http://arm.com/cca/realm/1\"";

/// The Parsec CCA evidence media type.
pub const PARSEC_CCA_EVIDENCE_MT: &str = "application/vnd.parallaxsecond.key-attestation.cca";
/// CoRIM profile of Parsec CCA endorsements.
pub const PARSEC_CCA_PROFILE: &str = "tag:github.com/parallaxsecond,2023-03-03:cca";
/// Provisioning media type of current Parsec CCA CoRIMs.
pub const PARSEC_CCA_CORIM_MT: &str =
    "application/rim+cbor; profile=\"tag:github.com/parallaxsecond,2023-03-03:cca\"";
/// Veraison's legacy provisioning media type of Parsec CCA CoRIMs.
pub const PARSEC_CCA_CORIM_LEGACY_MT: &str =
    "application/corim-unsigned+cbor; profile=\"tag:github.com/parallaxsecond,2023-03-03:cca\"";

/// Measurement keys of the current encoding.
const SW_MKEY: &str = "cca.software-component";
const CONFIG_MKEY: &str = "cca.platform-config";
const RIM_MKEY: &str = "cca.rim";
const REM_MKEYS: [&str; 4] = ["cca.rem0", "cca.rem1", "cca.rem2", "cca.rem3"];
const RPV_MKEY: &str = "cca.rpv";

/// A minted CCA device: its keys and the claims its tokens carry.
#[derive(Clone, Debug)]
pub struct CcaDevice {
    keys: mint::CcaDevice,
    platform: PlatformClaims,
    realm: RealmClaims,
}

fn measurement(bytes: Vec<u8>) -> Result<Measurement, CcaError> {
    let len = bytes.len();
    Measurement::new(bytes)
        .ok_or_else(|| CcaError::Mint(format!("a measurement of {len} bytes is not a digest")))
}

impl CcaDevice {
    /// A fresh device: a CPAK on `cpak_curve`, a P-384 RAK, a random
    /// implementation ID and instance ID, four software components with
    /// random measurements, a random configuration, and a realm with a random
    /// RIM, REMs and personalization value (SHA-256 sized).
    pub fn generate(cpak_curve: Curve) -> Result<Self, CcaError> {
        let keys = mint::CcaDevice::generate(cpak_curve)?;
        let mut platform = sample_platform_claims();
        platform
            .implementation_id
            .copy_from_slice(&random_bytes(vouch_cca_token::IMPLEMENTATION_ID_LEN));
        platform.instance_id[1..]
            .copy_from_slice(&random_bytes(vouch_cca_token::INSTANCE_ID_LEN - 1));
        platform.config = random_bytes(8);
        let signer = measurement(random_bytes(32))?;
        platform.sw_components = ["BL", "M1", "M2", "RMM"]
            .into_iter()
            .zip(["1.0.0", "1.2.0", "1.2.3", "0.4.0"])
            .map(|(ty, version)| {
                Ok(SwComponent {
                    measurement_type: Some(ty.to_owned()),
                    measurement_value: measurement(random_bytes(32))?,
                    version: Some(version.to_owned()),
                    signer_id: signer.clone(),
                    hash_algo_id: Some("sha-256".to_owned()),
                })
            })
            .collect::<Result<_, CcaError>>()?;
        let mut realm = sample_realm_claims(&keys.rak().verifying_key());
        realm.initial_measurement = measurement(random_bytes(32))?;
        for rem in &mut realm.extensible_measurements {
            *rem = measurement(random_bytes(32))?;
        }
        realm
            .personalization_value
            .copy_from_slice(&random_bytes(vouch_cca_token::PERSONALIZATION_VALUE_LEN));
        let device = Self {
            keys,
            platform,
            realm,
        };
        device.platform.validate()?;
        device.realm.validate()?;
        Ok(device)
    }

    /// The platform attestation key.
    pub fn cpak(&self) -> &SigningKey {
        self.keys.cpak()
    }

    /// The CPAK's public key as `PUBLIC KEY` PEM, as trust anchors carry it.
    pub fn cpak_pem(&self) -> String {
        self.cpak().verifying_key().to_pem()
    }

    /// The realm attestation key.
    pub fn rak(&self) -> &SigningKey {
        self.keys.rak()
    }

    /// The implementation ID.
    pub fn implementation_id(&self) -> [u8; 32] {
        self.platform.implementation_id
    }

    /// The instance ID (a random UEID).
    pub fn instance_id(&self) -> [u8; 33] {
        self.platform.instance_id
    }

    /// The platform claims the device reports (the challenge is set when
    /// minting).
    pub fn platform_claims(&self) -> &PlatformClaims {
        &self.platform
    }

    /// The realm claims the device reports (the challenge and RAK are set
    /// when minting).
    pub fn realm_claims(&self) -> &RealmClaims {
        &self.realm
    }

    /// The realm initial measurement.
    pub fn rim(&self) -> Vec<u8> {
        self.realm.initial_measurement.as_bytes().to_vec()
    }

    /// A token answering `nonce` (8 to 64 bytes; the realm challenge is the
    /// nonce zero-padded to 64 bytes) in `framing`.
    pub fn token(&self, nonce: &[u8], framing: Framing) -> Result<Vec<u8>, CcaError> {
        self.token_with(
            nonce,
            &MintOptions {
                framing,
                ..MintOptions::default()
            },
        )
    }

    /// A token answering `nonce`, minted with `options` (negative variants:
    /// another platform signer, a broken binding, a raw legacy RAK).
    pub fn token_with(&self, nonce: &[u8], options: &MintOptions) -> Result<Vec<u8>, CcaError> {
        self.keys
            .token_for_nonce(&self.platform, &self.realm, nonce, options)
    }

    /// A token with other claims (the challenges and RAK are still bound by
    /// the device).
    pub fn token_with_claims(
        &self,
        platform: &PlatformClaims,
        realm: &RealmClaims,
        nonce: &[u8],
        options: &MintOptions,
    ) -> Result<Vec<u8>, CcaError> {
        self.keys.token_for_nonce(platform, realm, nonce, options)
    }

    /// Negative: a token whose platform token `signer` signed instead of the
    /// CPAK.
    pub fn token_signed_by(&self, nonce: &[u8], signer: &SigningKey) -> Result<Vec<u8>, CcaError> {
        self.token_with(
            nonce,
            &MintOptions {
                platform_signer: Some(signer.clone()),
                ..MintOptions::default()
            },
        )
    }

    /// Negative: a token whose platform challenge is not the hash of the RAK
    /// (both signatures valid).
    pub fn token_unbound(&self, nonce: &[u8]) -> Result<Vec<u8>, CcaError> {
        self.token_with(
            nonce,
            &MintOptions {
                break_binding: true,
                ..MintOptions::default()
            },
        )
    }

    /// Negative: a token whose realm challenge is `challenge` (64 bytes), not
    /// a session's.
    pub fn token_with_realm_challenge(&self, challenge: &[u8; 64]) -> Result<Vec<u8>, CcaError> {
        self.keys.token(
            &self.platform,
            &self.realm,
            challenge,
            &MintOptions::default(),
        )
    }

    /// Negative: a token of a realm started from another (random) RIM.
    pub fn token_with_unknown_rim(&self, nonce: &[u8]) -> Result<Vec<u8>, CcaError> {
        let mut realm = self.realm.clone();
        realm.initial_measurement = measurement(random_bytes(32))?;
        self.token_with_claims(&self.platform, &realm, nonce, &MintOptions::default())
    }

    /// Negative: a token whose first software component has a measurement
    /// no reference value endorses.
    pub fn token_with_unknown_software(&self, nonce: &[u8]) -> Result<Vec<u8>, CcaError> {
        let mut platform = self.platform.clone();
        if let Some(first) = platform.sw_components.first_mut() {
            first.measurement_value = measurement(random_bytes(32))?;
        }
        self.token_with_claims(&platform, &self.realm, nonce, &MintOptions::default())
    }

    /// Parsec CCA evidence attesting `attested_key`, with KAT nonce
    /// `kat_nonce` (8 to 64 bytes).
    pub fn parsec_evidence(
        &self,
        kat_nonce: &[u8],
        attested_key: &VerifyingKey,
        options: &ParsecMintOptions,
    ) -> Result<Vec<u8>, CcaError> {
        self.keys.parsec_evidence(
            &self.platform,
            &self.realm,
            kat_nonce,
            attested_key,
            options,
        )
    }

    /// The platform CoRIM endorsing the device in the current encoding:
    /// its CPAK, every software component (with its version) and its
    /// configuration.
    pub fn platform_corim(&self) -> CcaPlatformCorim {
        self.platform_corim_in(CcaCorimEncoding::Current)
    }

    /// The platform CoRIM endorsing the device in `encoding`.
    pub fn platform_corim_in(&self, encoding: CcaCorimEncoding) -> CcaPlatformCorim {
        let mut corim = CcaPlatformCorim::new(encoding);
        let implementation_id = self.implementation_id();
        corim.trust_anchor(implementation_id, self.instance_id(), &self.cpak_pem());
        for component in &self.platform.sw_components {
            corim.software_component(implementation_id, CcaSwRef::endorsing(component));
        }
        corim.config(implementation_id, self.platform.config.clone());
        corim
    }

    /// The realm CoRIM endorsing the device's realm (RIM, REMs and RPV) in
    /// the current encoding.
    pub fn realm_corim(&self) -> CcaRealmCorim {
        self.realm_corim_in(CcaCorimEncoding::Current)
    }

    /// The realm CoRIM endorsing the device's realm in `encoding`.
    pub fn realm_corim_in(&self, encoding: CcaCorimEncoding) -> CcaRealmCorim {
        let mut corim = CcaRealmCorim::new(encoding);
        corim.realm(CcaRealmRef::endorsing(&self.realm));
        corim
    }

    /// The Parsec CCA CoRIM endorsing the device's platform (current
    /// encoding, the Parsec CCA profile).
    pub fn parsec_corim(&self) -> CcaPlatformCorim {
        let mut corim = self.platform_corim();
        corim.parsec();
        corim
    }
}

/// Re-encodes a CoRIM without its `rim-validity`: Veraison's legacy CCA
/// vectors all expired on 2025-12-31, and tests replay their content.
pub fn without_validity(corim: &[u8]) -> Result<Vec<u8>, vouch_corim::CorimError> {
    let mut decoded = vouch_corim::decode(corim)?;
    decoded.validity = None;
    Ok(decoded.encode())
}

/// Which Veraison encoding to mint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcaCorimEncoding {
    /// `tag:arm.com,2025:cca_*` (tagged-bytes class IDs, text mkeys).
    Current,
    /// `http://arm.com/cca/*` (`psa.impl-id` class IDs, `psa.refval-id` and
    /// `#6.602` mkeys, realm integrity registers), profile as untagged text.
    Legacy,
}

/// One platform software component reference value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcaSwRef {
    /// Measurement type (`BL`, `RMM`, ...).
    pub mtype: String,
    /// Version, if the reference value pins one.
    pub version: Option<String>,
    /// Signer ID.
    pub signer_id: Vec<u8>,
    /// Measurement value; its length selects SHA-256 / SHA-384 / SHA-512.
    pub digest: Vec<u8>,
}

impl CcaSwRef {
    /// The reference value that endorses `component` as the platform
    /// reports it (with its version, when it has one).
    pub fn endorsing(component: &SwComponent) -> Self {
        CcaSwRef {
            mtype: component.measurement_type.clone().unwrap_or_default(),
            version: component.version.clone(),
            signer_id: component.signer_id.as_bytes().to_vec(),
            digest: component.measurement_value.as_bytes().to_vec(),
        }
    }
}

fn digest_of(value: &[u8]) -> Digest {
    let id = match value.len() {
        48 => alg::SHA384,
        64 => alg::SHA512,
        _ => alg::SHA256,
    };
    Digest {
        alg: DigestAlg::Int(id),
        value: value.to_vec(),
    }
}

fn comid(tag_id: [u8; 16], triples: Triples) -> Comid {
    Comid {
        language: Some("en-GB".to_owned()),
        tag_identity: TagIdentity {
            tag_id: TagId::Uuid(tag_id),
            tag_version: None,
        },
        entities: None,
        linked_tags: None,
        triples,
    }
}

fn corim(
    id: &CorimId,
    profile: Profile,
    tags: Vec<ConciseTag>,
    validity: Option<Validity>,
) -> Corim {
    Corim {
        id: id.clone(),
        tags,
        dependent_rims: None,
        profile: Some(profile),
        validity,
        entities: None,
        was_tagged: true,
    }
}

/// Builder for CCA platform CoRIMs (and Parsec CCA CoRIMs). Methods take
/// `&mut self` so the builder works both chained on a temporary and in
/// loops.
#[derive(Debug, Clone)]
pub struct CcaPlatformCorim {
    encoding: CcaCorimEncoding,
    parsec: bool,
    id: CorimId,
    trust_anchors: Vec<([u8; 32], [u8; 33], String)>,
    components: Vec<([u8; 32], CcaSwRef)>,
    configs: Vec<([u8; 32], Vec<u8>)>,
    validity: Option<Validity>,
}

impl CcaPlatformCorim {
    /// An empty builder with a random UUID corim-id.
    pub fn new(encoding: CcaCorimEncoding) -> Self {
        CcaPlatformCorim {
            encoding,
            parsec: false,
            id: CorimId::Uuid(random_uuid()),
            trust_anchors: Vec::new(),
            components: Vec::new(),
            configs: Vec::new(),
            validity: None,
        }
    }

    /// Declares the Parsec CCA profile instead of the CCA platform one.
    pub fn parsec(&mut self) -> &mut Self {
        self.parsec = true;
        self
    }

    /// The profile the CoRIM declares.
    pub fn profile(&self) -> &'static str {
        match (self.parsec, self.encoding) {
            (true, _) => PARSEC_CCA_PROFILE,
            (false, CcaCorimEncoding::Current) => CCA_PLATFORM_PROFILE,
            (false, CcaCorimEncoding::Legacy) => CCA_PLATFORM_PROFILE_LEGACY,
        }
    }

    /// The provisioning media type for this CoRIM.
    pub fn media_type(&self) -> &'static str {
        match (self.parsec, self.encoding) {
            (true, CcaCorimEncoding::Current) => PARSEC_CCA_CORIM_MT,
            (true, CcaCorimEncoding::Legacy) => PARSEC_CCA_CORIM_LEGACY_MT,
            (false, CcaCorimEncoding::Current) => CCA_PLATFORM_CORIM_MT,
            (false, CcaCorimEncoding::Legacy) => CCA_PLATFORM_CORIM_LEGACY_MT,
        }
    }

    /// Adds the CPAK trust anchor of one platform (PEM SubjectPublicKeyInfo).
    pub fn trust_anchor(
        &mut self,
        implementation_id: [u8; 32],
        instance_id: [u8; 33],
        cpak_pem: &str,
    ) -> &mut Self {
        self.trust_anchors
            .push((implementation_id, instance_id, cpak_pem.to_owned()));
        self
    }

    /// Adds a software component reference value.
    pub fn software_component(&mut self, implementation_id: [u8; 32], rv: CcaSwRef) -> &mut Self {
        self.components.push((implementation_id, rv));
        self
    }

    /// Adds an endorsed platform configuration.
    pub fn config(&mut self, implementation_id: [u8; 32], config: Vec<u8>) -> &mut Self {
        self.configs.push((implementation_id, config));
        self
    }

    /// Sets `rim-validity` (seconds since the Unix epoch).
    pub fn validity(&mut self, not_before: Option<i64>, not_after: i64) -> &mut Self {
        self.validity = Some(Validity {
            not_before,
            not_after,
        });
        self
    }

    fn class(&self, implementation_id: &[u8; 32]) -> Class {
        Class {
            class_id: Some(match self.encoding {
                CcaCorimEncoding::Current => ClassId::Bytes(implementation_id.to_vec()),
                CcaCorimEncoding::Legacy => ClassId::PsaImplId(implementation_id.to_vec()),
            }),
            vendor: None,
            model: None,
            layer: None,
            index: None,
        }
    }

    fn sw_measurement(&self, rv: &CcaSwRef) -> vouch_corim::Measurement {
        let digests = Some(vec![digest_of(&rv.digest)]);
        match self.encoding {
            CcaCorimEncoding::Current => vouch_corim::Measurement {
                key: Some(MeasurementKey::Text(SW_MKEY.to_owned())),
                values: MeasurementValues {
                    version: rv.version.as_ref().map(|v| Version {
                        version: v.clone(),
                        scheme: None,
                    }),
                    digests,
                    name: Some(rv.mtype.clone()),
                    cryptokeys: Some(vec![CryptoKey::Bytes(rv.signer_id.clone())]),
                    ..MeasurementValues::default()
                },
                authorized_by: None,
            },
            CcaCorimEncoding::Legacy => vouch_corim::Measurement {
                key: Some(MeasurementKey::PsaRefValId(PsaRefValId {
                    label: Some(rv.mtype.clone()),
                    version: rv.version.clone(),
                    signer_id: Some(rv.signer_id.clone()),
                })),
                values: MeasurementValues {
                    digests,
                    ..MeasurementValues::default()
                },
                authorized_by: None,
            },
        }
    }

    fn config_measurement(&self, config: &[u8]) -> vouch_corim::Measurement {
        vouch_corim::Measurement {
            key: Some(match self.encoding {
                CcaCorimEncoding::Current => MeasurementKey::Text(CONFIG_MKEY.to_owned()),
                CcaCorimEncoding::Legacy => {
                    MeasurementKey::CcaPlatformConfigId("cfg v1.0.0".to_owned())
                }
            }),
            values: MeasurementValues {
                raw_value: Some(RawValue::Bytes(config.to_vec())),
                ..MeasurementValues::default()
            },
            authorized_by: None,
        }
    }

    /// The CoRIM as a model: one CoMID with a reference triple per
    /// implementation, one with the trust anchors (each left out when
    /// empty).
    pub fn to_corim(&self) -> Corim {
        let mut triples: Vec<ReferenceTriple> = Vec::new();
        let mut impls: Vec<[u8; 32]> = Vec::new();
        let measurements = self
            .components
            .iter()
            .map(|(i, rv)| (*i, self.sw_measurement(rv)))
            .chain(
                self.configs
                    .iter()
                    .map(|(i, c)| (*i, self.config_measurement(c))),
            );
        for (implementation_id, m) in measurements {
            match impls.iter().position(|i| *i == implementation_id) {
                Some(at) => {
                    if let Some(t) = triples.get_mut(at) {
                        t.measurements.push(m);
                    }
                }
                None => {
                    impls.push(implementation_id);
                    triples.push(ReferenceTriple {
                        environment: Environment {
                            class: Some(self.class(&implementation_id)),
                            instance: None,
                            group: None,
                        },
                        measurements: vec![m],
                    });
                }
            }
        }
        let mut tags = Vec::with_capacity(2);
        if !triples.is_empty() {
            tags.push(ConciseTag::Comid(comid(
                random_uuid(),
                Triples {
                    reference_triples: triples,
                    ..Triples::default()
                },
            )));
        }
        if !self.trust_anchors.is_empty() {
            let attest_key_triples = self
                .trust_anchors
                .iter()
                .map(|(implementation_id, instance_id, pem)| KeyTriple {
                    environment: Environment {
                        class: Some(self.class(implementation_id)),
                        instance: Some(Instance::Ueid(instance_id.to_vec())),
                        group: None,
                    },
                    keys: vec![CryptoKey::PkixBase64Key(pem.clone())],
                    conditions: None,
                })
                .collect();
            tags.push(ConciseTag::Comid(comid(
                random_uuid(),
                Triples {
                    attest_key_triples,
                    ..Triples::default()
                },
            )));
        }
        let profile = match self.encoding {
            CcaCorimEncoding::Current => Profile::Uri(self.profile().to_owned()),
            CcaCorimEncoding::Legacy => Profile::Text(self.profile().to_owned()),
        };
        corim(&self.id, profile, tags, self.validity)
    }

    /// Encodes the CoRIM (`#6.501`, unsigned).
    pub fn build(&self) -> Vec<u8> {
        self.to_corim().encode()
    }
}

/// One realm's reference values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcaRealmRef {
    /// The realm initial measurement.
    pub rim: Vec<u8>,
    /// REM0..REM3, where endorsed.
    pub rems: [Option<Vec<u8>>; 4],
    /// The personalization value, if pinned.
    pub rpv: Option<Vec<u8>>,
}

impl CcaRealmRef {
    /// The reference values endorsing `realm` exactly (RIM, every REM and
    /// the personalization value).
    pub fn endorsing(realm: &RealmClaims) -> Self {
        let [r0, r1, r2, r3] = &realm.extensible_measurements;
        CcaRealmRef {
            rim: realm.initial_measurement.as_bytes().to_vec(),
            rems: [r0, r1, r2, r3].map(|r| Some(r.as_bytes().to_vec())),
            rpv: Some(realm.personalization_value.to_vec()),
        }
    }
}

/// Builder for CCA realm CoRIMs.
#[derive(Debug, Clone)]
pub struct CcaRealmCorim {
    encoding: CcaCorimEncoding,
    id: CorimId,
    realms: Vec<CcaRealmRef>,
    validity: Option<Validity>,
}

impl CcaRealmCorim {
    /// An empty builder with a random UUID corim-id.
    pub fn new(encoding: CcaCorimEncoding) -> Self {
        CcaRealmCorim {
            encoding,
            id: CorimId::Uuid(random_uuid()),
            realms: Vec::new(),
            validity: None,
        }
    }

    /// The provisioning media type for this CoRIM.
    pub fn media_type(&self) -> &'static str {
        match self.encoding {
            CcaCorimEncoding::Current => CCA_REALM_CORIM_MT,
            CcaCorimEncoding::Legacy => CCA_REALM_CORIM_LEGACY_MT,
        }
    }

    /// Adds one realm's reference values.
    pub fn realm(&mut self, realm: CcaRealmRef) -> &mut Self {
        self.realms.push(realm);
        self
    }

    /// Sets `rim-validity` (seconds since the Unix epoch).
    pub fn validity(&mut self, not_before: Option<i64>, not_after: i64) -> &mut Self {
        self.validity = Some(Validity {
            not_before,
            not_after,
        });
        self
    }

    fn triple(&self, realm: &CcaRealmRef) -> ReferenceTriple {
        match self.encoding {
            CcaCorimEncoding::Current => {
                let digests = |v: &[u8]| MeasurementValues {
                    digests: Some(vec![digest_of(v)]),
                    ..MeasurementValues::default()
                };
                let mut measurements = vec![vouch_corim::Measurement {
                    key: Some(MeasurementKey::Text(RIM_MKEY.to_owned())),
                    values: digests(&realm.rim),
                    authorized_by: None,
                }];
                for (mkey, rem) in REM_MKEYS.iter().zip(&realm.rems) {
                    if let Some(rem) = rem {
                        measurements.push(vouch_corim::Measurement {
                            key: Some(MeasurementKey::Text((*mkey).to_owned())),
                            values: digests(rem),
                            authorized_by: None,
                        });
                    }
                }
                if let Some(rpv) = &realm.rpv {
                    measurements.push(vouch_corim::Measurement {
                        key: Some(MeasurementKey::Text(RPV_MKEY.to_owned())),
                        values: MeasurementValues {
                            raw_value: Some(RawValue::Bytes(rpv.clone())),
                            ..MeasurementValues::default()
                        },
                        authorized_by: None,
                    });
                }
                ReferenceTriple {
                    environment: Environment {
                        class: Some(Class {
                            class_id: Some(ClassId::Bytes(realm.rim.clone())),
                            vendor: None,
                            model: None,
                            layer: None,
                            index: None,
                        }),
                        instance: None,
                        group: None,
                    },
                    measurements,
                }
            }
            CcaCorimEncoding::Legacy => {
                let register = |label: &str, value: &[u8]| IntegrityRegister {
                    id: RegisterId::Label(label.to_owned()),
                    digests: vec![digest_of(value)],
                };
                let mut registers = vec![register("rim", &realm.rim)];
                for (label, rem) in ["rem0", "rem1", "rem2", "rem3"].iter().zip(&realm.rems) {
                    if let Some(rem) = rem {
                        registers.push(register(label, rem));
                    }
                }
                ReferenceTriple {
                    environment: Environment {
                        class: None,
                        instance: Some(Instance::Bytes(realm.rim.clone())),
                        group: None,
                    },
                    measurements: vec![vouch_corim::Measurement {
                        key: None,
                        values: MeasurementValues {
                            raw_value: realm.rpv.clone().map(RawValue::Bytes),
                            integrity_registers: Some(registers),
                            ..MeasurementValues::default()
                        },
                        authorized_by: None,
                    }],
                }
            }
        }
    }

    /// The CoRIM as a model: one CoMID with a reference triple per realm.
    pub fn to_corim(&self) -> Corim {
        let triples = Triples {
            reference_triples: self.realms.iter().map(|r| self.triple(r)).collect(),
            ..Triples::default()
        };
        let profile = match self.encoding {
            CcaCorimEncoding::Current => Profile::Uri(CCA_REALM_PROFILE.to_owned()),
            CcaCorimEncoding::Legacy => Profile::Text(CCA_REALM_PROFILE_LEGACY.to_owned()),
        };
        corim(
            &self.id,
            profile,
            vec![ConciseTag::Comid(comid(random_uuid(), triples))],
            self.validity,
        )
    }

    /// Encodes the CoRIM (`#6.501`, unsigned).
    pub fn build(&self) -> Vec<u8> {
        self.to_corim().encode()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use vouch_cca_token::realm_challenge_for_nonce;

    #[test]
    fn minted_tokens_verify_on_every_curve_and_framing() {
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            let device = CcaDevice::generate(curve).unwrap();
            for framing in [Framing::EatCollection, Framing::CmwCollection] {
                let token = CcaToken::decode(&device.token(&[7; 32], framing).unwrap()).unwrap();
                token.verify(&device.cpak().verifying_key()).unwrap();
                assert_eq!(token.framing(), framing);
                assert_eq!(
                    token.realm_challenge(),
                    &realm_challenge_for_nonce(&[7; 32]).unwrap()
                );
                assert_eq!(
                    token.platform_claims().implementation_id,
                    device.implementation_id()
                );
                assert_eq!(
                    token.realm_claims().initial_measurement.as_bytes(),
                    device.rim()
                );
            }
        }
    }

    #[test]
    fn devices_are_distinct() {
        let a = CcaDevice::generate(Curve::P256).unwrap();
        let b = CcaDevice::generate(Curve::P256).unwrap();
        assert_ne!(a.implementation_id(), b.implementation_id());
        assert_ne!(a.instance_id(), b.instance_id());
        assert_ne!(a.rim(), b.rim());
        assert_eq!(a.instance_id()[0], 0x01);
    }

    #[test]
    fn negative_tokens_break_what_they_say() {
        let device = CcaDevice::generate(Curve::P256).unwrap();
        let cpak = device.cpak().verifying_key();
        let nonce = [9; 32];
        let wrong = SigningKey::generate(Curve::P256).unwrap();
        let t = CcaToken::decode(&device.token_signed_by(&nonce, &wrong).unwrap()).unwrap();
        assert!(t.verify_platform(&cpak).is_err());
        let t = CcaToken::decode(&device.token_unbound(&nonce).unwrap()).unwrap();
        t.verify_platform(&cpak).unwrap();
        t.verify_realm().unwrap();
        assert!(t.verify_binding().is_err());
        let t = CcaToken::decode(&device.token_with_realm_challenge(&[1; 64]).unwrap()).unwrap();
        assert_eq!(t.realm_challenge(), &[1; 64]);
        t.verify(&cpak).unwrap();
        let t = CcaToken::decode(&device.token_with_unknown_rim(&nonce).unwrap()).unwrap();
        t.verify(&cpak).unwrap();
        assert_ne!(
            t.realm_claims().initial_measurement.as_bytes(),
            device.rim()
        );
        let t = CcaToken::decode(&device.token_with_unknown_software(&nonce).unwrap()).unwrap();
        t.verify(&cpak).unwrap();
        assert_ne!(
            t.platform_claims().sw_components[0].measurement_value,
            device.platform_claims().sw_components[0].measurement_value
        );
    }

    #[test]
    fn corims_decode_in_both_encodings() {
        let device = CcaDevice::generate(Curve::P384).unwrap();
        for encoding in [CcaCorimEncoding::Current, CcaCorimEncoding::Legacy] {
            let platform = device.platform_corim_in(encoding);
            let decoded = vouch_corim::decode(&platform.build()).unwrap();
            assert_eq!(
                decoded
                    .profile
                    .as_ref()
                    .and_then(|p| p.as_text())
                    .as_deref(),
                Some(platform.profile())
            );
            let comids: Vec<_> = decoded.comids().collect();
            assert_eq!(comids.len(), 2);
            // Four components and the configuration.
            assert_eq!(comids[0].triples.reference_triples[0].measurements.len(), 5);
            assert_eq!(comids[1].triples.attest_key_triples.len(), 1);

            let realm = vouch_corim::decode(&device.realm_corim_in(encoding).build()).unwrap();
            let triple = &realm.comids().next().unwrap().triples.reference_triples[0];
            match encoding {
                CcaCorimEncoding::Current => assert_eq!(triple.measurements.len(), 6),
                CcaCorimEncoding::Legacy => {
                    let m = &triple.measurements[0];
                    assert_eq!(m.values.integrity_registers.as_ref().unwrap().len(), 5);
                    assert!(m.values.raw_value.is_some());
                }
            }
        }
        let parsec = vouch_corim::decode(&device.parsec_corim().build()).unwrap();
        assert_eq!(
            parsec.profile.as_ref().and_then(|p| p.as_text()).as_deref(),
            Some(PARSEC_CCA_PROFILE)
        );
    }

    #[test]
    fn parsec_evidence_verifies() {
        let device = CcaDevice::generate(Curve::P256).unwrap();
        let attested = SigningKey::generate(Curve::P256).unwrap().verifying_key();
        let bytes = device
            .parsec_evidence(&[5; 16], &attested, &ParsecMintOptions::default())
            .unwrap();
        let evidence = ParsecCcaEvidence::decode(&bytes).unwrap();
        evidence.verify(&device.cpak().verifying_key()).unwrap();
        assert_eq!(evidence.kat_nonce(), &[5; 16]);
        assert_eq!(evidence.attested_key_spki(), attested.to_spki_der());
    }
}
