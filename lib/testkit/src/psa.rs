//! PSA attestation tokens minted from first principles.
//!
//! [`PsaClaims`] holds every claim as an `Option` (and integers wider than
//! the spec allows) so a test can omit, garble or duplicate claims to build
//! invalid tokens as easily as valid ones. [`PsaClaims::sign`] wraps the
//! claims in a tagged COSE_Sign1; [`Device`] bundles an identity and key for
//! minting many tokens quickly (the load test mints about 100,000).

use aws_lc_rs::digest;
use vouch_crypto::{CryptoError, SigningKey};

use crate::keys;

/// The ACME RoadRunner implementation ID of Veraison's integration tests.
pub const ACME_IMPLEMENTATION_ID: [u8; 32] = *b"acme-implementation-id-000000001";

/// The ACME RoadRunner instance ID (a RAND UEID) of Veraison's integration
/// tests.
pub const ACME_INSTANCE_ID: [u8; 33] = [
    0x01, 0xce, 0xeb, 0xae, 0x7b, 0x89, 0x27, 0xa3, 0x22, 0x7e, 0x53, 0x03, 0xcf, 0x5e, 0x0f, 0x1f,
    0x7b, 0x34, 0xbb, 0x54, 0x2a, 0xd7, 0x25, 0x0a, 0xc0, 0x3f, 0xbc, 0xde, 0x36, 0xec, 0x2f, 0x15,
    0x08,
];

/// The 32-byte nonce Veraison's integration tests call `nonce32`.
pub const ACME_NONCE: [u8; 32] = [
    0x41, 0x4a, 0x7c, 0x17, 0x41, 0x41, 0xb3, 0xd0, 0xe9, 0xa1, 0xd2, 0x8a, 0xf3, 0x15, 0x20, 0xf0,
    0xd4, 0x22, 0x99, 0xfe, 0xac, 0x40, 0x07, 0xde, 0xd8, 0x9d, 0x68, 0xae, 0x6c, 0xd9, 0x2f, 0x19,
];

/// Profile name of PSA_IOT_PROFILE_1.
pub const PROFILE_1: &str = "PSA_IOT_PROFILE_1";
/// Profile name of the PSA token 2.0.0.
pub const PROFILE_2: &str = "http://arm.com/psa/2.0.0";
/// RFC 9783's profile name for TF-M tokens.
pub const PROFILE_2_TFM: &str = "tag:psacertified.org,2023:psa#tfm";

/// Which claim keys to encode with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySet {
    /// PSA_IOT_PROFILE_1 keys (-75000...-75010).
    Profile1,
    /// EAT / PSA 2.0.0 keys (265, 10, 256, 2394...2400).
    Profile2,
}

/// The nonce claim: normally one value; several only to build the invalid
/// multi-nonce case (EAT allows an array, PSA does not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NonceClaim {
    /// A single byte string.
    Single(Vec<u8>),
    /// An array of byte strings.
    Multiple(Vec<Vec<u8>>),
}

/// One software component; every field optional so tests can drop the
/// mandatory ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SwComponent {
    /// `measurement-type` (1).
    pub measurement_type: Option<String>,
    /// `measurement-value` (2).
    pub measurement_value: Option<Vec<u8>>,
    /// `version` (4).
    pub version: Option<String>,
    /// `signer-id` (5).
    pub signer_id: Option<Vec<u8>>,
    /// `measurement-description` (6).
    pub measurement_desc: Option<String>,
}

impl SwComponent {
    /// A complete component: type, 32-byte digest, version and signer ID.
    pub fn new(
        measurement_type: &str,
        version: &str,
        measurement_value: &[u8],
        signer_id: &[u8],
    ) -> Self {
        Self {
            measurement_type: Some(measurement_type.to_owned()),
            measurement_value: Some(measurement_value.to_vec()),
            version: Some(version.to_owned()),
            signer_id: Some(signer_id.to_vec()),
            measurement_desc: None,
        }
    }

    /// The three ACME RoadRunner components (BL 2.1.0, PRoT 1.3.5, ARoT
    /// 0.1.4) of Veraison's integration tests; their digests are what the
    /// PSA reference values in the shared vectors endorse.
    pub fn acme_components() -> Vec<Self> {
        const SIGNER: [u8; 32] = [
            0xac, 0xbb, 0x11, 0xc7, 0xe4, 0xda, 0x21, 0x72, 0x05, 0x52, 0x3c, 0xe4, 0xce, 0x1a,
            0x24, 0x5a, 0xe1, 0xa2, 0x39, 0xae, 0x3c, 0x6b, 0xfd, 0x9e, 0x78, 0x71, 0xf7, 0xe5,
            0xd8, 0xba, 0xe8, 0x6b,
        ];
        const BL: [u8; 32] = [
            0x87, 0x42, 0x8f, 0xc5, 0x22, 0x80, 0x3d, 0x31, 0x06, 0x5e, 0x7b, 0xce, 0x3c, 0xf0,
            0x3f, 0xe4, 0x75, 0x09, 0x66, 0x31, 0xe5, 0xe0, 0x7b, 0xbd, 0x7a, 0x0f, 0xde, 0x60,
            0xc4, 0xcf, 0x25, 0xc7,
        ];
        const PROT: [u8; 32] = [
            0x02, 0x63, 0x82, 0x99, 0x89, 0xb6, 0xfd, 0x95, 0x4f, 0x72, 0xba, 0xaf, 0x2f, 0xc6,
            0x4b, 0xc2, 0xe2, 0xf0, 0x1d, 0x69, 0x2d, 0x4d, 0xe7, 0x29, 0x86, 0xea, 0x80, 0x8f,
            0x6e, 0x99, 0x81, 0x3f,
        ];
        const AROT: [u8; 32] = [
            0xa3, 0xa5, 0xe7, 0x15, 0xf0, 0xcc, 0x57, 0x4a, 0x73, 0xc3, 0xf9, 0xbe, 0xbb, 0x6b,
            0xc2, 0x4f, 0x32, 0xff, 0xd5, 0xb6, 0x7b, 0x38, 0x72, 0x44, 0xc2, 0xc9, 0x09, 0xda,
            0x77, 0x9a, 0x14, 0x78,
        ];
        vec![
            Self::new("BL", "2.1.0", &BL, &SIGNER),
            Self::new("PRoT", "1.3.5", &PROT, &SIGNER),
            Self::new("ARoT", "0.1.4", &AROT, &SIGNER),
        ]
    }
}

/// A PSA claims-set under construction. Every claim is optional and integer
/// claims are wider than the spec allows, so out-of-range values can be
/// encoded too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsaClaims {
    /// Which claim keys to use.
    pub key_set: KeySet,
    /// The profile claim (265 for profile 2, -75000 for profile 1).
    pub profile: Option<String>,
    /// `psa-client-id`.
    pub client_id: Option<i64>,
    /// `psa-security-lifecycle`.
    pub security_lifecycle: Option<u64>,
    /// `psa-implementation-id`.
    pub implementation_id: Option<Vec<u8>>,
    /// `psa-instance-id` / `ueid`.
    pub instance_id: Option<Vec<u8>>,
    /// The nonce.
    pub nonce: Option<NonceClaim>,
    /// `psa-boot-seed`.
    pub boot_seed: Option<Vec<u8>>,
    /// `psa-certification-reference` / `psa-hwver`.
    pub certification_reference: Option<String>,
    /// `psa-software-components`.
    pub sw_components: Option<Vec<SwComponent>>,
    /// `psa-no-sw-measurements` (profile 1).
    pub no_sw_measurements: Option<u64>,
    /// `psa-verification-service-indicator`.
    pub vsi: Option<String>,
    /// Extra claims, appended after the others: key and already-encoded
    /// CBOR value (for unknown claims, duplicates or wrongly typed values).
    pub extra: Vec<(i64, Vec<u8>)>,
}

impl PsaClaims {
    /// A valid profile-2 claims-set with the ACME RoadRunner values of
    /// Veraison's integration tests (`psa.good.json`).
    pub fn profile_2() -> Self {
        Self {
            key_set: KeySet::Profile2,
            profile: Some(PROFILE_2.to_owned()),
            client_id: Some(1),
            security_lifecycle: Some(0x3000),
            implementation_id: Some(ACME_IMPLEMENTATION_ID.to_vec()),
            instance_id: Some(ACME_INSTANCE_ID.to_vec()),
            nonce: Some(NonceClaim::Single(ACME_NONCE.to_vec())),
            boot_seed: Some([0xde, 0xad, 0xbe, 0xef].repeat(8)),
            certification_reference: None,
            sw_components: Some(SwComponent::acme_components()),
            no_sw_measurements: None,
            vsi: Some("https://psa-verifier.org".to_owned()),
            extra: Vec::new(),
        }
    }

    /// As [`PsaClaims::profile_2`], under RFC 9783's TF-M profile name.
    pub fn profile_2_tfm() -> Self {
        Self {
            profile: Some(PROFILE_2_TFM.to_owned()),
            ..Self::profile_2()
        }
    }

    /// A valid PSA_IOT_PROFILE_1 claims-set with the same values.
    pub fn profile_1() -> Self {
        Self {
            key_set: KeySet::Profile1,
            profile: Some(PROFILE_1.to_owned()),
            ..Self::profile_2()
        }
    }

    /// Sets a single nonce.
    pub fn with_nonce(mut self, nonce: &[u8]) -> Self {
        self.nonce = Some(NonceClaim::Single(nonce.to_vec()));
        self
    }

    /// Sets the software components.
    pub fn with_sw_components(mut self, components: Vec<SwComponent>) -> Self {
        self.sw_components = Some(components);
        self
    }

    /// Sets the implementation and instance IDs.
    pub fn with_identity(mut self, implementation_id: &[u8], instance_id: &[u8]) -> Self {
        self.implementation_id = Some(implementation_id.to_vec());
        self.instance_id = Some(instance_id.to_vec());
        self
    }

    /// Encodes the claims-set as a CBOR map with the key set's integer keys.
    pub fn encode_claims(&self) -> Vec<u8> {
        let k = Keys::for_set(self.key_set);
        let mut entries: usize = self.extra.len();
        for present in [
            self.profile.is_some(),
            self.client_id.is_some(),
            self.security_lifecycle.is_some(),
            self.implementation_id.is_some(),
            self.boot_seed.is_some(),
            self.certification_reference.is_some(),
            self.sw_components.is_some(),
            self.no_sw_measurements.is_some(),
            self.nonce.is_some(),
            self.instance_id.is_some(),
            self.vsi.is_some(),
        ] {
            entries += usize::from(present);
        }

        let mut w = Writer::with_capacity(512);
        w.map(entries);
        if let Some(p) = &self.profile {
            w.int(k.profile).text(p);
        }
        if let Some(v) = self.client_id {
            w.int(k.client_id).int(v);
        }
        if let Some(v) = self.security_lifecycle {
            w.int(k.lifecycle).uint(v);
        }
        if let Some(v) = &self.implementation_id {
            w.int(k.implementation_id).bytes(v);
        }
        if let Some(v) = &self.boot_seed {
            w.int(k.boot_seed).bytes(v);
        }
        if let Some(v) = &self.certification_reference {
            w.int(k.certification_reference).text(v);
        }
        if let Some(comps) = &self.sw_components {
            w.int(k.sw_components).array(comps.len());
            for c in comps {
                encode_component(&mut w, c);
            }
        }
        if let Some(v) = self.no_sw_measurements {
            w.int(k.no_sw_measurements).uint(v);
        }
        if let Some(n) = &self.nonce {
            w.int(k.nonce);
            match n {
                NonceClaim::Single(v) => {
                    w.bytes(v);
                }
                NonceClaim::Multiple(vs) => {
                    w.array(vs.len());
                    for v in vs {
                        w.bytes(v);
                    }
                }
            }
        }
        if let Some(v) = &self.instance_id {
            w.int(k.instance_id).bytes(v);
        }
        if let Some(v) = &self.vsi {
            w.int(k.vsi).text(v);
        }
        for (key, raw) in &self.extra {
            w.int(*key).raw(raw);
        }
        w.into_inner()
    }

    /// Signs the claims into a tagged COSE_Sign1 with the key's algorithm
    /// (ES256 for a P-256 key).
    pub fn sign(&self, key: &SigningKey) -> Result<Vec<u8>, CryptoError> {
        sign1(&self.encode_claims(), key)
    }
}

fn encode_component(w: &mut Writer, c: &SwComponent) {
    let n = [
        c.measurement_type.is_some(),
        c.measurement_value.is_some(),
        c.version.is_some(),
        c.signer_id.is_some(),
        c.measurement_desc.is_some(),
    ]
    .into_iter()
    .filter(|p| *p)
    .count();
    w.map(n);
    if let Some(v) = &c.measurement_type {
        w.int(1).text(v);
    }
    if let Some(v) = &c.measurement_value {
        w.int(2).bytes(v);
    }
    if let Some(v) = &c.version {
        w.int(4).text(v);
    }
    if let Some(v) = &c.signer_id {
        w.int(5).bytes(v);
    }
    if let Some(v) = &c.measurement_desc {
        w.int(6).text(v);
    }
}

/// Wraps `payload` in a tagged COSE_Sign1 signed by `key`: protected header
/// `{1: alg}`, empty unprotected header, fixed-size `r || s` signature.
pub fn sign1(payload: &[u8], key: &SigningKey) -> Result<Vec<u8>, CryptoError> {
    sign1_with_alg(payload, key, key.algorithm().cose_id())
}

/// As [`sign1`] but with any COSE `alg` value in the protected header, for
/// tokens that claim an algorithm other than the one they are signed with.
pub fn sign1_with_alg(
    payload: &[u8],
    key: &SigningKey,
    cose_alg: i64,
) -> Result<Vec<u8>, CryptoError> {
    let mut protected = Writer::with_capacity(8);
    protected.map(1).int(1).int(cose_alg);
    let protected = protected.into_inner();

    let mut tbs = Writer::with_capacity(payload.len() + protected.len() + 24);
    tbs.array(4)
        .text("Signature1")
        .bytes(&protected)
        .bytes(&[])
        .bytes(payload);
    let signature = key.sign(&tbs.into_inner())?;

    let mut out = Writer::with_capacity(payload.len() + signature.len() + 24);
    out.tag(18)
        .array(4)
        .bytes(&protected)
        .map(0)
        .bytes(payload)
        .bytes(&signature);
    Ok(out.into_inner())
}

/// A simulated device: an identity and its attestation key.
#[derive(Clone, Debug)]
pub struct Device {
    /// `psa-implementation-id`.
    pub implementation_id: [u8; 32],
    /// `psa-instance-id`: 0x01 followed by the SHA-256 of the public key's
    /// SEC1 point, so distinct keys give distinct instances.
    pub instance_id: [u8; 33],
    /// The initial attestation key (P-256).
    pub key: SigningKey,
}

impl Device {
    /// A device of the ACME implementation with a fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self::with_key(
            ACME_IMPLEMENTATION_ID,
            keys::generate_device_key()?,
        ))
    }

    /// A device of the ACME implementation with a key derived from `seed`:
    /// the same seed always gives the same device.
    pub fn from_seed(seed: u64) -> Result<Self, CryptoError> {
        Ok(Self::with_key(
            ACME_IMPLEMENTATION_ID,
            keys::deterministic_key(seed)?,
        ))
    }

    /// A device of the given implementation holding `key`.
    pub fn with_key(implementation_id: [u8; 32], key: SigningKey) -> Self {
        let point_hash = digest::digest(&digest::SHA256, key.verifying_key().sec1_point());
        let mut instance_id = [0u8; 33];
        instance_id[0] = 0x01;
        for (dst, src) in instance_id[1..].iter_mut().zip(point_hash.as_ref()) {
            *dst = *src;
        }
        Self {
            implementation_id,
            instance_id,
            key,
        }
    }

    /// The device's public key as `PUBLIC KEY` PEM, for its trust anchor.
    pub fn spki_pem(&self) -> String {
        keys::spki_pem(&self.key)
    }

    /// Profile-2 claims for this device with the given nonce and components.
    pub fn claims(&self, nonce: &[u8], components: &[SwComponent]) -> PsaClaims {
        PsaClaims::profile_2()
            .with_identity(&self.implementation_id, &self.instance_id)
            .with_nonce(nonce)
            .with_sw_components(components.to_vec())
    }

    /// A signed profile-2 token for this device.
    pub fn token(&self, nonce: &[u8], components: &[SwComponent]) -> Result<Vec<u8>, CryptoError> {
        self.claims(nonce, components).sign(&self.key)
    }
}

/// Claim keys of one key set.
struct Keys {
    profile: i64,
    client_id: i64,
    lifecycle: i64,
    implementation_id: i64,
    boot_seed: i64,
    certification_reference: i64,
    sw_components: i64,
    no_sw_measurements: i64,
    nonce: i64,
    instance_id: i64,
    vsi: i64,
}

impl Keys {
    fn for_set(set: KeySet) -> Self {
        match set {
            KeySet::Profile1 => Self {
                profile: -75000,
                client_id: -75001,
                lifecycle: -75002,
                implementation_id: -75003,
                boot_seed: -75004,
                certification_reference: -75005,
                sw_components: -75006,
                no_sw_measurements: -75007,
                nonce: -75008,
                instance_id: -75009,
                vsi: -75010,
            },
            // Profile 2 has no no-sw-measurements claim; the profile-1 key is
            // used so that setting it still produces something decodable.
            KeySet::Profile2 => Self {
                profile: 265,
                client_id: 2394,
                lifecycle: 2395,
                implementation_id: 2396,
                boot_seed: 2397,
                certification_reference: 2398,
                sw_components: 2399,
                no_sw_measurements: -75007,
                nonce: 10,
                instance_id: 256,
                vsi: 2400,
            },
        }
    }
}

/// A minimal CBOR writer: definite lengths, shortest-form heads.
struct Writer(Vec<u8>);

impl Writer {
    fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    fn head(&mut self, major: u8, arg: u64) -> &mut Self {
        let m = major << 5;
        let be = arg.to_be_bytes();
        match arg {
            0..=23 => self.0.push(m | be[7]),
            24..=0xff => self.0.extend_from_slice(&[m | 24, be[7]]),
            0x100..=0xffff => {
                self.0.push(m | 25);
                self.0.extend_from_slice(&be[6..]);
            }
            0x1_0000..=0xffff_ffff => {
                self.0.push(m | 26);
                self.0.extend_from_slice(&be[4..]);
            }
            _ => {
                self.0.push(m | 27);
                self.0.extend_from_slice(&be);
            }
        }
        self
    }

    fn uint(&mut self, v: u64) -> &mut Self {
        self.head(0, v)
    }

    fn int(&mut self, v: i64) -> &mut Self {
        if v >= 0 {
            self.head(0, v.unsigned_abs())
        } else {
            // -1 - v, computed without overflow for i64::MIN.
            self.head(1, (v + 1).unsigned_abs())
        }
    }

    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.head(2, v.len() as u64);
        self.0.extend_from_slice(v);
        self
    }

    fn text(&mut self, v: &str) -> &mut Self {
        self.head(3, v.len() as u64);
        self.0.extend_from_slice(v.as_bytes());
        self
    }

    fn array(&mut self, n: usize) -> &mut Self {
        self.head(4, n as u64)
    }

    fn map(&mut self, n: usize) -> &mut Self {
        self.head(5, n as u64)
    }

    fn tag(&mut self, t: u64) -> &mut Self {
        self.head(6, t)
    }

    fn raw(&mut self, encoded: &[u8]) -> &mut Self {
        self.0.extend_from_slice(encoded);
        self
    }

    fn into_inner(self) -> Vec<u8> {
        self.0
    }
}

/// ES256's COSE identifier, for tests that garble the protected header.
pub const COSE_ES256: i64 = -7;

/// ES384's COSE identifier.
pub const COSE_ES384: i64 = -35;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_encodes_integers_in_shortest_form() {
        let mut w = Writer::with_capacity(16);
        w.int(0)
            .int(23)
            .int(24)
            .int(-1)
            .int(-24)
            .int(-25)
            .int(-75000)
            .int(2394);
        assert_eq!(
            w.into_inner(),
            [
                0x00, 0x17, 0x18, 0x18, 0x20, 0x37, 0x38, 0x18, 0x3a, 0x00, 0x01, 0x24, 0xf7, 0x19,
                0x09, 0x5a
            ]
        );
        let mut w = Writer::with_capacity(16);
        w.int(i64::MIN).uint(u64::MAX);
        let out = w.into_inner();
        assert_eq!(
            &out[..9],
            &[0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            &out[9..],
            &[0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
    }

    #[test]
    fn profile_2_claims_encode_the_expected_keys() {
        let bytes = PsaClaims::profile_2().encode_claims();
        // map(9), then 265 ("eat_profile") as the first key.
        assert_eq!(bytes[0], 0xa9);
        assert_eq!(&bytes[1..4], &[0x19, 0x01, 0x09]);
        let p1 = PsaClaims::profile_1().encode_claims();
        assert_eq!(p1[0], 0xa9);
        // -75000 = 0x3a 0x00 0x01 0x24 0xf7.
        assert_eq!(&p1[1..6], &[0x3a, 0x00, 0x01, 0x24, 0xf7]);
    }

    #[test]
    fn devices_from_the_same_seed_are_identical() {
        let a = Device::from_seed(42).unwrap();
        let b = Device::from_seed(42).unwrap();
        assert_eq!(a.instance_id, b.instance_id);
        assert_eq!(a.key.verifying_key(), b.key.verifying_key());
        assert_eq!(a.instance_id[0], 0x01);
        assert_ne!(a.instance_id, Device::from_seed(43).unwrap().instance_id);
    }
}
