//! In-process session store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use moka::Expiry;
use moka::ops::compute::Op;
use moka::sync::Cache;

use crate::{CasOutcome, SessionError, SessionStore, Version, validate_session_id};

/// Default bound on the number of sessions kept in memory.
pub const DEFAULT_MEMORY_CAPACITY: u64 = 1_000_000;

/// Deadlines further out than this are clamped, so converting a far-future
/// `SystemTime` into an `Instant` cannot overflow.
const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

#[derive(Clone)]
struct Entry {
    value: Bytes,
    deadline: Instant,
    /// Unique per write across the whole store (never reused), so a
    /// compare-and-swap cannot mistake a later write for the one it read
    /// (no ABA), even after a delete and re-create.
    version: u64,
}

impl Entry {
    fn is_live(&self) -> bool {
        self.deadline > Instant::now()
    }
}

/// Expires each entry at its own absolute deadline, on creation and on
/// replacement alike; reads leave the deadline alone.
struct AbsoluteDeadline;

impl Expiry<String, Entry> for AbsoluteDeadline {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Entry,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(value.deadline.saturating_duration_since(created_at))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.deadline.saturating_duration_since(updated_at))
    }
}

/// In-process, concurrent session store with per-entry absolute expiry and a
/// bounded number of entries.
///
/// Expired entries are never returned and are reclaimed by the cache's
/// housekeeping, which runs as the store is used. When full, the least
/// valuable entries (moka's TinyLFU policy) are evicted first.
///
/// Every write (put, delete, compare-and-swap) goes through moka's
/// per-key `and_compute_with`, which runs the calls for one key one at a
/// time; that is what makes [`compare_and_swap`](SessionStore::compare_and_swap)
/// atomic. (Moka's plain `insert` and `invalidate` do not take that key
/// lock, so mixing them with computations could lose a write.) Reads take
/// no lock.
#[derive(Clone)]
pub struct MemorySessionStore {
    cache: Cache<String, Entry>,
    capacity: u64,
    /// The last version issued; shared by clones, like the cache.
    versions: Arc<AtomicU64>,
    /// Sessions removed because their deadline passed, for metrics.
    expired: Arc<AtomicU64>,
}

impl std::fmt::Debug for MemorySessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySessionStore")
            .field("capacity", &self.capacity)
            .field("entries", &self.cache.entry_count())
            .finish()
    }
}

impl Default for MemorySessionStore {
    fn default() -> Self {
        Self::new()
    }
}

/// When a session stored now must expire, or `None` when `expires_at` is
/// not in the future.
fn deadline_for(expires_at: SystemTime) -> Option<Instant> {
    match expires_at.duration_since(SystemTime::now()) {
        Ok(d) if !d.is_zero() => Some(Instant::now() + d.min(MAX_LIFETIME)),
        _ => None,
    }
}

impl MemorySessionStore {
    /// A store bounded to [`DEFAULT_MEMORY_CAPACITY`] sessions.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_MEMORY_CAPACITY)
    }

    /// A store bounded to `capacity` sessions.
    pub fn with_capacity(capacity: u64) -> Self {
        let expired = Arc::new(AtomicU64::new(0));
        let counted = expired.clone();
        let cache = Cache::builder()
            .max_capacity(capacity)
            .expire_after(AbsoluteDeadline)
            // Runs during housekeeping, off the caller's path.
            .eviction_listener(move |_id, _entry, cause| {
                if cause == moka::notification::RemovalCause::Expired {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            })
            .build();
        Self {
            cache,
            capacity,
            versions: Arc::new(AtomicU64::new(0)),
            expired,
        }
    }

    /// The configured bound on the number of sessions.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Number of live sessions, after running pending housekeeping
    /// (evictions and expirations). Meant for tests and metrics, not for the
    /// request path.
    pub fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    /// Whether the store holds no live sessions; see [`len`](Self::len).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A version no entry has had before. A 64-bit counter does not wrap in
    /// practice (584 years at a billion writes a second).
    fn next_version(&self) -> u64 {
        self.versions
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1)
    }

    fn put_sync(&self, id: &str, value: Bytes, expires_at: SystemTime) -> Result<(), SessionError> {
        validate_session_id(id)?;
        let Some(deadline) = deadline_for(expires_at) else {
            // Already expired: a stale copy must not survive the replacement.
            return self.delete_sync(id);
        };
        let entry = Entry {
            value,
            deadline,
            version: self.next_version(),
        };
        let _ = self
            .cache
            .entry_by_ref(id)
            .and_compute_with(|_| Op::Put(entry));
        Ok(())
    }

    fn delete_sync(&self, id: &str) -> Result<(), SessionError> {
        validate_session_id(id)?;
        let _ = self.cache.entry_by_ref(id).and_compute_with(|current| {
            if current.is_some() {
                Op::Remove
            } else {
                Op::Nop
            }
        });
        Ok(())
    }

    fn get_entry(&self, id: &str) -> Result<Option<Entry>, SessionError> {
        validate_session_id(id)?;
        // Moka already hides expired entries; the deadline check keeps that
        // guarantee exact even between housekeeping runs.
        Ok(self.cache.get(id).filter(Entry::is_live))
    }

    fn get_sync(&self, id: &str) -> Result<Option<Bytes>, SessionError> {
        Ok(self.get_entry(id)?.map(|entry| entry.value))
    }

    fn compare_and_swap_sync(
        &self,
        id: &str,
        expected: Version,
        value: Bytes,
        expires_at: SystemTime,
    ) -> Result<CasOutcome, SessionError> {
        validate_session_id(id)?;
        let deadline = deadline_for(expires_at);
        let mut outcome = CasOutcome::Gone;
        // The closure runs under the key's lock: no other write to `id` can
        // happen between the comparison and the write.
        let _ = self.cache.entry_by_ref(id).and_compute_with(|current| {
            let Some(current) = current.map(|e| e.into_value()).filter(Entry::is_live) else {
                outcome = CasOutcome::Gone;
                return Op::Nop;
            };
            if current.version != expected.into_raw() {
                outcome = CasOutcome::Conflict;
                return Op::Nop;
            }
            match deadline {
                Some(deadline) => {
                    let version = self.next_version();
                    outcome = CasOutcome::Swapped(Version::from_raw(version));
                    Op::Put(Entry {
                        value,
                        deadline,
                        version,
                    })
                }
                None => {
                    outcome = CasOutcome::Swapped(expected);
                    Op::Remove
                }
            }
        });
        Ok(outcome)
    }
}

#[async_trait::async_trait]
impl SessionStore for MemorySessionStore {
    async fn put(
        &self,
        id: &str,
        value: Bytes,
        expires_at: SystemTime,
    ) -> Result<(), SessionError> {
        self.put_sync(id, value, expires_at)
    }

    async fn get(&self, id: &str) -> Result<Option<Bytes>, SessionError> {
        self.get_sync(id)
    }

    async fn delete(&self, id: &str) -> Result<(), SessionError> {
        self.delete_sync(id)
    }

    async fn get_versioned(&self, id: &str) -> Result<Option<(Bytes, Version)>, SessionError> {
        Ok(self
            .get_entry(id)?
            .map(|entry| (entry.value, Version::from_raw(entry.version))))
    }

    async fn compare_and_swap(
        &self,
        id: &str,
        expected: Version,
        value: Bytes,
        expires_at: SystemTime,
    ) -> Result<CasOutcome, SessionError> {
        self.compare_and_swap_sync(id, expected, value, expires_at)
    }

    fn expired_total(&self) -> Option<u64> {
        Some(self.expired.load(Ordering::Relaxed))
    }

    async fn ping(&self) -> Result<(), SessionError> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_secs(secs: f64) -> SystemTime {
        SystemTime::now() + Duration::from_secs_f64(secs)
    }

    #[tokio::test]
    async fn put_get_delete() {
        let store = MemorySessionStore::new();
        assert_eq!(store.backend(), "memory");
        store.ping().await.unwrap();
        assert_eq!(store.get("a").await.unwrap(), None);
        store
            .put(
                "a",
                Bytes::from_static(b"{\"status\":\"waiting\"}"),
                in_secs(60.0),
            )
            .await
            .unwrap();
        assert_eq!(
            store.get("a").await.unwrap().as_deref(),
            Some(&b"{\"status\":\"waiting\"}"[..])
        );
        store.delete("a").await.unwrap();
        assert_eq!(store.get("a").await.unwrap(), None);
        // Deleting again, or deleting something never stored, is fine.
        store.delete("a").await.unwrap();
        store.delete("never-stored").await.unwrap();
    }

    #[tokio::test]
    async fn expiry_is_honoured() {
        let store = MemorySessionStore::new();
        store
            .put("short", Bytes::from_static(b"1"), in_secs(1.0))
            .await
            .unwrap();
        store
            .put("long", Bytes::from_static(b"2"), in_secs(60.0))
            .await
            .unwrap();
        assert!(store.get("short").await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        assert_eq!(store.get("short").await.unwrap(), None);
        assert!(store.get("long").await.unwrap().is_some());
        // The expired entry is reclaimed, not just hidden (moka's timer
        // wheel works in buckets of about a second).
        let deadline = Instant::now() + Duration::from_secs(5);
        while store.len() != 1 {
            assert!(Instant::now() < deadline, "expired entry never reclaimed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Counted as expired, for metrics; a delete is not an expiry.
        store.delete("long").await.unwrap();
        store.len();
        assert_eq!(store.expired_total(), Some(1));
    }

    #[tokio::test]
    async fn past_expiry_removes_the_session() {
        let store = MemorySessionStore::new();
        store
            .put("s", Bytes::from_static(b"old"), in_secs(60.0))
            .await
            .unwrap();
        store
            .put(
                "s",
                Bytes::from_static(b"new"),
                SystemTime::now() - Duration::from_secs(1),
            )
            .await
            .unwrap();
        assert_eq!(store.get("s").await.unwrap(), None);
        store
            .put("t", Bytes::from_static(b"x"), SystemTime::UNIX_EPOCH)
            .await
            .unwrap();
        assert_eq!(store.get("t").await.unwrap(), None);
    }

    #[tokio::test]
    async fn replacement_keeps_the_callers_expiry() {
        let store = MemorySessionStore::new();
        store
            .put("s", Bytes::from_static(b"v1"), in_secs(60.0))
            .await
            .unwrap();
        // The replacement carries an earlier deadline: it must win, not be
        // extended to the original one.
        store
            .put("s", Bytes::from_static(b"v2"), in_secs(1.0))
            .await
            .unwrap();
        assert_eq!(store.get("s").await.unwrap().as_deref(), Some(&b"v2"[..]));
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        assert_eq!(store.get("s").await.unwrap(), None);

        // And a replacement with a later deadline extends it.
        store
            .put("u", Bytes::from_static(b"v1"), in_secs(1.0))
            .await
            .unwrap();
        store
            .put("u", Bytes::from_static(b"v2"), in_secs(60.0))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        assert_eq!(store.get("u").await.unwrap().as_deref(), Some(&b"v2"[..]));
    }

    #[tokio::test]
    async fn reads_do_not_extend_expiry() {
        let store = MemorySessionStore::new();
        store
            .put("s", Bytes::from_static(b"v"), in_secs(1.5))
            .await
            .unwrap();
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert!(store.get("s").await.unwrap().is_some());
        }
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        assert_eq!(store.get("s").await.unwrap(), None);
    }

    #[tokio::test]
    async fn capacity_is_bounded() {
        let store = MemorySessionStore::with_capacity(100);
        assert_eq!(store.capacity(), 100);
        for i in 0..1_000 {
            store
                .put(
                    &format!("id-{i}"),
                    Bytes::from(vec![0u8; 16]),
                    in_secs(60.0),
                )
                .await
                .unwrap();
        }
        let len = store.len();
        assert!(len <= 100, "{len} entries kept with a capacity of 100");
        assert!(len > 0);
    }

    #[tokio::test]
    async fn invalid_ids_are_refused() {
        let store = MemorySessionStore::new();
        let err = store
            .put("bad id", Bytes::from_static(b"v"), in_secs(60.0))
            .await
            .unwrap_err();
        assert!(matches!(err, SessionError::InvalidId(_)));
        assert!(store.get("").await.is_err());
        assert!(store.delete("\n").await.is_err());
    }

    #[test]
    fn far_future_expiry_does_not_overflow() {
        let store = MemorySessionStore::new();
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 1000);
        store
            .put_sync("far", Bytes::from_static(b"v"), far)
            .unwrap();
        assert!(store.get_sync("far").unwrap().is_some());
    }

    #[test]
    fn concurrent_use_from_threads() {
        let store = MemorySessionStore::new();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let store = &store;
                scope.spawn(move || {
                    for i in 0..500 {
                        let id = format!("t{t}-{i}");
                        store
                            .put_sync(&id, Bytes::from(id.clone().into_bytes()), in_secs(60.0))
                            .unwrap();
                        assert_eq!(store.get_sync(&id).unwrap().as_deref(), Some(id.as_bytes()));
                    }
                });
            }
        });
        assert_eq!(store.len(), 2_000);
    }

    async fn versioned(store: &MemorySessionStore, id: &str) -> (Bytes, Version) {
        store
            .get_versioned(id)
            .await
            .unwrap()
            .expect("session present")
    }

    #[tokio::test]
    async fn compare_and_swap_succeeds_once_per_version() {
        let store = MemorySessionStore::new();
        assert_eq!(store.get_versioned("s").await.unwrap(), None);
        store
            .put("s", Bytes::from_static(b"waiting"), in_secs(60.0))
            .await
            .unwrap();
        let (value, v1) = versioned(&store, "s").await;
        assert_eq!(&value[..], b"waiting");

        let outcome = store
            .compare_and_swap("s", v1, Bytes::from_static(b"processing"), in_secs(60.0))
            .await
            .unwrap();
        let CasOutcome::Swapped(v2) = outcome else {
            panic!("first swap from v1 must win: {outcome:?}");
        };
        assert_ne!(v1, v2);
        // The same expected version again: someone else already moved on.
        assert_eq!(
            store
                .compare_and_swap("s", v1, Bytes::from_static(b"other"), in_secs(60.0))
                .await
                .unwrap(),
            CasOutcome::Conflict
        );
        assert_eq!(
            versioned(&store, "s").await,
            (Bytes::from_static(b"processing"), v2)
        );
        // The version the swap returned is the one to swap from next.
        assert!(matches!(
            store
                .compare_and_swap("s", v2, Bytes::from_static(b"complete"), in_secs(60.0))
                .await
                .unwrap(),
            CasOutcome::Swapped(_)
        ));
        assert_eq!(
            store.get("s").await.unwrap().as_deref(),
            Some(&b"complete"[..])
        );
    }

    #[tokio::test]
    async fn every_write_changes_the_version() {
        let store = MemorySessionStore::new();
        store
            .put("s", Bytes::from_static(b"a"), in_secs(60.0))
            .await
            .unwrap();
        let (_, v1) = versioned(&store, "s").await;
        // Rewriting the very same bytes still counts as a write.
        store
            .put("s", Bytes::from_static(b"a"), in_secs(60.0))
            .await
            .unwrap();
        let (_, v2) = versioned(&store, "s").await;
        assert_ne!(v1, v2);
        assert_eq!(
            store
                .compare_and_swap("s", v1, Bytes::from_static(b"b"), in_secs(60.0))
                .await
                .unwrap(),
            CasOutcome::Conflict
        );
        // Reads do not change it.
        assert_eq!(versioned(&store, "s").await.1, v2);
        store.get("s").await.unwrap();
        assert_eq!(versioned(&store, "s").await.1, v2);

        // Deleted and re-created: the old version does not match the new
        // session (no ABA), and a swap on a deleted session is Gone.
        store.delete("s").await.unwrap();
        assert_eq!(
            store
                .compare_and_swap("s", v2, Bytes::from_static(b"b"), in_secs(60.0))
                .await
                .unwrap(),
            CasOutcome::Gone
        );
        assert_eq!(
            store.get("s").await.unwrap(),
            None,
            "a Gone swap stores nothing"
        );
        store
            .put("s", Bytes::from_static(b"a"), in_secs(60.0))
            .await
            .unwrap();
        assert_eq!(
            store
                .compare_and_swap("s", v2, Bytes::from_static(b"b"), in_secs(60.0))
                .await
                .unwrap(),
            CasOutcome::Conflict
        );
        assert_eq!(store.get("s").await.unwrap().as_deref(), Some(&b"a"[..]));
    }

    #[tokio::test]
    async fn compare_and_swap_honours_expiry() {
        let store = MemorySessionStore::new();
        store
            .put("short", Bytes::from_static(b"v"), in_secs(0.5))
            .await
            .unwrap();
        let (_, v) = versioned(&store, "short").await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(
            store
                .compare_and_swap("short", v, Bytes::from_static(b"w"), in_secs(60.0))
                .await
                .unwrap(),
            CasOutcome::Gone
        );
        assert_eq!(store.get("short").await.unwrap(), None);

        // The swapped value carries the caller's expiry, shorter or not.
        store
            .put("s", Bytes::from_static(b"v"), in_secs(60.0))
            .await
            .unwrap();
        let (_, v) = versioned(&store, "s").await;
        assert!(matches!(
            store
                .compare_and_swap("s", v, Bytes::from_static(b"w"), in_secs(0.5))
                .await
                .unwrap(),
            CasOutcome::Swapped(_)
        ));
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(store.get("s").await.unwrap(), None);

        // An expiry in the past removes the session, but only at the
        // expected version.
        store
            .put("r", Bytes::from_static(b"v"), in_secs(60.0))
            .await
            .unwrap();
        let (_, v) = versioned(&store, "r").await;
        let past = SystemTime::now() - Duration::from_secs(1);
        store
            .put("r", Bytes::from_static(b"v2"), in_secs(60.0))
            .await
            .unwrap();
        assert_eq!(
            store
                .compare_and_swap("r", v, Bytes::new(), past)
                .await
                .unwrap(),
            CasOutcome::Conflict
        );
        assert!(store.get("r").await.unwrap().is_some());
        let (_, v) = versioned(&store, "r").await;
        assert!(matches!(
            store
                .compare_and_swap("r", v, Bytes::new(), past)
                .await
                .unwrap(),
            CasOutcome::Swapped(_)
        ));
        assert_eq!(store.get("r").await.unwrap(), None);

        assert!(matches!(
            store
                .compare_and_swap("bad id", v, Bytes::new(), in_secs(60.0))
                .await,
            Err(SessionError::InvalidId(_))
        ));
    }

    #[test]
    fn exactly_one_of_many_concurrent_swaps_wins() {
        let store = MemorySessionStore::new();
        for round in 0..20 {
            let id = format!("race-{round}");
            store
                .put_sync(&id, Bytes::from_static(b"waiting"), in_secs(60.0))
                .unwrap();
            let (_, version) = store
                .get_entry(&id)
                .unwrap()
                .map(|e| (e.value, e.version))
                .unwrap();
            let barrier = std::sync::Barrier::new(32);
            let wins: usize = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..32)
                    .map(|t| {
                        let (store, id, barrier) = (&store, &id, &barrier);
                        scope.spawn(move || {
                            barrier.wait();
                            let outcome = store
                                .compare_and_swap_sync(
                                    id,
                                    Version::from_raw(version),
                                    Bytes::from(format!("claimed by {t}")),
                                    in_secs(60.0),
                                )
                                .unwrap();
                            assert_ne!(outcome, CasOutcome::Gone);
                            usize::from(matches!(outcome, CasOutcome::Swapped(_)))
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).sum()
            });
            assert_eq!(wins, 1, "round {round}: {wins} swaps won");
        }
    }

    #[test]
    fn compare_and_swap_loops_lose_no_update() {
        // Each thread increments a counter with read / swap / retry; with an
        // atomic swap every increment lands exactly once, and the plain puts
        // and deletes of other keys in between do not disturb it.
        let store = MemorySessionStore::new();
        store
            .put_sync("counter", Bytes::from_static(b"0"), in_secs(60.0))
            .unwrap();
        std::thread::scope(|scope| {
            for t in 0..4 {
                let store = &store;
                scope.spawn(move || {
                    for i in 0..250 {
                        loop {
                            let entry = store.get_entry("counter").unwrap().unwrap();
                            let n: u64 =
                                std::str::from_utf8(&entry.value).unwrap().parse().unwrap();
                            let next = Bytes::from((n + 1).to_string());
                            match store
                                .compare_and_swap_sync(
                                    "counter",
                                    Version::from_raw(entry.version),
                                    next,
                                    in_secs(60.0),
                                )
                                .unwrap()
                            {
                                CasOutcome::Swapped(_) => break,
                                CasOutcome::Conflict => continue,
                                CasOutcome::Gone => panic!("counter vanished"),
                            }
                        }
                        let other = format!("t{t}-{i}");
                        store
                            .put_sync(&other, Bytes::from_static(b"x"), in_secs(60.0))
                            .unwrap();
                        store.delete_sync(&other).unwrap();
                    }
                });
            }
        });
        assert_eq!(
            store.get_sync("counter").unwrap().as_deref(),
            Some(&b"1000"[..])
        );
    }
}
