//! Mints RIoT/DICE devices (scheme `RIOT`): a vendor root and intermediate,
//! a DeviceID certificate and an alias certificate carrying the RIoT
//! CompositeDeviceID (FWID and DeviceID), all with fresh P-256 keys; their
//! evidence (`application/pem-certificate-chain`); the CoRIM that endorses
//! them (profile `tag:veraison-project.com,2026:riot`, the vendor root as a
//! `pkix-base64-cert-path`); and broken variants for negative tests.
//!
//! ```
//! use vouch_testkit::riot::{RiotCorim, RiotDevice};
//!
//! let device = RiotDevice::generate(&[0x5a; 32]).unwrap();
//! let evidence = device.evidence();
//! assert!(evidence.starts_with(b"-----BEGIN CERTIFICATE-----"));
//! let corim = vouch_corim::decode(&device.corim()).unwrap();
//! assert_eq!(corim.comids().count(), 1);
//! // Negative CoRIMs, e.g. without the vendor Veraison requires.
//! let bad = RiotCorim::new().cert_path(&device.trust_anchor_pem()).vendor(None).build();
//! assert!(vouch_corim::decode(&bad).is_ok());
//! ```

use vouch_corim::{
    Class, ClassId, Comid, ConciseTag, Corim, CorimId, CryptoKey, Digest, DigestAlg, Environment,
    Instance, KeyTriple, Measurement, MeasurementKey, MeasurementValues, Profile, ReferenceTriple,
    TagId, TagIdentity, Triples, alg,
};
use vouch_crypto::{Curve, SigningKey, VerifyingKey};
use vouch_x509::mint::{self, CertificateBuilder, Minted};
use vouch_x509::{X509Error, oid};

use crate::corim::random_uuid;

/// The CoRIM profile of RIOT endorsements.
pub const RIOT_PROFILE: &str = "tag:veraison-project.com,2026:riot";
/// The provisioning media type of RIOT CoRIMs.
pub const RIOT_CORIM_MT: &str =
    "application/rim+cbor; profile=\"tag:veraison-project.com,2026:riot\"";
/// The RIOT evidence media type.
pub const RIOT_EVIDENCE_MT: &str = "application/pem-certificate-chain";
/// The vendor a RIOT trust-anchor environment names.
pub const RIOT_VENDOR: &str = "Veraison Project";
/// The model a RIOT trust-anchor environment names.
pub const RIOT_MODEL: &str = "RIOT";

/// Seconds since the Unix epoch, now.
fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn mint_err(e: impl std::fmt::Display) -> X509Error {
    X509Error::Mint(e.to_string())
}

/// A minted RIoT device and its vendor CAs.
#[derive(Clone, Debug)]
pub struct RiotDevice {
    inner: mint::RiotDevice,
}

impl RiotDevice {
    /// A device under a fresh vendor root and intermediate, whose alias
    /// certificate reports `fwid` (a SHA-256 digest); every certificate is
    /// valid from an hour ago for ten years.
    pub fn generate(fwid: &[u8]) -> Result<Self, X509Error> {
        Ok(Self {
            inner: mint::RiotDevice::generate(fwid, now_unix())?,
        })
    }

    /// Another device of the same vendor (same root and intermediate, so
    /// one provisioned CoRIM endorses both), reporting `fwid`.
    pub fn sibling(&self, fwid: &[u8]) -> Result<Self, X509Error> {
        Ok(Self {
            inner: mint::RiotDevice::under(
                self.inner.root.clone(),
                self.inner.intermediate.clone(),
                fwid,
                now_unix(),
            )?,
        })
    }

    /// The minted certificates and keys.
    pub fn minted(&self) -> &mint::RiotDevice {
        &self.inner
    }

    /// The firmware measurement the alias certificate reports.
    pub fn fwid(&self) -> &[u8] {
        &self.inner.fwid
    }

    /// The DeviceID public key as the uncompressed point `04 || x || y`
    /// (Veraison's `DeviceID` claim).
    pub fn device_id_point(&self) -> Vec<u8> {
        self.inner
            .device_id
            .key
            .verifying_key()
            .sec1_point()
            .to_vec()
    }

    /// The evidence: alias, DeviceID and intermediate certificates as PEM.
    pub fn evidence(&self) -> Vec<u8> {
        self.inner.evidence_pem().into_bytes()
    }

    /// Evidence holding only the alias certificate (Veraison: `problem
    /// extracting token cert PEM block`).
    pub fn evidence_alias_only(&self) -> Vec<u8> {
        self.inner.alias.cert.to_pem().into_bytes()
    }

    /// Evidence without the intermediate, so the DeviceID certificate
    /// cannot be linked to the provisioned root.
    pub fn evidence_without_intermediate(&self) -> Vec<u8> {
        [&self.inner.alias.cert, &self.inner.device_id.cert]
            .iter()
            .map(|c| c.to_pem())
            .collect::<String>()
            .into_bytes()
    }

    /// Evidence whose alias certificate (issued by the genuine DeviceID
    /// certificate, with the genuine CompositeDeviceID) expired a day ago.
    pub fn evidence_with_expired_alias(&self) -> Result<Vec<u8>, X509Error> {
        let now = now_unix();
        let year = 365 * 24 * 3600;
        let alias = self.alias_builder(
            &self.inner.device_id.key.verifying_key(),
            now.saturating_sub(year),
            now.saturating_sub(24 * 3600),
        )?;
        Ok(self.evidence_with_alias(&alias))
    }

    /// Evidence whose alias certificate, issued by the genuine DeviceID
    /// certificate, names another key as its DeviceID: the alias is not
    /// bound to the device that signed it.
    pub fn evidence_with_mismatched_device_id(&self) -> Result<Vec<u8>, X509Error> {
        let other = SigningKey::generate(Curve::P256).map_err(mint_err)?;
        let now = now_unix();
        let alias = self.alias_builder(
            &other.verifying_key(),
            now.saturating_sub(mint::DEFAULT_BACKDATE_SECS),
            now.saturating_add(mint::DEFAULT_LIFETIME_SECS),
        )?;
        Ok(self.evidence_with_alias(&alias))
    }

    /// Evidence whose DeviceID certificate is self-signed, with an alias
    /// certificate it issued: a chain vouching for itself, which Veraison
    /// accepts and Vouch refuses.
    pub fn evidence_self_signed(&self) -> Result<Vec<u8>, X509Error> {
        let device_key = SigningKey::generate(Curve::P256).map_err(mint_err)?;
        let now = now_unix();
        let device_cert = CertificateBuilder::new(
            "CN=[I]DevID:self-signed,O=Vouch Test,C=US",
            &device_key.verifying_key(),
            now,
        )?
        .ca(Some(0))
        .self_signed(&device_key)?;
        let device = Minted {
            cert: device_cert,
            key: device_key,
        };
        let alias = riot_alias(&device, &device.key.verifying_key(), self.fwid(), now)?;
        Ok([alias.to_pem(), device.cert.to_pem()].concat().into_bytes())
    }

    /// The vendor root as PEM.
    pub fn trust_anchor_pem(&self) -> String {
        self.inner.trust_anchor_pem()
    }

    /// The CoRIM endorsing this device's vendor: the root as a
    /// `pkix-base64-cert-path`, under a random corim-id.
    pub fn corim(&self) -> Vec<u8> {
        RiotCorim::new().cert_path(&self.trust_anchor_pem()).build()
    }

    fn alias_builder(
        &self,
        device_id: &VerifyingKey,
        not_before: i64,
        not_after: i64,
    ) -> Result<vouch_x509::Certificate, X509Error> {
        let san = mint::riot_subject_alt_name(device_id, oid::SHA256, self.fwid(), false)?;
        let alias_key = SigningKey::generate(Curve::P256).map_err(mint_err)?;
        CertificateBuilder::new(
            "CN=[S]DevID:variant,O=Vouch Test,C=US",
            &alias_key.verifying_key(),
            now_unix(),
        )?
        .validity(not_before, not_after)
        .extended_key_usage(&[oid::KP_CLIENT_AUTH], true)
        .extension(oid::SUBJECT_ALT_NAME, true, &san)
        .issued_by(&self.inner.device_id.cert, &self.inner.device_id.key)
    }

    fn evidence_with_alias(&self, alias: &vouch_x509::Certificate) -> Vec<u8> {
        [
            alias.to_pem(),
            self.inner.device_id.cert.to_pem(),
            self.inner.intermediate.cert.to_pem(),
        ]
        .concat()
        .into_bytes()
    }
}

/// An alias certificate issued by `device`, naming `device_id` in its
/// CompositeDeviceID.
fn riot_alias(
    device: &Minted,
    device_id: &VerifyingKey,
    fwid: &[u8],
    now: i64,
) -> Result<vouch_x509::Certificate, X509Error> {
    let san = mint::riot_subject_alt_name(device_id, oid::SHA256, fwid, false)?;
    let alias_key = SigningKey::generate(Curve::P256).map_err(mint_err)?;
    CertificateBuilder::new(
        "CN=[S]DevID:self-signed,O=Vouch Test,C=US",
        &alias_key.verifying_key(),
        now,
    )?
    .extended_key_usage(&[oid::KP_CLIENT_AUTH], true)
    .extension(oid::SUBJECT_ALT_NAME, true, &san)
    .issued_by(&device.cert, &device.key)
}

/// Builder for RIOT CoRIMs: one CoMID with one attest-key triple whose
/// environment is `{class: {vendor, model}}` and whose keys are the given
/// certificates; the defaults make a CoRIM Veraison accepts, the setters
/// make the broken ones. Methods take `self` and return it, for chaining.
#[derive(Clone, Debug)]
pub struct RiotCorim {
    id: CorimId,
    profile: Option<String>,
    vendor: Option<String>,
    model: Option<String>,
    instance: Option<Vec<u8>>,
    keys: Vec<CryptoKey>,
    identity_triple: bool,
    reference_value: bool,
}

impl Default for RiotCorim {
    fn default() -> Self {
        Self::new()
    }
}

impl RiotCorim {
    /// An empty RIOT CoRIM (random corim-id, the RIOT profile, vendor
    /// `Veraison Project`, model `RIOT`, no keys yet).
    pub fn new() -> Self {
        Self {
            id: CorimId::Uuid(random_uuid()),
            profile: Some(RIOT_PROFILE.to_owned()),
            vendor: Some(RIOT_VENDOR.to_owned()),
            model: Some(RIOT_MODEL.to_owned()),
            instance: None,
            keys: Vec::new(),
            identity_triple: false,
            reference_value: false,
        }
    }

    /// Adds a `pkix-base64-cert-path` (556) key holding `pem`.
    pub fn cert_path(mut self, pem: &str) -> Self {
        self.keys
            .push(CryptoKey::PkixBase64CertPath(pem.to_owned()));
        self
    }

    /// Adds a `pkix-base64-cert` (555) key holding `pem`.
    pub fn cert(mut self, pem: &str) -> Self {
        self.keys.push(CryptoKey::PkixBase64Cert(pem.to_owned()));
        self
    }

    /// Adds a `pkix-base64-key` (554) holding the PEM public key `pem`,
    /// which RIOT refuses.
    pub fn public_key(self, pem: &str) -> Self {
        self.key(CryptoKey::PkixBase64Key(pem.to_owned()))
    }

    /// Adds any key.
    pub fn key(mut self, key: CryptoKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Sets or removes the class vendor.
    pub fn vendor(mut self, vendor: Option<&str>) -> Self {
        self.vendor = vendor.map(str::to_owned);
        self
    }

    /// Sets or removes the class model.
    pub fn model(mut self, model: Option<&str>) -> Self {
        self.model = model.map(str::to_owned);
        self
    }

    /// Sets or removes the CoRIM profile.
    pub fn profile(mut self, profile: Option<&str>) -> Self {
        self.profile = profile.map(str::to_owned);
        self
    }

    /// Adds a UEID instance to the environment.
    pub fn instance(mut self, ueid: Vec<u8>) -> Self {
        self.instance = Some(ueid);
        self
    }

    /// Carries the keys in an identity triple instead of an attest-key
    /// triple.
    pub fn as_identity_triple(mut self) -> Self {
        self.identity_triple = true;
        self
    }

    /// Adds a reference-value triple (which RIOT refuses), as Veraison's
    /// `corim-riot-bad-refvals.cbor` does.
    pub fn with_reference_value(mut self) -> Self {
        self.reference_value = true;
        self
    }

    /// The CoRIM as a model.
    pub fn to_corim(&self) -> Corim {
        let environment = Environment {
            class: Some(Class {
                class_id: None,
                vendor: self.vendor.clone(),
                model: self.model.clone(),
                layer: None,
                index: None,
            }),
            instance: self.instance.clone().map(Instance::Ueid),
            group: None,
        };
        let key_triple = KeyTriple {
            environment,
            keys: self.keys.clone(),
            conditions: None,
        };
        let mut triples = Triples::default();
        if self.identity_triple {
            triples.identity_triples.push(key_triple);
        } else {
            triples.attest_key_triples.push(key_triple);
        }
        if self.reference_value {
            triples.reference_triples.push(ReferenceTriple {
                environment: Environment {
                    class: Some(Class {
                        class_id: Some(ClassId::Uuid(random_uuid())),
                        vendor: Some("ACME".to_owned()),
                        model: Some("RoadRunner".to_owned()),
                        layer: None,
                        index: None,
                    }),
                    instance: None,
                    group: None,
                },
                measurements: vec![Measurement {
                    key: Some(MeasurementKey::Text("firmware".to_owned())),
                    values: MeasurementValues {
                        digests: Some(vec![Digest {
                            alg: DigestAlg::Int(alg::SHA256),
                            value: vec![0x87; 32],
                        }]),
                        ..MeasurementValues::default()
                    },
                    authorized_by: None,
                }],
            });
        }
        Corim {
            id: self.id.clone(),
            tags: vec![ConciseTag::Comid(Comid {
                language: None,
                tag_identity: TagIdentity {
                    tag_id: TagId::Uuid(random_uuid()),
                    tag_version: None,
                },
                entities: None,
                linked_tags: None,
                triples,
            })],
            dependent_rims: None,
            profile: self.profile.clone().map(Profile::Uri),
            validity: None,
            entities: None,
            was_tagged: true,
        }
    }

    /// The encoded CoRIM (tag 501).
    pub fn build(&self) -> Vec<u8> {
        self.to_corim().encode()
    }
}
