//! Software-component matching, with the semantics of each CoRIM encoding.

use std::collections::HashMap;

use vouch_psa_token::SwComponent;

use super::{MatchRule, Measurement};
use crate::BadEvidence;

/// Whether the evidence's software components match the reference values.
///
/// Each encoding brings its own rule, and both apply when a device has
/// reference values from both. With no reference values at all nothing is
/// recognised. A component without a type or version is bad evidence under
/// the current rule, exactly as Veraison's PSA scheme reports it.
pub(super) fn software_matches(
    components: &[SwComponent],
    reference_values: &[&Measurement],
) -> Result<bool, BadEvidence> {
    let current: Vec<&Measurement> = reference_values
        .iter()
        .copied()
        .filter(|m| m.rule == MatchRule::PsaComponent)
        .collect();
    let legacy: Vec<&Measurement> = reference_values
        .iter()
        .copied()
        .filter(|m| m.rule == MatchRule::PsaRefValId)
        .collect();
    if current.is_empty() && legacy.is_empty() {
        return Ok(false);
    }
    if !current.is_empty() && !components_are_endorsed(components, &current)? {
        return Ok(false);
    }
    if !legacy.is_empty() && !reference_values_are_present(components, &legacy) {
        return Ok(false);
    }
    Ok(true)
}

/// `tag:arm.com,2025:psa#1.0.0`: every evidence component's measurement must
/// be a reference digest, with the same type and version when the reference
/// value names them.
fn components_are_endorsed(
    components: &[SwComponent],
    reference_values: &[&Measurement],
) -> Result<bool, BadEvidence> {
    if components.is_empty() {
        // Nothing measured, nothing to approve.
        return Ok(false);
    }
    let mut by_digest: HashMap<&[u8], (&str, &str)> = HashMap::new();
    for rv in reference_values {
        for digest in &rv.digests {
            by_digest.insert(
                digest.value.as_slice(),
                (
                    rv.name.as_deref().unwrap_or(""),
                    rv.version.as_deref().unwrap_or(""),
                ),
            );
        }
    }
    for (i, component) in components.iter().enumerate() {
        let mtype = component.measurement_type.as_deref().ok_or_else(|| {
            BadEvidence::new(format!("S/W comp. {i} type: missing optional field"))
        })?;
        let version = component.version.as_deref().ok_or_else(|| {
            BadEvidence::new(format!("S/W comp. {i} version: missing optional field"))
        })?;
        let Some((rv_type, rv_version)) = by_digest.get(component.measurement_value.as_slice())
        else {
            return Ok(false);
        };
        let type_ok = rv_type.is_empty() || *rv_type == mtype;
        let version_ok = rv_version.is_empty() || *rv_version == version;
        if !type_ok || !version_ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `http://arm.com/psa/iot/1`: every reference value must be present in the
/// evidence (same measurement value and type), with the same signer id and
/// version when the reference value names them.
fn reference_values_are_present(
    components: &[SwComponent],
    reference_values: &[&Measurement],
) -> bool {
    let mut by_value_and_type: HashMap<(&[u8], &str), &SwComponent> = HashMap::new();
    for component in components {
        let Some(mtype) = component.measurement_type.as_deref() else {
            return false;
        };
        by_value_and_type.insert((component.measurement_value.as_slice(), mtype), component);
    }
    reference_values.iter().all(|rv| {
        let name = rv.name.as_deref().unwrap_or("");
        rv.digests.iter().any(|digest| {
            let Some(component) = by_value_and_type.get(&(digest.value.as_slice(), name)) else {
                return false;
            };
            let signer_ok = rv
                .signer_id
                .as_ref()
                .is_none_or(|s| *s == component.signer_id);
            let version_ok = rv
                .version
                .as_deref()
                .is_none_or(|v| Some(v) == component.version.as_deref());
            signer_ok && version_ok
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(components: &[SwComponent], rvs: &[Measurement]) -> Result<bool, BadEvidence> {
        software_matches(components, &rvs.iter().collect::<Vec<_>>())
    }
    use super::super::Digest;

    fn component(mtype: Option<&str>, value: u8, version: Option<&str>) -> SwComponent {
        SwComponent {
            measurement_type: mtype.map(str::to_owned),
            measurement_value: vec![value; 32],
            version: version.map(str::to_owned),
            signer_id: vec![0xAA; 32],
            measurement_desc: None,
        }
    }

    fn rv(rule: MatchRule, name: Option<&str>, value: u8, version: Option<&str>) -> Measurement {
        Measurement {
            rule,
            name: name.map(str::to_owned),
            version: version.map(str::to_owned),
            signer_id: Some(vec![0xAA; 32]),
            digests: vec![Digest {
                alg: 1,
                value: vec![value; 32],
            }],
        }
    }

    #[test]
    fn current_rule_needs_every_component_endorsed() {
        let rvs = [
            rv(MatchRule::PsaComponent, Some("BL"), 1, None),
            rv(MatchRule::PsaComponent, Some("PRoT"), 2, None),
        ];
        let good = [
            component(Some("BL"), 1, Some("1.0")),
            component(Some("PRoT"), 2, Some("2.0")),
        ];
        assert_eq!(matches(&good, &rvs), Ok(true));
        let unknown = [
            component(Some("BL"), 1, Some("1.0")),
            component(Some("PRoT"), 3, Some("2.0")),
        ];
        assert_eq!(matches(&unknown, &rvs), Ok(false));
        let wrong_type = [component(Some("PRoT"), 1, Some("1.0"))];
        assert_eq!(matches(&wrong_type, &rvs), Ok(false));
        // A subset of the reference values is fine under the current rule.
        assert_eq!(matches(&good[..1], &rvs), Ok(true));
    }

    #[test]
    fn current_rule_reports_missing_version_as_bad_evidence() {
        let rvs = [rv(MatchRule::PsaComponent, Some("BL"), 1, None)];
        assert_eq!(
            matches(&[component(Some("BL"), 1, None)], &rvs),
            Err(BadEvidence::new(
                "S/W comp. 0 version: missing optional field"
            ))
        );
    }

    #[test]
    fn legacy_rule_needs_every_reference_value_present() {
        let rvs = [
            rv(MatchRule::PsaRefValId, Some("BL"), 1, Some("2.1.0")),
            rv(MatchRule::PsaRefValId, Some("PRoT"), 2, Some("1.3.5")),
        ];
        let good = [
            component(Some("BL"), 1, Some("2.1.0")),
            component(Some("PRoT"), 2, Some("1.3.5")),
            component(Some("ARoT"), 3, Some("0.1.4")),
        ];
        assert_eq!(matches(&good, &rvs), Ok(true));
        assert_eq!(matches(&good[..1], &rvs), Ok(false));
        // Missing evidence version against a versioned reference value.
        let no_version = [
            component(Some("BL"), 1, None),
            component(Some("PRoT"), 2, None),
        ];
        assert_eq!(matches(&no_version, &rvs), Ok(false));
        // A reference value without a type never matches a typed component.
        let untyped = [rv(MatchRule::PsaRefValId, None, 1, None)];
        assert_eq!(matches(&good, &untyped), Ok(false));
    }

    #[test]
    fn nothing_to_compare_is_not_a_match() {
        assert_eq!(
            matches(&[component(Some("BL"), 1, Some("1"))], &[]),
            Ok(false)
        );
    }
}
