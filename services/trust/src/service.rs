//! The trust service itself: provisioning, appraisal and EAR signing,
//! independent of how it is reached (directly in-process, or over gRPC).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use vouch_ear::{Appraisal, Ear, EarSigner, TrustClaim, VerifierId};
use vouch_schemes::{Endorsements, Evidence, Scheme};
use vouch_store::{
    CorimRecord, EndorsementStore, ReferenceValueRecord, StoreError, Submission, TrustAnchorRecord,
};
use vouch_trust_api::{
    AttestationOutcome, AttestationRequest, Bytes, MediaType, ServiceState, ServiceStatus,
    SubmitOutcome, Trust, TrustError,
};

use crate::cache::{CacheLimits, EndorsementCache, LookupError};
use crate::registry::Registry;

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
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            max_concurrent_appraisals: 4096,
            max_concurrent_submissions: 4,
            appraisal_timeout: Duration::from_secs(10),
            cache: CacheLimits::default(),
            build: format!("vouch-{}", env!("CARGO_PKG_VERSION")),
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
    registry: Registry,
    store: Arc<dyn EndorsementStore>,
    cache: Arc<EndorsementCache>,
    signer: EarSigner,
    public_jwk: Arc<serde_json::Value>,
    verifier_id: VerifierId,
    status: AtomicU8,
    appraisals: Semaphore,
    submissions: Semaphore,
    config: TrustConfig,
}

/// The schemes this build of Vouch supports.
pub fn default_schemes() -> Vec<Arc<dyn Scheme>> {
    vec![Arc::new(vouch_schemes::psa::PsaIot)]
}

const STATUS_INITIALIZING: u8 = 0;
const STATUS_READY: u8 = 1;
const STATUS_TERMINATING: u8 = 2;

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn is_expired(not_after: Option<i64>, now: i64) -> bool {
    not_after.is_some_and(|t| t <= now)
}

fn store_error(operation: &str, error: StoreError) -> TrustError {
    if error.is_unavailable() {
        tracing::warn!(%error, operation, "store unavailable");
        TrustError::unavailable(format!("endorsement store unavailable during {operation}"))
    } else {
        tracing::error!(error = %error, source = ?std::error::Error::source(&error), operation, "store failure");
        TrustError::Internal(format!("endorsement store failed during {operation}"))
    }
}

fn lookup_error(error: LookupError) -> TrustError {
    match error {
        LookupError::Store(e) => store_error("lookup", e),
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
        let registry = Registry::new(schemes).map_err(TrustBuildError::Schemes)?;
        let cache = Arc::new(EndorsementCache::new(registry.scheme_names(), config.cache));
        if signing_key.curve() != vouch_crypto::Curve::P256 {
            return Err(TrustBuildError::Signer(
                "EARs are signed ES256, which needs a P-256 key".to_owned(),
            ));
        }
        let signer = EarSigner::new(signing_key);
        let public_jwk = Arc::new(signer.public_jwk());
        tokio::spawn(cache.clone().follow(store.clone()));
        Ok(Arc::new(TrustService {
            registry,
            store,
            cache,
            signer,
            public_jwk,
            verifier_id: VerifierId {
                build: config.build.clone(),
                developer: "Vouch".to_owned(),
            },
            status: AtomicU8::new(STATUS_READY),
            appraisals: Semaphore::new(config.max_concurrent_appraisals.max(1)),
            submissions: Semaphore::new(config.max_concurrent_submissions.max(1)),
            config,
        }))
    }

    /// Reports `TERMINATING` from now on (graceful shutdown).
    pub fn start_draining(&self) {
        self.status.store(STATUS_TERMINATING, Ordering::SeqCst);
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
        match self.status.load(Ordering::SeqCst) {
            STATUS_INITIALIZING => ServiceStatus::Initializing,
            STATUS_READY => ServiceStatus::Ready,
            _ => ServiceStatus::Terminating,
        }
    }

    /// An EAR with no submods yet, carrying the session nonce.
    fn new_ear(&self, nonce: &[u8]) -> Result<Ear, TrustError> {
        let mut ear = Ear::new("", self.verifier_id.clone(), now_unix());
        ear.submods.clear();
        ear.set_nonce(nonce)
            .map_err(|e| TrustError::InvalidInput(format!("unusable nonce: {e}")))?;
        Ok(ear)
    }

    fn sign(&self, ear: &Ear, scheme: &str) -> Result<AttestationOutcome, TrustError> {
        let status = ear
            .submods
            .values()
            .map(|a| a.status)
            .max()
            .unwrap_or_default();
        let jwt = self.signer.sign(ear).map_err(|e| {
            tracing::error!(error = %e, "signing the EAR failed");
            TrustError::Internal(format!("signing the attestation result failed: {e}"))
        })?;
        Ok(AttestationOutcome {
            ear: jwt,
            scheme: scheme.to_owned(),
            status: status.as_str().to_owned(),
        })
    }

    /// A result in which every claim is `claim` and the policy claims carry
    /// `problem`, as Veraison reports evidence it could not appraise.
    fn failure(
        &self,
        nonce: &[u8],
        scheme: &str,
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
        self.sign(&ear, scheme)
    }

    async fn appraise(
        &self,
        scheme: &Arc<dyn Scheme>,
        request: &AttestationRequest,
    ) -> Result<AttestationOutcome, TrustError> {
        let name = scheme.name();
        let nonce = request.nonce.as_bytes();
        let evidence: Box<dyn Evidence> = match scheme.decode_evidence(&request.evidence) {
            Ok(e) => e,
            Err(bad) => {
                tracing::info!(scheme = name, error = %bad, "undecodable evidence");
                return self.failure(
                    nonce,
                    name,
                    TrustClaim::CRYPTO_VALIDATION_FAILED,
                    "could not establish identity from evidence".to_owned(),
                );
            }
        };
        let now = now_unix();
        let trust_anchor = self
            .cache
            .trust_anchor(self.store.as_ref(), name, evidence.trust_anchor_id())
            .await
            .map_err(lookup_error)?;
        let Some(trust_anchor) = trust_anchor.filter(|ta| !is_expired(ta.not_after, now)) else {
            return self.failure(
                nonce,
                name,
                TrustClaim::CRYPTO_VALIDATION_FAILED,
                "no trust anchor for evidence".to_owned(),
            );
        };
        if let Err(bad) = evidence.verify_integrity(nonce, &trust_anchor.key) {
            return self.failure(
                nonce,
                name,
                TrustClaim::CRYPTO_VALIDATION_FAILED,
                format!("integrity validation failed: {bad}"),
            );
        }
        let cached = self
            .cache
            .reference_values(self.store.as_ref(), name, &trust_anchor.reference_id)
            .await
            .map_err(lookup_error)?;
        let reference_values: Vec<_> = cached
            .iter()
            .filter(|rv| !is_expired(rv.not_after, now))
            .map(|rv| rv.measurement.clone())
            .collect();
        let submods = match evidence.appraise(&reference_values) {
            Ok(submods) => submods,
            Err(bad) => {
                return self.failure(
                    nonce,
                    name,
                    TrustClaim::CRYPTO_VALIDATION_FAILED,
                    bad.to_string(),
                );
            }
        };
        let mut ear = self.new_ear(nonce)?;
        for (submod, mut appraisal) in submods {
            appraisal.policy_id = Some(format!("policy:{name}"));
            appraisal.update_status_from_trust_vector();
            ear.submods.insert(submod, appraisal);
        }
        self.sign(&ear, name)
    }

    fn prepare_submission(
        scheme: &dyn Scheme,
        corim_profile: &str,
        media_type: &MediaType,
        data: &[u8],
        now: i64,
    ) -> Result<Submission, String> {
        let corim =
            vouch_corim::decode(data).map_err(|e| format!("could not decode CoRIM: {e}"))?;
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
                    key: ta.key.to_spki_der(),
                    not_after,
                })
                .collect(),
            reference_values: reference_values
                .into_iter()
                .map(|rv| ReferenceValueRecord {
                    scheme: scheme_name.clone(),
                    rv_id: rv.reference_id,
                    body: rv.measurement.to_body(),
                    not_after,
                })
                .collect(),
        })
    }
}

fn rfc3339(unix: i64) -> String {
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
            return Err(TrustError::InvalidInput(format!(
                "no scheme handles evidence of type {}",
                request.media_type
            )));
        };
        let Ok(_permit) = self.appraisals.try_acquire() else {
            return Err(TrustError::unavailable(
                "trust service is at its appraisal concurrency limit",
            ));
        };
        match tokio::time::timeout(
            self.config.appraisal_timeout,
            self.appraise(scheme, &request),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(TrustError::unavailable("appraisal timed out")),
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
            return Err(TrustError::InvalidInput(format!(
                "no scheme accepts endorsements of type {media_type}"
            )));
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
        // Decoding a CoRIM and parsing thousands of keys is CPU work that
        // would stall the async workers serving appraisals.
        let prepared = tokio::task::spawn_blocking(move || {
            TrustService::prepare_submission(
                provisioner.scheme.as_ref(),
                provisioner.corim_profile,
                &media_type,
                &data,
                now_unix(),
            )
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
