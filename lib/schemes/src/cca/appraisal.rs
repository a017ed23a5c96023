//! Appraisal of verified CCA claims against reference values: the platform
//! (shared with Parsec CCA) and the realm.
//!
//! Platform (Veraison `scheme/arm-cca` `AppraisePlatform`): the CPAK
//! signature verified, so the hardware is genuine (2); the lifecycle gives
//! instance identity, runtime and storage opacity (2 when secured or in
//! non-CCA-platform debug, 96 otherwise); the configuration must equal an
//! endorsed `cca.platform-config` byte for byte (2, else 32); the software
//! components must match (2, else 33).
//!
//! Realm (Veraison `AppraiseRealm`, with the register semantics of the
//! legacy appraisal, MANIFEST CCA-03b): the RAK signature and binding
//! verified, so the realm instance is trustworthy (2); executables are 33
//! without reference values for the realm's RIM, 96 when every one pins
//! another personalization value, 3 (approved boot) when RIM and RPV match,
//! and 2 when the endorsed extensible measurements match as well.

use std::collections::HashMap;

use vouch_cca_token::{LifecycleState, PlatformClaims, RealmClaims, SwComponent};
use vouch_ear::{Appraisal, TrustClaim};

use super::measurement::{
    CcaReference, MatchRule, PlatformConfig, RealmReference, SoftwareComponent,
};

fn object(value: serde_json::Value) -> Option<serde_json::Map<String, serde_json::Value>> {
    match value {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Appraises verified platform claims against the platform reference
/// values of their implementation.
pub(crate) fn appraise_platform(
    claims: &PlatformClaims,
    references: &[&CcaReference],
) -> Appraisal {
    let mut components = Vec::new();
    let mut configs = Vec::new();
    for r in references {
        match r {
            CcaReference::SoftwareComponent(c) => components.push(c),
            CcaReference::PlatformConfig(c) => configs.push(c),
            CcaReference::Realm(_) => {}
        }
    }
    let mut appraisal = Appraisal::new();
    let tv = &mut appraisal.trust_vector;
    // The platform token verified with the provisioned CPAK.
    tv.hardware = TrustClaim::GENUINE_HARDWARE;
    match claims.lifecycle_state() {
        Some(LifecycleState::Secured | LifecycleState::NonCcaPlatformDebug) => {
            tv.instance_identity = TrustClaim::TRUSTWORTHY_INSTANCE;
            tv.runtime_opaque = TrustClaim::APPROVED_RUNTIME;
            tv.storage_opaque = TrustClaim::HW_KEYS_ENCRYPTED_SECRETS;
        }
        _ => {
            tv.instance_identity = TrustClaim::UNTRUSTWORTHY_INSTANCE;
            tv.runtime_opaque = TrustClaim::VISIBLE_MEMORY_RUNTIME;
            tv.storage_opaque = TrustClaim::UNENCRYPTED_SECRETS;
        }
    }
    tv.configuration = if config_matches(&claims.config, &configs) {
        TrustClaim::APPROVED_CONFIG
    } else {
        TrustClaim::UNSAFE_CONFIG
    };
    tv.executables = if software_matches(&claims.sw_components, &components) {
        TrustClaim::APPROVED_RUNTIME
    } else {
        TrustClaim::UNRECOGNIZED_RUNTIME
    };
    appraisal.annotated_evidence = object(claims.annotated_evidence());
    appraisal.update_status_from_trust_vector();
    appraisal
}

/// Whether the reported configuration is an endorsed one. With nothing
/// endorsed, no configuration is.
fn config_matches(config: &[u8], references: &[&PlatformConfig]) -> bool {
    references.iter().any(|r| r.value == config)
}

/// Whether the evidence's software components match the reference values.
///
/// Each encoding brings its own rule, and both apply when a platform has
/// reference values from both; with none at all nothing is recognised.
pub(crate) fn software_matches(
    components: &[SwComponent],
    references: &[&SoftwareComponent],
) -> bool {
    let (current, legacy): (Vec<&SoftwareComponent>, Vec<&SoftwareComponent>) = references
        .iter()
        .copied()
        .partition(|r| r.rule == MatchRule::CcaComponent);
    if current.is_empty() && legacy.is_empty() {
        return false;
    }
    (current.is_empty() || components_are_endorsed(components, &current))
        && (legacy.is_empty() || references_are_present(components, &legacy))
}

/// `cca.software-component`: every evidence component's measurement value
/// must be an endorsed digest, with the endorsement's type and version when
/// it names them. The signer ID is not compared (Veraison's current profile
/// carries it as informative `cryptokeys`).
fn components_are_endorsed(components: &[SwComponent], references: &[&SoftwareComponent]) -> bool {
    if components.is_empty() {
        return false;
    }
    let mut by_digest: HashMap<&[u8], Vec<&SoftwareComponent>> = HashMap::new();
    for r in references {
        for d in &r.digests {
            by_digest.entry(d.value.as_slice()).or_default().push(r);
        }
    }
    components.iter().all(|c| {
        by_digest
            .get(c.measurement_value.as_bytes())
            .is_some_and(|candidates| {
                candidates.iter().any(|r| {
                    let type_ok = r
                        .name
                        .as_deref()
                        .is_none_or(|n| n.is_empty() || Some(n) == c.measurement_type.as_deref());
                    let version_ok = r
                        .version
                        .as_deref()
                        .is_none_or(|v| v.is_empty() || Some(v) == c.version.as_deref());
                    type_ok && version_ok
                })
            })
    })
}

/// `psa.refval-id`: every reference value must be present in the evidence,
/// with the same measurement value and type, and the same signer ID and
/// version when it names them.
fn references_are_present(components: &[SwComponent], references: &[&SoftwareComponent]) -> bool {
    references.iter().all(|r| {
        components.iter().any(|c| {
            let value_ok = r
                .digests
                .iter()
                .any(|d| d.value == c.measurement_value.as_bytes());
            let type_ok = r.name.as_deref() == c.measurement_type.as_deref();
            let signer_ok = r
                .signer_id
                .as_deref()
                .is_none_or(|s| s == c.signer_id.as_bytes());
            let version_ok = r
                .version
                .as_deref()
                .is_none_or(|v| Some(v) == c.version.as_deref());
            value_ok && type_ok && signer_ok && version_ok
        })
    })
}

/// Appraises verified realm claims against the realm reference values
/// stored under their RIM.
pub(crate) fn appraise_realm(claims: &RealmClaims, references: &[&RealmReference]) -> Appraisal {
    let mut appraisal = Appraisal::new();
    // The realm token verified with its RAK, and the RAK is the one the
    // platform token vouches for.
    appraisal.trust_vector.instance_identity = TrustClaim::TRUSTWORTHY_INSTANCE;
    appraisal.trust_vector.executables = realm_executables(claims, references);
    if appraisal.trust_vector.executables == TrustClaim::VERIFIER_MALFUNCTION {
        appraisal
            .trust_vector
            .set_all(TrustClaim::VERIFIER_MALFUNCTION);
        appraisal.set_problem(
            "realm reference values looked up by RIM carry another RIM: the endorsement store \
             is inconsistent",
        );
    }
    appraisal.annotated_evidence = object(claims.annotated_evidence());
    appraisal.update_status_from_trust_vector();
    appraisal
}

fn realm_executables(claims: &RealmClaims, references: &[&RealmReference]) -> TrustClaim {
    let rim = claims.initial_measurement.as_bytes();
    if references.iter().any(|r| r.rim != rim) {
        // They were looked up by this RIM: another one means the store is
        // broken, which Veraison reports as a verifier malfunction too.
        return TrustClaim::VERIFIER_MALFUNCTION;
    }
    let personalized: Vec<&&RealmReference> = references
        .iter()
        .filter(|r| {
            r.rpv
                .as_ref()
                .is_none_or(|rpv| rpv.0 == claims.personalization_value)
        })
        .collect();
    if personalized.is_empty() {
        return if references.is_empty() {
            TrustClaim::UNRECOGNIZED_RUNTIME
        } else {
            // The RIM is known, but only for realms personalized otherwise.
            TrustClaim::CONTRAINDICATED_RUNTIME
        };
    }
    if personalized.iter().any(|r| rems_match(claims, r)) {
        TrustClaim::APPROVED_RUNTIME
    } else {
        TrustClaim::APPROVED_BOOT
    }
}

/// Whether the realm's extensible measurements are endorsed: at least one
/// register is, and every endorsed register holds its reference value.
fn rems_match(claims: &RealmClaims, reference: &RealmReference) -> bool {
    let mut endorsed = 0_usize;
    for (expected, found) in reference.rems.iter().zip(&claims.extensible_measurements) {
        if let Some(expected) = expected {
            if expected.0 != found.as_bytes() {
                return false;
            }
            endorsed = endorsed.saturating_add(1);
        }
    }
    endorsed > 0
}
