//! Key encodings, round trips and sign/verify, including the shared
//! conformance vectors (read at run time, never copied).

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use vouch_crypto::{
    Algorithm, CryptoError, Curve, Hash, SigningKey, VerifyingKey, fixed_signature_from_scalars,
    fixed_signature_to_der,
};
use vouch_testkit::vectors;

fn read_text(dir: &Path, rel: &str) -> String {
    String::from_utf8(vectors::read(dir, rel)).expect("vector is UTF-8")
}

fn read_json(dir: &Path, rel: &str) -> Value {
    serde_json::from_slice(&vectors::read(dir, rel)).expect("vector is JSON")
}

/// First 16 hex digits of SHA-256(SPKI DER): the fingerprint MANIFEST.md uses.
fn fingerprint(key: &VerifyingKey) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &key.to_spki_der());
    hex::encode(&digest.as_ref()[..8])
}

// ---------------------------------------------------------------- round trips

#[test]
fn generated_keys_round_trip_every_encoding() {
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        let key = SigningKey::generate(curve).unwrap();
        assert_eq!(key.curve(), curve);
        assert_eq!(key.algorithm(), curve.algorithm());
        let public = key.verifying_key();
        assert_eq!(public.curve(), curve);
        assert_eq!(public.sec1_point().len(), curve.point_len());

        // Private encodings.
        let pkcs8_pem = key.to_pkcs8_pem();
        assert!(pkcs8_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let from_pem = SigningKey::from_pkcs8_pem(&pkcs8_pem).unwrap();
        assert_eq!(from_pem.verifying_key(), public);
        let from_any_pem = SigningKey::from_pem(&pkcs8_pem).unwrap();
        assert_eq!(from_any_pem.verifying_key(), public);
        let from_der = SigningKey::from_pkcs8_der(&key.to_pkcs8_der()).unwrap();
        assert_eq!(from_der.verifying_key(), public);
        let jwk = key.to_jwk();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], curve.jwk_name());
        let from_jwk = SigningKey::from_jwk(&jwk).unwrap();
        assert_eq!(from_jwk.verifying_key(), public);
        assert_eq!(from_jwk.private_scalar(), key.private_scalar());
        let scalar = key.private_scalar();
        assert_eq!(scalar.len(), curve.field_len());
        let from_scalar = SigningKey::from_private_scalar(curve, scalar).unwrap();
        assert_eq!(from_scalar.verifying_key(), public);

        // Public encodings.
        let spki = public.to_spki_der();
        assert_eq!(VerifyingKey::from_spki_der(&spki).unwrap(), public);
        let pem = public.to_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        assert_eq!(VerifyingKey::from_pem(&pem).unwrap(), public);
        let pub_jwk = public.to_jwk();
        assert_eq!(pub_jwk.as_object().unwrap().len(), 4);
        assert!(pub_jwk.get("d").is_none());
        assert_eq!(VerifyingKey::from_jwk(&pub_jwk).unwrap(), public);
        assert_eq!(
            VerifyingKey::from_sec1_point(curve, public.sec1_point()).unwrap(),
            public
        );
        // The public half of a private JWK is the public key.
        assert_eq!(VerifyingKey::from_jwk(&jwk).unwrap(), public);
        assert_eq!(
            VerifyingKey::from_jwk(&jwk).unwrap().thumbprint(),
            public.thumbprint()
        );
    }
}

#[test]
fn a_sec1_point_reads_back_byte_for_byte() {
    // The point is kept only inside AWS-LC's parsed key; what comes back out
    // must be the bytes that went in, checked against AWS-LC's own encoder.
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
        ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _,
    };
    for (curve, alg) in [
        (Curve::P256, &ECDSA_P256_SHA256_FIXED_SIGNING),
        (Curve::P384, &ECDSA_P384_SHA384_FIXED_SIGNING),
        (Curve::P521, &ECDSA_P521_SHA512_FIXED_SIGNING),
    ] {
        let pair = EcdsaKeyPair::generate(alg).unwrap();
        let point = pair.public_key().as_ref();
        let key = VerifyingKey::from_sec1_point(curve, point).unwrap();
        assert_eq!(key.sec1_point(), point);
        assert!(key.to_spki_der().ends_with(point));
        let clone = key.clone();
        assert_eq!(clone.sec1_point(), point);
    }
}

#[test]
fn reparsed_key_signs_for_the_same_public_key() {
    // A key re-read from its PKCS#8 export signs for the same public key.
    let key = SigningKey::generate_p256().unwrap();
    let again = SigningKey::from_pem(&key.to_pkcs8_pem()).unwrap();
    let sig = again.sign(b"msg").unwrap();
    key.verifying_key()
        .verify(Algorithm::Es256, b"msg", &sig)
        .unwrap();
}

// ------------------------------------------------------------- sign / verify

#[test]
fn sign_then_verify_and_tampering_fails() {
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        let key = SigningKey::generate(curve).unwrap();
        let alg = key.algorithm();
        let public = key.verifying_key();
        let msg = b"the quick brown fox";
        let sig = key.sign(msg).unwrap();
        assert_eq!(sig.len(), alg.signature_len());
        public.verify(alg, msg, &sig).unwrap();

        // ECDSA is randomised: two signatures differ but both verify.
        let sig2 = key.sign(msg).unwrap();
        assert_ne!(sig, sig2);
        public.verify(alg, msg, &sig2).unwrap();

        for i in [0, sig.len() / 2, sig.len() - 1] {
            let mut bad = sig.clone();
            bad[i] ^= 0x01;
            assert!(matches!(
                public.verify(alg, msg, &bad),
                Err(CryptoError::Verification)
            ));
        }
        assert!(matches!(
            public.verify(alg, b"the quick brown fox.", &sig),
            Err(CryptoError::Verification)
        ));
        assert!(matches!(
            public.verify(alg, msg, &sig[..sig.len() - 1]),
            Err(CryptoError::Verification)
        ));
        assert!(matches!(
            public.verify(alg, msg, &[]),
            Err(CryptoError::Verification)
        ));
        let other = SigningKey::generate(curve).unwrap().verifying_key();
        assert!(matches!(
            other.verify(alg, msg, &sig),
            Err(CryptoError::Verification)
        ));
        let err = public.verify(alg, msg, b"").unwrap_err();
        assert_eq!(err.to_string(), "verification error");
    }
}

#[test]
fn algorithm_and_curve_must_match() {
    let p256 = SigningKey::generate(Curve::P256).unwrap();
    let sig = p256.sign(b"m").unwrap();
    let err = p256
        .verifying_key()
        .verify(Algorithm::Es384, b"m", &sig)
        .unwrap_err();
    assert!(matches!(
        err,
        CryptoError::AlgorithmMismatch {
            alg: Algorithm::Es384,
            curve: Curve::P256
        }
    ));
    let p384 = SigningKey::generate(Curve::P384).unwrap();
    let sig = p384.sign(b"m").unwrap();
    assert!(matches!(
        p384.verifying_key().verify(Algorithm::Es256, b"m", &sig),
        Err(CryptoError::AlgorithmMismatch { .. })
    ));
}

#[test]
fn es512_needs_a_p521_key() {
    let p521 = SigningKey::generate(Curve::P521).unwrap();
    assert_eq!(p521.algorithm(), Algorithm::Es512);
    let sig = p521.sign(b"m").unwrap();
    assert_eq!(sig.len(), 132);
    p521.verifying_key()
        .verify(Algorithm::Es512, b"m", &sig)
        .unwrap();
    assert!(matches!(
        p521.verifying_key().verify(Algorithm::Es384, b"m", &sig),
        Err(CryptoError::AlgorithmMismatch {
            alg: Algorithm::Es384,
            curve: Curve::P521
        })
    ));
    let p256 = SigningKey::generate(Curve::P256).unwrap().verifying_key();
    assert!(matches!(
        p256.verify(Algorithm::Es512, b"m", &sig),
        Err(CryptoError::AlgorithmMismatch { .. })
    ));
}

// ------------------------------------------- explicit hashes and DER signatures

/// A P-521 key OpenSSL 3.0 generated (`openssl ecparam -name secp521r1
/// -genkey`), in both private encodings, and its public key.
const OPENSSL_P521_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----
MIHcAgEBBEIAWCJ8dBY+Q2AzItJP2A7G0TP4Wiwgpdq5skWANuiY7Yty8BgS3IUl
xU/mGGBgmLQWyAKGGIhnJopeLAcgR1yi9FKgBwYFK4EEACOhgYkDgYYABACMbWQf
f7Jc3zzp+cxB122O6SnLb29rfnFkIYldaEeTAYu2zUQmctTon3BAv/mR2JqOupkq
Fkytswm32jG2Oq8u2AHXeB9faJHoBNUoCxmhuZGsIKZw968HGwOgIxThiqsVNXhJ
+4xZykVmGg+FBnn+0+bni0OekMN4ZH8loBvHNBqlbg==
-----END EC PRIVATE KEY-----
";
const OPENSSL_P521_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIHuAgEAMBAGByqGSM49AgEGBSuBBAAjBIHWMIHTAgEBBEIAWCJ8dBY+Q2AzItJP
2A7G0TP4Wiwgpdq5skWANuiY7Yty8BgS3IUlxU/mGGBgmLQWyAKGGIhnJopeLAcg
R1yi9FKhgYkDgYYABACMbWQff7Jc3zzp+cxB122O6SnLb29rfnFkIYldaEeTAYu2
zUQmctTon3BAv/mR2JqOupkqFkytswm32jG2Oq8u2AHXeB9faJHoBNUoCxmhuZGs
IKZw968HGwOgIxThiqsVNXhJ+4xZykVmGg+FBnn+0+bni0OekMN4ZH8loBvHNBql
bg==
-----END PRIVATE KEY-----
";
const OPENSSL_P521_PUB: &str = "-----BEGIN PUBLIC KEY-----
MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQAjG1kH3+yXN886fnMQddtjukpy29v
a35xZCGJXWhHkwGLts1EJnLU6J9wQL/5kdiajrqZKhZMrbMJt9oxtjqvLtgB13gf
X2iR6ATVKAsZobmRrCCmcPevBxsDoCMU4YqrFTV4SfuMWcpFZhoPhQZ5/tPm54tD
npDDeGR/JaAbxzQapW4=
-----END PUBLIC KEY-----
";
/// `openssl dgst -sha384 -sign` with that key over [`KAT_MESSAGE`].
const OPENSSL_P521_SHA384_DER_SIG: &str = "30818702420165f38ca54505ff003e54ce8341ebcf35e2ec880e695e6493d25a300ccde460dc71558ddf8aab14dc13c6a19300011922d13c472b751cc22c973b993eb8ee43271b02412e10a2c6de6abaf903ae411fa185035ec2b9d2e2fdfa0743de0e459733d3a5fe0a2432ac2a5b7ad779ec0f64ac2beccd1d8300b88989e648e4a8e5ece0ad63b194";
/// A P-256 key and `openssl dgst -sha384 -sign` with it: a P-256 key signing
/// with SHA-384, as X.509 CAs sometimes do.
const OPENSSL_P256_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFEICbCxhC3m5jHSxL9o2/iVgK25K
dgay6fKMjSjQxTBNeLlY7xGKQKEn0Zc307W9itu81yYVRqeeo1wXCXrB2A==
-----END PUBLIC KEY-----
";
const OPENSSL_P256_SHA384_DER_SIG: &str = "3044022064967f7c14130cdbbee535b4f398f1d16d6f0c3269e6892d7f9e1eb30b10209102202e5c436e65338789b80da625174d26aec01544a3bb6bb226168ef4edd81fc401";
const KAT_MESSAGE: &[u8] = b"vouch known answer";

#[test]
fn openssl_p521_keys_parse_and_re_encode_identically() {
    let public = VerifyingKey::from_pem(OPENSSL_P521_PUB).unwrap();
    assert_eq!(public.curve(), Curve::P521);
    assert_eq!(public.algorithm(), Algorithm::Es512);
    // Our SPKI encoder writes exactly what OpenSSL writes.
    assert_eq!(public.to_pem(), OPENSSL_P521_PUB);
    let sec1 = SigningKey::from_sec1_pem(OPENSSL_P521_SEC1).unwrap();
    assert_eq!(sec1.verifying_key(), public);
    let pkcs8 = SigningKey::from_pkcs8_pem(OPENSSL_P521_PKCS8).unwrap();
    assert_eq!(pkcs8.verifying_key(), public);
    assert_eq!(pkcs8.private_scalar(), sec1.private_scalar());
    // OpenSSL's PKCS#8 omits nothing ours carries, so the bytes agree too.
    assert_eq!(pkcs8.to_pkcs8_pem(), OPENSSL_P521_PKCS8);
    let jwk = pkcs8.to_jwk();
    assert_eq!(jwk["crv"], "P-521");
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(jwk["x"].as_str().unwrap())
            .unwrap()
            .len(),
        66
    );
    assert_eq!(VerifyingKey::from_jwk(&jwk).unwrap(), public);
}

#[test]
fn verify_asn1_accepts_openssl_signatures_with_any_hash() {
    let p521 = VerifyingKey::from_pem(OPENSSL_P521_PUB).unwrap();
    let sig = hex::decode(OPENSSL_P521_SHA384_DER_SIG).unwrap();
    p521.verify_asn1(Hash::Sha384, KAT_MESSAGE, &sig).unwrap();
    for hash in [Hash::Sha256, Hash::Sha512] {
        assert!(matches!(
            p521.verify_asn1(hash, KAT_MESSAGE, &sig),
            Err(CryptoError::Verification)
        ));
    }
    assert!(p521.verify_asn1(Hash::Sha384, b"other", &sig).is_err());

    let p256 = VerifyingKey::from_pem(OPENSSL_P256_PUB).unwrap();
    let sig = hex::decode(OPENSSL_P256_SHA384_DER_SIG).unwrap();
    p256.verify_asn1(Hash::Sha384, KAT_MESSAGE, &sig).unwrap();
    assert!(p256.verify_asn1(Hash::Sha256, KAT_MESSAGE, &sig).is_err());
    let mut bad = sig.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(p256.verify_asn1(Hash::Sha384, KAT_MESSAGE, &bad).is_err());
    // Malformed DER is a verification failure, never a panic.
    for junk in [&[][..], &[0x30], &[0x30, 0x00], &sig[..sig.len() - 1]] {
        assert!(matches!(
            p256.verify_asn1(Hash::Sha384, KAT_MESSAGE, junk),
            Err(CryptoError::Verification)
        ));
    }
    // A fixed-size signature is not DER.
    let key = SigningKey::generate(Curve::P256).unwrap();
    let fixed = key.sign(KAT_MESSAGE).unwrap();
    assert!(
        key.verifying_key()
            .verify_asn1(Hash::Sha256, KAT_MESSAGE, &fixed)
            .is_err()
    );
}

#[test]
fn fixed_and_der_forms_agree_for_every_curve() {
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        let key = SigningKey::generate(curve).unwrap();
        let public = key.verifying_key();
        let own_hash = curve.algorithm().hash();
        let fixed = key.sign(KAT_MESSAGE).unwrap();
        let der = fixed_signature_to_der(curve, &fixed).unwrap();
        assert_eq!(der[0], 0x30);
        public.verify_asn1(own_hash, KAT_MESSAGE, &der).unwrap();
        public
            .verify_with_hash(own_hash, KAT_MESSAGE, &fixed)
            .unwrap();
        for hash in [Hash::Sha256, Hash::Sha384, Hash::Sha512] {
            if hash != own_hash {
                // Signed with the curve's hash, so any other hash fails.
                assert!(matches!(
                    public.verify_with_hash(hash, KAT_MESSAGE, &fixed),
                    Err(CryptoError::Verification)
                ));
                assert!(public.verify_asn1(hash, KAT_MESSAGE, &der).is_err());
            }
        }
        let mut bad = fixed.clone();
        bad[3] ^= 0x40;
        assert!(
            public
                .verify_with_hash(own_hash, KAT_MESSAGE, &bad)
                .is_err()
        );
        assert!(
            public
                .verify_with_hash(own_hash, KAT_MESSAGE, &fixed[1..])
                .is_err()
        );
        assert!(fixed_signature_to_der(curve, &fixed[1..]).is_err());
    }
}

#[test]
fn verify_with_hash_checks_cross_hash_signatures() {
    // OpenSSL's P-256/SHA-384 DER signature, re-expressed as fixed r || s
    // (the TPM form), verifies with an explicit SHA-384.
    let p256 = VerifyingKey::from_pem(OPENSSL_P256_PUB).unwrap();
    let der = hex::decode(OPENSSL_P256_SHA384_DER_SIG).unwrap();
    // SEQUENCE(0x44) { INTEGER(0x20) r, INTEGER(0x20) s }: both 32 bytes.
    let r = &der[4..36];
    let s = &der[38..70];
    let fixed = fixed_signature_from_scalars(Curve::P256, r, s).unwrap();
    p256.verify_with_hash(Hash::Sha384, KAT_MESSAGE, &fixed)
        .unwrap();
    assert_eq!(fixed_signature_to_der(Curve::P256, &fixed).unwrap(), der);
    assert!(
        p256.verify_with_hash(Hash::Sha256, KAT_MESSAGE, &fixed)
            .is_err()
    );
    assert!(
        p256.verify_with_hash(Hash::Sha512, KAT_MESSAGE, &fixed)
            .is_err()
    );

    // P-521 with SHA-384, from OpenSSL's DER: r is 0x42 = 66 bytes, s only
    // 0x41 = 65 (its top byte was zero), so s gets left-padded.
    let p521 = VerifyingKey::from_pem(OPENSSL_P521_PUB).unwrap();
    let der = hex::decode(OPENSSL_P521_SHA384_DER_SIG).unwrap();
    let r_len = usize::from(der[4]);
    let r = &der[5..5 + r_len];
    let s = &der[5 + r_len + 2..];
    assert_eq!(usize::from(der[5 + r_len + 1]), s.len());
    let fixed = fixed_signature_from_scalars(Curve::P521, r, s).unwrap();
    assert_eq!(fixed.len(), 132);
    p521.verify_with_hash(Hash::Sha384, KAT_MESSAGE, &fixed)
        .unwrap();
    assert_eq!(fixed_signature_to_der(Curve::P521, &fixed).unwrap(), der);
}

#[test]
fn scalars_are_padded_and_stripped_to_the_field() {
    let sig = fixed_signature_from_scalars(Curve::P256, &[1, 2], &[0, 0, 3]).unwrap();
    assert_eq!(sig.len(), 64);
    assert_eq!(&sig[30..32], &[1, 2]);
    assert!(sig[..30].iter().all(|&b| b == 0));
    assert_eq!(sig[63], 3);
    assert!(sig[32..63].iter().all(|&b| b == 0));

    // Leading zeros beyond the field are dropped (a DER sign octet).
    let mut r = vec![0, 0];
    r.extend([0xff; 32]);
    let sig = fixed_signature_from_scalars(Curve::P256, &r, &[]).unwrap();
    assert_eq!(&sig[..32], &[0xff; 32]);
    assert_eq!(&sig[32..], &[0; 32]);

    // P-521's field is 66 bytes.
    let sig = fixed_signature_from_scalars(Curve::P521, &[1; 66], &[2; 65]).unwrap();
    assert_eq!(sig.len(), 132);
    assert_eq!(sig[66], 0);

    // A value longer than the field is refused, naming which.
    let err = fixed_signature_from_scalars(Curve::P256, &[1; 33], &[1]).unwrap_err();
    assert!(matches!(err, CryptoError::MalformedSignature(_)));
    assert!(err.to_string().contains("r is 33 bytes"), "{err}");
    let err = fixed_signature_from_scalars(Curve::P384, &[1], &[9; 49]).unwrap_err();
    assert!(err.to_string().contains("s is 49 bytes"), "{err}");
}

#[test]
fn der_encoding_of_small_and_high_bit_values() {
    let mut fixed = vec![0u8; 64];
    fixed[31] = 0x05; // r = 5
    fixed[32] = 0x80; // s has its top bit set: needs a 0x00 sign octet
    let der = fixed_signature_to_der(Curve::P256, &fixed).unwrap();
    assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x01, 0x05]);
    assert_eq!(&der[5..8], &[0x02, 0x21, 0x00]);
    assert_eq!(der.len(), 2 + 3 + 2 + 33);
    // r = 0 still encodes as a one-octet INTEGER.
    let zero = fixed_signature_to_der(Curve::P256, &[0; 64]).unwrap();
    assert_eq!(zero, [0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]);
}

#[test]
fn debug_does_not_leak_the_private_scalar() {
    let key = SigningKey::generate_p256().unwrap();
    let scalar_b64 = URL_SAFE_NO_PAD.encode(key.private_scalar());
    let debug = format!("{key:?}");
    assert!(!debug.contains(&scalar_b64));
    assert!(debug.contains(&key.verifying_key().thumbprint()));
}

// ---------------------------------------------------------------- bad input

#[test]
fn malformed_public_keys_are_rejected() {
    let good = SigningKey::generate_p256().unwrap().verifying_key();

    // Wrong PEM label.
    let private_pem = SigningKey::generate_p256().unwrap().to_pkcs8_pem();
    let err = VerifyingKey::from_pem(&private_pem).unwrap_err();
    assert_eq!(err.to_string(), r#"unsupported key type: "PRIVATE KEY""#);

    // Truncated and trailing DER.
    let spki = good.to_spki_der();
    assert!(matches!(
        VerifyingKey::from_spki_der(&spki[..spki.len() - 1]),
        Err(CryptoError::DerDecode(_))
    ));
    let mut trailing = spki.clone();
    trailing.push(0);
    assert!(matches!(
        VerifyingKey::from_spki_der(&trailing),
        Err(CryptoError::DerDecode(_))
    ));

    // A point off the curve.
    let mut off_curve = good.sec1_point().to_vec();
    off_curve[64] ^= 0x01;
    assert!(matches!(
        VerifyingKey::from_sec1_point(Curve::P256, &off_curve),
        Err(CryptoError::InvalidKey(_))
    ));
    // Compressed and wrong-length points.
    let mut compressed = vec![0x02];
    compressed.extend_from_slice(&good.sec1_point()[1..33]);
    assert!(matches!(
        VerifyingKey::from_sec1_point(Curve::P256, &compressed),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        VerifyingKey::from_sec1_point(Curve::P384, good.sec1_point()),
        Err(CryptoError::InvalidKey(_))
    ));

    // JWKs.
    let jwk = good.to_jwk();
    let mut no_y = jwk.clone();
    no_y.as_object_mut().unwrap().remove("y");
    assert!(matches!(
        VerifyingKey::from_jwk(&no_y),
        Err(CryptoError::JwkDecode(_))
    ));
    let mut rsa = jwk.clone();
    rsa["kty"] = json!("RSA");
    assert!(matches!(
        VerifyingKey::from_jwk(&rsa),
        Err(CryptoError::UnsupportedKeyType(_))
    ));
    let mut k256 = jwk.clone();
    k256["crv"] = json!("secp256k1");
    assert!(matches!(
        VerifyingKey::from_jwk(&k256),
        Err(CryptoError::UnsupportedCurve(_))
    ));
    // P-521 is supported, but P-256 coordinates are too short for it.
    let mut p521 = jwk.clone();
    p521["crv"] = json!("P-521");
    assert!(matches!(
        VerifyingKey::from_jwk(&p521),
        Err(CryptoError::JwkDecode(_))
    ));
    let mut short_x = jwk.clone();
    short_x["x"] = json!(URL_SAFE_NO_PAD.encode([1u8; 31]));
    assert!(matches!(
        VerifyingKey::from_jwk(&short_x),
        Err(CryptoError::JwkDecode(_))
    ));
    let mut bad_b64 = jwk;
    bad_b64["x"] = json!("***");
    assert!(matches!(
        VerifyingKey::from_jwk(&bad_b64),
        Err(CryptoError::JwkDecode(_))
    ));
    assert!(matches!(
        VerifyingKey::from_jwk(&json!("not an object")),
        Err(CryptoError::JwkDecode(_))
    ));
}

#[test]
fn unsupported_curve_in_spki_is_named() {
    // SPKI for a secp256k1 key (OID 1.3.132.0.10): the curve is reported.
    let mut der = vec![
        0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05,
        0x2b, 0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00, 0x04,
    ];
    der.extend([0x11; 64]);
    let err = VerifyingKey::from_spki_der(&der).unwrap_err();
    assert!(matches!(err, CryptoError::UnsupportedCurve(_)), "{err}");
    assert!(err.to_string().contains("1.3.132.0.10"), "{err}");

    // An Ed25519 SPKI (OID 1.3.101.112) is not an EC key at all.
    let mut ed = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    ed.extend([0x22; 32]);
    assert!(matches!(
        VerifyingKey::from_spki_der(&ed),
        Err(CryptoError::UnsupportedKeyType(_))
    ));
}

#[test]
fn malformed_private_keys_are_rejected() {
    assert!(matches!(
        SigningKey::from_private_scalar(Curve::P256, &[0u8; 32]),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        SigningKey::from_private_scalar(Curve::P256, &[0xffu8; 32]),
        Err(CryptoError::InvalidKey(_))
    ));
    assert!(matches!(
        SigningKey::from_private_scalar(Curve::P256, &[1u8; 48]),
        Err(CryptoError::InvalidKey(_))
    ));
    let public_pem = SigningKey::generate_p256()
        .unwrap()
        .verifying_key()
        .to_pem();
    assert!(matches!(
        SigningKey::from_pem(&public_pem),
        Err(CryptoError::UnsupportedPemLabel(_))
    ));
    let pkcs8 = SigningKey::generate_p256().unwrap().to_pkcs8_pem();
    assert!(matches!(
        SigningKey::from_sec1_pem(&pkcs8),
        Err(CryptoError::UnsupportedPemLabel(_))
    ));

    // A JWK whose d does not match x/y.
    let a = SigningKey::generate_p256().unwrap().to_jwk();
    let b = SigningKey::generate_p256().unwrap().to_jwk();
    let mut mixed = a.clone();
    mixed["d"] = b["d"].clone();
    assert!(matches!(
        SigningKey::from_jwk(&mixed),
        Err(CryptoError::InvalidKey(_))
    ));
    // A public JWK is not a private key.
    let mut public = a;
    public.as_object_mut().unwrap().remove("d");
    assert!(matches!(
        SigningKey::from_jwk(&public),
        Err(CryptoError::JwkDecode(_))
    ));
}

// ---------------------------------------------------------------- vectors

#[test]
fn psa_vector_keys_parse_and_halves_agree() {
    let Some(dir) = vectors::dir() else { return };

    // ec.p256: private JWK, evcli public JWK, derived PEMs.
    let ec_p256 = SigningKey::from_jwk(&read_json(&dir, "psa/keys/ec.p256.jwk")).unwrap();
    let ec_p256_pub = ec_p256.verifying_key();
    assert_eq!(fingerprint(&ec_p256_pub), "51b944cdfa544d4c");
    assert_eq!(
        ec_p256_pub.thumbprint(),
        "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
    );
    for public in [
        VerifyingKey::from_jwk(&read_json(&dir, "psa/keys/ec256-pub.evcli.json")).unwrap(),
        VerifyingKey::from_pem(&read_text(&dir, "psa/keys/derived/ec.p256.pub.pem")).unwrap(),
        SigningKey::from_pkcs8_pem(&read_text(&dir, "psa/keys/derived/ec.p256.priv.pkcs8.pem"))
            .unwrap()
            .verifying_key(),
    ] {
        assert_eq!(public, ec_p256_pub);
    }
    // The JWK d and the PKCS#8 scalar are the same key.
    let pkcs8 =
        SigningKey::from_pem(&read_text(&dir, "psa/keys/derived/ec.p256.priv.pkcs8.pem")).unwrap();
    assert_eq!(pkcs8.private_scalar(), ec_p256.private_scalar());
    // Our PKCS#8 export is byte-identical to OpenSSL's.
    assert_eq!(
        ec_p256.to_pkcs8_pem(),
        read_text(&dir, "psa/keys/derived/ec.p256.priv.pkcs8.pem")
    );
    // Our JWK export reproduces the vector's members.
    let jwk = read_json(&dir, "psa/keys/ec.p256.jwk");
    let ours = ec_p256.to_jwk();
    for member in ["kty", "crv", "x", "y", "d"] {
        assert_eq!(ours[member], jwk[member], "{member}");
    }

    // ec.p256.alt.
    let alt = SigningKey::from_jwk(&read_json(&dir, "psa/keys/ec.p256.alt.jwk")).unwrap();
    assert_eq!(fingerprint(&alt.verifying_key()), "4222feac9b97e812");
    assert_eq!(
        VerifyingKey::from_pem(&read_text(&dir, "psa/keys/derived/ec.p256.alt.pub.pem")).unwrap(),
        alt.verifying_key()
    );

    // SEC1 private keys.
    let unit =
        SigningKey::from_sec1_pem(&read_text(&dir, "psa/keys/psa-iot-unit-key.pem")).unwrap();
    assert_eq!(fingerprint(&unit.verifying_key()), "45d852b8ab34e60e");
    assert_eq!(
        VerifyingKey::from_pem(&read_text(
            &dir,
            "psa/keys/derived/psa-iot-unit-key.pub.pem"
        ))
        .unwrap(),
        unit.verifying_key()
    );
    let tfm = SigningKey::from_pem(&read_text(&dir, "psa/keys/tfm-key.pem")).unwrap();
    assert_eq!(fingerprint(&tfm.verifying_key()), "7b1a17147ca907e1");
    assert_eq!(
        VerifyingKey::from_pem(&read_text(&dir, "psa/keys/tfm-public.pem")).unwrap(),
        tfm.verifying_key()
    );
    // Our PEM export of the TF-M public key is byte-identical to the vector.
    assert_eq!(
        tfm.verifying_key().to_pem(),
        read_text(&dir, "psa/keys/tfm-public.pem")
    );
}

#[test]
fn ear_vector_keys_parse_and_halves_agree() {
    let Some(dir) = vectors::dir() else { return };

    let signer =
        SigningKey::from_jwk(&read_json(&dir, "ear/keys/veraison-ear-signing.skey.jwk")).unwrap();
    let public = signer.verifying_key();
    assert_eq!(fingerprint(&public), "66e2b23c32c65021");
    for other in [
        VerifyingKey::from_jwk(&read_json(&dir, "ear/keys/verifier.pub.jwk")).unwrap(),
        VerifyingKey::from_jwk(&read_json(&dir, "ear/keys/ear-arc-pkey.json")).unwrap(),
        SigningKey::from_jwk(&read_json(&dir, "ear/keys/ear-arc-skey.json"))
            .unwrap()
            .verifying_key(),
        VerifyingKey::from_pem(&read_text(&dir, "ear/keys/derived/verifier.pub.pem")).unwrap(),
    ] {
        assert_eq!(other, public);
    }

    let rust_ear =
        SigningKey::from_sec1_pem(&read_text(&dir, "ear/keys/rust-ear-ec_key.pem")).unwrap();
    assert_eq!(fingerprint(&rust_ear.verifying_key()), "05eecc487dd07ac2");
    for other in [
        VerifyingKey::from_pem(&read_text(&dir, "ear/keys/rust-ear-ec_key_pub.pem")).unwrap(),
        VerifyingKey::from_jwk(&read_json(&dir, "ear/keys/rust-ear-ec_key_pub.jwk")).unwrap(),
        SigningKey::from_pkcs8_pem(&read_text(&dir, "ear/keys/rust-ear-skey.pem"))
            .unwrap()
            .verifying_key(),
    ] {
        assert_eq!(other, rust_ear.verifying_key());
    }
}

#[test]
fn p384_vector_keys_parse_and_halves_agree() {
    let Some(dir) = vectors::dir() else { return };

    let rak = SigningKey::from_jwk(&read_json(&dir, "cca/keys/ec.p384.jwk")).unwrap();
    assert_eq!(rak.curve(), Curve::P384);
    assert_eq!(fingerprint(&rak.verifying_key()), "7702f967b682116e");
    assert_eq!(
        rak.verifying_key().thumbprint(),
        "AuAA4nCiqRdphuNkHnwf9ig7iSUUc11J4cArghmdy9w"
    );
    assert_eq!(
        VerifyingKey::from_pem(&read_text(&dir, "cca/keys/derived/ec.p384.pub.pem")).unwrap(),
        rak.verifying_key()
    );
    assert_eq!(
        SigningKey::from_pem(&read_text(&dir, "cca/keys/derived/ec.p384.priv.pkcs8.pem"))
            .unwrap()
            .verifying_key(),
        rak.verifying_key()
    );

    let cpak =
        SigningKey::from_sec1_pem(&read_text(&dir, "cca/keys/tfrmm-cca_platform.pem")).unwrap();
    assert_eq!(fingerprint(&cpak.verifying_key()), "0928f896cb023265");
    for other in [
        VerifyingKey::from_pem(&read_text(&dir, "cca/keys/tfrmm-cca_platform.pub")).unwrap(),
        VerifyingKey::from_jwk(&read_json(&dir, "cca/keys/rust-cpak.json")).unwrap(),
    ] {
        assert_eq!(other, cpak.verifying_key());
    }
    let sig = cpak.sign(b"platform token").unwrap();
    assert_eq!(sig.len(), 96);
    cpak.verifying_key()
        .verify(Algorithm::Es384, b"platform token", &sig)
        .unwrap();
}

#[test]
fn legacy_bad_trust_anchor_keys_are_rejected() {
    let Some(dir) = vectors::dir() else { return };
    let iak_pub = |file: &str| -> String {
        read_json(&dir, &format!("psa/legacy-kvstore/{file}"))["attributes"]["iak-pub"]
            .as_str()
            .expect("iak-pub is a string")
            .to_owned()
    };

    // An EC PRIVATE KEY body under a PUBLIC KEY label: not an SPKI.
    let err = VerifyingKey::from_pem(&iak_pub("ta-bad-key.json")).unwrap_err();
    assert!(matches!(err, CryptoError::DerDecode(_)), "{err}");

    // `-----BEGIN -----` ... `-----END PUBLIC KEY-----`.
    let err = VerifyingKey::from_pem(&iak_pub("ta-bad-key-header.json")).unwrap_err();
    assert!(matches!(err, CryptoError::PemDecode(_)), "{err}");

    // A PRIVATE KEY label.
    let err = VerifyingKey::from_pem(&iak_pub("ta-bad-key-private-key.json")).unwrap_err();
    assert!(matches!(err, CryptoError::UnsupportedPemLabel(ref l) if l == "PRIVATE KEY"));
    assert_eq!(err.to_string(), r#"unsupported key type: "PRIVATE KEY""#);

    // The good legacy records parse (ec.p256 and the PSA unit key).
    let good = VerifyingKey::from_pem(&iak_pub("ta-integ-endorsements.json")).unwrap();
    assert_eq!(fingerprint(&good), "51b944cdfa544d4c");
    let unit = VerifyingKey::from_pem(&iak_pub("ta-endorsements.json")).unwrap();
    assert_eq!(fingerprint(&unit), "45d852b8ab34e60e");
}

#[test]
fn verifies_an_upstream_es256_jws() {
    // A JWT Veraison's ear library signed with the Veraison EAR key: an
    // independent known-answer check of `verify`.
    let Some(dir) = vectors::dir() else { return };
    let jwt = read_text(&dir, "ear/jwt/ear-arc-testJWT.jwt");
    let jwt = jwt.trim();
    let (signing_input, sig_b64) = jwt.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig_b64).unwrap();
    let key = VerifyingKey::from_jwk(&read_json(&dir, "ear/keys/verifier.pub.jwk")).unwrap();
    key.verify(Algorithm::Es256, signing_input.as_bytes(), &sig)
        .unwrap();
    let mut tampered = signing_input.as_bytes().to_vec();
    tampered[10] ^= 1;
    assert!(key.verify(Algorithm::Es256, &tampered, &sig).is_err());
}

mod properties {
    use proptest::prelude::*;
    use vouch_crypto::{SigningKey, VerifyingKey};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic_the_parsers(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = VerifyingKey::from_spki_der(&bytes);
            let _ = SigningKey::from_pkcs8_der(&bytes);
            let _ = SigningKey::from_sec1_der(&bytes);
            let text = String::from_utf8_lossy(&bytes);
            let _ = VerifyingKey::from_pem(&text);
            let _ = SigningKey::from_pem(&text);
        }

        #[test]
        fn arbitrary_signatures_never_panic_the_verifiers(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            use vouch_crypto::{Curve, Hash, fixed_signature_from_scalars, fixed_signature_to_der};
            let key = SigningKey::generate_p256().unwrap().verifying_key();
            for hash in [Hash::Sha256, Hash::Sha384, Hash::Sha512] {
                prop_assert!(key.verify_asn1(hash, b"m", &bytes).is_err());
                prop_assert!(key.verify_with_hash(hash, b"m", &bytes).is_err());
            }
            let (r, s) = bytes.split_at(bytes.len() / 2);
            for curve in [Curve::P256, Curve::P384, Curve::P521] {
                if let Ok(fixed) = fixed_signature_from_scalars(curve, r, s) {
                    prop_assert_eq!(fixed.len(), 2 * curve.field_len());
                    prop_assert!(fixed_signature_to_der(curve, &fixed).is_ok());
                }
                let _ = fixed_signature_to_der(curve, &bytes);
            }
        }

        #[test]
        fn corrupted_spki_never_panics(flip in 0usize..91, bit in 0u8..8) {
            let key = SigningKey::generate_p256().unwrap().verifying_key();
            let mut der = key.to_spki_der();
            der[flip] ^= 1 << bit;
            if let Ok(parsed) = VerifyingKey::from_spki_der(&der) {
                // Only a flip that leaves a valid key on the curve may parse.
                prop_assert_eq!(parsed.to_spki_der(), der);
            }
        }
    }
}
