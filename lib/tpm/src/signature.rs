//! TPMT_SIGNATURE (TPM 2.0 Part 2, 11.3.4) and its verification.

use vouch_crypto::VerifyingKey;

use crate::alg::TpmAlgId;
use crate::error::{SignatureError, TpmError};
use crate::marshal::{Reader, Writer};

/// A decoded TPMT_SIGNATURE. As go-tpm does, ECDSA, RSASSA and RSAPSS
/// signatures are decoded and every other scheme is rejected; only ECDSA is
/// verified.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TpmtSignature {
    /// TPM_ALG_ECDSA: TPMS_SIGNATURE_ECC.
    Ecdsa {
        /// `hash`: the hash the TPM signed the digest of.
        hash: TpmAlgId,
        /// `signatureR`, big-endian, as written (may be shorter than the
        /// field: Go's big.Int.Bytes() drops leading zeros).
        r: Vec<u8>,
        /// `signatureS`, likewise.
        s: Vec<u8>,
    },
    /// TPM_ALG_RSASSA or TPM_ALG_RSAPSS: TPMS_SIGNATURE_RSA.
    Rsa {
        /// RSASSA or RSAPSS.
        scheme: TpmAlgId,
        /// `hash`.
        hash: TpmAlgId,
        /// The signature value.
        signature: Vec<u8>,
    },
}

impl TpmtSignature {
    /// Decodes a TPMT_SIGNATURE that fills `bytes` exactly.
    pub fn decode(bytes: &[u8]) -> Result<Self, TpmError> {
        let mut r = Reader::new(bytes);
        let sig = Self::decode_from(&mut r)?;
        r.finish("TPMT_SIGNATURE")?;
        Ok(sig)
    }

    pub(crate) fn decode_from(r: &mut Reader<'_>) -> Result<Self, TpmError> {
        let alg = TpmAlgId(r.u16("Alg")?);
        match alg {
            TpmAlgId::ECDSA => {
                let hash = TpmAlgId(r.u16("ECC")?);
                let sig_r = r.tpm2b("ECC")?.to_vec();
                let sig_s = r.tpm2b("ECC")?.to_vec();
                Ok(Self::Ecdsa {
                    hash,
                    r: sig_r,
                    s: sig_s,
                })
            }
            TpmAlgId::RSASSA | TpmAlgId::RSAPSS => {
                let hash = TpmAlgId(r.u16("RSA")?);
                let signature = r.tpm2b("RSA")?.to_vec();
                Ok(Self::Rsa {
                    scheme: alg,
                    hash,
                    signature,
                })
            }
            other => Err(TpmError::UnsupportedSignatureAlgorithm(other)),
        }
    }

    /// An ECDSA signature from a fixed-size `r || s` (as
    /// [`vouch_crypto::SigningKey::sign`] makes), written with full-length
    /// scalars as a TPM writes them.
    pub fn ecdsa_from_fixed(hash: TpmAlgId, fixed: &[u8]) -> Self {
        let (r, s) = fixed.split_at(fixed.len() / 2);
        Self::Ecdsa {
            hash,
            r: r.to_vec(),
            s: s.to_vec(),
        }
    }

    /// Marshals the signature.
    pub fn encode(&self) -> Result<Vec<u8>, TpmError> {
        let mut w = Writer::new();
        match self {
            Self::Ecdsa { hash, r, s } => {
                w.u16(TpmAlgId::ECDSA.0).u16(hash.0);
                w.tpm2b("signatureR", r)?;
                w.tpm2b("signatureS", s)?;
            }
            Self::Rsa {
                scheme,
                hash,
                signature,
            } => {
                w.u16(scheme.0).u16(hash.0);
                w.tpm2b("sig", signature)?;
            }
        }
        Ok(w.into_bytes())
    }

    /// `sigAlg`.
    pub fn scheme(&self) -> TpmAlgId {
        match self {
            Self::Ecdsa { .. } => TpmAlgId::ECDSA,
            Self::Rsa { scheme, .. } => *scheme,
        }
    }

    /// The `hash` field.
    pub fn hash(&self) -> TpmAlgId {
        match self {
            Self::Ecdsa { hash, .. } | Self::Rsa { hash, .. } => *hash,
        }
    }

    /// Checks the signature over `message` (the raw TPMS_ATTEST) with `key`.
    ///
    /// The message is hashed with the hash the signature names, which must be
    /// SHA-256, SHA-384 or SHA-512 (any of them with any curve); `r` and `s`
    /// may be shorter than the curve's field. RSA signatures are reported as
    /// unsupported.
    pub fn verify(&self, key: &VerifyingKey, message: &[u8]) -> Result<(), SignatureError> {
        let (hash_id, r, s) = match self {
            Self::Ecdsa { hash, r, s } => (*hash, r, s),
            Self::Rsa { scheme, .. } => return Err(SignatureError::UnsupportedScheme(*scheme)),
        };
        let hash = hash_id
            .hash()
            .ok_or(SignatureError::UnsupportedHash(hash_id))?;
        let fixed = vouch_crypto::fixed_signature_from_scalars(key.curve(), r, s)
            .map_err(SignatureError::Malformed)?;
        key.verify_with_hash(hash, message, &fixed)
            .map_err(|e| match e {
                vouch_crypto::CryptoError::Verification => SignatureError::Mismatch,
                other => SignatureError::Malformed(other),
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::public::strip_leading_zeros;
    use vouch_crypto::{Curve, SigningKey};

    #[test]
    fn decodes_ecdsa_and_rsa_rejects_others() {
        let ecdsa = hex::decode("0018000b0002abcd0001ef").unwrap();
        let sig = TpmtSignature::decode(&ecdsa).unwrap();
        assert_eq!(
            sig,
            TpmtSignature::Ecdsa {
                hash: TpmAlgId::SHA256,
                r: vec![0xab, 0xcd],
                s: vec![0xef],
            }
        );
        assert_eq!(sig.encode().unwrap(), ecdsa);
        assert_eq!(sig.scheme(), TpmAlgId::ECDSA);
        let rsa = hex::decode("0014000b0003010203").unwrap();
        let sig = TpmtSignature::decode(&rsa).unwrap();
        assert_eq!(sig.scheme(), TpmAlgId::RSASSA);
        assert_eq!(sig.hash(), TpmAlgId::SHA256);
        assert_eq!(sig.encode().unwrap(), rsa);
        let key = SigningKey::generate(Curve::P256).unwrap().verifying_key();
        assert_eq!(
            sig.verify(&key, b"m").unwrap_err().to_string(),
            "unsupported signature scheme 0x0014 (RSASSA): only ECDSA is verified"
        );
        assert_eq!(
            TpmtSignature::decode(&hex::decode("0005000b").unwrap())
                .unwrap_err()
                .to_string(),
            "unsupported signature algorithm 0x5"
        );
        assert_eq!(
            TpmtSignature::decode(&[0x00]).unwrap_err().to_string(),
            "decoding Alg: unexpected EOF"
        );
        let mut trailing = ecdsa.clone();
        trailing.push(1);
        assert!(TpmtSignature::decode(&trailing).is_err());
    }

    #[test]
    fn verifies_with_the_named_hash_and_short_scalars() {
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            let sk = SigningKey::generate(curve).unwrap();
            let vk = sk.verifying_key();
            let fixed = sk.sign(b"attest").unwrap();
            let hash = TpmAlgId::from_hash(curve.algorithm().hash());
            let sig = TpmtSignature::ecdsa_from_fixed(hash, &fixed);
            sig.verify(&vk, b"attest").unwrap();
            assert!(matches!(
                sig.verify(&vk, b"other"),
                Err(SignatureError::Mismatch)
            ));
            // Another hash than the one signed with does not verify.
            let other = if hash == TpmAlgId::SHA256 {
                TpmAlgId::SHA512
            } else {
                TpmAlgId::SHA256
            };
            let wrong = TpmtSignature::ecdsa_from_fixed(other, &fixed);
            assert!(wrong.verify(&vk, b"attest").is_err());
            // An unknown hash is reported as such.
            let sha1 = TpmtSignature::ecdsa_from_fixed(TpmAlgId::SHA1, &fixed);
            assert_eq!(
                sha1.verify(&vk, b"attest").unwrap_err().to_string(),
                "unsupported signature hash algorithm 0x0004 (SHA1)"
            );
            // Minimal-length scalars (Go big.Int.Bytes()) verify too.
            if let TpmtSignature::Ecdsa { hash, r, s } = &sig {
                let mut padded_r = vec![0, 0];
                padded_r.extend(r);
                let minimal = TpmtSignature::Ecdsa {
                    hash: *hash,
                    r: padded_r,
                    s: strip_leading_zeros(s).to_vec(),
                };
                minimal.verify(&vk, b"attest").unwrap();
            }
        }
    }

    #[test]
    fn oversized_scalars_are_malformed_not_a_panic() {
        let sk = SigningKey::generate(Curve::P256).unwrap();
        let sig = TpmtSignature::Ecdsa {
            hash: TpmAlgId::SHA256,
            r: vec![1; 33],
            s: vec![1; 32],
        };
        assert!(matches!(
            sig.verify(&sk.verifying_key(), b"m"),
            Err(SignatureError::Malformed(_))
        ));
    }
}
