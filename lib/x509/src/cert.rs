//! Parsed certificates and PEM chains.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, Header, Reader, SliceReader, Tag};
use vouch_crypto::VerifyingKey;
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

use crate::X509Error;

/// An X.509 certificate: the DER it was read from, the parsed structure and
/// the extensions path validation needs, decoded once.
///
/// Cheap to clone. Equality and hashing compare the DER.
#[derive(Clone)]
pub struct Certificate {
    inner: Arc<Inner>,
}

struct Inner {
    der: Box<[u8]>,
    /// Where the TBSCertificate (the signed bytes) sits inside `der`.
    tbs: Range<usize>,
    parsed: x509_cert::Certificate,
    basic_constraints: Option<Basic>,
    key_usage: Option<KeyUsage>,
    ext_key_usage: Option<Vec<ObjectIdentifier>>,
    /// The subject key as a [`VerifyingKey`], parsed on first use (roots in a
    /// trust store check many chains).
    ec_key: OnceLock<Result<VerifyingKey, X509Error>>,
}

impl Certificate {
    /// Parses a DER certificate.
    ///
    /// Beyond DER well-formedness this checks what RFC 5280 requires and Go's
    /// parser enforces: the inner and outer signature algorithms agree,
    /// extensions appear only in v3 certificates and at most once each, and
    /// basicConstraints, keyUsage and extKeyUsage (when present) decode.
    pub fn from_der(der: &[u8]) -> Result<Self, X509Error> {
        let parsed = x509_cert::Certificate::from_der(der).map_err(X509Error::malformed)?;
        let tbs = tbs_range(der)?;
        let tbs_cert = parsed.tbs_certificate();
        if tbs_cert.signature() != parsed.signature_algorithm() {
            return Err(X509Error::Malformed(
                "inner and outer signature algorithm identifiers don't match".to_owned(),
            ));
        }
        if let Some(exts) = tbs_cert.extensions() {
            if tbs_cert.version() != Version::V3 {
                return Err(X509Error::Malformed(
                    "extensions in a certificate older than v3".to_owned(),
                ));
            }
            for (i, ext) in exts.iter().enumerate() {
                if exts
                    .iter()
                    .skip(i.saturating_add(1))
                    .any(|e| e.extn_id == ext.extn_id)
                {
                    return Err(X509Error::Malformed(format!(
                        "duplicate extension {}",
                        ext.extn_id
                    )));
                }
            }
        }
        let basic_constraints = tbs_cert
            .get_extension::<BasicConstraints>()
            .map_err(|e| X509Error::Malformed(format!("basicConstraints: {e}")))?
            .map(|(_, bc)| Basic {
                ca: bc.ca,
                path_len: bc.path_len_constraint,
            });
        let key_usage = tbs_cert
            .get_extension::<KeyUsage>()
            .map_err(|e| X509Error::Malformed(format!("keyUsage: {e}")))?
            .map(|(_, ku)| ku);
        let ext_key_usage = tbs_cert
            .get_extension::<ExtendedKeyUsage>()
            .map_err(|e| X509Error::Malformed(format!("extKeyUsage: {e}")))?
            .map(|(_, eku)| eku.0);
        Ok(Self {
            inner: Arc::new(Inner {
                der: der.into(),
                tbs,
                parsed,
                basic_constraints,
                key_usage,
                ext_key_usage,
                ec_key: OnceLock::new(),
            }),
        })
    }

    /// The DER encoding, exactly as read.
    pub fn der(&self) -> &[u8] {
        &self.inner.der
    }

    /// The certificate as a `CERTIFICATE` PEM block (64-column base64, `\n`
    /// line endings, trailing newline).
    pub fn to_pem(&self) -> String {
        pem_encode("CERTIFICATE", self.der())
    }

    /// The parsed structure, for fields this type does not surface.
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.inner.parsed
    }

    /// The signed part, TBSCertificate, exactly as encoded.
    pub fn tbs_der(&self) -> &[u8] {
        self.inner
            .der
            .get(self.inner.tbs.clone())
            .unwrap_or_default()
    }

    /// The subject name (RFC 4514 string form).
    pub fn subject(&self) -> String {
        self.inner.parsed.tbs_certificate().subject().to_string()
    }

    /// The issuer name (RFC 4514 string form).
    pub fn issuer(&self) -> String {
        self.inner.parsed.tbs_certificate().issuer().to_string()
    }

    /// The serial number, as lower-case hex of its DER INTEGER content.
    pub fn serial_hex(&self) -> String {
        hex_lower(
            self.inner
                .parsed
                .tbs_certificate()
                .serial_number()
                .as_bytes(),
        )
    }

    /// notBefore, in seconds since the Unix epoch.
    pub fn not_before_unix(&self) -> i64 {
        unix_secs(
            self.inner
                .parsed
                .tbs_certificate()
                .validity()
                .not_before
                .to_unix_duration(),
        )
    }

    /// notAfter, in seconds since the Unix epoch.
    pub fn not_after_unix(&self) -> i64 {
        unix_secs(
            self.inner
                .parsed
                .tbs_certificate()
                .validity()
                .not_after
                .to_unix_duration(),
        )
    }

    /// Whether subject and issuer are the same name: the test Veraison (and
    /// [`crate::TrustStore::from_certs`]) uses to tell roots from
    /// intermediates.
    pub fn is_self_issued(&self) -> bool {
        let tbs = self.inner.parsed.tbs_certificate();
        tbs.subject() == tbs.issuer()
    }

    /// Whether basicConstraints is present with cA set.
    pub fn is_ca(&self) -> bool {
        self.inner.basic_constraints.is_some_and(|bc| bc.ca)
    }

    /// The basicConstraints pathLenConstraint, when the certificate is a CA
    /// with one.
    pub fn path_len_constraint(&self) -> Option<u8> {
        self.inner
            .basic_constraints
            .filter(|bc| bc.ca)
            .and_then(|bc| bc.path_len)
    }

    /// The extKeyUsage purposes, when the extension is present.
    pub fn extended_key_usage(&self) -> Option<&[ObjectIdentifier]> {
        self.inner.ext_key_usage.as_deref()
    }

    /// The value (the content of extnValue) and criticality of the
    /// extension `id`, when present.
    pub fn extension(&self, id: &ObjectIdentifier) -> Option<(bool, &[u8])> {
        self.inner
            .parsed
            .tbs_certificate()
            .extensions()?
            .iter()
            .find(|e| e.extn_id == *id)
            .map(|e| (e.critical, e.extn_value.as_bytes()))
    }

    /// The OIDs of the extensions marked critical.
    pub fn critical_extensions(&self) -> impl Iterator<Item = &ObjectIdentifier> + '_ {
        self.inner
            .parsed
            .tbs_certificate()
            .extensions()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|e| e.critical)
            .map(|e| &e.extn_id)
    }

    /// The SubjectPublicKeyInfo, DER-encoded.
    pub fn public_key_spki_der(&self) -> Result<Vec<u8>, X509Error> {
        self.inner
            .parsed
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(X509Error::malformed)
    }

    /// The subject key as an ECDSA key (P-256, P-384 or P-521), for
    /// verifying what the certificate holder signed (a COSE_Sign1, a token).
    pub fn ec_public_key(&self) -> Result<VerifyingKey, X509Error> {
        self.inner
            .ec_key
            .get_or_init(|| {
                let spki = self.public_key_spki_der()?;
                VerifyingKey::from_spki_der(&spki)
                    .map_err(|e| X509Error::UnsupportedPublicKey(e.to_string()))
            })
            .clone()
    }

    pub(crate) fn basic_constraints(&self) -> Option<Basic> {
        self.inner.basic_constraints
    }

    pub(crate) fn key_usage(&self) -> Option<KeyUsage> {
        self.inner.key_usage
    }

    pub(crate) fn version(&self) -> Version {
        self.inner.parsed.tbs_certificate().version()
    }

    pub(crate) fn issued(&self, child: &Certificate) -> bool {
        self.inner.parsed.tbs_certificate().subject()
            == child.inner.parsed.tbs_certificate().issuer()
    }
}

/// basicConstraints, as path validation reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Basic {
    pub(crate) ca: bool,
    pub(crate) path_len: Option<u8>,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.inner.der == other.inner.der
    }
}

impl Eq for Certificate {}

impl Hash for Certificate {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.der.hash(state);
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .field("issuer", &self.issuer())
            .field("serial", &self.serial_hex())
            .finish()
    }
}

/// Parses a PEM certificate chain (`application/pem-certificate-chain`):
/// every `CERTIFICATE` block, in order.
///
/// Only whitespace may surround the blocks: stray text, a block of another
/// type (a key), a block without its END line or with bad base64 is an
/// error, and so is text without any block.
pub fn parse_pem_chain(text: &str) -> Result<Vec<Certificate>, X509Error> {
    let blocks = pem_blocks(text)?;
    if blocks.is_empty() {
        return Err(X509Error::Pem("no PEM block found".to_owned()));
    }
    blocks
        .into_iter()
        .enumerate()
        .map(|(i, block)| {
            if block.label != "CERTIFICATE" {
                return Err(X509Error::PemLabel(block.label.to_owned()));
            }
            Certificate::from_der(&block.der).map_err(|e| match e {
                X509Error::Malformed(m) => X509Error::Malformed(format!(
                    "certificate {} of the chain: {m}",
                    i.saturating_add(1)
                )),
                other => other,
            })
        })
        .collect()
}

struct PemBlock<'a> {
    label: &'a str,
    der: Vec<u8>,
}

/// Splits PEM text into blocks. Base64 lines may be of any width (RFC 7468's
/// lax reading, like Go's `encoding/pem`); only whitespace may sit between
/// blocks.
fn pem_blocks(text: &str) -> Result<Vec<PemBlock<'_>>, X509Error> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            return Err(X509Error::Pem(format!(
                "unexpected text outside a PEM block at line {}",
                n.saturating_add(1)
            )));
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut closed = false;
        for (_, line) in lines.by_ref() {
            let line = line.trim();
            if line == end {
                closed = true;
                break;
            }
            if line.starts_with("-----") {
                return Err(X509Error::Pem(format!(
                    "PEM block {label:?} opened at line {} ends with {line:?}",
                    n.saturating_add(1)
                )));
            }
            body.push_str(line);
        }
        if !closed {
            return Err(X509Error::Pem(format!(
                "PEM block {label:?} opened at line {} has no END line",
                n.saturating_add(1)
            )));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|e| {
                X509Error::Pem(format!(
                    "PEM block {label:?} at line {} is not base64: {e}",
                    n.saturating_add(1)
                ))
            })?;
        blocks.push(PemBlock { label, der });
    }
    Ok(blocks)
}

/// Encodes one PEM block, wrapping base64 at 64 columns (RFC 7468).
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Locates the TBSCertificate inside a certificate's DER: the first element
/// of the outer SEQUENCE. Signatures cover these bytes as they were sent.
fn tbs_range(der: &[u8]) -> Result<Range<usize>, X509Error> {
    let mut reader = SliceReader::new(der).map_err(X509Error::malformed)?;
    let outer = Header::decode(&mut reader).map_err(X509Error::malformed)?;
    if outer.tag() != Tag::Sequence {
        return Err(X509Error::Malformed("not a SEQUENCE".to_owned()));
    }
    let start = usize::try_from(reader.position()).map_err(X509Error::malformed)?;
    let tbs = reader.tlv_bytes().map_err(X509Error::malformed)?;
    let end = start
        .checked_add(tbs.len())
        .filter(|end| *end <= der.len())
        .ok_or_else(|| X509Error::Malformed("TBSCertificate overruns".to_owned()))?;
    Ok(start..end)
}

fn unix_secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// RFC 3339 UTC rendering of a Unix time, for error messages.
pub(crate) fn format_unix(t: i64) -> String {
    u64::try_from(t)
        .ok()
        .and_then(|s| der::DateTime::from_unix_duration(std::time::Duration::from_secs(s)).ok())
        .map(|dt| dt.to_string())
        .unwrap_or_else(|| format!("{t} (Unix time)"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn pem_rejects_garbage_and_other_blocks() {
        let e = parse_pem_chain("").unwrap_err();
        assert_eq!(
            e.to_string(),
            "problem extracting certificate PEM block: no PEM block found"
        );
        assert!(matches!(parse_pem_chain("  \n\n"), Err(X509Error::Pem(_))));
        let e = parse_pem_chain("hello\n").unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        let key = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert_eq!(
            parse_pem_chain(key).unwrap_err(),
            X509Error::PemLabel("PUBLIC KEY".to_owned())
        );
        let open = "-----BEGIN CERTIFICATE-----\nAAAA\n";
        assert!(
            parse_pem_chain(open)
                .unwrap_err()
                .to_string()
                .contains("no END line")
        );
        let mismatched = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END KEY-----\n";
        assert!(matches!(
            parse_pem_chain(mismatched),
            Err(X509Error::Pem(_))
        ));
        let bad_b64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(
            parse_pem_chain(bad_b64)
                .unwrap_err()
                .to_string()
                .contains("not base64")
        );
        let not_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(
            parse_pem_chain(not_der)
                .unwrap_err()
                .to_string()
                .starts_with("x509: malformed certificate: certificate 1 of the chain")
        );
    }

    #[test]
    fn pem_encode_wraps_at_64() {
        let pem = pem_encode("CERTIFICATE", &[0u8; 100]);
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN CERTIFICATE-----"));
        assert_eq!(lines.get(1).map(|l| l.len()), Some(64));
        assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
        let blocks = pem_blocks(&pem).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].der, vec![0u8; 100]);
    }

    #[test]
    fn pem_accepts_crlf_and_any_line_width() {
        let body = base64::engine::general_purpose::STANDARD.encode([7u8; 200]);
        let text = format!(
            "\r\n-----BEGIN X-----\r\n{}\r\n{}\r\n-----END X-----\r\n\r\n",
            &body[..100],
            &body[100..]
        );
        let blocks = pem_blocks(&text).unwrap();
        assert_eq!(blocks[0].label, "X");
        assert_eq!(blocks[0].der, vec![7u8; 200]);
    }

    #[test]
    fn rejects_trailing_bytes_and_truncation() {
        assert!(matches!(
            Certificate::from_der(&[]),
            Err(X509Error::Malformed(_))
        ));
        assert!(matches!(
            Certificate::from_der(&[0x30, 0x00]),
            Err(X509Error::Malformed(_))
        ));
    }

    #[test]
    fn formats_times() {
        assert_eq!(format_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix(1_900_000_000), "2030-03-17T17:46:40Z");
        assert_eq!(format_unix(-5), "-5 (Unix time)");
    }
}
