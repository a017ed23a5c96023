//! Minting certificates for tests, the test kit and demos: roots,
//! intermediates, RIoT DeviceID and alias certificates, and CoRIM signer
//! chains, all with fresh ECDSA keys from `vouch_crypto`.
//!
//! The TBSCertificate is assembled with `der` encoders over `x509-cert`'s
//! field types and signed with [`SigningKey::sign`], whose fixed `r || s`
//! signature is re-encoded as the DER `ECDSA-Sig-Value` X.509 wants
//! (`vouch_crypto::fixed_signature_to_der`).
//!
//! ```
//! use vouch_x509::mint::RiotDevice;
//! use vouch_x509::{TrustStore, Usage, parse_pem_chain, riot_composite_device_id, validate_chain};
//!
//! let now = 1_800_000_000;
//! let device = RiotDevice::generate(&[0xab; 32], now)?;
//! let chain = parse_pem_chain(&device.evidence_pem())?;
//! let roots = TrustStore::from_certs(parse_pem_chain(&device.trust_anchor_pem())?);
//! validate_chain(&chain, &roots, now, Usage::riot_alias())?;
//! let claims = riot_composite_device_id(&chain[0])?;
//! assert_eq!(claims.fwid(), &[0xab; 32]);
//! # Ok::<(), vouch_x509::X509Error>(())
//! ```

use std::str::FromStr;
use std::time::Duration;

use aws_lc_rs::digest;
use der::asn1::{Any, AnyRef, BitStringRef, ObjectIdentifier, OctetString};
use der::{DateTime, Decode, Encode, Sequence, Tag, TagNumber};
use vouch_crypto::{Curve, SigningKey, VerifyingKey};
use x509_cert::certificate::Version;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

use crate::{Certificate, X509Error, oid};

/// Ten years (of 365 days), the default lifetime of minted certificates.
pub const DEFAULT_LIFETIME_SECS: i64 = 10 * 365 * 24 * 3600;

/// How far before `now` minted certificates start, so a verifier whose clock
/// lags a little still accepts them.
pub const DEFAULT_BACKDATE_SECS: i64 = 3600;

fn mint_err(e: impl std::fmt::Display) -> X509Error {
    X509Error::Mint(e.to_string())
}

/// The TBSCertificate as this module writes it (always v3).
#[derive(Sequence)]
struct TbsOut {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: Version,
    serial: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

/// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
/// over already-encoded TBS bytes.
#[derive(Sequence)]
struct CertificateOut<'a> {
    tbs: AnyRef<'a>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitStringRef<'a>,
}

/// Describes one certificate to mint; finish with
/// [`CertificateBuilder::self_signed`] or [`CertificateBuilder::issued_by`].
///
/// Defaults: serial derived from the subject key, valid from an hour before
/// to ten years after the `now` given to [`CertificateBuilder::new`], an
/// end-entity certificate with a critical keyUsage of digitalSignature, and
/// subject/authority key identifiers.
#[derive(Clone, Debug)]
pub struct CertificateBuilder {
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    serial: Option<u64>,
    not_before: i64,
    not_after: i64,
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsage>,
    ext_key_usage: Option<(bool, Vec<ObjectIdentifier>)>,
    extra: Vec<(ObjectIdentifier, bool, Vec<u8>)>,
}

impl CertificateBuilder {
    /// Starts a certificate for `subject` (an RFC 4514 string such as
    /// `CN=Device,O=Example,C=US`) holding `subject_key`.
    pub fn new(subject: &str, subject_key: &VerifyingKey, now: i64) -> Result<Self, X509Error> {
        Self::with_spki(subject, &subject_key.to_spki_der(), now)
    }

    /// As [`CertificateBuilder::new`], for any SubjectPublicKeyInfo (an RSA
    /// or Ed25519 key minted elsewhere).
    pub fn with_spki(subject: &str, spki_der: &[u8], now: i64) -> Result<Self, X509Error> {
        Ok(Self {
            subject: Name::from_str(subject)
                .map_err(|e| X509Error::Mint(format!("subject {subject:?}: {e}")))?,
            spki: SubjectPublicKeyInfoOwned::from_der(spki_der).map_err(mint_err)?,
            serial: None,
            not_before: now.saturating_sub(DEFAULT_BACKDATE_SECS),
            not_after: now.saturating_add(DEFAULT_LIFETIME_SECS),
            basic_constraints: None,
            key_usage: Some(KeyUsage(KeyUsages::DigitalSignature.into())),
            ext_key_usage: None,
            extra: Vec::new(),
        })
    }

    /// Sets the serial number.
    pub fn serial(mut self, serial: u64) -> Self {
        self.serial = Some(serial);
        self
    }

    /// Sets the validity period (Unix seconds, both inclusive).
    pub fn validity(mut self, not_before: i64, not_after: i64) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// Makes a CA: critical basicConstraints cA=true with `path_len`, and a
    /// critical keyUsage of keyCertSign and cRLSign.
    pub fn ca(mut self, path_len: Option<u8>) -> Self {
        self.basic_constraints = Some(BasicConstraints {
            ca: true,
            path_len_constraint: path_len,
        });
        self.key_usage = Some(KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign));
        self
    }

    /// Sets or removes basicConstraints (always written critical).
    pub fn basic_constraints(mut self, bc: Option<BasicConstraints>) -> Self {
        self.basic_constraints = bc;
        self
    }

    /// Sets or removes keyUsage (always written critical).
    pub fn key_usage(mut self, ku: Option<KeyUsage>) -> Self {
        self.key_usage = ku;
        self
    }

    /// Sets extKeyUsage.
    pub fn extended_key_usage(mut self, purposes: &[ObjectIdentifier], critical: bool) -> Self {
        self.ext_key_usage = Some((critical, purposes.to_vec()));
        self
    }

    /// Adds an extension with a ready-made DER value.
    pub fn extension(mut self, id: ObjectIdentifier, critical: bool, value_der: &[u8]) -> Self {
        self.extra.push((id, critical, value_der.to_vec()));
        self
    }

    /// Signs the certificate with the key it certifies.
    pub fn self_signed(self, key: &SigningKey) -> Result<Certificate, X509Error> {
        if key.verifying_key().to_spki_der() != self.spki.to_der().map_err(mint_err)? {
            return Err(X509Error::Mint(
                "a self-signed certificate must certify the signing key".to_owned(),
            ));
        }
        let issuer = self.subject.clone();
        let aki = key_identifier(&self.spki)?;
        self.sign_ecdsa(issuer, aki, key)
    }

    /// Signs the certificate with `issuer_key`, the key of `issuer`.
    pub fn issued_by(
        self,
        issuer: &Certificate,
        issuer_key: &SigningKey,
    ) -> Result<Certificate, X509Error> {
        let issuer_name = issuer.x509().tbs_certificate().subject().clone();
        let aki = key_identifier(issuer.x509().tbs_certificate().subject_public_key_info())?;
        self.sign_ecdsa(issuer_name, aki, issuer_key)
    }

    fn sign_ecdsa(
        self,
        issuer: Name,
        authority_key_id: Vec<u8>,
        key: &SigningKey,
    ) -> Result<Certificate, X509Error> {
        let sig_oid = match key.curve() {
            Curve::P256 => oid::ECDSA_WITH_SHA256,
            Curve::P384 => oid::ECDSA_WITH_SHA384,
            Curve::P521 => oid::ECDSA_WITH_SHA512,
        };
        let alg = AlgorithmIdentifierOwned {
            oid: sig_oid,
            parameters: None,
        };
        self.sign_with(issuer, authority_key_id, alg, |tbs| {
            let fixed = key.sign(tbs).map_err(mint_err)?;
            vouch_crypto::fixed_signature_to_der(key.curve(), &fixed).map_err(mint_err)
        })
    }

    /// Assembles and signs the certificate with any signer: `sign` gets the
    /// TBSCertificate DER and returns the signature value as X.509 carries
    /// it.
    pub(crate) fn sign_with(
        self,
        issuer: Name,
        authority_key_id: Vec<u8>,
        signature_algorithm: AlgorithmIdentifierOwned,
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, X509Error>,
    ) -> Result<Certificate, X509Error> {
        let serial = match self.serial {
            Some(s) => s,
            None => default_serial(&self.spki)?,
        };
        let mut extensions = Vec::new();
        if let Some(bc) = self.basic_constraints {
            extensions.push(ext(oid::BASIC_CONSTRAINTS, true, &bc)?);
        }
        if let Some(ku) = self.key_usage {
            extensions.push(ext(oid::KEY_USAGE, true, &ku)?);
        }
        if let Some((critical, purposes)) = self.ext_key_usage {
            extensions.push(ext(
                oid::EXT_KEY_USAGE,
                critical,
                &ExtendedKeyUsage(purposes),
            )?);
        }
        let ski =
            SubjectKeyIdentifier(OctetString::new(key_identifier(&self.spki)?).map_err(mint_err)?);
        extensions.push(ext(oid::SUBJECT_KEY_IDENTIFIER, false, &ski)?);
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(authority_key_id).map_err(mint_err)?),
            ..Default::default()
        };
        extensions.push(ext(oid::AUTHORITY_KEY_IDENTIFIER, false, &aki)?);
        for (extn_id, critical, value) in self.extra {
            extensions.push(Extension {
                extn_id,
                critical,
                extn_value: OctetString::new(value).map_err(mint_err)?,
            });
        }

        let tbs = TbsOut {
            version: Version::V3,
            serial: SerialNumber::from(serial),
            signature: signature_algorithm.clone(),
            issuer,
            validity: Validity::new(unix_time(self.not_before)?, unix_time(self.not_after)?),
            subject: self.subject,
            spki: self.spki,
            extensions: Some(extensions),
        }
        .to_der()
        .map_err(mint_err)?;
        let signature = sign(&tbs)?;
        let der = CertificateOut {
            tbs: AnyRef::from_der(&tbs).map_err(mint_err)?,
            signature_algorithm,
            signature: BitStringRef::from_bytes(&signature).map_err(mint_err)?,
        }
        .to_der()
        .map_err(mint_err)?;
        Certificate::from_der(&der)
    }
}

fn ext(id: ObjectIdentifier, critical: bool, value: &impl Encode) -> Result<Extension, X509Error> {
    Ok(Extension {
        extn_id: id,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(mint_err)?).map_err(mint_err)?,
    })
}

/// A key identifier: the first 20 bytes of SHA-256 over the subject public
/// key bits (RFC 7093 method 1).
fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Result<Vec<u8>, X509Error> {
    let bits = spki.subject_public_key.raw_bytes();
    Ok(digest::digest(&digest::SHA256, bits)
        .as_ref()
        .get(..20)
        .ok_or_else(|| X509Error::Mint("short digest".to_owned()))?
        .to_vec())
}

/// A positive 63-bit serial derived from the subject key, so every fresh key
/// gets its own.
fn default_serial(spki: &SubjectPublicKeyInfoOwned) -> Result<u64, X509Error> {
    let id = key_identifier(spki)?;
    let mut bytes = [0u8; 8];
    for (b, s) in bytes.iter_mut().zip(id.iter()) {
        *b = *s;
    }
    Ok((u64::from_be_bytes(bytes) >> 1).max(1))
}

fn unix_time(t: i64) -> Result<Time, X509Error> {
    let secs = u64::try_from(t).map_err(|_| X509Error::Mint(format!("time {t} is before 1970")))?;
    let dt = DateTime::from_unix_duration(Duration::from_secs(secs)).map_err(mint_err)?;
    // Validity encoding turns dates up to 2049 into UTCTime (RFC 5280).
    Ok(Time::from(dt))
}

/// The CompositeDeviceID (`SEQUENCE {1, DeviceID SPKI, FWID}`).
#[derive(Sequence)]
struct CompositeOut<'a> {
    version: u8,
    device_id: AnyRef<'a>,
    fwid: FwidOut,
}

#[derive(Sequence)]
struct FwidOut {
    hash_alg: ObjectIdentifier,
    digest: OctetString,
}

/// Encodes a SubjectAltName value holding the RIoT CompositeDeviceID
/// OtherName. `conformant` chooses RFC 5280's `[0] EXPLICIT` value wrapper;
/// without it the value is the bare SEQUENCE RIoT devices emit.
pub fn riot_subject_alt_name(
    device_id: &VerifyingKey,
    fwid_alg: ObjectIdentifier,
    fwid: &[u8],
    conformant: bool,
) -> Result<Vec<u8>, X509Error> {
    let spki = device_id.to_spki_der();
    let composite = CompositeOut {
        version: 1,
        device_id: AnyRef::from_der(&spki).map_err(mint_err)?,
        fwid: FwidOut {
            hash_alg: fwid_alg,
            digest: OctetString::new(fwid).map_err(mint_err)?,
        },
    }
    .to_der()
    .map_err(mint_err)?;
    let value = if conformant {
        Any::new(context_constructed(0), composite)
            .and_then(|a| a.to_der())
            .map_err(mint_err)?
    } else {
        composite
    };
    let mut other_name = oid::RIOT_COMPOSITE_DEVICE_ID.to_der().map_err(mint_err)?;
    other_name.extend_from_slice(&value);
    let general_name = Any::new(context_constructed(0), other_name).map_err(mint_err)?;
    Any::new(Tag::Sequence, general_name.to_der().map_err(mint_err)?)
        .and_then(|a| a.to_der())
        .map_err(mint_err)
}

fn context_constructed(number: u8) -> Tag {
    Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(number.into()),
    }
}

/// A minted certificate and its private key.
#[derive(Clone, Debug)]
pub struct Minted {
    /// The certificate.
    pub cert: Certificate,
    /// Its subject's private key.
    pub key: SigningKey,
}

fn fingerprint(key: &VerifyingKey) -> String {
    let d = digest::digest(&digest::SHA256, &key.to_spki_der());
    crate::cert::hex_lower(d.as_ref().get(..8).unwrap_or_default()).to_uppercase()
}

fn fresh_key() -> Result<SigningKey, X509Error> {
    SigningKey::generate(Curve::P256).map_err(mint_err)
}

/// Mints a self-signed root CA with a fresh P-256 key.
pub fn root_ca(common_name: &str, now: i64) -> Result<Minted, X509Error> {
    let key = fresh_key()?;
    let cert = CertificateBuilder::new(
        &format!("CN={common_name},O=Vouch Test,C=US"),
        &key.verifying_key(),
        now,
    )?
    .ca(None)
    .self_signed(&key)?;
    Ok(Minted { cert, key })
}

/// Mints an intermediate CA under `issuer` with a fresh P-256 key.
pub fn intermediate_ca(
    common_name: &str,
    issuer: &Minted,
    path_len: Option<u8>,
    now: i64,
) -> Result<Minted, X509Error> {
    let key = fresh_key()?;
    let cert = CertificateBuilder::new(
        &format!("CN={common_name},O=Vouch Test,C=US"),
        &key.verifying_key(),
        now,
    )?
    .ca(path_len)
    .issued_by(&issuer.cert, &issuer.key)?;
    Ok(Minted { cert, key })
}

/// A RIoT/DICE device, shaped like the Veraison vector: alias ← DeviceID ←
/// vendor intermediate ← vendor root, all P-256 with fresh keys.
#[derive(Clone, Debug)]
pub struct RiotDevice {
    /// The vendor root (what a RIOT CoRIM provisions).
    pub root: Minted,
    /// The vendor intermediate (sent with the evidence).
    pub intermediate: Minted,
    /// The DeviceID certificate (`[I]DevID:<fingerprint>`), a CA with
    /// pathLen 0.
    pub device_id: Minted,
    /// The alias certificate (`[S]DevID:<fingerprint>`): clientAuth EKU and
    /// the critical SubjectAltName with the CompositeDeviceID, encoded bare
    /// as devices do.
    pub alias: Minted,
    /// The firmware measurement in the alias certificate.
    pub fwid: Vec<u8>,
}

impl RiotDevice {
    /// Mints a device whose alias certificate reports `fwid` (a SHA-256
    /// digest), with certificates valid from an hour before `now`.
    pub fn generate(fwid: &[u8], now: i64) -> Result<Self, X509Error> {
        let root = root_ca(&format!("Vouch Test RIoT Root CA {}", random_tag()?), now)?;
        let intermediate = intermediate_ca("Vouch Test RIoT Intermediate CA", &root, None, now)?;
        Self::under(root, intermediate, fwid, now)
    }

    /// Mints a device under an existing vendor root and intermediate (so
    /// many devices can share one provisioned CoRIM).
    pub fn under(
        root: Minted,
        intermediate: Minted,
        fwid: &[u8],
        now: i64,
    ) -> Result<Self, X509Error> {
        let device_key = fresh_key()?;
        let fp = fingerprint(&device_key.verifying_key());
        let device_cert = CertificateBuilder::new(
            &format!("CN=[I]DevID:{fp},O=Vouch Test,C=US"),
            &device_key.verifying_key(),
            now,
        )?
        .ca(Some(0))
        .issued_by(&intermediate.cert, &intermediate.key)?;
        let device_id = Minted {
            cert: device_cert,
            key: device_key,
        };

        let alias_key = fresh_key()?;
        let san = riot_subject_alt_name(&device_id.key.verifying_key(), oid::SHA256, fwid, false)?;
        let alias_cert = CertificateBuilder::new(
            &format!("CN=[S]DevID:{fp},O=Vouch Test,C=US"),
            &alias_key.verifying_key(),
            now,
        )?
        .extended_key_usage(&[oid::KP_CLIENT_AUTH], true)
        .extension(oid::SUBJECT_ALT_NAME, true, &san)
        .issued_by(&device_id.cert, &device_id.key)?;
        Ok(Self {
            root,
            intermediate,
            device_id,
            alias: Minted {
                cert: alias_cert,
                key: alias_key,
            },
            fwid: fwid.to_vec(),
        })
    }

    /// The evidence (`application/pem-certificate-chain`): alias, DeviceID
    /// and intermediate certificates.
    pub fn evidence_pem(&self) -> String {
        [
            &self.alias.cert,
            &self.device_id.cert,
            &self.intermediate.cert,
        ]
        .iter()
        .map(|c| c.to_pem())
        .collect()
    }

    /// The vendor root as PEM: what a RIOT CoRIM's cert path provisions.
    pub fn trust_anchor_pem(&self) -> String {
        self.root.cert.to_pem()
    }
}

/// A CoRIM signer's certificate chain: leaf ← intermediate ← root, P-256
/// with fresh keys. The leaf signs COSE_Sign1 CoRIMs and carries the
/// chain as x5chain.
#[derive(Clone, Debug)]
pub struct SignerChain {
    /// The operator-configured root.
    pub root: Minted,
    /// The intermediate, sent in the x5chain.
    pub intermediate: Minted,
    /// The signing certificate (keyUsage digitalSignature, no EKU).
    pub leaf: Minted,
}

impl SignerChain {
    /// Mints a chain valid from an hour before `now`.
    pub fn generate(now: i64) -> Result<Self, X509Error> {
        let root = root_ca(&format!("Vouch Test CoRIM Root CA {}", random_tag()?), now)?;
        let intermediate = intermediate_ca("Vouch Test CoRIM Signing CA", &root, Some(0), now)?;
        let leaf_key = fresh_key()?;
        let leaf_cert = CertificateBuilder::new(
            &format!(
                "CN=CoRIM signer {},O=Vouch Test,C=US",
                fingerprint(&leaf_key.verifying_key())
            ),
            &leaf_key.verifying_key(),
            now,
        )?
        .issued_by(&intermediate.cert, &intermediate.key)?;
        Ok(Self {
            root,
            intermediate,
            leaf: Minted {
                cert: leaf_cert,
                key: leaf_key,
            },
        })
    }

    /// The x5chain (COSE header 33) entries, leaf first, as DER.
    pub fn x5chain_der(&self) -> Vec<Vec<u8>> {
        vec![
            self.leaf.cert.der().to_vec(),
            self.intermediate.cert.der().to_vec(),
        ]
    }

    /// The root as PEM, for the verifier's configuration.
    pub fn root_pem(&self) -> String {
        self.root.cert.to_pem()
    }
}

/// Eight random hex digits, so minted roots get distinct names.
fn random_tag() -> Result<String, X509Error> {
    let mut bytes = [0u8; 4];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| X509Error::Mint("no randomness available".to_owned()))?;
    Ok(crate::cert::hex_lower(&bytes).to_uppercase())
}
