//! Minting CCA tokens and Parsec CCA evidence, for the test kit, the CLI and
//! negative tests.
//!
//! A [`CcaDevice`] holds a CPAK (on any of P-256, P-384, P-521) and a RAK
//! (P-384, as TF-RMM uses). [`CcaDevice::token`] takes typed claims and
//! overwrites the three values that tie a token together: the realm's RAK
//! (the device's RAK, as a COSE_Key or for legacy tokens a raw point), the
//! realm challenge (the session nonce, zero-padded), and the platform
//! challenge (the hash of the RAK claim). Every token minted without a
//! negative option decodes and verifies with [`crate::CcaToken`]: the claims
//! are re-decoded and validated before signing.

use sha2::Digest as _;
use vouch_crypto::{Curve, SigningKey, VerifyingKey};

use crate::cbor::Writer;
use crate::realm::{REALM_CHALLENGE_LEN, REALM_PROFILE, RealmPublicKey};
use crate::{
    CcaError, Framing, Measurement, PlatformClaims, PlatformProfile, RealmClaims, SwComponent,
    keys, realm_challenge_for_nonce,
};

/// CoAP Content-Format of both CMW collection entries in Veraison's tokens.
pub const CMW_CONTENT_FORMAT: u64 = 263;

/// How to mint a token, including deliberate defects for negative tests.
#[derive(Clone, Debug, Default)]
pub struct MintOptions {
    /// Tag 907 (default) or tag 399.
    pub framing: Framing,
    /// Carry the RAK as a raw P-384 point and omit the realm profile, as
    /// legacy TF-RMM tokens do (the default is a COSE_Key with the profile).
    pub legacy_raw_rak: bool,
    /// Flip a bit of the platform challenge, so that it is no longer the hash
    /// of the RAK: [`crate::CcaToken::verify_binding`] fails.
    pub break_binding: bool,
    /// Sign the platform token with this key instead of the CPAK.
    pub platform_signer: Option<SigningKey>,
    /// Sign the realm token with this key instead of the RAK.
    pub realm_signer: Option<SigningKey>,
}

/// How to mint Parsec CCA evidence.
#[derive(Clone, Debug, Default)]
pub struct ParsecMintOptions {
    /// Options for the PAT.
    pub token: MintOptions,
    /// Flip a bit of the realm challenge, so that it is no longer the
    /// SHA-512 of the KAT.
    pub break_kat_binding: bool,
}

/// A simulated CCA platform: its attestation key (CPAK) and the realm
/// attestation key (RAK) its RMM uses.
#[derive(Clone, Debug)]
pub struct CcaDevice {
    cpak: SigningKey,
    rak: SigningKey,
}

fn mint_err(msg: impl Into<String>) -> CcaError {
    CcaError::Mint(msg.into())
}

impl CcaDevice {
    /// A device with the given keys.
    pub fn new(cpak: SigningKey, rak: SigningKey) -> Self {
        Self { cpak, rak }
    }

    /// A device with a fresh CPAK on `cpak_curve` and a fresh P-384 RAK.
    pub fn generate(cpak_curve: Curve) -> Result<Self, CcaError> {
        let key = |curve| {
            SigningKey::generate(curve).map_err(|e| mint_err(format!("key generation: {e}")))
        };
        Ok(Self {
            cpak: key(cpak_curve)?,
            rak: key(Curve::P384)?,
        })
    }

    /// The platform attestation key.
    pub fn cpak(&self) -> &SigningKey {
        &self.cpak
    }

    /// The realm attestation key.
    pub fn rak(&self) -> &SigningKey {
        &self.rak
    }

    /// The claims the device's token carries: `realm` with the device's RAK
    /// and `realm_challenge`, and `platform` with the challenge bound to that
    /// RAK (or deliberately not, with [`MintOptions::break_binding`]).
    pub fn bind(
        &self,
        platform: &PlatformClaims,
        realm: &RealmClaims,
        realm_challenge: &[u8; REALM_CHALLENGE_LEN],
        options: &MintOptions,
    ) -> Result<(PlatformClaims, RealmClaims), CcaError> {
        let rak = self.rak.verifying_key();
        let mut realm = realm.clone();
        realm.challenge = *realm_challenge;
        if options.legacy_raw_rak {
            realm.profile = None;
            realm.public_key = RealmPublicKey::raw(&rak)?;
        } else {
            realm.profile = Some(REALM_PROFILE.to_owned());
            realm.public_key = RealmPublicKey::cose_key(&rak);
        }
        let mut binder = realm.rak_digest()?;
        if options.break_binding
            && let Some(last) = binder.last_mut()
        {
            *last ^= 0x01;
        }
        let len = binder.len();
        let mut platform = platform.clone();
        platform.challenge = Measurement::new(binder).ok_or_else(|| {
            mint_err(format!(
                "a {len}-byte {} digest cannot be a platform challenge (32, 48 or 64 bytes)",
                realm.public_key_hash_algo_id
            ))
        })?;
        Ok((platform, realm))
    }

    /// Mints a CCA token whose realm challenge is `realm_challenge`.
    pub fn token(
        &self,
        platform: &PlatformClaims,
        realm: &RealmClaims,
        realm_challenge: &[u8; REALM_CHALLENGE_LEN],
        options: &MintOptions,
    ) -> Result<Vec<u8>, CcaError> {
        let (platform, realm) = self.bind(platform, realm, realm_challenge, options)?;
        let platform_payload = platform.to_cbor();
        let realm_payload = realm.to_cbor();
        // What we mint is what we accept: the encoded claims must decode and
        // validate.
        PlatformClaims::decode(&platform_payload)
            .map_err(|e| mint_err(format!("platform claims: {e}")))?;
        RealmClaims::decode(&realm_payload).map_err(|e| mint_err(format!("realm claims: {e}")))?;
        let sign = |key: &SigningKey, payload: &[u8], which: &str| {
            vouch_cose::sign1(key, &[], None, payload, true)
                .map_err(|e| mint_err(format!("signing the {which} token: {e}")))
        };
        let platform_token = sign(
            options.platform_signer.as_ref().unwrap_or(&self.cpak),
            &platform_payload,
            "platform",
        )?;
        let realm_token = sign(
            options.realm_signer.as_ref().unwrap_or(&self.rak),
            &realm_payload,
            "realm",
        )?;
        Ok(encode_collection(
            options.framing,
            &platform_token,
            &realm_token,
        ))
    }

    /// Mints a CCA token for a session nonce (zero-padded to the 64-byte
    /// realm challenge; at most 64 bytes).
    pub fn token_for_nonce(
        &self,
        platform: &PlatformClaims,
        realm: &RealmClaims,
        session_nonce: &[u8],
        options: &MintOptions,
    ) -> Result<Vec<u8>, CcaError> {
        let challenge = realm_challenge_for_nonce(session_nonce)?;
        self.token(platform, realm, &challenge, options)
    }

    /// Mints Parsec CCA evidence attesting `attested_key` with KAT nonce
    /// `kat_nonce` (8 to 64 bytes): `{"kat": 601({10: nonce, 8: {1:
    /// COSE_Key}}), "pat": <CCA token>}`, the realm challenge being the
    /// SHA-512 of the KAT.
    pub fn parsec_evidence(
        &self,
        platform: &PlatformClaims,
        realm: &RealmClaims,
        kat_nonce: &[u8],
        attested_key: &VerifyingKey,
        options: &ParsecMintOptions,
    ) -> Result<Vec<u8>, CcaError> {
        if !(crate::parsec::KAT_NONCE_MIN..=crate::parsec::KAT_NONCE_MAX).contains(&kat_nonce.len())
        {
            return Err(mint_err(format!(
                "a KAT nonce must be 8 to 64 bytes, not {}",
                kat_nonce.len()
            )));
        }
        let kat = encode_kat(kat_nonce, attested_key);
        let mut challenge = [0u8; REALM_CHALLENGE_LEN];
        challenge.copy_from_slice(&sha2::Sha512::digest(&kat));
        if options.break_kat_binding {
            challenge[REALM_CHALLENGE_LEN - 1] ^= 0x01;
        }
        let pat = self.token(platform, realm, &challenge, &options.token)?;
        let mut w = Writer::new();
        w.map(2).text("kat").raw(&kat).text("pat").raw(&pat);
        Ok(w.into_inner())
    }
}

/// Encodes a KAT: `601({10: nonce, 8: {1: COSE_Key}})`.
pub fn encode_kat(nonce: &[u8], attested_key: &VerifyingKey) -> Vec<u8> {
    let mut w = Writer::new();
    w.tag(keys::TAG_KAT)
        .map(2)
        .int(keys::kat::NONCE)
        .bytes(nonce)
        .int(keys::kat::CNF)
        .map(1)
        .int(keys::kat::CNF_COSE_KEY)
        .raw(&vouch_cose::cose_key_bytes(attested_key));
    w.into_inner()
}

/// Wraps a platform and a realm token (COSE_Sign1_Tagged bytes) in a
/// collection: tag 399 `{44234: bstr, 44241: bstr}` or tag 907 `{44234:
/// [263, bstr], 44241: [263, bstr]}`.
pub fn encode_collection(framing: Framing, platform_token: &[u8], realm_token: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.tag(framing.tag()).map(2);
    for (key, token) in [
        (keys::PLATFORM_TOKEN, platform_token),
        (keys::REALM_TOKEN, realm_token),
    ] {
        w.int(key);
        if framing == Framing::CmwCollection {
            w.array(2).uint(CMW_CONTENT_FORMAT);
        }
        w.bytes(token);
    }
    w.into_inner()
}

/// The software components of Veraison's CCA test platform (BL, M1, M2, M3).
pub fn sample_sw_components() -> Vec<SwComponent> {
    const BASE: [u8; 32] = [
        0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00, 0x0f, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 0x09,
        0x08, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, 0x10, 0x1f, 0x1e, 0x1d, 0x1c, 0x1b, 0x1a,
        0x19, 0x18,
    ];
    let signer = Measurement(BASE.to_vec());
    [
        ("BL", 0x07, "3.4.2"),
        ("M1", 0x0b, "1.2.0"),
        ("M2", 0x0f, "1.2.3"),
        ("M3", 0x13, "1.0.0"),
    ]
    .into_iter()
    .map(|(ty, first, version)| {
        let mut value = BASE;
        value[0] = first;
        SwComponent {
            measurement_type: Some(ty.to_owned()),
            measurement_value: Measurement(value.to_vec()),
            version: Some(version.to_owned()),
            signer_id: signer.clone(),
            hash_algo_id: None,
        }
    })
    .collect()
}

/// The platform claims of Veraison's CCA integration tests
/// (`cca.good.json`): implementation ID all zeros, instance ID `01 02…02`,
/// config `010203`, lifecycle 0x3000 (secured), the four
/// [`sample_sw_components`]. The challenge is a placeholder that minting
/// replaces.
pub fn sample_platform_claims() -> PlatformClaims {
    let mut instance_id = [0x02; crate::INSTANCE_ID_LEN];
    instance_id[0] = 0x01;
    PlatformClaims {
        profile: PlatformProfile::CcaPlatform,
        challenge: Measurement(vec![0; 32]),
        implementation_id: [0; crate::IMPLEMENTATION_ID_LEN],
        instance_id,
        config: vec![0x01, 0x02, 0x03],
        lifecycle: 0x3000,
        sw_components: sample_sw_components(),
        verification_service: Some("https://veraison.example/v1/challenge-response".to_owned()),
        hash_algo_id: "sha-256".to_owned(),
    }
}

/// The realm claims of Veraison's CCA integration tests: RPV `"AD"` × 32,
/// RIM and REM0..3 `0x43` × 64, hash algorithms sha-256, carrying `rak`. The
/// challenge is a placeholder that minting replaces.
pub fn sample_realm_claims(rak: &VerifyingKey) -> RealmClaims {
    let rem = Measurement(vec![0x43; 64]);
    let mut rpv = [0u8; 64];
    for (i, b) in rpv.iter_mut().enumerate() {
        *b = if i % 2 == 0 { b'A' } else { b'D' };
    }
    RealmClaims {
        profile: Some(REALM_PROFILE.to_owned()),
        challenge: [0; REALM_CHALLENGE_LEN],
        personalization_value: rpv,
        initial_measurement: rem.clone(),
        extensible_measurements: [rem.clone(), rem.clone(), rem.clone(), rem],
        hash_algo_id: "sha-256".to_owned(),
        public_key: RealmPublicKey::cose_key(rak),
        public_key_hash_algo_id: "sha-256".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{CcaToken, ParsecCcaEvidence, RakForm};

    fn device(curve: Curve) -> CcaDevice {
        CcaDevice::generate(curve).unwrap()
    }

    fn mint(d: &CcaDevice, options: &MintOptions) -> Vec<u8> {
        d.token_for_nonce(
            &sample_platform_claims(),
            &sample_realm_claims(&d.rak().verifying_key()),
            b"session nonce",
            options,
        )
        .unwrap()
    }

    #[test]
    fn samples_are_valid() {
        sample_platform_claims().validate().unwrap();
        let rak = SigningKey::generate(Curve::P384).unwrap().verifying_key();
        sample_realm_claims(&rak).validate().unwrap();
    }

    #[test]
    fn minted_tokens_verify_in_both_framings_and_rak_forms() {
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            let d = device(curve);
            for framing in [Framing::EatCollection, Framing::CmwCollection] {
                for legacy_raw_rak in [false, true] {
                    let options = MintOptions {
                        framing,
                        legacy_raw_rak,
                        ..MintOptions::default()
                    };
                    let token = CcaToken::decode(&mint(&d, &options)).unwrap();
                    assert_eq!(token.framing(), framing);
                    token.verify(&d.cpak().verifying_key()).unwrap();
                    let realm = token.realm_claims();
                    assert_eq!(
                        realm.public_key.form(),
                        if legacy_raw_rak {
                            RakForm::Raw
                        } else {
                            RakForm::CoseKey
                        }
                    );
                    assert_eq!(realm.profile.is_none(), legacy_raw_rak);
                    assert_eq!(
                        token.realm_challenge(),
                        &realm_challenge_for_nonce(b"session nonce").unwrap()
                    );
                    assert_eq!(token.platform_algorithm().unwrap(), curve.algorithm());
                }
            }
        }
    }

    #[test]
    fn negative_options_break_the_right_step() {
        let d = device(Curve::P256);
        let cpak = d.cpak().verifying_key();
        let broken = MintOptions {
            break_binding: true,
            ..MintOptions::default()
        };
        let t = CcaToken::decode(&mint(&d, &broken)).unwrap();
        t.verify_platform(&cpak).unwrap();
        t.verify_realm().unwrap();
        assert!(matches!(t.verify(&cpak), Err(CcaError::Binding { .. })));

        let wrong = MintOptions {
            platform_signer: Some(SigningKey::generate(Curve::P256).unwrap()),
            ..MintOptions::default()
        };
        let t = CcaToken::decode(&mint(&d, &wrong)).unwrap();
        assert!(matches!(
            t.verify(&cpak),
            Err(CcaError::PlatformSignature(_))
        ));
        t.verify_realm().unwrap();
        t.verify_binding().unwrap();

        let wrong_realm = MintOptions {
            realm_signer: Some(SigningKey::generate(Curve::P384).unwrap()),
            ..MintOptions::default()
        };
        let t = CcaToken::decode(&mint(&d, &wrong_realm)).unwrap();
        assert!(matches!(t.verify(&cpak), Err(CcaError::RealmSignature(_))));
    }

    #[test]
    fn minting_refuses_what_it_could_not_decode() {
        let d = device(Curve::P256);
        let mut platform = sample_platform_claims();
        platform.lifecycle = 0x7000;
        let realm = sample_realm_claims(&d.rak().verifying_key());
        let e = d
            .token(&platform, &realm, &[0; 64], &MintOptions::default())
            .unwrap_err();
        assert!(e.to_string().contains("security lifecycle"), "{e}");
        // sha-224 gives a 28-byte challenge, which no platform token carries.
        let mut realm = sample_realm_claims(&d.rak().verifying_key());
        realm.public_key_hash_algo_id = "sha-224".into();
        let e = d
            .token(
                &sample_platform_claims(),
                &realm,
                &[0; 64],
                &MintOptions::default(),
            )
            .unwrap_err();
        assert!(matches!(e, CcaError::Mint(_)), "{e}");
        assert!(matches!(
            d.token_for_nonce(
                &sample_platform_claims(),
                &realm,
                &[0; 65],
                &MintOptions::default()
            ),
            Err(CcaError::NonceTooLong(65))
        ));
    }

    #[test]
    fn parsec_evidence_round_trips() {
        let d = device(Curve::P384);
        let attested = SigningKey::generate(Curve::P256).unwrap().verifying_key();
        let platform = sample_platform_claims();
        let realm = sample_realm_claims(&d.rak().verifying_key());
        for framing in [Framing::EatCollection, Framing::CmwCollection] {
            let options = ParsecMintOptions {
                token: MintOptions {
                    framing,
                    ..MintOptions::default()
                },
                break_kat_binding: false,
            };
            let bytes = d
                .parsec_evidence(&platform, &realm, b"kat-nonce", &attested, &options)
                .unwrap();
            let ev = ParsecCcaEvidence::decode(&bytes).unwrap();
            ev.verify(&d.cpak().verifying_key()).unwrap();
            assert_eq!(ev.kat_nonce(), b"kat-nonce");
            assert_eq!(ev.attested_key_spki(), attested.to_spki_der());
            assert_eq!(ev.token().framing(), framing);
        }
        let broken = ParsecMintOptions {
            break_kat_binding: true,
            ..ParsecMintOptions::default()
        };
        let bytes = d
            .parsec_evidence(&platform, &realm, b"kat-nonce", &attested, &broken)
            .unwrap();
        let ev = ParsecCcaEvidence::decode(&bytes).unwrap();
        ev.token().verify(&d.cpak().verifying_key()).unwrap();
        assert!(matches!(
            ev.verify(&d.cpak().verifying_key()),
            Err(CcaError::KatBinding { .. })
        ));
        assert!(
            d.parsec_evidence(&platform, &realm, b"short", &attested, &broken)
                .is_err()
        );
    }
}
