//! cocli's JSON templates for CoRIMs and CoMIDs, read into and written
//! from [`vouch_corim`]'s model.
//!
//! A supply chain describes its endorsements in the JSON "templates" of
//! veraison/corim (`cocli comid create --template …`, `cocli corim create
//! --template …`, as in veraison/services `integration-tests/data/
//! endorsements/`). [`comid_from_json`] and [`corim_from_json`] read them
//! into the model, which [`vouch_corim::Corim::encode`] writes as CBOR;
//! [`comid_to_json`] and [`corim_to_json`] write a model back in the same
//! dialect, so `vouch corim inspect --json` prints a template that
//! `vouch corim build` turns back into the same CoRIM.
//!
//! The dialect is veraison/corim's current one (digests `[alg, base64url]`,
//! `{"type", "value"}` choices, profile objects), and the older forms its
//! users still have are read too: digests as `"sha-256;<base64>"` strings,
//! a profile as a plain string, class ids `psa.impl-id`, measurement keys
//! `psa.refval-id` and `cca.platform-config-id` (Veraison's legacy PSA and
//! CCA encodings, tags 600–602), a single `authorized-by` key. Byte strings
//! are base64 in either alphabet, with or without padding: every string Go
//! accepts decodes to the same bytes here.
//!
//! Where cocli would fail late or silently (an unknown key is kept and
//! then breaks the CBOR encoding; `"flags": {}` overflows its stack; a
//! masked raw value's lengths are never compared), reading fails early with
//! the JSON path of the problem. Two Vouch additions make every model
//! writable: `{"type": "cbor-tag", "tag": N, "value": <base64 CBOR>}` for a
//! tagged choice no name covers, and integer-string keys holding
//! `{"cbor": <base64>}` in `triples` and measurement values for the entries
//! the model keeps raw (conditional endorsements, `int-range`, …).

mod names;
mod read;
mod write;

pub use read::{comid_from_json, corim_from_json, decode_base64};
pub use write::{comid_to_json, corim_to_json, rfc3339};

/// Why a template cannot be read. `path` is a JSON path into the template
/// (`triples.reference-values[0].measurements[1].value.digests[0]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct TemplateError {
    /// Where in the template.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}
