//! TPMS_ATTEST (TPM 2.0 Part 2, 10.12.12): what a TPM signs in a quote or a
//! certification, kept together with the exact bytes that were signed.

use crate::alg::TpmAlgId;
use crate::error::TpmError;
use crate::marshal::{Reader, Writer};

/// TPM_GENERATED_VALUE: the magic every TPM-produced TPMS_ATTEST starts with.
pub const TPM_GENERATED_VALUE: u32 = 0xff54_4347;

/// Largest `sizeofSelect` accepted in a TPMS_PCR_SELECTION. A TPM has at most
/// a few dozen PCRs (PCR_SELECT_MAX is 3 on PC-client TPMs); this bounds the
/// PCR list an input can make us build at 8 × 64 entries.
pub const MAX_PCR_SELECT_BYTES: usize = 64;

/// TPM_ST_ATTEST_*: the kind of a TPMS_ATTEST.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttestType {
    /// TPM_ST_ATTEST_NV (0x8014).
    Nv,
    /// TPM_ST_ATTEST_COMMAND_AUDIT (0x8015).
    CommandAudit,
    /// TPM_ST_ATTEST_SESSION_AUDIT (0x8016).
    SessionAudit,
    /// TPM_ST_ATTEST_CERTIFY (0x8017).
    Certify,
    /// TPM_ST_ATTEST_QUOTE (0x8018).
    Quote,
    /// TPM_ST_ATTEST_TIME (0x8019).
    Time,
    /// TPM_ST_ATTEST_CREATION (0x801A).
    Creation,
    /// TPM_ST_ATTEST_NV_DIGEST (0x801C).
    NvDigest,
}

impl AttestType {
    /// Maps a TPMI_ST_ATTEST value onto a type.
    pub fn from_tpm(value: u16) -> Option<Self> {
        Some(match value {
            0x8014 => Self::Nv,
            0x8015 => Self::CommandAudit,
            0x8016 => Self::SessionAudit,
            0x8017 => Self::Certify,
            0x8018 => Self::Quote,
            0x8019 => Self::Time,
            0x801A => Self::Creation,
            0x801C => Self::NvDigest,
            _ => return None,
        })
    }

    /// The TPMI_ST_ATTEST value.
    pub fn tpm_value(self) -> u16 {
        match self {
            Self::Nv => 0x8014,
            Self::CommandAudit => 0x8015,
            Self::SessionAudit => 0x8016,
            Self::Certify => 0x8017,
            Self::Quote => 0x8018,
            Self::Time => 0x8019,
            Self::Creation => 0x801A,
            Self::NvDigest => 0x801C,
        }
    }
}

/// A TPM2B_NAME: empty, a handle, or `nameAlg || digest`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TpmName {
    /// No name (size 0).
    Empty,
    /// A 4-byte handle (PCRs, sessions, permanent handles).
    Handle(u32),
    /// The name of an entity with a public area: its name algorithm and the
    /// digest of its marshalled public area.
    Digest {
        /// The name algorithm.
        alg: TpmAlgId,
        /// The digest, exactly as long as `alg`'s output.
        digest: Vec<u8>,
    },
}

impl TpmName {
    /// Decodes the content of a TPM2B_NAME (without its size prefix).
    /// Digests must name a hash go-tpm knows and have exactly its length.
    pub fn from_bytes(bytes: &[u8], field: &'static str) -> Result<Self, TpmError> {
        if bytes.is_empty() {
            return Ok(Self::Empty);
        }
        let mut r = Reader::new(bytes);
        if bytes.len() == 4 {
            return Ok(Self::Handle(r.u32(field)?));
        }
        let alg = TpmAlgId(r.u16(field)?);
        let Some(len) = alg.digest_len() else {
            return Err(TpmError::BadName {
                field,
                reason: format!("unsupported hash algorithm type {:#x}", alg.0),
            });
        };
        let digest = r.rest();
        if digest.len() != len {
            return Err(TpmError::BadName {
                field,
                reason: format!(
                    "{} digest is {} bytes, expected {len}",
                    alg.name().unwrap_or("hash"),
                    digest.len()
                ),
            });
        }
        Ok(Self::Digest {
            alg,
            digest: digest.to_vec(),
        })
    }

    /// The content of the TPM2B_NAME (without its size prefix); for a digest
    /// name this is `nameAlg || digest`, the value TPM2 compares.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Empty => Vec::new(),
            Self::Handle(h) => h.to_be_bytes().to_vec(),
            Self::Digest { alg, digest } => {
                let mut out = alg.0.to_be_bytes().to_vec();
                out.extend_from_slice(digest);
                out
            }
        }
    }

    /// The name algorithm and digest, when this is a digest name.
    pub fn digest(&self) -> Option<(TpmAlgId, &[u8])> {
        match self {
            Self::Digest { alg, digest } => Some((*alg, digest)),
            _ => None,
        }
    }

    fn decode(r: &mut Reader<'_>, field: &'static str) -> Result<Self, TpmError> {
        let bytes = r.tpm2b(field)?;
        Self::from_bytes(bytes, field)
    }

    pub(crate) fn encode(&self, w: &mut Writer, field: &'static str) -> Result<(), TpmError> {
        w.tpm2b(field, &self.to_bytes())?;
        Ok(())
    }
}

/// TPMS_CLOCK_INFO.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClockInfo {
    /// Milliseconds the TPM has been powered since it was last cleared.
    pub clock: u64,
    /// TPM2_Startup(CLEAR) count since the last clear.
    pub reset_count: u32,
    /// TPM2_Shutdown/Startup(STATE) count since the last reset.
    pub restart_count: u32,
    /// TPMI_YES_NO: whether `clock` can be trusted not to have gone back.
    /// Kept as the raw byte, as go-tpm does.
    pub safe: u8,
}

/// One TPMS_PCR_SELECTION: a PCR bank and a bitmap of PCRs in it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PcrSelection {
    hash: TpmAlgId,
    select: Vec<u8>,
}

impl PcrSelection {
    /// Selects `pcrs` in the bank `hash`. The bitmap is at least 3 bytes
    /// (PCR_SELECT_MIN, as TPMs emit it) and long enough for the highest PCR.
    pub fn new(hash: TpmAlgId, pcrs: &[u32]) -> Result<Self, TpmError> {
        let max_pcr = u32::try_from(MAX_PCR_SELECT_BYTES * 8).unwrap_or(u32::MAX);
        let mut select = vec![0u8; 3];
        for &pcr in pcrs {
            if pcr >= max_pcr {
                return Err(TpmError::TooLarge {
                    field: "PCR index",
                    len: usize::try_from(pcr).unwrap_or(usize::MAX),
                });
            }
            let (byte, bit) = ((pcr / 8) as usize, pcr % 8);
            if select.len() <= byte {
                select.resize(byte + 1, 0);
            }
            if let Some(b) = select.get_mut(byte) {
                *b |= 1 << bit;
            }
        }
        Ok(Self { hash, select })
    }

    /// The PCR bank's hash algorithm.
    pub fn hash(&self) -> TpmAlgId {
        self.hash
    }

    /// The raw `pcrSelect` bitmap: bit `n % 8` of byte `n / 8` selects PCR `n`.
    pub fn bitmap(&self) -> &[u8] {
        &self.select
    }

    /// The selected PCR indices, in ascending order.
    pub fn pcrs(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (i, byte) in (0u32..).zip(&self.select) {
            for bit in 0..8 {
                if byte & (1 << bit) != 0 {
                    out.push(i * 8 + bit);
                }
            }
        }
        out
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, TpmError> {
        let hash = TpmAlgId(r.u16("TPMS_PCR_SELECTION.hash")?);
        let size = r.u8("TPMS_PCR_SELECTION.sizeofSelect")?;
        if usize::from(size) > MAX_PCR_SELECT_BYTES {
            return Err(TpmError::TooLarge {
                field: "TPMS_PCR_SELECTION.pcrSelect",
                len: usize::from(size),
            });
        }
        let select = r
            .take(usize::from(size), "TPMS_PCR_SELECTION.pcrSelect")?
            .to_vec();
        Ok(Self { hash, select })
    }

    fn encode(&self, w: &mut Writer) -> Result<(), TpmError> {
        let size = u8::try_from(self.select.len()).map_err(|_| TpmError::TooLarge {
            field: "TPMS_PCR_SELECTION.pcrSelect",
            len: self.select.len(),
        })?;
        w.u16(self.hash.0).u8(size).raw(&self.select);
        Ok(())
    }
}

/// TPMS_QUOTE_INFO: the PCRs a quote covers and the digest of their values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct QuoteInfo {
    pcr_select: Vec<PcrSelection>,
    pcr_digest: Vec<u8>,
}

impl QuoteInfo {
    /// A quote over one PCR bank.
    pub fn new(selection: PcrSelection, pcr_digest: Vec<u8>) -> Self {
        Self {
            pcr_select: vec![selection],
            pcr_digest,
        }
    }

    /// Every TPMS_PCR_SELECTION of the TPML_PCR_SELECTION, in wire order.
    pub fn pcr_selections(&self) -> &[PcrSelection] {
        &self.pcr_select
    }

    /// The one PCR bank the quote selects. go-tpm, and so Veraison, only
    /// decode quotes over exactly one bank.
    pub fn single_bank(&self) -> Result<&PcrSelection, TpmError> {
        match self.pcr_select.as_slice() {
            [one] => Ok(one),
            other => Err(TpmError::PcrBankCount(other.len())),
        }
    }

    /// `pcrDigest`: the hash of the concatenated selected PCR values.
    pub fn pcr_digest(&self) -> &[u8] {
        &self.pcr_digest
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, TpmError> {
        let count = r.u32("TPML_PCR_SELECTION.count")?;
        // No allocation sized by `count`: each entry takes at least 3 bytes,
        // so a bogus count runs into the end of the input.
        let mut pcr_select = Vec::new();
        for _ in 0..count {
            pcr_select.push(PcrSelection::decode(r)?);
        }
        let pcr_digest = r.tpm2b("TPMS_QUOTE_INFO.pcrDigest")?.to_vec();
        Ok(Self {
            pcr_select,
            pcr_digest,
        })
    }

    fn encode(&self, w: &mut Writer) -> Result<(), TpmError> {
        let count = u32::try_from(self.pcr_select.len()).map_err(|_| TpmError::TooLarge {
            field: "TPML_PCR_SELECTION",
            len: self.pcr_select.len(),
        })?;
        w.u32(count);
        for sel in &self.pcr_select {
            sel.encode(w)?;
        }
        w.tpm2b("TPMS_QUOTE_INFO.pcrDigest", &self.pcr_digest)?;
        Ok(())
    }
}

/// TPMS_CERTIFY_INFO: the name of the certified object.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CertifyInfo {
    /// `name`: nameAlg || H_nameAlg(TPMT_PUBLIC) of the certified object.
    pub name: TpmName,
    /// `qualifiedName`: the certified object's qualified name.
    pub qualified_name: TpmName,
}

/// TPMU_ATTEST: the type-specific part of a TPMS_ATTEST.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Attested {
    /// TPM_ST_ATTEST_QUOTE.
    Quote(QuoteInfo),
    /// TPM_ST_ATTEST_CERTIFY.
    Certify(CertifyInfo),
    /// Any other TPM_ST_ATTEST_* type: kept as its raw bytes (everything
    /// after `firmwareVersion`), because no Veraison scheme uses them.
    Opaque {
        /// The attestation type.
        attest_type: AttestType,
        /// The undecoded TPMU_ATTEST bytes.
        body: Vec<u8>,
    },
}

impl Attested {
    /// The attestation type this part belongs to.
    pub fn attest_type(&self) -> AttestType {
        match self {
            Self::Quote(_) => AttestType::Quote,
            Self::Certify(_) => AttestType::Certify,
            Self::Opaque { attest_type, .. } => *attest_type,
        }
    }
}

/// The fields of a TPMS_ATTEST, for building one (see [`TpmsAttest::encode`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AttestFields {
    /// `qualifiedSigner`: the qualified name of the signing key.
    pub qualified_signer: TpmName,
    /// `extraData`: the caller's qualifying data (the nonce).
    pub extra_data: Vec<u8>,
    /// `clockInfo`.
    pub clock_info: ClockInfo,
    /// `firmwareVersion`.
    pub firmware_version: u64,
    /// `attested`, which also fixes the type.
    pub attested: Attested,
}

/// A decoded TPMS_ATTEST with the exact bytes it came from (the bytes a TPM
/// signature covers).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TpmsAttest {
    raw: Vec<u8>,
    fields: AttestFields,
}

impl TpmsAttest {
    /// Decodes a TPMS_ATTEST that fills `bytes` exactly. The magic must be
    /// TPM_GENERATED_VALUE and the type a TPM_ST_ATTEST_* value; quote and
    /// certify bodies are decoded (and must end the buffer), others are kept
    /// opaque.
    pub fn decode(bytes: &[u8]) -> Result<Self, TpmError> {
        let mut r = Reader::new(bytes);
        let magic = r.u32("Magic/Type")?;
        let type_value = r.u16("Magic/Type")?;
        if magic != TPM_GENERATED_VALUE {
            return Err(TpmError::BadMagic(magic));
        }
        let attest_type =
            AttestType::from_tpm(type_value).ok_or(TpmError::UnknownAttestType(type_value))?;
        let qualified_signer = TpmName::decode(&mut r, "QualifiedSigner")?;
        let extra_data = r.tpm2b("ExtraData/ClockInfo/FirmwareVersion")?.to_vec();
        let clock_info = ClockInfo {
            clock: r.u64("ExtraData/ClockInfo/FirmwareVersion")?,
            reset_count: r.u32("ExtraData/ClockInfo/FirmwareVersion")?,
            restart_count: r.u32("ExtraData/ClockInfo/FirmwareVersion")?,
            safe: r.u8("ExtraData/ClockInfo/FirmwareVersion")?,
        };
        let firmware_version = r.u64("ExtraData/ClockInfo/FirmwareVersion")?;
        let attested = match attest_type {
            AttestType::Quote => {
                let quote = QuoteInfo::decode(&mut r)?;
                r.finish("TPMS_ATTEST")?;
                Attested::Quote(quote)
            }
            AttestType::Certify => {
                let name = TpmName::decode(&mut r, "AttestedCertifyInfo.Name")?;
                let qualified_name = TpmName::decode(&mut r, "AttestedCertifyInfo.QualifiedName")?;
                r.finish("TPMS_ATTEST")?;
                Attested::Certify(CertifyInfo {
                    name,
                    qualified_name,
                })
            }
            other => Attested::Opaque {
                attest_type: other,
                body: r.rest().to_vec(),
            },
        };
        Ok(Self {
            raw: bytes.to_vec(),
            fields: AttestFields {
                qualified_signer,
                extra_data,
                clock_info,
                firmware_version,
                attested,
            },
        })
    }

    /// Marshals `fields` into a TPMS_ATTEST (with TPM_GENERATED_VALUE).
    pub fn encode(fields: AttestFields) -> Result<Self, TpmError> {
        let mut w = Writer::new();
        w.u32(TPM_GENERATED_VALUE)
            .u16(fields.attested.attest_type().tpm_value());
        fields.qualified_signer.encode(&mut w, "QualifiedSigner")?;
        w.tpm2b("ExtraData", &fields.extra_data)?;
        w.u64(fields.clock_info.clock)
            .u32(fields.clock_info.reset_count)
            .u32(fields.clock_info.restart_count)
            .u8(fields.clock_info.safe)
            .u64(fields.firmware_version);
        match &fields.attested {
            Attested::Quote(q) => q.encode(&mut w)?,
            Attested::Certify(c) => {
                c.name.encode(&mut w, "AttestedCertifyInfo.Name")?;
                c.qualified_name
                    .encode(&mut w, "AttestedCertifyInfo.QualifiedName")?;
            }
            Attested::Opaque { body, .. } => {
                w.raw(body);
            }
        }
        Ok(Self {
            raw: w.into_bytes(),
            fields,
        })
    }

    /// The exact bytes decoded: what the TPM signed.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The decoded fields.
    pub fn fields(&self) -> &AttestFields {
        &self.fields
    }

    /// The attestation type.
    pub fn attest_type(&self) -> AttestType {
        self.fields.attested.attest_type()
    }

    /// `qualifiedSigner`.
    pub fn qualified_signer(&self) -> &TpmName {
        &self.fields.qualified_signer
    }

    /// `extraData`: the qualifying data (nonce) the caller passed to the TPM.
    pub fn extra_data(&self) -> &[u8] {
        &self.fields.extra_data
    }

    /// `clockInfo`.
    pub fn clock_info(&self) -> &ClockInfo {
        &self.fields.clock_info
    }

    /// `firmwareVersion`.
    pub fn firmware_version(&self) -> u64 {
        self.fields.firmware_version
    }

    /// `attested`.
    pub fn attested(&self) -> &Attested {
        &self.fields.attested
    }

    /// The quote body, when this is a quote.
    pub fn quote(&self) -> Option<&QuoteInfo> {
        match &self.fields.attested {
            Attested::Quote(q) => Some(q),
            _ => None,
        }
    }

    /// The certify body, when this is a certification.
    pub fn certify(&self) -> Option<&CertifyInfo> {
        match &self.fields.attested {
            Attested::Certify(c) => Some(c),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The TPMS_ATTEST of the EnactTrust basic.token (MANIFEST §9.1).
    const BASIC_QUOTE: &str = "ff5443478018000000000000000000000000000000000000000000000000000000000700000001000b031e0000002087428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7";

    #[test]
    fn decodes_the_basic_quote() {
        let raw = hex::decode(BASIC_QUOTE).unwrap();
        let a = TpmsAttest::decode(&raw).unwrap();
        assert_eq!(a.raw(), raw);
        assert_eq!(a.attest_type(), AttestType::Quote);
        assert_eq!(a.qualified_signer(), &TpmName::Empty);
        assert!(a.extra_data().is_empty());
        assert_eq!(a.clock_info(), &ClockInfo::default());
        assert_eq!(a.firmware_version(), 7);
        let q = a.quote().unwrap();
        let bank = q.single_bank().unwrap();
        assert_eq!(bank.hash(), TpmAlgId::SHA256);
        assert_eq!(bank.bitmap(), [0x1e, 0, 0]);
        assert_eq!(bank.pcrs(), [1, 2, 3, 4]);
        assert_eq!(
            hex::encode(q.pcr_digest()),
            &BASIC_QUOTE[BASIC_QUOTE.len() - 64..]
        );
        assert!(a.certify().is_none());
        // Re-encoding the fields gives the same bytes back.
        assert_eq!(TpmsAttest::encode(a.fields().clone()).unwrap(), a);
    }

    #[test]
    fn rejects_bad_magic_unknown_type_and_trailing_bytes() {
        let raw = hex::decode(BASIC_QUOTE).unwrap();
        let mut bad = raw.clone();
        bad[0] = 0xfe;
        assert_eq!(
            TpmsAttest::decode(&bad).unwrap_err().to_string(),
            "incorrect magic value: fe544347"
        );
        let mut bad = raw.clone();
        bad[5] = 0x1b;
        assert_eq!(
            TpmsAttest::decode(&bad).unwrap_err(),
            TpmError::UnknownAttestType(0x801b)
        );
        let mut bad = raw.clone();
        bad.push(0);
        assert_eq!(
            TpmsAttest::decode(&bad).unwrap_err().to_string(),
            "TPMS_ATTEST has 1 trailing bytes"
        );
        assert_eq!(
            TpmsAttest::decode(&[]).unwrap_err().to_string(),
            "decoding Magic/Type: EOF"
        );
        for len in 0..raw.len() {
            assert!(TpmsAttest::decode(&raw[..len]).is_err(), "prefix {len}");
        }
    }

    #[test]
    fn other_types_are_kept_opaque() {
        let fields = AttestFields {
            qualified_signer: TpmName::Handle(0x8100_0001),
            extra_data: b"nonce".to_vec(),
            clock_info: ClockInfo {
                clock: 1,
                reset_count: 2,
                restart_count: 3,
                safe: 1,
            },
            firmware_version: 9,
            attested: Attested::Opaque {
                attest_type: AttestType::Time,
                body: vec![1, 2, 3],
            },
        };
        let a = TpmsAttest::encode(fields.clone()).unwrap();
        let back = TpmsAttest::decode(a.raw()).unwrap();
        assert_eq!(back.fields(), &fields);
        assert_eq!(back.attest_type(), AttestType::Time);
        assert!(back.quote().is_none());
    }

    #[test]
    fn names() {
        assert_eq!(TpmName::from_bytes(&[], "n").unwrap(), TpmName::Empty);
        assert_eq!(
            TpmName::from_bytes(&[0x40, 0, 0, 7], "n").unwrap(),
            TpmName::Handle(0x4000_0007)
        );
        let mut digest = vec![0x00, 0x0b];
        digest.extend([0xaa; 32]);
        let name = TpmName::from_bytes(&digest, "n").unwrap();
        assert_eq!(name.digest(), Some((TpmAlgId::SHA256, &[0xaa; 32][..])));
        assert_eq!(name.to_bytes(), digest);
        digest.pop();
        assert!(TpmName::from_bytes(&digest, "n").is_err());
        assert_eq!(
            TpmName::from_bytes(&[0x00, 0x99, 1, 2, 3], "Name")
                .unwrap_err()
                .to_string(),
            "decoding Name: unsupported hash algorithm type 0x99"
        );
    }

    #[test]
    fn pcr_selection_bitmaps() {
        let sel = PcrSelection::new(TpmAlgId::SHA256, &[4, 0, 23, 1]).unwrap();
        assert_eq!(sel.bitmap(), [0x13, 0x00, 0x80]);
        assert_eq!(sel.pcrs(), [0, 1, 4, 23]);
        let sel = PcrSelection::new(TpmAlgId::SHA384, &[30]).unwrap();
        assert_eq!(sel.bitmap(), [0, 0, 0, 0x40]);
        assert!(PcrSelection::new(TpmAlgId::SHA256, &[512]).is_err());
        let q = QuoteInfo {
            pcr_select: vec![sel.clone(), sel],
            pcr_digest: vec![],
        };
        assert_eq!(
            q.single_bank().unwrap_err().to_string(),
            "got 2 TPMS_PCR_SELECTION items in TPML_PCR_SELECTION, expected 1"
        );
    }
}
