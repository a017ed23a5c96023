//! RIoT/DICE (`RIOT`): a device's PEM certificate chain
//! (`application/pem-certificate-chain`), alias certificate first, then the
//! DeviceID certificate, then any vendor intermediates. The chain must
//! validate to the certificate path a CoRIM with the profile
//! `tag:veraison-project.com,2026:riot` provisions; the alias certificate's
//! RIoT CompositeDeviceID extension gives the claims (FWID, DeviceID).
//!
//! Like Veraison, RIOT has a single trust anchor, named by the environment
//! `{class: {vendor: "Veraison Project", model: "RIOT"}}` whatever the
//! evidence says ([`TRUST_ANCHOR_ID`]), and no reference values.
//!
//! Where Vouch is stricter than Veraison (`services@6b88102`
//! `scheme/riot/scheme.go`), on purpose:
//!
//! * a self-signed DeviceID certificate in the evidence is never a root:
//!   Veraison adds it to the roots, so any self-made chain verifies;
//! * the DeviceID the alias certificate's extension names must be the key
//!   of the DeviceID certificate that issued it (Veraison does not check);
//! * the alias certificate must be issued by the second certificate of the
//!   evidence, the DeviceID certificate, as the layout requires.
//!
//! RIoT evidence carries no nonce, so no freshness check is possible: a
//! chain, once captured, verifies until its certificates expire (as in
//! Veraison).

mod endorsements;
#[cfg(test)]
mod tests;

use base64::Engine as _;
use serde_json::{Map, Value};
use vouch_ear::{Appraisal, TrustClaim};
use vouch_x509::{
    Certificate, CompositeDeviceId, TrustStore, Usage, parse_pem_chain, riot_composite_device_id,
    validate_chain,
};

use crate::{
    BadEvidence, DecodedReference, EndorsementError, Endorsements, Evidence, ProvisioningMediaType,
    Scheme, TrustAnchorKey,
};

/// Scheme name, EAR submod name and policy suffix.
pub const NAME: &str = "RIOT";

/// The CoRIM profile RIOT endorsements declare.
pub const PROFILE: &str = "tag:veraison-project.com,2026:riot";

/// The evidence media type.
pub const EVIDENCE_MEDIA_TYPE: &str = "application/pem-certificate-chain";

/// The vendor the trust-anchor environment must name.
pub const VENDOR: &str = "Veraison Project";

/// The model the trust-anchor environment must name.
pub const MODEL: &str = "RIOT";

/// The store key of the (single) RIOT trust anchor: the environment class
/// `{vendor: "Veraison Project", model: "RIOT"}`, which is all Veraison's
/// RIOT scheme looks trust anchors up by. Every RIOT evidence names it.
pub const TRUST_ANCHOR_ID: &[u8] = b"class:Veraison Project/RIOT";

const EVIDENCE_MEDIA_TYPES: &[&str] = &[EVIDENCE_MEDIA_TYPE];

const PROVISIONING_MEDIA_TYPES: &[ProvisioningMediaType] = &[ProvisioningMediaType {
    media_type: r#"application/rim+cbor; profile="tag:veraison-project.com,2026:riot""#,
    corim_profile: PROFILE,
}];

/// Veraison's message for evidence without the alias and DeviceID
/// certificates.
const MISSING_CERT: &str = "problem extracting token cert PEM block";

/// The RIoT/DICE scheme.
#[derive(Debug, Default, Clone, Copy)]
pub struct Riot;

impl Scheme for Riot {
    fn name(&self) -> &'static str {
        NAME
    }

    fn evidence_media_types(&self) -> &'static [&'static str] {
        EVIDENCE_MEDIA_TYPES
    }

    fn provisioning_media_types(&self) -> &'static [ProvisioningMediaType] {
        PROVISIONING_MEDIA_TYPES
    }

    fn extract_endorsements(
        &self,
        corim: &vouch_corim::Corim,
        profile: &str,
    ) -> Result<Endorsements, EndorsementError> {
        endorsements::extract(corim, profile)
    }

    fn decode_reference_value(&self, _body: &[u8]) -> Result<DecodedReference, EndorsementError> {
        // RIOT CoRIMs are refused when they carry reference values, so none
        // is ever stored under this scheme.
        Err(EndorsementError::new(
            "RIOT has no reference values (disallowed by scheme)",
        ))
    }

    fn decode_evidence(&self, evidence: &[u8]) -> Result<Box<dyn Evidence>, BadEvidence> {
        Ok(Box::new(RiotEvidence::decode(evidence)?))
    }
}

/// A decoded RIoT chain: at least the alias and DeviceID certificates, and
/// the alias certificate's CompositeDeviceID.
#[derive(Debug, Clone)]
pub struct RiotEvidence {
    /// Alias, DeviceID, then intermediates; never fewer than two.
    chain: Vec<Certificate>,
    claims: CompositeDeviceId,
}

impl RiotEvidence {
    /// Decodes a PEM chain: every block a certificate, at least two (alias
    /// and DeviceID), and a CompositeDeviceID in the alias certificate.
    pub fn decode(evidence: &[u8]) -> Result<Self, BadEvidence> {
        let text = std::str::from_utf8(evidence).map_err(|_| {
            BadEvidence::new(format!("{MISSING_CERT}: the evidence is not PEM text"))
        })?;
        let chain = parse_pem_chain(text).map_err(|e| BadEvidence::new(e.to_string()))?;
        if chain.len() < 2 {
            return Err(BadEvidence::new(format!(
                "{MISSING_CERT}: the chain holds {} certificate(s); expected the alias \
                 certificate, then the DeviceID certificate, then any intermediates",
                chain.len()
            )));
        }
        let alias = chain
            .first()
            .ok_or_else(|| BadEvidence::new(MISSING_CERT))?;
        let claims = riot_composite_device_id(alias)
            .map_err(|e| BadEvidence::new(format!("alias certificate: {e}")))?;
        Ok(Self { chain, claims })
    }

    /// The alias certificate's claims.
    pub fn claims(&self) -> &CompositeDeviceId {
        &self.claims
    }

    /// The certificates, alias first.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// Validates the chain against the provisioned certificate path at
    /// `now_unix` and checks that the alias certificate is bound to the
    /// DeviceID certificate.
    pub fn verify_at(&self, anchor: &TrustAnchorKey, now_unix: i64) -> Result<(), BadEvidence> {
        let TrustAnchorKey::CertPath(ders) = anchor else {
            return Err(BadEvidence::new(
                "the RIOT trust anchor is a key, not a certificate path",
            ));
        };
        let provisioned = ders
            .iter()
            .map(|der| Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BadEvidence::new(format!("stored RIOT trust anchor: {e}")))?;
        // Only the provisioned path holds roots: the evidence's own
        // certificates (a self-signed DeviceID included) are at most
        // intermediates, so a chain cannot vouch for itself.
        let store = TrustStore::from_certs(provisioned);
        let validated = validate_chain(&self.chain, &store, now_unix, Usage::riot_alias())
            .map_err(|e| BadEvidence::new(format!("failed to verify alias cert: {e}")))?;

        let (Some(device_cert), Some(issuer)) =
            (self.chain.get(1), validated.certificates().get(1))
        else {
            // The alias certificate is itself a provisioned root: nothing
            // issued it, so nothing binds it to a DeviceID.
            return Err(BadEvidence::new(
                "the alias certificate must be issued by the DeviceID certificate, not be a \
                 trust anchor itself",
            ));
        };
        if device_cert != issuer {
            return Err(BadEvidence::new(format!(
                "the alias certificate is issued by {:?}, not by the DeviceID certificate {:?} \
                 that follows it in the chain",
                issuer.subject(),
                device_cert.subject()
            )));
        }
        let device_spki = device_cert
            .public_key_spki_der()
            .map_err(|e| BadEvidence::new(format!("DeviceID certificate: {e}")))?;
        if device_spki != self.claims.device_id_spki_der() {
            return Err(BadEvidence::new(
                "the DeviceID in the alias certificate's CompositeDeviceID is not the key of \
                 the DeviceID certificate that issued it",
            ));
        }
        Ok(())
    }
}

/// Seconds since the Unix epoch, now. A clock before 1970 reads as 1970,
/// at which no certificate is valid yet: validation fails closed.
fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl Evidence for RiotEvidence {
    fn trust_anchor_id(&self) -> &[u8] {
        TRUST_ANCHOR_ID
    }

    fn verify_integrity(&self, _nonce: &[u8], anchor: &TrustAnchorKey) -> Result<(), BadEvidence> {
        // RIoT evidence carries no nonce: there is nothing to compare the
        // session nonce with.
        self.verify_at(anchor, now_unix())
    }

    fn reference_ids(&self, _anchor_reference_id: &[u8]) -> Vec<Vec<u8>> {
        // RIOT has no reference values: nothing to look up.
        Vec::new()
    }

    fn appraise(
        &self,
        _reference_values: &[DecodedReference],
    ) -> Result<Vec<(String, Appraisal)>, BadEvidence> {
        let mut appraisal = Appraisal::new();
        // The chain validated to the provisioned vendor path and the alias
        // key is bound to the DeviceID: the device is who it says.
        appraisal.trust_vector.instance_identity = TrustClaim::TRUSTWORTHY_INSTANCE;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut claims = Map::new();
        claims.insert(
            "FWID".to_owned(),
            Value::String(b64.encode(self.claims.fwid())),
        );
        claims.insert(
            "DeviceID".to_owned(),
            Value::String(b64.encode(self.claims.device_id())),
        );
        appraisal.policy_claims = Some(claims);
        appraisal.update_status_from_trust_vector();
        Ok(vec![(NAME.to_owned(), appraisal)])
    }
}
