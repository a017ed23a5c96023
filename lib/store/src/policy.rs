//! Appraisal policies (Rego rules), stored beside the endorsements.
//!
//! Every scheme has any number of stored policies, at most one of them
//! active. Policies are immutable once stored: a change is a new policy
//! (with a new, store-assigned `version`) that is then activated.

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::prepare::check_scheme;

/// Largest accepted policy text, in bytes.
pub const MAX_POLICY_RULES_LEN: usize = 1024 * 1024;

/// Longest accepted policy name, in characters.
pub const MAX_POLICY_NAME_CHARS: usize = 100;

/// A stored appraisal policy (Rego rules) for one scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    /// UUID bytes, chosen by the caller.
    pub id: [u8; 16],
    /// Attestation scheme the policy applies to.
    pub scheme: String,
    /// Human-readable name.
    pub name: String,
    /// The Rego rules.
    pub rules: String,
    /// Whether this is the scheme's active policy (at most one is).
    pub active: bool,
    /// Creation time (unix microseconds), chosen by the caller.
    pub created_at_us: i64,
    /// Store-assigned, strictly increasing across the store (a sequence);
    /// lists are ordered by it.
    pub version: i64,
}

/// A policy to store with [`PolicyStore::add_policy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPolicy {
    /// UUID bytes, chosen by the caller.
    pub id: [u8; 16],
    /// Attestation scheme, at most [`crate::MAX_SCHEME_LEN`] bytes.
    pub scheme: String,
    /// Name, 1 to [`MAX_POLICY_NAME_CHARS`] characters.
    pub name: String,
    /// The Rego rules, 1 to [`MAX_POLICY_RULES_LEN`] bytes.
    pub rules: String,
    /// Creation time (unix microseconds).
    pub created_at_us: i64,
}

/// What [`PolicyStore::add_policy`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddPolicyOutcome {
    /// The policy was new and is now stored, inactive.
    Stored(PolicyRecord),
    /// A policy with the same scheme, name and rules was stored before; it is
    /// returned (with its own id, creation time and version) and nothing changed.
    AlreadyStored(PolicyRecord),
}

impl AddPolicyOutcome {
    /// The stored policy, new or not.
    pub fn record(&self) -> &PolicyRecord {
        match self {
            Self::Stored(record) | Self::AlreadyStored(record) => record,
        }
    }
}

/// Stored appraisal policies, reached through
/// [`crate::EndorsementStore::policy_store`].
///
/// Activation and deactivation that change something publish
/// [`crate::StoreChange::Policies`] on the change feed (on PostgreSQL, to
/// every instance).
#[async_trait]
pub trait PolicyStore: Send + Sync + 'static {
    /// Stores a new inactive policy. Idempotent on (scheme, name, SHA-256 of
    /// rules): when such a policy exists, nothing is stored and it is returned
    /// as [`AddPolicyOutcome::AlreadyStored`] (a retried create must not
    /// duplicate). An `id` already used by a different policy of the scheme
    /// is [`StoreError::InvalidSubmission`].
    async fn add_policy(&self, policy: &NewPolicy) -> Result<AddPolicyOutcome, StoreError>;

    /// Makes policy `id` of `scheme` the only active one, in one transaction
    /// (deactivating the others). `Ok(false)` when the scheme has no such
    /// policy (nothing changes). Activating the active one is `Ok(true)`, no
    /// change.
    async fn activate_policy(&self, scheme: &str, id: &[u8; 16]) -> Result<bool, StoreError>;

    /// Deactivates all policies of `scheme`. `Ok(false)` when the scheme has
    /// no policies at all.
    async fn deactivate_policies(&self, scheme: &str) -> Result<bool, StoreError>;

    /// The active policy of `scheme`, if any.
    async fn active_policy(&self, scheme: &str) -> Result<Option<PolicyRecord>, StoreError>;

    /// Policy `id` of `scheme`, if any.
    async fn policy(&self, scheme: &str, id: &[u8; 16])
    -> Result<Option<PolicyRecord>, StoreError>;

    /// All policies of the scheme ordered by version (oldest first).
    async fn policies(&self, scheme: &str) -> Result<Vec<PolicyRecord>, StoreError>;
}

/// Checks a new policy against the store limits and returns the SHA-256 of
/// its rules, the idempotency key (with scheme and name).
pub(crate) fn prepare_policy(policy: &NewPolicy) -> Result<[u8; 32], StoreError> {
    check_scheme(&policy.scheme)?;
    let name_chars = policy.name.chars().count();
    if name_chars == 0 || name_chars > MAX_POLICY_NAME_CHARS {
        return Err(StoreError::InvalidSubmission(format!(
            "policy name must be 1 to {MAX_POLICY_NAME_CHARS} characters, got {name_chars}"
        )));
    }
    if policy.rules.is_empty() || policy.rules.len() > MAX_POLICY_RULES_LEN {
        return Err(StoreError::InvalidSubmission(format!(
            "policy rules must be 1 to {MAX_POLICY_RULES_LEN} bytes, got {}",
            policy.rules.len()
        )));
    }
    Ok(Sha256::digest(policy.rules.as_bytes()).into())
}

/// The error for an `id` that a different policy of the scheme already uses.
pub(crate) fn id_in_use(policy: &NewPolicy) -> StoreError {
    StoreError::InvalidSubmission(format!(
        "policy id {} is already used by another policy of scheme {:?}",
        hex::encode(policy.id),
        policy.scheme
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> NewPolicy {
        NewPolicy {
            id: [1; 16],
            scheme: "PSA_IOT".into(),
            name: "default".into(),
            rules: "package policy\n".into(),
            created_at_us: 1,
        }
    }

    #[test]
    fn limits_are_enforced() {
        let cases = [
            NewPolicy {
                scheme: String::new(),
                ..policy()
            },
            NewPolicy {
                scheme: "x".repeat(crate::MAX_SCHEME_LEN + 1),
                ..policy()
            },
            NewPolicy {
                name: String::new(),
                ..policy()
            },
            NewPolicy {
                name: "é".repeat(MAX_POLICY_NAME_CHARS + 1),
                ..policy()
            },
            NewPolicy {
                rules: String::new(),
                ..policy()
            },
            NewPolicy {
                rules: "x".repeat(MAX_POLICY_RULES_LEN + 1),
                ..policy()
            },
        ];
        for case in &cases {
            assert!(
                matches!(prepare_policy(case), Err(StoreError::InvalidSubmission(_))),
                "{:?} {}",
                case.scheme.len(),
                case.name
            );
        }
        // Names are counted in characters: 100 two-byte characters fit.
        let at_limit = NewPolicy {
            name: "é".repeat(MAX_POLICY_NAME_CHARS),
            rules: "x".repeat(MAX_POLICY_RULES_LEN),
            ..policy()
        };
        assert!(prepare_policy(&at_limit).is_ok());
        assert_eq!(
            prepare_policy(&policy()).unwrap(),
            <[u8; 32]>::from(Sha256::digest(b"package policy\n"))
        );
    }
}
