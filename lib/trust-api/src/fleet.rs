//! The fleet status as the management front end reads it from trust.

use crate::{AttestationStatus, TrustError};

/// Most attesters one page lists.
pub const MAX_ATTESTERS_PAGE: u32 = 1000;

/// Longest "not seen for" threshold, in minutes (a year).
pub const MAX_STALE_MINUTES: u32 = 525_600;

/// Longest history, in minutes (30 days, what the store keeps).
pub const MAX_HISTORY_MINUTES: u32 = 43_200;

/// Attesters of one scheme whose last verdict has one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetCount {
    /// Attestation scheme.
    pub scheme: String,
    /// Status of their last verdict.
    pub status: AttestationStatus,
    /// How many.
    pub attesters: u64,
    /// How many of them were not seen for the summary's threshold.
    pub stale: u64,
}

/// The fleet at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSummary {
    /// When trust read it (Unix microseconds).
    pub as_of_us: i64,
    /// The "not seen for" threshold, in minutes.
    pub stale_minutes: u32,
    /// Counts by scheme and status, sorted by scheme.
    pub counts: Vec<FleetCount>,
}

/// One attester and its last verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Attester {
    /// Attestation scheme.
    pub scheme: String,
    /// base64url of its trust-anchor id.
    pub id: String,
    /// Status of its last verdict.
    pub status: AttestationStatus,
    /// The last EAR's trust vectors by submod.
    pub trust_vector: serde_json::Value,
    /// First verdict recorded (Unix microseconds).
    pub first_seen_us: i64,
    /// Last verdict (Unix microseconds).
    pub last_seen_us: i64,
    /// Appraisals recorded.
    pub appraisals: u64,
}

/// Which attesters to list, in (scheme, id) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttesterFilter {
    /// Only this scheme.
    pub scheme: Option<String>,
    /// Only this status.
    pub status: Option<AttestationStatus>,
    /// Only ids starting with this.
    pub id_prefix: Option<String>,
    /// Only attesters not seen for this many minutes.
    pub stale_minutes: Option<u32>,
    /// Only attesters after this (scheme, id).
    pub after: Option<(String, String)>,
    /// At most this many, 1 to [`MAX_ATTESTERS_PAGE`].
    pub limit: u32,
}

/// A page of attesters.
#[derive(Debug, Clone, PartialEq)]
pub struct AttesterPage {
    /// The attesters.
    pub attesters: Vec<Attester>,
    /// Where the next page starts, when there is one.
    pub next: Option<(String, String)>,
}

/// Verdicts reached in one minute for one scheme and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPoint {
    /// Minutes since the Unix epoch.
    pub minute: i64,
    /// Attestation scheme.
    pub scheme: String,
    /// Status of the verdicts.
    pub status: AttestationStatus,
    /// How many.
    pub verdicts: u64,
}

/// Verdicts over time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictHistory {
    /// When trust read it (Unix microseconds).
    pub as_of_us: i64,
    /// The minutes it covers, up to `as_of_us`.
    pub minutes: u32,
    /// Minutes with verdicts, sorted by minute, scheme and status.
    pub points: Vec<HistoryPoint>,
}

/// The fleet status: what trust recorded of each attester's verdicts.
///
/// Errors: out-of-range arguments and unknown schemes are
/// [`TrustError::InvalidInput`].
#[async_trait::async_trait]
pub trait FleetAdmin: Send + Sync + 'static {
    /// Counts by scheme and status, with those not seen for
    /// `stale_minutes` (1 to [`MAX_STALE_MINUTES`]).
    async fn fleet_summary(&self, stale_minutes: u32) -> Result<FleetSummary, TrustError>;

    /// A page of attesters.
    async fn attesters(&self, filter: &AttesterFilter) -> Result<AttesterPage, TrustError>;

    /// Verdicts per minute over the last `minutes` (1 to
    /// [`MAX_HISTORY_MINUTES`]).
    async fn verdict_history(&self, minutes: u32) -> Result<VerdictHistory, TrustError>;
}

/// Checks the arguments every implementation takes, so that the in-process
/// trust and the gRPC server refuse the same things with the same words.
pub fn check_filter(filter: &AttesterFilter) -> Result<(), TrustError> {
    if !(1..=MAX_ATTESTERS_PAGE).contains(&filter.limit) {
        return Err(TrustError::InvalidInput(format!(
            "limit must be 1 to {MAX_ATTESTERS_PAGE}"
        )));
    }
    if let Some(minutes) = filter.stale_minutes {
        check_stale_minutes(minutes)?;
    }
    if let Some(prefix) = &filter.id_prefix
        && !is_id_text(prefix)
    {
        return Err(TrustError::InvalidInput(
            "an attester id prefix is base64url text (A-Z, a-z, 0-9, - and _)".to_owned(),
        ));
    }
    if let Some((_, id)) = &filter.after
        && !is_id_text(id)
    {
        return Err(TrustError::InvalidInput("malformed cursor".to_owned()));
    }
    Ok(())
}

/// Checks a "not seen for" threshold.
pub fn check_stale_minutes(minutes: u32) -> Result<(), TrustError> {
    if (1..=MAX_STALE_MINUTES).contains(&minutes) {
        Ok(())
    } else {
        Err(TrustError::InvalidInput(format!(
            "stale_minutes must be 1 to {MAX_STALE_MINUTES}"
        )))
    }
}

/// Checks a history length.
pub fn check_history_minutes(minutes: u32) -> Result<(), TrustError> {
    if (1..=MAX_HISTORY_MINUTES).contains(&minutes) {
        Ok(())
    } else {
        Err(TrustError::InvalidInput(format!(
            "minutes must be 1 to {MAX_HISTORY_MINUTES}"
        )))
    }
}

/// RFC 3339 in UTC to the second (`2026-12-06T22:40:05Z`), as the fleet
/// status shows times.
pub fn rfc3339_seconds(unix_us: i64) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(unix_us.div_euclid(1_000_000))
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_else(|| unix_us.to_string())
}

/// Whether `text` could be (the start of) an attester id: base64url text
/// of at most 200 characters.
fn is_id_text(text: &str) -> bool {
    text.len() <= 200
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> AttesterFilter {
        AttesterFilter {
            scheme: None,
            status: None,
            id_prefix: None,
            stale_minutes: None,
            after: None,
            limit: 100,
        }
    }

    #[test]
    fn filters_out_of_range_are_refused_with_the_reason() {
        assert!(check_filter(&filter()).is_ok());
        for (bad, reason) in [
            (
                AttesterFilter {
                    limit: 0,
                    ..filter()
                },
                "limit",
            ),
            (
                AttesterFilter {
                    limit: 1001,
                    ..filter()
                },
                "limit",
            ),
            (
                AttesterFilter {
                    stale_minutes: Some(0),
                    ..filter()
                },
                "stale_minutes",
            ),
            (
                AttesterFilter {
                    id_prefix: Some("AQ==".into()),
                    ..filter()
                },
                "prefix",
            ),
            (
                AttesterFilter {
                    after: Some(("PSA_IOT".into(), "a b".into())),
                    ..filter()
                },
                "cursor",
            ),
        ] {
            let error = check_filter(&bad).unwrap_err().to_string();
            assert!(error.contains(reason), "{error}");
        }
        assert!(check_history_minutes(43_201).is_err());
        assert!(check_history_minutes(60).is_ok());
        assert!(check_stale_minutes(525_601).is_err());
    }

    #[test]
    fn times_show_to_the_second_in_utc() {
        assert_eq!(
            rfc3339_seconds(1_796_083_200_999_999),
            "2026-12-01T00:00:00Z"
        );
        assert_eq!(rfc3339_seconds(-1), "1969-12-31T23:59:59Z");
    }
}
