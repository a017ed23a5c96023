//! The crate's error type.

/// Why a certificate could not be read, a chain validated, the RIoT
/// extension decoded or a test certificate minted.
///
/// Validation errors read like Go's `crypto/x509` ones (which end up in
/// Veraison's attestation results), so a caller that wraps them
/// (`failed to verify alias cert: {err}`) produces familiar text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum X509Error {
    /// The text holds no PEM block, a broken one, or something other than
    /// PEM blocks and whitespace.
    #[error("problem extracting certificate PEM block: {0}")]
    Pem(String),
    /// A PEM block holds something other than a certificate.
    #[error(
        "problem extracting certificate PEM block: unexpected PEM block type {0:?} (expected \"CERTIFICATE\")"
    )]
    PemLabel(String),
    /// The DER is not a well-formed X.509 certificate.
    #[error("x509: malformed certificate: {0}")]
    Malformed(String),
    /// No certificate was given to validate.
    #[error("x509: empty certificate chain")]
    EmptyChain,
    /// More certificates were presented than a chain may reasonably hold.
    #[error("x509: too many certificates presented ({count}, at most {max})")]
    TooManyCertificates {
        /// How many were presented.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// No path from the leaf to a trusted root could be built. `hint` says
    /// why the most promising candidate issuer was turned down, when one was.
    #[error("x509: certificate signed by unknown authority{}", hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    UnknownAuthority {
        /// Why a candidate issuer with the right name was rejected.
        hint: Option<String>,
    },
    /// A certificate on the path is outside its validity period.
    #[error("x509: certificate has expired or is not yet valid: {detail}")]
    Expired {
        /// Subject of the offending certificate.
        subject: String,
        /// Which bound was crossed (`current time … is after …`).
        detail: String,
    },
    /// An issuer on the path is not a CA (basicConstraints) or may not sign
    /// certificates (keyUsage).
    #[error("x509: certificate is not authorized to sign other certificates: {detail}")]
    NotAuthorizedToSign {
        /// Subject of the offending issuer.
        subject: String,
        /// What is missing.
        detail: String,
    },
    /// An issuer's basicConstraints pathLenConstraint is exceeded.
    #[error("x509: too many intermediates for path length constraint of {subject:?}")]
    TooManyIntermediates {
        /// Subject of the constraining issuer.
        subject: String,
    },
    /// The extended key usage the caller requires is not granted along the
    /// path.
    #[error("x509: certificate specifies an incompatible key usage")]
    IncompatibleUsage,
    /// A certificate on the path carries a critical extension that is
    /// neither processed here nor allowed by the caller.
    #[error("x509: unhandled critical extension {oid} in {subject:?}")]
    UnhandledCriticalExtension {
        /// The extension's OID.
        oid: String,
        /// Subject of the certificate carrying it.
        subject: String,
    },
    /// The path would be longer than the validation limit.
    #[error("x509: certificate chain longer than {max} certificates")]
    ChainTooLong {
        /// The limit.
        max: usize,
    },
    /// Path building gave up after too many signature checks (bounded
    /// work on hostile input, as Go does).
    #[error("x509: signature check attempts limit reached while verifying certificate chain")]
    SignatureCheckLimit,
    /// The signature algorithm or issuer key type is not supported (or is
    /// insecure, like SHA-1).
    #[error("x509: cannot verify signature: {0}")]
    UnsupportedSignature(String),
    /// The signature does not verify with the issuer's key.
    #[error("x509: {algorithm} verification failure")]
    BadSignature {
        /// `ECDSA`, `RSA` or `Ed25519`.
        algorithm: &'static str,
    },
    /// The certificate's public key is not a key this crate can use.
    #[error("x509: unsupported public key: {0}")]
    UnsupportedPublicKey(String),
    /// The RIoT/DICE CompositeDeviceID extension is missing or malformed.
    #[error("RIoT CompositeDeviceID: {0}")]
    Riot(String),
    /// A test certificate could not be minted.
    #[error("minting certificate: {0}")]
    Mint(String),
}

impl X509Error {
    pub(crate) fn malformed(e: impl std::fmt::Display) -> Self {
        Self::Malformed(e.to_string())
    }
}
