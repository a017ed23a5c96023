//! Outside input never panics: `Authorization` headers, JWKS documents and
//! tokens, random or cut short. A truncated or altered good token never
//! verifies.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use vouch_auth::jwks::KeySet;
use vouch_auth::testing::{TestKey, now};
use vouch_auth::{Credentials, OidcConfig, verify_token};

const ISSUER: &str = "http://127.0.0.1:1/realms/veraison";

fn fixture() -> (OidcConfig, KeySet, String) {
    let key = TestKey::es256("k1");
    let jwks = serde_json::json!({"keys": [key.jwk()]}).to_string();
    let claims = serde_json::json!({
        "iss": ISSUER, "aud": "vouch", "exp": now() + 600,
        "realm_access": {"roles": ["provisioner"]},
    });
    (
        OidcConfig::new(ISSUER, "vouch"),
        KeySet::parse(jwks.as_bytes()).unwrap(),
        key.sign(&claims),
    )
}

proptest! {
    #[test]
    fn authorization_headers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Credentials::parse(&bytes);
        let mut basic = b"Basic ".to_vec();
        basic.extend_from_slice(&bytes);
        let _ = Credentials::parse(&basic);
    }

    #[test]
    fn jwks_documents_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = KeySet::parse(&bytes);
    }

    #[test]
    fn altered_jwks_never_panic(cut in 0usize..400, byte in any::<u8>(), at in 0usize..400) {
        let key = TestKey::es256("k");
        let mut jwks = serde_json::json!({"keys": [key.jwk()]}).to_string().into_bytes();
        if let Some(b) = jwks.get_mut(at) {
            *b = byte;
        }
        jwks.truncate(cut);
        let _ = KeySet::parse(&jwks);
    }

    #[test]
    fn random_tokens_never_verify(token in "[A-Za-z0-9_.-]{0,300}") {
        let (config, keys, _) = fixture();
        prop_assert!(verify_token(&config, &keys, &token).is_err());
    }
}

#[test]
fn truncated_or_altered_tokens_never_verify() {
    let (config, keys, token) = fixture();
    assert_eq!(
        verify_token(&config, &keys, &token).unwrap().roles,
        [vouch_auth::Role::Provisioner]
    );
    for cut in 0..token.len() {
        assert!(
            verify_token(&config, &keys, &token[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    let bytes = token.as_bytes();
    for at in 0..bytes.len() {
        let mut altered = bytes.to_vec();
        altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        if altered != token {
            // base64url's last character may carry unused bits: the same
            // bytes decode, so the token is really unchanged.
            if let Ok(p) = verify_token(&config, &keys, &altered) {
                let segment_end = bytes[at..]
                    .iter()
                    .position(|b| *b == b'.')
                    .map_or(bytes.len(), |p| p + at);
                assert_eq!(
                    at + 1,
                    segment_end,
                    "altered at {at} still verifies as {p:?}"
                );
            }
        }
    }
}
