//! Device keys for tests: random ones, and deterministic ones derived from a
//! seed so a test (or a load test minting 100,000 devices) is reproducible.

use aws_lc_rs::digest;
use vouch_crypto::{CryptoError, Curve, SigningKey};

/// Domain-separation prefix for seed-derived scalars, so keys minted here
/// never coincide with keys derived the same way for another purpose.
const SEED_DOMAIN: &[u8] = b"vouch-testkit/device-key/v1";

/// Generates a fresh random P-256 device key (ES256).
pub fn generate_device_key() -> Result<SigningKey, CryptoError> {
    SigningKey::generate(Curve::P256)
}

/// Derives a P-256 key from `seed`: the same seed always yields the same key.
pub fn deterministic_key(seed: u64) -> Result<SigningKey, CryptoError> {
    deterministic_key_on(Curve::P256, seed)
}

/// Derives a key on `curve` from `seed`.
///
/// The scalar is the hash (SHA-256 for P-256, SHA-384 for P-384, SHA-512
/// left-padded to 66 bytes for P-521) of a domain prefix, the seed and a
/// retry counter. A hash that is zero or not below the group order
/// (probability about 2^-32 for P-256, far less for P-384) is retried with
/// the next counter value.
pub fn deterministic_key_on(curve: Curve, seed: u64) -> Result<SigningKey, CryptoError> {
    let alg = match curve {
        Curve::P256 => &digest::SHA256,
        Curve::P384 => &digest::SHA384,
        Curve::P521 => &digest::SHA512,
    };
    let mut last_err = CryptoError::KeyGeneration;
    for counter in 0u32..16 {
        let mut ctx = digest::Context::new(alg);
        ctx.update(SEED_DOMAIN);
        ctx.update(&seed.to_be_bytes());
        ctx.update(&counter.to_be_bytes());
        // A P-521 scalar is 66 bytes: the 64-byte SHA-512 digest, left-padded
        // (below the group order by construction).
        let digest = ctx.finish();
        let mut scalar = vec![0u8; curve.field_len().saturating_sub(digest.as_ref().len())];
        scalar.extend_from_slice(digest.as_ref());
        match SigningKey::from_private_scalar(curve, &scalar) {
            Ok(key) => return Ok(key),
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}

/// The `PUBLIC KEY` (SubjectPublicKeyInfo) PEM of a key's public half, as
/// provisioned in trust anchors.
pub fn spki_pem(key: &SigningKey) -> String {
    key.verifying_key().to_pem()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_keys_are_stable_and_distinct() {
        let a = deterministic_key(7).unwrap();
        let b = deterministic_key(7).unwrap();
        let c = deterministic_key(8).unwrap();
        assert_eq!(a.verifying_key(), b.verifying_key());
        assert_eq!(a.private_scalar(), b.private_scalar());
        assert_ne!(a.verifying_key(), c.verifying_key());

        let p384 = deterministic_key_on(Curve::P384, 7).unwrap();
        assert_eq!(p384.curve(), Curve::P384);
        assert_eq!(
            p384.verifying_key(),
            deterministic_key_on(Curve::P384, 7)
                .unwrap()
                .verifying_key()
        );
    }

    #[test]
    fn random_keys_differ_and_export_pem() {
        let a = generate_device_key().unwrap();
        let b = generate_device_key().unwrap();
        assert_ne!(a.verifying_key(), b.verifying_key());
        let pem = spki_pem(&a);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(
            vouch_crypto::VerifyingKey::from_pem(&pem).unwrap(),
            a.verifying_key()
        );
    }
}
