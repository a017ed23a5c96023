//! In-process session store.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use moka::Expiry;
use moka::sync::Cache;

use crate::{SessionError, SessionStore, validate_session_id};

/// Default bound on the number of sessions kept in memory.
pub const DEFAULT_MEMORY_CAPACITY: u64 = 1_000_000;

/// Deadlines further out than this are clamped, so converting a far-future
/// `SystemTime` into an `Instant` cannot overflow.
const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

#[derive(Clone)]
struct Entry {
    value: Bytes,
    deadline: Instant,
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
#[derive(Clone)]
pub struct MemorySessionStore {
    cache: Cache<String, Entry>,
    capacity: u64,
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

impl MemorySessionStore {
    /// A store bounded to [`DEFAULT_MEMORY_CAPACITY`] sessions.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_MEMORY_CAPACITY)
    }

    /// A store bounded to `capacity` sessions.
    pub fn with_capacity(capacity: u64) -> Self {
        let cache = Cache::builder()
            .max_capacity(capacity)
            .expire_after(AbsoluteDeadline)
            .build();
        Self { cache, capacity }
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

    fn put_sync(&self, id: &str, value: Bytes, expires_at: SystemTime) -> Result<(), SessionError> {
        validate_session_id(id)?;
        let remaining = match expires_at.duration_since(SystemTime::now()) {
            Ok(d) if !d.is_zero() => d.min(MAX_LIFETIME),
            // Already expired: a stale copy must not survive the replacement.
            _ => {
                self.cache.invalidate(id);
                return Ok(());
            }
        };
        let deadline = Instant::now() + remaining;
        self.cache.insert(id.to_owned(), Entry { value, deadline });
        Ok(())
    }

    fn get_sync(&self, id: &str) -> Result<Option<Bytes>, SessionError> {
        validate_session_id(id)?;
        // Moka already hides expired entries; the deadline check keeps that
        // guarantee exact even between housekeeping runs.
        Ok(self
            .cache
            .get(id)
            .filter(|entry| entry.deadline > Instant::now())
            .map(|entry| entry.value))
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
        validate_session_id(id)?;
        self.cache.invalidate(id);
        Ok(())
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
}
