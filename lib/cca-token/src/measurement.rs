//! Digest-sized values.

use std::fmt;
use std::ops::Deref;

/// A digest-sized byte string: 32, 48 or 64 bytes (CCA `hash-type`, psatoken
/// `ValidatePSAHashType`). Used for the platform challenge, software component
/// measurement values and signer IDs, and the realm measurements.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Measurement(pub(crate) Vec<u8>);

impl Measurement {
    /// The lengths a measurement may have.
    pub const LENGTHS: [usize; 3] = [32, 48, 64];

    /// Wraps `bytes` when they are 32, 48 or 64 bytes long.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Option<Self> {
        let bytes = bytes.into();
        Self::LENGTHS.contains(&bytes.len()).then_some(Self(bytes))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, owned.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

impl Deref for Measurement {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Measurement {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Measurement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Measurement({})", hex::encode(&self.0))
    }
}

/// The reason psatoken gives for a value that is not digest-sized.
pub(crate) fn hash_len_reason(len: usize) -> String {
    format!("wrong syntax: length {len} (hash MUST be 32, 48 or 64 bytes)")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn only_digest_lengths() {
        for len in 0..100 {
            assert_eq!(
                Measurement::new(vec![7; len]).is_some(),
                [32, 48, 64].contains(&len),
                "{len}"
            );
        }
        let m = Measurement::new([1u8; 32]).unwrap();
        assert_eq!(m.len(), 32);
        assert_eq!(
            format!("{m:?}"),
            format!("Measurement({})", "01".repeat(32))
        );
    }
}
