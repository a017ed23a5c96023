//! The Arm CCA reference values and their matching rules, as stored.
//!
//! One stored body is one [`CcaReference`]: a platform software component
//! or platform configuration (stored under the implementation ID), or one
//! realm's reference values (stored under its initial measurement). A realm
//! is kept whole, RIM, REMs and personalization value together, because the
//! three are only meaningful as one endorsed state.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that read and write as a hex string (for `Option`s and arrays,
/// where `#[serde(with)]` does not reach).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hex(pub Vec<u8>);

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::hex_bytes::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::hex_bytes::deserialize(d).map(Hex)
    }
}

/// How a software-component reference value is matched. Veraison's CoRIM
/// encodings come with different semantics, and a reference value remembers
/// which one it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchRule {
    /// `cca.software-component` (current encoding): every software
    /// component in the evidence must be endorsed.
    CcaComponent,
    /// `psa.refval-id` (legacy encoding): every reference value must be
    /// found in the evidence.
    PsaRefValId,
}

/// One digest of a measurement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest {
    /// Hash algorithm id (named-information registry: 1 sha-256, 7 sha-384,
    /// 8 sha-512).
    pub alg: i64,
    /// Digest value (hex in JSON).
    #[serde(with = "crate::hex_bytes")]
    pub value: Vec<u8>,
}

/// A platform software component reference value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SoftwareComponent {
    /// Matching semantics.
    pub rule: MatchRule,
    /// Measurement type (component name, e.g. `BL`); compared when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Component version; compared when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Signer ID; compared when set, under the legacy rule only (the current
    /// profile's `cryptokeys` are informative, as in Veraison).
    #[serde(
        default,
        with = "crate::hex_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub signer_id: Option<Vec<u8>>,
    /// The measurement values that are endorsed (at least one).
    pub digests: Vec<Digest>,
}

/// The endorsed platform configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlatformConfig {
    /// The legacy encoding's label (`#6.602`), informative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The configuration bytes the platform must report, exactly.
    #[serde(with = "crate::hex_bytes")]
    pub value: Vec<u8>,
}

/// Number of realm extensible measurements.
pub const REM_COUNT: usize = 4;

/// The reference values of one realm: one endorsed realm state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RealmReference {
    /// The realm initial measurement (also the store key).
    #[serde(with = "crate::hex_bytes")]
    pub rim: Vec<u8>,
    /// The extensible measurements REM0..REM3 that are endorsed; `None`
    /// where the CoRIM says nothing about a register.
    pub rems: [Option<Hex>; REM_COUNT],
    /// The realm personalization value, when the endorser pins one (without
    /// it, every realm started from this RIM is the endorsed one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpv: Option<Hex>,
}

/// One Arm CCA reference value, as stored (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CcaReference {
    /// A platform software component (stored under the implementation ID).
    SoftwareComponent(SoftwareComponent),
    /// The platform configuration (stored under the implementation ID).
    PlatformConfig(PlatformConfig),
    /// One realm's reference values (stored under its RIM).
    Realm(RealmReference),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn references_round_trip_through_readable_json() {
        let refs = [
            CcaReference::SoftwareComponent(SoftwareComponent {
                rule: MatchRule::CcaComponent,
                name: Some("BL".into()),
                version: None,
                signer_id: Some(vec![0xaa; 32]),
                digests: vec![Digest {
                    alg: 1,
                    value: vec![7; 32],
                }],
            }),
            CcaReference::PlatformConfig(PlatformConfig {
                label: Some("cfg v1.0.0".into()),
                value: vec![1, 2, 3],
            }),
            CcaReference::Realm(RealmReference {
                rim: vec![0x43; 64],
                rems: [Some(Hex(vec![1; 32])), None, None, Some(Hex(vec![2; 32]))],
                rpv: None,
            }),
        ];
        for r in refs {
            let json = crate::encode_reference(&r);
            let text = String::from_utf8(json.clone()).unwrap();
            assert!(text.contains("\"kind\""), "{text}");
            let back: CcaReference = serde_json::from_slice(&json).unwrap();
            assert_eq!(back, r);
        }
        let config = crate::encode_reference(&CcaReference::PlatformConfig(PlatformConfig {
            label: None,
            value: vec![1, 2, 3],
        }));
        assert_eq!(
            String::from_utf8(config).unwrap(),
            r#"{"kind":"platform-config","value":"010203"}"#
        );
        assert!(serde_json::from_str::<CcaReference>(r#"{"kind":"realm","rim":"zz"}"#).is_err());
    }
}
