//! Simulated devices and the CoRIMs that endorse them.
//!
//! Every device has its own P-256 key and instance id, derived from a seed
//! by the test kit, so runs are reproducible and a device minted by one
//! command (the store filler) can attest in another.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use bytes::Bytes;
use vouch_testkit::corim::{PsaCorim, PsaCorimEncoding, PsaRefValue};
use vouch_testkit::psa::{Device, SwComponent};

/// Which scheme the attesters of a `run` speak.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SchemeKind {
    /// PSA IoT tokens (ES256).
    #[default]
    Psa,
    /// Arm CCA platform + realm tokens (P-384 CPAK, P-384 RAK).
    Cca,
}

/// Arm CCA devices, each with its own CPAK (P-384, as genuine TF-A tokens)
/// and RAK, endorsed by a platform and a realm CoRIM of its own.
pub(crate) struct CcaAttesters {
    devices: Vec<vouch_testkit::cca::CcaDevice>,
}

impl CcaAttesters {
    /// Mints `count` devices on every core.
    pub(crate) fn mint(count: usize) -> anyhow::Result<Self> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(count.max(1));
        let per = count.div_ceil(threads.max(1));
        let chunks: Vec<anyhow::Result<Vec<_>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let n = per.min(count.saturating_sub(t * per));
                    scope.spawn(move || {
                        (0..n)
                            .map(|_| {
                                vouch_testkit::cca::CcaDevice::generate(vouch_crypto::Curve::P384)
                                    .map_err(|e| anyhow::anyhow!("minting a CCA device: {e}"))
                            })
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("minting thread panicked")))
                })
                .collect()
        });
        let mut devices = Vec::with_capacity(count);
        for chunk in chunks {
            devices.extend(chunk?);
        }
        Ok(CcaAttesters { devices })
    }

    /// The CoRIMs endorsing every device: (media type, body), platform and
    /// realm for each.
    pub(crate) fn corims(&self) -> Vec<(&'static str, Bytes)> {
        self.devices
            .iter()
            .flat_map(|d| {
                let platform = d.platform_corim();
                let realm = d.realm_corim();
                [
                    (platform.media_type(), Bytes::from(platform.build())),
                    (realm.media_type(), Bytes::from(realm.build())),
                ]
            })
            .collect()
    }
}

impl Attesters for CcaAttesters {
    fn len(&self) -> usize {
        self.devices.len()
    }

    fn media_type(&self) -> &'static str {
        vouch_testkit::cca::CCA_EVIDENCE_MT
    }

    fn evidence(&self, index: usize, nonce: &[u8]) -> anyhow::Result<Bytes> {
        let device = self.devices.get(index).context("no such device")?;
        let token = device
            .token(nonce, vouch_testkit::cca::Framing::CmwCollection)
            .map_err(|e| anyhow::anyhow!("CCA token: {e}"))?;
        Ok(Bytes::from(token))
    }
}

/// The attesters of a run: whatever scheme they speak, the verify task
/// asks them for evidence over a session nonce.
pub(crate) trait Attesters: Send + Sync + 'static {
    /// How many there are.
    fn len(&self) -> usize;
    /// The evidence media type they send.
    fn media_type(&self) -> &'static str;
    /// Attester `index`'s evidence for `nonce` (what the device does).
    fn evidence(&self, index: usize, nonce: &[u8]) -> anyhow::Result<Bytes>;
}

/// PSA IoT devices reporting the ACME software components.
pub(crate) struct PsaAttesters {
    devices: std::sync::Arc<Vec<Device>>,
    components: Vec<SwComponent>,
}

impl PsaAttesters {
    pub(crate) fn shared(devices: std::sync::Arc<Vec<Device>>) -> std::sync::Arc<dyn Attesters> {
        std::sync::Arc::new(PsaAttesters {
            devices,
            components: SwComponent::acme_components(),
        })
    }
}

impl Attesters for PsaAttesters {
    fn len(&self) -> usize {
        self.devices.len()
    }

    fn media_type(&self) -> &'static str {
        "application/psa-attestation-token"
    }

    fn evidence(&self, index: usize, nonce: &[u8]) -> anyhow::Result<Bytes> {
        let device = self.devices.get(index).context("no such device")?;
        Ok(Bytes::from(device.token(nonce, &self.components)?))
    }
}

/// Media type of the CoRIMs minted here.
pub(crate) fn corim_media_type() -> &'static str {
    PsaCorimEncoding::Current.media_type()
}

/// Mints devices for seeds `first..first + count`, on every core.
pub(crate) fn mint(first: u64, count: usize) -> anyhow::Result<Vec<Device>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(count.max(1));
    let per = count.div_ceil(threads.max(1));
    let chunks: Vec<anyhow::Result<Vec<Device>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let start = t * per;
                let end = ((t + 1) * per).min(count);
                scope.spawn(move || {
                    (start..end)
                        .map(|i| {
                            Device::from_seed(first + i as u64)
                                .with_context(|| format!("minting device {i}"))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("minting thread panicked")))
            })
            .collect()
    });
    let mut devices = Vec::with_capacity(count);
    for chunk in chunks {
        devices.extend(chunk?);
    }
    Ok(devices)
}

/// Adds the ACME reference values (what every device of the class runs).
fn add_reference_values(corim: &mut PsaCorim, implementation_id: [u8; 32]) {
    for rv in SwComponent::acme_components()
        .iter()
        .filter_map(PsaRefValue::endorsing)
    {
        corim.reference_value(implementation_id, rv);
    }
}

/// CoRIMs endorsing `devices`, `per_corim` trust anchors each, every one
/// carrying the class's reference values (stored once: the store
/// de-duplicates them).
pub(crate) fn corims(devices: &[Device], per_corim: usize) -> Vec<Bytes> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let batches: Vec<&[Device]> = devices.chunks(per_corim.max(1)).collect();
    let mut out: Vec<Option<Bytes>> = vec![None; batches.len()];
    std::thread::scope(|scope| {
        for (slots, work) in out
            .chunks_mut(batches.len().div_ceil(threads).max(1))
            .zip(batches.chunks(batches.len().div_ceil(threads).max(1)))
        {
            scope.spawn(move || {
                for (slot, batch) in slots.iter_mut().zip(work) {
                    *slot = Some(corim_for(batch));
                }
            });
        }
    });
    out.into_iter().flatten().collect()
}

fn corim_for(batch: &[Device]) -> Bytes {
    let mut corim = PsaCorim::new(PsaCorimEncoding::Current);
    for d in batch {
        corim.trust_anchor(d.implementation_id, d.instance_id, &d.spki_pem());
    }
    if let Some(first) = batch.first() {
        add_reference_values(&mut corim, first.implementation_id);
    }
    Bytes::from(corim.build())
}

/// Mints a fresh CoRIM per provisioning request: a new device (instance
/// id) of the ACME class each time, as a supply chain enrolling devices
/// sends. Keys come from a small pool: minting a P-256 key per request
/// would cost the generator more than the server's work, and the server
/// parses each key the same way whatever it is.
pub(crate) struct CorimSource {
    keys: Vec<String>,
    implementation_id: [u8; 32],
    counter: AtomicU64,
    salt: u64,
}

impl CorimSource {
    /// A source whose instance ids are unique to this run (`salt`).
    pub(crate) fn new(pool: &[Device], salt: u64) -> anyhow::Result<Self> {
        let first = pool.first().context("an empty device pool")?;
        Ok(CorimSource {
            keys: pool.iter().map(Device::spki_pem).collect(),
            implementation_id: first.implementation_id,
            counter: AtomicU64::new(0),
            salt,
        })
    }

    /// The next CoRIM: one new device and the class's reference values.
    pub(crate) fn next(&self) -> Bytes {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(b"vouch-loadtest/provision");
        ctx.update(&self.salt.to_be_bytes());
        ctx.update(&n.to_be_bytes());
        let hash = ctx.finish();
        let mut instance_id = [0u8; 33];
        instance_id[0] = 0x01;
        for (dst, src) in instance_id[1..].iter_mut().zip(hash.as_ref()) {
            *dst = *src;
        }
        let index = usize::try_from(n).unwrap_or(0) % self.keys.len().max(1);
        let key = self.keys.get(index).map(String::as_str).unwrap_or("");
        let mut corim = PsaCorim::new(PsaCorimEncoding::Current);
        corim.trust_anchor(self.implementation_id, instance_id, key);
        add_reference_values(&mut corim, self.implementation_id);
        Bytes::from(corim.build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minting_is_deterministic_and_corims_decode() {
        let a = mint(10, 5).unwrap();
        let b = mint(10, 5).unwrap();
        assert_eq!(a.len(), 5);
        assert_eq!(a[3].instance_id, b[3].instance_id);
        assert_ne!(a[0].instance_id, a[1].instance_id);
        let corims = corims(&a, 2);
        assert_eq!(corims.len(), 3);
        let decoded = vouch_corim::decode(&corims[0]).unwrap();
        assert_eq!(decoded.comids().count(), 2);

        let source = CorimSource::new(&a, 7).unwrap();
        let one = source.next();
        let two = source.next();
        assert_ne!(one, two);
        vouch_corim::decode(&one).unwrap();
    }
}
