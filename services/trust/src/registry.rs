//! Which scheme handles which media type.

use std::collections::HashMap;
use std::sync::Arc;

use vouch_schemes::Scheme;
use vouch_trust_api::MediaType;

/// A scheme registered for provisioning under one media type.
pub(crate) struct Provisioner {
    pub(crate) scheme: Arc<dyn Scheme>,
    pub(crate) corim_profile: &'static str,
    /// Whether the media type is a signed CoRIM (COSE_Sign1) to open
    /// before decoding.
    pub(crate) signed: bool,
}

/// Essences of unsigned CoRIM media types, which get signed twins.
const UNSIGNED_ESSENCES: &[&str] = &["application/rim+cbor", "application/corim-unsigned+cbor"];

/// Essences of signed CoRIMs: the registered `rim+cose`, and Veraison's
/// older `corim-signed+cbor`.
const SIGNED_ESSENCES: &[&str] = &["application/rim+cose", "application/corim-signed+cbor"];

/// The registered schemes, indexed by their media types.
///
/// Media types are matched on their canonical form, so an attester that
/// writes `application/eat-cwt;profile="…"` without a space is understood
/// (Veraison's VTS compares raw strings and fails such requests).
pub(crate) struct Registry {
    schemes: Vec<Arc<dyn Scheme>>,
    evidence: HashMap<String, usize>,
    provisioning: HashMap<String, (usize, &'static str, bool)>,
    verification_types: Arc<[MediaType]>,
    provisioning_types: Arc<[MediaType]>,
}

impl Registry {
    /// Indexes `schemes`. Every unsigned CoRIM media type a scheme accepts
    /// is also accepted signed, under the same profile; with
    /// `require_signed` only the signed ones are.
    pub(crate) fn new(schemes: Vec<Arc<dyn Scheme>>, require_signed: bool) -> Result<Self, String> {
        let mut evidence = HashMap::new();
        let mut provisioning = HashMap::new();
        let mut verification_types = Vec::new();
        let mut provisioning_types = Vec::new();
        for (index, scheme) in schemes.iter().enumerate() {
            for raw in scheme.evidence_media_types() {
                let mt = MediaType::parse(raw).map_err(|e| format!("{}: {e}", scheme.name()))?;
                if evidence.insert(mt.as_str().to_owned(), index).is_some() {
                    return Err(format!("evidence media type {mt} registered twice"));
                }
                verification_types.push(mt);
            }
            for p in scheme.provisioning_media_types() {
                let mt = MediaType::parse(p.media_type)
                    .map_err(|e| format!("{}: {e}", scheme.name()))?;
                let unsigned = UNSIGNED_ESSENCES.contains(&mt.essence());
                let signed = SIGNED_ESSENCES.contains(&mt.essence());
                if !(unsigned || signed) {
                    return Err(format!("{mt} is not a CoRIM media type"));
                }
                if signed || !require_signed {
                    if provisioning
                        .insert(mt.as_str().to_owned(), (index, p.corim_profile, signed))
                        .is_some()
                    {
                        return Err(format!("provisioning media type {mt} registered twice"));
                    }
                    provisioning_types.push(mt.clone());
                }
                if !unsigned {
                    continue;
                }
                let profile = mt.parameter("profile").unwrap_or_default();
                for essence in SIGNED_ESSENCES {
                    let twin = MediaType::parse(&format!("{essence}; profile=\"{profile}\""))
                        .map_err(|e| format!("{}: {e}", scheme.name()))?;
                    // Two unsigned types with one profile (PSA's legacy
                    // `rim+cbor` and `corim-unsigned+cbor`) share a twin.
                    match provisioning.get(twin.as_str()) {
                        Some((i, _, _)) if *i == index => continue,
                        Some(_) => {
                            return Err(format!("provisioning media type {twin} registered twice"));
                        }
                        None => {}
                    }
                    provisioning.insert(twin.as_str().to_owned(), (index, p.corim_profile, true));
                    provisioning_types.push(twin);
                }
            }
        }
        Ok(Registry {
            schemes,
            evidence,
            provisioning,
            verification_types: verification_types.into(),
            provisioning_types: provisioning_types.into(),
        })
    }

    /// The scheme for an evidence media type.
    pub(crate) fn for_evidence(&self, media_type: &MediaType) -> Option<&Arc<dyn Scheme>> {
        self.schemes.get(*self.evidence.get(media_type.as_str())?)
    }

    /// The scheme and CoRIM profile for a provisioning media type.
    pub(crate) fn for_provisioning(&self, media_type: &MediaType) -> Option<Provisioner> {
        let (index, corim_profile, signed) = *self.provisioning.get(media_type.as_str())?;
        Some(Provisioner {
            scheme: self.schemes.get(index)?.clone(),
            corim_profile,
            signed,
        })
    }

    pub(crate) fn scheme_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.schemes.iter().map(|s| s.name())
    }

    pub(crate) fn verification_type_names(&self) -> Vec<String> {
        names(&self.verification_types)
    }

    pub(crate) fn provisioning_type_names(&self) -> Vec<String> {
        names(&self.provisioning_types)
    }

    pub(crate) fn verification_types(&self) -> Arc<[MediaType]> {
        self.verification_types.clone()
    }

    pub(crate) fn provisioning_types(&self) -> Arc<[MediaType]> {
        self.provisioning_types.clone()
    }
}

/// The media types a trust built from `schemes` takes: evidence, then
/// CoRIMs (signed ones included; only those with `require_signed`). For
/// documents such as the front ends' OpenAPI, which are written before any
/// trust is reached.
pub fn advertised_media_types(
    schemes: Vec<Arc<dyn Scheme>>,
    require_signed: bool,
) -> Result<(Vec<String>, Vec<String>), String> {
    let registry = Registry::new(schemes, require_signed)?;
    Ok((
        registry.verification_type_names(),
        registry.provisioning_type_names(),
    ))
}

fn names(types: &[MediaType]) -> Vec<String> {
    types.iter().map(|t| t.as_str().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn mt(s: &str) -> MediaType {
        MediaType::parse(s).unwrap()
    }

    #[test]
    fn every_unsigned_corim_type_has_signed_twins() {
        let registry = Registry::new(vouch_schemes::builtin(), false).unwrap();
        let current = r#"application/rim+cose; profile="tag:arm.com,2025:psa#1.0.0""#;
        let legacy = r#"application/corim-signed+cbor; profile="http://arm.com/psa/iot/1""#;
        for signed in [current, legacy] {
            let p = registry.for_provisioning(&mt(signed)).unwrap();
            assert!(p.signed, "{signed}");
            assert!(registry.provisioning_types().contains(&mt(signed)));
        }
        let unsigned = registry
            .for_provisioning(&mt(
                r#"application/rim+cbor; profile="tag:arm.com,2025:psa#1.0.0""#,
            ))
            .unwrap();
        assert!(!unsigned.signed);
        // Each advertised type once.
        let types = registry.provisioning_type_names();
        let mut unique = types.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), types.len());
    }

    #[test]
    fn requiring_signatures_drops_the_unsigned_types() {
        let registry = Registry::new(vouch_schemes::builtin(), true).unwrap();
        assert!(
            registry
                .for_provisioning(&mt(
                    r#"application/rim+cbor; profile="tag:arm.com,2025:psa#1.0.0""#
                ))
                .is_none()
        );
        assert!(
            registry
                .provisioning_type_names()
                .iter()
                .all(|t| t.starts_with("application/rim+cose")
                    || t.starts_with("application/corim-signed+cbor"))
        );
        assert!(
            registry
                .for_provisioning(&mt(
                    r#"application/rim+cose; profile="tag:arm.com,2025:psa#1.0.0""#
                ))
                .is_some()
        );
    }

    #[test]
    fn evidence_types_are_found_in_any_spelling() {
        let registry = Registry::new(vouch_schemes::builtin(), false).unwrap();
        let spaced = mt(r#"application/eat-cwt; profile="http://arm.com/psa/2.0.0""#);
        let tight = mt(r#"application/eat-cwt;profile="http://arm.com/psa/2.0.0""#);
        assert_eq!(
            registry.for_evidence(&spaced).unwrap().name(),
            registry.for_evidence(&tight).unwrap().name()
        );
        assert!(
            registry
                .for_evidence(&mt("application/x-unknown"))
                .is_none()
        );
    }
}
