//! The fleet status over gRPC: [`FleetAdmin`] for [`GrpcTrust`], and the
//! message conversions the trust server uses too.

use vouch_proto::trust as pb;

use crate::fleet::{
    Attester, AttesterFilter, AttesterPage, FleetAdmin, FleetCount, FleetSummary, HistoryPoint,
    VerdictHistory, check_filter, check_history_minutes, check_stale_minutes,
};
use crate::{AttestationStatus, GrpcTrust, TrustError};

/// Parses a status name. Whose fault a bad one is depends on who sent it:
/// a client (invalid input) or trust (internal).
fn status(name: &str, fault: fn(String) -> TrustError) -> Result<AttestationStatus, TrustError> {
    AttestationStatus::parse(name).ok_or_else(|| {
        fault(format!(
            "unknown status {name:?}: one of none, affirming, warning, contraindicated"
        ))
    })
}

fn from_trust(message: String) -> TrustError {
    TrustError::Internal(format!("trust sent {message}"))
}

fn key_message((scheme, id): &(String, String)) -> pb::AttesterKey {
    pb::AttesterKey {
        scheme: scheme.clone(),
        id: id.clone(),
    }
}

fn key_of(key: pb::AttesterKey) -> (String, String) {
    (key.scheme, key.id)
}

/// A summary as trust sends it.
pub fn fleet_summary_to_message(summary: &FleetSummary) -> pb::FleetSummary {
    pb::FleetSummary {
        as_of_us: summary.as_of_us,
        stale_minutes: summary.stale_minutes,
        counts: summary
            .counts
            .iter()
            .map(|c| pb::FleetCount {
                scheme: c.scheme.clone(),
                status: c.status.as_str().to_owned(),
                attesters: c.attesters,
                stale: c.stale,
            })
            .collect(),
    }
}

/// A summary as the front end reads it.
pub fn fleet_summary_from_message(message: pb::FleetSummary) -> Result<FleetSummary, TrustError> {
    Ok(FleetSummary {
        as_of_us: message.as_of_us,
        stale_minutes: message.stale_minutes,
        counts: message
            .counts
            .into_iter()
            .map(|c| {
                Ok(FleetCount {
                    status: status(&c.status, from_trust)?,
                    scheme: c.scheme,
                    attesters: c.attesters,
                    stale: c.stale,
                })
            })
            .collect::<Result<_, TrustError>>()?,
    })
}

/// A listing request as the front end sends it.
pub fn attester_filter_to_message(filter: &AttesterFilter) -> pb::ListAttestersRequest {
    pb::ListAttestersRequest {
        scheme: filter.scheme.clone(),
        status: filter.status.map(|s| s.as_str().to_owned()),
        id_prefix: filter.id_prefix.clone(),
        stale_minutes: filter.stale_minutes,
        after: filter.after.as_ref().map(key_message),
        limit: filter.limit,
    }
}

/// A listing request as trust reads it; a bad status is the caller's.
pub fn attester_filter_from_message(
    message: pb::ListAttestersRequest,
) -> Result<AttesterFilter, TrustError> {
    Ok(AttesterFilter {
        scheme: message.scheme,
        status: message
            .status
            .as_deref()
            .map(|s| status(s, TrustError::InvalidInput))
            .transpose()?,
        id_prefix: message.id_prefix,
        stale_minutes: message.stale_minutes,
        after: message.after.map(key_of),
        limit: message.limit,
    })
}

/// A page as trust sends it.
pub fn attester_page_to_message(page: &AttesterPage) -> pb::AttesterList {
    pb::AttesterList {
        attesters: page
            .attesters
            .iter()
            .map(|a| pb::AttesterMessage {
                scheme: a.scheme.clone(),
                id: a.id.clone(),
                status: a.status.as_str().to_owned(),
                trust_vector: a.trust_vector.to_string(),
                first_seen_us: a.first_seen_us,
                last_seen_us: a.last_seen_us,
                appraisals: a.appraisals,
            })
            .collect(),
        next: page.next.as_ref().map(key_message),
    }
}

/// A page as the front end reads it.
pub fn attester_page_from_message(message: pb::AttesterList) -> Result<AttesterPage, TrustError> {
    Ok(AttesterPage {
        attesters: message
            .attesters
            .into_iter()
            .map(|a| {
                Ok(Attester {
                    status: status(&a.status, from_trust)?,
                    trust_vector: serde_json::from_str(&a.trust_vector)
                        .map_err(|e| from_trust(format!("a trust vector that is not JSON: {e}")))?,
                    scheme: a.scheme,
                    id: a.id,
                    first_seen_us: a.first_seen_us,
                    last_seen_us: a.last_seen_us,
                    appraisals: a.appraisals,
                })
            })
            .collect::<Result<_, TrustError>>()?,
        next: message.next.map(key_of),
    })
}

/// A history as trust sends it.
pub fn verdict_history_to_message(history: &VerdictHistory) -> pb::VerdictHistory {
    pb::VerdictHistory {
        as_of_us: history.as_of_us,
        minutes: history.minutes,
        points: history
            .points
            .iter()
            .map(|p| pb::HistoryPointMessage {
                minute: p.minute,
                scheme: p.scheme.clone(),
                status: p.status.as_str().to_owned(),
                verdicts: p.verdicts,
            })
            .collect(),
    }
}

/// A history as the front end reads it.
pub fn verdict_history_from_message(
    message: pb::VerdictHistory,
) -> Result<VerdictHistory, TrustError> {
    Ok(VerdictHistory {
        as_of_us: message.as_of_us,
        minutes: message.minutes,
        points: message
            .points
            .into_iter()
            .map(|p| {
                Ok(HistoryPoint {
                    status: status(&p.status, from_trust)?,
                    minute: p.minute,
                    scheme: p.scheme,
                    verdicts: p.verdicts,
                })
            })
            .collect::<Result<_, TrustError>>()?,
    })
}

#[async_trait::async_trait]
impl FleetAdmin for GrpcTrust {
    async fn fleet_summary(&self, stale_minutes: u32) -> Result<FleetSummary, TrustError> {
        // Checked here too, so that a bad request costs no round trip.
        check_stale_minutes(stale_minutes)?;
        let message = pb::FleetSummaryRequest { stale_minutes };
        let summary = self
            .call(|mut c| async move { c.get_fleet_summary(message).await })
            .await?;
        fleet_summary_from_message(summary)
    }

    async fn attesters(&self, filter: &AttesterFilter) -> Result<AttesterPage, TrustError> {
        check_filter(filter)?;
        let message = attester_filter_to_message(filter);
        let page = self
            .call(|mut c| async move { c.list_attesters(message).await })
            .await?;
        attester_page_from_message(page)
    }

    async fn verdict_history(&self, minutes: u32) -> Result<VerdictHistory, TrustError> {
        check_history_minutes(minutes)?;
        let message = pb::VerdictHistoryRequest { minutes };
        let history = self
            .call(|mut c| async move { c.get_verdict_history(message).await })
            .await?;
        verdict_history_from_message(history)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let summary = FleetSummary {
            as_of_us: 5,
            stale_minutes: 60,
            counts: vec![FleetCount {
                scheme: "PSA_IOT".into(),
                status: AttestationStatus::Warning,
                attesters: 3,
                stale: 1,
            }],
        };
        assert_eq!(
            fleet_summary_from_message(fleet_summary_to_message(&summary)).unwrap(),
            summary
        );
        let filter = AttesterFilter {
            scheme: Some("PSA_IOT".into()),
            status: Some(AttestationStatus::Contraindicated),
            id_prefix: Some("AQ".into()),
            stale_minutes: Some(5),
            after: Some(("PSA_IOT".into(), "AQID".into())),
            limit: 10,
        };
        assert_eq!(
            attester_filter_from_message(attester_filter_to_message(&filter)).unwrap(),
            filter
        );
        let page = AttesterPage {
            attesters: vec![Attester {
                scheme: "PSA_IOT".into(),
                id: "AQID".into(),
                status: AttestationStatus::Affirming,
                trust_vector: serde_json::json!({"PSA_IOT": {"hardware": 2}}),
                first_seen_us: 1,
                last_seen_us: 2,
                appraisals: 3,
            }],
            next: None,
        };
        assert_eq!(
            attester_page_from_message(attester_page_to_message(&page)).unwrap(),
            page
        );
        let history = VerdictHistory {
            as_of_us: 9,
            minutes: 60,
            points: vec![HistoryPoint {
                minute: 7,
                scheme: "PSA_IOT".into(),
                status: AttestationStatus::None,
                verdicts: 4,
            }],
        };
        assert_eq!(
            verdict_history_from_message(verdict_history_to_message(&history)).unwrap(),
            history
        );
    }

    #[test]
    fn a_bad_status_is_the_fault_of_whoever_sent_it() {
        let request = pb::ListAttestersRequest {
            status: Some("great".into()),
            limit: 10,
            ..Default::default()
        };
        assert!(matches!(
            attester_filter_from_message(request),
            Err(TrustError::InvalidInput(_))
        ));
        let summary = pb::FleetSummary {
            counts: vec![pb::FleetCount {
                status: "great".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(matches!(
            fleet_summary_from_message(summary),
            Err(TrustError::Internal(_))
        ));
    }
}
