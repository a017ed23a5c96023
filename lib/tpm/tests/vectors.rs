//! The shared conformance vectors for the TPM formats (MANIFEST.md §9.1,
//! §9.2, §9.6 ENACT-*/PTPM-*, §9.7a/b/d, §9.8a/b, §9.10), read at run time.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;
use vouch_crypto::{Hash, SigningKey, VerifyingKey};
use vouch_testkit::vectors;
use vouch_tpm::mint::{self, EnactTrustClaims, ParsecTpmClaims};
use vouch_tpm::{
    AttestType, EnactTrustError, EnactTrustToken, ParsecTpmError, ParsecTpmEvidence, TpmAlgId,
    TpmName, TpmsAttest, TpmtSignature, pcr_digest,
};

const NONCE32_HEX: &str = "414a7c174141b3d0e9a1d28af31520f0d42299feac4007ded89d68ae6cd92f19";
const BASIC_DIGEST_HEX: &str = "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7";
const ENACT_SIG_FAIL: &str = "failed to verify signature";
const PARSEC_KAT_SIG_FAIL: &str = "failed to verify signature on key attestation token: failed to verify signature: Verification failed";

/// The keys the TPM vectors are signed with, by their MANIFEST §9.5 label.
struct Keys {
    enacttrust_ak: VerifyingKey,
    enacttrust_ak_private: SigningKey,
    ec_p256_alt: VerifyingKey,
    ec_p256: VerifyingKey,
    parsec_tpm_ak: VerifyingKey,
}

impl Keys {
    fn labelled(&self) -> [(&'static str, &VerifyingKey); 4] {
        [
            ("enacttrust-ak", &self.enacttrust_ak),
            ("ec.p256.alt", &self.ec_p256_alt),
            ("ec.p256", &self.ec_p256),
            ("parsec-tpm-ak", &self.parsec_tpm_ak),
        ]
    }
}

fn text(dir: &Path, rel: &str) -> String {
    String::from_utf8(vectors::read(dir, rel)).expect("UTF-8")
}

fn json(dir: &Path, rel: &str) -> Value {
    serde_json::from_slice(&vectors::read(dir, rel)).expect("JSON")
}

fn keys(dir: &Path) -> Keys {
    // The Parsec TPM AK has no private half anywhere: take the public key
    // from the legacy KV-store trust-anchor record.
    let ta = json(dir, "parsec-tpm/legacy-kvstore/ta_endorsements.json");
    let parsec_pem = ta["attributes"]["parsec-tpm.ak-pub"]
        .as_str()
        .expect("ak-pub PEM");
    Keys {
        enacttrust_ak: VerifyingKey::from_pem(&text(dir, "enacttrust/keys/basic.pem.pub"))
            .expect("basic.pem.pub"),
        enacttrust_ak_private: SigningKey::from_pem(&text(dir, "enacttrust/keys/basic.pem"))
            .expect("basic.pem"),
        ec_p256_alt: VerifyingKey::from_jwk(&json(dir, "psa/keys/ec.p256.alt.jwk"))
            .expect("ec.p256.alt"),
        ec_p256: VerifyingKey::from_jwk(&json(dir, "psa/keys/ec.p256.jwk")).expect("ec.p256"),
        parsec_tpm_ak: VerifyingKey::from_pem(parsec_pem).expect("parsec-tpm AK"),
    }
}

fn setup() -> Option<(PathBuf, Keys)> {
    let dir = vectors::dir()?;
    let keys = keys(&dir);
    Some((dir, keys))
}

fn enact(dir: &Path, rel: &str) -> EnactTrustToken {
    EnactTrustToken::decode(&vectors::read(dir, rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn enact_err(dir: &Path, rel: &str) -> EnactTrustError {
    match EnactTrustToken::decode(&vectors::read(dir, rel)) {
        Ok(_) => panic!("{rel} decoded but must be rejected"),
        Err(e) => e,
    }
}

fn parsec(dir: &Path, rel: &str) -> ParsecTpmEvidence {
    ParsecTpmEvidence::decode(&vectors::read(dir, rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn parsec_err(dir: &Path, rel: &str) -> ParsecTpmError {
    match ParsecTpmEvidence::decode(&vectors::read(dir, rel)) {
        Ok(_) => panic!("{rel} decoded but must be rejected"),
        Err(e) => e,
    }
}

/// The labels of the keys (of those known here) that verify `check`.
fn verifying_labels(keys: &Keys, check: impl Fn(&VerifyingKey) -> bool) -> BTreeSet<String> {
    keys.labelled()
        .into_iter()
        .filter(|(_, k)| check(k))
        .map(|(label, _)| label.to_owned())
        .collect()
}

fn labels(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .expect("label list")
        .iter()
        .map(|l| l.as_str().expect("label").to_owned())
        .collect()
}

#[test]
fn the_keys_are_the_ones_the_manifest_names() {
    let Some((dir, keys)) = setup() else { return };
    // basic.pem and ec.p256.enacttrust.pem are the same private key, whose
    // public half is basic.pem.pub (MANIFEST §9.10).
    assert_eq!(
        keys.enacttrust_ak_private.verifying_key(),
        keys.enacttrust_ak
    );
    let integ = SigningKey::from_pem(&text(&dir, "enacttrust/keys/ec.p256.enacttrust.pem"))
        .expect("ec.p256.enacttrust.pem");
    assert_eq!(integ.verifying_key(), keys.enacttrust_ak);
    // Fingerprints (first 16 hex of SHA-256(SPKI DER), §9.5).
    let fp = |k: &VerifyingKey| hex::encode(&Hash::Sha256.digest(&k.to_spki_der())[..8]);
    assert_eq!(fp(&keys.enacttrust_ak), "acc51204a9574d96");
    assert_eq!(fp(&keys.parsec_tpm_ak), "291d6fed800af919");
    assert_eq!(fp(&keys.ec_p256_alt), "4222feac9b97e812");
}

// ---------------------------------------------------------------- EnactTrust

#[test]
fn enact_01_basic_token_decodes_verifies_and_annotates_like_veraison() {
    let Some((dir, keys)) = setup() else { return };
    let rel = "enacttrust/tokens/basic.token";
    let bytes = vectors::read(&dir, rel);
    let token = enact(&dir, rel);
    assert_eq!(
        token.node_id().to_string(),
        "7df7714e-aa04-4638-bcbf-434b1dd720f1"
    );
    assert_eq!(token.firmware_version(), 7);
    assert_eq!(token.pcr_selection(), [1, 2, 3, 4]);
    assert_eq!(token.hash_algorithm(), TpmAlgId::SHA256);
    assert_eq!(hex::encode(token.pcr_digest()), BASIC_DIGEST_HEX);
    assert!(token.extra_data().is_empty());
    // Signed bytes: exactly token[18:97] (§9.1), SHA-256 63eb59a3….
    assert_eq!(token.signed_bytes(), &bytes[18..97]);
    assert_eq!(
        hex::encode(Hash::Sha256.digest(token.signed_bytes())),
        "63eb59a372d689c5f289569dfee794615945a09cf9dd0445d20ec531910a32f6"
    );
    assert_eq!(token.signature().scheme(), TpmAlgId::ECDSA);
    assert_eq!(token.signature().hash(), TpmAlgId::SHA256);
    assert_eq!(token.to_bytes(), bytes);

    token
        .verify(&keys.enacttrust_ak)
        .expect("signed by the EnactTrust AK");
    for wrong in [&keys.ec_p256_alt, &keys.parsec_tpm_ak] {
        let err = token
            .verify(wrong)
            .expect_err("verifies with the wrong key");
        assert_eq!(err.to_string(), ENACT_SIG_FAIL);
    }

    let expected = json(&dir, "enacttrust/expected/enacttrust.good.json");
    assert_eq!(
        token.annotated_evidence(),
        expected["TPM_ENACTTRUST"]["ear.veraison.annotated-evidence"]
    );
}

#[test]
fn enact_01_signature_hash_field_is_honoured() {
    let Some((dir, keys)) = setup() else { return };
    // The same quote bytes and r/s, but the TPMT_SIGNATURE now says SHA-384:
    // Veraison would still hash with SHA-256 and accept; Vouch hashes with
    // what the signature names, so the check fails.
    let bytes = vectors::read(&dir, "enacttrust/tokens/basic.token");
    let mut relabelled = bytes.clone();
    assert_eq!(&relabelled[99..101], [0x00, 0x0b]);
    relabelled[100] = 0x0c;
    let token = EnactTrustToken::decode(&relabelled).expect("still well formed");
    assert_eq!(token.signature().hash(), TpmAlgId::SHA384);
    assert_eq!(
        token
            .verify(&keys.enacttrust_ak)
            .expect_err("SHA-384")
            .to_string(),
        ENACT_SIG_FAIL
    );
    // A hash Vouch cannot compute is reported as such.
    relabelled[100] = 0x04;
    let token = EnactTrustToken::decode(&relabelled).expect("still well formed");
    assert_eq!(
        token
            .verify(&keys.enacttrust_ak)
            .expect_err("SHA-1")
            .to_string(),
        "failed to verify signature: unsupported signature hash algorithm 0x0004 (SHA1)"
    );
}

#[test]
fn enact_02_identity_cannot_be_established() {
    let Some((dir, _)) = setup() else { return };
    for (rel, expected) in [
        (
            "enacttrust/derived/enacttrust-badnode.integration.token",
            "TPMS_ATTEST appears truncated; expected 13112, but got 173 bytes",
        ),
        (
            "enacttrust/derived/enacttrust-truncated-17B.token",
            "token too small: found 17 bytes, need at least 18",
        ),
        (
            "enacttrust/tokens/basic.pre-2023-02-format.token",
            "TPMS_ATTEST appears truncated; expected 43524, but got 153 bytes",
        ),
    ] {
        assert_eq!(enact_err(&dir, rel).to_string(), expected, "{rel}");
    }
}

#[test]
fn enact_02_historic_framing_is_a_valid_quote_in_the_old_layout() {
    let Some((dir, keys)) = setup() else { return };
    // SIZE || TPMS_ATTEST || TPMT_SIGNATURE with the node id in extraData
    // (§9.8a): the structures themselves are sound, only the framing is
    // retired.
    let bytes = vectors::read(&dir, "enacttrust/tokens/basic.pre-2023-02-format.token");
    let size = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
    assert_eq!(size, 95);
    let attest = TpmsAttest::decode(&bytes[2..2 + size]).expect("TPMS_ATTEST");
    assert_eq!(
        hex::encode(attest.extra_data()),
        "7df7714eaa044638bcbf434b1dd720f1"
    );
    let quote = attest.quote().expect("quote");
    assert_eq!(quote.single_bank().expect("one bank").pcrs(), [1, 2, 3, 4]);
    assert_eq!(hex::encode(quote.pcr_digest()), BASIC_DIGEST_HEX);
    let sig = TpmtSignature::decode(&bytes[2 + size..]).expect("TPMT_SIGNATURE");
    sig.verify(&keys.enacttrust_ak, attest.raw())
        .expect("historic quote signed by the AK");
}

#[test]
fn enact_03_wrong_key() {
    let Some((dir, keys)) = setup() else { return };
    let token = enact(&dir, "enacttrust/derived/enacttrust-badcrypto.token");
    assert_eq!(
        token.node_id().to_string(),
        "7df7714e-aa04-4638-bcbf-434b1dd720f1"
    );
    let err = token.verify(&keys.enacttrust_ak).expect_err("not the AK");
    assert_eq!(err.to_string(), ENACT_SIG_FAIL);
    token
        .verify(&keys.ec_p256_alt)
        .expect("signed by ec.p256.alt");
}

#[test]
fn enact_04_pcr_digest_mismatch_is_visible_in_the_claims() {
    let Some((dir, keys)) = setup() else { return };
    let token = enact(&dir, "enacttrust/derived/enacttrust-badpcr.token");
    token.verify(&keys.enacttrust_ak).expect("correctly signed");
    assert_eq!(
        hex::encode(token.pcr_digest()),
        "0263829989b6fd954f72baaf2fc64bc2e2f01d692d4de72986ea808f6e99813f"
    );
    assert_eq!(
        token.annotated_evidence()["pcr-digest"],
        "AmOCmYm2/ZVPcrqvL8ZLwuLwHWktTecphuqAj26ZgT8="
    );
}

#[test]
fn enact_05_node_id_is_outside_the_signature() {
    let Some((dir, keys)) = setup() else { return };
    let spliced = enact(&dir, "enacttrust/derived/enacttrust-unknown-node.token");
    let basic = enact(&dir, "enacttrust/tokens/basic.token");
    assert_eq!(
        spliced.node_id().to_string(),
        "11111111-2222-4333-8444-555555555555"
    );
    assert_eq!(spliced.signed_bytes(), basic.signed_bytes());
    spliced
        .verify(&keys.enacttrust_ak)
        .expect("still verifies: only the TA lookup binds the node id");
}

#[test]
fn enact_06_certify_is_not_a_quote() {
    let Some((dir, keys)) = setup() else { return };
    let rel = "enacttrust/derived/enacttrust-wrong-type-certify.token";
    let err = enact_err(&dir, rel);
    assert_eq!(
        err.to_string(),
        "wrong TPMS_ATTEST type: want 32792, got 32791"
    );
    assert!(matches!(err, EnactTrustError::WrongType(0x8017)));
    // The structures are sound and correctly signed; only the type is wrong.
    let bytes = vectors::read(&dir, rel);
    let attest = TpmsAttest::decode(&bytes[18..125]).expect("TPMS_ATTEST");
    assert_eq!(attest.attest_type(), AttestType::Certify);
    let name = &attest.certify().expect("certify").name;
    assert_eq!(
        name.digest().map(|(alg, d)| (alg, hex::encode(d))),
        Some((
            TpmAlgId::SHA256,
            "3ba267b2fbcf24782eea68c8b9678c2458d89cf9bf352fcdc93f1f8fcfe1a4d4".to_owned()
        ))
    );
    let sig = TpmtSignature::decode(&bytes[125..]).expect("signature");
    sig.verify(&keys.enacttrust_ak, attest.raw())
        .expect("signed by the AK");
}

#[test]
fn enact_07_nonce_is_extra_data() {
    let Some((dir, keys)) = setup() else { return };
    let token = enact(&dir, "enacttrust/derived/enacttrust-good-nonce32.token");
    token.verify(&keys.enacttrust_ak).expect("signed by the AK");
    assert_eq!(hex::encode(token.extra_data()), NONCE32_HEX);
    assert_eq!(token.signed_bytes().len(), 111);
    // The claims Veraison reports do not include the nonce.
    let expected = json(&dir, "enacttrust/expected/enacttrust.good.json");
    assert_eq!(
        token.annotated_evidence(),
        expected["TPM_ENACTTRUST"]["ear.veraison.annotated-evidence"]
    );
    assert!(
        enact(&dir, "enacttrust/tokens/basic.token")
            .extra_data()
            .is_empty()
    );
}

/// Every EnactTrust token of vectors.json decodes (or fails) as the
/// independent Python decoder says, field for field, and verifies with
/// exactly the keys it lists.
#[test]
fn enacttrust_tokens_agree_with_the_independent_decoder() {
    let Some((dir, keys)) = setup() else { return };
    let index = json(&dir, "vectors.json");
    let tokens = index["enacttrust_tokens"]
        .as_object()
        .expect("enacttrust_tokens");
    assert_eq!(tokens.len(), 9);
    for (rel, info) in tokens {
        let errors = info["errors"].as_array().expect("errors");
        let result = EnactTrustToken::decode(&vectors::read(&dir, rel));
        if let Some(expected) = errors.first() {
            let err = result
                .err()
                .unwrap_or_else(|| panic!("{rel} must be rejected"));
            assert_eq!(err.to_string(), expected.as_str().expect("text"), "{rel}");
            continue;
        }
        let attest = &info["attest"];
        if attest["type"] != 0x8018 {
            // The certify token: only quotes are EnactTrust evidence.
            assert!(
                matches!(result, Err(EnactTrustError::WrongType(_))),
                "{rel}"
            );
            continue;
        }
        let token = result.unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(token.node_id().to_string(), info["node_id"], "{rel}");
        assert_eq!(token.signed_bytes().len(), info["attest_size"], "{rel}");
        assert_eq!(
            hex::encode(token.extra_data()),
            attest["extraData"],
            "{rel}"
        );
        assert_eq!(token.firmware_version(), attest["firmwareVersion"], "{rel}");
        let clock = token.attest().clock_info();
        assert_eq!(clock.clock, attest["clock"], "{rel}");
        assert_eq!(clock.reset_count, attest["resetCount"], "{rel}");
        assert_eq!(clock.restart_count, attest["restartCount"], "{rel}");
        assert_eq!(clock.safe, attest["safe"], "{rel}");
        assert_eq!(
            token.attest().qualified_signer().to_bytes(),
            hex::decode(attest["qualifiedSigner_raw"].as_str().expect("hex")).expect("hex"),
            "{rel}"
        );
        let sel = &attest["pcrSelect"][0];
        assert_eq!(token.hash_algorithm().0, sel["hash_id"], "{rel}");
        assert_eq!(
            serde_json::to_value(token.pcr_selection()).expect("json"),
            sel["pcrs"],
            "{rel}"
        );
        assert_eq!(
            hex::encode(token.pcr_digest()),
            attest["pcrDigest"],
            "{rel}"
        );
        let TpmtSignature::Ecdsa { r, s, .. } = token.signature() else {
            panic!("{rel}: ECDSA expected")
        };
        assert_eq!(hex::encode(r), info["signature"]["r"], "{rel}");
        assert_eq!(hex::encode(s), info["signature"]["s"], "{rel}");
        assert_eq!(
            hex::encode(Hash::Sha256.digest(token.signed_bytes())),
            info["sha256_of_signed"],
            "{rel}"
        );
        assert_eq!(
            verifying_labels(&keys, |k| token.verify(k).is_ok()),
            labels(&info["sig_verified_by"]),
            "{rel}"
        );
    }
}

#[test]
fn enacttrust_minted_with_the_vector_key_verifies_with_its_public_half() {
    let Some((_, keys)) = setup() else { return };
    let mut claims = EnactTrustClaims::basic();
    claims.extra_data = hex::decode(NONCE32_HEX).expect("hex");
    let token = mint::enacttrust_token(&claims, &keys.enacttrust_ak_private).expect("mint");
    let decoded = EnactTrustToken::decode(&token.to_bytes()).expect("decode");
    decoded
        .verify(&keys.enacttrust_ak)
        .expect("verifies with basic.pem.pub");
    assert_eq!(decoded.to_bytes().len(), 201);
    assert_eq!(
        decoded
            .verify(&keys.ec_p256_alt)
            .expect_err("wrong key")
            .to_string(),
        ENACT_SIG_FAIL
    );
}

// ---------------------------------------------------------------- Parsec TPM

const EVIDENCE: &str = "parsec-tpm/tokens/evidence.cbor";

#[test]
fn ptpm_01_evidence_decodes_and_verifies_with_the_ak() {
    let Some((dir, keys)) = setup() else { return };
    let bytes = vectors::read(&dir, EVIDENCE);
    let ev = parsec(&dir, EVIDENCE);
    assert_eq!(
        hex::encode(ev.kid()),
        "0188855459eeb9e9b34a46eb48cb39f2f6aa69da04522a326d123d5c501fce210c"
    );
    assert_eq!(ev.pcrs(), [0, 1, 2]);
    assert_eq!(ev.pcr_bank(), TpmAlgId::SHA256);
    assert_eq!(ev.pcr_bank().named_info_id(), Some(1));
    assert_eq!(
        hex::encode(ev.pcr_digest()),
        "2ea9ab9198d1638007400cd2c3bef1cc745b864b76011a0e1bc52180ac6452d4"
    );
    // The corim-parsec-tpm-valid reference values are all zero (§9.2).
    let zero = [0u8; 32];
    assert_eq!(
        ev.pcr_digest(),
        pcr_digest(Hash::Sha256, &[&zero, &zero, &zero])
    );
    assert_eq!(hex::encode(ev.kat_nonce()), "deadbeefdeadbeef");
    assert_eq!(hex::encode(ev.pat_nonce()), "deadbeefdeadbeef");
    assert_eq!(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ev.attested_key_spki_der()),
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqQfDwCEColSchKK4shMOn2lmcZORpMcqNXeVofleg4pFgkit3_P0rN22S9KSj2m4Ef8Nhi4z54igcEtqqClQIA"
    );
    assert_eq!(ev.kat().tpm_ver(), "2.0");
    assert_eq!(ev.kat().cert_info().attest_type(), AttestType::Certify);
    assert_eq!(ev.pat().attest_info().attest_type(), AttestType::Quote);

    ev.verify(&keys.parsec_tpm_ak)
        .expect("KAT and PAT signed by the AK");
    ev.kat().verify(&keys.parsec_tpm_ak).expect("KAT");
    ev.pat().verify(&keys.parsec_tpm_ak).expect("PAT");

    // Annotated evidence: the tokens as JSON with base64 byte fields.
    let annotated = ev.annotated_evidence();
    let diag = text(&dir, "parsec-tpm/tokens/evidence.diag");
    for (token, field) in [
        ("kat", "sig"),
        ("kat", "kid"),
        ("kat", "pubArea"),
        ("kat", "certInfo"),
        ("pat", "sig"),
        ("pat", "kid"),
        ("pat", "attestInfo"),
    ] {
        let b = base64::engine::general_purpose::STANDARD
            .decode(annotated[token][field].as_str().expect("base64"))
            .expect("base64");
        let hex_upper = hex::encode_upper(&b);
        assert!(
            diag.contains(&format!("\"{field}\": h'{hex_upper}'")),
            "{token}.{field}"
        );
    }
    assert_eq!(annotated["kat"]["tpmVer"], "2.0");
    assert_eq!(annotated["kat"].as_object().expect("kat").len(), 5);
    assert_eq!(annotated["pat"].as_object().expect("pat").len(), 4);
    // Re-encoding carries the same fields (Parsec's own field order).
    let again = ParsecTpmEvidence::decode(&ev.to_cbor()).expect("re-encoded");
    assert_eq!(again, ev);
    assert_eq!(again.to_cbor().len(), bytes.len());
}

#[test]
fn ptpm_01_the_certified_name_is_the_pub_area_name() {
    let Some((dir, _)) = setup() else { return };
    let ev = parsec(&dir, EVIDENCE);
    let name = ev.kat().pub_area().name().expect("SHA-256 name");
    assert_eq!(name, ev.kat().cert_info().certify().expect("certify").name);
    assert!(ev.kat().pub_area().attributes().tpm_originated());
    assert!(matches!(
        name,
        TpmName::Digest {
            alg: TpmAlgId::SHA256,
            ..
        }
    ));
}

#[test]
fn ptpm_03_wrong_key_and_evidence1() {
    let Some((dir, keys)) = setup() else { return };
    // The wrong-key CoRIM provisions rust-ccatoken-pkey; any key but the AK
    // fails on the KAT first.
    let ev = parsec(&dir, EVIDENCE);
    for wrong in [&keys.ec_p256, &keys.enacttrust_ak] {
        assert_eq!(
            ev.verify(wrong).expect_err("wrong key").to_string(),
            PARSEC_KAT_SIG_FAIL
        );
    }
    // evidence1 (= parsec-lib/evidence.cbor) decodes and validates, but no
    // key in the folder verifies it: with the legacy TA (parsec-tpm-ak) the
    // exact legacy error.
    for rel in [
        "parsec-tpm/negative/evidence1.cbor",
        "parsec-tpm/parsec-lib/evidence.cbor",
    ] {
        let ev1 = parsec(&dir, rel);
        assert_eq!(
            hex::encode(ev1.kid()),
            "01a80812c50c603371775a7952e0000a4c4919f25ff6b71467fa324451c3700c67"
        );
        assert_eq!(hex::encode(ev1.kat_nonce()), "30303030");
        assert_eq!(
            ev1.verify(&keys.parsec_tpm_ak)
                .expect_err("no key verifies")
                .to_string(),
            PARSEC_KAT_SIG_FAIL
        );
    }
    // The legacy TA record names evidence1's kid as its instance.
    let ta = json(&dir, "parsec-tpm/legacy-kvstore/ta_endorsements.json");
    let instance = base64::engine::general_purpose::STANDARD
        .decode(
            ta["attributes"]["parsec-tpm.instance-id"]
                .as_str()
                .expect("b64"),
        )
        .expect("b64");
    assert_eq!(
        instance,
        parsec(&dir, "parsec-tpm/negative/evidence1.cbor").kid()
    );
}

#[test]
fn ptpm_04_malformed_evidence() {
    let Some((dir, _)) = setup() else { return };
    for rel in [
        "parsec-tpm/negative/bad_evidence.cbor",
        "parsec-tpm/parsec-lib/evidence_invalid.cbor",
    ] {
        let err = parsec_err(&dir, rel);
        assert!(matches!(err, ParsecTpmError::Cbor(_)), "{rel}: {err}");
        assert!(
            err.to_string()
                .starts_with("CBOR decoding of Parsec TPM attestation failed"),
            "{rel}: {err}"
        );
    }
    // Veraison: "validation failed: validation of key attestation token
    // failed: validation of cert & pub info failed: invalid certificate
    // information: failed to decode supplied attestation information:
    // decoding Magic/Type: EOF".
    let err = parsec_err(&dir, "parsec-tpm/parsec-lib/evidence_bad_kat.cbor");
    assert_eq!(
        err.to_string(),
        "validation failed: validation of key attestation token failed: validation of cert & pub info failed: invalid certificate information: failed to decode supplied attestation information: decoding Magic/Type: EOF"
    );
}

#[test]
fn ptpm_04_json_forms_match_the_parsec_library() {
    let Some((dir, keys)) = setup() else { return };
    // evidence.json is the JSON form of evidence.cbor (same bytes).
    let from_json =
        ParsecTpmEvidence::from_json(&vectors::read(&dir, "parsec-tpm/parsec-lib/evidence.json"))
            .expect("evidence.json");
    assert_eq!(
        from_json,
        parsec(&dir, "parsec-tpm/parsec-lib/evidence.cbor")
    );
    assert_eq!(
        from_json
            .verify(&keys.parsec_tpm_ak)
            .expect_err("no key")
            .to_string(),
        PARSEC_KAT_SIG_FAIL
    );
    for (rel, expected) in [
        (
            "parsec-tpm/parsec-lib/evidence_invalid_kat.json",
            "validation failed: validation of key attestation token failed: validation of cert & pub info failed: invalid certificate information: no digest information in certify info",
        ),
        (
            "parsec-tpm/parsec-lib/evidence_invalid_pat.json",
            "validation failed: validation of platform attestation token failed: missing key identifier",
        ),
        (
            "parsec-tpm/parsec-lib/evidence_missing_kat.json",
            "validation failed: nil key attestation token supplied",
        ),
        (
            "parsec-tpm/parsec-lib/evidence_missing_pat.json",
            "validation failed: nil platform attestation token supplied",
        ),
    ] {
        let err =
            ParsecTpmEvidence::from_json(&vectors::read(&dir, rel)).expect_err("must be rejected");
        assert_eq!(err.to_string(), expected, "{rel}");
    }
}

#[test]
fn ptpm_05_nonces_are_exposed_for_a_freshness_check() {
    let Some((dir, _)) = setup() else { return };
    let ev = parsec(&dir, EVIDENCE);
    // Veraison ignores them (services#447); Vouch's scheme can compare.
    assert_ne!(
        ev.pat_nonce(),
        hex::decode("0011223344556677").expect("hex")
    );
    assert_eq!(ev.pat_nonce(), ev.kat_nonce());
}

/// Every Parsec TPM token of vectors.json decodes (or fails) as the
/// independent Python decoder says, and verifies with exactly the keys it
/// lists.
#[test]
fn parsec_tokens_agree_with_the_independent_decoder() {
    let Some((dir, keys)) = setup() else { return };
    let index = json(&dir, "vectors.json");
    let tokens = index["parsec_tpm_tokens"]
        .as_object()
        .expect("parsec_tpm_tokens");
    assert_eq!(tokens.len(), 6);
    for (rel, info) in tokens {
        let result = ParsecTpmEvidence::decode(&vectors::read(&dir, rel));
        if !info["errors"].as_array().expect("errors").is_empty() {
            assert!(result.is_err(), "{rel} must be rejected");
            continue;
        }
        let ev = result.unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert_eq!(hex::encode(ev.kid()), info["kid"], "{rel}");
        let (kat, pat) = (&info["kat"], &info["pat"]);
        assert_eq!(
            hex::encode(ev.kat_nonce()),
            kat["extraData(nonce)"],
            "{rel}"
        );
        assert_eq!(
            hex::encode(ev.pat_nonce()),
            pat["extraData(nonce)"],
            "{rel}"
        );
        let qs = ev
            .kat()
            .cert_info()
            .qualified_signer()
            .digest()
            .expect("digest");
        assert_eq!(hex::encode(qs.1), kat["qualifiedSigner"]["digest"], "{rel}");
        let certify = ev.kat().cert_info().certify().expect("certify");
        assert_eq!(
            hex::encode(certify.name.digest().expect("name").1),
            kat["certify.name"]["digest"],
            "{rel}"
        );
        assert_eq!(
            hex::encode(certify.qualified_name.digest().expect("qname").1),
            kat["certify.qualifiedName"]["digest"],
            "{rel}"
        );
        let point = ev.attested_key().sec1_point();
        assert_eq!(hex::encode(&point[1..33]), kat["pubArea"]["x"], "{rel}");
        assert_eq!(hex::encode(&point[33..]), kat["pubArea"]["y"], "{rel}");
        assert_eq!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ev.attested_key_spki_der()),
            info["akpub_b64url"],
            "{rel}"
        );
        assert_eq!(
            serde_json::to_value(ev.pcrs()).expect("json"),
            pat["pcrSelect"][0]["pcrs"],
            "{rel}"
        );
        assert_eq!(ev.pcr_bank().0, pat["pcrSelect"][0]["hash_id"], "{rel}");
        assert_eq!(hex::encode(ev.pcr_digest()), pat["pcrDigest"], "{rel}");
        assert_eq!(
            ev.pat().attest_info().firmware_version(),
            pat["firmwareVersion"],
            "{rel}"
        );
        assert_eq!(
            ev.pat().attest_info().clock_info().clock,
            pat["clock"],
            "{rel}"
        );
        assert_eq!(
            verifying_labels(&keys, |k| ev.kat().verify(k).is_ok()),
            labels(&info["kat_sig_verified_by"]),
            "{rel}"
        );
        assert_eq!(
            verifying_labels(&keys, |k| ev.pat().verify(k).is_ok()),
            labels(&info["pat_sig_verified_by"]),
            "{rel}"
        );
    }
}

#[test]
fn parsec_minted_evidence_verifies_with_its_ak_only() {
    let Some((_, keys)) = setup() else { return };
    let ak = SigningKey::generate(vouch_crypto::Curve::P256).expect("AK");
    let zero = [0u8; 32];
    let claims = ParsecTpmClaims {
        kid: [&[1u8][..], &[0x5a; 32]].concat(),
        attested_key: keys.parsec_tpm_ak.clone(),
        nonce: hex::decode(NONCE32_HEX).expect("hex"),
        pcr_bank: TpmAlgId::SHA256,
        pcrs: vec![0, 1, 2],
        pcr_digest: pcr_digest(Hash::Sha256, &[&zero, &zero, &zero]),
    };
    let bytes = mint::parsec_tpm_evidence(&claims, &ak)
        .expect("mint")
        .to_cbor();
    let ev = ParsecTpmEvidence::decode(&bytes).expect("decode");
    ev.verify(&ak.verifying_key()).expect("minted AK");
    assert_eq!(ev.attested_key(), &keys.parsec_tpm_ak);
    assert_eq!(
        ev.verify(&keys.parsec_tpm_ak)
            .expect_err("not the AK")
            .to_string(),
        PARSEC_KAT_SIG_FAIL
    );
    // The same digest as the upstream evidence's, from the same PCR values.
    assert_eq!(
        hex::encode(ev.pcr_digest()),
        "2ea9ab9198d1638007400cd2c3bef1cc745b864b76011a0e1bc52180ac6452d4"
    );
}
