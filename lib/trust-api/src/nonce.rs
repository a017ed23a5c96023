use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};

/// Base64url as Go decodes it: padding optional, and non-zero bits after
/// the last full byte tolerated. Veraison's own integration tests send such
/// a nonce (`deadbeef…dea=`), so a strict decoder would refuse them.
const LENIENT_URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A challenge-response nonce: 8 to 64 bytes, as Veraison allows.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Nonce(Vec<u8>);

/// Why a nonce request is refused. The messages are Veraison's, so clients
/// that match on them keep working.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    /// The `nonce` query parameter is not base64url.
    #[error("nonce must be valid base64")]
    Encoding,
    /// The nonce has the wrong length.
    #[error("nonce must be between 8 and 64 bytes long; got {0}")]
    Length(usize),
    /// The `nonceSize` query parameter is out of range or not a number.
    #[error("nonceSize must be in range 8..64")]
    Size,
    /// Both `nonce` and `nonceSize` were given.
    #[error("nonce and nonceSize are mutually exclusive")]
    Exclusive,
    /// The system random source failed.
    #[error("could not generate a random nonce")]
    Random,
}

impl Nonce {
    /// Shortest nonce accepted.
    pub const MIN_LEN: usize = 8;
    /// Longest nonce accepted.
    pub const MAX_LEN: usize = 64;
    /// Size of a server-chosen nonce when the client asks for none.
    pub const DEFAULT_LEN: usize = 32;

    /// Wraps raw bytes, checking the length.
    pub fn new(bytes: Vec<u8>) -> Result<Self, NonceError> {
        if (Self::MIN_LEN..=Self::MAX_LEN).contains(&bytes.len()) {
            Ok(Nonce(bytes))
        } else {
            Err(NonceError::Length(bytes.len()))
        }
    }

    /// Decodes base64url, padded or not (Veraison's `nonce` query parameter).
    pub fn from_base64url(encoded: &str) -> Result<Self, NonceError> {
        let bytes = LENIENT_URL_SAFE
            .decode(encoded)
            .map_err(|_| NonceError::Encoding)?;
        Self::new(bytes)
    }

    /// A fresh random nonce of `size` bytes from the system CSPRNG.
    pub fn random(size: usize) -> Result<Self, NonceError> {
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&size) {
            return Err(NonceError::Size);
        }
        let mut bytes = vec![0u8; size];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| NonceError::Random)?;
        Ok(Nonce(bytes))
    }

    /// Parses a `nonceSize` query value and draws a nonce of that size.
    pub fn random_of_size(size: &str) -> Result<Self, NonceError> {
        let size: usize = size.trim().parse().map_err(|_| NonceError::Size)?;
        Self::random(size)
    }

    /// The nonce bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Unpadded base64url, the session JSON encoding of Veraison `main`.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.0)
    }
}

impl std::fmt::Debug for Nonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Nonce({})", hex_lower(&self.0))
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl AsRef<[u8]> for Nonce {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_padded_and_unpadded_base64url() {
        let padded = Nonce::from_base64url("QUp8F0FBs9DpodKK8xUg8NQimf6sQAfe2J1ormzZLxk=").unwrap();
        let unpadded =
            Nonce::from_base64url("QUp8F0FBs9DpodKK8xUg8NQimf6sQAfe2J1ormzZLxk").unwrap();
        assert_eq!(padded, unpadded);
        assert_eq!(padded.as_bytes().len(), 32);
        assert_eq!(
            padded.to_base64url(),
            "QUp8F0FBs9DpodKK8xUg8NQimf6sQAfe2J1ormzZLxk"
        );
    }

    #[test]
    fn tolerates_trailing_bits_like_go() {
        let nonce = Nonce::from_base64url("deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdea=").unwrap();
        assert_eq!(nonce.as_bytes().len(), 32);
        assert_eq!(nonce.as_bytes()[..3], [0x75, 0xe6, 0x9d]);
    }

    #[test]
    fn rejects_what_veraison_rejects() {
        // The integration test's bad nonce: the padding does not fit.
        assert_eq!(
            Nonce::from_base64url("Ppfdfe2JzZLOk="),
            Err(NonceError::Encoding)
        );
        assert_eq!(Nonce::from_base64url("a+b/"), Err(NonceError::Encoding));
        assert_eq!(Nonce::from_base64url("AAAA"), Err(NonceError::Length(3)));
        assert_eq!(
            Nonce::from_base64url(&URL_SAFE_NO_PAD.encode([0u8; 65])),
            Err(NonceError::Length(65))
        );
        assert_eq!(
            NonceError::Length(3).to_string(),
            "nonce must be between 8 and 64 bytes long; got 3"
        );
    }

    #[test]
    fn random_nonces_respect_the_requested_size() {
        for size in ["8", "32", "64"] {
            let n = Nonce::random_of_size(size).unwrap();
            assert_eq!(n.as_bytes().len(), size.parse::<usize>().unwrap());
        }
        for bad in ["7", "65", "-1", "x", "", "256"] {
            assert_eq!(Nonce::random_of_size(bad), Err(NonceError::Size), "{bad}");
        }
        assert_ne!(Nonce::random(32).unwrap(), Nonce::random(32).unwrap());
    }
}
