//! Backend-independent preparation of a submission: limits, de-duplication
//! and a canonical order, so every backend stores exactly the same rows and
//! concurrent transactions take row locks in the same order.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use sha2::{Digest, Sha256};

use crate::feed::TouchedKeys;
use crate::{ReferenceValueRecord, StoreError, Submission, TrustAnchorRecord};

/// Longest accepted `ta_id` or `rv_id`, in bytes. Identifiers are index keys,
/// and PostgreSQL B-tree entries are limited to about 2.7 kB.
pub const MAX_ID_LEN: usize = 1024;

/// Longest accepted scheme name, in bytes.
pub const MAX_SCHEME_LEN: usize = 128;

/// Most trust anchors, and most reference values, accepted in one submission.
pub const MAX_RECORDS_PER_KIND: usize = 100_000;

/// A reference value with its body digest and its not-after merged over
/// repeats within the submission.
#[derive(Debug)]
pub(crate) struct PreparedRv<'a> {
    pub(crate) record: &'a ReferenceValueRecord,
    pub(crate) body_digest: [u8; 32],
    pub(crate) not_after: Option<i64>,
}

/// A validated submission: trust anchors unique per `(scheme, ta_id)` (last
/// one wins) and reference values unique per `(scheme, rv_id, body)`, both
/// sorted by key.
#[derive(Debug)]
pub(crate) struct Prepared<'a> {
    pub(crate) submission: &'a Submission,
    pub(crate) trust_anchors: Vec<&'a TrustAnchorRecord>,
    pub(crate) reference_values: Vec<PreparedRv<'a>>,
}

impl<'a> Prepared<'a> {
    pub(crate) fn new(submission: &'a Submission) -> Result<Self, StoreError> {
        let corim = &submission.corim;
        check_scheme(&corim.scheme)?;
        check_count("trust anchors", submission.trust_anchors.len())?;
        check_count("reference values", submission.reference_values.len())?;

        let mut trust_anchors = BTreeMap::new();
        for ta in &submission.trust_anchors {
            check_scheme(&ta.scheme)?;
            check_id("ta_id", &ta.ta_id)?;
            check_id("rv_id", &ta.rv_id)?;
            if ta.key.is_empty() {
                return Err(invalid("trust anchor with an empty key"));
            }
            trust_anchors.insert((ta.scheme.as_str(), ta.ta_id.as_slice()), ta);
        }

        let mut reference_values = BTreeMap::new();
        for rv in &submission.reference_values {
            check_scheme(&rv.scheme)?;
            check_id("rv_id", &rv.rv_id)?;
            let body_digest: [u8; 32] = Sha256::digest(&rv.body).into();
            match reference_values.entry((rv.scheme.as_str(), rv.rv_id.as_slice(), body_digest)) {
                Entry::Vacant(slot) => {
                    slot.insert(PreparedRv {
                        record: rv,
                        body_digest,
                        not_after: rv.not_after,
                    });
                }
                Entry::Occupied(mut slot) => {
                    let merged = later_not_after(slot.get().not_after, rv.not_after);
                    slot.get_mut().not_after = merged;
                }
            }
        }

        Ok(Self {
            submission,
            trust_anchors: trust_anchors.into_values().collect(),
            reference_values: reference_values.into_values().collect(),
        })
    }

    /// The keys this submission provisions, for the local change feed.
    pub(crate) fn touched_keys(&self) -> TouchedKeys {
        let mut touched = TouchedKeys::default();
        for ta in &self.trust_anchors {
            touched.add_trust_anchor(&ta.scheme, &ta.ta_id);
        }
        for rv in &self.reference_values {
            touched.add_reference_value(&rv.record.scheme, &rv.record.rv_id);
        }
        touched
    }
}

/// The end of validity of a reference value asserted twice: the later one,
/// where `None` (no expiry) is later than any date.
pub(crate) fn later_not_after(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    }
}

/// Splits `rows` into batches whose sizes are `max` or powers of two below
/// it. Multi-row statements are cached per size, so a bounded set of sizes
/// keeps the prepared-statement cache from filling with one-off shapes.
pub(crate) fn batches<T>(mut rows: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let size = if rows.len() >= max {
            max
        } else {
            prev_power_of_two(rows.len())
        };
        let (batch, rest) = rows.split_at_checked(size)?;
        rows = rest;
        Some(batch)
    })
}

fn prev_power_of_two(n: usize) -> usize {
    match n.checked_ilog2() {
        Some(log) => 1 << log,
        None => 0,
    }
}

pub(crate) fn check_scheme(scheme: &str) -> Result<(), StoreError> {
    if scheme.is_empty() || scheme.len() > MAX_SCHEME_LEN {
        return Err(invalid(format!(
            "scheme must be 1 to {MAX_SCHEME_LEN} bytes, got {}",
            scheme.len()
        )));
    }
    Ok(())
}

fn check_id(what: &str, id: &[u8]) -> Result<(), StoreError> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(invalid(format!(
            "{what} must be 1 to {MAX_ID_LEN} bytes, got {}",
            id.len()
        )));
    }
    Ok(())
}

fn check_count(what: &str, count: usize) -> Result<(), StoreError> {
    if count > MAX_RECORDS_PER_KIND {
        return Err(invalid(format!(
            "{count} {what} in one submission; at most {MAX_RECORDS_PER_KIND} are accepted"
        )));
    }
    Ok(())
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::InvalidSubmission(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CorimRecord;

    fn corim() -> CorimRecord {
        CorimRecord {
            digest: [7; 32],
            scheme: "PSA_IOT".into(),
            media_type: "application/corim-unsigned+cbor".into(),
            profile: "http://arm.com/psa/iot/1".into(),
            corim_id: "c".into(),
            not_after: None,
            body: vec![1, 2, 3],
        }
    }

    fn ta(ta_id: &[u8], key: &[u8]) -> TrustAnchorRecord {
        TrustAnchorRecord {
            scheme: "PSA_IOT".into(),
            ta_id: ta_id.to_vec(),
            rv_id: b"impl".to_vec(),
            key: key.to_vec(),
            not_after: None,
        }
    }

    fn rv(rv_id: &[u8], body: &[u8], not_after: Option<i64>) -> ReferenceValueRecord {
        ReferenceValueRecord {
            scheme: "PSA_IOT".into(),
            rv_id: rv_id.to_vec(),
            body: body.to_vec(),
            not_after,
        }
    }

    #[test]
    fn repeated_trust_anchors_keep_the_last_and_come_out_sorted() {
        let submission = Submission {
            corim: corim(),
            trust_anchors: vec![ta(b"b", b"k1"), ta(b"a", b"k2"), ta(b"b", b"k3")],
            reference_values: vec![],
        };
        let prepared = Prepared::new(&submission).unwrap();
        let got: Vec<_> = prepared
            .trust_anchors
            .iter()
            .map(|t| (t.ta_id.as_slice(), t.key.as_slice()))
            .collect();
        assert_eq!(got, vec![(&b"a"[..], &b"k2"[..]), (&b"b"[..], &b"k3"[..])]);
    }

    #[test]
    fn repeated_reference_values_collapse_with_the_later_expiry() {
        let submission = Submission {
            corim: corim(),
            trust_anchors: vec![],
            reference_values: vec![
                rv(b"r", b"m1", Some(10)),
                rv(b"r", b"m1", Some(30)),
                rv(b"r", b"m1", Some(20)),
                rv(b"r", b"m2", Some(5)),
                rv(b"r", b"m2", None),
                rv(b"q", b"m1", Some(1)),
            ],
        };
        let prepared = Prepared::new(&submission).unwrap();
        assert_eq!(prepared.reference_values.len(), 3);
        let m1: [u8; 32] = Sha256::digest(b"m1").into();
        let m2: [u8; 32] = Sha256::digest(b"m2").into();
        let find = |id: &[u8], digest: [u8; 32]| {
            prepared
                .reference_values
                .iter()
                .find(|p| p.record.rv_id == id && p.body_digest == digest)
                .map(|p| p.not_after)
        };
        assert_eq!(find(b"r", m1), Some(Some(30)));
        assert_eq!(find(b"r", m2), Some(None));
        assert_eq!(find(b"q", m1), Some(Some(1)));
        // Sorted by (scheme, rv_id, body digest).
        assert_eq!(prepared.reference_values[0].record.rv_id, b"q");
    }

    #[test]
    fn limits_are_enforced() {
        let long_id = vec![0; MAX_ID_LEN + 1];
        let cases = [
            Submission {
                corim: CorimRecord {
                    scheme: String::new(),
                    ..corim()
                },
                ..empty()
            },
            Submission {
                trust_anchors: vec![ta(&long_id, b"k")],
                ..empty()
            },
            Submission {
                trust_anchors: vec![ta(b"", b"k")],
                ..empty()
            },
            Submission {
                trust_anchors: vec![ta(b"a", b"")],
                ..empty()
            },
            Submission {
                reference_values: vec![rv(&long_id, b"m", None)],
                ..empty()
            },
            Submission {
                trust_anchors: vec![TrustAnchorRecord {
                    scheme: "x".repeat(129),
                    ..ta(b"a", b"k")
                }],
                ..empty()
            },
        ];
        for case in &cases {
            assert!(
                matches!(Prepared::new(case), Err(StoreError::InvalidSubmission(_))),
                "{case:?}"
            );
        }
        let at_limit = Submission {
            trust_anchors: vec![ta(&vec![1; MAX_ID_LEN], b"k")],
            ..empty()
        };
        assert!(Prepared::new(&at_limit).is_ok());
    }

    fn empty() -> Submission {
        Submission {
            corim: corim(),
            trust_anchors: vec![],
            reference_values: vec![],
        }
    }

    #[test]
    fn batches_use_the_maximum_then_powers_of_two() {
        let rows: Vec<u32> = (0..10_000).collect();
        let sizes: Vec<usize> = batches(&rows, 512).map(<[u32]>::len).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 10_000);
        assert_eq!(sizes.iter().filter(|&&s| s == 512).count(), 19);
        assert_eq!(&sizes[19..], &[256, 16]);
        let flattened: Vec<u32> = batches(&rows, 512).flatten().copied().collect();
        assert_eq!(flattened, rows);
        assert_eq!(batches::<u32>(&[], 512).count(), 0);
        assert_eq!(
            batches(&rows[..7], 512)
                .map(<[u32]>::len)
                .collect::<Vec<_>>(),
            vec![4, 2, 1]
        );
    }

    #[test]
    fn later_not_after_prefers_no_expiry() {
        assert_eq!(later_not_after(Some(1), Some(2)), Some(2));
        assert_eq!(later_not_after(None, Some(2)), None);
        assert_eq!(later_not_after(Some(3), None), None);
        assert_eq!(later_not_after(None, None), None);
    }
}
