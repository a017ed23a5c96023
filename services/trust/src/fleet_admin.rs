//! The fleet status as trust serves it to the management front end.

use vouch_store::AttesterQuery;
use vouch_store::fleet::minute_of;
use vouch_trust_api::{
    AttestationStatus, Attester, AttesterFilter, AttesterPage, FleetAdmin, FleetCount,
    FleetSummary, HistoryPoint, TrustError, VerdictHistory, check_filter, check_history_minutes,
    check_stale_minutes,
};

use crate::TrustService;
use crate::service::{input_or_store_error as fleet_store_error, now_micros as now_us};

const MINUTE_US: i64 = 60_000_000;

/// A status the store holds; only trust writes them, so anything else was
/// written by hand.
fn stored_status(name: &str) -> Result<AttestationStatus, TrustError> {
    AttestationStatus::parse(name)
        .ok_or_else(|| TrustError::Internal(format!("the fleet store holds status {name:?}")))
}

#[async_trait::async_trait]
impl FleetAdmin for TrustService {
    async fn fleet_summary(&self, stale_minutes: u32) -> Result<FleetSummary, TrustError> {
        check_stale_minutes(stale_minutes)?;
        let as_of_us = now_us();
        let counts = self
            .store
            .fleet_store()
            .fleet_counts(minute_of(as_of_us) - i64::from(stale_minutes))
            .await
            .map_err(|e| fleet_store_error("fleet summary", e))?;
        Ok(FleetSummary {
            as_of_us,
            stale_minutes,
            counts: counts
                .into_iter()
                .map(|c| {
                    Ok(FleetCount {
                        status: stored_status(&c.status)?,
                        scheme: c.scheme,
                        attesters: c.attesters,
                        stale: c.stale,
                    })
                })
                .collect::<Result<_, TrustError>>()?,
        })
    }

    async fn attesters(&self, filter: &AttesterFilter) -> Result<AttesterPage, TrustError> {
        check_filter(filter)?;
        let scheme = filter
            .scheme
            .as_deref()
            .map(|s| self.known_scheme(s).map(str::to_owned))
            .transpose()?;
        // One more than asked tells whether another page follows.
        let query = AttesterQuery {
            scheme,
            status: filter.status.map(|s| s.as_str().to_owned()),
            id_prefix: filter.id_prefix.clone(),
            seen_before_us: filter
                .stale_minutes
                .map(|m| now_us() - i64::from(m) * MINUTE_US),
            after: filter.after.clone(),
            limit: filter.limit + 1,
        };
        let mut records = self
            .store
            .fleet_store()
            .attesters(&query)
            .await
            .map_err(|e| fleet_store_error("attester listing", e))?;
        let more = records.len() > filter.limit as usize;
        records.truncate(filter.limit as usize);
        let next = more
            .then(|| records.last())
            .flatten()
            .map(|last| (last.scheme.clone(), last.attester_id.clone()));
        let attesters = records
            .into_iter()
            .map(|r| {
                Ok(Attester {
                    status: stored_status(&r.status)?,
                    trust_vector: serde_json::from_str(&r.trust_vector).map_err(|e| {
                        TrustError::Internal(format!("a stored trust vector is not JSON: {e}"))
                    })?,
                    scheme: r.scheme,
                    id: r.attester_id,
                    first_seen_us: r.first_seen_us,
                    last_seen_us: r.last_seen_us,
                    appraisals: r.appraisals,
                })
            })
            .collect::<Result<_, TrustError>>()?;
        Ok(AttesterPage { attesters, next })
    }

    async fn verdict_history(&self, minutes: u32) -> Result<VerdictHistory, TrustError> {
        check_history_minutes(minutes)?;
        let as_of_us = now_us();
        // The current minute is one of the `minutes`.
        let since = minute_of(as_of_us) - i64::from(minutes) + 1;
        let points = self
            .store
            .fleet_store()
            .verdict_history(since)
            .await
            .map_err(|e| fleet_store_error("verdict history", e))?;
        Ok(VerdictHistory {
            as_of_us,
            minutes,
            points: points
                .into_iter()
                .map(|p| {
                    Ok(HistoryPoint {
                        status: stored_status(&p.status)?,
                        minute: p.minute,
                        scheme: p.scheme,
                        verdicts: p.verdicts,
                    })
                })
                .collect::<Result<_, TrustError>>()?,
        })
    }
}
