//! EnactTrust TPM evidence (`application/vnd.enacttrust.tpm-evidence`).
//!
//! Framing (Veraison services `scheme/tpm-enacttrust/token.go`, since
//! February 2023): `NODE_ID(16) || SIZE(u16, big-endian) || TPMS_ATTEST(SIZE)
//! || TPMT_SIGNATURE`. The node id is a UUID in RFC 4122 byte order; it is
//! not covered by the signature, so it is bound to the attestation key only
//! by the trust-anchor lookup. The signature covers exactly the TPMS_ATTEST
//! bytes. The earlier framing (`SIZE || TPMS_ATTEST || TPMT_SIGNATURE` with
//! the node id in `extraData`) is not accepted: read with the current
//! framing, its size field falls inside the TPMS_ATTEST and the decoder
//! reports it as truncated, exactly as Veraison does.

use base64::Engine as _;
use serde_json::{Value, json};
use uuid::Uuid;
use vouch_crypto::VerifyingKey;

use crate::alg::TpmAlgId;
use crate::attest::{QuoteInfo, TpmsAttest};
use crate::error::{SignatureError, TpmError};
use crate::marshal::Reader;
use crate::signature::TpmtSignature;

/// The evidence media type.
pub const ENACTTRUST_MEDIA_TYPE: &str = "application/vnd.enacttrust.tpm-evidence";

/// Length of the fixed prefix: the node id and the size of the TPMS_ATTEST.
const HEADER_LEN: usize = 18;

/// Why an EnactTrust token was rejected. The texts are Veraison's, because
/// they end up in attestation results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnactTrustError {
    /// The token cannot even hold the node id and size.
    #[error("token too small: found {found} bytes, need at least 18")]
    TooSmall {
        /// The token's length.
        found: usize,
    },
    /// SIZE says the TPMS_ATTEST is longer than what follows it.
    #[error("TPMS_ATTEST appears truncated; expected {expected}, but got {got} bytes")]
    Truncated {
        /// The SIZE field.
        expected: u16,
        /// The bytes after the node id (SIZE included, as Veraison counts).
        got: usize,
    },
    /// The TPMS_ATTEST is malformed.
    #[error("could not decode TPMS_ATTEST: {0}")]
    Attest(TpmError),
    /// The TPMT_SIGNATURE after the TPMS_ATTEST is malformed (or followed by
    /// bytes that belong to nothing).
    #[error("could not decode TPMT_SIGNATURE: {0}")]
    Signature(TpmError),
    /// The TPMS_ATTEST is not a quote.
    #[error("wrong TPMS_ATTEST type: want 32792, got {0}")]
    WrongType(u16),
    /// The quote does not select exactly one PCR bank.
    #[error("could not decode TPMS_ATTEST: {0}")]
    PcrSelection(TpmError),
    /// The signature does not verify with the key given, or cannot be
    /// checked (RSA, an unsupported hash).
    #[error("failed to verify signature{}", verify_suffix(.0))]
    Verify(SignatureError),
}

/// Veraison says just "failed to verify signature" for a mismatch; other
/// failures carry their reason.
fn verify_suffix(e: &SignatureError) -> String {
    match e {
        SignatureError::Mismatch => String::new(),
        other => format!(": {other}"),
    }
}

/// A decoded EnactTrust token. Decoding guarantees a well-formed quote over
/// one PCR bank and a well-formed TPMT_SIGNATURE; [`verify`](Self::verify)
/// checks the signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnactTrustToken {
    node_id: Uuid,
    attest: TpmsAttest,
    /// The quote body of `attest` and its one PCR bank, decoded once.
    quote: QuoteInfo,
    bank: TpmAlgId,
    pcrs: Vec<u32>,
    signature: TpmtSignature,
}

impl EnactTrustToken {
    /// Decodes a token. Checks, in Veraison's order: length, SIZE, the
    /// TPMS_ATTEST, the TPMT_SIGNATURE (which must end the token), then that
    /// the TPMS_ATTEST is a quote.
    pub fn decode(bytes: &[u8]) -> Result<Self, EnactTrustError> {
        let (node, rest) = bytes
            .split_first_chunk::<16>()
            .filter(|_| bytes.len() >= HEADER_LEN)
            .ok_or(EnactTrustError::TooSmall { found: bytes.len() })?;
        let node_id = Uuid::from_bytes(*node);
        let mut r = Reader::new(rest);
        let size = r
            .u16("SIZE")
            .map_err(|_| EnactTrustError::TooSmall { found: bytes.len() })?;
        // Veraison counts the bytes after the node id (SIZE included) in this
        // message; keep its arithmetic so the texts match.
        let got = rest.len();
        let attest_bytes =
            r.take(usize::from(size), "TPMS_ATTEST")
                .map_err(|_| EnactTrustError::Truncated {
                    expected: size,
                    got,
                })?;
        let attest = TpmsAttest::decode(attest_bytes).map_err(EnactTrustError::Attest)?;
        let signature = TpmtSignature::decode(r.rest()).map_err(EnactTrustError::Signature)?;
        let Some(quote) = attest.quote() else {
            return Err(EnactTrustError::WrongType(attest.attest_type().tpm_value()));
        };
        let quote = quote.clone();
        let bank = quote.single_bank().map_err(EnactTrustError::PcrSelection)?;
        let (bank, pcrs) = (bank.hash(), bank.pcrs());
        Ok(Self {
            node_id,
            attest,
            quote,
            bank,
            pcrs,
            signature,
        })
    }

    /// The node id (bytes 0..16), which selects the trust anchor. Formats
    /// as the hyphenated lowercase UUID Veraison uses.
    pub fn node_id(&self) -> Uuid {
        self.node_id
    }

    /// The whole TPMS_ATTEST.
    pub fn attest(&self) -> &TpmsAttest {
        &self.attest
    }

    /// The TPMT_SIGNATURE.
    pub fn signature(&self) -> &TpmtSignature {
        &self.signature
    }

    /// `firmwareVersion` (claim `firmware-version`).
    pub fn firmware_version(&self) -> u64 {
        self.attest.firmware_version()
    }

    /// The quoted PCR indices, ascending (claim `pcr-selection`).
    pub fn pcr_selection(&self) -> &[u32] {
        &self.pcrs
    }

    /// The PCR bank's hash algorithm (claim `hash-algorithm`, the raw
    /// TPM_ALG_ID, 11 for SHA-256).
    pub fn hash_algorithm(&self) -> TpmAlgId {
        self.bank
    }

    /// `pcrDigest` (claim `pcr-digest`): the value compared with the
    /// reference value.
    pub fn pcr_digest(&self) -> &[u8] {
        self.quote.pcr_digest()
    }

    /// `extraData`: the nonce the quote was made with (empty in tokens from
    /// Veraison's gen-token without `-nonce`).
    pub fn extra_data(&self) -> &[u8] {
        self.attest.extra_data()
    }

    /// The bytes the signature covers: the raw TPMS_ATTEST.
    pub fn signed_bytes(&self) -> &[u8] {
        self.attest.raw()
    }

    /// Checks the quote signature with the node's attestation key.
    ///
    /// Veraison hashes with SHA-256 whatever the TPMT_SIGNATURE says; Vouch
    /// honours the signature's `hash` field when it names SHA-256, SHA-384
    /// or SHA-512 and rejects any other, which gives the same result for
    /// every token Veraison's tools produce (they all say SHA-256).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), EnactTrustError> {
        self.signature
            .verify(key, self.signed_bytes())
            .map_err(EnactTrustError::Verify)
    }

    /// The claims Veraison reports as `ear.veraison.annotated-evidence`:
    /// `node-id`, `firmware-version`, `pcr-selection`, `hash-algorithm` and
    /// `pcr-digest` (standard base64).
    pub fn annotated_evidence(&self) -> Value {
        json!({
            "node-id": self.node_id.hyphenated().to_string(),
            "firmware-version": self.firmware_version(),
            "pcr-selection": self.pcrs,
            "hash-algorithm": self.hash_algorithm().0,
            "pcr-digest": base64::engine::general_purpose::STANDARD.encode(self.pcr_digest()),
        })
    }

    /// Builds a token from its parts (used by [`crate::mint`]); the attest
    /// must be a quote over one bank.
    pub(crate) fn from_parts(
        node_id: Uuid,
        attest: TpmsAttest,
        signature: TpmtSignature,
    ) -> Result<Self, EnactTrustError> {
        let mut bytes = node_id.as_bytes().to_vec();
        let size = u16::try_from(attest.raw().len()).map_err(|_| {
            EnactTrustError::Attest(TpmError::TooLarge {
                field: "TPMS_ATTEST",
                len: attest.raw().len(),
            })
        })?;
        bytes.extend_from_slice(&size.to_be_bytes());
        bytes.extend_from_slice(attest.raw());
        bytes.extend_from_slice(&signature.encode().map_err(EnactTrustError::Signature)?);
        Self::decode(&bytes)
    }

    /// The token's wire encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = self.node_id.as_bytes().to_vec();
        // Decoding bounded the TPMS_ATTEST by a u16 SIZE and the signature's
        // TPM2Bs by u16 sizes, so neither conversion can fail.
        let size = u16::try_from(self.attest.raw().len()).unwrap_or(u16::MAX);
        bytes.extend_from_slice(&size.to_be_bytes());
        bytes.extend_from_slice(self.attest.raw());
        bytes.extend_from_slice(&self.signature.encode().unwrap_or_default());
        bytes
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::attest::{AttestFields, Attested, CertifyInfo, ClockInfo, TpmName};
    use crate::mint::{EnactTrustClaims, enacttrust_token};
    use vouch_crypto::{Curve, SigningKey};

    fn key() -> SigningKey {
        SigningKey::from_private_scalar(Curve::P256, &[7; 32]).unwrap()
    }

    #[test]
    fn minted_token_round_trips_and_verifies() {
        let ak = key();
        let mut claims = EnactTrustClaims::basic();
        claims.extra_data = vec![0x41; 32];
        let token = enacttrust_token(&claims, &ak).unwrap();
        let bytes = token.to_bytes();
        let back = EnactTrustToken::decode(&bytes).unwrap();
        assert_eq!(back, token);
        assert_eq!(back.to_bytes(), bytes);
        back.verify(&ak.verifying_key()).unwrap();
        assert_eq!(back.extra_data(), [0x41; 32]);
        assert_eq!(
            back.signed_bytes(),
            &bytes[18..18 + back.signed_bytes().len()]
        );
        assert_eq!(back.signature().hash(), TpmAlgId::SHA256);
        let other = SigningKey::from_private_scalar(Curve::P256, &[8; 32]).unwrap();
        let err = back.verify(&other.verifying_key()).unwrap_err();
        assert_eq!(err.to_string(), "failed to verify signature");
        assert!(matches!(
            err,
            EnactTrustError::Verify(SignatureError::Mismatch)
        ));
    }

    #[test]
    fn framing_errors_use_veraison_texts() {
        let token = enacttrust_token(&EnactTrustClaims::basic(), &key())
            .unwrap()
            .to_bytes();
        let err = |b: &[u8]| EnactTrustToken::decode(b).unwrap_err().to_string();
        assert_eq!(
            err(&token[..17]),
            "token too small: found 17 bytes, need at least 18"
        );
        assert_eq!(err(&[]), "token too small: found 0 bytes, need at least 18");
        assert_eq!(
            err(&token[..40]),
            "TPMS_ATTEST appears truncated; expected 79, but got 24 bytes"
        );
        assert_eq!(
            err(&token[..18 + 79]),
            "could not decode TPMT_SIGNATURE: decoding Alg: EOF"
        );
        let mut trailing = token.clone();
        trailing.push(0);
        assert_eq!(
            err(&trailing),
            "could not decode TPMT_SIGNATURE: TPMT_SIGNATURE has 1 trailing bytes"
        );
        let mut magic = token.clone();
        magic[18] = 0;
        assert_eq!(
            err(&magic),
            "could not decode TPMS_ATTEST: incorrect magic value: 544347"
        );
    }

    #[test]
    fn historic_framing_is_rejected_as_truncated() {
        // Before Feb 2023: SIZE || TPMS_ATTEST || TPMT_SIGNATURE, the node id
        // in extraData. Read with today's framing, bytes 16..18 of the
        // TPMS_ATTEST become SIZE.
        let mut claims = EnactTrustClaims::basic();
        claims.extra_data = claims.node_id.as_bytes().to_vec();
        let token = enacttrust_token(&claims, &key()).unwrap();
        let attest = token.signed_bytes();
        let mut historic = u16::try_from(attest.len()).unwrap().to_be_bytes().to_vec();
        historic.extend_from_slice(attest);
        historic.extend_from_slice(&token.signature().encode().unwrap());
        let size = u16::from_be_bytes([historic[16], historic[17]]);
        assert_eq!(
            EnactTrustToken::decode(&historic).unwrap_err().to_string(),
            format!(
                "TPMS_ATTEST appears truncated; expected {size}, but got {} bytes",
                historic.len() - 16
            )
        );
    }

    #[test]
    fn only_quotes_over_one_bank_are_accepted() {
        let ak = key();
        let certify = TpmsAttest::encode(AttestFields {
            qualified_signer: TpmName::Empty,
            extra_data: vec![],
            clock_info: ClockInfo::default(),
            firmware_version: 7,
            attested: Attested::Certify(CertifyInfo {
                name: TpmName::Empty,
                qualified_name: TpmName::Empty,
            }),
        })
        .unwrap();
        let sig =
            TpmtSignature::ecdsa_from_fixed(TpmAlgId::SHA256, &ak.sign(certify.raw()).unwrap());
        let err = EnactTrustToken::from_parts(Uuid::nil(), certify, sig.clone()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "wrong TPMS_ATTEST type: want 32792, got 32791"
        );

        let sel = crate::attest::PcrSelection::new(TpmAlgId::SHA256, &[0]).unwrap();
        let mut quote = QuoteInfo::new(sel.clone(), vec![0; 32]);
        // Two banks: build the wire form by hand.
        let one = TpmsAttest::encode(AttestFields {
            qualified_signer: TpmName::Empty,
            extra_data: vec![],
            clock_info: ClockInfo::default(),
            firmware_version: 0,
            attested: Attested::Quote(quote.clone()),
        })
        .unwrap();
        let mut raw = one.raw().to_vec();
        // count (offset 35) 1 -> 2, and a second selection after the first.
        raw[38] = 2;
        raw.splice(45..45, [0x00, 0x0b, 0x03, 0x01, 0x00, 0x00]);
        let two = TpmsAttest::decode(&raw).unwrap();
        assert_eq!(two.quote().unwrap().pcr_selections().len(), 2);
        let err = EnactTrustToken::from_parts(Uuid::nil(), two, sig).unwrap_err();
        assert_eq!(
            err.to_string(),
            "could not decode TPMS_ATTEST: got 2 TPMS_PCR_SELECTION items in TPML_PCR_SELECTION, expected 1"
        );
        quote = QuoteInfo::new(sel, vec![]);
        assert!(quote.single_bank().is_ok());
    }

    #[test]
    fn rsa_signatures_decode_but_do_not_verify() {
        let token = enacttrust_token(&EnactTrustClaims::basic(), &key()).unwrap();
        let rsa = TpmtSignature::Rsa {
            scheme: TpmAlgId::RSASSA,
            hash: TpmAlgId::SHA256,
            signature: vec![1; 256],
        };
        let token =
            EnactTrustToken::from_parts(token.node_id(), token.attest().clone(), rsa).unwrap();
        assert_eq!(
            token
                .verify(&key().verifying_key())
                .unwrap_err()
                .to_string(),
            "failed to verify signature: unsupported signature scheme 0x0014 (RSASSA): only ECDSA is verified"
        );
    }

    #[test]
    fn annotated_evidence_shape() {
        let token = enacttrust_token(&EnactTrustClaims::basic(), &key()).unwrap();
        assert_eq!(
            token.annotated_evidence(),
            serde_json::json!({
                "node-id": "7df7714e-aa04-4638-bcbf-434b1dd720f1",
                "firmware-version": 7,
                "pcr-selection": [1, 2, 3, 4],
                "hash-algorithm": 11,
                "pcr-digest": "h0KPxSKAPTEGXnvOPPA/5HUJZjHl4Hu9eg/eYMTPJcc=",
            })
        );
    }
}
