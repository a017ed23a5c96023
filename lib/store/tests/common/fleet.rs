//! Fleet verdicts and batches, for the fleet tests and the fleet bench.

use vouch_store::fleet::minute_of;
use vouch_store::{FleetBatch, FleetVerdict, VerdictCount};

pub const MINUTE: i64 = 60_000_000;
/// 2026-12-01T00:00:00Z, in microseconds.
pub const NOW: i64 = 1_796_083_200 * 1_000_000;

/// A verdict with one appraisal and a one-entry trust vector.
pub fn verdict(scheme: &str, id: &str, status: &str, seen_us: i64) -> FleetVerdict {
    FleetVerdict {
        scheme: scheme.into(),
        attester_id: id.into(),
        status: status.into(),
        trust_vector: format!("{{\"{scheme}\":{{\"hardware\":2}}}}"),
        seen_us,
        appraisals: 1,
    }
}

/// A batch of `attesters` with the history their verdicts make.
pub fn batch(attesters: Vec<FleetVerdict>) -> FleetBatch {
    let history = attesters
        .iter()
        .map(|v| VerdictCount {
            minute: minute_of(v.seen_us),
            scheme: v.scheme.clone(),
            status: v.status.clone(),
            verdicts: v.appraisals,
        })
        .collect();
    FleetBatch { attesters, history }
}
