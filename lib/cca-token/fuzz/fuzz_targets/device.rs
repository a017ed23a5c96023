//! The fixed CCA device both targets seed from: its CPAK and RAK are
//! constant, so seeded tokens verify in every run.

use std::sync::OnceLock;

use vouch_cca_token::mint::{CcaDevice, sample_platform_claims, sample_realm_claims};
use vouch_cca_token::{PlatformClaims, RealmClaims};
use vouch_crypto::{Curve, SigningKey, VerifyingKey};

pub fn signing_key() -> SigningKey {
    SigningKey::from_private_scalar(Curve::P256, &[0x11; 32])
        .unwrap_or_else(|e| panic!("fixed fuzz key: {e}"))
}

/// A fixed key, so accepted inputs also exercise signature verification.
pub fn key() -> &'static VerifyingKey {
    static KEY: OnceLock<VerifyingKey> = OnceLock::new();
    KEY.get_or_init(|| signing_key().verifying_key())
}

/// A device whose CPAK is the fixed key (its RAK a fixed P-384 key), so
/// seeded tokens verify in every run.
pub fn device() -> (CcaDevice, PlatformClaims, RealmClaims) {
    let rak = SigningKey::from_private_scalar(Curve::P384, &[0x12; 48])
        .unwrap_or_else(|e| panic!("fixed fuzz key: {e}"));
    let realm = sample_realm_claims(&rak.verifying_key());
    (
        CcaDevice::new(signing_key(), rak),
        sample_platform_claims(),
        realm,
    )
}
