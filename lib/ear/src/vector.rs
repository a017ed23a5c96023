//! The AR4SI trustworthiness vector.

use serde::{Deserialize, Serialize};

use crate::{TrustClaim, TrustTier};

/// The eight AR4SI trustworthiness claims of one appraisal
/// (`ear.trustworthiness-vector`).
///
/// Always serialised with all eight keys as integers, in the (sorted) order
/// Veraison emits them. When parsing, a missing key is "no claim" (0), as in
/// the Go library; an unknown key is an error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(remote = "Self", default, deny_unknown_fields)]
pub struct TrustVector {
    /// How the configuration was appraised.
    #[serde(rename = "configuration")]
    pub configuration: TrustClaim,
    /// How the loaded executables were appraised.
    #[serde(rename = "executables")]
    pub executables: TrustClaim,
    /// How the file system was appraised.
    #[serde(rename = "file-system")]
    pub file_system: TrustClaim,
    /// How the hardware and firmware were appraised.
    #[serde(rename = "hardware")]
    pub hardware: TrustClaim,
    /// How the attester's identity was appraised.
    #[serde(rename = "instance-identity")]
    pub instance_identity: TrustClaim,
    /// How the protection of run-time memory was appraised.
    #[serde(rename = "runtime-opaque")]
    pub runtime_opaque: TrustClaim,
    /// How the provenance of sourced data was appraised.
    #[serde(rename = "sourced-data")]
    pub sourced_data: TrustClaim,
    /// How the protection of stored secrets was appraised.
    #[serde(rename = "storage-opaque")]
    pub storage_opaque: TrustClaim,
}

serde_map_only!(TrustVector, "a trustworthiness vector object");

impl TrustVector {
    /// The category names, as serialised.
    pub const CATEGORIES: [&'static str; 8] = [
        "instance-identity",
        "configuration",
        "executables",
        "file-system",
        "hardware",
        "runtime-opaque",
        "storage-opaque",
        "sourced-data",
    ];

    /// A vector with every claim set to `claim`.
    pub fn all(claim: TrustClaim) -> Self {
        let mut v = Self::default();
        v.set_all(claim);
        v
    }

    /// Sets every claim to `claim`: -1 for a verifier malfunction, 0 to
    /// reset, 99 when cryptographic validation failed.
    pub fn set_all(&mut self, claim: TrustClaim) {
        for c in self.claims_mut() {
            *c = claim;
        }
    }

    /// The claims with their category names, in [`CATEGORIES`](Self::CATEGORIES) order.
    pub fn claims(&self) -> [(&'static str, TrustClaim); 8] {
        [
            ("instance-identity", self.instance_identity),
            ("configuration", self.configuration),
            ("executables", self.executables),
            ("file-system", self.file_system),
            ("hardware", self.hardware),
            ("runtime-opaque", self.runtime_opaque),
            ("storage-opaque", self.storage_opaque),
            ("sourced-data", self.sourced_data),
        ]
    }

    fn claims_mut(&mut self) -> [&mut TrustClaim; 8] {
        [
            &mut self.instance_identity,
            &mut self.configuration,
            &mut self.executables,
            &mut self.file_system,
            &mut self.hardware,
            &mut self.runtime_opaque,
            &mut self.storage_opaque,
            &mut self.sourced_data,
        ]
    }

    /// The claim of the category called `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<TrustClaim> {
        self.claims()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| c)
    }

    /// Mutable access to the claim of the category called `name` (policies
    /// name categories by their JSON keys).
    pub fn get_mut(&mut self, name: &str) -> Option<&mut TrustClaim> {
        let index = Self::CATEGORIES.iter().position(|n| *n == name)?;
        self.claims_mut().into_iter().nth(index)
    }

    /// The most severe tier among the claims (none for an all-zero vector).
    pub fn max_tier(&self) -> TrustTier {
        self.claims()
            .iter()
            .map(|(_, c)| c.tier())
            .max()
            .unwrap_or(TrustTier::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_all_eight_keys_as_integers() {
        let v = TrustVector {
            instance_identity: TrustClaim::TRUSTWORTHY_INSTANCE,
            executables: TrustClaim::APPROVED_RUNTIME,
            hardware: TrustClaim::GENUINE_HARDWARE,
            runtime_opaque: TrustClaim::ENCRYPTED_MEMORY_RUNTIME,
            storage_opaque: TrustClaim::HW_KEYS_ENCRYPTED_SECRETS,
            ..TrustVector::default()
        };
        // Byte-for-byte what Veraison emits for a good PSA token.
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"configuration":0,"executables":2,"file-system":0,"hardware":2,"instance-identity":2,"runtime-opaque":2,"sourced-data":0,"storage-opaque":2}"#
        );
        let zero = serde_json::to_value(TrustVector::default()).unwrap();
        let obj = zero.as_object().unwrap();
        assert_eq!(obj.len(), 8);
        for name in TrustVector::CATEGORIES {
            assert_eq!(obj[name], json!(0), "{name}");
        }
    }

    #[test]
    fn parses_partial_vectors_and_rejects_unknown_keys() {
        let v: TrustVector = serde_json::from_value(
            json!({"instance-identity": 2, "executables": 96, "hardware": 2}),
        )
        .unwrap();
        assert_eq!(v.instance_identity, TrustClaim(2));
        assert_eq!(v.executables, TrustClaim(96));
        assert_eq!(v.configuration, TrustClaim::NO_CLAIM);
        assert!(serde_json::from_value::<TrustVector>(json!({"firmware": 2})).is_err());
        assert!(serde_json::from_value::<TrustVector>(json!({"hardware": 300})).is_err());
        assert!(serde_json::from_value::<TrustVector>(json!({"hardware": "2"})).is_err());
        assert!(serde_json::from_value::<TrustVector>(json!([2, 2])).is_err());
    }

    #[test]
    fn set_all_and_names() {
        let mut v = TrustVector::default();
        v.set_all(TrustClaim::CRYPTO_VALIDATION_FAILED);
        assert!(v.claims().iter().all(|(_, c)| *c == TrustClaim(99)));
        assert_eq!(v, TrustVector::all(TrustClaim(99)));
        for (i, name) in TrustVector::CATEGORIES.iter().enumerate() {
            let mut v = TrustVector::default();
            *v.get_mut(name).unwrap() = TrustClaim(i8::try_from(i).unwrap() + 10);
            assert_eq!(v.get(name), Some(TrustClaim(i8::try_from(i).unwrap() + 10)));
            // Exactly that field changed, and it serialises under its name.
            assert_eq!(v.claims().iter().filter(|(_, c)| c.0 != 0).count(), 1);
            assert_eq!(serde_json::to_value(v).unwrap()[*name], json!(i + 10));
        }
        assert_eq!(v.get("nope"), None);
        assert!(v.get_mut("nope").is_none());
    }

    #[test]
    fn max_tier() {
        assert_eq!(TrustVector::default().max_tier(), TrustTier::None);
        let mut v = TrustVector::all(TrustClaim(2));
        assert_eq!(v.max_tier(), TrustTier::Affirming);
        v.executables = TrustClaim::UNRECOGNIZED_RUNTIME;
        assert_eq!(v.max_tier(), TrustTier::Warning);
        v.file_system = TrustClaim(-100);
        assert_eq!(v.max_tier(), TrustTier::Contraindicated);
        assert_eq!(TrustVector::all(TrustClaim(-1)).max_tier(), TrustTier::None);
    }
}
