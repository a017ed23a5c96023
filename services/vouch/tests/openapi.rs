//! The OpenAPI 3.1 document each REST listener serves at `/openapi.json`:
//! what it lists is exactly what the listener answers, every reference
//! resolves, and every documented operation, called, answers one of the
//! statuses documented for it. (CI also runs schemathesis against the
//! embedded default: `make openapi-check`.)

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::Value;

async fn document(client: &reqwest::Client, base: &str) -> Value {
    let response = client
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

fn paths(doc: &Value) -> BTreeSet<String> {
    doc["paths"].as_object().unwrap().keys().cloned().collect()
}

/// Every `$ref` in `value` names something in `doc`'s components.
fn check_refs(doc: &Value, value: &Value, at: &str) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let pointer = target
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("{at}: external $ref {target}"));
                assert!(
                    doc.pointer(pointer).is_some(),
                    "{at}: $ref {target} resolves to nothing"
                );
            }
            for (key, inner) in map {
                check_refs(doc, inner, &format!("{at}/{key}"));
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                check_refs(doc, inner, &format!("{at}/{i}"));
            }
        }
        _ => {}
    }
}

/// Calls every documented operation with a plausible request (path
/// parameters filled in, no body) and checks the status is documented for
/// it: an entry without a route would answer the listener's 404 or 405.
async fn every_operation_answers_as_documented(client: &reqwest::Client, base: &str, doc: &Value) {
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let url = format!(
                "{base}{}",
                path.replace("{id}", "2a8a3b1e-6a1f-4d3c-9a55-0b8f2b7f1d11")
                    .replace("{uuid}", "2a8a3b1e-6a1f-4d3c-9a55-0b8f2b7f1d11")
                    .replace("{scheme}", "PSA_IOT")
            );
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = client.request(method.clone(), &url).send().await.unwrap();
            let status = response.status().as_u16().to_string();
            let documented = operation["responses"].as_object().unwrap();
            assert!(
                documented.contains_key(&status),
                "{method} {path} answered {status}, documented {:?}: {}",
                documented.keys().collect::<Vec<_>>(),
                response.text().await.unwrap_or_default()
            );
        }
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn each_listener_documents_exactly_what_it_serves() {
    let app = spawn_app().await;
    let common = ["/healthz", "/readyz", "/metrics", "/openapi.json"];
    let listeners = [
        (
            app.verification.clone(),
            "Vouch verification API",
            vec![
                "/challenge-response/v1/newSession",
                "/challenge-response/v1/session/{id}",
                "/.well-known/veraison/verification",
            ],
        ),
        (
            app.provisioning.clone(),
            "Vouch provisioning API",
            vec![
                "/endorsement-provisioning/v1/submit",
                "/.well-known/veraison/provisioning",
            ],
        ),
        (
            app.management_url().to_owned(),
            "Vouch management API",
            vec![
                "/management/v1/policy/{scheme}",
                "/management/v1/policy/{scheme}/{uuid}",
                "/management/v1/policy/{scheme}/{uuid}/activate",
                "/management/v1/policies/{scheme}",
                "/management/v1/policies/{scheme}/deactivate",
                "/.well-known/veraison/management",
                "/fleet/v1/summary",
                "/fleet/v1/attesters",
                "/fleet/v1/history",
            ],
        ),
    ];
    for (base, title, own) in listeners {
        let doc = document(&app.client, &base).await;
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["title"], title);
        let mut want = set(&own);
        want.extend(set(&common));
        assert_eq!(paths(&doc), want, "{title}");
        check_refs(&doc, &doc, "#");
        every_operation_answers_as_documented(&app.client, &base, &doc).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn request_bodies_list_the_media_types_trust_takes() {
    let app = spawn_app().await;
    let (evidence, corims) = app.advertised_media_types().await;
    let verification = document(&app.client, &app.verification).await;
    let documented: BTreeSet<String> = verification["paths"]["/challenge-response/v1/session/{id}"]
        ["post"]["requestBody"]["content"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for media_type in &evidence {
        assert!(
            documented.contains(media_type),
            "{media_type} not documented"
        );
    }
    assert!(documented.contains("application/cmw+cbor"));
    assert!(!documented.contains("application/octet-stream"));

    let provisioning = document(&app.client, &app.provisioning).await;
    let documented: BTreeSet<String> = provisioning["paths"]["/endorsement-provisioning/v1/submit"]
        ["post"]["requestBody"]["content"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(documented, corims.into_iter().collect::<BTreeSet<_>>());
    let schema = &provisioning["paths"]["/endorsement-provisioning/v1/submit"]["post"]["requestBody"]
        ["content"]["application/corim-unsigned+cbor; profile=\"http://arm.com/psa/iot/1\""]["schema"]
        ["$ref"];
    let schema = provisioning
        .pointer(schema.as_str().unwrap().strip_prefix('#').unwrap())
        .unwrap();
    assert_eq!(
        schema,
        &serde_json::json!({"type": "string", "format": "binary"})
    );
    app.stop().await;
}

#[tokio::test]
async fn without_metrics_the_document_does_not_list_them() {
    let app = spawn_app_with(|s| s.metrics.enabled = false).await;
    let doc = document(&app.client, &app.verification).await;
    assert!(!paths(&doc).contains("/metrics"));
    assert!(paths(&doc).contains("/openapi.json"));
    app.stop().await;
}
