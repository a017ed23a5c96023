//! CoRIM and CoMID documents: a typed model with a bounded decoder and an encoder.
//!
//! [`decode`] turns untrusted bytes into a [`Corim`] (draft-ietf-rats-corim
//! `unsigned-corim-map`, tagged 501 or not), decoding every CoMID it carries
//! (`#6.506(bstr)`). It checks structure only: which class-id, instance or
//! key *types* a given profile accepts (PSA, CCA, ...) is for the scheme that
//! consumes the model, which is why the model keeps every variant it saw
//! (e.g. [`CryptoKey::PkixBase64Cert`] versus [`CryptoKey::PkixBase64Key`]).
//!
//! Both Veraison encodings decode to the same model:
//! - current (`tag:arm.com,2025:*` profiles): [`ClassId::Bytes`] (tag 560)
//!   class-ids, text measurement keys, `name` / `cryptokeys` values;
//! - legacy (`http://arm.com/psa/iot/1` profiles): [`ClassId::PsaImplId`]
//!   (tag 600), [`MeasurementKey::PsaRefValId`] (tag 601) and
//!   [`MeasurementKey::CcaPlatformConfigId`] (tag 602).
//!
//! Signed CoRIMs (COSE_Sign1) are rejected by [`decode`] with
//! [`CorimError::SignedNotSupported`]: [`signed::SignedCorim`] reads their
//! envelope, and the payload is then an unsigned CoRIM for [`decode`]. The
//! decoder never panics; see [`Limits`] for the resource bounds it
//! enforces.
//!
//! [`Corim::encode`] writes the model back deterministically; the test kit
//! uses it to mint CoRIMs.

mod decode;
mod encode;
mod error;
mod model;
pub mod signed;

pub use decode::{Limits, decode, decode_comid, decode_comid_with_limits, decode_with_limits};
pub use error::CorimError;
pub use model::*;
