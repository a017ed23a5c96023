//! The study's three tasks: `well-known`, `provision` and `verify`.
//!
//! Every answer is checked: the status code, and for the verification flow
//! that the session completed with an EAR whose status is `affirming`.
//! Anything else counts as a failure, by kind.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{Method, StatusCode};

use crate::client::{Answer, Conn, Endpoint, Failure};
use crate::devices::{Attesters, CorimSource, corim_media_type};
use crate::stats::{Op, Recorder};

/// A task a simulated user loops over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Task {
    /// `GET /.well-known/veraison/provisioning`.
    WellKnown,
    /// `POST` a PSA CoRIM.
    Provision,
    /// newSession → evidence → DELETE.
    Verify,
}

impl Task {
    /// The task's name in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Task::WellKnown => "well-known",
            Task::Provision => "provision",
            Task::Verify => "verify",
        }
    }

    /// The operation that measures the task as a whole.
    pub(crate) fn op(self) -> Op {
        match self {
            Task::WellKnown => Op::WellKnown,
            Task::Provision => Op::Provision,
            Task::Verify => Op::VerifyFlow,
        }
    }
}

const NEW_SESSION: &str = "/challenge-response/v1/newSession";
const SESSION_PREFIX: &str = "/challenge-response/v1/";

/// What every user shares.
pub(crate) struct Shared {
    pub(crate) recorder: Arc<Recorder>,
    pub(crate) verification: Arc<Endpoint>,
    pub(crate) provisioning: Arc<Endpoint>,
    pub(crate) devices: Arc<dyn Attesters>,
    pub(crate) corims: Option<CorimSource>,
    pub(crate) timeout: Duration,
    next_device: AtomicUsize,
}

impl Shared {
    /// Shared state for users attesting as `devices`.
    pub(crate) fn new(
        recorder: Arc<Recorder>,
        verification: Arc<Endpoint>,
        provisioning: Arc<Endpoint>,
        devices: Arc<dyn Attesters>,
        corims: Option<CorimSource>,
        timeout: Duration,
    ) -> Arc<Self> {
        Arc::new(Shared {
            recorder,
            verification,
            provisioning,
            devices,
            corims,
            timeout,
            next_device: AtomicUsize::new(0),
        })
    }

    /// The next device, round robin over the fleet.
    pub(crate) fn next_device(&self) -> usize {
        self.next_device.fetch_add(1, Ordering::Relaxed) % self.devices.len().max(1)
    }
}

/// One simulated user: its own connections, reused across tasks.
pub(crate) struct User {
    shared: Arc<Shared>,
    verification: Conn,
    provisioning: Conn,
}

/// Finds `"key":"value"` in a compact JSON document without parsing it all.
pub(crate) fn json_str<'a>(body: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let needle = format!("\"{key}\":");
    let start = find(body, needle.as_bytes())? + needle.len();
    let rest = body.get(start..)?;
    let open = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest.get(open) != Some(&b'"') {
        return None;
    }
    let value = rest.get(open + 1..)?;
    let close = value.iter().position(|b| *b == b'"')?;
    value.get(..close)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether an EAR JWT says `affirming` (the payload is decoded, not
/// verified: the generator checks the outcome, the tests check signatures).
fn ear_affirms(jwt: &[u8]) -> bool {
    let mut parts = jwt.split(|b| *b == b'.');
    let (Some(_), Some(payload)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Ok(claims) = URL_SAFE_NO_PAD.decode(payload) else {
        return false;
    };
    find(&claims, b"\"ear.status\":\"affirming\"").is_some()
}

fn expect(answer: &Answer, status: StatusCode) -> Result<(), Failure> {
    if answer.status == status {
        Ok(())
    } else {
        Err(Failure::Status(answer.status.as_u16()))
    }
}

/// Posts one CoRIM to the provisioning service on `conn`.
pub(crate) async fn submit_corim(conn: &mut Conn, corim: Bytes) -> Result<Answer, Failure> {
    submit_corim_as(conn, corim_media_type(), corim).await
}

/// Submits a CoRIM of another media type (another scheme's).
pub(crate) async fn submit_corim_as(
    conn: &mut Conn,
    media_type: &'static str,
    corim: Bytes,
) -> Result<Answer, Failure> {
    conn.send(
        Method::POST,
        "/endorsement-provisioning/v1/submit",
        Some(media_type),
        corim,
    )
    .await
}

/// Whether a provisioning answer says the CoRIM was stored.
pub(crate) fn provisioned(answer: &Answer) -> Result<(), Failure> {
    expect(answer, StatusCode::OK)?;
    match json_str(&answer.body, "status") {
        Some(b"success") => Ok(()),
        _ => Err(Failure::Body("provisioning not successful")),
    }
}

impl User {
    /// A user with connections that open on first use.
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        User {
            verification: Conn::new(shared.verification.clone(), shared.timeout),
            provisioning: Conn::new(shared.provisioning.clone(), shared.timeout),
            shared,
        }
    }

    /// Runs `task` once, recording it. Returns whether it succeeded.
    pub(crate) async fn run(&mut self, task: Task) -> bool {
        match task {
            Task::WellKnown => self.well_known().await,
            Task::Provision => self.provision().await,
            Task::Verify => {
                let device = self.shared.next_device();
                self.verify(device).await
            }
        }
    }

    fn record(&self, op: Op, started: Instant, result: &Result<(), Failure>) {
        match result {
            Ok(()) => self.shared.recorder.ok(op, started.elapsed()),
            Err(f) => self.shared.recorder.failed(op, &f.kind()),
        }
    }

    async fn well_known(&mut self) -> bool {
        let started = Instant::now();
        let result = self
            .provisioning
            .send(
                Method::GET,
                "/.well-known/veraison/provisioning",
                None,
                Bytes::new(),
            )
            .await
            .and_then(|a| expect(&a, StatusCode::OK));
        self.record(Op::WellKnown, started, &result);
        result.is_ok()
    }

    async fn provision(&mut self) -> bool {
        let Some(source) = &self.shared.corims else {
            self.shared
                .recorder
                .failed(Op::Provision, "no CoRIM source");
            return false;
        };
        let corim = source.next();
        let started = Instant::now();
        let result = submit_corim(&mut self.provisioning, corim)
            .await
            .and_then(|a| provisioned(&a));
        self.record(Op::Provision, started, &result);
        result.is_ok()
    }

    /// One attestation by device `index`: newSession, a freshly signed
    /// token bound to the session nonce, DELETE.
    pub(crate) async fn verify(&mut self, index: usize) -> bool {
        let flow_started = Instant::now();
        let shared = self.shared.clone();
        if index >= shared.devices.len() {
            shared.recorder.failed(Op::VerifyFlow, "no such device");
            return false;
        }

        let started = Instant::now();
        let created = self
            .verification
            .send(Method::POST, NEW_SESSION, None, Bytes::new())
            .await
            .and_then(|a| {
                expect(&a, StatusCode::CREATED)?;
                let location = a
                    .location
                    .as_ref()
                    .and_then(|l| l.to_str().ok())
                    .filter(|l| l.starts_with("session/"))
                    .ok_or(Failure::Body("no session location"))?;
                let nonce = json_str(&a.body, "nonce")
                    .and_then(|n| URL_SAFE_NO_PAD.decode(n).ok())
                    .ok_or(Failure::Body("no nonce"))?;
                Ok((format!("{SESSION_PREFIX}{location}"), nonce))
            });
        let (path, nonce) = match created {
            Ok(ok) => {
                shared.recorder.ok(Op::NewSession, started.elapsed());
                ok
            }
            Err(f) => {
                let kind = f.kind();
                shared.recorder.failed(Op::NewSession, &kind);
                shared
                    .recorder
                    .failed(Op::VerifyFlow, &format!("newSession: {kind}"));
                return false;
            }
        };

        // What the device does: sign a token over the challenge.
        let token = match shared.devices.evidence(index, &nonce) {
            Ok(t) => t,
            Err(_) => {
                shared.recorder.failed(Op::VerifyFlow, "token signing");
                return false;
            }
        };

        let started = Instant::now();
        let evidence = self
            .verification
            .send(
                Method::POST,
                &path,
                Some(shared.devices.media_type()),
                token,
            )
            .await
            .and_then(|a| {
                expect(&a, StatusCode::OK)?;
                if json_str(&a.body, "status") != Some(b"complete") {
                    return Err(Failure::Body("session not complete"));
                }
                let ear = json_str(&a.body, "result").ok_or(Failure::Body("no result"))?;
                if ear_affirms(ear) {
                    Ok(())
                } else {
                    Err(Failure::Body("EAR not affirming"))
                }
            });
        self.record(Op::Evidence, started, &evidence);

        // The study deletes the session whatever the evidence step did.
        let started = Instant::now();
        let deleted = self
            .verification
            .send(Method::DELETE, &path, None, Bytes::new())
            .await
            .and_then(|a| expect(&a, StatusCode::NO_CONTENT));
        self.record(Op::Delete, started, &deleted);

        match (evidence, deleted) {
            (Ok(()), Ok(())) => {
                shared.recorder.ok(Op::VerifyFlow, flow_started.elapsed());
                true
            }
            (Err(f), _) => {
                shared
                    .recorder
                    .failed(Op::VerifyFlow, &format!("evidence: {}", f.kind()));
                false
            }
            (Ok(()), Err(f)) => {
                shared
                    .recorder
                    .failed(Op::VerifyFlow, &format!("delete: {}", f.kind()));
                false
            }
        }
    }
}

/// Creates the policy in `path` for `scheme` through the management API of
/// `topology` and activates it; returns its UUID.
pub(crate) async fn activate_policy(
    topology: &crate::topology::Topology,
    scheme: crate::devices::SchemeKind,
    path: &std::path::Path,
    timeout: Duration,
) -> anyhow::Result<String> {
    use anyhow::Context as _;
    let management = topology
        .management
        .clone()
        .context("--policy needs a target with a management listener (in-process or child)")?;
    let rules = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let scheme = match scheme {
        crate::devices::SchemeKind::Psa => "PSA_IOT",
        crate::devices::SchemeKind::Cca => "ARM_CCA",
    };
    let mut conn = Conn::new(management, timeout);
    let created = conn
        .send(
            Method::POST,
            &format!("/management/v1/policy/{scheme}?name=loadtest"),
            Some("application/vnd.veraison.policy.opa"),
            Bytes::from(rules),
        )
        .await
        .map_err(|e| anyhow::anyhow!("creating the policy: {e}"))?;
    anyhow::ensure!(
        created.status == StatusCode::CREATED,
        "creating the policy: {} {}",
        created.status,
        String::from_utf8_lossy(&created.body)
    );
    let id = json_str(&created.body, "uuid")
        .and_then(|id| std::str::from_utf8(id).ok())
        .context("the created policy has no uuid")?
        .to_owned();
    let activated = conn
        .send(
            Method::POST,
            &format!("/management/v1/policy/{scheme}/{id}/activate"),
            None,
            Bytes::new(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("activating the policy: {e}"))?;
    anyhow::ensure!(
        activated.status == StatusCode::OK,
        "activating the policy: {} {}",
        activated.status,
        String::from_utf8_lossy(&activated.body)
    );
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_json_fields_are_found() {
        let body = br#"{"status":"waiting","nonce": "QUp8F0FB","expiry":"x","accept":[]}"#;
        assert_eq!(json_str(body, "status"), Some(&b"waiting"[..]));
        assert_eq!(json_str(body, "nonce"), Some(&b"QUp8F0FB"[..]));
        assert_eq!(json_str(body, "result"), None);
        assert_eq!(json_str(br#"{"status":3}"#, "status"), None);
    }

    #[test]
    fn ear_status_is_read_from_the_payload() {
        let payload =
            URL_SAFE_NO_PAD.encode(br#"{"submods":{"PSA_IOT":{"ear.status":"affirming"}}}"#);
        assert!(ear_affirms(format!("e30.{payload}.sig").as_bytes()));
        let payload =
            URL_SAFE_NO_PAD.encode(br#"{"submods":{"PSA_IOT":{"ear.status":"contraindicated"}}}"#);
        assert!(!ear_affirms(format!("e30.{payload}.sig").as_bytes()));
        assert!(!ear_affirms(b"garbage"));
    }
}
