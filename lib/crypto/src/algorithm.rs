//! Signature algorithms and curves.

use std::fmt;

use aws_lc_rs::digest;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING,
    ECDSA_P256_SHA384_ASN1, ECDSA_P256_SHA512_ASN1, ECDSA_P384_SHA256_ASN1, ECDSA_P384_SHA384_ASN1,
    ECDSA_P384_SHA384_FIXED, ECDSA_P384_SHA384_FIXED_SIGNING, ECDSA_P384_SHA512_ASN1,
    ECDSA_P521_SHA256_ASN1, ECDSA_P521_SHA256_FIXED, ECDSA_P521_SHA384_ASN1,
    ECDSA_P521_SHA384_FIXED, ECDSA_P521_SHA512_ASN1, ECDSA_P521_SHA512_FIXED,
    ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm,
};

/// An ECDSA signature algorithm, as named by COSE and JWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (COSE -7, JWS `ES256`).
    Es256,
    /// ECDSA on P-384 with SHA-384 (COSE -35, JWS `ES384`).
    Es384,
    /// ECDSA on P-521 with SHA-512 (COSE -36, JWS `ES512`).
    Es512,
}

impl Algorithm {
    /// Maps a COSE algorithm identifier (RFC 9053) onto an algorithm.
    pub fn from_cose(id: i64) -> Option<Self> {
        match id {
            -7 => Some(Self::Es256),
            -35 => Some(Self::Es384),
            -36 => Some(Self::Es512),
            _ => None,
        }
    }

    /// Maps a JWS `alg` name (RFC 7518) onto an algorithm.
    pub fn from_jws_name(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "ES384" => Some(Self::Es384),
            "ES512" => Some(Self::Es512),
            _ => None,
        }
    }

    /// The COSE algorithm identifier.
    pub fn cose_id(self) -> i64 {
        match self {
            Self::Es256 => -7,
            Self::Es384 => -35,
            Self::Es512 => -36,
        }
    }

    /// The JWS `alg` name.
    pub fn jws_name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
        }
    }

    /// The curve a key must be on to be used with this algorithm.
    pub fn curve(self) -> Curve {
        match self {
            Self::Es256 => Curve::P256,
            Self::Es384 => Curve::P384,
            Self::Es512 => Curve::P521,
        }
    }

    /// The hash the algorithm signs with.
    pub fn hash(self) -> Hash {
        match self {
            Self::Es256 => Hash::Sha256,
            Self::Es384 => Hash::Sha384,
            Self::Es512 => Hash::Sha512,
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
    /// NIST P-521 (secp521r1).
    P521,
}

impl Curve {
    /// The JWK `crv` name (RFC 7518).
    pub fn jwk_name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
            Self::P521 => "P-521",
        }
    }

    /// Maps a JWK `crv` name onto a curve.
    pub fn from_jwk_name(name: &str) -> Option<Self> {
        match name {
            "P-256" => Some(Self::P256),
            "P-384" => Some(Self::P384),
            "P-521" => Some(Self::P521),
            _ => None,
        }
    }

    /// The algorithm a key on this curve signs with.
    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::P256 => Algorithm::Es256,
            Self::P384 => Algorithm::Es384,
            Self::P521 => Algorithm::Es512,
        }
    }

    /// Length in bytes of a field element (and of a private scalar): the
    /// bit size rounded up, so 66 for P-521.
    pub fn field_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
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
            Self::P521 => &ECDSA_P521_SHA512_FIXED,
        }
    }

    /// The fixed-size `r || s` verification algorithm for this curve with an
    /// explicit hash, when AWS-LC has one (it lacks, for example, P-256 with
    /// SHA-384 in fixed form; callers fall back to the DER form).
    pub(crate) fn fixed_verification_alg(
        self,
        hash: Hash,
    ) -> Option<&'static EcdsaVerificationAlgorithm> {
        match (self, hash) {
            (Self::P256, Hash::Sha256) => Some(&ECDSA_P256_SHA256_FIXED),
            (Self::P384, Hash::Sha384) => Some(&ECDSA_P384_SHA384_FIXED),
            (Self::P521, Hash::Sha256) => Some(&ECDSA_P521_SHA256_FIXED),
            (Self::P521, Hash::Sha384) => Some(&ECDSA_P521_SHA384_FIXED),
            (Self::P521, Hash::Sha512) => Some(&ECDSA_P521_SHA512_FIXED),
            _ => None,
        }
    }

    /// The DER (`ECDSA-Sig-Value`) verification algorithm for this curve with
    /// `hash`, when AWS-LC has one.
    pub(crate) fn asn1_verification_alg(
        self,
        hash: Hash,
    ) -> Option<&'static EcdsaVerificationAlgorithm> {
        match (self, hash) {
            (Self::P256, Hash::Sha256) => Some(&ECDSA_P256_SHA256_ASN1),
            (Self::P256, Hash::Sha384) => Some(&ECDSA_P256_SHA384_ASN1),
            (Self::P256, Hash::Sha512) => Some(&ECDSA_P256_SHA512_ASN1),
            (Self::P384, Hash::Sha256) => Some(&ECDSA_P384_SHA256_ASN1),
            (Self::P384, Hash::Sha384) => Some(&ECDSA_P384_SHA384_ASN1),
            (Self::P384, Hash::Sha512) => Some(&ECDSA_P384_SHA512_ASN1),
            (Self::P521, Hash::Sha256) => Some(&ECDSA_P521_SHA256_ASN1),
            (Self::P521, Hash::Sha384) => Some(&ECDSA_P521_SHA384_ASN1),
            (Self::P521, Hash::Sha512) => Some(&ECDSA_P521_SHA512_ASN1),
        }
    }

    pub(crate) fn signing_alg(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Self::P256 => &ECDSA_P256_SHA256_FIXED_SIGNING,
            Self::P384 => &ECDSA_P384_SHA384_FIXED_SIGNING,
            Self::P521 => &ECDSA_P521_SHA512_FIXED_SIGNING,
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jwk_name())
    }
}

/// A SHA-2 hash, as named by signatures that carry their hash separately from
/// their key (X.509 `ecdsa-with-SHA384`, TPM quotes' `hashAlg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hash {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Hash {
    /// Length in bytes of the digest.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.aws_lc(), data).as_ref().to_vec()
    }

    /// The conventional name (`SHA-256`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    fn aws_lc(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        }
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cose_ids_round_trip() {
        for alg in [Algorithm::Es256, Algorithm::Es384, Algorithm::Es512] {
            assert_eq!(Algorithm::from_cose(alg.cose_id()), Some(alg));
            assert_eq!(Algorithm::from_jws_name(alg.jws_name()), Some(alg));
            assert_eq!(alg.curve().algorithm(), alg);
        }
        assert_eq!(Algorithm::from_cose(-7), Some(Algorithm::Es256));
        assert_eq!(Algorithm::from_cose(-35), Some(Algorithm::Es384));
        assert_eq!(Algorithm::from_cose(-36), Some(Algorithm::Es512));
        assert_eq!(Algorithm::from_jws_name("ES512"), Some(Algorithm::Es512));
        assert_eq!(Algorithm::Es512.hash(), Hash::Sha512);
        assert_eq!(Algorithm::from_cose(-8), None);
        assert_eq!(Algorithm::from_jws_name("HS256"), None);
    }

    #[test]
    fn curve_names() {
        assert_eq!(Curve::from_jwk_name("P-256"), Some(Curve::P256));
        assert_eq!(Curve::from_jwk_name("P-384"), Some(Curve::P384));
        assert_eq!(Curve::from_jwk_name("P-521"), Some(Curve::P521));
        assert_eq!(Curve::from_jwk_name("secp256k1"), None);
        assert_eq!(Curve::P384.point_len(), 97);
        assert_eq!(Curve::P521.point_len(), 133);
        assert_eq!(Curve::P521.field_len(), 66);
        assert_eq!(Algorithm::Es256.signature_len(), 64);
        assert_eq!(Algorithm::Es512.signature_len(), 132);
    }

    #[test]
    fn every_curve_hash_pair_has_a_der_verifier() {
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            for hash in [Hash::Sha256, Hash::Sha384, Hash::Sha512] {
                assert!(
                    curve.asn1_verification_alg(hash).is_some(),
                    "{curve} {hash}"
                );
            }
            assert!(
                curve
                    .fixed_verification_alg(curve.algorithm().hash())
                    .is_some()
            );
        }
    }

    #[test]
    fn hash_lengths() {
        for hash in [Hash::Sha256, Hash::Sha384, Hash::Sha512] {
            assert_eq!(hash.digest(b"abc").len(), hash.output_len());
        }
    }
}
