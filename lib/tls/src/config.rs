//! Server and client configurations from PEM files.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::net::TcpStream;

/// ALPN for the REST listeners: HTTP/2, then HTTP/1.1.
pub const ALPN_HTTP: &[&[u8]] = &[b"h2", b"http/1.1"];
/// ALPN for gRPC: HTTP/2 only.
pub const ALPN_GRPC: &[&[u8]] = &[b"h2"];

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("reading the {what} {}: {source}", path.display())]
    Read {
        /// What the file was meant to hold.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A certificate file held no certificate, or a malformed one.
    #[error("{}: {reason}", path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A key file held no private key, or one rustls cannot use.
    #[error("{}: {reason}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The private key is not the key of the certificate.
    #[error(
        "the private key {} does not belong to the certificate {}",
        key.display(),
        cert.display()
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refused the assembled configuration.
    #[error("building the TLS configuration: {0}")]
    Config(String),
    /// A client could not reach, or could not agree with, a server.
    #[error("TLS connection to {server}: {reason}")]
    Connect {
        /// The server name.
        server: String,
        /// Why.
        reason: String,
    },
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

/// The certificates of a PEM file, in order (a chain starts with its leaf).
/// Other PEM sections, such as a private key, are skipped.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read("certificate file", path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Certificate {
            path: path.to_owned(),
            reason: format!("not a PEM certificate file: {e}"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Certificate {
            path: path.to_owned(),
            reason: "no PEM CERTIFICATE block found".into(),
        });
    }
    Ok(certs)
}

/// The first private key of a PEM file: PKCS#8 (`PRIVATE KEY`), SEC1
/// (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read("private key file", path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsError::Key {
        path: path.to_owned(),
        reason: match e {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "no PEM private key found (PKCS#8 PRIVATE KEY, SEC1 EC PRIVATE KEY or \
                 PKCS#1 RSA PRIVATE KEY)"
                    .to_owned()
            }
            other => format!("not a PEM private key: {other}"),
        },
    })
}

/// A certificate chain and its private key, checked to belong together
/// and to be a key type rustls signs with.
pub fn load_identity(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let certs = load_certs(cert)?;
    let private_key = load_key(key)?;
    rustls::sign::CertifiedKey::from_der(certs.clone(), private_key.clone_key(), &provider())
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch {
                cert: cert.to_owned(),
                key: key.to_owned(),
            },
            other => TlsError::Key {
                path: key.to_owned(),
                reason: format!("unusable private key: {other}"),
            },
        })?;
    Ok((certs, private_key))
}

/// The CA certificates of a PEM file as trust anchors.
pub fn load_ca(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(path)? {
        roots.add(cert).map_err(|e| TlsError::Certificate {
            path: path.to_owned(),
            reason: format!("not a usable CA certificate: {e}"),
        })?;
    }
    Ok(roots)
}

/// The SHA-256 fingerprint of a certificate, in hex (as `openssl x509
/// -fingerprint -sha256` prints it, without the colons).
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert.as_ref()).as_ref())
}

/// Where a server's TLS configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key of the leaf.
    pub key: PathBuf,
    /// For mutual TLS: PEM CA certificates that every client certificate
    /// must chain to. Without it, clients are not asked for a certificate.
    pub client_ca: Option<PathBuf>,
}

/// A server TLS configuration that can be reloaded from its files while
/// listeners use it: each new connection takes the configuration current
/// when it arrives; connections already open keep theirs.
pub struct ServerTls {
    files: ServerTlsFiles,
    alpn: Vec<Vec<u8>>,
    current: RwLock<Arc<ServerConfig>>,
    /// The leaf's fingerprint, for the logs.
    leaf: RwLock<String>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("files", &self.files)
            .field("leaf", &self.leaf_fingerprint())
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Reads `files`; the configuration offers the `alpn` protocols
    /// ([`ALPN_HTTP`] or [`ALPN_GRPC`]).
    pub fn load(files: ServerTlsFiles, alpn: &[&[u8]]) -> Result<Arc<Self>, TlsError> {
        let alpn: Vec<Vec<u8>> = alpn.iter().map(|p| p.to_vec()).collect();
        let (config, leaf) = build(&files, &alpn)?;
        Ok(Arc::new(ServerTls {
            files,
            alpn,
            current: RwLock::new(Arc::new(config)),
            leaf: RwLock::new(leaf),
        }))
    }

    /// Reads the files again and, when they make a valid configuration,
    /// uses it for new connections. On error the configuration in use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let (config, leaf) = build(&self.files, &self.alpn)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
        *self.leaf.write().unwrap_or_else(PoisonError::into_inner) = leaf;
        Ok(())
    }

    /// The configuration for a new connection.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The files it is read from.
    pub fn files(&self) -> &ServerTlsFiles {
        &self.files
    }

    /// The SHA-256 fingerprint of the leaf certificate in use.
    pub fn leaf_fingerprint(&self) -> String {
        self.leaf
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn build(files: &ServerTlsFiles, alpn: &[Vec<u8>]) -> Result<(ServerConfig, String), TlsError> {
    let (certs, key) = load_identity(&files.cert, &files.key)?;
    let leaf = certs.first().map(fingerprint).unwrap_or_default();
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let roots = load_ca(ca)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsError::Certificate {
                    path: ca.clone(),
                    reason: format!("cannot verify client certificates with it: {e}"),
                })?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = alpn.to_vec();
    Ok((config, leaf))
}

/// Reloads every configuration (on SIGHUP), logging each outcome; a
/// configuration whose files are bad keeps serving the old certificate.
/// Returns how many failed.
pub fn reload_all(configs: &[Arc<ServerTls>]) -> usize {
    let mut failed = 0;
    for tls in configs {
        let cert = tls.files().cert.display().to_string();
        match tls.reload() {
            Ok(()) => tracing::info!(
                cert = %cert,
                fingerprint = %tls.leaf_fingerprint(),
                "TLS certificate reloaded"
            ),
            Err(e) => {
                failed += 1;
                tracing::error!(
                    cert = %cert,
                    error = %e,
                    fingerprint = %tls.leaf_fingerprint(),
                    "TLS reload failed; the current certificate stays in use"
                );
            }
        }
    }
    failed
}

/// A client configuration that trusts the CA certificates in `ca` and,
/// given `identity` (certificate chain and key files), presents it for
/// mutual TLS. Offers the `alpn` protocols.
pub fn client_config(
    ca: &Path,
    identity: Option<(&Path, &Path)>,
    alpn: &[&[u8]],
) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = load_ca(ca)?;
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots);
    let mut config = match identity {
        Some((cert, key)) => {
            let (certs, key) = load_identity(cert, key)?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| TlsError::Config(e.to_string()))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// Runs a client handshake on `stream`, verifying the server as
/// `server_name` (a DNS name or an IP address).
pub async fn connect(
    stream: TcpStream,
    server_name: &str,
    config: Arc<ClientConfig>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, TlsError> {
    let name = ServerName::try_from(server_name.to_owned()).map_err(|e| TlsError::Connect {
        server: server_name.to_owned(),
        reason: format!("not a DNS name or IP address: {e}"),
    })?;
    tokio_rustls::TlsConnector::from(config)
        .connect(name, stream)
        .await
        .map_err(|e| TlsError::Connect {
            server: server_name.to_owned(),
            reason: e.to_string(),
        })
}
