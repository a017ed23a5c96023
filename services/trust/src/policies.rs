//! Appraisal policies in trust: the compiled-policy cache the hot path reads,
//! and the management operations ([`PolicyAdmin`]) that change it.
//!
//! Verification never reads the policy store once a scheme's active policy
//! is known: each scheme's slot holds the compiled active policy (or "none")
//! until a change invalidates it. This instance invalidates on its own
//! (de)activations before answering them (read-your-writes); other instances
//! hear of them through the store's change feed ([`StoreChange::Policies`];
//! a resync or a lagged feed drops every slot). As in the endorsement cache,
//! a load that raced with an invalidation does not put its stale answer back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use vouch_ear::Appraisal;
use vouch_policy::{CompiledPolicy, Input, PolicyError};
use vouch_store::{
    AddPolicyOutcome, EndorsementStore, NewPolicy, PolicyRecord, StoreChange, StoreError,
};
use vouch_trust_api::{CreatedPolicy, Policy, PolicyAdmin, PolicyId, PolicyName, TrustError};

use crate::service::{TrustService, input_or_store_error, now_micros};

/// A scheme's active policy, compiled.
pub(crate) struct ActivePolicy {
    /// `ear.appraisal-policy-id`: `policy:<scheme>/<uuid>`, as Veraison names
    /// a stored policy.
    claim_id: String,
    /// A stored policy that no longer compiles (a policy accepted by an
    /// older build) fails every appraisal it runs for, visibly, rather
    /// than being skipped.
    compiled: Result<CompiledPolicy, PolicyError>,
}

impl ActivePolicy {
    fn compile(record: &PolicyRecord) -> Self {
        let compiled = vouch_policy::compile(&record.rules);
        if let Err(error) = &compiled {
            tracing::error!(
                scheme = %record.scheme,
                id = %PolicyId::from_bytes(record.id),
                %error,
                "the active policy does not compile; appraisals it runs for fail"
            );
        }
        ActivePolicy {
            claim_id: format!(
                "policy:{}/{}",
                record.scheme,
                PolicyId::from_bytes(record.id)
            ),
            compiled,
        }
    }

    /// Runs the policy over one submod's appraisal and folds its outcome in.
    /// A policy that fails leaves a signed result that says so (every claim
    /// `VERIFIER_MALFUNCTION`) instead of an error: the relying party still
    /// gets an answer, and the problem names the cause.
    pub(crate) fn apply(
        &self,
        scheme: &str,
        submod: &str,
        nonce: &str,
        evidence: &serde_json::Value,
        appraisal: &mut Appraisal,
    ) {
        appraisal.policy_id = Some(self.claim_id.clone());
        let outcome = self
            .compiled
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|policy| {
                policy.evaluate(&Input {
                    scheme,
                    submod,
                    nonce,
                    result: appraisal,
                    evidence,
                    endorsements: &[],
                })
            });
        match outcome {
            Ok(outcome) => outcome.apply(appraisal),
            Err(error) => {
                tracing::warn!(scheme, submod, policy = %self.claim_id, %error, "policy failed");
                vouch_policy::failed(appraisal, &error);
            }
        }
    }
}

/// `None`: not loaded yet; `Some(None)`: the scheme has no active policy.
type Slot = Option<Option<Arc<ActivePolicy>>>;

struct SchemeSlot {
    active: RwLock<Slot>,
    /// One load at a time per scheme: after an invalidation, a burst of
    /// appraisals waits for one store read and one compilation instead of
    /// each doing its own.
    loading: tokio::sync::Mutex<()>,
}

pub(crate) struct PolicyCache {
    generation: AtomicU64,
    schemes: HashMap<&'static str, SchemeSlot>,
}

impl PolicyCache {
    pub(crate) fn new(scheme_names: impl Iterator<Item = &'static str>) -> Self {
        PolicyCache {
            generation: AtomicU64::new(0),
            schemes: scheme_names
                .map(|name| {
                    (
                        name,
                        SchemeSlot {
                            active: RwLock::new(None),
                            loading: tokio::sync::Mutex::new(()),
                        },
                    )
                })
                .collect(),
        }
    }

    fn cached(slot: &SchemeSlot) -> Slot {
        slot.active
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The scheme's active policy: from memory once known, else read from
    /// the store and compiled (once, however many appraisals ask at once).
    pub(crate) async fn active(
        &self,
        store: &dyn EndorsementStore,
        scheme: &str,
    ) -> Result<Option<Arc<ActivePolicy>>, StoreError> {
        let Some(slot) = self.schemes.get(scheme) else {
            return Ok(None);
        };
        if let Some(known) = Self::cached(slot) {
            return Ok(known);
        }
        let _loading = slot.loading.lock().await;
        if let Some(known) = Self::cached(slot) {
            return Ok(known);
        }
        let seen = self.generation.load(Ordering::SeqCst);
        let record = store.policy_store().active_policy(scheme).await?;
        let value = record.as_ref().map(|r| Arc::new(ActivePolicy::compile(r)));
        if self.generation.load(Ordering::SeqCst) == seen {
            *slot.active.write().unwrap_or_else(PoisonError::into_inner) = Some(value.clone());
        }
        Ok(value)
    }

    /// Forgets the scheme's active policy; the next appraisal reloads it.
    pub(crate) fn invalidate(&self, scheme: &str) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        match self.schemes.get(scheme) {
            Some(slot) => *slot.active.write().unwrap_or_else(PoisonError::into_inner) = None,
            None => self.invalidate_all(),
        }
    }

    pub(crate) fn invalidate_all(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        for slot in self.schemes.values() {
            *slot.active.write().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }

    /// Applies the store's change feed until the store closes it. The
    /// receiver is taken before the service answers anything, so no change
    /// made after a slot was loaded can be missed.
    pub(crate) async fn follow(self: Arc<Self>, mut feed: broadcast::Receiver<StoreChange>) {
        loop {
            match feed.recv().await {
                Ok(StoreChange::Policies { scheme }) => self.invalidate(&scheme),
                // Endorsements are the endorsement cache's business.
                Ok(StoreChange::Changed { .. }) => {}
                Ok(StoreChange::Resync) => self.invalidate_all(),
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        "policy change feed lagged; dropping compiled policies"
                    );
                    self.invalidate_all();
                }
                Err(RecvError::Closed) => return,
            }
        }
    }
}

fn policy_of(record: &PolicyRecord) -> Policy {
    Policy {
        id: PolicyId::from_bytes(record.id),
        scheme: record.scheme.clone(),
        name: record.name.clone(),
        rules: record.rules.clone(),
        active: record.active,
        created_at_us: record.created_at_us,
        version: record.version,
    }
}

impl TrustService {
    /// The registry's name for `scheme`, or Veraison's error for an unknown one.
    pub(crate) fn known_scheme(&self, scheme: &str) -> Result<&'static str, TrustError> {
        self.registry
            .scheme_names()
            .find(|name| *name == scheme)
            .ok_or_else(|| TrustError::InvalidInput(format!("unrecognised scheme {scheme:?}")))
    }
}

#[async_trait::async_trait]
impl PolicyAdmin for TrustService {
    async fn policy_schemes(&self) -> Result<Vec<String>, TrustError> {
        Ok(self.registry.scheme_names().map(str::to_owned).collect())
    }

    async fn create_policy(
        &self,
        scheme: &str,
        name: &PolicyName,
        rules: &str,
    ) -> Result<CreatedPolicy, TrustError> {
        let scheme = self.known_scheme(scheme)?;
        // Compiling is CPU work (milliseconds for a large policy); keep it
        // off the async workers that serve appraisals.
        let owned = rules.to_owned();
        tokio::task::spawn_blocking(move || vouch_policy::compile(&owned).map(drop))
            .await
            .map_err(|e| TrustError::Internal(format!("policy compilation task failed: {e}")))?
            .map_err(|e| TrustError::InvalidInput(format!("invalid policy: {e}")))?;
        let new = NewPolicy {
            id: *PolicyId::random().as_bytes(),
            scheme: scheme.to_owned(),
            name: name.as_str().to_owned(),
            rules: rules.to_owned(),
            created_at_us: now_micros(),
        };
        let outcome = self
            .store
            .policy_store()
            .add_policy(&new)
            .await
            .map_err(|e| input_or_store_error("create policy", e))?;
        Ok(CreatedPolicy {
            policy: policy_of(outcome.record()),
            created: matches!(outcome, AddPolicyOutcome::Stored(_)),
        })
    }

    async fn activate_policy(&self, scheme: &str, id: PolicyId) -> Result<(), TrustError> {
        let scheme = self.known_scheme(scheme)?;
        let found = self
            .store
            .policy_store()
            .activate_policy(scheme, id.as_bytes())
            .await
            .map_err(|e| input_or_store_error("activate policy", e))?;
        if !found {
            return Err(TrustError::NotFound(format!(
                "no policy {id} for scheme {scheme}"
            )));
        }
        self.policies.invalidate(scheme);
        Ok(())
    }

    async fn active_policy(&self, scheme: &str) -> Result<Policy, TrustError> {
        let scheme = self.known_scheme(scheme)?;
        match self.store.policy_store().active_policy(scheme).await {
            Ok(Some(record)) => Ok(policy_of(&record)),
            Ok(None) => Err(TrustError::NotFound(format!(
                "no active policy for scheme {scheme}"
            ))),
            Err(e) => Err(input_or_store_error("get active policy", e)),
        }
    }

    async fn policy(&self, scheme: &str, id: PolicyId) -> Result<Policy, TrustError> {
        let scheme = self.known_scheme(scheme)?;
        match self
            .store
            .policy_store()
            .policy(scheme, id.as_bytes())
            .await
        {
            Ok(Some(record)) => Ok(policy_of(&record)),
            Ok(None) => Err(TrustError::NotFound(format!(
                "no policy {id} for scheme {scheme}"
            ))),
            Err(e) => Err(input_or_store_error("get policy", e)),
        }
    }

    async fn policies(
        &self,
        scheme: &str,
        name: Option<&PolicyName>,
    ) -> Result<Vec<Policy>, TrustError> {
        let scheme = self.known_scheme(scheme)?;
        let records = self
            .store
            .policy_store()
            .policies(scheme)
            .await
            .map_err(|e| input_or_store_error("list policies", e))?;
        if records.is_empty() {
            return Err(TrustError::NotFound(format!(
                "no policies for scheme {scheme}"
            )));
        }
        Ok(records
            .iter()
            .filter(|r| name.is_none_or(|n| r.name == n.as_str()))
            .map(policy_of)
            .collect())
    }

    async fn deactivate_policies(&self, scheme: &str) -> Result<(), TrustError> {
        let scheme = self.known_scheme(scheme)?;
        let found = self
            .store
            .policy_store()
            .deactivate_policies(scheme)
            .await
            .map_err(|e| input_or_store_error("deactivate policies", e))?;
        if !found {
            return Err(TrustError::NotFound(format!(
                "no policies for scheme {scheme}"
            )));
        }
        self.policies.invalidate(scheme);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use base64::Engine as _;
    use vouch_store::MemoryStore;
    use vouch_testkit::corim::{PsaCorim, PsaCorimEncoding, PsaRefValue};
    use vouch_testkit::psa::{Device, SwComponent};
    use vouch_trust_api::{AttestationRequest, Bytes, MediaType, Nonce, Trust};

    use super::*;
    use crate::{TrustConfig, default_schemes};

    const UNSAFE: &str = "package policy\n\nexecutables = UNSAFE_RT\n";

    fn service(store: Arc<dyn EndorsementStore>) -> Arc<TrustService> {
        TrustService::new(
            store,
            default_schemes(),
            vouch_testkit::keys::generate_device_key().unwrap(),
            TrustConfig::default(),
        )
        .unwrap()
    }

    async fn provision(service: &TrustService, device: &Device) {
        let mut corim = PsaCorim::new(PsaCorimEncoding::Current);
        corim.trust_anchor(
            device.implementation_id,
            device.instance_id,
            &device.spki_pem(),
        );
        for c in SwComponent::acme_components() {
            if let (Some(mtype), Some(value), Some(signer)) =
                (c.measurement_type, c.measurement_value, c.signer_id)
            {
                corim.reference_value(
                    device.implementation_id,
                    PsaRefValue::new(mtype, signer, value),
                );
            }
        }
        let media_type =
            MediaType::parse("application/rim+cbor; profile=\"tag:arm.com,2025:psa#1.0.0\"")
                .unwrap();
        let outcome = service
            .submit_endorsements(&media_type, Bytes::from(corim.build()))
            .await
            .unwrap();
        assert!(
            matches!(outcome, vouch_trust_api::SubmitOutcome::Stored),
            "{outcome:?}"
        );
    }

    /// The PSA_IOT submod of a fresh attestation, as JSON.
    async fn attest(service: &TrustService, device: &Device) -> serde_json::Value {
        let nonce = Nonce::new(vec![7; 32]).unwrap();
        let token = device
            .token(nonce.as_bytes(), &SwComponent::acme_components())
            .unwrap();
        let outcome = service
            .attest(AttestationRequest {
                media_type: MediaType::parse("application/psa-attestation-token").unwrap(),
                evidence: Bytes::from(token),
                nonce,
            })
            .await
            .unwrap();
        let payload = outcome.ear.split('.').nth(1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        claims["submods"]["PSA_IOT"].clone()
    }

    #[tokio::test]
    async fn bad_policies_and_unknown_schemes_store_nothing() {
        let service = service(Arc::new(MemoryStore::new()));
        let name = PolicyName::default();
        let error = service
            .create_policy("PSA_IOT", &name, "package policy\n\nexecutables = \n")
            .await
            .unwrap_err();
        assert!(
            matches!(&error, TrustError::InvalidInput(m) if m.starts_with("invalid policy: ")),
            "{error:?}"
        );
        let error = service
            .create_policy("PSA_IOT", &name, "package other\n\nx = 1\n")
            .await
            .unwrap_err();
        assert!(matches!(error, TrustError::InvalidInput(_)), "{error:?}");
        let error = service
            .create_policy("BAD", &name, UNSAFE)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, TrustError::InvalidInput(m) if m == "unrecognised scheme \"BAD\""),
            "{error:?}"
        );
        assert!(matches!(
            service.policies("PSA_IOT", None).await,
            Err(TrustError::NotFound(_))
        ));
        assert!(matches!(
            service.activate_policy("PSA_IOT", PolicyId::random()).await,
            Err(TrustError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn creating_the_same_policy_twice_returns_the_first() {
        let service = service(Arc::new(MemoryStore::new()));
        let name = PolicyName::default();
        let first = service
            .create_policy("PSA_IOT", &name, UNSAFE)
            .await
            .unwrap();
        assert!(first.created);
        assert!(!first.policy.active);
        let again = service
            .create_policy("PSA_IOT", &name, UNSAFE)
            .await
            .unwrap();
        assert!(!again.created);
        assert_eq!(again.policy, first.policy);
        let other = PolicyName::parse("other").unwrap();
        let renamed = service
            .create_policy("PSA_IOT", &other, UNSAFE)
            .await
            .unwrap();
        assert!(renamed.created);
        assert_ne!(renamed.policy.id, first.policy.id);
        let named = service.policies("PSA_IOT", Some(&other)).await.unwrap();
        assert_eq!(named, vec![renamed.policy]);
    }

    #[tokio::test]
    async fn activation_reaches_other_instances_through_the_change_feed() {
        let store: Arc<dyn EndorsementStore> = Arc::new(MemoryStore::new());
        let manager = service(store.clone());
        let verifier = service(store.clone());
        let device = Device::generate().unwrap();
        provision(&manager, &device).await;
        // The verifier has loaded "no policy" for PSA_IOT.
        let submod = attest(&verifier, &device).await;
        assert_eq!(submod["ear.status"], "affirming");
        assert_eq!(submod["ear.appraisal-policy-id"], "policy:PSA_IOT");

        let created = manager
            .create_policy("PSA_IOT", &PolicyName::default(), UNSAFE)
            .await
            .unwrap();
        manager
            .activate_policy("PSA_IOT", created.policy.id)
            .await
            .unwrap();
        // Read-your-writes on the instance that activated it.
        let expected = format!("policy:PSA_IOT/{}", created.policy.id);
        let submod = attest(&manager, &device).await;
        assert_eq!(submod["ear.appraisal-policy-id"], expected.as_str());
        assert_eq!(submod["ear.status"], "warning");
        assert_eq!(submod["ear.trustworthiness-vector"]["executables"], 32);

        // The other instance follows once the change arrives.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let submod = attest(&verifier, &device).await;
            if submod["ear.appraisal-policy-id"] == expected.as_str() {
                assert_eq!(submod["ear.status"], "warning");
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never saw the policy"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        manager.deactivate_policies("PSA_IOT").await.unwrap();
        assert!(matches!(
            manager.active_policy("PSA_IOT").await,
            Err(TrustError::NotFound(_))
        ));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let submod = attest(&verifier, &device).await;
            if submod["ear.appraisal-policy-id"] == "policy:PSA_IOT" {
                assert_eq!(submod["ear.status"], "affirming");
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never saw the deactivation"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn a_policy_that_fails_gives_a_signed_malfunction_result() {
        let service = service(Arc::new(MemoryStore::new()));
        let device = Device::generate().unwrap();
        provision(&service, &device).await;
        // Compiles, but sets a trust claim out of range, which only
        // evaluation can see.
        let rules = "package policy\n\nexecutables = 1000\n";
        let created = service
            .create_policy("PSA_IOT", &PolicyName::default(), rules)
            .await
            .unwrap();
        service
            .activate_policy("PSA_IOT", created.policy.id)
            .await
            .unwrap();
        let submod = attest(&service, &device).await;
        assert_eq!(submod["ear.status"], "none");
        for (claim, value) in submod["ear.trustworthiness-vector"].as_object().unwrap() {
            assert_eq!(value, -1, "{claim}");
        }
        let problem = submod["ear.veraison.policy-claims"]["problem"]
            .as_str()
            .unwrap();
        assert!(problem.starts_with("policy failed: "), "{problem}");
    }
}
