//! Fuzzes the parsers that see untrusted request text: media types from
//! `Content-Type` headers and nonces from query strings. Besides "never
//! panic", a parsed media type must be a fixed point of canonicalisation.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vouch_trust_api::{MediaType, Nonce};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(media_type) = MediaType::parse(text) {
        let again = MediaType::parse(media_type.as_str()).expect("canonical form must parse");
        assert_eq!(media_type, again, "canonical form changed when parsed again");
        let _ = media_type.parameter("profile");
    }
    if let Ok(nonce) = Nonce::from_base64url(text) {
        let again = Nonce::from_base64url(&nonce.to_base64url()).expect("encoded nonce must decode");
        assert_eq!(nonce, again);
    }
    let _ = Nonce::random_of_size(text);
});
