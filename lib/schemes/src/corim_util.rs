//! CoRIM walking shared by the TPM schemes' endorsement readers (EnactTrust
//! and Parsec TPM).
//!
//! Both follow the same two sets of Veraison messages: `services@6b88102`
//! for CoRIMs whose profile is a tag-32 URI (the offending triple's position
//! appended) and `services@37fe51d5` `endorsement_handler.go` for legacy ones
//! whose profile is untagged text (which name the CoMID themselves). What
//! differs between the schemes is only how a triple is read, which each
//! scheme's module keeps.

use vouch_corim::{Comid, ConciseTag, Corim, Profile, Triples};

use crate::{EndorsementError, Endorsements};

/// Which of Veraison's message sets applies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// Profile as a tag-32 URI (Veraison HEAD).
    Current,
    /// Profile as untagged text (Veraison's KV-store era).
    Legacy,
}

impl Encoding {
    /// Picks the message set from the CoRIM's own profile, which must be
    /// `profile` (the media type's); also refuses a CoRIM without tag 501
    /// whatever its profile (Veraison's decoder requires it too, before
    /// looking at anything else).
    pub(crate) fn of(corim: &Corim, profile: &str) -> Result<Self, EndorsementError> {
        if !corim.was_tagged {
            return Err(EndorsementError::new("did not see unsigned CoRIM tag"));
        }
        match &corim.profile {
            Some(Profile::Uri(p)) if p == profile => Ok(Self::Current),
            Some(Profile::Text(p)) if p == profile => Ok(Self::Legacy),
            Some(other) => Err(EndorsementError::new(format!(
                "CoRIM profile {:?} does not match the media type profile {profile:?}",
                other.as_text().unwrap_or_default()
            ))),
            None => Err(EndorsementError::new(format!(
                "CoRIM declares no profile; expected {profile:?}"
            ))),
        }
    }

    /// The error for attest-key triple `triple` of CoMID `comid`: legacy
    /// messages name the CoMID ("bad key in CoMID at index 0: …"), current
    /// ones get the triple's position appended.
    pub(crate) fn key_error(
        self,
        message: String,
        comid: usize,
        triple: usize,
    ) -> EndorsementError {
        match self {
            Self::Current => at(message, comid, "attest-key triple", triple),
            Self::Legacy => {
                EndorsementError::new(format!("bad key in CoMID at index {comid}: {message}"))
            }
        }
    }

    /// The error for reference triple `triple` of CoMID `comid`, worded as
    /// [`Encoding::key_error`].
    pub(crate) fn rv_error(self, message: String, comid: usize, triple: usize) -> EndorsementError {
        match self {
            Self::Current => at(message, comid, "reference triple", triple),
            Self::Legacy => EndorsementError::new(format!(
                "bad software component in CoMID at index {comid}: {message}"
            )),
        }
    }
}

/// Where a current-encoding message points.
fn at(message: String, comid: usize, what: &str, index: usize) -> EndorsementError {
    EndorsementError::new(format!("{message} (CoMID {comid}, {what} {index})"))
}

/// Which kind of triple an environment belongs to (for legacy wording).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Key,
    Reference,
}

/// Runs `each` over every CoMID of the CoRIM (with its position among the
/// tags), collecting into endorsements that expire with the CoRIM, and
/// refuses a CoRIM that yields none of `scheme`'s endorsements.
pub(crate) fn collect_comids(
    corim: &Corim,
    scheme: &str,
    mut each: impl FnMut(&Comid, usize, &mut Endorsements) -> Result<(), EndorsementError>,
) -> Result<Endorsements, EndorsementError> {
    let mut out = Endorsements {
        not_after: corim.validity.as_ref().map(|v| v.not_after),
        ..Endorsements::default()
    };
    for (c, tag) in corim.tags.iter().enumerate() {
        let ConciseTag::Comid(comid) = tag else {
            continue;
        };
        each(comid, c, &mut out)?;
    }
    if out.trust_anchors.is_empty() && out.reference_values.is_empty() {
        return Err(EndorsementError::new(format!(
            "CoRIM carries no {scheme} endorsements (no attest-key or reference-value triples)"
        )));
    }
    Ok(out)
}

/// Refuses identity, endorsed-value and other triples in CoMID `comid`:
/// each would change what the endorsement applies to in ways a scheme that
/// `takes` only attest-key and reference triples cannot honour.
pub(crate) fn reject_other_triples(
    triples: &Triples,
    comid: usize,
    scheme: &str,
    takes: &str,
) -> Result<(), EndorsementError> {
    let unsupported = [
        (!triples.identity_triples.is_empty(), "identity"),
        (!triples.endorsed_triples.is_empty(), "endorsed-value"),
    ];
    if let Some((_, kind)) = unsupported.iter().find(|(present, _)| *present) {
        return Err(EndorsementError::new(format!(
            "found {kind} triples, which the {scheme} scheme does not support: it takes \
             {takes} (CoMID {comid})"
        )));
    }
    if let Some(other) = triples.other.first() {
        return Err(EndorsementError::new(format!(
            "found triples of kind {}, which the {scheme} scheme does not support (CoMID {comid})",
            other.key
        )));
    }
    Ok(())
}
