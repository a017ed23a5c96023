//! A test PKI: CAs and the certificates they issue, for the TLS and mutual
//! TLS tests (feature `tls`). Keys are P-256 unless asked for RSA; each can
//! be written as PKCS#8, SEC1 (EC) or PKCS#1 (RSA) PEM.

use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::AsDer as _;
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// What went wrong minting or writing test certificates.
#[derive(Debug, thiserror::Error)]
pub enum TlsKitError {
    /// rcgen refused the parameters or the key.
    #[error("minting a certificate: {0}")]
    Mint(#[from] rcgen::Error),
    /// A key could not be re-encoded.
    #[error("re-encoding a private key: {0}")]
    Encode(String),
    /// A file could not be written.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What a certificate may be used for (its extended key usage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// TLS server authentication.
    Server,
    /// TLS client authentication.
    Client,
    /// Both: one certificate per process that serves and calls.
    Both,
}

/// The algorithm of a certificate's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA P-256.
    P256,
    /// RSA 2048.
    Rsa2048,
}

/// A self-signed CA.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA whose common name is `name`.
    pub fn new(name: &str) -> Result<Self, TlsKitError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        Ok(TestCa { issuer })
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> Vec<u8> {
        self.issuer.der().to_vec()
    }

    /// A P-256 certificate for `names` (DNS names or IP addresses, which
    /// become the subject alternative names; the first is also the common
    /// name).
    pub fn issue(&self, names: &[&str], usage: Usage) -> Result<IssuedCert, TlsKitError> {
        self.issue_with(names, usage, KeyKind::P256)
    }

    /// [`TestCa::issue`] with a key of `kind`.
    pub fn issue_with(
        &self,
        names: &[&str],
        usage: Usage,
        kind: KeyKind,
    ) -> Result<IssuedCert, TlsKitError> {
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())?;
        if let Some(first) = names.first() {
            params.distinguished_name.push(DnType::CommonName, *first);
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if kind == KeyKind::Rsa2048 {
            // RSA key exchange is not offered by rustls, but TLS 1.2 peers
            // may still expect the bit on RSA certificates.
            params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
        }
        params.extended_key_usages = match usage {
            Usage::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
            Usage::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
            Usage::Both => vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        };
        params.use_authority_key_identifier_extension = true;
        let key = match kind {
            KeyKind::P256 => KeyPair::generate()?,
            KeyKind::Rsa2048 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)?
            }
        };
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            ca_pem: self.cert_pem(),
            pkcs8: key.serialize_der(),
            kind,
        })
    }
}

/// A certificate and its private key.
#[derive(Clone)]
pub struct IssuedCert {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    ca_pem: String,
    pkcs8: Vec<u8>,
    kind: KeyKind,
}

impl std::fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCert")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// One DER element at the start of `input`: (tag, contents, rest).
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

impl IssuedCert {
    /// The key as PKCS#8 PEM (`PRIVATE KEY`).
    pub fn key_pem(&self) -> String {
        pem("PRIVATE KEY", &self.pkcs8)
    }

    /// The key in its algorithm's own PEM: SEC1 (`EC PRIVATE KEY`) for
    /// P-256, PKCS#1 (`RSA PRIVATE KEY`) for RSA.
    pub fn key_pem_traditional(&self) -> Result<String, TlsKitError> {
        match self.kind {
            KeyKind::P256 => {
                let key = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
                    &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                    &self.pkcs8,
                )
                .map_err(|e| TlsKitError::Encode(e.to_string()))?;
                let sec1 = key
                    .private_key()
                    .as_der()
                    .map_err(|e| TlsKitError::Encode(e.to_string()))?;
                Ok(pem("EC PRIVATE KEY", sec1.as_ref()))
            }
            KeyKind::Rsa2048 => {
                // PrivateKeyInfo ::= SEQUENCE { version, algorithm,
                // privateKey OCTET STRING }; for RSA the octets are the
                // PKCS#1 RSAPrivateKey.
                let invalid = || TlsKitError::Encode("malformed PKCS#8".into());
                let (_, info, _) = der_element(&self.pkcs8).ok_or_else(invalid)?;
                let (_, _, rest) = der_element(info).ok_or_else(invalid)?;
                let (_, _, rest) = der_element(rest).ok_or_else(invalid)?;
                let (tag, pkcs1, _) = der_element(rest).ok_or_else(invalid)?;
                if tag != 0x04 {
                    return Err(invalid());
                }
                Ok(pem("RSA PRIVATE KEY", pkcs1))
            }
        }
    }

    /// The certificate followed by the issuing CA's: a chain as servers
    /// send it.
    pub fn chain_pem(&self) -> String {
        format!("{}{}", self.cert_pem, self.ca_pem)
    }

    /// Writes `{stem}.crt` (the chain) and `{stem}.key` (PKCS#8) into
    /// `dir`, returning their paths.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<(PathBuf, PathBuf), TlsKitError> {
        let cert = dir.join(format!("{stem}.crt"));
        let key = dir.join(format!("{stem}.key"));
        write_file(&cert, &self.chain_pem())?;
        write_file(&key, &self.key_pem())?;
        Ok((cert, key))
    }
}

/// Writes `contents` to `path`.
pub fn write_file(path: &Path, contents: &str) -> Result<(), TlsKitError> {
    std::fs::write(path, contents).map_err(|source| TlsKitError::Write {
        path: path.to_owned(),
        source,
    })
}

/// A CA and one certificate for `localhost` and `127.0.0.1`, good for
/// serving and for client authentication, written to a directory: what a
/// test needs to run every listener with TLS and trust with mutual TLS.
#[derive(Debug)]
pub struct TestPki {
    /// The CA.
    pub ca: TestCa,
    /// The certificate.
    pub node: IssuedCert,
    /// The CA certificate file.
    pub ca_file: PathBuf,
    /// The certificate chain file.
    pub cert_file: PathBuf,
    /// The PKCS#8 key file.
    pub key_file: PathBuf,
}

impl TestPki {
    /// Mints the CA and the certificate and writes `ca.crt`, `node.crt`
    /// and `node.key` into `dir`.
    pub fn create(dir: &Path) -> Result<Self, TlsKitError> {
        let ca = TestCa::new("Vouch test CA")?;
        let node = ca.issue(&["localhost", "127.0.0.1"], Usage::Both)?;
        let ca_file = dir.join("ca.crt");
        write_file(&ca_file, &ca.cert_pem())?;
        let (cert_file, key_file) = node.write(dir, "node")?;
        Ok(TestPki {
            ca,
            node,
            ca_file,
            cert_file,
            key_file,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_in_every_encoding() {
        let ca = TestCa::new("ca").unwrap();
        let ec = ca.issue(&["localhost"], Usage::Server).unwrap();
        assert!(ec.key_pem().starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(
            ec.key_pem_traditional()
                .unwrap()
                .starts_with("-----BEGIN EC PRIVATE KEY-----\n")
        );
        let rsa = ca
            .issue_with(&["localhost"], Usage::Server, KeyKind::Rsa2048)
            .unwrap();
        let pkcs1 = rsa.key_pem_traditional().unwrap();
        assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        // RSAPrivateKey ::= SEQUENCE { version INTEGER (0), modulus … }
        let body: String = pkcs1.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let (tag, contents, rest) = der_element(&der).unwrap();
        assert_eq!((tag, rest.len()), (0x30, 0));
        assert_eq!(&contents[..3], &[0x02, 0x01, 0x00]);
        assert!(ec.chain_pem().ends_with(&ca.cert_pem()));
    }
}
