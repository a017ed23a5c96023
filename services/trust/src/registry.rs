//! Which scheme handles which media type.

use std::collections::HashMap;
use std::sync::Arc;

use vouch_schemes::Scheme;
use vouch_trust_api::MediaType;

/// A scheme registered for provisioning under one media type.
pub(crate) struct Provisioner {
    pub(crate) scheme: Arc<dyn Scheme>,
    pub(crate) corim_profile: &'static str,
}

/// The registered schemes, indexed by their media types.
///
/// Media types are matched on their canonical form, so an attester that
/// writes `application/eat-cwt;profile="…"` without a space is understood
/// (Veraison's VTS compares raw strings and fails such requests).
pub(crate) struct Registry {
    schemes: Vec<Arc<dyn Scheme>>,
    evidence: HashMap<String, usize>,
    provisioning: HashMap<String, (usize, &'static str)>,
    verification_types: Arc<[MediaType]>,
    provisioning_types: Arc<[MediaType]>,
}

impl Registry {
    pub(crate) fn new(schemes: Vec<Arc<dyn Scheme>>) -> Result<Self, String> {
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
                // Exact-string hits skip parsing on the hot path.
                evidence.insert((*raw).to_owned(), index);
                verification_types.push(mt);
            }
            for p in scheme.provisioning_media_types() {
                let mt = MediaType::parse(p.media_type)
                    .map_err(|e| format!("{}: {e}", scheme.name()))?;
                if provisioning
                    .insert(mt.as_str().to_owned(), (index, p.corim_profile))
                    .is_some()
                {
                    return Err(format!("provisioning media type {mt} registered twice"));
                }
                provisioning_types.push(mt);
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

    /// The scheme for an evidence media type as the attester sent it.
    pub(crate) fn for_evidence(&self, media_type: &str) -> Option<&Arc<dyn Scheme>> {
        let index = match self.evidence.get(media_type) {
            Some(i) => *i,
            None => {
                let canonical = MediaType::parse(media_type).ok()?;
                *self.evidence.get(canonical.as_str())?
            }
        };
        self.schemes.get(index)
    }

    /// The scheme and CoRIM profile for a provisioning media type.
    pub(crate) fn for_provisioning(&self, media_type: &MediaType) -> Option<Provisioner> {
        let (index, corim_profile) = *self.provisioning.get(media_type.as_str())?;
        Some(Provisioner {
            scheme: self.schemes.get(index)?.clone(),
            corim_profile,
        })
    }

    pub(crate) fn scheme_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.schemes.iter().map(|s| s.name())
    }

    pub(crate) fn verification_types(&self) -> Arc<[MediaType]> {
        self.verification_types.clone()
    }

    pub(crate) fn provisioning_types(&self) -> Arc<[MediaType]> {
        self.provisioning_types.clone()
    }
}
