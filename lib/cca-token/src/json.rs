//! The JSON view of the claims: what Veraison puts in
//! `ear.veraison.annotated-evidence` for the `CCA_SSD_PLATFORM` and
//! `CCA_REALM` submods, and the ccatoken/evcli claims files read back.
//!
//! The member names are ccatoken's JSON tags; byte strings are standard
//! base64 with padding. Veraison's results carry the claims as a Go map, so
//! members come out sorted by name; [`PlatformClaims::annotated_evidence`]
//! and [`RealmClaims::annotated_evidence`] emit them in that order.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::platform::{RawPlatform, RawSw};
use crate::realm::{RAW_RAK_LEN, REALM_PROFILE, RawRealm};
use crate::{CcaError, PlatformClaims, PlatformProfile, RealmClaims};

/// JSON member of the platform claims in a claims collection.
pub const PLATFORM_TOKEN_MEMBER: &str = "cca-platform-token";
/// JSON member of the realm claims in a claims collection.
pub const REALM_TOKEN_MEMBER: &str = "cca-realm-delegated-token";

fn b64(bytes: &[u8]) -> Value {
    Value::String(STANDARD.encode(bytes))
}

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

impl PlatformClaims {
    /// The claims as Veraison's `ear.veraison.annotated-evidence` shows them
    /// for the `CCA_SSD_PLATFORM` submod.
    pub fn annotated_evidence(&self) -> Value {
        let mut m = Map::new();
        m.insert("cca-platform-challenge".into(), b64(&self.challenge));
        m.insert("cca-platform-config".into(), b64(&self.config));
        m.insert("cca-platform-hash-algo-id".into(), text(&self.hash_algo_id));
        m.insert(
            "cca-platform-implementation-id".into(),
            b64(&self.implementation_id),
        );
        m.insert("cca-platform-instance-id".into(), b64(&self.instance_id));
        m.insert("cca-platform-lifecycle".into(), Value::from(self.lifecycle));
        m.insert("cca-platform-profile".into(), text(self.profile.as_str()));
        if let Some(vsi) = &self.verification_service {
            m.insert("cca-platform-service-indicator".into(), text(vsi));
        }
        let components = self
            .sw_components
            .iter()
            .map(|c| {
                let mut s = Map::new();
                if let Some(h) = &c.hash_algo_id {
                    s.insert("measurement-description".into(), text(h));
                }
                if let Some(t) = &c.measurement_type {
                    s.insert("measurement-type".into(), text(t));
                }
                s.insert("measurement-value".into(), b64(&c.measurement_value));
                s.insert("signer-id".into(), b64(&c.signer_id));
                if let Some(v) = &c.version {
                    s.insert("version".into(), text(v));
                }
                Value::Object(s)
            })
            .collect();
        m.insert(
            "cca-platform-sw-components".into(),
            Value::Array(components),
        );
        Value::Object(m)
    }

    /// Reads platform claims in ccatoken's JSON form (a `cca-platform-token`
    /// object of an evcli claims file, or [`PlatformClaims::annotated_evidence`]
    /// output) and validates them. Unknown members are ignored and `null`
    /// counts as absent, as Go's `encoding/json` does.
    pub fn from_json(value: &Value) -> Result<Self, CcaError> {
        let o = object(value, "platform claims")?;
        let profile = match o.get("cca-platform-profile") {
            Some(Value::String(name)) => PlatformProfile::from_name(name),
            _ => None,
        }
        .ok_or_else(|| CcaError::Json("could not match profile".to_owned()))?;
        let sw_components = match member(o, "cca-platform-sw-components") {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let what = format!("cca-platform-sw-components[{i}]");
                        let s = object(item, &what)?;
                        let component = || {
                            Ok(RawSw {
                                measurement_type: opt_text(s, "measurement-type")?,
                                measurement_value: opt_b64(s, "measurement-value")?,
                                version: opt_text(s, "version")?,
                                signer_id: opt_b64(s, "signer-id")?,
                                hash_algo_id: opt_text(s, "measurement-description")?,
                            })
                        };
                        component().map_err(|e| match e {
                            CcaError::Json(m) => CcaError::Json(format!("{what}: {m}")),
                            other => other,
                        })
                    })
                    .collect::<Result<Vec<_>, CcaError>>()?,
            ),
            Some(_) => return Err(type_err("cca-platform-sw-components", "an array")),
        };
        let lifecycle =
            match member(o, "cca-platform-lifecycle") {
                None => None,
                Some(v) => Some(v.as_u64().and_then(|n| u16::try_from(n).ok()).ok_or_else(
                    || type_err("cca-platform-lifecycle", "a 16-bit unsigned integer"),
                )?),
            };
        RawPlatform {
            profile: Some(profile),
            nonces: nonces(o, "cca-platform-challenge")?,
            implementation_id: opt_b64(o, "cca-platform-implementation-id")?,
            instance_id: opt_b64(o, "cca-platform-instance-id")?,
            config: opt_b64(o, "cca-platform-config")?,
            lifecycle,
            sw_components,
            vsi: opt_text(o, "cca-platform-service-indicator")?,
            hash_algo_id: opt_text(o, "cca-platform-hash-algo-id")?,
        }
        .validate()
    }
}

impl RealmClaims {
    /// The claims as Veraison's `ear.veraison.annotated-evidence` shows them
    /// for the `CCA_REALM` submod (the profile only when the token has one).
    pub fn annotated_evidence(&self) -> Value {
        let mut m = Map::new();
        m.insert("cca-realm-challenge".into(), b64(&self.challenge));
        m.insert(
            "cca-realm-extensible-measurements".into(),
            Value::Array(
                self.extensible_measurements
                    .iter()
                    .map(|r| b64(r))
                    .collect(),
            ),
        );
        m.insert("cca-realm-hash-algo-id".into(), text(&self.hash_algo_id));
        m.insert(
            "cca-realm-initial-measurement".into(),
            b64(&self.initial_measurement),
        );
        m.insert(
            "cca-realm-personalization-value".into(),
            b64(&self.personalization_value),
        );
        if let Some(p) = &self.profile {
            m.insert("cca-realm-profile".into(), text(p));
        }
        m.insert("cca-realm-public-key".into(), b64(self.public_key.bytes()));
        m.insert(
            "cca-realm-public-key-hash-algo-id".into(),
            text(&self.public_key_hash_algo_id),
        );
        Value::Object(m)
    }

    /// Reads realm claims in ccatoken's JSON form (a
    /// `cca-realm-delegated-token` object, or
    /// [`RealmClaims::annotated_evidence`] output) and validates them.
    ///
    /// Without `cca-realm-profile`, ccatoken's JSON decoder assumes the
    /// current realm profile, so the RAK must be a COSE_Key; here a RAK that
    /// is a raw P-384 point (97 bytes, `0x04…`) is instead read as a legacy,
    /// profile-less claims-set, so that the JSON view of legacy tokens reads
    /// back.
    pub fn from_json(value: &Value) -> Result<Self, CcaError> {
        let o = object(value, "realm claims")?;
        let public_key = opt_b64(o, "cca-realm-public-key")?;
        let profile = match opt_text(o, "cca-realm-profile")? {
            Some(p) => Some(p),
            None => {
                let raw = public_key
                    .as_ref()
                    .is_some_and(|k| k.len() == RAW_RAK_LEN && k.first() == Some(&0x04));
                (!raw).then(|| REALM_PROFILE.to_owned())
            }
        };
        let extensible_measurements = match member(o, "cca-realm-extensible-measurements") {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| decode_b64(v, "cca-realm-extensible-measurements"))
                    .collect::<Result<Vec<_>, CcaError>>()?,
            ),
            Some(_) => {
                return Err(type_err(
                    "cca-realm-extensible-measurements",
                    "an array of base64 strings",
                ));
            }
        };
        RawRealm {
            profile,
            nonces: nonces(o, "cca-realm-challenge")?,
            personalization_value: opt_b64(o, "cca-realm-personalization-value")?,
            initial_measurement: opt_b64(o, "cca-realm-initial-measurement")?,
            extensible_measurements,
            hash_algo_id: opt_text(o, "cca-realm-hash-algo-id")?,
            public_key,
            public_key_hash_algo_id: opt_text(o, "cca-realm-public-key-hash-algo-id")?,
        }
        .validate()
    }
}

/// Reads an evcli-style claims collection, `{"cca-platform-token": {…},
/// "cca-realm-delegated-token": {…}}`, and validates both claims-sets.
pub fn claims_from_json(value: &Value) -> Result<(PlatformClaims, RealmClaims), CcaError> {
    let o = object(value, "CCA claims")?;
    let platform = member(o, PLATFORM_TOKEN_MEMBER);
    let realm = member(o, REALM_TOKEN_MEMBER);
    match (platform, realm) {
        (None, None) => Err(CcaError::Json("claims not set in evidence".to_owned())),
        (None, Some(_)) => Err(CcaError::Json("missing platform claims".to_owned())),
        (Some(_), None) => Err(CcaError::Json("missing realm claims".to_owned())),
        (Some(p), Some(r)) => Ok((PlatformClaims::from_json(p)?, RealmClaims::from_json(r)?)),
    }
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, CcaError> {
    value
        .as_object()
        .ok_or_else(|| CcaError::Json(format!("{what}: expected an object")))
}

/// A member, with `null` read as absent.
fn member<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.get(name).filter(|v| !v.is_null())
}

fn type_err(name: &str, expected: &str) -> CcaError {
    CcaError::Json(format!("{name}: expected {expected}"))
}

fn decode_b64(v: &Value, name: &str) -> Result<Vec<u8>, CcaError> {
    let s = v
        .as_str()
        .ok_or_else(|| type_err(name, "a base64 string"))?;
    STANDARD
        .decode(s)
        .map_err(|e| CcaError::Json(format!("{name}: illegal base64 data: {e}")))
}

fn opt_b64(o: &Map<String, Value>, name: &str) -> Result<Option<Vec<u8>>, CcaError> {
    member(o, name).map(|v| decode_b64(v, name)).transpose()
}

fn opt_text(o: &Map<String, Value>, name: &str) -> Result<Option<String>, CcaError> {
    member(o, name)
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| type_err(name, "a string"))
        })
        .transpose()
}

/// An EAT nonce: a base64 string or an array of them.
fn nonces(o: &Map<String, Value>, name: &str) -> Result<Option<Vec<Vec<u8>>>, CcaError> {
    match member(o, name) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| decode_b64(v, name))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(v) => decode_b64(v, name).map(|n| Some(vec![n])),
    }
}
