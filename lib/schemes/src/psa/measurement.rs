//! The PSA IoT reference measurement and its matching rules.

use serde::{Deserialize, Serialize};

/// How a reference measurement is matched against evidence. Veraison's
/// CoRIM encodings come with different matching semantics, and a
/// measurement remembers which one it came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchRule {
    /// `tag:arm.com,2025:psa#1.0.0`: every software component in the
    /// evidence must be among the reference values.
    PsaComponent,
    /// `http://arm.com/psa/iot/1`: every reference value must be found in
    /// the evidence.
    PsaRefValId,
}

/// A PSA reference measurement, stored as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Measurement {
    /// Matching semantics.
    pub rule: MatchRule,
    /// Measurement type / component name (e.g. `BL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Component version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Signer id (hex in JSON).
    #[serde(
        default,
        with = "crate::hex_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub signer_id: Option<Vec<u8>>,
    /// Digests as (COSE/named-information algorithm id, value).
    pub digests: Vec<Digest>,
}

/// One digest of a measurement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest {
    /// Hash algorithm id (named-information registry; 1 = sha-256).
    pub alg: i64,
    /// Digest value (hex in JSON).
    #[serde(with = "crate::hex_bytes")]
    pub value: Vec<u8>,
}
