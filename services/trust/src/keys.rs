//! Loading the EAR signing key.

use std::path::{Path, PathBuf};

use vouch_crypto::{Curve, SigningKey};

/// File name of the generated key inside the data directory.
pub const GENERATED_KEY_FILE: &str = "ear-signing-key.pem";

/// Why the signing key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("{action} EAR signing key {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a usable key.
    #[error("EAR signing key {path} is not a P-256 JWK or PEM private key: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Loads a key from a JWK (JSON) or PEM (PKCS#8 or SEC1) file.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
        action: "reading",
        path: path.to_owned(),
        source,
    })?;
    let format = |reason: String| KeyError::Format {
        path: path.to_owned(),
        reason,
    };
    let key = SigningKey::from_jwk_or_pem(&text).map_err(|e| format(e.to_string()))?;
    if key.verifying_key().curve() != Curve::P256 {
        return Err(format(
            "EARs are signed ES256, which needs a P-256 key".to_owned(),
        ));
    }
    Ok(key)
}

/// Loads `<data_dir>/ear-signing-key.pem`, creating it (mode 0600) on first
/// start. Several trust instances must share one key: give them `--ear-key`.
pub fn load_or_create_signing_key(data_dir: &Path) -> Result<SigningKey, KeyError> {
    let path = data_dir.join(GENERATED_KEY_FILE);
    if path.exists() {
        return load_signing_key(&path);
    }
    std::fs::create_dir_all(data_dir).map_err(|source| KeyError::Io {
        action: "creating the directory for",
        path: path.clone(),
        source,
    })?;
    let key = SigningKey::generate(Curve::P256).map_err(|e| KeyError::Format {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    write_private(&path, key.to_pkcs8_pem().as_bytes())?;
    tracing::info!(path = %path.display(), "generated a new EAR signing key");
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    use std::io::Write as _;
    let io = |source| KeyError::Io {
        action: "writing",
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}
