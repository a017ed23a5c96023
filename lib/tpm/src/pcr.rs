//! PCR digests: what a quote's `pcrDigest` should be for given PCR values.

use vouch_crypto::Hash;

/// Hashes `data` with `hash`.
pub(crate) fn hash_bytes(hash: Hash, data: &[u8]) -> Vec<u8> {
    hash.digest(data)
}

/// The `pcrDigest` a TPM puts in a quote over PCRs holding `values`:
/// `H(value[0] || value[1] || …)`, with the values in ascending PCR order
/// (the order of the quote's PCR selection, see
/// [`PcrSelection::pcrs`](crate::PcrSelection::pcrs)). Veraison's Parsec TPM
/// scheme computes the endorsed digest the same way from reference values.
pub fn pcr_digest(hash: Hash, values_in_pcr_order: &[&[u8]]) -> Vec<u8> {
    hash_bytes(hash, &values_in_pcr_order.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsec_evidence_digest_is_sha256_of_three_zero_pcrs() {
        // MANIFEST §9.2: PCRs 0, 1, 2 all zero in the SHA-256 bank.
        let zero = [0u8; 32];
        assert_eq!(
            hex::encode(pcr_digest(Hash::Sha256, &[&zero, &zero, &zero])),
            "2ea9ab9198d1638007400cd2c3bef1cc745b864b76011a0e1bc52180ac6452d4"
        );
        assert_eq!(pcr_digest(Hash::Sha384, &[]).len(), 48);
        assert_eq!(
            pcr_digest(Hash::Sha512, &[b"a", b"b"]),
            hash_bytes(Hash::Sha512, b"ab")
        );
    }
}
