//! The RIoT/DICE CompositeDeviceID carried by alias certificates.
//!
//! A RIoT alias certificate has a critical SubjectAltName whose only
//! GeneralName is an OtherName of type `2.23.133.5.4.1`:
//!
//! ```text
//! CompositeDeviceID ::= SEQUENCE {
//!     version   INTEGER (1),
//!     deviceID  SubjectPublicKeyInfo,
//!     fwid      SEQUENCE { hashAlg OBJECT IDENTIFIER, fwid OCTET STRING } }
//! ```
//!
//! The RIoT reference code (and so every device in the field, and the
//! Veraison vectors) puts the CompositeDeviceID directly after the type-id,
//! without the `[0] EXPLICIT` wrapper RFC 5280's OtherName requires. OpenSSL
//! and Python `cryptography` refuse such a SubjectAltName, so it is decoded
//! here by hand with `der`, accepting both the bare and the conformant form.

use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Reader, SliceReader, Tag, TagNumber, Tagged};
use vouch_crypto::VerifyingKey;
use x509_cert::spki::SubjectPublicKeyInfoRef;

use crate::{Certificate, X509Error, oid};

/// The only CompositeDeviceID version defined.
const VERSION: u8 = 1;

/// The claims a RIoT alias certificate makes: the DeviceID public key and
/// the firmware measurement (FWID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompositeDeviceId {
    device_id_spki: Vec<u8>,
    device_id: Vec<u8>,
    fwid_alg: ObjectIdentifier,
    fwid: Vec<u8>,
}

impl CompositeDeviceId {
    /// The DeviceID public key's raw subjectPublicKey bytes: for EC keys the
    /// uncompressed point `04 || x || y` (Veraison's `DeviceID` claim).
    pub fn device_id(&self) -> &[u8] {
        &self.device_id
    }

    /// The DeviceID SubjectPublicKeyInfo, DER-encoded.
    pub fn device_id_spki_der(&self) -> &[u8] {
        &self.device_id_spki
    }

    /// The DeviceID as an ECDSA key (P-256 in every RIoT device).
    pub fn device_id_key(&self) -> Result<VerifyingKey, X509Error> {
        VerifyingKey::from_spki_der(&self.device_id_spki)
            .map_err(|e| X509Error::Riot(format!("DeviceID key: {e}")))
    }

    /// The FWID hash algorithm (SHA-256 in RIoT).
    pub fn fwid_alg(&self) -> &ObjectIdentifier {
        &self.fwid_alg
    }

    /// The FWID digest (Veraison's `FWID` claim).
    pub fn fwid(&self) -> &[u8] {
        &self.fwid
    }
}

/// Reads the CompositeDeviceID from a RIoT alias certificate's
/// SubjectAltName.
pub fn riot_composite_device_id(alias: &Certificate) -> Result<CompositeDeviceId, X509Error> {
    let (_, value) = alias.extension(&oid::SUBJECT_ALT_NAME).ok_or_else(|| {
        X509Error::Riot("alias certificate has no SubjectAltName extension".to_owned())
    })?;
    parse_riot_subject_alt_name(value)
}

/// Decodes a SubjectAltName extension value (GeneralNames DER) holding the
/// RIoT OtherName, in the bare or the `[0] EXPLICIT` form.
pub fn parse_riot_subject_alt_name(ext_value: &[u8]) -> Result<CompositeDeviceId, X509Error> {
    let err = |what: &str| X509Error::Riot(what.to_owned());
    let der_err = |what: &'static str| move |e: der::Error| X509Error::Riot(format!("{what}: {e}"));

    let general_names =
        AnyRef::from_der(ext_value).map_err(der_err("SubjectAltName is not DER"))?;
    if general_names.tag() != Tag::Sequence {
        return Err(err("SubjectAltName is not a SEQUENCE of GeneralName"));
    }
    let mut names = SliceReader::new(general_names.value()).map_err(der_err("GeneralNames"))?;
    let other_name = AnyRef::decode(&mut names).map_err(der_err("GeneralNames"))?;
    if !names.is_finished() {
        return Err(err(
            "SubjectAltName must hold exactly one GeneralName (the RIoT OtherName)",
        ));
    }
    if other_name.tag() != context_tag(0) {
        return Err(err("the GeneralName is not an OtherName"));
    }

    let mut fields = SliceReader::new(other_name.value()).map_err(der_err("OtherName"))?;
    let type_id = ObjectIdentifier::decode(&mut fields).map_err(der_err("OtherName type-id"))?;
    if type_id != oid::RIOT_COMPOSITE_DEVICE_ID {
        return Err(X509Error::Riot(format!(
            "OtherName type-id is {type_id}, expected {}",
            oid::RIOT_COMPOSITE_DEVICE_ID
        )));
    }
    let value = AnyRef::decode(&mut fields).map_err(der_err("OtherName value"))?;
    if !fields.is_finished() {
        return Err(err("trailing data after the OtherName value"));
    }
    let composite = match value.tag() {
        // What RIoT devices emit.
        Tag::Sequence => value,
        // RFC 5280's `value [0] EXPLICIT ANY`.
        tag if tag == context_tag(0) => {
            let inner = AnyRef::from_der(value.value()).map_err(der_err("OtherName [0] value"))?;
            if inner.tag() != Tag::Sequence {
                return Err(err("CompositeDeviceID is not a SEQUENCE"));
            }
            inner
        }
        _ => return Err(err("CompositeDeviceID is not a SEQUENCE")),
    };
    parse_composite(composite.value())
}

/// Decodes the content octets of the CompositeDeviceID SEQUENCE.
fn parse_composite(content: &[u8]) -> Result<CompositeDeviceId, X509Error> {
    let der_err = |what: &'static str| move |e: der::Error| X509Error::Riot(format!("{what}: {e}"));
    let mut r = SliceReader::new(content).map_err(der_err("CompositeDeviceID"))?;
    let version = u8::decode(&mut r).map_err(der_err("CompositeDeviceID version"))?;
    if version != VERSION {
        return Err(X509Error::Riot(format!(
            "unsupported CompositeDeviceID version {version} (expected {VERSION})"
        )));
    }
    let spki_der = r.tlv_bytes().map_err(der_err("DeviceID"))?;
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der).map_err(der_err("DeviceID"))?;
    let device_id = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| X509Error::Riot("DeviceID key BIT STRING has unused bits".to_owned()))?
        .to_vec();
    let fwid_seq = AnyRef::decode(&mut r).map_err(der_err("FWID"))?;
    if fwid_seq.tag() != Tag::Sequence {
        return Err(X509Error::Riot("FWID is not a SEQUENCE".to_owned()));
    }
    if !r.is_finished() {
        return Err(X509Error::Riot(
            "trailing data after the CompositeDeviceID".to_owned(),
        ));
    }
    let mut f = SliceReader::new(fwid_seq.value()).map_err(der_err("FWID"))?;
    let fwid_alg = ObjectIdentifier::decode(&mut f).map_err(der_err("FWID hashAlg"))?;
    let fwid = <&OctetStringRef>::decode(&mut f).map_err(der_err("FWID digest"))?;
    if !f.is_finished() {
        return Err(X509Error::Riot("trailing data after the FWID".to_owned()));
    }
    Ok(CompositeDeviceId {
        device_id_spki: spki_der.to_vec(),
        device_id,
        fwid_alg,
        fwid: fwid.as_bytes().to_vec(),
    })
}

fn context_tag(number: u8) -> Tag {
    Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(number.into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use der::Encode;
    use vouch_crypto::{Curve, SigningKey};

    use super::*;

    /// DER TLV with a definite length.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else if len < 0x100 {
            out.extend([0x81, len as u8]);
        } else {
            out.extend([0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(content);
        out
    }

    fn spki() -> Vec<u8> {
        SigningKey::generate(Curve::P256)
            .unwrap()
            .verifying_key()
            .to_spki_der()
    }

    fn fwid(digest: &[u8]) -> Vec<u8> {
        let mut c = oid::SHA256.to_der().unwrap();
        c.extend(tlv(0x04, digest));
        tlv(0x30, &c)
    }

    fn composite(version: u8, spki: &[u8], fwid: &[u8], extra: &[u8]) -> Vec<u8> {
        let mut c = tlv(0x02, &[version]);
        c.extend_from_slice(spki);
        c.extend_from_slice(fwid);
        c.extend_from_slice(extra);
        tlv(0x30, &c)
    }

    fn san(type_id: &ObjectIdentifier, value: &[u8], more_names: &[u8]) -> Vec<u8> {
        let mut other = type_id.to_der().unwrap();
        other.extend_from_slice(value);
        let mut names = tlv(0xa0, &other);
        names.extend_from_slice(more_names);
        tlv(0x30, &names)
    }

    fn riot_err(value: &[u8]) -> String {
        match parse_riot_subject_alt_name(value) {
            Err(X509Error::Riot(m)) => m,
            other => panic!("expected a RIoT error, got {other:?}"),
        }
    }

    #[test]
    fn decodes_bare_and_wrapped_values() {
        let key = spki();
        let value = composite(1, &key, &fwid(&[0xaa; 32]), &[]);
        let bare = san(&oid::RIOT_COMPOSITE_DEVICE_ID, &value, &[]);
        let wrapped = san(&oid::RIOT_COMPOSITE_DEVICE_ID, &tlv(0xa0, &value), &[]);
        let a = parse_riot_subject_alt_name(&bare).unwrap();
        assert_eq!(a, parse_riot_subject_alt_name(&wrapped).unwrap());
        assert_eq!(a.fwid(), &[0xaa; 32]);
        assert_eq!(a.device_id_spki_der(), key.as_slice());
        assert_eq!(a.device_id().len(), 65);
        assert_eq!(a.device_id_key().unwrap().to_spki_der(), key);
    }

    #[test]
    fn refuses_what_is_not_one_riot_other_name() {
        let key = spki();
        let good = composite(1, &key, &fwid(&[1; 32]), &[]);
        let dns = tlv(0x82, b"device.example");
        assert!(
            riot_err(&san(&oid::RIOT_COMPOSITE_DEVICE_ID, &good, &dns))
                .contains("exactly one GeneralName")
        );
        assert!(riot_err(&tlv(0x30, &dns)).contains("not an OtherName"));
        assert!(
            riot_err(&san(&oid::SHA256, &good, &[])).contains("type-id is 2.16.840.1.101.3.4.2.1")
        );
        assert!(riot_err(&tlv(0x31, &[])).contains("not a SEQUENCE"));
        assert!(riot_err(&tlv(0x30, &[])).contains("GeneralNames"));
        let mut trailing = san(&oid::RIOT_COMPOSITE_DEVICE_ID, &good, &[]);
        trailing.push(0);
        assert!(riot_err(&trailing).contains("not DER"));
        // The value must be a SEQUENCE, bare or in [0].
        let octets = tlv(0x04, &good);
        assert!(
            riot_err(&san(&oid::RIOT_COMPOSITE_DEVICE_ID, &octets, &[])).contains("not a SEQUENCE")
        );
        let wrapped_octets = tlv(0xa0, &octets);
        assert!(
            riot_err(&san(&oid::RIOT_COMPOSITE_DEVICE_ID, &wrapped_octets, &[]))
                .contains("not a SEQUENCE")
        );
        let mut two_values = good.clone();
        two_values.extend_from_slice(&good);
        assert!(
            riot_err(&san(&oid::RIOT_COMPOSITE_DEVICE_ID, &two_values, &[]))
                .contains("trailing data after the OtherName value")
        );
    }

    #[test]
    fn refuses_malformed_composite_device_ids() {
        let key = spki();
        let f = fwid(&[1; 32]);
        let wrap = |value: Vec<u8>| san(&oid::RIOT_COMPOSITE_DEVICE_ID, &value, &[]);
        assert!(riot_err(&wrap(composite(2, &key, &f, &[]))).contains("version 2"));
        assert!(
            riot_err(&wrap(composite(1, &key, &f, &[0x05, 0x00])))
                .contains("trailing data after the CompositeDeviceID")
        );
        assert!(
            riot_err(&wrap(composite(1, &key, &tlv(0x04, &[1; 32]), &[])))
                .contains("FWID is not a SEQUENCE")
        );
        assert!(riot_err(&wrap(composite(1, &tlv(0x30, &[]), &f, &[]))).contains("DeviceID"));
        let mut fwid_extra = oid::SHA256.to_der().unwrap();
        fwid_extra.extend(tlv(0x04, &[1; 32]));
        fwid_extra.extend([0x05, 0x00]);
        assert!(
            riot_err(&wrap(composite(1, &key, &tlv(0x30, &fwid_extra), &[])))
                .contains("trailing data after the FWID")
        );
        let fwid_no_digest = tlv(0x30, &oid::SHA256.to_der().unwrap());
        assert!(riot_err(&wrap(composite(1, &key, &fwid_no_digest, &[]))).contains("FWID digest"));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let value = composite(1, &spki(), &fwid(&[7; 32]), &[]);
        let good = san(&oid::RIOT_COMPOSITE_DEVICE_ID, &value, &[]);
        for len in 0..good.len() {
            assert!(parse_riot_subject_alt_name(&good[..len]).is_err(), "{len}");
        }
    }
}
