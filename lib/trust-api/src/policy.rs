//! Appraisal policies as the management API sees them.
//!
//! Policies are Rego rules, stored per attestation scheme. At most one
//! policy per scheme is active; the trust service applies it to every
//! appraisal of that scheme. The management front end reaches the trust
//! service through [`PolicyAdmin`], in-process or over gRPC.

use crate::TrustError;

/// The only policy type there is: Rego, evaluated the way Veraison's OPA
/// back end does (`"type": "opa"` in the policy JSON).
pub const POLICY_TYPE_OPA: &str = "opa";

/// The name a policy gets when the creator gives none (Veraison's default).
pub const DEFAULT_POLICY_NAME: &str = "default";

/// Longest policy name accepted.
pub const MAX_POLICY_NAME_LEN: usize = 100;

/// A policy identifier: a UUID, parsed from its hyphenated text form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PolicyId(uuid::Uuid);

impl PolicyId {
    /// The id from its sixteen bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        PolicyId(uuid::Uuid::from_bytes(bytes))
    }

    /// The sixteen bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// A fresh random (version 4) id.
    pub fn random() -> Self {
        PolicyId(uuid::Uuid::new_v4())
    }

    /// Parses the hyphenated form (`8-4-4-4-12` hex digits, either case),
    /// the only one the management API's paths carry.
    pub fn parse(text: &str) -> Option<Self> {
        // 36 characters is the hyphenated form alone among those `uuid` reads.
        (text.len() == 36)
            .then(|| uuid::Uuid::try_parse(text).ok())
            .flatten()
            .map(PolicyId)
    }
}

impl std::fmt::Display for PolicyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// A policy name: 1 to [`MAX_POLICY_NAME_LEN`] printable characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyName(String);

impl PolicyName {
    /// Checks a name: not empty, not too long, no control characters.
    pub fn parse(name: &str) -> Result<Self, TrustError> {
        if name.is_empty() {
            return Err(TrustError::InvalidInput("empty policy name".to_owned()));
        }
        if name.chars().count() > MAX_POLICY_NAME_LEN {
            return Err(TrustError::InvalidInput(format!(
                "policy name longer than {MAX_POLICY_NAME_LEN} characters"
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(TrustError::InvalidInput(
                "policy name contains control characters".to_owned(),
            ));
        }
        Ok(PolicyName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for PolicyName {
    fn default() -> Self {
        PolicyName(DEFAULT_POLICY_NAME.to_owned())
    }
}

/// A stored policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Its identifier.
    pub id: PolicyId,
    /// The attestation scheme it applies to, e.g. `PSA_IOT`.
    pub scheme: String,
    /// The name its creator gave (not unique).
    pub name: String,
    /// The Rego rules, verbatim.
    pub rules: String,
    /// Whether it is the scheme's active policy.
    pub active: bool,
    /// When it was created, in microseconds since the Unix epoch.
    pub created_at_us: i64,
    /// Its place in the order policies were stored (higher is newer).
    pub version: i64,
}

impl Policy {
    /// Veraison's policy JSON: `uuid`, `ctime` (RFC 3339), `name`, `type`,
    /// `rules`, `active`, in that order.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "uuid": self.id.to_string(),
            "ctime": rfc3339_micros(self.created_at_us),
            "name": self.name,
            "type": POLICY_TYPE_OPA,
            "rules": self.rules,
            "active": self.active,
        })
    }
}

/// RFC 3339 in UTC with microseconds, which every client parses (Python's
/// `datetime.fromisoformat` included, which Veraison's tests use).
fn rfc3339_micros(us: i64) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_else(|| us.to_string())
}

/// What creating a policy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedPolicy {
    /// The stored policy.
    pub policy: Policy,
    /// False when the same scheme, name and rules were stored before and
    /// that policy is returned instead of a duplicate (a retried create).
    pub created: bool,
}

/// Policy management, as the management front end calls it.
///
/// Errors: an unknown scheme is [`TrustError::InvalidInput`]
/// (`unrecognised scheme "X"`), rules that do not compile are
/// [`TrustError::InvalidInput`] (`invalid policy: …`) and nothing is stored,
/// a missing policy is [`TrustError::NotFound`].
#[async_trait::async_trait]
pub trait PolicyAdmin: Send + Sync + 'static {
    /// The schemes policies can be written for.
    async fn policy_schemes(&self) -> Result<Vec<String>, TrustError>;

    /// Compiles and stores a new, inactive policy. Idempotent on
    /// (scheme, name, rules).
    async fn create_policy(
        &self,
        scheme: &str,
        name: &PolicyName,
        rules: &str,
    ) -> Result<CreatedPolicy, TrustError>;

    /// Makes `id` the scheme's one active policy.
    async fn activate_policy(&self, scheme: &str, id: PolicyId) -> Result<(), TrustError>;

    /// The scheme's active policy.
    async fn active_policy(&self, scheme: &str) -> Result<Policy, TrustError>;

    /// One policy of the scheme.
    async fn policy(&self, scheme: &str, id: PolicyId) -> Result<Policy, TrustError>;

    /// The scheme's policies, oldest first, optionally only those named
    /// `name`. `NotFound` when the scheme has none at all.
    async fn policies(
        &self,
        scheme: &str,
        name: Option<&PolicyName>,
    ) -> Result<Vec<Policy>, TrustError>;

    /// Deactivates every policy of the scheme (appraisal falls back to the
    /// scheme's built-in rules). `NotFound` when the scheme has none.
    async fn deactivate_policies(&self, scheme: &str) -> Result<(), TrustError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_ids_round_trip_and_reject_malformed_text() {
        let id = PolicyId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "4", "version 4");
        assert_eq!(PolicyId::parse(&text), Some(id));
        assert_eq!(PolicyId::parse(&text.to_uppercase()), Some(id));
        for bad in [
            "",
            "1111-2222-3333",
            "6ba7b810-9dad-11d1-80b4-00c04fd430c",
            "6ba7b810-9dad-11d1-80b4-00c04fd430c8a",
            "6ba7b810x9dad-11d1-80b4-00c04fd430c8",
            "6ba7b810-9dad-11d1-80b4-00c04fd430cg",
            "+ba7b810-9dad-11d1-80b4-00c04fd430c8",
        ] {
            assert_eq!(PolicyId::parse(bad), None, "{bad}");
        }
        let known = PolicyId::parse("6BA7B810-9dad-11d1-80b4-00c04fd430c8");
        assert_eq!(
            known.map(|k| k.to_string()).as_deref(),
            Some("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
        );
    }

    #[test]
    fn policy_json_has_veraisons_fields_in_order() {
        let policy = Policy {
            id: PolicyId::from_bytes([0xab; 16]),
            scheme: "PSA_IOT".to_owned(),
            name: "default".to_owned(),
            rules: "package policy\n".to_owned(),
            active: true,
            created_at_us: 1_764_892_800_123_456,
            version: 3,
        };
        let json = policy.to_json();
        let keys: Vec<&str> = json
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, ["uuid", "ctime", "name", "type", "rules", "active"]);
        assert_eq!(json["ctime"], "2025-12-05T00:00:00.123456Z");
        assert_eq!(json["uuid"], "abababab-abab-abab-abab-abababababab");
        assert_eq!(rfc3339_micros(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339_micros(951_782_400_000_001),
            "2000-02-29T00:00:00.000001Z"
        );
    }

    #[test]
    fn policy_names_are_checked() {
        assert!(PolicyName::parse("default").is_ok());
        assert!(PolicyName::parse("").is_err());
        assert!(PolicyName::parse("a\nb").is_err());
        assert!(PolicyName::parse(&"x".repeat(MAX_POLICY_NAME_LEN + 1)).is_err());
        assert_eq!(PolicyName::default().as_str(), "default");
    }
}
