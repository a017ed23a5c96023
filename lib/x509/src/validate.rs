//! Path validation from a leaf to operator-configured roots.

use der::asn1::ObjectIdentifier;

use crate::cert::format_unix;
use crate::signature::check_signed_by;
use crate::{Certificate, X509Error, oid};

/// The longest path accepted, leaf and root included. RIoT chains run to six
/// (alias, DeviceID, three vendor CAs, root); web PKIs to four.
pub const MAX_CHAIN_LEN: usize = 10;

/// At most this many certificates may be presented with a leaf. Evidence is
/// attacker-controlled: the bound keeps path building cheap.
pub const MAX_PRESENTED_CERTS: usize = 32;

/// Path building stops after this many signature checks (Go's limit too), so
/// many same-named candidates cannot make validation expensive.
pub const MAX_SIGNATURE_CHECKS: usize = 100;

/// Extensions this crate processes, so they may be critical anywhere on the
/// path. Everything else critical must be allowed by the caller (on the
/// leaf) or the path is rejected, as RFC 5280 §4.2 requires. Name
/// constraints and policy constraints are not processed, so issuers that
/// mark them critical are refused rather than half-checked.
const HANDLED_CRITICAL: [ObjectIdentifier; 5] = [
    oid::BASIC_CONSTRAINTS,
    oid::KEY_USAGE,
    oid::EXT_KEY_USAGE,
    oid::SUBJECT_KEY_IDENTIFIER,
    oid::AUTHORITY_KEY_IDENTIFIER,
];

/// Trusted roots and, optionally, further intermediates to build paths
/// through.
///
/// Roots are trust anchors: their own signatures are not checked, but their
/// validity period, basicConstraints and keyUsage are, and they must have
/// issued the certificate below them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustStore {
    roots: Vec<Certificate>,
    intermediates: Vec<Certificate>,
}

impl TrustStore {
    /// An empty store, which trusts nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sorts a provisioned certificate path the way Veraison's RIOT scheme
    /// does: self-issued certificates (subject == issuer) become roots, the
    /// others intermediates. Duplicates are dropped.
    pub fn from_certs(certs: impl IntoIterator<Item = Certificate>) -> Self {
        let mut store = Self::new();
        for cert in certs {
            if cert.is_self_issued() {
                store.add_root(cert);
            } else {
                store.add_intermediate(cert);
            }
        }
        store
    }

    /// Trusts `cert` as a root.
    pub fn add_root(&mut self, cert: Certificate) {
        if !self.roots.contains(&cert) {
            self.roots.push(cert);
        }
    }

    /// Offers `cert` as an intermediate for path building (it is not
    /// trusted by itself).
    pub fn add_intermediate(&mut self, cert: Certificate) {
        if !self.intermediates.contains(&cert) {
            self.intermediates.push(cert);
        }
    }

    /// The trusted roots.
    pub fn roots(&self) -> &[Certificate] {
        &self.roots
    }

    /// The extra intermediates.
    pub fn intermediates(&self) -> &[Certificate] {
        &self.intermediates
    }

    /// Whether the store has no root (and so validates nothing).
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

/// What the leaf certificate is for, and which critical extensions the
/// caller processes itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    extended_key_usage: Option<ObjectIdentifier>,
    allowed_critical: Vec<ObjectIdentifier>,
}

impl Usage {
    /// Any purpose; no extra critical extensions allowed. What a signed
    /// CoRIM's x5chain is checked with (Veraison accepts any EKU there).
    pub fn any() -> Self {
        Self::default()
    }

    /// TLS client authentication (Go's `KeyUsages: [ClientAuth]`).
    pub fn client_auth() -> Self {
        Self::any().require_extended_key_usage(oid::KP_CLIENT_AUTH)
    }

    /// A RIoT alias certificate: client authentication, with the critical
    /// SubjectAltName allowed because the caller decodes the
    /// CompositeDeviceID in it ([`crate::riot_composite_device_id`]).
    pub fn riot_alias() -> Self {
        Self::client_auth().allow_critical_extension(oid::SUBJECT_ALT_NAME)
    }

    /// Requires `purpose` in every extKeyUsage along the path (as Go does;
    /// certificates without the extension, or with anyExtendedKeyUsage,
    /// allow everything).
    pub fn require_extended_key_usage(mut self, purpose: ObjectIdentifier) -> Self {
        self.extended_key_usage = Some(purpose);
        self
    }

    /// Lets the leaf carry extension `id` marked critical: the caller
    /// processes it.
    pub fn allow_critical_extension(mut self, id: ObjectIdentifier) -> Self {
        if !self.allowed_critical.contains(&id) {
            self.allowed_critical.push(id);
        }
        self
    }

    /// The extended key usage required, if any.
    pub fn extended_key_usage(&self) -> Option<&ObjectIdentifier> {
        self.extended_key_usage.as_ref()
    }

    /// The critical extensions the leaf may carry beyond those handled here.
    pub fn allowed_critical_extensions(&self) -> &[ObjectIdentifier] {
        &self.allowed_critical
    }
}

/// A path that validated: the leaf first, a trusted root last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatedChain {
    leaf: Certificate,
    /// Leaf first, root last; never empty.
    path: Vec<Certificate>,
}

impl ValidatedChain {
    /// The leaf (end-entity) certificate.
    pub fn leaf(&self) -> &Certificate {
        &self.leaf
    }

    /// The trusted root the path ends at (the leaf itself when the leaf is a
    /// root).
    pub fn root(&self) -> &Certificate {
        self.path.last().unwrap_or(&self.leaf)
    }

    /// The whole path, leaf first.
    pub fn certificates(&self) -> &[Certificate] {
        &self.path
    }
}

/// Validates `leaf_first[0]` against `anchors` at `at_unix_time` (seconds).
///
/// `leaf_first[1..]` are untrusted candidate intermediates, in any order (as
/// with Go's `VerifyOptions.Intermediates`); the store's intermediates are
/// candidates too. A path is found by depth-first search, checking for
/// every link:
///
/// * the issuer's subject equals the child's issuer name, and the child's
///   signature verifies with the issuer's key;
/// * every certificate on the path, the root included, is valid at
///   `at_unix_time`;
/// * every issuer has basicConstraints with cA set (a root may instead be a
///   v1 certificate, which cannot carry extensions), its pathLenConstraint
///   is honoured, and its keyUsage, when present, includes keyCertSign;
/// * no certificate has an unhandled critical extension (the leaf may carry
///   those [`Usage::allow_critical_extension`] names);
/// * when [`Usage`] requires an extended key usage, every extKeyUsage on
///   the path grants it;
/// * the path holds at most [`MAX_CHAIN_LEN`] certificates.
///
/// A leaf that is itself a trusted root validates on its own.
///
/// On failure the most telling reason is returned: a usage mismatch on an
/// otherwise complete path, then a rejected issuer (expired, not a CA…),
/// then `unknown authority`, hinting at a candidate whose signature failed.
pub fn validate_chain(
    leaf_first: &[Certificate],
    anchors: &TrustStore,
    at_unix_time: i64,
    usage: Usage,
) -> Result<ValidatedChain, X509Error> {
    let Some(leaf) = leaf_first.first() else {
        return Err(X509Error::EmptyChain);
    };
    if leaf_first.len() > MAX_PRESENTED_CERTS {
        return Err(X509Error::TooManyCertificates {
            count: leaf_first.len(),
            max: MAX_PRESENTED_CERTS,
        });
    }
    check_time(leaf, at_unix_time)?;
    check_critical(leaf, usage.allowed_critical_extensions())?;

    let mut candidates: Vec<&Certificate> = Vec::new();
    for cert in leaf_first
        .get(1..)
        .unwrap_or_default()
        .iter()
        .chain(anchors.intermediates.iter())
    {
        if !candidates.contains(&cert) && !anchors.roots.contains(cert) {
            candidates.push(cert);
        }
    }
    let mut builder = PathBuilder {
        anchors,
        candidates,
        at: at_unix_time,
        usage: &usage,
        signature_checks: 0,
        failure: None,
    };

    if anchors.roots.contains(leaf) {
        let path = vec![leaf.clone()];
        match builder.check_usage(&path) {
            Ok(()) => {
                return Ok(ValidatedChain {
                    leaf: leaf.clone(),
                    path,
                });
            }
            Err(e) => builder.record(Rank::Usage, e),
        }
    }

    let mut path = vec![leaf];
    if let Some(path) = builder.extend(&mut path) {
        return Ok(ValidatedChain {
            leaf: leaf.clone(),
            path,
        });
    }
    Err(builder
        .failure
        .map(|(_, e)| e)
        .unwrap_or(X509Error::UnknownAuthority { hint: None }))
}

/// How telling a failure is: higher ranks win when several candidate paths
/// fail for different reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    /// A candidate issuer's signature did not verify (or used an
    /// unsupported algorithm): reported as an unknown authority with a hint.
    Signature,
    /// A candidate issuer signed the child but may not be used (expired,
    /// not a CA, path too long…).
    Issuer,
    /// A complete path exists but does not grant the required usage.
    Usage,
}

struct PathBuilder<'a> {
    anchors: &'a TrustStore,
    /// Candidate intermediates: those presented, then the store's, without
    /// duplicates or roots (roots are tried as roots first).
    candidates: Vec<&'a Certificate>,
    at: i64,
    usage: &'a Usage,
    signature_checks: usize,
    /// The most telling failure so far; the first of its rank is kept.
    failure: Option<(Rank, X509Error)>,
}

impl<'a> PathBuilder<'a> {
    fn record(&mut self, rank: Rank, error: X509Error) {
        if self.failure.as_ref().is_none_or(|(r, _)| rank > *r) {
            self.failure = Some((rank, error));
        }
    }

    /// Extends `path` (leaf first, never empty) up to a root; returns the
    /// completed path or `None` after recording why every candidate failed.
    fn extend(&mut self, path: &mut Vec<&'a Certificate>) -> Option<Vec<Certificate>> {
        let child = *path.last()?;
        let anchors = self.anchors;
        // Intermediates are only tried with room left for a root above them,
        // so a root always fits.
        for root in anchors.roots.iter().filter(|r| r.issued(child)) {
            if !self.link(child, root, path, true) {
                continue;
            }
            let complete: Vec<Certificate> = path
                .iter()
                .map(|c| (*c).clone())
                .chain(std::iter::once(root.clone()))
                .collect();
            match self.check_usage(&complete) {
                Ok(()) => return Some(complete),
                Err(e) => self.record(Rank::Usage, e),
            }
        }
        let candidates = self.candidates.clone();
        for candidate in candidates.into_iter().filter(|c| c.issued(child)) {
            if self.exhausted() {
                return None;
            }
            if path.contains(&candidate) {
                // Loops go nowhere.
                continue;
            }
            // A further intermediate needs room for at least a root above it.
            if path.len().saturating_add(2) > MAX_CHAIN_LEN {
                self.record(Rank::Issuer, X509Error::ChainTooLong { max: MAX_CHAIN_LEN });
                return None;
            }
            if !self.link(child, candidate, path, false) {
                continue;
            }
            path.push(candidate);
            if let Some(done) = self.extend(path) {
                return Some(done);
            }
            path.pop();
        }
        None
    }

    fn exhausted(&self) -> bool {
        matches!(self.failure, Some((_, X509Error::SignatureCheckLimit)))
    }

    /// Whether `issuer` may sit above `child` (the top of `path`); records
    /// why not.
    fn link(
        &mut self,
        child: &Certificate,
        issuer: &Certificate,
        path: &[&Certificate],
        is_root: bool,
    ) -> bool {
        if self.signature_checks >= MAX_SIGNATURE_CHECKS {
            // Outranks everything: the search is over.
            self.failure = Some((Rank::Usage, X509Error::SignatureCheckLimit));
            return false;
        }
        self.signature_checks = self.signature_checks.saturating_add(1);
        if let Err(e) = check_signed_by(child, issuer) {
            let hint = format!(
                "possibly because of {:?} while trying to verify candidate authority certificate {:?}",
                e.to_string(),
                issuer.subject()
            );
            self.record(
                Rank::Signature,
                X509Error::UnknownAuthority { hint: Some(hint) },
            );
            return false;
        }
        match check_issuer(issuer, path, self.at, is_root) {
            Ok(()) => true,
            Err(e) => {
                self.record(Rank::Issuer, e);
                false
            }
        }
    }

    fn check_usage(&self, path: &[Certificate]) -> Result<(), X509Error> {
        let Some(wanted) = self.usage.extended_key_usage() else {
            return Ok(());
        };
        let granted = path.iter().all(|cert| {
            cert.extended_key_usage().is_none_or(|ekus| {
                ekus.iter()
                    .any(|e| e == wanted || *e == oid::ANY_EXTENDED_KEY_USAGE)
            })
        });
        if granted {
            Ok(())
        } else {
            Err(X509Error::IncompatibleUsage)
        }
    }
}

fn check_time(cert: &Certificate, at: i64) -> Result<(), X509Error> {
    let not_before = cert.not_before_unix();
    let not_after = cert.not_after_unix();
    let detail = if at < not_before {
        format!(
            "current time {} is before {}",
            format_unix(at),
            format_unix(not_before)
        )
    } else if at > not_after {
        format!(
            "current time {} is after {}",
            format_unix(at),
            format_unix(not_after)
        )
    } else {
        return Ok(());
    };
    Err(X509Error::Expired {
        subject: cert.subject(),
        detail,
    })
}

fn check_critical(cert: &Certificate, allowed: &[ObjectIdentifier]) -> Result<(), X509Error> {
    match cert
        .critical_extensions()
        .find(|id| !HANDLED_CRITICAL.contains(id) && !allowed.contains(id))
    {
        Some(id) => Err(X509Error::UnhandledCriticalExtension {
            oid: id.to_string(),
            subject: cert.subject(),
        }),
        None => Ok(()),
    }
}

/// Checks that `issuer` may issue the certificate on top of `path`.
fn check_issuer(
    issuer: &Certificate,
    path: &[&Certificate],
    at: i64,
    is_root: bool,
) -> Result<(), X509Error> {
    check_time(issuer, at)?;
    check_critical(issuer, &[])?;
    let not_authorized = |detail: &str| X509Error::NotAuthorizedToSign {
        subject: issuer.subject(),
        detail: format!("{:?} {detail}", issuer.subject()),
    };
    match issuer.basic_constraints() {
        Some(bc) if bc.ca => {
            // Go's count: every certificate between this issuer and the leaf.
            let below = path.len().saturating_sub(1);
            if let Some(max) = bc.path_len
                && below > usize::from(max)
            {
                return Err(X509Error::TooManyIntermediates {
                    subject: issuer.subject(),
                });
            }
        }
        // A v1 root cannot say it is a CA; trusting it says so.
        None if is_root && issuer.version() == x509_cert::certificate::Version::V1 => {}
        _ => {
            return Err(not_authorized(
                "is not a CA (basicConstraints cA is not set)",
            ));
        }
    }
    if issuer.key_usage().is_some_and(|ku| !ku.key_cert_sign()) {
        return Err(not_authorized("has a keyUsage without keyCertSign"));
    }
    Ok(())
}
