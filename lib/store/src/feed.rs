//! The in-process side of the change feed: a broadcast channel plus the
//! grouping of touched keys into per-scheme events.

use std::collections::BTreeSet;

use tokio::sync::broadcast;

use crate::StoreChange;

/// Publishes [`StoreChange`] events to this process's subscribers.
#[derive(Debug, Clone)]
pub(crate) struct ChangeFeed {
    sender: broadcast::Sender<StoreChange>,
}

impl ChangeFeed {
    pub(crate) fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<StoreChange> {
        self.sender.subscribe()
    }

    pub(crate) fn publish(&self, change: StoreChange) {
        // An error only means nobody is subscribed, which is fine.
        let _ = self.sender.send(change);
    }

    pub(crate) fn publish_all(&self, changes: TouchedKeys) {
        for change in changes.into_changes() {
            self.publish(change);
        }
    }

    pub(crate) fn resync(&self) {
        self.publish(StoreChange::Resync);
    }
}

/// Keys touched by one commit, grouped by scheme.
#[derive(Debug, Default)]
pub(crate) struct TouchedKeys {
    // A commit nearly always touches a single scheme, so a short vector
    // searched linearly beats a map keyed by an owned String.
    by_scheme: Vec<SchemeKeys>,
}

#[derive(Debug)]
struct SchemeKeys {
    scheme: String,
    ta_ids: BTreeSet<Vec<u8>>,
    rv_ids: BTreeSet<Vec<u8>>,
}

impl TouchedKeys {
    pub(crate) fn add_trust_anchor(&mut self, scheme: &str, ta_id: &[u8]) {
        self.entry(scheme).ta_ids.insert(ta_id.to_vec());
    }

    pub(crate) fn add_reference_value(&mut self, scheme: &str, rv_id: &[u8]) {
        self.entry(scheme).rv_ids.insert(rv_id.to_vec());
    }

    fn entry(&mut self, scheme: &str) -> &mut SchemeKeys {
        let index = match self.by_scheme.iter().position(|keys| keys.scheme == scheme) {
            Some(index) => index,
            None => {
                self.by_scheme.push(SchemeKeys {
                    scheme: scheme.to_owned(),
                    ta_ids: BTreeSet::new(),
                    rv_ids: BTreeSet::new(),
                });
                self.by_scheme.len() - 1
            }
        };
        &mut self.by_scheme[index]
    }

    /// One [`StoreChange::Changed`] per scheme (in scheme order), keys sorted
    /// and without repeats.
    pub(crate) fn into_changes(mut self) -> Vec<StoreChange> {
        self.by_scheme.sort_by(|a, b| a.scheme.cmp(&b.scheme));
        self.by_scheme
            .into_iter()
            .map(|keys| StoreChange::Changed {
                scheme: keys.scheme,
                ta_ids: keys.ta_ids.into_iter().collect(),
                rv_ids: keys.rv_ids.into_iter().collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_grouped_by_scheme_sorted_and_deduplicated() {
        let mut touched = TouchedKeys::default();
        touched.add_trust_anchor("PSA_IOT", b"b");
        touched.add_trust_anchor("PSA_IOT", b"a");
        touched.add_trust_anchor("PSA_IOT", b"b");
        touched.add_reference_value("PSA_IOT", b"r");
        touched.add_reference_value("PSA_IOT", b"r");
        touched.add_reference_value("CCA", b"x");
        assert_eq!(
            touched.into_changes(),
            vec![
                StoreChange::Changed {
                    scheme: "CCA".into(),
                    ta_ids: vec![],
                    rv_ids: vec![b"x".to_vec()],
                },
                StoreChange::Changed {
                    scheme: "PSA_IOT".into(),
                    ta_ids: vec![b"a".to_vec(), b"b".to_vec()],
                    rv_ids: vec![b"r".to_vec()],
                },
            ]
        );
    }

    #[tokio::test]
    async fn publishing_without_subscribers_is_harmless_and_subscribers_receive() {
        let feed = ChangeFeed::new(4);
        feed.resync();
        let mut receiver = feed.subscribe();
        feed.resync();
        assert_eq!(receiver.recv().await.unwrap(), StoreChange::Resync);
    }
}
