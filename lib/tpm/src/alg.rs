//! TPM algorithm identifiers (TPM 2.0 Part 2, TPM_ALG_ID) and ECC curve
//! identifiers (TPM_ECC_CURVE).

use std::fmt;

/// A TPM_ALG_ID, kept as the raw value so that identifiers this crate has no
/// use for still round-trip and print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TpmAlgId(pub u16);

impl TpmAlgId {
    /// TPM_ALG_RSA.
    pub const RSA: Self = Self(0x0001);
    /// TPM_ALG_SHA1.
    pub const SHA1: Self = Self(0x0004);
    /// TPM_ALG_HMAC.
    pub const HMAC: Self = Self(0x0005);
    /// TPM_ALG_KEYEDHASH.
    pub const KEYEDHASH: Self = Self(0x0008);
    /// TPM_ALG_SHA256.
    pub const SHA256: Self = Self(0x000B);
    /// TPM_ALG_SHA384.
    pub const SHA384: Self = Self(0x000C);
    /// TPM_ALG_SHA512.
    pub const SHA512: Self = Self(0x000D);
    /// TPM_ALG_NULL.
    pub const NULL: Self = Self(0x0010);
    /// TPM_ALG_SM3_256.
    pub const SM3_256: Self = Self(0x0012);
    /// TPM_ALG_RSASSA (PKCS#1 v1.5 signatures).
    pub const RSASSA: Self = Self(0x0014);
    /// TPM_ALG_RSAPSS.
    pub const RSAPSS: Self = Self(0x0016);
    /// TPM_ALG_ECDSA.
    pub const ECDSA: Self = Self(0x0018);
    /// TPM_ALG_ECDH.
    pub const ECDH: Self = Self(0x0019);
    /// TPM_ALG_ECDAA.
    pub const ECDAA: Self = Self(0x001A);
    /// TPM_ALG_SM2.
    pub const SM2: Self = Self(0x001B);
    /// TPM_ALG_ECSCHNORR.
    pub const ECSCHNORR: Self = Self(0x001C);
    /// TPM_ALG_ECC.
    pub const ECC: Self = Self(0x0023);
    /// TPM_ALG_SYMCIPHER.
    pub const SYMCIPHER: Self = Self(0x0025);
    /// TPM_ALG_SHA3_256.
    pub const SHA3_256: Self = Self(0x0027);
    /// TPM_ALG_SHA3_384.
    pub const SHA3_384: Self = Self(0x0028);
    /// TPM_ALG_SHA3_512.
    pub const SHA3_512: Self = Self(0x0029);

    /// The raw identifier.
    pub fn value(self) -> u16 {
        self.0
    }

    /// The specification's name for the algorithm, when this crate knows it.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::RSA => "RSA",
            Self::SHA1 => "SHA1",
            Self::HMAC => "HMAC",
            Self::KEYEDHASH => "KEYEDHASH",
            Self::SHA256 => "SHA256",
            Self::SHA384 => "SHA384",
            Self::SHA512 => "SHA512",
            Self::NULL => "NULL",
            Self::SM3_256 => "SM3_256",
            Self::RSASSA => "RSASSA",
            Self::RSAPSS => "RSAPSS",
            Self::ECDSA => "ECDSA",
            Self::ECDH => "ECDH",
            Self::ECDAA => "ECDAA",
            Self::SM2 => "SM2",
            Self::ECSCHNORR => "ECSCHNORR",
            Self::ECC => "ECC",
            Self::SYMCIPHER => "SYMCIPHER",
            Self::SHA3_256 => "SHA3_256",
            Self::SHA3_384 => "SHA3_384",
            Self::SHA3_512 => "SHA3_512",
            _ => return None,
        })
    }

    /// Digest size in bytes when this identifies a hash algorithm, as go-tpm
    /// knows them (the sizes a TPM2B_NAME or TPMT_HA digest must have).
    pub fn digest_len(self) -> Option<usize> {
        match self {
            Self::SHA1 => Some(20),
            Self::SHA256 | Self::SM3_256 | Self::SHA3_256 => Some(32),
            Self::SHA384 | Self::SHA3_384 => Some(48),
            Self::SHA512 | Self::SHA3_512 => Some(64),
            _ => None,
        }
    }

    /// The hash this crate can compute for this identifier (SHA-256,
    /// SHA-384, SHA-512), if any.
    pub fn hash(self) -> Option<vouch_crypto::Hash> {
        match self {
            Self::SHA256 => Some(vouch_crypto::Hash::Sha256),
            Self::SHA384 => Some(vouch_crypto::Hash::Sha384),
            Self::SHA512 => Some(vouch_crypto::Hash::Sha512),
            _ => None,
        }
    }

    /// The IANA "Named Information Hash Algorithm" identifier of a hash
    /// algorithm (the digest algorithm ids CoRIM and SWID use: 1 sha-256,
    /// 7 sha-384, 8 sha-512, 10 sha3-256, 11 sha3-384, 12 sha3-512), as the
    /// Parsec library maps them.
    pub fn named_info_id(self) -> Option<u64> {
        match self {
            Self::SHA256 => Some(1),
            Self::SHA384 => Some(7),
            Self::SHA512 => Some(8),
            Self::SHA3_256 => Some(10),
            Self::SHA3_384 => Some(11),
            Self::SHA3_512 => Some(12),
            _ => None,
        }
    }

    /// The TPM identifier of a hash this crate computes.
    pub fn from_hash(hash: vouch_crypto::Hash) -> Self {
        match hash {
            vouch_crypto::Hash::Sha256 => Self::SHA256,
            vouch_crypto::Hash::Sha384 => Self::SHA384,
            vouch_crypto::Hash::Sha512 => Self::SHA512,
        }
    }
}

impl fmt::Display for TpmAlgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{:#06x} ({name})", self.0),
            None => write!(f, "{:#06x}", self.0),
        }
    }
}

/// A TPM_ECC_CURVE identifier for the curves Vouch verifies with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EccCurve {
    /// TPM_ECC_NIST_P256 (0x0003).
    NistP256,
    /// TPM_ECC_NIST_P384 (0x0004).
    NistP384,
    /// TPM_ECC_NIST_P521 (0x0005).
    NistP521,
}

impl EccCurve {
    /// Maps a TPM_ECC_CURVE value onto a supported curve.
    pub fn from_tpm(id: u16) -> Option<Self> {
        match id {
            0x0003 => Some(Self::NistP256),
            0x0004 => Some(Self::NistP384),
            0x0005 => Some(Self::NistP521),
            _ => None,
        }
    }

    /// The TPM_ECC_CURVE value.
    pub fn tpm_id(self) -> u16 {
        match self {
            Self::NistP256 => 0x0003,
            Self::NistP384 => 0x0004,
            Self::NistP521 => 0x0005,
        }
    }

    /// The same curve as `vouch_crypto` names it.
    pub fn curve(self) -> vouch_crypto::Curve {
        match self {
            Self::NistP256 => vouch_crypto::Curve::P256,
            Self::NistP384 => vouch_crypto::Curve::P384,
            Self::NistP521 => vouch_crypto::Curve::P521,
        }
    }

    /// The TPM curve for a `vouch_crypto` curve.
    pub fn from_curve(curve: vouch_crypto::Curve) -> Self {
        match curve {
            vouch_crypto::Curve::P256 => Self::NistP256,
            vouch_crypto::Curve::P384 => Self::NistP384,
            vouch_crypto::Curve::P521 => Self::NistP521,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sizes() {
        assert_eq!(TpmAlgId::SHA256.to_string(), "0x000b (SHA256)");
        assert_eq!(TpmAlgId(0x1234).to_string(), "0x1234");
        assert_eq!(TpmAlgId::SHA384.digest_len(), Some(48));
        assert_eq!(TpmAlgId::ECDSA.digest_len(), None);
        assert_eq!(TpmAlgId::SHA512.named_info_id(), Some(8));
        assert_eq!(TpmAlgId::SHA1.hash(), None);
        for h in [
            vouch_crypto::Hash::Sha256,
            vouch_crypto::Hash::Sha384,
            vouch_crypto::Hash::Sha512,
        ] {
            assert_eq!(TpmAlgId::from_hash(h).hash(), Some(h));
        }
        for c in [EccCurve::NistP256, EccCurve::NistP384, EccCurve::NistP521] {
            assert_eq!(EccCurve::from_tpm(c.tpm_id()), Some(c));
            assert_eq!(EccCurve::from_curve(c.curve()), c);
        }
        assert_eq!(EccCurve::from_tpm(0x0010), None);
    }
}
