//! Fleet status: each attester's last verdict, counts by scheme and status,
//! and the verdicts recorded per minute, reached through
//! [`crate::EndorsementStore::fleet_store`].
//!
//! Trust records verdicts off the hot path in batches
//! ([`FleetStore::record_verdicts`]); operators read the summary, a paged
//! list and the history. The summary must stay fast at a million attesters,
//! so it never counts `attesters`: every batch also keeps `fleet_counts`,
//! the number of attesters per (scheme, status, minute of last verdict),
//! whose rows number schemes × statuses × minutes, not attesters. Minutes
//! older than a day are merged into hours as batches go by (compaction), so
//! the table stays small however long a fleet runs; "not seen for N
//! minutes" is exact to the minute for N up to a day, and to the hour
//! beyond.
//!
//! A batch reads the rows it replaces to move their counts, so batches
//! take turns: on PostgreSQL they lock the one `fleet_meta` row
//! (`FOR UPDATE`) before reading, so any number of trust instances keep the
//! counts exact; on SQLite `BEGIN IMMEDIATE` does the same.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;

use crate::StoreError;
use crate::prepare::check_scheme;

/// The statuses a verdict may have: the EAR trust tiers, by name.
pub const FLEET_STATUSES: [&str; 4] = ["none", "affirming", "warning", "contraindicated"];

/// Longest attester id accepted, in bytes (base64url of a trust-anchor id
/// of up to [`crate::MAX_ID_LEN`] bytes).
pub const MAX_ATTESTER_ID_LEN: usize = crate::MAX_ID_LEN.div_ceil(3) * 4;

/// Longest trust-vector document accepted, in bytes.
pub const MAX_TRUST_VECTOR_LEN: usize = 8 * 1024;

/// Most attesters one page lists.
pub const MAX_ATTESTERS_PAGE: u32 = 1000;

/// Minutes of verdict history kept (30 days).
pub const HISTORY_MINUTES: i64 = 30 * 24 * 60;

/// Minutes after which last-verdict counts are kept by the hour.
pub const MINUTE_COUNTS_FOR: i64 = 24 * 60;

/// The latest verdict on one attester, as [`FleetStore::record_verdicts`]
/// takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetVerdict {
    /// Attestation scheme.
    pub scheme: String,
    /// The attester's id (base64url of its trust-anchor id).
    pub attester_id: String,
    /// One of [`FLEET_STATUSES`].
    pub status: String,
    /// The EAR's trust vectors by submod, JSON.
    pub trust_vector: String,
    /// When the verdict was reached (Unix microseconds).
    pub seen_us: i64,
    /// How many appraisals this verdict stands for (the recorder keeps the
    /// latest of several between batches), at least 1.
    pub appraisals: u64,
}

/// Verdicts reached in one minute for one scheme and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictCount {
    /// Minutes since the Unix epoch.
    pub minute: i64,
    /// Attestation scheme.
    pub scheme: String,
    /// One of [`FLEET_STATUSES`].
    pub status: String,
    /// How many.
    pub verdicts: u64,
}

/// What one [`FleetStore::record_verdicts`] call stores.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetBatch {
    /// The latest verdict per attester (one per scheme and attester id).
    pub attesters: Vec<FleetVerdict>,
    /// Every verdict reached, counted per minute.
    pub history: Vec<VerdictCount>,
}

/// One attester as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttesterRecord {
    /// Attestation scheme.
    pub scheme: String,
    /// The attester's id.
    pub attester_id: String,
    /// Status of its last verdict.
    pub status: String,
    /// Trust vectors of its last verdict, JSON.
    pub trust_vector: String,
    /// Its first recorded verdict (Unix microseconds).
    pub first_seen_us: i64,
    /// Its last verdict (Unix microseconds).
    pub last_seen_us: i64,
    /// Appraisals recorded for it.
    pub appraisals: u64,
}

/// Attesters of one scheme whose last verdict has one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    /// Attestation scheme.
    pub scheme: String,
    /// One of [`FLEET_STATUSES`].
    pub status: String,
    /// How many attesters.
    pub attesters: u64,
    /// How many of them were last seen before the summary's threshold.
    pub stale: u64,
}

/// Which attesters [`FleetStore::attesters`] lists, in (scheme, id) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttesterQuery {
    /// Only this scheme.
    pub scheme: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only ids starting with this (base64url characters).
    pub id_prefix: Option<String>,
    /// Only attesters last seen before this (Unix microseconds).
    pub seen_before_us: Option<i64>,
    /// Only attesters after this (scheme, id): the previous page's last.
    pub after: Option<(String, String)>,
    /// At most this many, 1 to [`MAX_ATTESTERS_PAGE`].
    pub limit: u32,
}

impl AttesterQuery {
    /// Every attester, `limit` at a time from the first.
    pub fn all(limit: u32) -> Self {
        AttesterQuery {
            scheme: None,
            status: None,
            id_prefix: None,
            seen_before_us: None,
            after: None,
            limit,
        }
    }
}

/// Fleet status, stored beside the endorsements.
#[async_trait]
pub trait FleetStore: Send + Sync + 'static {
    /// Stores a batch in one transaction: each attester's verdict replaces
    /// the stored one unless that one is later (a late batch never rolls an
    /// attester back), and the history counts are added. `now_us` decides
    /// which counts are old enough to keep by the hour.
    async fn record_verdicts(&self, batch: &FleetBatch, now_us: i64) -> Result<(), StoreError>;

    /// Attesters per scheme and status, with how many were last seen before
    /// minute `stale_before_minute` (minutes since the epoch), sorted by
    /// scheme and status name.
    async fn fleet_counts(&self, stale_before_minute: i64) -> Result<Vec<StatusCount>, StoreError>;

    /// A page of attesters.
    async fn attesters(&self, query: &AttesterQuery) -> Result<Vec<AttesterRecord>, StoreError>;

    /// Verdict counts from minute `since_minute` on, sorted by minute,
    /// scheme and status.
    async fn verdict_history(&self, since_minute: i64) -> Result<Vec<VerdictCount>, StoreError>;
}

/// Minutes since the Unix epoch of `unix_us`.
pub fn minute_of(unix_us: i64) -> i64 {
    unix_us.div_euclid(60_000_000)
}

/// The start of the hour holding `minute`.
fn hour_of(minute: i64) -> i64 {
    minute - minute.rem_euclid(60)
}

/// The `fleet_counts` bucket of an attester last seen in `minute`, given
/// that minutes before `compacted_before` are kept by the hour.
pub(crate) fn bucket(minute: i64, compacted_before: i64) -> i64 {
    if minute < compacted_before {
        hour_of(minute)
    } else {
        minute
    }
}

/// Where compaction should have reached at `now_us`: the hour boundary at
/// least [`MINUTE_COUNTS_FOR`] minutes back.
pub(crate) fn compaction_target(now_us: i64) -> i64 {
    hour_of(minute_of(now_us) - MINUTE_COUNTS_FOR)
}

fn invalid(detail: String) -> StoreError {
    StoreError::InvalidSubmission(detail)
}

fn check_status(status: &str) -> Result<(), StoreError> {
    if FLEET_STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(invalid(format!("unknown verdict status {status:?}")))
    }
}

/// Whether `text` is a usable attester id or id prefix: base64url
/// characters only (which also makes byte order the text's order).
pub fn is_attester_id(text: &str) -> bool {
    text.len() <= MAX_ATTESTER_ID_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks a batch against the store limits and returns its attesters with
/// one verdict per (scheme, id), the latest, sorted by key (the order rows
/// are locked and written in).
pub(crate) fn prepare_batch(batch: &FleetBatch) -> Result<Vec<&FleetVerdict>, StoreError> {
    let mut latest: BTreeMap<(&str, &str), &FleetVerdict> = BTreeMap::new();
    for verdict in &batch.attesters {
        check_scheme(&verdict.scheme)?;
        check_status(&verdict.status)?;
        if verdict.attester_id.is_empty() || !is_attester_id(&verdict.attester_id) {
            return Err(invalid(format!(
                "attester id must be 1 to {MAX_ATTESTER_ID_LEN} base64url characters"
            )));
        }
        if verdict.trust_vector.len() > MAX_TRUST_VECTOR_LEN {
            return Err(invalid(format!(
                "trust vector is over {MAX_TRUST_VECTOR_LEN} bytes"
            )));
        }
        if verdict.appraisals == 0 {
            return Err(invalid(
                "a verdict stands for at least one appraisal".into(),
            ));
        }
        let key = (verdict.scheme.as_str(), verdict.attester_id.as_str());
        match latest.get(&key) {
            Some(kept) if kept.seen_us >= verdict.seen_us => {}
            _ => {
                latest.insert(key, verdict);
            }
        }
    }
    for count in &batch.history {
        check_scheme(&count.scheme)?;
        check_status(&count.status)?;
    }
    Ok(latest.into_values().collect())
}

/// A stored attester's status and last verdict time, as a batch finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Previous {
    pub(crate) status: String,
    pub(crate) last_seen_us: i64,
}

/// What a batch changes, worked out from the rows it replaces.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan<'a> {
    /// Verdicts to write (new attesters, or later than the stored one).
    pub(crate) writes: Vec<&'a FleetVerdict>,
    /// Appraisals to add for attesters whose stored verdict is later.
    pub(crate) late: Vec<&'a FleetVerdict>,
    /// Changes to `fleet_counts`, by (scheme, status, bucket); no zeros.
    pub(crate) counts: BTreeMap<(String, String, i64), i64>,
}

/// Plans a batch of `verdicts` (from [`prepare_batch`]) given the stored
/// rows they replace, keyed by (scheme, id).
pub(crate) fn plan<'a>(
    verdicts: &[&'a FleetVerdict],
    previous: &HashMap<(String, String), Previous>,
    compacted_before: i64,
) -> Plan<'a> {
    let mut plan = Plan::default();
    for &verdict in verdicts {
        let key = (verdict.scheme.clone(), verdict.attester_id.clone());
        if let Some(old) = previous.get(&key) {
            if old.last_seen_us > verdict.seen_us {
                plan.late.push(verdict);
                continue;
            }
            let from = bucket(minute_of(old.last_seen_us), compacted_before);
            *plan
                .counts
                .entry((key.0.clone(), old.status.clone(), from))
                .or_default() -= 1;
        }
        let to = bucket(minute_of(verdict.seen_us), compacted_before);
        *plan
            .counts
            .entry((key.0, verdict.status.clone(), to))
            .or_default() += 1;
        plan.writes.push(verdict);
    }
    plan.counts.retain(|_, delta| *delta != 0);
    plan
}

/// History counts of a batch summed per (minute, scheme, status).
pub(crate) fn history_totals(batch: &FleetBatch) -> BTreeMap<(i64, &str, &str), u64> {
    let mut totals = BTreeMap::new();
    for count in &batch.history {
        *totals
            .entry((count.minute, count.scheme.as_str(), count.status.as_str()))
            .or_default() += count.verdicts;
    }
    totals
}

/// Checks a listing query.
pub(crate) fn check_query(query: &AttesterQuery) -> Result<(), StoreError> {
    if query.limit == 0 || query.limit > MAX_ATTESTERS_PAGE {
        return Err(invalid(format!(
            "a page lists 1 to {MAX_ATTESTERS_PAGE} attesters"
        )));
    }
    if let Some(status) = &query.status {
        check_status(status)?;
    }
    if let Some(prefix) = &query.id_prefix
        && !is_attester_id(prefix)
    {
        return Err(invalid(
            "an attester id prefix has base64url characters only".into(),
        ));
    }
    Ok(())
}

/// The first id after every id starting with `prefix` (base64url, so its
/// last byte is below `0x7f` and can be incremented).
pub(crate) fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(id: &str, status: &str, seen_us: i64) -> FleetVerdict {
        FleetVerdict {
            scheme: "PSA_IOT".into(),
            attester_id: id.into(),
            status: status.into(),
            trust_vector: "{}".into(),
            seen_us,
            appraisals: 1,
        }
    }

    const MINUTE: i64 = 60_000_000;

    #[test]
    fn a_batch_keeps_the_latest_verdict_per_attester_in_key_order() {
        let batch = FleetBatch {
            attesters: vec![
                verdict("b", "affirming", 5 * MINUTE),
                verdict("a", "warning", 2 * MINUTE),
                verdict("b", "contraindicated", 3 * MINUTE),
            ],
            history: vec![],
        };
        let kept = prepare_batch(&batch).unwrap();
        let kept: Vec<_> = kept
            .iter()
            .map(|v| (v.attester_id.as_str(), v.status.as_str()))
            .collect();
        assert_eq!(kept, [("a", "warning"), ("b", "affirming")]);
    }

    #[test]
    fn bad_batches_and_queries_are_refused() {
        for bad in [
            verdict("a", "great", 0),
            verdict("a/b", "none", 0),
            verdict("", "none", 0),
            FleetVerdict {
                appraisals: 0,
                ..verdict("a", "none", 0)
            },
            FleetVerdict {
                trust_vector: "x".repeat(MAX_TRUST_VECTOR_LEN + 1),
                ..verdict("a", "none", 0)
            },
        ] {
            let batch = FleetBatch {
                attesters: vec![bad.clone()],
                history: vec![],
            };
            assert!(
                matches!(prepare_batch(&batch), Err(StoreError::InvalidSubmission(_))),
                "{bad:?}"
            );
        }
        let query = AttesterQuery::all(10);
        check_query(&query).unwrap();
        for bad in [
            AttesterQuery {
                limit: 0,
                ..query.clone()
            },
            AttesterQuery {
                limit: MAX_ATTESTERS_PAGE + 1,
                ..query.clone()
            },
            AttesterQuery {
                status: Some("AFFIRMING".into()),
                ..query.clone()
            },
            AttesterQuery {
                id_prefix: Some("a%".into()),
                ..query.clone()
            },
        ] {
            assert!(check_query(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn plans_move_counts_between_buckets_and_skip_late_verdicts() {
        let moved = verdict("a", "warning", 10 * MINUTE);
        let new = verdict("b", "affirming", 10 * MINUTE + 5);
        let late = verdict("c", "contraindicated", 3 * MINUTE);
        let previous = HashMap::from([
            (
                ("PSA_IOT".to_owned(), "a".to_owned()),
                Previous {
                    status: "affirming".into(),
                    last_seen_us: 4 * MINUTE,
                },
            ),
            (
                ("PSA_IOT".to_owned(), "c".to_owned()),
                Previous {
                    status: "affirming".into(),
                    last_seen_us: 9 * MINUTE,
                },
            ),
        ]);
        let plan = plan(&[&moved, &new, &late], &previous, 0);
        assert_eq!(plan.writes, [&moved, &new]);
        assert_eq!(plan.late, [&late]);
        let counts: Vec<_> = plan
            .counts
            .iter()
            .map(|((_, status, minute), delta)| (status.as_str(), *minute, *delta))
            .collect();
        assert_eq!(
            counts,
            [
                ("affirming", 4, -1),
                ("affirming", 10, 1),
                ("warning", 10, 1)
            ]
        );
    }

    #[test]
    fn compacted_minutes_count_by_the_hour() {
        assert_eq!(bucket(125, 180), 120);
        assert_eq!(bucket(185, 180), 185);
        assert_eq!(bucket(-5, 0), -60);
        let day_and_a_half = 36 * 60 * MINUTE;
        assert_eq!(compaction_target(day_and_a_half + 7 * MINUTE), 12 * 60);
        // Moving an attester out of a compacted hour takes it from the hour.
        let previous = HashMap::from([(
            ("PSA_IOT".to_owned(), "a".to_owned()),
            Previous {
                status: "none".into(),
                last_seen_us: 125 * MINUTE,
            },
        )]);
        let again = verdict("a", "none", 200 * MINUTE);
        let plan = plan(&[&again], &previous, 180);
        assert_eq!(
            plan.counts.into_iter().collect::<Vec<_>>(),
            [
                (("PSA_IOT".into(), "none".into(), 120), -1),
                (("PSA_IOT".into(), "none".into(), 200), 1)
            ]
        );
    }

    #[test]
    fn prefixes_end_after_every_id_they_start() {
        assert_eq!(prefix_end("AQ"), b"AR");
        assert_eq!(prefix_end("a_"), b"a`");
        assert!(b"AQzzzz".as_slice() < prefix_end("AQ").as_slice());
        assert!(is_attester_id("AQID-_09"));
        assert!(!is_attester_id("AQ=="));
    }
}
