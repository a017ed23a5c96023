//! The trust service itself: provisioning, appraisal and EAR signing,
//! independent of how it is reached (directly in-process, or over gRPC).

use std::sync::{Arc, Weak};
use std::time::Duration;
use tracing::Instrument as _;

use tokio::sync::{Semaphore, watch};
use vouch_ear::{Appraisal, Ear, EarSigner, TrustClaim, TrustTier, VerifierId};
use vouch_schemes::{Endorsements, Evidence, Scheme};
use vouch_store::{
    CorimRecord, EndorsementStore, ReferenceValueRecord, StoreError, Submission, TrustAnchorRecord,
};
use vouch_trust_api::{
    AttestationOutcome, AttestationRequest, AttestationStatus, Bytes, MediaType, ServiceState,
    ServiceStatus, SubmitOutcome, Trust, TrustError,
};

use crate::cache::{CacheLimits, EndorsementCache, LookupError};
use crate::fleet::{FleetConfig, FleetRecorder};
use crate::policies::PolicyCache;
use crate::registry::{Provisioner, Registry};
use crate::signed_corim::CorimSigners;

/// Tuning for the trust service.
#[derive(Debug, Clone)]
pub struct TrustConfig {
    /// Appraisals in progress at once; more are refused as unavailable.
    pub max_concurrent_appraisals: usize,
    /// CoRIM submissions processed at once; more wait.
    pub max_concurrent_submissions: usize,
    /// Longest an appraisal may take (store lookups included).
    pub appraisal_timeout: Duration,
    /// Sizes of the endorsement cache.
    pub cache: CacheLimits,
    /// Reported as `ear.verifier-id.build` and the server version.
    pub build: String,
    /// Who may sign CoRIMs, and whether unsigned ones are accepted.
    pub corim_signers: CorimSigners,
    /// How often the store is pinged for readiness.
    pub store_check_interval: Duration,
    /// Consecutive failed pings after which the service reports `DOWN`
    /// (one success makes it `READY` again). More than one, so that a busy
    /// moment of the pool does not take every front end out of rotation.
    pub store_check_failures: u32,
    /// The process's metrics: verdicts, cache lookups, refusals, the pool.
    pub metrics: vouch_metrics::Metrics,
    /// How verdicts are gathered for the fleet status.
    pub fleet: FleetConfig,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            max_concurrent_appraisals: 4096,
            max_concurrent_submissions: 4,
            appraisal_timeout: Duration::from_secs(10),
            cache: CacheLimits::default(),
            build: format!("vouch-{}", env!("CARGO_PKG_VERSION")),
            corim_signers: CorimSigners::default(),
            store_check_interval: Duration::from_secs(1),
            store_check_failures: 3,
            metrics: vouch_metrics::Metrics::disabled(),
            fleet: FleetConfig::default(),
        }
    }
}

/// Why the trust service could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TrustBuildError {
    /// Two schemes claim the same media type, or a media type is malformed.
    #[error("registering schemes failed: {0}")]
    Schemes(String),
    /// The EAR signing key is unusable.
    #[error("setting up the EAR signer failed: {0}")]
    Signer(String),
}

/// The trust service.
pub struct TrustService {
    pub(crate) registry: Registry,
    pub(crate) store: Arc<dyn EndorsementStore>,
    cache: Arc<EndorsementCache>,
    pub(crate) policies: Arc<PolicyCache>,
    fleet: Arc<FleetRecorder>,
    /// Stops the fleet recorder's background writes.
    fleet_stop: tokio_util::sync::CancellationToken,
    signer: EarSigner,
    public_jwk: Arc<serde_json::Value>,
    verifier_id: VerifierId,
    status: watch::Sender<ServiceStatus>,
    appraisals: Semaphore,
    submissions: Semaphore,
    config: TrustConfig,
}

/// The schemes this build of Vouch supports (`vouch_schemes::builtin`).
pub fn default_schemes() -> Vec<Arc<dyn Scheme>> {
    vouch_schemes::builtin()
}

/// The span of one appraisal step (decode, trust-anchor lookup, signature,
/// reference-value lookup, matching, policy, ear), exported when traces
/// are on.
fn step(name: &'static str) -> tracing::Span {
    tracing::debug_span!(target: vouch_telemetry::SPAN_TARGET, "appraisal step", otel.name = name)
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn is_expired(not_after: Option<i64>, now: i64) -> bool {
    not_after.is_some_and(|t| t <= now)
}

pub(crate) fn store_error(operation: &str, error: StoreError) -> TrustError {
    shared_store_error(operation, &error)
}

/// [`store_error`] for an error shared by a batch of lookups.
fn shared_store_error(operation: &str, error: &StoreError) -> TrustError {
    if error.is_unavailable() {
        tracing::warn!(%error, operation, "store unavailable");
        TrustError::unavailable(format!("endorsement store unavailable during {operation}"))
    } else {
        tracing::error!(error = %error, source = ?std::error::Error::source(error), operation, "store failure");
        TrustError::Internal(format!("endorsement store failed during {operation}"))
    }
}

/// [`store_error`], except that what the store refused as invalid is the
/// caller's fault.
pub(crate) fn input_or_store_error(operation: &str, error: StoreError) -> TrustError {
    match error {
        StoreError::InvalidSubmission(reason) => TrustError::InvalidInput(reason),
        other => store_error(operation, other),
    }
}

/// Now, in Unix microseconds.
pub(crate) fn now_micros() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

fn lookup_error(error: LookupError) -> TrustError {
    match error {
        LookupError::Store(e) => store_error("lookup", e),
        LookupError::Batch(e) => shared_store_error("lookup", &e),
        LookupError::Corrupt(message) => {
            tracing::error!(%message, "corrupt endorsement in store");
            TrustError::Internal(message)
        }
    }
}

impl TrustService {
    /// Builds the service over a store, signing EARs with `signing_key`.
    /// Must be called inside a Tokio runtime: it starts the task that keeps
    /// the endorsement cache in step with the store.
    pub fn new(
        store: Arc<dyn EndorsementStore>,
        schemes: Vec<Arc<dyn Scheme>>,
        signing_key: vouch_crypto::SigningKey,
        config: TrustConfig,
    ) -> Result<Arc<Self>, TrustBuildError> {
        let registry = Registry::new(schemes, config.corim_signers.require_signed())
            .map_err(TrustBuildError::Schemes)?;
        let cache = Arc::new(EndorsementCache::new(
            store.clone(),
            registry.scheme_names(),
            config.cache,
            config.metrics.clone(),
        ));
        store.register_metrics(&config.metrics);
        if signing_key.curve() != vouch_crypto::Curve::P256 {
            return Err(TrustBuildError::Signer(
                "EARs are signed ES256, which needs a P-256 key".to_owned(),
            ));
        }
        let signer = EarSigner::new(signing_key);
        let public_jwk = Arc::new(signer.public_jwk());
        tokio::spawn(cache.clone().follow(store.clone()));
        let policies = Arc::new(PolicyCache::new(registry.scheme_names()));
        tokio::spawn(policies.clone().follow(store.subscribe()));
        let fleet = FleetRecorder::new(config.fleet);
        let fleet_stop = tokio_util::sync::CancellationToken::new();
        tokio::spawn(fleet.clone().run(store.clone(), fleet_stop.clone()));
        let service = Arc::new(TrustService {
            registry,
            store,
            cache,
            policies,
            fleet,
            fleet_stop,
            signer,
            public_jwk,
            verifier_id: VerifierId {
                build: config.build.clone(),
                developer: "Vouch".to_owned(),
            },
            status: watch::Sender::new(ServiceStatus::Ready),
            appraisals: Semaphore::new(config.max_concurrent_appraisals.max(1)),
            submissions: Semaphore::new(config.max_concurrent_submissions.max(1)),
            config,
        });
        tokio::spawn(watch_store(Arc::downgrade(&service)));
        Ok(service)
    }

    /// Reports `TERMINATING` from now on (graceful shutdown).
    pub fn start_draining(&self) {
        self.status.send_replace(ServiceStatus::Terminating);
    }

    /// The lifecycle state, as it changes: `READY`, `DOWN` while the store
    /// cannot be reached, `TERMINATING` once draining.
    pub fn subscribe_status(&self) -> watch::Receiver<ServiceStatus> {
        self.status.subscribe()
    }

    /// Records the outcome of a store check; draining is never undone.
    fn set_store_reachable(&self, reachable: bool) {
        let wanted = if reachable {
            ServiceStatus::Ready
        } else {
            ServiceStatus::Down
        };
        self.status.send_if_modified(|status| {
            if *status == ServiceStatus::Terminating || *status == wanted {
                return false;
            }
            *status = wanted;
            true
        });
    }

    /// Writes the verdicts still waiting for the fleet status and stops
    /// the background writes; call once serving has stopped. Returns
    /// whether everything was written.
    pub async fn finish_fleet(&self) -> bool {
        self.fleet_stop.cancel();
        self.fleet.flush(self.store.as_ref()).await
    }

    /// The store behind the service.
    pub fn store(&self) -> &Arc<dyn EndorsementStore> {
        &self.store
    }

    /// Entries currently cached (trust anchors and reference-value sets).
    pub fn cached_entries(&self) -> u64 {
        self.cache.entry_count()
    }

    fn status(&self) -> ServiceStatus {
        *self.status.borrow()
    }

    /// An EAR with no submods yet, carrying the session nonce.
    fn new_ear(&self, nonce: &[u8]) -> Result<Ear, TrustError> {
        let mut ear = Ear::new("", self.verifier_id.clone(), now_unix());
        ear.submods.clear();
        ear.set_nonce(nonce)
            .map_err(|e| TrustError::InvalidInput(format!("unusable nonce: {e}")))?;
        Ok(ear)
    }

    /// Signs `ear`, the verdict of `scheme` on the attester whose trust
    /// anchor is `attester` (when the evidence named a provisioned one),
    /// and notes it for the fleet status once signed.
    fn sign(
        &self,
        ear: &Ear,
        scheme: &'static str,
        attester: Option<&[u8]>,
    ) -> Result<AttestationOutcome, TrustError> {
        let status = match ear.status() {
            TrustTier::None => AttestationStatus::None,
            TrustTier::Affirming => AttestationStatus::Affirming,
            TrustTier::Warning => AttestationStatus::Warning,
            TrustTier::Contraindicated => AttestationStatus::Contraindicated,
        };
        self.config.metrics.verdict(
            scheme,
            match status {
                AttestationStatus::None => vouch_metrics::Verdict::None,
                AttestationStatus::Affirming => vouch_metrics::Verdict::Affirming,
                AttestationStatus::Warning => vouch_metrics::Verdict::Warning,
                AttestationStatus::Contraindicated => vouch_metrics::Verdict::Contraindicated,
            },
        );
        let jwt = self.signer.sign(ear).map_err(|e| {
            tracing::error!(error = %e, "signing the EAR failed");
            TrustError::Internal(format!("signing the attestation result failed: {e}"))
        })?;
        if let Some(attester) = attester {
            self.fleet.record(scheme, attester, ear);
        }
        Ok(AttestationOutcome {
            ear: jwt,
            scheme: scheme.to_owned(),
            status,
        })
    }

    /// A result in which every claim is `claim` and the policy claims carry
    /// `problem`, as Veraison reports evidence it could not appraise.
    fn failure(
        &self,
        nonce: &[u8],
        scheme: &'static str,
        attester: Option<&[u8]>,
        claim: TrustClaim,
        problem: String,
    ) -> Result<AttestationOutcome, TrustError> {
        let mut appraisal = Appraisal::new();
        appraisal.trust_vector.set_all(claim);
        appraisal.policy_id = Some(format!("policy:{scheme}"));
        appraisal.set_problem(problem);
        appraisal.update_status_from_trust_vector();
        let mut ear = self.new_ear(nonce)?;
        ear.submods.insert(scheme.to_owned(), appraisal);
        self.sign(&ear, scheme, attester)
    }

    async fn appraise(
        &self,
        scheme: &Arc<dyn Scheme>,
        request: &AttestationRequest,
    ) -> Result<AttestationOutcome, TrustError> {
        let name = scheme.name();
        let nonce = request.nonce.as_bytes();
        let evidence: Box<dyn Evidence> =
            match step("decode").in_scope(|| scheme.decode_evidence(&request.evidence)) {
                Ok(e) => e,
                Err(bad) => {
                    tracing::info!(scheme = name, error = %bad, "undecodable evidence");
                    return self.failure(
                        nonce,
                        name,
                        None,
                        TrustClaim::CRYPTO_VALIDATION_FAILED,
                        "could not establish identity from evidence".to_owned(),
                    );
                }
            };
        let now = now_unix();
        let trust_anchor = self
            .cache
            .trust_anchor(name, evidence.trust_anchor_id())
            .instrument(step("trust-anchor lookup"))
            .await
            .map_err(lookup_error)?;
        let attester = evidence.trust_anchor_id();
        let Some(trust_anchor) = trust_anchor.filter(|ta| !is_expired(ta.not_after, now)) else {
            // Not recorded: an id nobody provisioned is no attester of the
            // fleet, and anyone could invent them by the million.
            return self.failure(
                nonce,
                name,
                None,
                TrustClaim::CRYPTO_VALIDATION_FAILED,
                "no trust anchor for evidence".to_owned(),
            );
        };
        if let Err(bad) =
            step("signature").in_scope(|| evidence.verify_integrity(nonce, &trust_anchor.key))
        {
            // Recorded: evidence that claims a provisioned attester's
            // identity and fails its key is news about that attester.
            return self.failure(
                nonce,
                name,
                Some(attester),
                TrustClaim::CRYPTO_VALIDATION_FAILED,
                format!("integrity validation failed: {bad}"),
            );
        }
        let mut reference_values = Vec::new();
        for rv_id in evidence.reference_ids(&trust_anchor.reference_id) {
            let cached = self
                .cache
                .reference_values(self.store.as_ref(), scheme.as_ref(), &rv_id)
                .instrument(step("reference-value lookup"))
                .await
                .map_err(lookup_error)?;
            reference_values.extend(
                cached
                    .iter()
                    .filter(|rv| !is_expired(rv.not_after, now))
                    .map(|rv| rv.measurement.clone()),
            );
        }
        let submods = match step("matching").in_scope(|| evidence.appraise(&reference_values)) {
            Ok(submods) => submods,
            Err(bad) => {
                return self.failure(
                    nonce,
                    name,
                    Some(attester),
                    TrustClaim::CRYPTO_VALIDATION_FAILED,
                    bad.to_string(),
                );
            }
        };
        let mut ear = self.new_ear(nonce)?;
        let policy_step = step("policy");
        let policy = self
            .policies
            .active(self.store.as_ref(), name)
            .instrument(policy_step.clone())
            .await
            .map_err(|e| store_error("policy lookup", e))?;
        match policy {
            // Each scheme sets its submods' status: some (EnactTrust) state
            // a tier the trust vector alone would not give.
            None => {
                for (submod, mut appraisal) in submods {
                    appraisal.policy_id = Some(format!("policy:{name}"));
                    ear.submods.insert(submod, appraisal);
                }
            }
            // Veraison evaluates the active policy once per submod, each
            // seeing the scheme's appraisal of that submod.
            Some(policy) => {
                let eat_nonce = ear.nonce.clone().unwrap_or_default();
                let evidence_json: Vec<serde_json::Value> = submods
                    .iter()
                    .map(|(submod, _)| evidence.policy_evidence(submod, &submods))
                    .collect();
                let _policy = policy_step.enter();
                for ((submod, mut appraisal), evidence_json) in
                    submods.into_iter().zip(evidence_json)
                {
                    policy.apply(name, &submod, &eat_nonce, &evidence_json, &mut appraisal);
                    ear.submods.insert(submod, appraisal);
                }
            }
        }
        step("ear").in_scope(|| self.sign(&ear, name, Some(attester)))
    }

    fn prepare_submission(
        provisioner: &Provisioner,
        signers: &CorimSigners,
        media_type: &MediaType,
        data: &[u8],
        now: i64,
    ) -> Result<Submission, String> {
        let scheme = provisioner.scheme.as_ref();
        let corim_profile = provisioner.corim_profile;
        let opened;
        let unsigned = if provisioner.signed {
            opened = signers.open(data, now)?;
            opened.as_slice()
        } else {
            data
        };
        let corim =
            vouch_corim::decode(unsigned).map_err(|e| format!("could not decode CoRIM: {e}"))?;
        if let Some(validity) = &corim.validity {
            if validity.not_after <= now {
                return Err(format!(
                    "CoRIM validity ended at {} (rim-validity not-after)",
                    rfc3339(validity.not_after)
                ));
            }
            if let Some(not_before) = validity.not_before
                && not_before > now
            {
                return Err(format!(
                    "CoRIM is not valid before {} (rim-validity not-before)",
                    rfc3339(not_before)
                ));
            }
        }
        let Endorsements {
            trust_anchors,
            reference_values,
            not_after,
        } = scheme
            .extract_endorsements(&corim, corim_profile)
            .map_err(|e| e.to_string())?;
        let scheme_name = scheme.name().to_owned();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
        let mut digest_bytes = [0u8; 32];
        digest_bytes.copy_from_slice(digest.as_ref());
        Ok(Submission {
            corim: CorimRecord {
                digest: digest_bytes,
                scheme: scheme_name.clone(),
                media_type: media_type.as_str().to_owned(),
                profile: corim_profile.to_owned(),
                corim_id: corim.id.to_string(),
                not_after,
                body: data.to_vec(),
            },
            trust_anchors: trust_anchors
                .into_iter()
                .map(|ta| TrustAnchorRecord {
                    scheme: scheme_name.clone(),
                    ta_id: ta.id,
                    rv_id: ta.reference_id,
                    key: ta.key.to_bytes(),
                    not_after,
                })
                .collect(),
            reference_values: reference_values
                .into_iter()
                .map(|rv| ReferenceValueRecord {
                    scheme: scheme_name.clone(),
                    rv_id: rv.reference_id,
                    body: rv.body,
                    not_after,
                })
                .collect(),
        })
    }
}

/// Pings the store every `store_check_interval` for as long as the service
/// exists, reporting `DOWN` after `store_check_failures` failures in a row,
/// so that readiness (the front ends' `/readyz`, the gRPC health service)
/// follows the database. Cached devices keep verifying meanwhile.
async fn watch_store(service: Weak<TrustService>) {
    let mut failures = 0_u32;
    loop {
        let Some(strong) = service.upgrade() else {
            return;
        };
        let interval = strong.config.store_check_interval;
        let reachable = matches!(
            tokio::time::timeout(
                interval.max(Duration::from_millis(500)),
                strong.store.ping()
            )
            .await,
            Ok(Ok(()))
        );
        if reachable {
            if failures >= strong.config.store_check_failures {
                tracing::info!("endorsement store reachable again; ready");
            }
            failures = 0;
            strong.set_store_reachable(true);
        } else {
            failures = failures.saturating_add(1);
            if failures == strong.config.store_check_failures {
                tracing::warn!(failures, "endorsement store unreachable; reporting DOWN");
            }
            if failures >= strong.config.store_check_failures {
                strong.set_store_reachable(false);
            }
        }
        drop(strong);
        tokio::time::sleep(interval).await;
    }
}

pub(crate) fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

#[async_trait::async_trait]
impl Trust for TrustService {
    async fn service_state(&self) -> Result<ServiceState, TrustError> {
        Ok(ServiceState {
            status: self.status(),
            version: self.config.build.clone(),
        })
    }

    async fn attest(&self, request: AttestationRequest) -> Result<AttestationOutcome, TrustError> {
        let Some(scheme) = self.registry.for_evidence(&request.media_type) else {
            return Err(TrustError::UnsupportedMediaType {
                media_type: request.media_type.as_str().to_owned(),
                supported: self.registry.verification_type_names(),
            });
        };
        let Ok(_permit) = self.appraisals.try_acquire() else {
            self.config.metrics.overload_refusal("trust", "concurrency");
            return Err(TrustError::unavailable(
                "trust service is at its appraisal concurrency limit",
            ));
        };
        let appraisal = tracing::debug_span!(
            target: vouch_telemetry::SPAN_TARGET,
            "appraisal",
            vouch.scheme = scheme.name(),
        );
        match tokio::time::timeout(
            self.config.appraisal_timeout,
            self.appraise(scheme, &request).instrument(appraisal),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => {
                self.config.metrics.overload_refusal("trust", "timeout");
                Err(TrustError::unavailable("appraisal timed out"))
            }
        }
    }

    async fn verification_media_types(&self) -> Result<Arc<[MediaType]>, TrustError> {
        Ok(self.registry.verification_types())
    }

    async fn provisioning_media_types(&self) -> Result<Arc<[MediaType]>, TrustError> {
        Ok(self.registry.provisioning_types())
    }

    async fn submit_endorsements(
        &self,
        media_type: &MediaType,
        data: Bytes,
    ) -> Result<SubmitOutcome, TrustError> {
        let Some(provisioner) = self.registry.for_provisioning(media_type) else {
            return Err(TrustError::UnsupportedMediaType {
                media_type: media_type.as_str().to_owned(),
                supported: self.registry.provisioning_type_names(),
            });
        };
        if data.is_empty() {
            return Ok(SubmitOutcome::Rejected("empty body".to_owned()));
        }
        let _permit = self
            .submissions
            .acquire()
            .await
            .map_err(|_| TrustError::unavailable("trust service is shutting down"))?;
        let media_type = media_type.clone();
        let signers = self.config.corim_signers.clone();
        // Decoding a CoRIM and parsing thousands of keys is CPU work that
        // would stall the async workers serving appraisals.
        let prepared = tokio::task::spawn_blocking(move || {
            TrustService::prepare_submission(&provisioner, &signers, &media_type, &data, now_unix())
        })
        .await
        .map_err(|e| TrustError::Internal(format!("CoRIM processing task failed: {e}")))?;
        let submission = match prepared {
            Ok(s) => s,
            Err(reason) => return Ok(SubmitOutcome::Rejected(reason)),
        };
        let outcome = match self.store.submit(&submission).await {
            Ok(o) => o,
            Err(StoreError::InvalidSubmission(reason)) => {
                return Ok(SubmitOutcome::Rejected(reason));
            }
            Err(e) => return Err(store_error("submit", e)),
        };
        // Read-your-writes on this instance; other instances hear about it
        // through the store's change feed.
        let ta_ids: Vec<Vec<u8>> = submission
            .trust_anchors
            .iter()
            .map(|t| t.ta_id.clone())
            .collect();
        let rv_ids: Vec<Vec<u8>> = submission
            .reference_values
            .iter()
            .map(|r| r.rv_id.clone())
            .chain(submission.trust_anchors.iter().map(|t| t.rv_id.clone()))
            .collect();
        self.cache
            .invalidate(&submission.corim.scheme, &ta_ids, &rv_ids);
        Ok(match outcome {
            vouch_store::SubmitOutcome::Stored => SubmitOutcome::Stored,
            vouch_store::SubmitOutcome::AlreadyStored => SubmitOutcome::AlreadyStored,
        })
    }

    async fn ear_public_key(&self) -> Result<Arc<serde_json::Value>, TrustError> {
        Ok(self.public_jwk.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use vouch_store::MemoryStore;

    use super::*;
    use crate::test_store::FaultyStore;

    async fn wait_for(
        statuses: &mut watch::Receiver<ServiceStatus>,
        want: ServiceStatus,
    ) -> ServiceStatus {
        let waited =
            tokio::time::timeout(Duration::from_secs(5), statuses.wait_for(|s| *s == want))
                .await
                .expect("status change in time")
                .expect("service alive");
        *waited
    }

    #[tokio::test]
    async fn readiness_follows_the_store_until_draining() {
        let store = Arc::new(FaultyStore::new(MemoryStore::new(), Duration::ZERO));
        let service = TrustService::new(
            store.clone(),
            default_schemes(),
            vouch_testkit::keys::generate_device_key().unwrap(),
            TrustConfig {
                store_check_interval: Duration::from_millis(20),
                store_check_failures: 3,
                ..TrustConfig::default()
            },
        )
        .unwrap();
        let mut statuses = service.subscribe_status();
        assert_eq!(service.status(), ServiceStatus::Ready);

        store.down.store(true, Ordering::SeqCst);
        let went_down = std::time::Instant::now();
        wait_for(&mut statuses, ServiceStatus::Down).await;
        // Three failed pings, 20 ms apart, before DOWN.
        assert!(went_down.elapsed() >= Duration::from_millis(40));
        let state = service.service_state().await.unwrap();
        assert_eq!(state.status, ServiceStatus::Down);

        store.down.store(false, Ordering::SeqCst);
        wait_for(&mut statuses, ServiceStatus::Ready).await;

        // Draining is final: the store coming and going no longer matters.
        service.start_draining();
        assert_eq!(service.status(), ServiceStatus::Terminating);
        store.down.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(150)).await;
        store.down.store(false, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(service.status(), ServiceStatus::Terminating);
    }
}
