//! Checking one certificate's signature with its issuer's key.
//!
//! ECDSA (P-256/P-384/P-521 with SHA-256/384/512) goes through
//! `vouch_crypto`; RSA (PKCS#1 v1.5 and PSS, 2048 to 8192 bits) and Ed25519
//! go straight to aws-lc-rs, so x5chains from ordinary PKIs verify too.
//! SHA-1 is refused, as Go does.

use aws_lc_rs::signature::{self as lc, UnparsedPublicKey, VerificationAlgorithm};
use der::Sequence;
use der::asn1::{Any, ObjectIdentifier};
use vouch_crypto::Hash as EcdsaHash;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::{Certificate, X509Error, oid};

/// What the signatureAlgorithm field asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SignatureScheme {
    Ecdsa(HashAlg),
    RsaPkcs1(HashAlg),
    RsaPss(HashAlg),
    Ed25519,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    fn from_oid(id: &ObjectIdentifier) -> Option<Self> {
        match *id {
            oid::SHA256 => Some(Self::Sha256),
            oid::SHA384 => Some(Self::Sha384),
            oid::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => oid::SHA256,
            Self::Sha384 => oid::SHA384,
            Self::Sha512 => oid::SHA512,
        }
    }

    fn len(self) -> u32 {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    fn ecdsa(self) -> EcdsaHash {
        match self {
            Self::Sha256 => EcdsaHash::Sha256,
            Self::Sha384 => EcdsaHash::Sha384,
            Self::Sha512 => EcdsaHash::Sha512,
        }
    }
}

/// RSASSA-PSS-params (RFC 8017 A.2.3). Absent fields mean SHA-1, which is
/// refused anyway.
#[derive(Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_len: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer: Option<u32>,
}

fn unsupported(msg: impl Into<String>) -> X509Error {
    X509Error::UnsupportedSignature(msg.into())
}

/// Hash parameters must be absent or NULL (RFC 5754 allows both).
fn null_or_absent(params: Option<&Any>) -> bool {
    params.is_none_or(|p| p.is_null())
}

fn scheme(alg: &AlgorithmIdentifierOwned) -> Result<SignatureScheme, X509Error> {
    let params = alg.parameters.as_ref();
    let rsa_params_ok = |s| {
        if null_or_absent(params) {
            Ok(s)
        } else {
            Err(unsupported(
                "RSA PKCS#1 v1.5 signature algorithm with parameters",
            ))
        }
    };
    match alg.oid {
        oid::ECDSA_WITH_SHA256 => Ok(SignatureScheme::Ecdsa(HashAlg::Sha256)),
        oid::ECDSA_WITH_SHA384 => Ok(SignatureScheme::Ecdsa(HashAlg::Sha384)),
        oid::ECDSA_WITH_SHA512 => Ok(SignatureScheme::Ecdsa(HashAlg::Sha512)),
        oid::SHA256_WITH_RSA => rsa_params_ok(SignatureScheme::RsaPkcs1(HashAlg::Sha256)),
        oid::SHA384_WITH_RSA => rsa_params_ok(SignatureScheme::RsaPkcs1(HashAlg::Sha384)),
        oid::SHA512_WITH_RSA => rsa_params_ok(SignatureScheme::RsaPkcs1(HashAlg::Sha512)),
        oid::RSASSA_PSS => pss_scheme(params),
        oid::ED25519 if params.is_none() => Ok(SignatureScheme::Ed25519),
        oid::ECDSA_WITH_SHA1 => Err(unsupported("insecure algorithm ECDSA-SHA1")),
        oid::SHA1_WITH_RSA => Err(unsupported("insecure algorithm SHA1-RSA")),
        other => Err(unsupported(format!(
            "unsupported signature algorithm {other}"
        ))),
    }
}

/// aws-lc-rs verifies PSS with MGF1 over the message hash and a salt as long
/// as the hash: what every PKI uses. Other parameter sets are refused
/// rather than misverified.
fn pss_scheme(params: Option<&Any>) -> Result<SignatureScheme, X509Error> {
    let bad = || {
        unsupported(
            "RSASSA-PSS parameters other than SHA-256/384/512 with MGF1 of the same hash and a hash-sized salt",
        )
    };
    let params = params.ok_or_else(bad)?;
    let pss: PssParams = params.decode_as().map_err(|_| bad())?;
    let hash_id = pss.hash.as_ref().ok_or_else(bad)?;
    if !null_or_absent(hash_id.parameters.as_ref()) {
        return Err(bad());
    }
    let hash = HashAlg::from_oid(&hash_id.oid).ok_or_else(bad)?;
    let mgf = pss.mask_gen.as_ref().ok_or_else(bad)?;
    if mgf.oid != oid::MGF1 {
        return Err(bad());
    }
    let mgf_hash: AlgorithmIdentifierOwned = mgf
        .parameters
        .as_ref()
        .ok_or_else(bad)?
        .decode_as()
        .map_err(|_| bad())?;
    if mgf_hash.oid != hash.oid() || !null_or_absent(mgf_hash.parameters.as_ref()) {
        return Err(bad());
    }
    if pss.salt_len != Some(hash.len()) || pss.trailer.is_some_and(|t| t != 1) {
        return Err(bad());
    }
    Ok(SignatureScheme::RsaPss(hash))
}

/// Checks that `child` was signed by the key of `issuer`.
pub(crate) fn check_signed_by(child: &Certificate, issuer: &Certificate) -> Result<(), X509Error> {
    let scheme = scheme(child.x509().signature_algorithm())?;
    let signature =
        child.x509().signature().as_bytes().ok_or_else(|| {
            X509Error::Malformed("signature BIT STRING has unused bits".to_owned())
        })?;
    let message = child.tbs_der();
    let spki = issuer.x509().tbs_certificate().subject_public_key_info();
    let key_alg = spki.algorithm.oid;
    let key_type = |want: &str| {
        unsupported(format!(
            "signature algorithm specifies an {want} public key, but have public key of type {}",
            key_type_name(&key_alg)
        ))
    };
    match scheme {
        SignatureScheme::Ecdsa(hash) => {
            if key_alg != oid::EC_PUBLIC_KEY {
                return Err(key_type("ECDSA"));
            }
            let key = issuer.ec_public_key()?;
            key.verify_asn1(hash.ecdsa(), message, signature)
                .map_err(|_| X509Error::BadSignature { algorithm: "ECDSA" })
        }
        SignatureScheme::RsaPkcs1(hash) | SignatureScheme::RsaPss(hash) => {
            if key_alg != oid::RSA_ENCRYPTION && key_alg != oid::RSASSA_PSS {
                return Err(key_type("RSA"));
            }
            let key = spki.subject_public_key.as_bytes().ok_or_else(|| {
                X509Error::UnsupportedPublicKey("RSA key BIT STRING has unused bits".to_owned())
            })?;
            let alg: &'static dyn VerificationAlgorithm = match (scheme, hash) {
                (SignatureScheme::RsaPss(_), HashAlg::Sha256) => &lc::RSA_PSS_2048_8192_SHA256,
                (SignatureScheme::RsaPss(_), HashAlg::Sha384) => &lc::RSA_PSS_2048_8192_SHA384,
                (SignatureScheme::RsaPss(_), HashAlg::Sha512) => &lc::RSA_PSS_2048_8192_SHA512,
                (_, HashAlg::Sha256) => &lc::RSA_PKCS1_2048_8192_SHA256,
                (_, HashAlg::Sha384) => &lc::RSA_PKCS1_2048_8192_SHA384,
                (_, HashAlg::Sha512) => &lc::RSA_PKCS1_2048_8192_SHA512,
            };
            UnparsedPublicKey::new(alg, key)
                .verify(message, signature)
                .map_err(|_| X509Error::BadSignature { algorithm: "RSA" })
        }
        SignatureScheme::Ed25519 => {
            if key_alg != oid::ED25519 {
                return Err(key_type("Ed25519"));
            }
            let key = spki.subject_public_key.as_bytes().ok_or_else(|| {
                X509Error::UnsupportedPublicKey("Ed25519 key BIT STRING has unused bits".to_owned())
            })?;
            UnparsedPublicKey::new(&lc::ED25519, key)
                .verify(message, signature)
                .map_err(|_| X509Error::BadSignature {
                    algorithm: "Ed25519",
                })
        }
    }
}

fn key_type_name(id: &ObjectIdentifier) -> String {
    match *id {
        oid::EC_PUBLIC_KEY => "ECDSA".to_owned(),
        oid::RSA_ENCRYPTION | oid::RSASSA_PSS => "RSA".to_owned(),
        oid::ED25519 => "Ed25519".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::str::FromStr;

    use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _, RsaKeyPair};
    use der::{Decode, Encode};
    use vouch_crypto::{Curve, SigningKey};
    use x509_cert::name::Name;

    use super::*;
    use crate::mint::CertificateBuilder;
    use crate::{TrustStore, Usage, validate_chain};

    fn alg(id: ObjectIdentifier, params: Option<Any>) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: id,
            parameters: params,
        }
    }

    fn pss_params(hash: ObjectIdentifier, mgf_hash: ObjectIdentifier, salt: u32) -> Any {
        let p = PssParams {
            hash: Some(alg(hash, None)),
            mask_gen: Some(alg(
                oid::MGF1,
                Some(Any::encode_from(&alg(mgf_hash, None)).unwrap()),
            )),
            salt_len: Some(salt),
            trailer: None,
        };
        Any::from_der(&p.to_der().unwrap()).unwrap()
    }

    #[test]
    fn recognises_algorithms() {
        assert_eq!(
            scheme(&alg(oid::ECDSA_WITH_SHA384, None)).unwrap(),
            SignatureScheme::Ecdsa(HashAlg::Sha384)
        );
        assert_eq!(
            scheme(&alg(oid::SHA256_WITH_RSA, Some(Any::null()))).unwrap(),
            SignatureScheme::RsaPkcs1(HashAlg::Sha256)
        );
        assert_eq!(
            scheme(&alg(oid::SHA512_WITH_RSA, None)).unwrap(),
            SignatureScheme::RsaPkcs1(HashAlg::Sha512)
        );
        assert_eq!(
            scheme(&alg(oid::ED25519, None)).unwrap(),
            SignatureScheme::Ed25519
        );
        let e = scheme(&alg(oid::SHA1_WITH_RSA, Some(Any::null()))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x509: cannot verify signature: insecure algorithm SHA1-RSA"
        );
        assert!(scheme(&alg(oid::ECDSA_WITH_SHA1, None)).is_err());
        assert!(scheme(&alg(oid::KP_CLIENT_AUTH, None)).is_err());
    }

    #[test]
    fn pss_parameters() {
        let ok = pss_params(oid::SHA384, oid::SHA384, 48);
        assert_eq!(
            scheme(&alg(oid::RSASSA_PSS, Some(ok))).unwrap(),
            SignatureScheme::RsaPss(HashAlg::Sha384)
        );
        for bad in [
            pss_params(oid::SHA256, oid::SHA384, 32),
            pss_params(oid::SHA256, oid::SHA256, 20),
            pss_params(oid::SHA1, oid::SHA1, 20),
        ] {
            assert!(scheme(&alg(oid::RSASSA_PSS, Some(bad))).is_err());
        }
        assert!(scheme(&alg(oid::RSASSA_PSS, None)).is_err());
        assert!(scheme(&alg(oid::RSASSA_PSS, Some(Any::null()))).is_err());
    }

    const NOW: i64 = 1_800_000_000;

    /// A CA certificate for `spki`, self-signed by `sign` under `sig_alg`.
    fn ca_signed_by(
        name: &str,
        spki: &[u8],
        sig_alg: AlgorithmIdentifierOwned,
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, X509Error>,
    ) -> Certificate {
        CertificateBuilder::with_spki(name, spki, NOW)
            .unwrap()
            .ca(None)
            .sign_with(Name::from_str(name).unwrap(), vec![1; 20], sig_alg, sign)
            .unwrap()
    }

    /// A P-256 leaf issued by `issuer` (whose key signs through `sign`).
    fn leaf_signed_by(
        issuer: &Certificate,
        sig_alg: AlgorithmIdentifierOwned,
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, X509Error>,
    ) -> Certificate {
        let key = SigningKey::generate(Curve::P256).unwrap();
        CertificateBuilder::new("CN=leaf", &key.verifying_key(), NOW)
            .unwrap()
            .sign_with(
                issuer.x509().tbs_certificate().subject().clone(),
                vec![1; 20],
                sig_alg,
                sign,
            )
            .unwrap()
    }

    fn validates(leaf: &Certificate, root: &Certificate) -> Result<(), X509Error> {
        let mut store = TrustStore::new();
        store.add_root(root.clone());
        validate_chain(std::slice::from_ref(leaf), &store, NOW, Usage::any()).map(|_| ())
    }

    fn rsa_sign<'k>(
        key: &'k RsaKeyPair,
        encoding: &'static dyn lc::RsaEncoding,
    ) -> impl FnOnce(&[u8]) -> Result<Vec<u8>, X509Error> + 'k {
        move |tbs| {
            let mut sig = vec![0; key.public_modulus_len()];
            key.sign(encoding, &SystemRandom::new(), tbs, &mut sig)
                .map_err(|_| X509Error::Mint("RSA signing".to_owned()))?;
            Ok(sig)
        }
    }

    #[test]
    fn rsa_pkcs1_and_pss_issuers_verify() {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let spki = AsDer::<PublicKeyX509Der<'_>>::as_der(key.public_key()).unwrap();
        let pkcs1 = |id| alg(id, Some(Any::null()));
        let root = ca_signed_by(
            "CN=RSA Root",
            spki.as_ref(),
            pkcs1(oid::SHA256_WITH_RSA),
            rsa_sign(&key, &lc::RSA_PKCS1_SHA256),
        );
        // The root's own signature is not checked, so check it here.
        check_signed_by(&root, &root).unwrap();
        let cases: [(AlgorithmIdentifierOwned, &'static dyn lc::RsaEncoding); 5] = [
            (pkcs1(oid::SHA256_WITH_RSA), &lc::RSA_PKCS1_SHA256),
            (pkcs1(oid::SHA384_WITH_RSA), &lc::RSA_PKCS1_SHA384),
            (pkcs1(oid::SHA512_WITH_RSA), &lc::RSA_PKCS1_SHA512),
            (
                alg(
                    oid::RSASSA_PSS,
                    Some(pss_params(oid::SHA256, oid::SHA256, 32)),
                ),
                &lc::RSA_PSS_SHA256,
            ),
            (
                alg(
                    oid::RSASSA_PSS,
                    Some(pss_params(oid::SHA512, oid::SHA512, 64)),
                ),
                &lc::RSA_PSS_SHA512,
            ),
        ];
        for (sig_alg, encoding) in cases {
            let oid = sig_alg.oid;
            let leaf = leaf_signed_by(&root, sig_alg, rsa_sign(&key, encoding));
            validates(&leaf, &root).unwrap_or_else(|e| panic!("{oid}: {e}"));
        }
        // A PKCS#1 signature labelled PSS does not verify.
        let mislabelled = leaf_signed_by(
            &root,
            alg(
                oid::RSASSA_PSS,
                Some(pss_params(oid::SHA256, oid::SHA256, 32)),
            ),
            rsa_sign(&key, &lc::RSA_PKCS1_SHA256),
        );
        assert_eq!(
            check_signed_by(&mislabelled, &root),
            Err(X509Error::BadSignature { algorithm: "RSA" })
        );
        assert!(validates(&mislabelled, &root).is_err());
        // An ECDSA-labelled signature cannot come from an RSA key.
        let ec_label = leaf_signed_by(
            &root,
            alg(oid::ECDSA_WITH_SHA256, None),
            rsa_sign(&key, &lc::RSA_PKCS1_SHA256),
        );
        let e = check_signed_by(&ec_label, &root).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x509: cannot verify signature: signature algorithm specifies an ECDSA public key, but have public key of type RSA"
        );
        // SHA-1 is refused whatever the signature.
        let sha1 = leaf_signed_by(
            &root,
            pkcs1(oid::SHA1_WITH_RSA),
            rsa_sign(&key, &lc::RSA_PKCS1_SHA256),
        );
        assert!(matches!(
            check_signed_by(&sha1, &root),
            Err(X509Error::UnsupportedSignature(_))
        ));
    }

    #[test]
    fn ed25519_issuers_verify() {
        let key = Ed25519KeyPair::generate().unwrap();
        let spki = AsDer::<PublicKeyX509Der<'_>>::as_der(key.public_key()).unwrap();
        let ed = || alg(oid::ED25519, None);
        let root = ca_signed_by("CN=Ed Root", spki.as_ref(), ed(), |tbs| {
            Ok(key.sign(tbs).as_ref().to_vec())
        });
        check_signed_by(&root, &root).unwrap();
        let leaf = leaf_signed_by(&root, ed(), |tbs| Ok(key.sign(tbs).as_ref().to_vec()));
        validates(&leaf, &root).unwrap();
        let forged = leaf_signed_by(&root, ed(), |_| Ok(vec![0; 64]));
        assert_eq!(
            check_signed_by(&forged, &root),
            Err(X509Error::BadSignature {
                algorithm: "Ed25519"
            })
        );
    }

    #[test]
    fn ecdsa_with_a_foreign_hash_verifies() {
        // A P-256 key signing with SHA-384 (common in real PKIs). ECDSA uses
        // the leftmost 256 bits of a longer digest, so signing those bits as
        // a "SHA-256 digest" yields exactly an ecdsa-with-SHA384 signature.
        let pkcs8 = lc::EcdsaKeyPair::generate_pkcs8(
            &lc::ECDSA_P256_SHA256_ASN1_SIGNING,
            &SystemRandom::new(),
        )
        .unwrap();
        let signing =
            lc::EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
                .unwrap();
        let key = vouch_crypto::VerifyingKey::from_sec1_point(
            Curve::P256,
            lc::KeyPair::public_key(&signing).as_ref(),
        )
        .unwrap();
        let sign384 = |tbs: &[u8]| {
            let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA384, tbs);
            let digest = aws_lc_rs::digest::Digest::import_less_safe(
                &d.as_ref()[..32],
                &aws_lc_rs::digest::SHA256,
            )
            .unwrap();
            Ok(signing.sign_digest(&digest).unwrap().as_ref().to_vec())
        };
        let root = ca_signed_by(
            "CN=P-256 SHA-384 Root",
            &key.to_spki_der(),
            alg(oid::ECDSA_WITH_SHA384, None),
            sign384,
        );
        check_signed_by(&root, &root).unwrap();
        let leaf = leaf_signed_by(&root, alg(oid::ECDSA_WITH_SHA384, None), sign384);
        validates(&leaf, &root).unwrap();
        // The same signature labelled with the wrong hash fails.
        let mislabelled = leaf_signed_by(&root, alg(oid::ECDSA_WITH_SHA256, None), sign384);
        assert_eq!(
            check_signed_by(&mislabelled, &root),
            Err(X509Error::BadSignature { algorithm: "ECDSA" })
        );
    }
}
