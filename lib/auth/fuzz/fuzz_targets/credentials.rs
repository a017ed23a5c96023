//! Feeds arbitrary bytes to everything vouch-auth reads from outside: the
//! `Authorization` header, a JWKS document (from the issuer), and a bearer
//! token checked against a fixed key set. None may panic, and no token
//! made of fuzz bytes may verify.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vouch_auth::jwks::KeySet;
use vouch_auth::{Credentials, OidcConfig, verify_token};

/// A fixed P-256 key (RFC 7517 appendix A.1), so tokens reach the
/// signature and claim checks.
fn fixture() -> &'static (OidcConfig, KeySet) {
    static FIXTURE: OnceLock<(OidcConfig, KeySet)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let jwks = br#"{"keys":[{"kty":"EC","crv":"P-256","kid":"1","use":"sig",
            "x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
            "y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}"#;
        let keys = KeySet::parse(jwks).unwrap_or_else(|e| panic!("fixed JWKS: {e}"));
        (
            OidcConfig::new("https://issuer.example/realms/v", "vouch"),
            keys,
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = Credentials::parse(data);
    let _ = KeySet::parse(data);
    if let Ok(token) = std::str::from_utf8(data) {
        let (config, keys) = fixture();
        assert!(verify_token(config, keys, token).is_err());
    }
});
