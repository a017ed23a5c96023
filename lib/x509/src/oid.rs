//! Object identifiers this crate reads and writes.

pub use der::asn1::ObjectIdentifier;

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

/// `id-ce-subjectAltName` (RFC 5280 §4.2.1.6); RIoT alias certificates carry
/// the CompositeDeviceID in it, marked critical.
pub const SUBJECT_ALT_NAME: ObjectIdentifier = oid("2.5.29.17");
/// `id-ce-basicConstraints` (RFC 5280 §4.2.1.9).
pub const BASIC_CONSTRAINTS: ObjectIdentifier = oid("2.5.29.19");
/// `id-ce-keyUsage` (RFC 5280 §4.2.1.3).
pub const KEY_USAGE: ObjectIdentifier = oid("2.5.29.15");
/// `id-ce-extKeyUsage` (RFC 5280 §4.2.1.12).
pub const EXT_KEY_USAGE: ObjectIdentifier = oid("2.5.29.37");
/// `id-ce-subjectKeyIdentifier` (RFC 5280 §4.2.1.2).
pub const SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = oid("2.5.29.14");
/// `id-ce-authorityKeyIdentifier` (RFC 5280 §4.2.1.1).
pub const AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier = oid("2.5.29.35");

/// `anyExtendedKeyUsage` (RFC 5280 §4.2.1.12).
pub const ANY_EXTENDED_KEY_USAGE: ObjectIdentifier = oid("2.5.29.37.0");
/// `id-kp-serverAuth`.
pub const KP_SERVER_AUTH: ObjectIdentifier = oid("1.3.6.1.5.5.7.3.1");
/// `id-kp-clientAuth`: required of RIoT alias certificates (Veraison verifies
/// them with Go's `KeyUsages: [ClientAuth]`).
pub const KP_CLIENT_AUTH: ObjectIdentifier = oid("1.3.6.1.5.5.7.3.2");
/// `id-kp-codeSigning`.
pub const KP_CODE_SIGNING: ObjectIdentifier = oid("1.3.6.1.5.5.7.3.3");

/// TCG DICE `tcg-dice-kp`/RIoT CompositeDeviceID OtherName type
/// (`2.23.133.5.4.1`).
pub const RIOT_COMPOSITE_DEVICE_ID: ObjectIdentifier = oid("2.23.133.5.4.1");

/// `id-ecPublicKey` (RFC 5480).
pub const EC_PUBLIC_KEY: ObjectIdentifier = oid("1.2.840.10045.2.1");
/// `secp256r1` (P-256).
pub const SECP256R1: ObjectIdentifier = oid("1.2.840.10045.3.1.7");
/// `rsaEncryption` (RFC 8017).
pub const RSA_ENCRYPTION: ObjectIdentifier = oid("1.2.840.113549.1.1.1");
/// `id-RSASSA-PSS` (RFC 8017), as signature algorithm and as key type.
pub const RSASSA_PSS: ObjectIdentifier = oid("1.2.840.113549.1.1.10");
/// `id-mgf1` (RFC 8017).
pub const MGF1: ObjectIdentifier = oid("1.2.840.113549.1.1.8");
/// `id-Ed25519` (RFC 8410).
pub const ED25519: ObjectIdentifier = oid("1.3.101.112");

/// `ecdsa-with-SHA256` (RFC 5758).
pub const ECDSA_WITH_SHA256: ObjectIdentifier = oid("1.2.840.10045.4.3.2");
/// `ecdsa-with-SHA384` (RFC 5758).
pub const ECDSA_WITH_SHA384: ObjectIdentifier = oid("1.2.840.10045.4.3.3");
/// `ecdsa-with-SHA512` (RFC 5758).
pub const ECDSA_WITH_SHA512: ObjectIdentifier = oid("1.2.840.10045.4.3.4");
/// `ecdsa-with-SHA1`: recognised only to be refused as insecure.
pub const ECDSA_WITH_SHA1: ObjectIdentifier = oid("1.2.840.10045.4.1");
/// `sha256WithRSAEncryption` (RFC 8017).
pub const SHA256_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.11");
/// `sha384WithRSAEncryption` (RFC 8017).
pub const SHA384_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.12");
/// `sha512WithRSAEncryption` (RFC 8017).
pub const SHA512_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.13");
/// `sha1WithRSAEncryption`: recognised only to be refused as insecure.
pub const SHA1_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.5");

/// `id-sha1`.
pub const SHA1: ObjectIdentifier = oid("1.3.14.3.2.26");
/// `id-sha256` (also the RIoT FWID hash algorithm).
pub const SHA256: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.1");
/// `id-sha384`.
pub const SHA384: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.2");
/// `id-sha512`.
pub const SHA512: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.3");
