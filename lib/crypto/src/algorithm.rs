//! Signature algorithms and curves.

use std::fmt;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED,
    ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm,
};

/// An ECDSA signature algorithm, as named by COSE and JWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (COSE -7, JWS `ES256`).
    Es256,
    /// ECDSA on P-384 with SHA-384 (COSE -35, JWS `ES384`).
    Es384,
}

impl Algorithm {
    /// Maps a COSE algorithm identifier (RFC 9053) onto an algorithm.
    pub fn from_cose(id: i64) -> Option<Self> {
        match id {
            -7 => Some(Self::Es256),
            -35 => Some(Self::Es384),
            _ => None,
        }
    }

    /// Maps a JWS `alg` name (RFC 7518) onto an algorithm.
    pub fn from_jws_name(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "ES384" => Some(Self::Es384),
            _ => None,
        }
    }

    /// The COSE algorithm identifier.
    pub fn cose_id(self) -> i64 {
        match self {
            Self::Es256 => -7,
            Self::Es384 => -35,
        }
    }

    /// The JWS `alg` name.
    pub fn jws_name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
        }
    }

    /// The curve a key must be on to be used with this algorithm.
    pub fn curve(self) -> Curve {
        match self {
            Self::Es256 => Curve::P256,
            Self::Es384 => Curve::P384,
        }
    }

    /// Length in bytes of a fixed-size `r || s` signature.
    pub fn signature_len(self) -> usize {
        2 * self.curve().field_len()
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jws_name())
    }
}

/// A NIST prime curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256 (secp256r1, prime256v1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
}

impl Curve {
    /// The JWK `crv` name (RFC 7518).
    pub fn jwk_name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
        }
    }

    /// Maps a JWK `crv` name onto a curve.
    pub fn from_jwk_name(name: &str) -> Option<Self> {
        match name {
            "P-256" => Some(Self::P256),
            "P-384" => Some(Self::P384),
            _ => None,
        }
    }

    /// The algorithm a key on this curve signs with.
    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::P256 => Algorithm::Es256,
            Self::P384 => Algorithm::Es384,
        }
    }

    /// Length in bytes of a field element (and of a private scalar).
    pub fn field_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }

    /// Length in bytes of an uncompressed SEC1 point (`0x04 || x || y`).
    pub fn point_len(self) -> usize {
        1 + 2 * self.field_len()
    }

    pub(crate) fn verification_alg(self) -> &'static EcdsaVerificationAlgorithm {
        match self {
            Self::P256 => &ECDSA_P256_SHA256_FIXED,
            Self::P384 => &ECDSA_P384_SHA384_FIXED,
        }
    }

    pub(crate) fn signing_alg(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Self::P256 => &ECDSA_P256_SHA256_FIXED_SIGNING,
            Self::P384 => &ECDSA_P384_SHA384_FIXED_SIGNING,
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jwk_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cose_ids_round_trip() {
        for alg in [Algorithm::Es256, Algorithm::Es384] {
            assert_eq!(Algorithm::from_cose(alg.cose_id()), Some(alg));
            assert_eq!(Algorithm::from_jws_name(alg.jws_name()), Some(alg));
            assert_eq!(alg.curve().algorithm(), alg);
        }
        assert_eq!(Algorithm::from_cose(-7), Some(Algorithm::Es256));
        assert_eq!(Algorithm::from_cose(-35), Some(Algorithm::Es384));
        assert_eq!(Algorithm::from_cose(-8), None);
        assert_eq!(Algorithm::from_jws_name("HS256"), None);
    }

    #[test]
    fn curve_names() {
        assert_eq!(Curve::from_jwk_name("P-256"), Some(Curve::P256));
        assert_eq!(Curve::from_jwk_name("P-384"), Some(Curve::P384));
        assert_eq!(Curve::from_jwk_name("P-521"), None);
        assert_eq!(Curve::P384.point_len(), 97);
        assert_eq!(Algorithm::Es256.signature_len(), 64);
    }
}
