//! The crypto-only ceiling: what the machine can do if a verification flow
//! were nothing but its cryptography — for PSA one token decode and
//! signature check, for CCA the platform (CPAK) and realm (RAK) signature
//! checks, then one EAR signature — on every core, with no HTTP, no sessions
//! and no store. Vouch's HTTP throughput is reported as a fraction of it.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use vouch_crypto::{Curve, SigningKey};
use vouch_ear::{Ear, EarSigner, VerifierId};
use vouch_psa_token::Token;
use vouch_schemes::{Scheme as _, TrustAnchorKey};
use vouch_testkit::psa::{Device, SwComponent};

/// The ceiling as measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Ceiling {
    /// Threads used (one per core).
    pub(crate) threads: usize,
    /// How long it ran.
    pub(crate) seconds: f64,
    /// Flows (verify + sign) per second, all threads together.
    pub(crate) flows_per_s: f64,
    /// Token decode + signature verify alone, per second per core.
    pub(crate) verify_per_s_per_core: f64,
    /// EAR signing alone, per second per core.
    pub(crate) sign_per_s_per_core: f64,
}

/// What one flow works on: a real token, and the EAR the real appraisal
/// of that token produces.
struct Work {
    scheme: crate::devices::SchemeKind,
    token: Vec<u8>,
    key: vouch_crypto::VerifyingKey,
    ear: Ear,
    signer: EarSigner,
}

fn work(scheme: crate::devices::SchemeKind) -> anyhow::Result<Work> {
    match scheme {
        crate::devices::SchemeKind::Psa => psa_work(),
        crate::devices::SchemeKind::Cca => cca_work(),
    }
}

/// An EAR holding `submods`, as trust would sign it.
fn ear_of(
    nonce: &[u8],
    scheme: &str,
    submods: Vec<(String, vouch_ear::Appraisal)>,
) -> anyhow::Result<Ear> {
    let mut ear = Ear::new(
        "",
        VerifierId {
            build: "vouch-loadtest".to_owned(),
            developer: "Vouch".to_owned(),
        },
        1_700_000_000,
    );
    ear.submods.clear();
    ear.set_nonce(nonce).map_err(|e| anyhow::anyhow!("{e}"))?;
    for (name, mut appraisal) in submods {
        appraisal.policy_id = Some(format!("policy:{scheme}"));
        ear.submods.insert(name, appraisal);
    }
    Ok(ear)
}

/// A P-384-CPAK CCA device (as genuine TF-A/TF-RMM tokens are), appraised
/// by the ARM_CCA scheme against its own platform and realm CoRIMs.
fn cca_work() -> anyhow::Result<Work> {
    use vouch_testkit::cca::{CCA_PLATFORM_PROFILE, CCA_REALM_PROFILE, CcaDevice, Framing};
    let device = CcaDevice::generate(Curve::P384).map_err(|e| anyhow::anyhow!("{e}"))?;
    let nonce = [0x5a; 64];
    let token = device
        .token(&nonce, Framing::CmwCollection)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let scheme = vouch_schemes::builtin()
        .into_iter()
        .find(|s| s.name() == "ARM_CCA")
        .context("this build has no ARM_CCA scheme")?;
    let mut references = Vec::new();
    for (corim, profile) in [
        (device.platform_corim().build(), CCA_PLATFORM_PROFILE),
        (device.realm_corim().build(), CCA_REALM_PROFILE),
    ] {
        let corim = vouch_corim::decode(&corim).context("decoding a CCA CoRIM")?;
        let endorsements = scheme
            .extract_endorsements(&corim, profile)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for rv in &endorsements.reference_values {
            references.push(
                scheme
                    .decode_reference_value(&rv.body)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            );
        }
    }
    let key = device.cpak().verifying_key();
    let evidence = scheme
        .decode_evidence(&token)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    evidence
        .verify_integrity(&nonce, &TrustAnchorKey::Key(key.clone()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let submods = evidence
        .appraise(&references)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Work {
        scheme: crate::devices::SchemeKind::Cca,
        token,
        key,
        ear: ear_of(&nonce, scheme.name(), submods)?,
        signer: EarSigner::new(SigningKey::generate(Curve::P256).context("EAR key")?),
    })
}

fn psa_work() -> anyhow::Result<Work> {
    let device = Device::from_seed(42).context("minting a device")?;
    let nonce = [0x5a; 32];
    let token = device
        .token(&nonce, &SwComponent::acme_components())
        .context("signing a token")?;
    let corim_bytes = crate::devices::corims(std::slice::from_ref(&device), 1)
        .pop()
        .context("minting a CoRIM")?;
    let corim = vouch_corim::decode(&corim_bytes).context("decoding the CoRIM")?;
    let scheme = vouch_schemes::psa::PsaIot;
    let endorsements = scheme
        .extract_endorsements(&corim, vouch_schemes::psa::PROFILE_CURRENT)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let measurements = endorsements
        .reference_values
        .iter()
        .map(|rv| scheme.decode_reference_value(&rv.body))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let evidence = scheme
        .decode_evidence(&token)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let key = device.key.verifying_key();
    evidence
        .verify_integrity(&nonce, &TrustAnchorKey::Key(key.clone()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let submods = evidence
        .appraise(&measurements)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Work {
        scheme: crate::devices::SchemeKind::Psa,
        token,
        key,
        ear: ear_of(&nonce, vouch_schemes::psa::NAME, submods)?,
        signer: EarSigner::new(SigningKey::generate(Curve::P256).context("EAR key")?),
    })
}

fn verify_once(w: &Work) -> anyhow::Result<()> {
    match w.scheme {
        crate::devices::SchemeKind::Psa => {
            let token = Token::decode(&w.token).map_err(|e| anyhow::anyhow!("{e}"))?;
            token
                .verify_signature(&w.key)
                .map_err(|e| anyhow::anyhow!("{e}"))
        }
        // Platform signature (CPAK), realm signature (RAK) and the binding
        // between them: the cryptography of a CCA flow.
        crate::devices::SchemeKind::Cca => {
            let token =
                vouch_cca_token::CcaToken::decode(&w.token).map_err(|e| anyhow::anyhow!("{e}"))?;
            token.verify(&w.key).map_err(|e| anyhow::anyhow!("{e}"))
        }
    }
}

fn sign_once(w: &Work) -> anyhow::Result<String> {
    w.signer.sign(&w.ear).map_err(|e| anyhow::anyhow!("{e}"))
}

fn rate(duration: Duration, mut op: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < duration {
        for _ in 0..16 {
            op()?;
        }
        n += 16;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Measures the ceiling for `duration` on every core (and each half alone
/// on one core, for the cost table).
pub(crate) fn measure(
    duration: Duration,
    scheme: crate::devices::SchemeKind,
) -> anyhow::Result<Ceiling> {
    let w = work(scheme)?;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let single = duration.div_f64(4.0).max(Duration::from_millis(200));
    let verify_per_s_per_core = rate(single, || verify_once(&w))?;
    let sign_per_s_per_core = rate(single, || sign_once(&w).map(|_| ()))?;
    let started = Instant::now();
    let counts: Vec<anyhow::Result<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut n = 0u64;
                    while started.elapsed() < duration {
                        verify_once(&w)?;
                        std::hint::black_box(sign_once(&w)?);
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("ceiling thread panicked")))
            })
            .collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut flows = 0u64;
    for c in counts {
        flows += c?;
    }
    Ok(Ceiling {
        threads,
        seconds,
        flows_per_s: flows as f64 / seconds,
        verify_per_s_per_core,
        sign_per_s_per_core,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_work_is_a_real_affirming_flow() {
        for (scheme, submods) in [
            (crate::devices::SchemeKind::Psa, &["PSA_IOT"][..]),
            (
                crate::devices::SchemeKind::Cca,
                &["CCA_SSD_PLATFORM", "CCA_REALM"][..],
            ),
        ] {
            let w = work(scheme).unwrap();
            verify_once(&w).unwrap();
            let jwt = sign_once(&w).unwrap();
            let ear = vouch_ear::verify(&jwt, &w.signer.verifying_key()).unwrap();
            for submod in submods {
                assert_eq!(
                    ear.submods[*submod].status.as_str(),
                    "affirming",
                    "{submod}"
                );
            }
        }
    }
}
