//! Parsec CCA key attestation evidence
//! (`application/vnd.parallaxsecond.key-attestation.cca`).
//!
//! The evidence is a map `{"kat": KAT, "pat": PAT}`: the key attestation
//! token `601({10: nonce, 8: {1: COSE_Key}})` names the attested key, and
//! the platform attestation token is a complete CCA token (embedded as a CBOR
//! item, not wrapped in a byte string) whose realm challenge is the SHA-512
//! of the KAT's exact bytes, tag included. This follows veraison/parsec's
//! `cca` package.

use minicbor::Decoder;
use minicbor::data::Type;
use sha2::Digest as _;
use vouch_crypto::VerifyingKey;

use crate::cbor::{self, describe_minicbor};
use crate::realm::REALM_CHALLENGE_LEN;
use crate::{CcaError, CcaToken, keys};

/// Shortest KAT nonce (EAT `nonce`: 8 to 64 bytes).
pub const KAT_NONCE_MIN: usize = 8;
/// Longest KAT nonce.
pub const KAT_NONCE_MAX: usize = 64;

/// Decoded Parsec CCA evidence; the KAT and PAT are validated, nothing is
/// verified yet (see [`ParsecCcaEvidence::verify`]).
#[derive(Clone, Debug)]
pub struct ParsecCcaEvidence {
    kat: Vec<u8>,
    kat_nonce: Vec<u8>,
    attested_cose_key: Vec<u8>,
    attested_key: VerifyingKey,
    pat: Vec<u8>,
    token: CcaToken,
}

fn decode_err(msg: impl Into<String>) -> CcaError {
    CcaError::ParsecDecode(msg.into())
}

fn kat_err(msg: impl Into<String>) -> CcaError {
    CcaError::Kat(msg.into())
}

/// The encoded values of the `kat` and `pat` members, when present.
struct Members<'a> {
    kat: Option<&'a [u8]>,
    pat: Option<&'a [u8]>,
}

fn split(bytes: &[u8]) -> Result<Members<'_>, CcaError> {
    if bytes.is_empty() {
        return Err(decode_err("EOF"));
    }
    let mut d = Decoder::new(bytes);
    let n = match d
        .datatype()
        .map_err(|e| decode_err(describe_minicbor(&e)))?
    {
        Type::Map => cbor::definite(d.map().map_err(|e| decode_err(describe_minicbor(&e)))?)
            .map_err(decode_err)?,
        Type::MapIndef => return Err(decode_err("indefinite-length map is not allowed")),
        _ => {
            return Err(decode_err(format!(
                "expected a map {{\"kat\", \"pat\"}}, found {}",
                cbor::type_name_at(&d)
            )));
        }
    };
    let (mut kat, mut pat) = (None, None);
    let (mut seen_kat, mut seen_pat) = (false, false);
    for _ in 0..n {
        let key = cbor::read_text(&mut d);
        if key.is_none() {
            cbor::skip(&mut d, 2).map_err(decode_err)?;
        }
        let nil = cbor::is_nil(&d);
        let value = cbor::item(&mut d, 2).map_err(decode_err)?;
        let (seen, slot) = match key {
            Some("kat") => (&mut seen_kat, &mut kat),
            Some("pat") => (&mut seen_pat, &mut pat),
            _ => continue,
        };
        if *seen {
            return Err(decode_err(format!(
                "duplicate member {:?}",
                key.unwrap_or_default()
            )));
        }
        *seen = true;
        if !nil {
            *slot = Some(value);
        }
    }
    cbor::expect_end(&d).map_err(decode_err)?;
    Ok(Members { kat, pat })
}

/// Reads the KAT: its nonce and the attested key's COSE_Key bytes.
fn decode_kat(kat: &[u8]) -> Result<(Vec<u8>, &[u8]), CcaError> {
    let mut d = Decoder::new(kat);
    let decoding = |msg: String| kat_err(format!("KAT decoding failed: {msg}"));
    let validation = |msg: &str| kat_err(format!("KAT validation failed: {msg}"));
    let tag = if d.datatype().ok() == Some(Type::Tag) {
        d.tag().ok().map(|t| t.as_u64())
    } else {
        None
    };
    if tag != Some(keys::TAG_KAT) {
        return Err(decoding(format!(
            "wrong tag number, got [{}], expected [{}]",
            tag.map_or_else(|| "none".to_owned(), |t| t.to_string()),
            keys::TAG_KAT
        )));
    }
    if d.datatype().ok() != Some(Type::Map) {
        return Err(decoding(format!(
            "expected a map, found {}",
            cbor::type_name_at(&d)
        )));
    }
    // The item was checked by the outer walker; lengths are definite.
    let n = d.map().ok().flatten().unwrap_or_default();
    let (mut nonce, mut cnf) = (None, None);
    let (mut seen_nonce, mut seen_cnf) = (false, false);
    for _ in 0..n {
        let key = cbor::integer(&mut d);
        if key.is_none() {
            cbor::skip(&mut d, 2).map_err(decoding)?;
        }
        let nil = cbor::is_nil(&d);
        let value = cbor::item(&mut d, 2).map_err(decoding)?;
        let (seen, slot, name) = match key {
            Some(k) if k == i128::from(keys::kat::NONCE) => (&mut seen_nonce, &mut nonce, "nonce"),
            Some(k) if k == i128::from(keys::kat::CNF) => (&mut seen_cnf, &mut cnf, "cnf"),
            _ => continue,
        };
        if *seen {
            return Err(decoding(format!("duplicate {name} claim")));
        }
        *seen = true;
        if !nil {
            *slot = Some(value);
        }
    }

    let nonce = nonce.ok_or_else(|| validation("nonce claim missing"))?;
    let mut nd = Decoder::new(nonce);
    let nonce = if let Some(single) = cbor::read_bytes(&mut nd) {
        single
    } else if nd.datatype().ok() == Some(Type::Array) {
        let n = nd.array().ok().flatten().unwrap_or_default();
        if n != 1 {
            return Err(validation(&format!(
                "nonce validation failed: got {n} nonces, want 1"
            )));
        }
        cbor::read_bytes(&mut nd).ok_or_else(|| {
            decoding(format!(
                "nonce: expected a byte string, found {}",
                cbor::type_name_at(&nd)
            ))
        })?
    } else {
        return Err(decoding(format!(
            "nonce: expected a byte string, found {}",
            cbor::type_name_at(&nd)
        )));
    };
    if !(KAT_NONCE_MIN..=KAT_NONCE_MAX).contains(&nonce.len()) {
        return Err(validation(&format!(
            "nonce validation failed: a nonce must be between {KAT_NONCE_MIN} and \
             {KAT_NONCE_MAX} bytes long; found {}",
            nonce.len()
        )));
    }

    let cnf = cnf.ok_or_else(|| validation("cnf claim missing"))?;
    let mut cd = Decoder::new(cnf);
    if cd.datatype().ok() != Some(Type::Map) {
        return Err(decoding(format!(
            "cnf: expected a map, found {}",
            cbor::type_name_at(&cd)
        )));
    }
    let n = cd.map().ok().flatten().unwrap_or_default();
    let mut cose_key = None;
    for _ in 0..n {
        let key = cbor::integer(&mut cd);
        if key.is_none() {
            cbor::skip(&mut cd, 2).map_err(decoding)?;
        }
        let value = cbor::item(&mut cd, 2).map_err(decoding)?;
        if key == Some(i128::from(keys::kat::CNF_COSE_KEY)) {
            if cose_key.is_some() {
                return Err(decoding("cnf: duplicate COSE_Key (1)".to_owned()));
            }
            cose_key = Some(value);
        }
    }
    let cose_key = cose_key.ok_or_else(|| validation("cnf: no COSE_Key (1)"))?;
    Ok((nonce.to_vec(), cose_key))
}

impl ParsecCcaEvidence {
    /// Decodes Parsec CCA evidence: the KAT (tag 601, a nonce of 8 to 64
    /// bytes, an EC2 COSE_Key) and the PAT (a CCA token, decoded and
    /// validated as [`CcaToken::decode`] does). Nothing is verified.
    pub fn decode(bytes: &[u8]) -> Result<Self, CcaError> {
        let Members { kat, pat } = split(bytes)?;
        let kat = kat.ok_or(CcaError::KatMissing)?;
        let (kat_nonce, cose_key) = decode_kat(kat)?;
        let attested_key = vouch_cose::key_from_cose_key(cose_key)
            .map_err(|e| kat_err(format!("KAT validation failed: cnf: {e}")))?;
        let pat = pat.ok_or(CcaError::PatMissing)?;
        let token = CcaToken::decode(pat).map_err(|e| CcaError::Pat(Box::new(e)))?;
        Ok(Self {
            kat: kat.to_vec(),
            kat_nonce,
            attested_cose_key: cose_key.to_vec(),
            attested_key,
            pat: pat.to_vec(),
            token,
        })
    }

    /// The platform attestation token.
    pub fn token(&self) -> &CcaToken {
        &self.token
    }

    /// The PAT exactly as carried.
    pub fn pat_bytes(&self) -> &[u8] {
        &self.pat
    }

    /// The KAT exactly as carried, tag 601 included: the bytes the realm
    /// challenge binds.
    pub fn kat_bytes(&self) -> &[u8] {
        &self.kat
    }

    /// The KAT nonce (not compared with the session nonce by Veraison).
    pub fn kat_nonce(&self) -> &[u8] {
        &self.kat_nonce
    }

    /// The attested key.
    pub fn attested_key(&self) -> &VerifyingKey {
        &self.attested_key
    }

    /// The attested key's COSE_Key exactly as carried.
    pub fn attested_cose_key(&self) -> &[u8] {
        &self.attested_cose_key
    }

    /// The attested key's SubjectPublicKeyInfo (DER): what Veraison reports,
    /// base64url-encoded, as `ear.veraison.key-attestation.akpub`.
    pub fn attested_key_spki(&self) -> Vec<u8> {
        self.attested_key.to_spki_der()
    }

    /// SHA-512 of the KAT bytes: what the realm challenge must be.
    pub fn kat_digest(&self) -> [u8; REALM_CHALLENGE_LEN] {
        let mut out = [0u8; REALM_CHALLENGE_LEN];
        out.copy_from_slice(&sha2::Sha512::digest(&self.kat));
        out
    }

    /// Checks that the PAT's realm challenge is the SHA-512 of the KAT.
    /// Fails with [`CcaError::KatBinding`].
    pub fn verify_kat_binding(&self) -> Result<(), CcaError> {
        let want = self.kat_digest();
        let got = self.token.realm_challenge();
        if &want == got {
            Ok(())
        } else {
            Err(CcaError::KatBinding {
                want: hex::encode(want),
                got: hex::encode(got),
            })
        }
    }

    /// Verifies the PAT with the CPAK (platform signature, realm signature,
    /// platform/realm binding; failures are [`CcaError::PatVerification`]
    /// wrapping the step's error), then the KAT binding.
    pub fn verify(&self, cpak: &VerifyingKey) -> Result<(), CcaError> {
        self.token
            .verify(cpak)
            .map_err(|e| CcaError::PatVerification(Box::new(e)))?;
        self.verify_kat_binding()
    }
}
