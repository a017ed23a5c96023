//! Minting TPM evidence with software keys, for tests, the CLI's test kit
//! and load tests: fresh devices with fresh keys, in exactly the wire
//! formats a TPM and the EnactTrust/Parsec agents produce.

use uuid::Uuid;
use vouch_crypto::{CryptoError, SigningKey, VerifyingKey};

use crate::alg::TpmAlgId;
use crate::attest::{
    AttestFields, Attested, CertifyInfo, ClockInfo, PcrSelection, QuoteInfo, TpmName, TpmsAttest,
};
use crate::enacttrust::{EnactTrustError, EnactTrustToken};
use crate::error::TpmError;
use crate::parsec::{ParsecTpmError, ParsecTpmEvidence};
use crate::public::{EccPublicTemplate, ObjectAttributes, Scheme, TpmtPublic};
use crate::signature::TpmtSignature;

/// Why evidence could not be minted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MintError {
    /// A value does not fit its TPM structure (a PCR index too high, a
    /// field longer than a TPM2B).
    #[error("encoding the TPM structures failed: {0}")]
    Encode(#[from] TpmError),
    /// The signing key failed.
    #[error("signing failed: {0}")]
    Sign(#[from] CryptoError),
    /// A Parsec PAT's signature hash must be its PCR bank's, and a software
    /// key signs with its curve's hash.
    #[error("the attestation key signs with {signs}, but the PAT's PCR bank is {bank}")]
    BankHashMismatch {
        /// The hash the key signs with.
        signs: TpmAlgId,
        /// The PCR bank asked for.
        bank: TpmAlgId,
    },
    /// The minted EnactTrust token does not decode (a bug, or claims no
    /// verifier accepts).
    #[error("minted EnactTrust token is invalid: {0}")]
    EnactTrust(#[from] EnactTrustError),
    /// The minted Parsec evidence does not validate.
    #[error("minted Parsec TPM evidence is invalid: {0}")]
    Parsec(#[from] ParsecTpmError),
}

/// The claims of an EnactTrust quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnactTrustClaims {
    /// The node id (selects the trust anchor; not signed).
    pub node_id: Uuid,
    /// `firmwareVersion`.
    pub firmware_version: u64,
    /// The PCR bank (Veraison's gen-token always writes SHA-256).
    pub pcr_bank: TpmAlgId,
    /// The quoted PCRs.
    pub pcrs: Vec<u32>,
    /// `pcrDigest`: the value the reference value must equal.
    pub pcr_digest: Vec<u8>,
    /// `extraData`: the session nonce (empty for none).
    pub extra_data: Vec<u8>,
}

impl EnactTrustClaims {
    /// The claims of Veraison's `basic.token` (and integration
    /// `enacttrust.good.json`): node 7df7714e-aa04-4638-bcbf-434b1dd720f1,
    /// firmware 7, SHA-256 PCRs 1–4, digest 87428fc5…, no nonce.
    pub fn basic() -> Self {
        Self {
            node_id: Uuid::from_u128(0x7df7_714e_aa04_4638_bcbf_434b_1dd7_20f1),
            firmware_version: 7,
            pcr_bank: TpmAlgId::SHA256,
            pcrs: vec![1, 2, 3, 4],
            pcr_digest: vec![
                0x87, 0x42, 0x8f, 0xc5, 0x22, 0x80, 0x3d, 0x31, 0x06, 0x5e, 0x7b, 0xce, 0x3c, 0xf0,
                0x3f, 0xe4, 0x75, 0x09, 0x66, 0x31, 0xe5, 0xe0, 0x7b, 0xbd, 0x7a, 0x0f, 0xde, 0x60,
                0xc4, 0xcf, 0x25, 0xc7,
            ],
            extra_data: Vec::new(),
        }
    }
}

/// The TPMT_SIGNATURE hash a software key signs with (its curve's hash).
fn signing_hash(key: &SigningKey) -> TpmAlgId {
    TpmAlgId::from_hash(key.curve().algorithm().hash())
}

fn sign(key: &SigningKey, attest: &TpmsAttest) -> Result<TpmtSignature, MintError> {
    let fixed = key.sign(attest.raw())?;
    Ok(TpmtSignature::ecdsa_from_fixed(signing_hash(key), &fixed))
}

/// Mints an EnactTrust token: a quote laid out as Veraison's gen-token does
/// (empty qualifiedSigner, zero clock), signed with `ak`. Serialise it with
/// [`EnactTrustToken::to_bytes`].
pub fn enacttrust_token(
    claims: &EnactTrustClaims,
    ak: &SigningKey,
) -> Result<EnactTrustToken, MintError> {
    let attest = TpmsAttest::encode(AttestFields {
        qualified_signer: TpmName::Empty,
        extra_data: claims.extra_data.clone(),
        clock_info: ClockInfo::default(),
        firmware_version: claims.firmware_version,
        attested: Attested::Quote(QuoteInfo::new(
            PcrSelection::new(claims.pcr_bank, &claims.pcrs)?,
            claims.pcr_digest.clone(),
        )),
    })?;
    let signature = sign(ak, &attest)?;
    Ok(EnactTrustToken::from_parts(
        claims.node_id,
        attest,
        signature,
    )?)
}

/// The claims of Parsec TPM evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsecTpmClaims {
    /// The AK's key id: a UEID (33 bytes, 0x01 first, for a CoRIM
    /// `560(kid)` instance).
    pub kid: Vec<u8>,
    /// The key the AK certifies.
    pub attested_key: VerifyingKey,
    /// `extraData` of both the certification and the quote.
    pub nonce: Vec<u8>,
    /// The PCR bank; must be the hash the AK signs with (SHA-256 for P-256).
    pub pcr_bank: TpmAlgId,
    /// The quoted PCRs.
    pub pcrs: Vec<u32>,
    /// `pcrDigest` (see [`pcr_digest`](crate::pcr_digest)).
    pub pcr_digest: Vec<u8>,
}

/// Object attributes of a TPM-generated signing key (fixedTPM, fixedParent,
/// sensitiveDataOrigin, userWithAuth, sign), as in Parsec's evidence.
const KEY_ATTRIBUTES: ObjectAttributes = ObjectAttributes(0x0004_0072);
/// An attestation key is also restricted.
const AK_ATTRIBUTES: ObjectAttributes = ObjectAttributes(0x0005_0072);

fn ecc_public(key: &VerifyingKey, attributes: ObjectAttributes) -> Result<TpmtPublic, TpmError> {
    let hash = TpmAlgId::from_hash(key.curve().algorithm().hash());
    TpmtPublic::encode_ecc(
        key,
        &EccPublicTemplate {
            name_alg: hash,
            attributes,
            auth_policy: Vec::new(),
            scheme: Scheme {
                alg: TpmAlgId::ECDSA,
                hash: Some(hash),
                count: None,
            },
        },
    )
}

/// Mints Parsec TPM evidence: a TPM2_Certify of `claims.attested_key` and a
/// TPM2_Quote of the PCRs, both signed by `ak`. The `qualifiedSigner` of both
/// is the AK's name; serialise with [`ParsecTpmEvidence::to_cbor`].
pub fn parsec_tpm_evidence(
    claims: &ParsecTpmClaims,
    ak: &SigningKey,
) -> Result<ParsecTpmEvidence, MintError> {
    let signs = signing_hash(ak);
    if signs != claims.pcr_bank {
        return Err(MintError::BankHashMismatch {
            signs,
            bank: claims.pcr_bank,
        });
    }
    let ak_name = ecc_public(&ak.verifying_key(), AK_ATTRIBUTES)?
        .name()
        .unwrap_or(TpmName::Empty);
    let pub_area = ecc_public(&claims.attested_key, KEY_ATTRIBUTES)?;
    let key_name = pub_area.name().unwrap_or(TpmName::Empty);
    let clock_info = ClockInfo {
        clock: 0x1add_b3cc,
        reset_count: 9,
        restart_count: 0,
        safe: 1,
    };
    let cert_info = TpmsAttest::encode(AttestFields {
        qualified_signer: ak_name.clone(),
        extra_data: claims.nonce.clone(),
        clock_info,
        firmware_version: 0x2000_0000_0000_0000,
        attested: Attested::Certify(CertifyInfo {
            name: key_name.clone(),
            qualified_name: key_name,
        }),
    })?;
    let attest_info = TpmsAttest::encode(AttestFields {
        qualified_signer: ak_name,
        extra_data: claims.nonce.clone(),
        clock_info: ClockInfo {
            clock: clock_info.clock + 3,
            ..clock_info
        },
        firmware_version: 0x2000_0000_0000_0000,
        attested: Attested::Quote(QuoteInfo::new(
            PcrSelection::new(claims.pcr_bank, &claims.pcrs)?,
            claims.pcr_digest.clone(),
        )),
    })?;
    let kat_sig = sign(ak, &cert_info)?.encode()?;
    let pat_sig = sign(ak, &attest_info)?.encode()?;
    Ok(ParsecTpmEvidence::from_parts(
        "2.0",
        &claims.kid,
        kat_sig,
        pub_area.raw().to_vec(),
        cert_info.raw().to_vec(),
        pat_sig,
        attest_info.raw().to_vec(),
    )?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::pcr::pcr_digest;
    use vouch_crypto::{Curve, Hash};

    pub(crate) fn claims(attested: &VerifyingKey, bank: Hash) -> ParsecTpmClaims {
        let zero = vec![0u8; bank.output_len()];
        ParsecTpmClaims {
            kid: [&[1u8][..], &[0xab; 32]].concat(),
            attested_key: attested.clone(),
            nonce: vec![0xde, 0xad, 0xbe, 0xef],
            pcr_bank: TpmAlgId::from_hash(bank),
            pcrs: vec![0, 1, 2],
            pcr_digest: pcr_digest(bank, &[&zero, &zero, &zero]),
        }
    }

    #[test]
    fn parsec_evidence_round_trips_and_verifies() {
        for (curve, bank) in [
            (Curve::P256, Hash::Sha256),
            (Curve::P384, Hash::Sha384),
            (Curve::P521, Hash::Sha512),
        ] {
            let ak = SigningKey::generate(curve).unwrap();
            let attested = SigningKey::generate(Curve::P256).unwrap().verifying_key();
            let c = claims(&attested, bank);
            let ev = parsec_tpm_evidence(&c, &ak).unwrap();
            let back = ParsecTpmEvidence::decode(&ev.to_cbor()).unwrap();
            assert_eq!(back, ev);
            back.verify(&ak.verifying_key()).unwrap();
            assert_eq!(back.kid(), c.kid);
            assert_eq!(back.attested_key(), &attested);
            assert_eq!(back.attested_key_spki_der(), attested.to_spki_der());
            assert_eq!(back.pcrs(), [0, 1, 2]);
            assert_eq!(back.pcr_bank(), c.pcr_bank);
            assert_eq!(back.pcr_digest(), c.pcr_digest);
            assert_eq!(back.kat_nonce(), c.nonce);
            assert_eq!(back.pat_nonce(), c.nonce);
            // The qualified signer is the AK's TPM name.
            let ak_name = back.kat().cert_info().qualified_signer().digest().unwrap();
            assert_eq!(ak_name.0, TpmAlgId::from_hash(bank));
            let wrong = SigningKey::generate(curve).unwrap().verifying_key();
            assert_eq!(
                back.verify(&wrong).unwrap_err().to_string(),
                "failed to verify signature on key attestation token: failed to verify signature: Verification failed"
            );
        }
    }

    #[test]
    fn the_bank_must_be_the_ak_hash() {
        let ak = SigningKey::generate(Curve::P256).unwrap();
        let c = claims(&ak.verifying_key(), Hash::Sha384);
        assert_eq!(
            parsec_tpm_evidence(&c, &ak).unwrap_err().to_string(),
            "the attestation key signs with 0x000b (SHA256), but the PAT's PCR bank is 0x000c (SHA384)"
        );
    }

    #[test]
    fn bad_pcr_index_is_an_encode_error() {
        let ak = SigningKey::generate(Curve::P256).unwrap();
        let mut c = EnactTrustClaims::basic();
        c.pcrs = vec![100_000];
        assert!(matches!(
            enacttrust_token(&c, &ak),
            Err(MintError::Encode(_))
        ));
    }

    #[test]
    fn enacttrust_basic_claims_give_basic_token_attest_bytes() {
        // The TPMS_ATTEST of Veraison's basic.token (MANIFEST §9.1): the
        // minted quote is byte-identical, only the signature differs.
        let ak = SigningKey::generate(Curve::P256).unwrap();
        let token = enacttrust_token(&EnactTrustClaims::basic(), &ak).unwrap();
        assert_eq!(
            hex::encode(token.signed_bytes()),
            "ff5443478018000000000000000000000000000000000000000000000000000000000700000001000b031e0000002087428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7"
        );
        assert_eq!(
            &token.to_bytes()[..18],
            hex::decode("7df7714eaa044638bcbf434b1dd720f1004f").unwrap()
        );
    }
}
