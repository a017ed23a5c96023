//! Parsec TPM key attestation (`application/vnd.parallaxsecond.key-attestation.tpm`).
//!
//! The evidence is a CBOR map with text keys (veraison/parsec `tpm/`):
//!
//! ```text
//! { "kat": { "tpmVer": text, "kid": bstr, "sig": TPMT_SIGNATURE,
//!            "pubArea": TPMT_PUBLIC, "certInfo": TPMS_ATTEST(CERTIFY) },
//!   "pat": { "tpmVer": text, "kid": bstr, "sig": TPMT_SIGNATURE,
//!            "attestInfo": TPMS_ATTEST(QUOTE) } }
//! ```
//!
//! The key attestation token (KAT) is a TPM2_Certify of the attested key by
//! the attestation key (AK); the platform attestation token (PAT) is a
//! TPM2_Quote by the same AK. Decoding validates the evidence as the Parsec
//! library does, with its error texts and in its order: the `kid` is a valid
//! UEID and the same in both tokens, the certified name is `nameAlg ||
//! H(pubArea)`, the attested key is an ECC key with fixedTPM and
//! sensitiveDataOrigin, the PAT is a quote whose signature hash is the PCR
//! bank's. [`ParsecTpmEvidence::verify`] then checks both signatures with the
//! AK. Unknown map entries (such as the legacy `"alg"`) are ignored, as Go
//! ignores them; duplicate keys and trailing bytes are rejected.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use minicbor::Decoder;
use serde_json::{Map, Value, json};
use vouch_crypto::VerifyingKey;

use crate::alg::TpmAlgId;
use crate::attest::{TpmName, TpmsAttest};
use crate::cbor;
use crate::error::SignatureError;
use crate::public::TpmtPublic;
use crate::signature::TpmtSignature;

/// The evidence media type.
pub const PARSEC_TPM_MEDIA_TYPE: &str = "application/vnd.parallaxsecond.key-attestation.tpm";

/// Why Parsec TPM evidence was rejected. The texts are the Parsec library's
/// (veraison/parsec `tpm/`), because Veraison puts them in attestation
/// results.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParsecTpmError {
    /// The bytes are not the expected CBOR map.
    #[error("CBOR decoding of Parsec TPM attestation failed: {0}")]
    Cbor(String),
    /// The text is not the expected JSON object.
    #[error("error unmarshalling Parsec TPM collection: {0}")]
    Json(String),
    /// There is no `kat`.
    #[error("validation failed: nil key attestation token supplied")]
    MissingKat,
    /// The key attestation token is invalid.
    #[error("validation failed: validation of key attestation token failed: {0}")]
    Kat(String),
    /// There is no `pat`.
    #[error("validation failed: nil platform attestation token supplied")]
    MissingPat,
    /// The platform attestation token is invalid.
    #[error("validation failed: validation of platform attestation token failed: {0}")]
    Pat(String),
    /// The two tokens name different keys.
    #[error("validation failed: KID mismatch KAT: {kat} and PAT: {pat}")]
    KidMismatch {
        /// The KAT kid, hex.
        kat: String,
        /// The PAT kid, hex.
        pat: String,
    },
    /// The KAT signature does not verify with the AK.
    #[error("failed to verify signature on key attestation token: failed to verify signature: {0}")]
    KatSignature(SignatureError),
    /// The PAT signature does not verify with the AK.
    #[error(
        "failed to verify signature on platform attestation token: failed to verify the signature: {0}"
    )]
    PatSignature(SignatureError),
}

/// A UEID (EAT `ueid`): type byte then value, validated as veraison/eat
/// does: RAND (0x01) with 16, 24 or 32 bytes, EUI (0x02) with 6 or 8, IMEI
/// (0x03) with 14.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ueid(Vec<u8>);

impl Ueid {
    /// Validates `bytes` as a UEID (veraison/eat's messages).
    pub fn new(bytes: &[u8]) -> Result<Self, String> {
        let Some((&ty, value)) = bytes.split_first() else {
            return Err("empty UEID".to_owned());
        };
        let n = value.len();
        match ty {
            1 if ![16, 24, 32].contains(&n) => Err(format!(
                "RAND length must be exactly 16, 24, or 32 bytes; found {n} bytes"
            )),
            2 if ![6, 8].contains(&n) => Err(format!(
                "EUI length must be exactly 6 (EUI-48) or 8 (EUI-60 or EUI-64) bytes; found {n} bytes"
            )),
            3 if n != 14 => Err(format!(
                "IMEI length must be exactly 14 bytes; found {n} bytes"
            )),
            1..=3 => Ok(Self(bytes.to_vec())),
            other => Err(format!("invalid UEID type {other}")),
        }
    }

    /// The UEID bytes, type byte first.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A validated key attestation token: the AK's certification of a key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Kat {
    tpm_ver: String,
    kid: Ueid,
    sig_raw: Vec<u8>,
    sig: TpmtSignature,
    pub_area: TpmtPublic,
    cert_info: TpmsAttest,
}

impl Kat {
    /// `tpmVer` (e.g. "2.0").
    pub fn tpm_ver(&self) -> &str {
        &self.tpm_ver
    }

    /// `kid`: the UEID naming the AK.
    pub fn kid(&self) -> &Ueid {
        &self.kid
    }

    /// `sig`, decoded.
    pub fn signature(&self) -> &TpmtSignature {
        &self.sig
    }

    /// `sig`, as received.
    pub fn signature_bytes(&self) -> &[u8] {
        &self.sig_raw
    }

    /// `pubArea`: the attested key's public area.
    pub fn pub_area(&self) -> &TpmtPublic {
        &self.pub_area
    }

    /// `certInfo`: the TPMS_ATTEST (CERTIFY) the AK signed.
    pub fn cert_info(&self) -> &TpmsAttest {
        &self.cert_info
    }

    /// Checks `sig` over `certInfo` with the AK.
    pub fn verify(&self, ak: &VerifyingKey) -> Result<(), SignatureError> {
        self.sig.verify(ak, self.cert_info.raw())
    }
}

/// A validated platform attestation token: the AK's quote of the PCRs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pat {
    tpm_ver: String,
    kid: Ueid,
    sig_raw: Vec<u8>,
    sig: TpmtSignature,
    attest_info: TpmsAttest,
    bank: TpmAlgId,
    pcrs: Vec<u32>,
    pcr_digest: Vec<u8>,
}

impl Pat {
    /// `tpmVer`.
    pub fn tpm_ver(&self) -> &str {
        &self.tpm_ver
    }

    /// `kid`.
    pub fn kid(&self) -> &Ueid {
        &self.kid
    }

    /// `sig`, decoded.
    pub fn signature(&self) -> &TpmtSignature {
        &self.sig
    }

    /// `sig`, as received.
    pub fn signature_bytes(&self) -> &[u8] {
        &self.sig_raw
    }

    /// `attestInfo`: the TPMS_ATTEST (QUOTE) the AK signed.
    pub fn attest_info(&self) -> &TpmsAttest {
        &self.attest_info
    }

    /// The quoted PCR indices, ascending.
    pub fn pcrs(&self) -> &[u32] {
        &self.pcrs
    }

    /// The quoted PCR bank's hash algorithm.
    pub fn pcr_bank(&self) -> TpmAlgId {
        self.bank
    }

    /// The quote's `pcrDigest`.
    pub fn pcr_digest(&self) -> &[u8] {
        &self.pcr_digest
    }

    /// Checks `sig` over `attestInfo` with the AK.
    pub fn verify(&self, ak: &VerifyingKey) -> Result<(), SignatureError> {
        self.sig.verify(ak, self.attest_info.raw())
    }
}

/// Decoded and validated Parsec TPM evidence.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ParsecTpmEvidence {
    kat: Kat,
    pat: Pat,
}

/// The fields of one token as found on the wire, before validation; `None`
/// for absent (or null) entries.
#[derive(Debug, Default)]
struct RawToken {
    tpm_ver: Option<String>,
    kid: Option<Vec<u8>>,
    sig: Option<Vec<u8>>,
    pub_area: Option<Vec<u8>>,
    cert_info: Option<Vec<u8>>,
    attest_info: Option<Vec<u8>>,
}

impl ParsecTpmEvidence {
    /// Decodes and validates CBOR evidence.
    pub fn decode(bytes: &[u8]) -> Result<Self, ParsecTpmError> {
        let (kat, pat) = decode_cbor(bytes).map_err(ParsecTpmError::Cbor)?;
        validate(kat, pat)
    }

    /// Decodes and validates the JSON form the Parsec library also reads
    /// (byte fields in standard base64).
    pub fn from_json(bytes: &[u8]) -> Result<Self, ParsecTpmError> {
        let (kat, pat) = decode_json(bytes).map_err(ParsecTpmError::Json)?;
        validate(kat, pat)
    }

    /// The CBOR encoding (the map Parsec produces, entries in the Parsec
    /// library's field order).
    pub fn to_cbor(&self) -> Vec<u8> {
        let mut w = cbor::Writer::default();
        w.map(2).text("kat").map(5);
        w.text("tpmVer").text(&self.kat.tpm_ver);
        w.text("kid").bytes(self.kat.kid.as_bytes());
        w.text("sig").bytes(&self.kat.sig_raw);
        w.text("pubArea").bytes(self.kat.pub_area.raw());
        w.text("certInfo").bytes(self.kat.cert_info.raw());
        w.text("pat").map(4);
        w.text("tpmVer").text(&self.pat.tpm_ver);
        w.text("kid").bytes(self.pat.kid.as_bytes());
        w.text("sig").bytes(&self.pat.sig_raw);
        w.text("attestInfo").bytes(self.pat.attest_info.raw());
        w.into_bytes()
    }

    /// The key attestation token.
    pub fn kat(&self) -> &Kat {
        &self.kat
    }

    /// The platform attestation token.
    pub fn pat(&self) -> &Pat {
        &self.pat
    }

    /// The `kid` (the same in both tokens): the trust-anchor instance id.
    pub fn kid(&self) -> &[u8] {
        self.kat.kid.as_bytes()
    }

    /// The attested key (the KAT `pubArea` key).
    pub fn attested_key(&self) -> &VerifyingKey {
        self.kat.pub_area.key()
    }

    /// The attested key as SubjectPublicKeyInfo DER (what Veraison reports,
    /// base64url, as `ear.veraison.key-attestation.akpub`).
    pub fn attested_key_spki_der(&self) -> Vec<u8> {
        self.attested_key().to_spki_der()
    }

    /// The quoted PCR indices, ascending.
    pub fn pcrs(&self) -> &[u32] {
        self.pat.pcrs()
    }

    /// The quoted PCR bank's hash algorithm.
    pub fn pcr_bank(&self) -> TpmAlgId {
        self.pat.pcr_bank()
    }

    /// The quote's `pcrDigest`.
    pub fn pcr_digest(&self) -> &[u8] {
        self.pat.pcr_digest()
    }

    /// The KAT `extraData` (the nonce of the certification).
    pub fn kat_nonce(&self) -> &[u8] {
        self.kat.cert_info.extra_data()
    }

    /// The PAT `extraData` (the nonce of the quote).
    pub fn pat_nonce(&self) -> &[u8] {
        self.pat.attest_info.extra_data()
    }

    /// Checks both signatures with the attestation key: the KAT's over
    /// `certInfo`, then the PAT's over `attestInfo`, each hashed with the
    /// hash its TPMT_SIGNATURE names.
    pub fn verify(&self, ak: &VerifyingKey) -> Result<(), ParsecTpmError> {
        self.kat.verify(ak).map_err(ParsecTpmError::KatSignature)?;
        self.pat.verify(ak).map_err(ParsecTpmError::PatSignature)
    }

    /// The evidence as Veraison annotates it: the tokens as JSON, byte
    /// fields in standard base64.
    pub fn annotated_evidence(&self) -> Value {
        json!({
            "kat": {
                "tpmVer": self.kat.tpm_ver,
                "kid": STANDARD.encode(self.kat.kid.as_bytes()),
                "sig": STANDARD.encode(&self.kat.sig_raw),
                "pubArea": STANDARD.encode(self.kat.pub_area.raw()),
                "certInfo": STANDARD.encode(self.kat.cert_info.raw()),
            },
            "pat": {
                "tpmVer": self.pat.tpm_ver,
                "kid": STANDARD.encode(self.pat.kid.as_bytes()),
                "sig": STANDARD.encode(&self.pat.sig_raw),
                "attestInfo": STANDARD.encode(self.pat.attest_info.raw()),
            },
        })
    }

    /// Builds evidence from unvalidated parts (used by [`crate::mint`]);
    /// validation is the same as for decoded evidence.
    pub(crate) fn from_parts(
        tpm_ver: &str,
        kid: &[u8],
        kat_sig: Vec<u8>,
        pub_area: Vec<u8>,
        cert_info: Vec<u8>,
        pat_sig: Vec<u8>,
        attest_info: Vec<u8>,
    ) -> Result<Self, ParsecTpmError> {
        validate(
            Some(RawToken {
                tpm_ver: Some(tpm_ver.to_owned()),
                kid: Some(kid.to_vec()),
                sig: Some(kat_sig),
                pub_area: Some(pub_area),
                cert_info: Some(cert_info),
                attest_info: None,
            }),
            Some(RawToken {
                tpm_ver: Some(tpm_ver.to_owned()),
                kid: Some(kid.to_vec()),
                sig: Some(pat_sig),
                pub_area: None,
                cert_info: None,
                attest_info: Some(attest_info),
            }),
        )
    }
}

fn decode_cbor(bytes: &[u8]) -> Result<(Option<RawToken>, Option<RawToken>), String> {
    let mut d = Decoder::new(bytes);
    let entries = cbor::map_len(&mut d, "evidence")?;
    let (mut kat, mut pat) = (None, None);
    let (mut seen_kat, mut seen_pat) = (false, false);
    for _ in 0..entries {
        match cbor::key(&mut d, "evidence")? {
            "kat" => {
                once(&mut seen_kat, "kat")?;
                kat = cbor::nullable(&mut d, |d| decode_cbor_token(d, "kat"))?;
            }
            "pat" => {
                once(&mut seen_pat, "pat")?;
                pat = cbor::nullable(&mut d, |d| decode_cbor_token(d, "pat"))?;
            }
            _ => cbor::skip(&mut d, 1)?,
        }
    }
    let extra = bytes.len().saturating_sub(d.position());
    if extra > 0 {
        return Err(format!(
            "{extra} bytes of extraneous data starting at index {}",
            d.position()
        ));
    }
    Ok((kat, pat))
}

fn once(seen: &mut bool, key: &str) -> Result<(), String> {
    if std::mem::replace(seen, true) {
        return Err(format!("duplicate map key {key:?}"));
    }
    Ok(())
}

fn decode_cbor_token(d: &mut Decoder<'_>, which: &'static str) -> Result<RawToken, String> {
    let entries = cbor::map_len(d, which)?;
    let mut raw = RawToken::default();
    let mut seen = Vec::new();
    for _ in 0..entries {
        let key = cbor::key(d, which)?;
        if seen.contains(&key) {
            return Err(format!("{which}: duplicate map key {key:?}"));
        }
        seen.push(key);
        let slot = match key {
            "tpmVer" => {
                raw.tpm_ver = cbor::nullable(d, |d| cbor::text(d, "tpmVer").map(str::to_owned))?;
                continue;
            }
            "kid" => &mut raw.kid,
            "sig" => &mut raw.sig,
            "pubArea" => &mut raw.pub_area,
            "certInfo" => &mut raw.cert_info,
            "attestInfo" => &mut raw.attest_info,
            _ => {
                cbor::skip(d, 2)?;
                continue;
            }
        };
        *slot = cbor::nullable(d, |d| cbor::bytes(d, key).map(<[u8]>::to_vec))?;
    }
    Ok(raw)
}

fn decode_json(bytes: &[u8]) -> Result<(Option<RawToken>, Option<RawToken>), String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let Value::Object(top) = value else {
        return Err("expected a JSON object".to_owned());
    };
    Ok((
        json_token(top.get("kat"), "kat")?,
        json_token(top.get("pat"), "pat")?,
    ))
}

fn json_token(value: Option<&Value>, which: &str) -> Result<Option<RawToken>, String> {
    let obj: &Map<String, Value> = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(obj)) => obj,
        Some(_) => return Err(format!("{which}: expected an object")),
    };
    let bytes = |key: &str| -> Result<Option<Vec<u8>>, String> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => STANDARD
                .decode(s)
                .map(Some)
                .map_err(|e| format!("{which}.{key}: {e}")),
            Some(_) => Err(format!("{which}.{key}: expected a base64 string")),
        }
    };
    let tpm_ver = match obj.get("tpmVer") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(format!("{which}.tpmVer: expected a string")),
    };
    Ok(Some(RawToken {
        tpm_ver,
        kid: bytes("kid")?,
        sig: bytes("sig")?,
        pub_area: bytes("pubArea")?,
        cert_info: bytes("certInfo")?,
        attest_info: bytes("attestInfo")?,
    }))
}

/// The Parsec library's `validateKatPat`, check for check.
fn validate(
    kat: Option<RawToken>,
    pat: Option<RawToken>,
) -> Result<ParsecTpmEvidence, ParsecTpmError> {
    let kat = validate_kat(kat.ok_or(ParsecTpmError::MissingKat)?).map_err(ParsecTpmError::Kat)?;
    let pat = validate_pat(pat.ok_or(ParsecTpmError::MissingPat)?).map_err(ParsecTpmError::Pat)?;
    if kat.kid != pat.kid {
        return Err(ParsecTpmError::KidMismatch {
            kat: hex::encode(kat.kid.as_bytes()),
            pat: hex::encode(pat.kid.as_bytes()),
        });
    }
    Ok(ParsecTpmEvidence { kat, pat })
}

/// The checks common to both tokens: version, kid, an ECDSA signature.
fn validate_common(raw: &mut RawToken) -> Result<(String, Ueid, Vec<u8>, TpmtSignature), String> {
    let tpm_ver = match raw.tpm_ver.take() {
        None => return Err("TPM Version not set".to_owned()),
        Some(v) if v.is_empty() => return Err("Empty TPM Version".to_owned()),
        Some(v) => v,
    };
    let kid = raw.kid.take().ok_or("missing key identifier")?;
    let kid = Ueid::new(&kid).map_err(|e| format!("invalid KID: failed to validate UEID: {e}"))?;
    let sig_raw = raw.sig.take().ok_or("missing signature")?;
    let sig = TpmtSignature::decode(&sig_raw).map_err(|e| format!("not a valid signature: {e}"))?;
    if sig.scheme() != TpmAlgId::ECDSA {
        return Err(format!(
            "unsupported signature algorithm: {}",
            sig.scheme().0
        ));
    }
    Ok((tpm_ver, kid, sig_raw, sig))
}

fn validate_kat(mut raw: RawToken) -> Result<Kat, String> {
    let (tpm_ver, kid, sig_raw, sig) = validate_common(&mut raw)?;
    let (pub_area, cert_info) = validate_cert_and_pub(raw)
        .map_err(|e| format!("validation of cert & pub info failed: {e}"))?;
    Ok(Kat {
        tpm_ver,
        kid,
        sig_raw,
        sig,
        pub_area,
        cert_info,
    })
}

fn validate_cert_and_pub(raw: RawToken) -> Result<(TpmtPublic, TpmsAttest), String> {
    let cert = |reason: String| format!("invalid certificate information: {reason}");
    let cert_bytes = raw
        .cert_info
        .ok_or_else(|| cert("no certification information in KAT to decode".to_owned()))?;
    let cert_info = TpmsAttest::decode(&cert_bytes).map_err(|e| {
        cert(format!(
            "failed to decode supplied attestation information: {e}"
        ))
    })?;
    let certify = cert_info
        .certify()
        .ok_or_else(|| cert("no certify information in the TPMS Attest".to_owned()))?;
    // A handle name has no digest either: go-tpm leaves Name.Digest nil.
    let Some((name_alg, name_digest)) = certify.name.digest() else {
        return Err(cert("no digest information in certify info".to_owned()));
    };
    if name_alg.named_info_id().is_none() {
        return Err(cert(format!(
            "invalid name in certify info: = unknown hash algorithm identifier: {}",
            name_alg.0
        )));
    }
    let pub_bytes = raw.pub_area.ok_or("missing public key information")?;
    let pub_area = TpmtPublic::decode(&pub_bytes)
        .map_err(|e| format!("unable to decode the Public Area: {e}"))?;
    if !pub_area.attributes().tpm_originated() {
        return Err(format!(
            "invalid public key, not a TPM originated key: {:x}",
            pub_area.attributes().0
        ));
    }
    if pub_area.name_alg() != name_alg {
        // Go prints the public area's algorithm first, under the other label.
        return Err(format!(
            "hash alg mismatch cert info alg: = {}, pub area alg: ={}",
            pub_area.name_alg().0,
            name_alg.0
        ));
    }
    let Some(TpmName::Digest { digest, .. }) = pub_area.name() else {
        return Err(format!(
            "unable to compute hash: unsupported name algorithm {name_alg}"
        ));
    };
    if digest != name_digest {
        return Err("match failed".to_owned());
    }
    Ok((pub_area, cert_info))
}

fn validate_pat(mut raw: RawToken) -> Result<Pat, String> {
    let (tpm_ver, kid, sig_raw, sig) = validate_common(&mut raw)?;
    let attest_bytes = raw.attest_info.ok_or("missing attestation data")?;
    let attest_info = TpmsAttest::decode(&attest_bytes)
        .map_err(|e| format!("unable to decode attestation information: {e}"))?;
    let Some(quote) = attest_info.quote() else {
        // "informaion": the Parsec library's spelling, kept so the text
        // matches Veraison's.
        return Err(format!(
            "invalid attestation informaion type: {}",
            attest_info.attest_type().tpm_value()
        ));
    };
    let bank = quote
        .single_bank()
        .map_err(|e| format!("unable to decode attestation information: {e}"))?;
    if sig.hash() != bank.hash() {
        return Err(format!(
            "mismatch in hash algo sig hash={}, quote hash={}",
            sig.hash().0,
            bank.hash().0
        ));
    }
    let (bank_hash, pcrs, pcr_digest) = (bank.hash(), bank.pcrs(), quote.pcr_digest().to_vec());
    Ok(Pat {
        tpm_ver,
        kid,
        sig_raw,
        sig,
        attest_info,
        bank: bank_hash,
        pcrs,
        pcr_digest,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ueid_rules_follow_veraison_eat() {
        assert!(Ueid::new(&[1; 33]).is_ok());
        assert!(Ueid::new(&[1; 17]).is_ok());
        assert!(Ueid::new(&[2; 7]).is_ok());
        assert!(Ueid::new(&[3; 15]).is_ok());
        assert_eq!(Ueid::new(&[]).unwrap_err(), "empty UEID");
        assert_eq!(
            Ueid::new(&[1; 20]).unwrap_err(),
            "RAND length must be exactly 16, 24, or 32 bytes; found 19 bytes"
        );
        assert_eq!(Ueid::new(&[9; 33]).unwrap_err(), "invalid UEID type 9");
        assert!(Ueid::new(&[2; 8]).is_err());
        assert!(Ueid::new(&[3; 14]).is_err());
        assert_eq!(Ueid::new(&[1; 33]).unwrap().as_bytes(), [1; 33]);
    }

    #[test]
    fn structural_cbor_errors() {
        let err = |b: &[u8]| ParsecTpmEvidence::decode(b).unwrap_err().to_string();
        assert_eq!(
            err(&[]),
            "CBOR decoding of Parsec TPM attestation failed: unexpected EOF"
        );
        assert_eq!(
            err(&[0xa0]),
            "validation failed: nil key attestation token supplied"
        );
        assert!(err(&[0xa0, 0x00]).contains("1 bytes of extraneous data"));
        assert!(err(&[0x80]).contains("expected a map"));
        // {"kat": {}, "kat": {}}
        assert!(
            err(&[
                0xa2, 0x63, b'k', b'a', b't', 0xa0, 0x63, b'k', b'a', b't', 0xa0
            ])
            .contains("duplicate map key")
        );
        // {"kat": {}}: every KAT field missing, the version first.
        assert_eq!(
            err(&[0xa1, 0x63, b'k', b'a', b't', 0xa0]),
            "validation failed: validation of key attestation token failed: TPM Version not set"
        );
        // {"kat": {"kid": "x"}}: wrong type.
        assert!(
            err(&[
                0xa1, 0x63, b'k', b'a', b't', 0xa1, 0x63, b'k', b'i', b'd', 0x61, b'x'
            ])
            .contains("kid: expected a byte string")
        );
        // {"kat": null, "x": [[…]]} skips unknown entries.
        assert_eq!(
            err(&[0xa2, 0x63, b'k', b'a', b't', 0xf6, 0x61, b'x', 0x81, 0x80]),
            "validation failed: nil key attestation token supplied"
        );
    }

    #[test]
    fn json_errors() {
        let err = |b: &str| {
            ParsecTpmEvidence::from_json(b.as_bytes())
                .unwrap_err()
                .to_string()
        };
        assert!(err("[").starts_with("error unmarshalling Parsec TPM collection: "));
        assert!(err("[]").ends_with("expected a JSON object"));
        assert_eq!(
            err("{}"),
            "validation failed: nil key attestation token supplied"
        );
        assert!(err(r#"{"kat":{"kid":"!!"}}"#).contains("kat.kid"));
        assert_eq!(
            err(r#"{"kat":{"tpmVer":""}}"#),
            "validation failed: validation of key attestation token failed: Empty TPM Version"
        );
    }
}

#[cfg(test)]
mod validation_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::attest::{Attested, CertifyInfo};
    use crate::mint::{ParsecTpmClaims, parsec_tpm_evidence};
    use crate::public::{EccPublicTemplate, ObjectAttributes, Scheme};
    use vouch_crypto::{Curve, SigningKey};

    struct Parts {
        kid: Vec<u8>,
        kat_sig: Vec<u8>,
        pub_area: Vec<u8>,
        cert_info: Vec<u8>,
        pat_sig: Vec<u8>,
        attest_info: Vec<u8>,
    }

    fn parts() -> (SigningKey, Parts) {
        let ak = SigningKey::from_private_scalar(Curve::P256, &[3; 32]).unwrap();
        let attested = SigningKey::from_private_scalar(Curve::P256, &[4; 32])
            .unwrap()
            .verifying_key();
        let ev = parsec_tpm_evidence(
            &ParsecTpmClaims {
                kid: [&[1u8][..], &[0x11; 32]].concat(),
                attested_key: attested,
                nonce: vec![1, 2, 3, 4],
                pcr_bank: TpmAlgId::SHA256,
                pcrs: vec![0, 1],
                pcr_digest: vec![9; 32],
            },
            &ak,
        )
        .unwrap();
        let p = Parts {
            kid: ev.kid().to_vec(),
            kat_sig: ev.kat().signature_bytes().to_vec(),
            pub_area: ev.kat().pub_area().raw().to_vec(),
            cert_info: ev.kat().cert_info().raw().to_vec(),
            pat_sig: ev.pat().signature_bytes().to_vec(),
            attest_info: ev.pat().attest_info().raw().to_vec(),
        };
        (ak, p)
    }

    fn build(p: &Parts, pat_kid: &[u8]) -> Result<ParsecTpmEvidence, ParsecTpmError> {
        validate(
            Some(RawToken {
                tpm_ver: Some("2.0".into()),
                kid: Some(p.kid.clone()),
                sig: Some(p.kat_sig.clone()),
                pub_area: Some(p.pub_area.clone()),
                cert_info: Some(p.cert_info.clone()),
                attest_info: None,
            }),
            Some(RawToken {
                tpm_ver: Some("2.0".into()),
                kid: Some(pat_kid.to_vec()),
                sig: Some(p.pat_sig.clone()),
                pub_area: None,
                cert_info: None,
                attest_info: Some(p.attest_info.clone()),
            }),
        )
    }

    fn err(p: &Parts) -> String {
        build(p, &p.kid).unwrap_err().to_string()
    }

    const KAT: &str = "validation failed: validation of key attestation token failed: ";
    const PAT: &str = "validation failed: validation of platform attestation token failed: ";

    #[test]
    fn the_minted_parts_are_valid() {
        let (ak, p) = parts();
        build(&p, &p.kid)
            .unwrap()
            .verify(&ak.verifying_key())
            .unwrap();
    }

    #[test]
    fn kid_rules() {
        let (_, p) = parts();
        let other = [&[1u8][..], &[0x22; 32]].concat();
        assert_eq!(
            build(&p, &other).unwrap_err().to_string(),
            format!(
                "validation failed: KID mismatch KAT: {} and PAT: {}",
                hex::encode(&p.kid),
                hex::encode(&other)
            )
        );
        let mut bad = Parts {
            kid: vec![1; 5],
            ..p
        };
        assert_eq!(
            err(&bad),
            format!(
                "{KAT}invalid KID: failed to validate UEID: RAND length must be exactly 16, 24, or 32 bytes; found 4 bytes"
            )
        );
        bad.kid = vec![1; 17];
        assert!(build(&bad, &bad.kid.clone()).is_ok());
    }

    #[test]
    fn kat_signature_must_be_ecdsa() {
        let (_, p) = parts();
        let rsa = TpmtSignature::Rsa {
            scheme: TpmAlgId::RSAPSS,
            hash: TpmAlgId::SHA256,
            signature: vec![0; 8],
        };
        let bad = Parts {
            kat_sig: rsa.encode().unwrap(),
            ..p
        };
        assert_eq!(
            err(&bad),
            format!("{KAT}unsupported signature algorithm: 22")
        );
        let bad = Parts {
            kat_sig: vec![0, 0x18],
            ..bad
        };
        assert_eq!(
            err(&bad),
            format!("{KAT}not a valid signature: decoding ECC: EOF")
        );
    }

    #[test]
    fn certify_checks() {
        let (_, p) = parts();
        let cp = "validation of cert & pub info failed: ";
        // The certified name must be nameAlg || H(pubArea).
        let mut cert = TpmsAttest::decode(&p.cert_info).unwrap().fields().clone();
        let Attested::Certify(CertifyInfo { name, .. }) = &mut cert.attested else {
            panic!("certify")
        };
        let TpmName::Digest { digest, .. } = name else {
            panic!("digest name")
        };
        digest[0] ^= 1;
        let bad = Parts {
            cert_info: TpmsAttest::encode(cert.clone()).unwrap().raw().to_vec(),
            ..parts().1
        };
        assert_eq!(err(&bad), format!("{KAT}{cp}match failed"));
        // A handle is not a digest name.
        cert.attested = Attested::Certify(CertifyInfo {
            name: TpmName::Handle(1),
            qualified_name: TpmName::Handle(2),
        });
        let bad = Parts {
            cert_info: TpmsAttest::encode(cert.clone()).unwrap().raw().to_vec(),
            ..parts().1
        };
        assert_eq!(
            err(&bad),
            format!(
                "{KAT}{cp}invalid certificate information: no digest information in certify info"
            )
        );
        // A quote is not a certification.
        let bad = Parts {
            cert_info: p.attest_info.clone(),
            ..parts().1
        };
        assert_eq!(
            err(&bad),
            format!(
                "{KAT}{cp}invalid certificate information: no certify information in the TPMS Attest"
            )
        );
        let bad = Parts {
            cert_info: vec![0xff, 0x54],
            ..parts().1
        };
        assert_eq!(
            err(&bad),
            format!(
                "{KAT}{cp}invalid certificate information: failed to decode supplied attestation information: decoding Magic/Type: unexpected EOF"
            )
        );
    }

    #[test]
    fn the_attested_key_must_be_tpm_originated() {
        let (_, p) = parts();
        let pub_area = TpmtPublic::decode(&p.pub_area).unwrap();
        let soft = TpmtPublic::encode_ecc(
            pub_area.key(),
            &EccPublicTemplate {
                name_alg: TpmAlgId::SHA256,
                attributes: ObjectAttributes::SIGN.union(ObjectAttributes::FIXED_TPM),
                auth_policy: vec![],
                scheme: Scheme {
                    alg: TpmAlgId::ECDSA,
                    hash: Some(TpmAlgId::SHA256),
                    count: None,
                },
            },
        )
        .unwrap();
        let bad = Parts {
            pub_area: soft.raw().to_vec(),
            ..p
        };
        assert_eq!(
            err(&bad),
            format!(
                "{KAT}validation of cert & pub info failed: invalid public key, not a TPM originated key: 40002"
            )
        );
    }

    #[test]
    fn pat_checks() {
        let (ak, p) = parts();
        // The PAT must be a quote.
        let bad = Parts {
            attest_info: p.cert_info.clone(),
            ..parts().1
        };
        assert_eq!(
            err(&bad),
            format!("{PAT}invalid attestation informaion type: 32791")
        );
        // Its signature hash must be the PCR bank's.
        let mut fields = TpmsAttest::decode(&p.attest_info).unwrap().fields().clone();
        fields.attested = Attested::Quote(crate::attest::QuoteInfo::new(
            crate::attest::PcrSelection::new(TpmAlgId::SHA384, &[0]).unwrap(),
            vec![0; 48],
        ));
        let quote384 = TpmsAttest::encode(fields).unwrap();
        let sig =
            TpmtSignature::ecdsa_from_fixed(TpmAlgId::SHA256, &ak.sign(quote384.raw()).unwrap());
        let bad = Parts {
            attest_info: quote384.raw().to_vec(),
            pat_sig: sig.encode().unwrap(),
            ..parts().1
        };
        assert_eq!(
            err(&bad),
            format!("{PAT}mismatch in hash algo sig hash=11, quote hash=12")
        );
        let bad = Parts {
            attest_info: vec![],
            ..parts().1
        };
        assert_eq!(
            err(&bad),
            format!("{PAT}unable to decode attestation information: decoding Magic/Type: EOF")
        );
        // A PAT signature by another key fails verification on the PAT.
        let other = SigningKey::from_private_scalar(Curve::P256, &[5; 32]).unwrap();
        let attest = TpmsAttest::decode(&p.attest_info).unwrap();
        let sig =
            TpmtSignature::ecdsa_from_fixed(TpmAlgId::SHA256, &other.sign(attest.raw()).unwrap());
        let forged = Parts {
            pat_sig: sig.encode().unwrap(),
            ..parts().1
        };
        assert_eq!(
            build(&forged, &forged.kid)
                .unwrap()
                .verify(&ak.verifying_key())
                .unwrap_err()
                .to_string(),
            "failed to verify signature on platform attestation token: failed to verify the signature: Verification failed"
        );
    }

    #[test]
    fn missing_fields_in_go_order() {
        let none = RawToken::default;
        assert_eq!(
            validate(Some(none()), None).unwrap_err().to_string(),
            format!("{KAT}TPM Version not set")
        );
        let kat = |f: &dyn Fn(&mut RawToken)| {
            let (_, p) = parts();
            let mut raw = RawToken {
                tpm_ver: Some("2.0".into()),
                kid: Some(p.kid.clone()),
                sig: Some(p.kat_sig.clone()),
                pub_area: Some(p.pub_area.clone()),
                cert_info: Some(p.cert_info.clone()),
                attest_info: None,
            };
            f(&mut raw);
            validate(Some(raw), None).unwrap_err().to_string()
        };
        assert_eq!(
            kat(&|r| r.kid = None),
            format!("{KAT}missing key identifier")
        );
        assert_eq!(kat(&|r| r.sig = None), format!("{KAT}missing signature"));
        assert_eq!(
            kat(&|r| r.cert_info = None),
            format!(
                "{KAT}validation of cert & pub info failed: invalid certificate information: no certification information in KAT to decode"
            )
        );
        assert_eq!(
            kat(&|r| r.pub_area = None),
            format!("{KAT}validation of cert & pub info failed: missing public key information")
        );
        assert_eq!(
            kat(&|_| ()),
            "validation failed: nil platform attestation token supplied"
        );
    }
}
