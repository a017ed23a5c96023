//! X.509 certificate chains: parsing, path validation to provisioned roots,
//! and the RIoT/DICE CompositeDeviceID extension. Free of I/O.
//!
//! Two users: the RIOT scheme (Veraison's RIoT/DICE evidence, a PEM chain
//! `application/pem-certificate-chain` validated against the certificate
//! path a CoRIM provisions) and signed CoRIMs (a COSE_Sign1 whose x5chain
//! header must chain to operator-configured roots).
//!
//! # API
//!
//! Parsing ([`Certificate`] keeps the DER it was read from):
//!
//! * [`Certificate::from_der`]`(der: &[u8]) -> Result<Certificate, X509Error>`
//! * [`parse_pem_chain`]`(text: &str) -> Result<Vec<Certificate>, X509Error>`:
//!   every `CERTIFICATE` block in order; other block types, stray text and
//!   text without blocks are errors.
//! * accessors: `der`, `to_pem`, `tbs_der`, `x509` (the `x509-cert`
//!   structure), `subject`, `issuer`, `serial_hex`, `not_before_unix`,
//!   `not_after_unix`, `is_self_issued`, `is_ca`, `path_len_constraint`,
//!   `extended_key_usage`, `extension(oid) -> Option<(critical, value)>`,
//!   `critical_extensions`, `public_key_spki_der`, and `ec_public_key` (a
//!   `vouch_crypto::VerifyingKey`, to check what the holder signed).
//!
//! Path validation:
//!
//! * [`TrustStore`]: roots plus optional intermediates; `new`, `add_root`,
//!   `add_intermediate`, and `from_certs(certs)`, which sorts a provisioned
//!   certificate path like Veraison's RIOT scheme does (self-issued
//!   certificates become roots, the others intermediates).
//! * [`Usage`]: the extended key usage the leaf must have (none by default,
//!   `client_auth()` for Go's `KeyUsages: [ClientAuth]`) and the critical
//!   extensions the caller handles on the leaf; `riot_alias()` is both for
//!   RIoT alias certificates.
//! * [`validate_chain`]`(leaf_first: &[Certificate], anchors: &TrustStore,
//!   at_unix_time: i64, usage: Usage) -> Result<ValidatedChain, X509Error>`
//!   builds and checks a path: signatures (ECDSA P-256/P-384/P-521 with
//!   SHA-256/384/512, RSA PKCS#1 v1.5 and PSS, Ed25519), issuer/subject
//!   names, validity at the given time, basicConstraints and pathLen,
//!   keyUsage keyCertSign, extKeyUsage, unknown critical extensions, and a
//!   bounded length ([`MAX_CHAIN_LEN`]). Errors read like Go's
//!   (`x509: certificate signed by unknown authority`, `x509: certificate
//!   has expired or is not yet valid: …`), ready for a caller's prefix.
//!
//! RIoT/DICE:
//!
//! * [`riot_composite_device_id`]`(alias: &Certificate) ->
//!   Result<CompositeDeviceId, X509Error>` decodes the CompositeDeviceID
//!   (DeviceID key, FWID) from the alias certificate's SubjectAltName, in
//!   the bare encoding devices emit or RFC 5280's `[0] EXPLICIT` one;
//!   [`parse_riot_subject_alt_name`] does the same from the extension value.
//!
//! Minting ([`mint`], for tests and the test kit; fresh P-256 keys from
//! `vouch_crypto::SigningKey`):
//!
//! * [`mint::CertificateBuilder`]: `new(subject, &VerifyingKey, now)`,
//!   `serial`, `validity`, `ca(path_len)`, `basic_constraints`,
//!   `key_usage`, `extended_key_usage`, `extension`, then
//!   `self_signed(&SigningKey)` or `issued_by(&Certificate, &SigningKey)`;
//! * [`mint::root_ca`], [`mint::intermediate_ca`] returning
//!   [`mint::Minted`] `{ cert, key }`;
//! * [`mint::RiotDevice`] (`generate(fwid, now)`, `under(root,
//!   intermediate, fwid, now)`, `evidence_pem()`, `trust_anchor_pem()`): a
//!   RIoT device whose alias certificate carries the CompositeDeviceID in the
//!   same bare encoding as real devices ([`mint::riot_subject_alt_name`]);
//! * [`mint::SignerChain`] (`generate(now)`, `x5chain_der()`, `root_pem()`):
//!   a CoRIM signer's chain.
//!
//! ```
//! use vouch_x509::{TrustStore, Usage, parse_pem_chain, validate_chain};
//! # let now = 1_800_000_000;
//! # let device = vouch_x509::mint::RiotDevice::generate(&[1; 32], now)?;
//! # let (evidence, provisioned) = (device.evidence_pem(), device.trust_anchor_pem());
//! let chain = parse_pem_chain(&evidence)?;
//! let anchors = TrustStore::from_certs(parse_pem_chain(&provisioned)?);
//! let validated = validate_chain(&chain, &anchors, now, Usage::riot_alias())
//!     .map_err(|e| format!("failed to verify alias cert: {e}"));
//! assert!(validated.is_ok());
//! # Ok::<(), vouch_x509::X509Error>(())
//! ```

mod cert;
mod error;
pub mod mint;
pub mod oid;
mod riot;
mod signature;
mod validate;

pub use cert::{Certificate, parse_pem_chain};
pub use error::X509Error;
pub use oid::ObjectIdentifier;
pub use riot::{CompositeDeviceId, parse_riot_subject_alt_name, riot_composite_device_id};
pub use validate::{
    MAX_CHAIN_LEN, MAX_PRESENTED_CERTS, MAX_SIGNATURE_CHECKS, TrustStore, Usage, ValidatedChain,
    validate_chain,
};
/// The `x509-cert` crate, whose types [`Certificate::x509`] and the
/// [`mint`] builder expose.
pub use x509_cert;
