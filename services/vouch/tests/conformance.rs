//! Conformance over the shared Veraison vectors (`../shared/vectors`, or
//! `VOUCH_VECTORS`), with the whole of Vouch in-process on SQLite. The
//! checks live in `common/conformance.rs`; `tests/topology.rs` runs the same
//! ones with one process per role on PostgreSQL and memcached.

mod common;

use common::conformance;
use common::spawn_app;
use vouch_testkit::vectors;

#[tokio::test]
async fn psa_01_good_tokens_are_affirming_with_current_and_legacy_corims() {
    let Some(dir) = vectors::dir() else { return };
    conformance::psa_01_good_tokens_are_affirming_with_current_and_legacy_corims(&dir, &spawn_app)
        .await;
}

#[tokio::test]
async fn psa_02_nonce_mismatch_fails_freshness() {
    let Some(dir) = vectors::dir() else { return };
    conformance::psa_02_nonce_mismatch_fails_freshness(&dir, &spawn_app).await;
}

#[tokio::test]
async fn psa_03_wrong_key_fails_signature_verification() {
    let Some(dir) = vectors::dir() else { return };
    conformance::psa_03_wrong_key_fails_signature_verification(&dir, &spawn_app).await;
}

#[tokio::test]
async fn psa_04_unknown_instances_have_no_trust_anchor() {
    let Some(dir) = vectors::dir() else { return };
    conformance::psa_04_unknown_instances_have_no_trust_anchor(&dir, &spawn_app).await;
}

#[tokio::test]
async fn psa_05_unknown_software_is_a_warning() {
    let Some(dir) = vectors::dir() else { return };
    conformance::psa_05_unknown_software_is_a_warning(&dir, &spawn_app).await;
}

#[tokio::test]
async fn psa_06_missing_claims_and_multiple_nonces_establish_no_identity() {
    let Some(dir) = vectors::dir() else { return };
    conformance::psa_06_missing_claims_and_multiple_nonces_establish_no_identity(&dir, &spawn_app)
        .await;
}

#[tokio::test]
async fn psa_07_components_without_version() {
    let Some(dir) = vectors::dir() else { return };
    conformance::psa_07_components_without_version(&dir, &spawn_app).await;
}

#[tokio::test]
async fn psa_08_profile_1_token_against_its_legacy_trust_anchor() {
    let Some(dir) = vectors::dir() else { return };
    conformance::psa_08_profile_1_token_against_its_legacy_trust_anchor(&dir, &spawn_app).await;
}

#[tokio::test]
async fn psa_09_genuine_tf_m_tokens() {
    let Some(dir) = vectors::dir() else { return };
    conformance::psa_09_genuine_tf_m_tokens(&dir, &spawn_app).await;
}

#[tokio::test]
async fn psa_10_and_every_negative_token_is_refused_without_a_server_error() {
    let Some(dir) = vectors::dir() else { return };
    conformance::psa_10_and_every_negative_token_is_refused_without_a_server_error(
        &dir, &spawn_app,
    )
    .await;
}

#[tokio::test]
async fn psa_corims_are_accepted_or_refused_as_the_manifest_says() {
    let Some(dir) = vectors::dir() else { return };
    conformance::psa_corims_are_accepted_or_refused_as_the_manifest_says(&dir, &spawn_app).await;
}
