//! AR4SI trustworthiness claims and trust tiers.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// One AR4SI trustworthiness claim: a signed byte whose range says how
/// trustworthy the appraised aspect is (see [`TrustClaim::tier`]).
///
/// The named constants are the code points Veraison uses. Several categories
/// give the same number different meanings (2 is "approved runtime" for
/// `executables` and "genuine" for `hardware`), so the constants overlap.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TrustClaim(pub i8);

impl TrustClaim {
    // General.
    /// -1: the verifier malfunctioned while appraising the evidence.
    pub const VERIFIER_MALFUNCTION: Self = Self(-1);
    /// 0: no claim is made (the evidence is insufficient to conclude).
    pub const NO_CLAIM: Self = Self(0);
    /// 1: the evidence has unexpected elements the verifier cannot parse.
    pub const UNEXPECTED_EVIDENCE: Self = Self(1);
    /// 99: cryptographic validation of the evidence failed.
    pub const CRYPTO_VALIDATION_FAILED: Self = Self(99);

    // Tier representatives, as the OPA policy preamble names them.
    /// 2: the lowest affirming value.
    pub const AFFIRMING: Self = Self(2);
    /// 32: the lowest warning value.
    pub const WARNING: Self = Self(32);
    /// 96: the lowest contraindicated value.
    pub const CONTRAINDICATED: Self = Self(96);

    // Instance identity.
    /// 2: the attesting environment is recognised and not compromised.
    pub const TRUSTWORTHY_INSTANCE: Self = Self(2);
    /// 96: recognised, but its key shows a device that is not trustworthy.
    pub const UNTRUSTWORTHY_INSTANCE: Self = Self(96);
    /// 97: not recognised, although the verifier believes it should be.
    pub const UNRECOGNIZED_INSTANCE: Self = Self(97);

    // Configuration.
    /// 2: a known and approved configuration.
    pub const APPROVED_CONFIG: Self = Self(2);
    /// 3: the configuration exposes no known vulnerabilities.
    pub const NO_CONFIG_VULNS: Self = Self(3);
    /// 32: the configuration exposes known vulnerabilities.
    pub const UNSAFE_CONFIG: Self = Self(32);
    /// 96: the configuration exposes unacceptable vulnerabilities.
    pub const UNSUPPORTABLE_CONFIG: Self = Self(96);

    // Executables.
    /// 2: only approved executables were loaded, at boot and at run time.
    pub const APPROVED_RUNTIME: Self = Self(2);
    /// 3: only approved executables were loaded during boot.
    pub const APPROVED_BOOT: Self = Self(3);
    /// 32: recognised executables, some with known vulnerabilities.
    pub const UNSAFE_RUNTIME: Self = Self(32);
    /// 33: run-time memory holds unrecognised executables.
    pub const UNRECOGNIZED_RUNTIME: Self = Self(33);
    /// 96: run-time memory holds contraindicated executables.
    pub const CONTRAINDICATED_RUNTIME: Self = Self(96);

    // File system.
    /// 2: only approved files were found.
    pub const APPROVED_FILES: Self = Self(2);
    /// 32: unrecognised files were found.
    pub const UNRECOGNIZED_FILES: Self = Self(32);
    /// 96: contraindicated files were found.
    pub const CONTRAINDICATED_FILES: Self = Self(96);

    // Hardware.
    /// 2: genuine, supported hardware and firmware.
    pub const GENUINE_HARDWARE: Self = Self(2);
    /// 32: genuine hardware with known vulnerabilities.
    pub const UNSAFE_HARDWARE: Self = Self(32);
    /// 96: contraindicated hardware.
    pub const CONTRAINDICATED_HARDWARE: Self = Self(96);
    /// 97: unrecognised hardware.
    pub const UNRECOGNIZED_HARDWARE: Self = Self(97);

    // Runtime opaque.
    /// 2: run-time memory is encrypted.
    pub const ENCRYPTED_MEMORY_RUNTIME: Self = Self(2);
    /// 32: run-time memory is isolated.
    pub const ISOLATED_MEMORY_RUNTIME: Self = Self(32);
    /// 96: run-time memory is visible to other environments.
    pub const VISIBLE_MEMORY_RUNTIME: Self = Self(96);

    // Storage opaque.
    /// 2: secrets are encrypted with hardware-protected keys.
    pub const HW_KEYS_ENCRYPTED_SECRETS: Self = Self(2);
    /// 32: secrets are encrypted with software-held keys.
    pub const SW_KEYS_ENCRYPTED_SECRETS: Self = Self(32);
    /// 96: secrets are stored unencrypted.
    pub const UNENCRYPTED_SECRETS: Self = Self(96);

    // Sourced data.
    /// 2: all data came from trusted sources.
    pub const TRUSTED_SOURCES: Self = Self(2);
    /// 32: some data came from untrusted sources.
    pub const UNTRUSTED_SOURCES: Self = Self(32);
    /// 96: some data came from contraindicated sources.
    pub const CONTRAINDICATED_SOURCES: Self = Self(96);

    /// The claim's raw value.
    pub fn value(self) -> i8 {
        self.0
    }

    /// The tier the claim falls in: none [-1, 1], affirming [2, 31] and
    /// [-32, -2], warning [32, 95] and [-96, -33], contraindicated [96, 127]
    /// and [-128, -97].
    pub fn tier(self) -> TrustTier {
        match self.0 {
            -1..=1 => TrustTier::None,
            2..=31 | -32..=-2 => TrustTier::Affirming,
            32..=95 | -96..=-33 => TrustTier::Warning,
            _ => TrustTier::Contraindicated,
        }
    }
}

impl From<i8> for TrustClaim {
    fn from(value: i8) -> Self {
        Self(value)
    }
}

impl fmt::Display for TrustClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The overall verdict of an appraisal (`ear.status`), ordered from least to
/// most severe so the status of a submod is the maximum of its tiers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrustTier {
    /// No verdict could be reached (code point 0).
    #[default]
    None,
    /// The attester can be considered trustworthy (2).
    Affirming,
    /// Mostly fine; some checks need the relying party's attention (32).
    Warning,
    /// Some checks failed: the attester is not trustworthy (96).
    Contraindicated,
}

/// `ear.status` is a trust tier.
pub type Status = TrustTier;

impl TrustTier {
    /// The JSON name: `none`, `affirming`, `warning` or `contraindicated`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Affirming => "affirming",
            Self::Warning => "warning",
            Self::Contraindicated => "contraindicated",
        }
    }

    /// The tier's code point: 0, 2, 32 or 96.
    pub fn code_point(self) -> i8 {
        match self {
            Self::None => 0,
            Self::Affirming => 2,
            Self::Warning => 32,
            Self::Contraindicated => 96,
        }
    }

    /// Parses a tier name as serialised in `ear.status`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "none" => Some(Self::None),
            "affirming" => Some(Self::Affirming),
            "warning" => Some(Self::Warning),
            "contraindicated" => Some(Self::Contraindicated),
            _ => None,
        }
    }

    /// Parses a tier code point (0, 2, 32 or 96).
    pub fn from_code_point(value: i64) -> Option<Self> {
        match value {
            0 => Some(Self::None),
            2 => Some(Self::Affirming),
            32 => Some(Self::Warning),
            96 => Some(Self::Contraindicated),
            _ => None,
        }
    }
}

impl fmt::Display for TrustTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TrustTier {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TrustTier {
    /// Accepts the names, and (like the Go library) the code points 0, 2,
    /// 32 and 96.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TierVisitor;

        impl Visitor<'_> for TierVisitor {
            type Value = TrustTier;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a trust tier name or code point (0, 2, 32, 96)")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<TrustTier, E> {
                TrustTier::from_name(v)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TrustTier, E> {
                TrustTier::from_code_point(v)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Signed(v), &self))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TrustTier, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(TrustTier::from_code_point)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
        }

        deserializer.deserialize_any(TierVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_the_ar4si_ranges() {
        for v in i8::MIN..=i8::MAX {
            let expected = match v {
                -1..=1 => TrustTier::None,
                2..=31 | -32..=-2 => TrustTier::Affirming,
                32..=95 | -96..=-33 => TrustTier::Warning,
                96..=127 | -128..=-97 => TrustTier::Contraindicated,
            };
            assert_eq!(TrustClaim(v).tier(), expected, "claim {v}");
        }
        assert_eq!(TrustClaim::VERIFIER_MALFUNCTION.tier(), TrustTier::None);
        assert_eq!(TrustClaim::UNEXPECTED_EVIDENCE.tier(), TrustTier::None);
        assert_eq!(
            TrustClaim::CRYPTO_VALIDATION_FAILED.tier(),
            TrustTier::Contraindicated
        );
        assert_eq!(TrustClaim::APPROVED_BOOT.tier(), TrustTier::Affirming);
        assert_eq!(TrustClaim::UNRECOGNIZED_RUNTIME.tier(), TrustTier::Warning);
        assert_eq!(
            TrustClaim::UNRECOGNIZED_INSTANCE.tier(),
            TrustTier::Contraindicated
        );
    }

    #[test]
    fn tier_boundaries() {
        let cases = [
            (-128, TrustTier::Contraindicated),
            (-97, TrustTier::Contraindicated),
            (-96, TrustTier::Warning),
            (-33, TrustTier::Warning),
            (-32, TrustTier::Affirming),
            (-2, TrustTier::Affirming),
            (-1, TrustTier::None),
            (1, TrustTier::None),
            (2, TrustTier::Affirming),
            (31, TrustTier::Affirming),
            (32, TrustTier::Warning),
            (95, TrustTier::Warning),
            (96, TrustTier::Contraindicated),
            (127, TrustTier::Contraindicated),
        ];
        for (v, tier) in cases {
            assert_eq!(TrustClaim(v).tier(), tier, "claim {v}");
        }
    }

    #[test]
    fn tiers_are_ordered_by_severity() {
        assert!(TrustTier::None < TrustTier::Affirming);
        assert!(TrustTier::Affirming < TrustTier::Warning);
        assert!(TrustTier::Warning < TrustTier::Contraindicated);
        for tier in [
            TrustTier::None,
            TrustTier::Affirming,
            TrustTier::Warning,
            TrustTier::Contraindicated,
        ] {
            assert_eq!(TrustClaim(tier.code_point()).tier(), tier);
            assert_eq!(TrustTier::from_name(tier.as_str()), Some(tier));
        }
    }

    #[test]
    fn tier_json() {
        assert_eq!(
            serde_json::to_string(&TrustTier::Warning).unwrap(),
            r#""warning""#
        );
        let parse = |s: &str| serde_json::from_str::<TrustTier>(s);
        assert_eq!(
            parse(r#""contraindicated""#).unwrap(),
            TrustTier::Contraindicated
        );
        assert_eq!(parse("2").unwrap(), TrustTier::Affirming);
        assert_eq!(parse("0").unwrap(), TrustTier::None);
        assert!(parse(r#""AFFIRMING""#).is_err());
        assert!(parse("3").is_err());
        assert!(parse("-1").is_err());
        assert!(parse("2.0").is_err());
        assert!(parse("null").is_err());
    }

    #[test]
    fn claim_json() {
        assert_eq!(serde_json::to_string(&TrustClaim(-128)).unwrap(), "-128");
        assert_eq!(
            serde_json::from_str::<TrustClaim>("127").unwrap(),
            TrustClaim(127)
        );
        assert!(serde_json::from_str::<TrustClaim>("128").is_err());
        assert!(serde_json::from_str::<TrustClaim>("-129").is_err());
        assert!(serde_json::from_str::<TrustClaim>("\"2\"").is_err());
        assert!(serde_json::from_str::<TrustClaim>("2.5").is_err());
    }
}
