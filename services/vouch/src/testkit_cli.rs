//! `vouch testkit`: mints a demo device, its CoRIM and its tokens, so a
//! provisioning and a verification can be tried with curl on a fresh
//! machine.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;
use clap::{Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use vouch_crypto::SigningKey;
use vouch_testkit::corim::{PsaCorim, PsaCorimEncoding, PsaRefValue};
use vouch_testkit::psa::{Device, SwComponent};

/// CoRIM encodings the demo can mint.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Encoding {
    /// `application/rim+cbor; profile="tag:arm.com,2025:psa#1.0.0"`.
    Current,
    /// `application/corim-unsigned+cbor; profile="http://arm.com/psa/iot/1"`.
    Legacy,
}

/// Test-kit subcommands.
#[derive(Debug, Subcommand)]
pub enum TestkitCommand {
    /// Mint a PSA device: writes DIR/device.json (identity and private key)
    /// and DIR/corim.cbor (its trust anchor and reference values).
    Device {
        /// Output directory.
        #[arg(long)]
        dir: PathBuf,
        /// Derive the key from this seed instead of at random.
        #[arg(long)]
        seed: Option<u64>,
        /// CoRIM encoding.
        #[arg(long, value_enum, default_value = "current")]
        encoding: Encoding,
    },
    /// Mint a PSA profile-2 token for a device, bound to a session nonce.
    Token {
        /// Directory written by `vouch testkit device`.
        #[arg(long)]
        dir: PathBuf,
        /// The session nonce (base64url, as in the session JSON).
        #[arg(long)]
        nonce: String,
        /// Output file (default DIR/token.cbor).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Serialize, Deserialize)]
struct DeviceFile {
    #[serde(rename = "implementation-id")]
    implementation_id: String,
    #[serde(rename = "instance-id")]
    instance_id: String,
    #[serde(rename = "private-key")]
    private_key: String,
}

pub(crate) fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn corim_for(device: &Device, encoding: Encoding) -> Vec<u8> {
    let encoding = match encoding {
        Encoding::Current => PsaCorimEncoding::Current,
        Encoding::Legacy => PsaCorimEncoding::Legacy,
    };
    let mut corim = PsaCorim::new(encoding);
    corim.trust_anchor(
        device.implementation_id,
        device.instance_id,
        &device.spki_pem(),
    );
    for rv in SwComponent::acme_components()
        .iter()
        .filter_map(PsaRefValue::endorsing)
    {
        corim.reference_value(device.implementation_id, rv);
    }
    corim.build()
}

#[expect(clippy::print_stdout, reason = "the demo prints what it wrote")]
fn say(line: &str) {
    println!("{line}");
}

/// The device `vouch testkit device` wrote to `dir`.
pub fn load_device(dir: &Path) -> anyhow::Result<Device> {
    let path = dir.join("device.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let file: DeviceFile =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let key = SigningKey::from_pem(&file.private_key).context("reading the device key")?;
    let implementation_id: [u8; 32] = hex::decode(&file.implementation_id)
        .context("implementation-id must be hex")?
        .try_into()
        .map_err(|_| anyhow::anyhow!("implementation-id must be 32 bytes"))?;
    let device = Device::with_key(implementation_id, key);
    anyhow::ensure!(
        hex::encode(device.instance_id) == file.instance_id,
        "device.json instance-id does not belong to its key"
    );
    Ok(device)
}

/// Runs a test-kit command.
pub fn run(command: TestkitCommand) -> anyhow::Result<()> {
    match command {
        TestkitCommand::Device {
            dir,
            seed,
            encoding,
        } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let device = match seed {
                Some(seed) => Device::from_seed(seed),
                None => Device::generate(),
            }
            .context("generating the device key")?;
            let file = DeviceFile {
                implementation_id: hex::encode(device.implementation_id),
                instance_id: hex::encode(device.instance_id),
                private_key: device.key.to_pkcs8_pem(),
            };
            write(
                &dir.join("device.json"),
                serde_json::to_string_pretty(&file)?.as_bytes(),
            )?;
            write(&dir.join("corim.cbor"), &corim_for(&device, encoding))?;
            let media_type = match encoding {
                Encoding::Current => PsaCorimEncoding::Current.media_type(),
                Encoding::Legacy => PsaCorimEncoding::Legacy.media_type(),
            };
            say(&format!(
                "wrote {}/device.json and {}/corim.cbor",
                dir.display(),
                dir.display()
            ));
            say(&format!("provision it with Content-Type: {media_type}"));
            Ok(())
        }
        TestkitCommand::Token { dir, nonce, out } => {
            let device = load_device(&dir)?;
            let nonce = nonce.trim_end_matches('=');
            let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(nonce)
                .context("the nonce must be base64url")?;
            let token = device
                .token(&nonce, &SwComponent::acme_components())
                .context("signing the token")?;
            let out = out.unwrap_or_else(|| dir.join("token.cbor"));
            write(&out, &token)?;
            say(&format!("wrote {}", out.display()));
            Ok(())
        }
    }
}
