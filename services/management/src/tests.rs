//! The routes against an in-memory policy admin: every route, status,
//! media type and error text, and the `manager` role check.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use base64::Engine as _;
use http::{HeaderMap, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt as _;
use vouch_auth::{Authenticator, User};
use vouch_trust_api::{
    AttestationOutcome, AttestationRequest, AttestationStatus, Attester, AttesterFilter,
    AttesterPage, CreatedPolicy, FleetAdmin, FleetCount, FleetSummary, HistoryPoint, MediaType,
    Policy, PolicyAdmin, PolicyId, PolicyName, ServiceState, ServiceStatus, SubmitOutcome, Trust,
    TrustError, VerdictHistory, check_filter, check_history_minutes, check_stale_minutes,
};

use super::*;

const GOOD_RULES: &str = "package policy\n\nexecutables = APPROVED_RT\n";
const OTHER_RULES: &str = "package policy\n\nexecutables = UNSAFE_RT\n";

/// Policies in memory, with the admin's contract: schemes checked, rules
/// "compiled" (a rule left without a value does not compile), nothing
/// stored on error, creation idempotent on (scheme, name, rules).
#[derive(Default)]
struct FakeAdmin {
    policies: Mutex<Vec<Policy>>,
    next_id: AtomicU8,
    /// Every call fails as unavailable while set.
    down: AtomicBool,
}

impl FakeAdmin {
    fn check(&self, scheme: &str) -> Result<(), TrustError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(TrustError::unavailable("store is down"));
        }
        if ["ARM_CCA", "PSA_IOT"].contains(&scheme) {
            Ok(())
        } else {
            Err(TrustError::InvalidInput(format!(
                "unrecognised scheme {scheme:?}"
            )))
        }
    }

    fn stored(&self, scheme: &str) -> Result<Vec<Policy>, TrustError> {
        self.check(scheme)?;
        let policies: Vec<Policy> = self
            .policies
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.scheme == scheme)
            .cloned()
            .collect();
        if policies.is_empty() {
            return Err(TrustError::NotFound(format!("no policies for {scheme}")));
        }
        Ok(policies)
    }
}

#[async_trait::async_trait]
impl PolicyAdmin for FakeAdmin {
    async fn policy_schemes(&self) -> Result<Vec<String>, TrustError> {
        self.check("PSA_IOT")?;
        Ok(vec!["ARM_CCA".to_owned(), "PSA_IOT".to_owned()])
    }

    async fn create_policy(
        &self,
        scheme: &str,
        name: &PolicyName,
        rules: &str,
    ) -> Result<CreatedPolicy, TrustError> {
        self.check(scheme)?;
        if !rules.starts_with("package policy") || rules.lines().any(|l| l.trim().ends_with('=')) {
            return Err(TrustError::InvalidInput(
                "invalid policy: policy.rego:2: incomplete rule".to_owned(),
            ));
        }
        let mut policies = self.policies.lock().unwrap();
        if let Some(same) = policies
            .iter()
            .find(|p| p.scheme == scheme && p.name == name.as_str() && p.rules == rules)
        {
            return Ok(CreatedPolicy {
                policy: same.clone(),
                created: false,
            });
        }
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        let policy = Policy {
            id: PolicyId::from_bytes([n; 16]),
            scheme: scheme.to_owned(),
            name: name.as_str().to_owned(),
            rules: rules.to_owned(),
            active: false,
            created_at_us: 1_764_892_800_000_000 + i64::from(n),
            version: i64::from(n),
        };
        policies.push(policy.clone());
        Ok(CreatedPolicy {
            policy,
            created: true,
        })
    }

    async fn activate_policy(&self, scheme: &str, id: PolicyId) -> Result<(), TrustError> {
        self.check(scheme)?;
        let mut policies = self.policies.lock().unwrap();
        if !policies.iter().any(|p| p.scheme == scheme && p.id == id) {
            return Err(TrustError::NotFound("policy not found".to_owned()));
        }
        for p in policies.iter_mut().filter(|p| p.scheme == scheme) {
            p.active = p.id == id;
        }
        Ok(())
    }

    async fn active_policy(&self, scheme: &str) -> Result<Policy, TrustError> {
        self.stored(scheme)?
            .into_iter()
            .find(|p| p.active)
            .ok_or_else(|| TrustError::NotFound("no active policy".to_owned()))
    }

    async fn policy(&self, scheme: &str, id: PolicyId) -> Result<Policy, TrustError> {
        self.check(scheme)?;
        self.policies
            .lock()
            .unwrap()
            .iter()
            .find(|p| p.scheme == scheme && p.id == id)
            .cloned()
            .ok_or_else(|| TrustError::NotFound("policy not found".to_owned()))
    }

    async fn policies(
        &self,
        scheme: &str,
        name: Option<&PolicyName>,
    ) -> Result<Vec<Policy>, TrustError> {
        let mut policies = self.stored(scheme)?;
        if let Some(name) = name {
            policies.retain(|p| p.name == name.as_str());
        }
        Ok(policies)
    }

    async fn deactivate_policies(&self, scheme: &str) -> Result<(), TrustError> {
        self.stored(scheme)?;
        for p in self.policies.lock().unwrap().iter_mut() {
            if p.scheme == scheme {
                p.active = false;
            }
        }
        Ok(())
    }
}

/// Management only asks trust for its state.
struct FakeTrust;

#[async_trait::async_trait]
impl Trust for FakeTrust {
    async fn service_state(&self) -> Result<ServiceState, TrustError> {
        Ok(ServiceState {
            status: ServiceStatus::Ready,
            version: "9.9.9".to_owned(),
        })
    }

    async fn attest(&self, _: AttestationRequest) -> Result<AttestationOutcome, TrustError> {
        Err(TrustError::Internal("not a management call".to_owned()))
    }

    async fn verification_media_types(&self) -> Result<Arc<[MediaType]>, TrustError> {
        Err(TrustError::Internal("not a management call".to_owned()))
    }

    async fn provisioning_media_types(&self) -> Result<Arc<[MediaType]>, TrustError> {
        Err(TrustError::Internal("not a management call".to_owned()))
    }

    async fn submit_endorsements(
        &self,
        _: &MediaType,
        _: Bytes,
    ) -> Result<SubmitOutcome, TrustError> {
        Err(TrustError::Internal("not a management call".to_owned()))
    }

    async fn ear_public_key(&self) -> Result<Arc<Value>, TrustError> {
        Err(TrustError::Internal("not a management call".to_owned()))
    }
}

/// 2026-12-01T00:00:00Z, in microseconds: the fake fleet's "now".
const FLEET_NOW: i64 = 1_796_083_200_000_000;

/// A fleet in memory: attesters `PSA_IOT` `A0` to `A9` (every third
/// contraindicated, the others affirming; `A0` not seen for two hours) and
/// one `CCA_SSD_PLATFORM` attester, with the trust side's argument checks.
struct FakeFleet {
    attesters: Vec<Attester>,
}

impl Default for FakeFleet {
    fn default() -> Self {
        let attester = |scheme: &str, id: String, status, minutes_ago: i64| Attester {
            scheme: scheme.to_owned(),
            id,
            status,
            trust_vector: json!({ scheme: {"hardware": 2} }),
            first_seen_us: FLEET_NOW - 3_600_000_000 * 24,
            last_seen_us: FLEET_NOW - minutes_ago * 60_000_000,
            appraisals: 3,
        };
        let mut attesters: Vec<Attester> = (0..10)
            .map(|n| {
                let status = if n % 3 == 0 {
                    AttestationStatus::Contraindicated
                } else {
                    AttestationStatus::Affirming
                };
                attester(
                    "PSA_IOT",
                    format!("A{n}"),
                    status,
                    if n == 0 { 120 } else { 1 },
                )
            })
            .collect();
        attesters.push(attester(
            "CCA_SSD_PLATFORM",
            "Bw".into(),
            AttestationStatus::Warning,
            1,
        ));
        attesters.sort_by(|a, b| (&a.scheme, &a.id).cmp(&(&b.scheme, &b.id)));
        FakeFleet { attesters }
    }
}

#[async_trait::async_trait]
impl FleetAdmin for FakeFleet {
    async fn fleet_summary(&self, stale_minutes: u32) -> Result<FleetSummary, TrustError> {
        check_stale_minutes(stale_minutes)?;
        let stale_before = FLEET_NOW - i64::from(stale_minutes) * 60_000_000;
        let mut counts: Vec<FleetCount> = Vec::new();
        for a in &self.attesters {
            let stale = u64::from(a.last_seen_us < stale_before);
            match counts
                .iter_mut()
                .find(|c| c.scheme == a.scheme && c.status == a.status)
            {
                Some(count) => {
                    count.attesters += 1;
                    count.stale += stale;
                }
                None => counts.push(FleetCount {
                    scheme: a.scheme.clone(),
                    status: a.status,
                    attesters: 1,
                    stale,
                }),
            }
        }
        Ok(FleetSummary {
            as_of_us: FLEET_NOW,
            stale_minutes,
            counts,
        })
    }

    async fn attesters(&self, filter: &AttesterFilter) -> Result<AttesterPage, TrustError> {
        check_filter(filter)?;
        if let Some(scheme) = &filter.scheme
            && !["PSA_IOT", "CCA_SSD_PLATFORM"].contains(&scheme.as_str())
        {
            return Err(TrustError::InvalidInput(format!(
                "unrecognised scheme {scheme:?}"
            )));
        }
        let mut kept: Vec<Attester> = self
            .attesters
            .iter()
            .filter(|a| {
                filter.scheme.as_ref().is_none_or(|s| *s == a.scheme)
                    && filter.status.is_none_or(|s| s == a.status)
                    && filter
                        .id_prefix
                        .as_ref()
                        .is_none_or(|p| a.id.starts_with(p.as_str()))
                    && filter
                        .after
                        .as_ref()
                        .is_none_or(|(s, i)| (&a.scheme, &a.id) > (s, i))
            })
            .cloned()
            .collect();
        let limit = filter.limit as usize;
        let next = (kept.len() > limit).then(|| {
            let last = &kept[limit - 1];
            (last.scheme.clone(), last.id.clone())
        });
        kept.truncate(limit);
        Ok(AttesterPage {
            attesters: kept,
            next,
        })
    }

    async fn verdict_history(&self, minutes: u32) -> Result<VerdictHistory, TrustError> {
        check_history_minutes(minutes)?;
        Ok(VerdictHistory {
            as_of_us: FLEET_NOW,
            minutes,
            points: vec![HistoryPoint {
                minute: FLEET_NOW / 60_000_000 - 1,
                scheme: "PSA_IOT".into(),
                status: AttestationStatus::Affirming,
                verdicts: 27,
            }],
        })
    }
}

fn service_with(config: ManagementConfig) -> (Router, Arc<FakeAdmin>) {
    let admin = Arc::new(FakeAdmin::default());
    let trust: Arc<dyn Trust> = Arc::new(FakeTrust);
    let backends = Backends {
        admin: admin.clone(),
        trust: trust.clone(),
        fleet: Arc::new(FakeFleet::default()),
    };
    let router = router(backends, config, health(trust));
    (router, admin)
}

fn service() -> Router {
    service_with(ManagementConfig::default()).0
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&self.body)))
    }

    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .map_or("", |v| v.to_str().unwrap())
    }

    /// Asserts a problem+json answer with `status` and returns its detail.
    fn problem(&self, status: StatusCode) -> String {
        assert_eq!(
            self.status,
            status,
            "{:?}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.content_type(), "application/problem+json");
        let body = self.json();
        assert_eq!(body["type"], "about:blank");
        assert_eq!(body["status"], status.as_u16());
        assert_eq!(body["title"], status.canonical_reason().unwrap());
        body["detail"].as_str().unwrap_or_default().to_owned()
    }
}

async fn send(router: &Router, request: Request<axum::body::Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

fn get(path: &str) -> http::request::Builder {
    Request::get(path)
}

fn post(path: &str) -> http::request::Builder {
    Request::post(path)
}

fn empty(builder: http::request::Builder) -> Request<axum::body::Body> {
    builder.body(axum::body::Body::empty()).unwrap()
}

fn rules(path: &str, rules: &str) -> Request<axum::body::Body> {
    post(path)
        .header(header::CONTENT_TYPE, RULES_MEDIA_TYPE)
        .body(axum::body::Body::from(rules.to_owned()))
        .unwrap()
}

async fn create(router: &Router, path: &str, text: &str) -> Value {
    let answer = send(router, rules(path, text)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    assert_eq!(answer.content_type(), POLICY_MEDIA_TYPE);
    answer.json()
}

async fn list(router: &Router, path: &str) -> Answer {
    send(router, empty(get(path))).await
}

const POLICY: &str = "/management/v1/policy/PSA_IOT";
const POLICIES: &str = "/management/v1/policies/PSA_IOT";

#[tokio::test]
async fn veraisons_policy_management_sequence() {
    let router = service();
    // Nothing stored yet.
    send(&router, empty(get(POLICY)))
        .await
        .problem(StatusCode::NOT_FOUND);

    let first = create(&router, POLICY, GOOD_RULES).await;
    assert_eq!(first["name"], "default");
    assert_eq!(first["type"], "opa");
    assert_eq!(first["rules"], GOOD_RULES);
    assert_eq!(first["active"], false);
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["uuid", "ctime", "name", "type", "rules", "active"]);
    let uuid = first["uuid"].as_str().unwrap().to_owned();

    // Stored, but none active.
    send(&router, empty(get(POLICY)))
        .await
        .problem(StatusCode::NOT_FOUND);
    let by_id = send(&router, empty(get(&format!("{POLICY}/{uuid}")))).await;
    assert_eq!(by_id.status, StatusCode::OK);
    assert_eq!(by_id.content_type(), POLICY_MEDIA_TYPE);
    assert_eq!(by_id.json(), first);

    let activated = send(&router, empty(post(&format!("{POLICY}/{uuid}/activate")))).await;
    assert_eq!(activated.status, StatusCode::OK);
    assert!(activated.body.is_empty());
    let active = send(&router, empty(get(POLICY))).await;
    assert_eq!(active.status, StatusCode::OK);
    assert_eq!(active.content_type(), POLICY_MEDIA_TYPE);
    assert_eq!(active.json()["uuid"], uuid.as_str());
    assert_eq!(active.json()["active"], true);

    let bad = send(&router, empty(get("/management/v1/policy/BAD"))).await;
    bad.problem(StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.json(),
        json!({"type": "about:blank", "title": "Bad Request", "status": 400,
               "detail": "unrecognised scheme \"BAD\""})
    );

    let second = create(&router, &format!("{POLICY}?name=test"), OTHER_RULES).await;
    assert_eq!(second["name"], "test");
    assert_eq!(second["active"], false);
    assert_ne!(second["uuid"], uuid.as_str());
    let active = send(&router, empty(get(POLICY))).await;
    assert_eq!(active.json()["uuid"], uuid.as_str(), "still the first");

    let all = list(&router, POLICIES).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(all.content_type(), POLICIES_MEDIA_TYPE);
    let all = all.json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["active"], true);
    assert_eq!(all[1]["active"], false);
    let named = list(&router, &format!("{POLICIES}?name=test")).await.json();
    assert_eq!(named.as_array().unwrap().len(), 1);
    assert_eq!(named[0]["uuid"], second["uuid"]);
    assert_eq!(
        list(&router, &format!("{POLICIES}?name=nobody"))
            .await
            .json(),
        json!([]),
        "a name matching nothing is an empty list"
    );
    // An empty name is no filter, as in Veraison.
    assert_eq!(
        list(&router, &format!("{POLICIES}?name=")).await.json(),
        all
    );

    let deactivated = send(&router, empty(post(&format!("{POLICIES}/deactivate")))).await;
    assert_eq!(deactivated.status, StatusCode::OK);
    assert!(deactivated.body.is_empty());
    let all = list(&router, POLICIES).await.json();
    assert!(
        all.as_array().unwrap().iter().all(|p| p["active"] == false),
        "{all}"
    );
    send(&router, empty(get(POLICY)))
        .await
        .problem(StatusCode::NOT_FOUND);

    // Another scheme's policies are its own.
    list(&router, "/management/v1/policies/ARM_CCA")
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn creating_checks_the_format_the_body_and_the_rules() {
    let (router, admin) = service_with(ManagementConfig {
        limits: Limits {
            max_body_bytes: 1024,
            ..ManagementConfig::default().limits
        },
        ..ManagementConfig::default()
    });
    let format = "the only supported rules format is application/vnd.veraison.policy.opa";
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/vnd.veraison.policy.opa+x"),
    ] {
        let mut request = post(POLICY);
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        let request = request.body(axum::body::Body::from(GOOD_RULES)).unwrap();
        let detail = send(&router, request)
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(detail, format, "{content_type:?}");
    }
    let detail = send(&router, rules(POLICY, ""))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(detail, "empty body");
    let not_utf8 = post(POLICY)
        .header(header::CONTENT_TYPE, RULES_MEDIA_TYPE)
        .body(axum::body::Body::from(vec![b'p', 0xff, 0xfe]))
        .unwrap();
    let detail = send(&router, not_utf8)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(
        detail.starts_with("the policy rules are not UTF-8"),
        "{detail}"
    );
    let detail = send(&router, rules(POLICY, "package policy\nexecutables = "))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(detail, "invalid policy: policy.rego:2: incomplete rule");
    let detail = send(&router, rules("/management/v1/policy/BAD", GOOD_RULES))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert_eq!(detail, "unrecognised scheme \"BAD\"");
    let long_name = format!("{POLICY}?name={}", "n".repeat(101));
    let detail = send(&router, rules(&long_name, GOOD_RULES))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(detail.contains("longer than 100"), "{detail}");
    let detail = send(&router, rules(POLICY, &"#".repeat(1025)))
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(detail.contains("larger"), "{detail}");
    // Asking for another output format is refused before anything else.
    let request = post(POLICY)
        .header(header::ACCEPT, "application/json")
        .body(axum::body::Body::empty())
        .unwrap();
    let detail = send(&router, request)
        .await
        .problem(StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        detail,
        "the only supported output format is application/vnd.veraison.policy+json"
    );
    // None of these stored anything.
    list(&router, POLICIES).await.problem(StatusCode::NOT_FOUND);
    assert!(admin.policies.lock().unwrap().is_empty());

    // A charset parameter is tolerated; the policy's name defaults.
    let request = post(&format!("{POLICY}?name="))
        .header(
            header::CONTENT_TYPE,
            "application/vnd.veraison.policy.opa; charset=utf-8",
        )
        .header(header::ACCEPT, "application/vnd.veraison.policy+json")
        .body(axum::body::Body::from(GOOD_RULES))
        .unwrap();
    let answer = send(&router, request).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.json()["name"], "default");
}

#[tokio::test]
async fn a_retried_create_returns_the_stored_policy() {
    let (router, admin) = service_with(ManagementConfig::default());
    let first = create(&router, POLICY, GOOD_RULES).await;
    let again = create(&router, POLICY, GOOD_RULES).await;
    assert_eq!(again, first);
    assert_eq!(admin.policies.lock().unwrap().len(), 1);
    let renamed = create(&router, &format!("{POLICY}?name=other"), GOOD_RULES).await;
    assert_ne!(renamed["uuid"], first["uuid"]);
    assert_eq!(
        list(&router, POLICIES)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn ids_schemes_and_missing_policies() {
    let router = service();
    let unknown = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    // Nothing stored at all: 404 from every route that reads.
    send(&router, empty(post(&format!("{POLICIES}/deactivate"))))
        .await
        .problem(StatusCode::NOT_FOUND);
    send(
        &router,
        empty(post(&format!("{POLICY}/{unknown}/activate"))),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    send(&router, empty(get(&format!("{POLICY}/{unknown}"))))
        .await
        .problem(StatusCode::NOT_FOUND);

    create(&router, POLICY, GOOD_RULES).await;
    send(&router, empty(get(&format!("{POLICY}/{unknown}"))))
        .await
        .problem(StatusCode::NOT_FOUND);
    let detail = send(
        &router,
        empty(post(&format!("{POLICY}/{unknown}/activate"))),
    )
    .await
    .problem(StatusCode::NOT_FOUND);
    assert_eq!(detail, "policy not found");
    send(&router, empty(get(POLICY)))
        .await
        .problem(StatusCode::NOT_FOUND);

    for (request, what) in [
        (empty(get(&format!("{POLICY}/x"))), "x"),
        (empty(post(&format!("{POLICY}/x/activate"))), "x"),
        (empty(get(&format!("{POLICY}/activate"))), "activate"),
        (
            empty(get(&format!(
                "{POLICY}/6ba7b810-9dad-11d1-80b4-00c04fd430c"
            ))),
            "6ba7b810-9dad-11d1-80b4-00c04fd430c",
        ),
    ] {
        let detail = send(&router, request)
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(detail, format!("bad UUID \"{what}\""));
    }

    let bad = "unrecognised scheme \"BAD\"";
    for request in [
        empty(get("/management/v1/policy/BAD")),
        empty(get(&format!("/management/v1/policy/BAD/{unknown}"))),
        empty(post(&format!(
            "/management/v1/policy/BAD/{unknown}/activate"
        ))),
        empty(get("/management/v1/policies/BAD")),
        empty(post("/management/v1/policies/BAD/deactivate")),
    ] {
        let what = format!("{} {}", request.method(), request.uri());
        let detail = send(&router, request)
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert_eq!(detail, bad, "{what}");
    }
}

#[tokio::test]
async fn accept_negotiation_as_veraison() {
    let router = service();
    create(&router, POLICY, GOOD_RULES).await;
    let accept = |path: &str, value: &str| {
        get(path)
            .header(header::ACCEPT, value)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let uuid = list(&router, POLICIES).await.json()[0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let one = format!("{POLICY}/{uuid}");
    for (path, offer) in [
        (POLICY, POLICY_MEDIA_TYPE),
        (one.as_str(), POLICY_MEDIA_TYPE),
        (POLICIES, POLICIES_MEDIA_TYPE),
    ] {
        let detail = send(&router, accept(path, "application/json"))
            .await
            .problem(StatusCode::NOT_ACCEPTABLE);
        assert_eq!(
            detail,
            format!("the only supported output format is {offer}")
        );
        // The offer itself, wildcards, and a list including it are fine
        // (the active policy is 404 here, which is past negotiation).
        for ok in [
            offer,
            "*/*",
            "application/*",
            &format!("text/html, {offer};q=0.5"),
        ] {
            let answer = send(&router, accept(path, ok)).await;
            assert_ne!(answer.status, StatusCode::NOT_ACCEPTABLE, "{path} {ok}");
        }
    }
    // The list is not offered as a single policy, nor the other way round.
    send(&router, accept(POLICIES, POLICY_MEDIA_TYPE))
        .await
        .problem(StatusCode::NOT_ACCEPTABLE);
    send(&router, accept(&one, POLICIES_MEDIA_TYPE))
        .await
        .problem(StatusCode::NOT_ACCEPTABLE);
}

fn expected_discovery() -> Value {
    json!({
        "attestation-schemes": ["ARM_CCA", "PSA_IOT"],
        "version": "9.9.9",
        "service-state": "READY",
        "api-endpoints": {
            "activatePolicy": "/management/v1/policy/:scheme/:uuid/activate",
            "createPolicy": "/management/v1/policy/:scheme",
            "deactivatePolicies": "/management/v1/policies/:scheme/deactivate",
            "getActivePolicy": "/management/v1/policy/:scheme",
            "getPolicies": "/management/v1/policies/:scheme",
            "getPolicy": "/management/v1/policy/:scheme/:uuid"
        }
    })
}

#[tokio::test]
async fn the_discovery_document() {
    let router = service();
    let answer = send(&router, empty(get("/.well-known/veraison/management"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type(), DISCOVERY_MEDIA_TYPE);
    assert_eq!(answer.json(), expected_discovery());
    let text = String::from_utf8(answer.body.to_vec()).unwrap();
    assert!(text.starts_with("{\"attestation-schemes\""), "{text}");
    let request = get("/.well-known/veraison/management")
        .header(header::ACCEPT, "text/html")
        .body(axum::body::Body::empty())
        .unwrap();
    let detail = send(&router, request)
        .await
        .problem(StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        detail,
        "the only supported output format is application/vnd.veraison.discovery+json"
    );
}

#[tokio::test]
async fn trust_outages_unknown_routes_and_wrong_methods() {
    let (router, admin) = service_with(ManagementConfig::default());
    admin.down.store(true, Ordering::SeqCst);
    for request in [
        empty(get(POLICY)),
        rules(POLICY, GOOD_RULES),
        empty(get("/.well-known/veraison/management")),
    ] {
        let answer = send(&router, request).await;
        answer.problem(StatusCode::SERVICE_UNAVAILABLE);
        assert!(answer.headers.contains_key(header::RETRY_AFTER));
    }
    admin.down.store(false, Ordering::SeqCst);
    send(&router, empty(get("/management/v1/nothing")))
        .await
        .problem(StatusCode::NOT_FOUND);
    send(&router, empty(Request::delete(POLICY)))
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED);
    for path in ["/healthz", "/readyz"] {
        assert_eq!(send(&router, empty(get(path))).await.status, StatusCode::OK);
    }
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[tokio::test]
async fn the_api_needs_the_manager_role_and_discovery_stays_open() {
    let user = |name: &str, password: &str, roles: &[&str]| User {
        name: name.to_owned(),
        password_hash: vouch_auth::hash_password(password.as_bytes()).unwrap(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    let auth = Authenticator::basic(vec![
        user("ops", "s3cret", &["manager"]),
        user("supply", "chain", &["provisioner"]),
    ])
    .unwrap();
    let (router, admin) = service_with(ManagementConfig {
        auth,
        ..ManagementConfig::default()
    });
    let with = |request: http::request::Builder, authorization: Option<&str>| match authorization {
        Some(value) => request.header(header::AUTHORIZATION, value),
        None => request,
    };
    let ops = basic("ops", "s3cret");
    let supply = basic("supply", "chain");
    let wrong = basic("ops", "guess");
    let requests = |authorization: Option<&str>| {
        let create = with(post(POLICY), authorization)
            .header(header::CONTENT_TYPE, RULES_MEDIA_TYPE)
            .body(axum::body::Body::from(GOOD_RULES))
            .unwrap();
        vec![
            create,
            empty(with(get(POLICY), authorization)),
            empty(with(get(POLICIES), authorization)),
            empty(with(
                get(&format!("{POLICY}/6ba7b810-9dad-11d1-80b4-00c04fd430c8")),
                authorization,
            )),
            empty(with(
                post(&format!(
                    "{POLICY}/6ba7b810-9dad-11d1-80b4-00c04fd430c8/activate"
                )),
                authorization,
            )),
            empty(with(post(&format!("{POLICIES}/deactivate")), authorization)),
            empty(with(get("/fleet/v1/summary"), authorization)),
            empty(with(get("/fleet/v1/attesters"), authorization)),
            empty(with(get("/fleet/v1/history"), authorization)),
        ]
    };
    for (authorization, status) in [
        (None, StatusCode::UNAUTHORIZED),
        (Some(wrong.as_str()), StatusCode::UNAUTHORIZED),
        (Some("Bearer abc.def.ghi"), StatusCode::UNAUTHORIZED),
        (Some(supply.as_str()), StatusCode::FORBIDDEN),
    ] {
        for request in requests(authorization) {
            let what = format!(
                "{} {} as {authorization:?}",
                request.method(),
                request.uri()
            );
            let answer = send(&router, request).await;
            let detail = answer.problem(status);
            if status == StatusCode::UNAUTHORIZED {
                let challenge = answer.headers[header::WWW_AUTHENTICATE].to_str().unwrap();
                assert!(
                    challenge.starts_with("Basic realm=\"vouch\""),
                    "{what}: {challenge}"
                );
            } else {
                assert_eq!(
                    detail, "the manager role is required for this API",
                    "{what}"
                );
            }
        }
    }
    assert!(admin.policies.lock().unwrap().is_empty(), "nothing stored");

    // The manager gets through every route.
    let statuses: Vec<StatusCode> = {
        let mut statuses = Vec::new();
        for request in requests(Some(&ops)) {
            statuses.push(send(&router, request).await.status);
        }
        statuses
    };
    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::NOT_FOUND,
            StatusCode::OK,
            StatusCode::NOT_FOUND,
            StatusCode::NOT_FOUND,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
        ]
    );
    assert_eq!(admin.policies.lock().unwrap().len(), 1);

    // Discovery and health need no credentials.
    let answer = send(&router, empty(get("/.well-known/veraison/management"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), expected_discovery());
    for path in ["/healthz", "/readyz"] {
        assert_eq!(send(&router, empty(get(path))).await.status, StatusCode::OK);
    }
    // Nor does the dashboard, which holds no data.
    for path in ["/fleet/", "/fleet/fleet.js", "/fleet/fleet.css"] {
        assert_eq!(
            send(&router, empty(get(path))).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_fleet_summary_adds_up_and_takes_a_stale_threshold() {
    let router = service();
    let answer = send(&router, empty(get("/fleet/v1/summary"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type(), FLEET_MEDIA_TYPE);
    assert_eq!(
        answer.json(),
        json!({
            "as_of": "2026-12-01T00:00:00Z",
            "stale_minutes": 60,
            "total": 11,
            "stale": 1,
            "statuses": {"affirming": 6, "warning": 1, "contraindicated": 4, "none": 0},
            "schemes": [
                {"scheme": "CCA_SSD_PLATFORM", "total": 1, "stale": 0,
                 "statuses": {"affirming": 0, "warning": 1, "contraindicated": 0, "none": 0}},
                {"scheme": "PSA_IOT", "total": 10, "stale": 1,
                 "statuses": {"affirming": 6, "warning": 0, "contraindicated": 4, "none": 0}},
            ],
        })
    );
    let answer = send(&router, empty(get("/fleet/v1/summary?stale_minutes=180"))).await;
    assert_eq!(answer.json()["stale"], 0);
    for (query, expect) in [
        ("stale_minutes=0", "stale_minutes must be 1 to 525600"),
        (
            "stale_minutes=-5",
            "stale_minutes must be a whole number, got \"-5\"",
        ),
        (
            "stale_minutes=1e3",
            "stale_minutes must be a whole number, got \"1e3\"",
        ),
        (
            "stale_minutes=",
            "stale_minutes must be a whole number, got \"\"",
        ),
    ] {
        let answer = send(&router, empty(get(&format!("/fleet/v1/summary?{query}")))).await;
        assert_eq!(answer.problem(StatusCode::BAD_REQUEST), expect, "{query}");
    }
}

#[tokio::test]
async fn attesters_page_with_cursors_and_filter() {
    let router = service();
    let mut seen = Vec::new();
    let mut path = "/fleet/v1/attesters?limit=4".to_owned();
    loop {
        let answer = send(&router, empty(get(&path))).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        let page = answer.json();
        for a in page["attesters"].as_array().unwrap() {
            seen.push(format!(
                "{}/{}",
                a["scheme"].as_str().unwrap(),
                a["id"].as_str().unwrap()
            ));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/fleet/v1/attesters?limit=4&cursor={cursor}"),
            None => break,
        }
    }
    let mut expected = vec!["CCA_SSD_PLATFORM/Bw".to_owned()];
    expected.extend((0..10).map(|n| format!("PSA_IOT/A{n}")));
    assert_eq!(seen, expected);

    let answer = send(
        &router,
        empty(get(
            "/fleet/v1/attesters?scheme=PSA_IOT&status=contraindicated&q=A",
        )),
    )
    .await;
    let page = answer.json();
    let ids: Vec<&str> = page["attesters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["A0", "A3", "A6", "A9"]);
    assert_eq!(page["next_cursor"], Value::Null);
    assert_eq!(
        page["attesters"][0],
        json!({
            "scheme": "PSA_IOT",
            "id": "A0",
            "status": "contraindicated",
            "trust_vector": {"PSA_IOT": {"hardware": 2}},
            "first_seen": "2026-11-30T00:00:00Z",
            "last_seen": "2026-11-30T22:00:00Z",
            "verdicts": 3,
        })
    );

    for (query, expect) in [
        (
            "status=trusted",
            "unknown status \"trusted\": one of affirming, warning, contraindicated, none",
        ),
        ("limit=0", "limit must be 1 to 1000"),
        ("limit=1001", "limit must be 1 to 1000"),
        ("limit=ten", "limit must be a whole number, got \"ten\""),
        (
            "cursor=%21%21",
            "malformed cursor: pass next_cursor as it came",
        ),
        (
            "q=A%3D",
            "an attester id prefix is base64url text (A-Z, a-z, 0-9, - and _)",
        ),
        ("scheme=NOPE", "unrecognised scheme \"NOPE\""),
    ] {
        let answer = send(&router, empty(get(&format!("/fleet/v1/attesters?{query}")))).await;
        assert_eq!(answer.problem(StatusCode::BAD_REQUEST), expect, "{query}");
    }
}

#[tokio::test]
async fn the_history_is_per_minute_and_bounded() {
    let router = service();
    let answer = send(&router, empty(get("/fleet/v1/history?minutes=360"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.json(),
        json!({
            "as_of": "2026-12-01T00:00:00Z",
            "minutes": 360,
            "points": [{"minute": "2026-11-30T23:59:00Z", "scheme": "PSA_IOT",
                        "status": "affirming", "count": 27}],
        })
    );
    let answer = send(&router, empty(get("/fleet/v1/history?minutes=43201"))).await;
    assert_eq!(
        answer.problem(StatusCode::BAD_REQUEST),
        "minutes must be 1 to 43200"
    );
}

#[tokio::test]
async fn the_dashboard_is_served_with_a_strict_content_security_policy() {
    let router = service();
    let answer = send(&router, empty(get("/fleet"))).await;
    assert_eq!(answer.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(answer.headers[header::LOCATION], "/fleet/");
    for (path, content_type) in [
        ("/fleet/", "text/html; charset=utf-8"),
        ("/fleet/index.html", "text/html; charset=utf-8"),
        ("/fleet/fleet.js", "text/javascript; charset=utf-8"),
        ("/fleet/fleet.css", "text/css; charset=utf-8"),
    ] {
        let answer = send(&router, empty(get(path))).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.content_type(), content_type, "{path}");
        let policy = answer.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(policy.starts_with("default-src 'self';"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
        assert_eq!(answer.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}
