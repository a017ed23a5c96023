//! The challenge-response session resource, as Veraison serialises it.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vouch_trust_api::{MediaType, Nonce};

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = SessionStatus)]
pub enum Status {
    /// Created; waiting for evidence.
    Waiting,
    /// One submission has claimed the session and its evidence is being
    /// appraised; further evidence is refused. Shown as is: it is one of
    /// Veraison's four session states, and Veraison clients (`apiclient`)
    /// poll a `processing` session until it is `complete` or `failed`.
    /// Showing `waiting` instead would invite a resubmission that can only
    /// get 409.
    Processing,
    /// Appraised; `result` holds the EAR.
    Complete,
    /// Appraisal failed inside the verifier.
    Failed,
}

impl Status {
    /// The JSON name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Processing => "processing",
            Status::Complete => "complete",
            Status::Failed => "failed",
        }
    }
}

/// The evidence a session received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvidenceBlob {
    /// Media type as the attester sent it.
    #[serde(rename = "type")]
    pub media_type: String,
    /// The evidence, standard base64 with padding.
    pub value: String,
}

/// The session JSON. Field order matches Veraison's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Session {
    /// Lifecycle state.
    pub status: Status,
    /// The challenge, unpadded base64url (Veraison `main`).
    pub nonce: String,
    /// When the session expires, RFC 3339.
    pub expiry: String,
    /// Evidence media types the verifier accepts.
    pub accept: Vec<String>,
    /// The evidence, once submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<EvidenceBlob>,
    /// The signed EAR, once appraised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

/// A stored session that cannot be read back.
#[derive(Debug)]
pub(crate) struct CorruptSession(pub(crate) String);

impl std::fmt::Display for CorruptSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stored session is unreadable: {}", self.0)
    }
}

impl Session {
    /// A new waiting session.
    pub fn new(nonce: &Nonce, ttl: Duration, accept: &[MediaType]) -> (Self, SystemTime) {
        let expires_at = SystemTime::now() + ttl;
        let expiry = OffsetDateTime::from(expires_at)
            .format(&Rfc3339)
            .unwrap_or_default();
        (
            Session {
                status: Status::Waiting,
                nonce: nonce.to_base64url(),
                expiry,
                accept: accept.iter().map(|m| m.as_str().to_owned()).collect(),
                evidence: None,
                result: None,
            },
            expires_at,
        )
    }

    /// The session nonce.
    pub(crate) fn nonce(&self) -> Result<Nonce, CorruptSession> {
        Nonce::from_base64url(&self.nonce).map_err(|e| CorruptSession(e.to_string()))
    }

    /// When the session expires.
    pub(crate) fn expires_at(&self) -> Result<SystemTime, CorruptSession> {
        OffsetDateTime::parse(&self.expiry, &Rfc3339)
            .map(SystemTime::from)
            .map_err(|e| CorruptSession(e.to_string()))
    }

    /// Records the evidence the attester sent.
    pub(crate) fn set_evidence(&mut self, media_type: &str, evidence: &[u8]) {
        self.evidence = Some(EvidenceBlob {
            media_type: media_type.to_owned(),
            value: STANDARD.encode(evidence),
        });
    }

    pub(crate) fn to_json(&self) -> bytes::Bytes {
        // Plain strings and enums always serialise.
        serde_json::to_vec(self).unwrap_or_default().into()
    }

    pub(crate) fn from_json(bytes: &[u8]) -> Result<Self, CorruptSession> {
        serde_json::from_slice(bytes).map_err(|e| CorruptSession(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_in_veraison_shape() {
        let nonce = Nonce::from_base64url("QUp8F0FBs9DpodKK8xUg8NQimf6sQAfe2J1ormzZLxk").unwrap();
        let accept = [MediaType::parse("application/psa-attestation-token").unwrap()];
        let (mut session, expires_at) = Session::new(&nonce, Duration::from_secs(150), &accept);
        let json: serde_json::Value = serde_json::from_slice(&session.to_json()).unwrap();
        assert_eq!(json["status"], "waiting");
        assert_eq!(json["nonce"], "QUp8F0FBs9DpodKK8xUg8NQimf6sQAfe2J1ormzZLxk");
        assert_eq!(json["accept"][0], "application/psa-attestation-token");
        assert!(json.get("evidence").is_none() && json.get("result").is_none());
        let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["status", "nonce", "expiry", "accept"]);

        session.set_evidence("application/psa-attestation-token", b"\x01\x02");
        session.status = Status::Complete;
        let back = Session::from_json(&session.to_json()).unwrap();
        assert_eq!(back, session);
        assert_eq!(back.evidence.as_ref().unwrap().value, "AQI=");
        let drift = back
            .expires_at()
            .unwrap()
            .duration_since(expires_at)
            .unwrap_or_else(|e| e.duration());
        assert!(drift < Duration::from_millis(1));
        assert_eq!(back.nonce().unwrap(), nonce);
    }
}
