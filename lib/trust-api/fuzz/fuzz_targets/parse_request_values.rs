//! Fuzzes the parsers that see untrusted request text: media types from
//! `Content-Type` headers, nonces and sizes from query strings, policy ids
//! from management paths, policy names from management queries, and the
//! attestation status a trust service answers over gRPC. Besides "never
//! panic": a parsed media type must be a fixed point of canonicalisation,
//! and every other parsed value prints back as the text it came from (ids
//! in lower case).

#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_trust_api::{AttestationStatus, MediaType, Nonce, PolicyId, PolicyName};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(media_type) = MediaType::parse(text) {
        let again = MediaType::parse(media_type.as_str()).expect("canonical form must parse");
        assert_eq!(
            media_type, again,
            "canonical form changed when parsed again"
        );
        let _ = media_type.parameter("profile");
    }
    if let Ok(nonce) = Nonce::from_base64url(text) {
        let again =
            Nonce::from_base64url(&nonce.to_base64url()).expect("encoded nonce must decode");
        assert_eq!(nonce, again);
    }
    let _ = Nonce::random_of_size(text);
    if let Some(id) = PolicyId::parse(text) {
        assert_eq!(
            id.to_string(),
            text.to_ascii_lowercase(),
            "a policy id prints as another"
        );
    }
    if let Ok(name) = PolicyName::parse(text) {
        assert_eq!(name.as_str(), text);
        assert!(!text.chars().any(char::is_control));
    }
    if let Some(status) = AttestationStatus::parse(text) {
        assert_eq!(status.as_str(), text);
    }
});
