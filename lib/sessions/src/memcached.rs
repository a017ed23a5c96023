//! Memcached session store over the meta protocol.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use memcache::exp::{
    AsyncMetaClient, Delete, Error as McError, Get, GetStatus, Meta, MetaClient, MutationStatus,
    Set,
};

use crate::ring::{DEFAULT_VIRTUAL_NODES, HashRing};
use crate::{CasOutcome, SessionError, SessionOp, SessionStore, Version, validate_session_id};

/// Key prefix Veraison uses for tenant 0: keys look like
/// `session://0/5c5bd88b-…`.
pub const DEFAULT_KEY_PREFIX: &str = "session://0/";

/// Memcached reads a relative expiry above 30 days as a Unix timestamp.
const MAX_RELATIVE_EXPTIME: u64 = 30 * 24 * 60 * 60;

/// Memcached's key length limit.
const MAX_KEY_LEN: usize = 250;

/// Connection and routing settings of a [`MemcachedSessionStore`].
#[derive(Debug, Clone)]
pub struct MemcachedOptions {
    /// Prepended to every session id to form the memcached key.
    pub key_prefix: String,
    /// Upper bound on connections in use per server; further requests wait
    /// (up to `connect_timeout`) for one to be returned.
    pub max_connections_per_server: usize,
    /// Idle connections kept per server for reuse.
    pub max_idle_per_server: usize,
    /// Limit on dialing a server (and on waiting for a pooled connection).
    pub connect_timeout: Duration,
    /// Limit on one request: writing it and reading the answer.
    pub request_timeout: Duration,
    /// Points per server on the consistent-hash ring.
    pub virtual_nodes: usize,
}

impl Default for MemcachedOptions {
    fn default() -> Self {
        Self {
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            max_connections_per_server: 64,
            max_idle_per_server: 16,
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
            virtual_nodes: DEFAULT_VIRTUAL_NODES,
        }
    }
}

impl MemcachedOptions {
    fn validate(&self) -> Result<(), SessionError> {
        let invalid = |m: &str| Err(SessionError::InvalidConfig(m.to_owned()));
        if self.max_connections_per_server == 0 {
            return invalid("max_connections_per_server must be at least 1");
        }
        if self.connect_timeout.is_zero() || self.request_timeout.is_zero() {
            return invalid("memcached timeouts must be positive");
        }
        if !self.key_prefix.bytes().all(|b| b.is_ascii_graphic()) {
            return invalid("memcached key prefix must be printable ASCII without spaces");
        }
        if self.key_prefix.len() + crate::MAX_SESSION_ID_LEN > MAX_KEY_LEN {
            return invalid("memcached key prefix is longer than 50 bytes");
        }
        Ok(())
    }
}

/// Session store backed by one or more memcached servers.
///
/// Keys are spread over the servers by a consistent [`HashRing`]; each
/// server has its own bounded connection pool. A server that is down, slow
/// past the request timeout, or answering garbage yields
/// [`SessionError::Unavailable`] rather than a hang; connections are
/// re-dialed on later requests, so the store recovers by itself when the
/// server returns.
///
/// Memcached expiry has one-second granularity: an entry lives until the
/// whole second at or after its `expires_at`.
///
/// [`compare_and_swap`](SessionStore::compare_and_swap) is memcached's own
/// check-and-set: the [`Version`] is the item's CAS unique value, read with
/// the meta command `mg <key> c v` (the meta protocol's `gets`), and the
/// swap is `ms <key> C<cas>` (its `cas`), or `md <key> C<cas>` to remove.
/// The server compares and stores under the item's lock, and each key lives
/// on exactly one server of the ring, so the swap is atomic across every
/// verification instance that shares the servers. Any write changes an
/// item's CAS value, and a restarted server has lost the item, so a stale
/// version can only fail.
#[derive(Clone)]
pub struct MemcachedSessionStore {
    client: AsyncMetaClient,
    key_prefix: String,
    servers: Vec<String>,
    /// When memcached last answered a read or write, for
    /// [`SessionStore::answered_within`].
    answered: std::sync::Arc<Answered>,
}

/// When memcached last answered: milliseconds since the store was made
/// (plus one, so that zero means never), one relaxed atomic store per
/// answer. (`vouch_trust_api` keeps the same for trust; the two crates
/// share no dependency to hold it.)
struct Answered {
    since: std::time::Instant,
    at_ms: std::sync::atomic::AtomicU64,
}

impl Answered {
    fn millis(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn now(&self) {
        self.at_ms.store(
            self.millis().saturating_add(1),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn within(&self, window: std::time::Duration) -> bool {
        let at = self.at_ms.load(std::sync::atomic::Ordering::Relaxed);
        at != 0
            && self.millis().saturating_sub(at - 1)
                <= u64::try_from(window.as_millis()).unwrap_or(u64::MAX)
    }
}

impl std::fmt::Debug for MemcachedSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemcachedSessionStore")
            .field("servers", &self.servers)
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

impl MemcachedSessionStore {
    /// Sets up a store for `servers` (`host:port` each).
    ///
    /// Host names are resolved now; connections are dialed lazily, so a
    /// server that is down shows at the first request. Call
    /// [`ping`](SessionStore::ping) to check every server eagerly.
    pub async fn connect(
        servers: &[String],
        options: MemcachedOptions,
    ) -> Result<Self, SessionError> {
        options.validate()?;
        if servers.is_empty() {
            return Err(SessionError::InvalidConfig(
                "at least one memcached server is required".to_owned(),
            ));
        }
        for (i, server) in servers.iter().enumerate() {
            if servers[..i].contains(server) {
                return Err(SessionError::InvalidConfig(format!(
                    "memcached server {server} is listed twice"
                )));
            }
        }
        let ring = HashRing::new(servers, options.virtual_nodes);
        let client = MetaClient::builder()
            .router(ring)
            .max_connections(Some(options.max_connections_per_server))
            .max_idle(options.max_idle_per_server)
            .connect_timeout(Some(options.connect_timeout))
            .io_timeout(Some(options.request_timeout))
            .connect_multiple_async(servers.iter().map(String::as_str))
            .await
            .map_err(|e| classify(SessionOp::Connect, e))?;
        tracing::debug!(servers = ?servers, "memcached session store configured");
        Ok(Self {
            client,
            key_prefix: options.key_prefix,
            servers: servers.to_vec(),
            answered: std::sync::Arc::new(Answered {
                since: std::time::Instant::now(),
                at_ms: std::sync::atomic::AtomicU64::new(0),
            }),
        })
    }

    /// The configured servers, in configuration order.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    /// The memcached key of a session id.
    pub fn key_for(&self, id: &str) -> Result<String, SessionError> {
        validate_session_id(id)?;
        let mut key = String::with_capacity(self.key_prefix.len() + id.len());
        key.push_str(&self.key_prefix);
        key.push_str(id);
        Ok(key)
    }
}

/// Splits failures into "back end unreachable" (503) and "request refused".
fn classify(op: SessionOp, error: McError) -> SessionError {
    match error {
        McError::Usage(_) | McError::Rejected(_) | McError::EmptyValue | McError::Encode(_) => {
            SessionError::Rejected {
                op,
                source: Box::new(error),
            }
        }
        _ => SessionError::Unavailable {
            op,
            source: Box::new(error),
        },
    }
}

/// The memcached `exptime` for an entry that must expire at `expires_at`,
/// seen from `now`; `None` when `expires_at` is not in the future.
///
/// Whole seconds, rounded up (at least 1) so a session never disappears
/// before its expiry; beyond 30 days memcached wants an absolute Unix time
/// instead, which is clamped to the protocol's 32-bit range.
pub fn memcached_exptime(expires_at: SystemTime, now: SystemTime) -> Option<u32> {
    let remaining = expires_at
        .duration_since(now)
        .ok()
        .filter(|d| !d.is_zero())?;
    let secs = ceil_secs(remaining).max(1);
    if secs <= MAX_RELATIVE_EXPTIME {
        return u32::try_from(secs).ok();
    }
    let absolute = expires_at
        .duration_since(UNIX_EPOCH)
        .map_or(u64::MAX, ceil_secs);
    Some(u32::try_from(absolute).unwrap_or(u32::MAX))
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0))
}

#[async_trait::async_trait]
impl SessionStore for MemcachedSessionStore {
    async fn put(
        &self,
        id: &str,
        value: Bytes,
        expires_at: SystemTime,
    ) -> Result<(), SessionError> {
        let key = self.key_for(id)?;
        let Some(exptime) = memcached_exptime(expires_at, SystemTime::now()) else {
            // Already expired: make sure no older copy outlives it.
            return self.delete(id).await;
        };
        let result = self
            .client
            .run(Set::new(&key, &value).ttl_raw(exptime))
            .await
            .map_err(|e| classify(SessionOp::Put, e))?;
        self.answered.now();
        if result.applied() {
            Ok(())
        } else {
            Err(SessionError::Rejected {
                op: SessionOp::Put,
                source: format!("memcached did not store the session: {:?}", result.status).into(),
            })
        }
    }

    async fn get(&self, id: &str) -> Result<Option<Bytes>, SessionError> {
        let key = self.key_for(id)?;
        let result = self
            .client
            .run(Get::new(&key))
            .await
            .map_err(|e| classify(SessionOp::Get, e))?;
        self.answered.now();
        Ok(match result.status {
            GetStatus::Hit => Some(Bytes::from(result.value.unwrap_or_default())),
            _ => None,
        })
    }

    async fn delete(&self, id: &str) -> Result<(), SessionError> {
        let key = self.key_for(id)?;
        // A miss (`NF`) is a result, not an error: deleting is idempotent.
        self.client
            .run(Delete::new(&key))
            .await
            .map_err(|e| classify(SessionOp::Delete, e))?;
        Ok(())
    }

    async fn get_versioned(&self, id: &str) -> Result<Option<(Bytes, Version)>, SessionError> {
        let key = self.key_for(id)?;
        let result = self
            .client
            .run(Get::new(&key).meta(Meta::NONE.cas()))
            .await
            .map_err(|e| classify(SessionOp::Get, e))?;
        self.answered.now();
        if result.status != GetStatus::Hit {
            return Ok(None);
        }
        let Some(cas) = result.item.cas else {
            return Err(SessionError::Unavailable {
                op: SessionOp::Get,
                source: "memcached answered without the item's CAS value".into(),
            });
        };
        Ok(Some((
            Bytes::from(result.value.unwrap_or_default()),
            Version::from_raw(cas),
        )))
    }

    async fn compare_and_swap(
        &self,
        id: &str,
        expected: Version,
        value: Bytes,
        expires_at: SystemTime,
    ) -> Result<CasOutcome, SessionError> {
        let key = self.key_for(id)?;
        let cas = expected.into_raw();
        let result = match memcached_exptime(expires_at, SystemTime::now()) {
            Some(exptime) => self
                .client
                .run(
                    Set::new(&key, &value)
                        .ttl_raw(exptime)
                        .compare_cas(cas)
                        .return_cas(),
                )
                .await
                .map_err(|e| classify(SessionOp::CompareAndSwap, e))?,
            // Already expired: remove it, on the same condition.
            None => self
                .client
                .run(Delete::new(&key).compare_cas(cas))
                .await
                .map_err(|e| classify(SessionOp::CompareAndSwap, e))?,
        };
        self.answered.now();
        match result.status {
            // A removal has no new CAS value; neither has a store whose
            // answer lacked it (it was asked for). `expected` then stands
            // in: the item's CAS changed on the write, so it matches nothing
            // and a later swap from it can only fail, never clobber.
            MutationStatus::Applied => Ok(CasOutcome::Swapped(
                result.cas.map_or(expected, Version::from_raw),
            )),
            MutationStatus::CasMismatch => Ok(CasOutcome::Conflict),
            MutationStatus::NotFound => Ok(CasOutcome::Gone),
            other => Err(SessionError::Rejected {
                op: SessionOp::CompareAndSwap,
                source: format!("memcached did not swap the session: {other:?}").into(),
            }),
        }
    }

    fn answered_within(&self, window: Duration) -> bool {
        self.answered.within(window)
    }

    async fn ping(&self) -> Result<(), SessionError> {
        self.client
            .noop()
            .await
            .map_err(|e| classify(SessionOp::Ping, e))
    }

    fn backend(&self) -> &'static str {
        "memcached"
    }
}

/// Parses `memcached://host:port[,host:port…]` into `host:port` strings.
///
/// A server without a port gets memcached's 11211; IPv6 hosts go in
/// brackets (`[::1]:11211`). A trailing `/` is allowed; paths, queries,
/// credentials and duplicate servers are refused.
pub fn parse_memcached_url(url: &str) -> Result<Vec<String>, SessionError> {
    let fail = |reason: &str| SessionError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    const SCHEME: &str = "memcached://";
    let rest = url
        .get(..SCHEME.len())
        .filter(|s| s.eq_ignore_ascii_case(SCHEME))
        .and_then(|_| url.get(SCHEME.len()..))
        .ok_or_else(|| fail("expected the memcached:// scheme"))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains(['/', '?', '#', '@']) {
        return Err(fail(
            "only a list of host:port is allowed after memcached://",
        ));
    }
    let mut servers: Vec<String> = Vec::new();
    for part in rest.split(',') {
        let server = parse_server(part.trim()).map_err(|reason| fail(&reason))?;
        if servers.contains(&server) {
            return Err(fail(&format!("server {server} is listed twice")));
        }
        servers.push(server);
    }
    Ok(servers)
}

fn parse_server(part: &str) -> Result<String, String> {
    if part.is_empty() {
        return Err("empty server entry".to_owned());
    }
    let (host, port) = if let Some(bracketed) = part.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| format!("unterminated IPv6 address in {part:?}"))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("invalid IPv6 address {host:?}"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| format!("unexpected {p:?} after IPv6 address"))?,
            ),
        };
        (format!("[{host}]"), port)
    } else {
        let (host, port) = match part.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (part, None),
        };
        if host.is_empty() {
            return Err(format!("missing host in {part:?}"));
        }
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
        {
            return Err(format!("invalid host {host:?}"));
        }
        (host.to_owned(), port)
    };
    let port: u16 = match port {
        None => 11211,
        Some(p) => p
            .parse()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("invalid port {p:?}"))?,
    };
    Ok(format!("{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        assert_eq!(
            parse_memcached_url("memcached://localhost:11211").unwrap(),
            ["localhost:11211"]
        );
        assert_eq!(
            parse_memcached_url("memcached://10.0.0.1:1, cache-2.internal:2,[::1]:3/").unwrap(),
            ["10.0.0.1:1", "cache-2.internal:2", "[::1]:3"]
        );
        assert_eq!(
            parse_memcached_url("MEMCACHED://cache,[::1]").unwrap(),
            ["cache:11211", "[::1]:11211"]
        );
    }

    #[test]
    fn bad_urls_are_refused() {
        for url in [
            "",
            "memcached://",
            "memcache://h:1",
            "http://h:1",
            "memcached://h:1,",
            "memcached://:11211",
            "memcached://h:0",
            "memcached://h:65536",
            "memcached://h:port",
            "memcached://h:1/path",
            "memcached://user@h:1",
            "memcached://h:1?x=y",
            "memcached://h:1,h:1",
            "memcached://[::1",
            "memcached://[nope]:1",
            "memcached://[::1]x",
            "memcached://h o:1",
            "memcached://h:1:2",
            "memcached://a[b:1",
        ] {
            assert!(
                matches!(
                    parse_memcached_url(url),
                    Err(SessionError::InvalidUrl { .. })
                ),
                "{url:?} was accepted"
            );
        }
    }

    #[test]
    fn exptime_is_whole_seconds_at_least_one() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            memcached_exptime(now + Duration::from_secs(150), now),
            Some(150)
        );
        assert_eq!(
            memcached_exptime(now + Duration::from_millis(1), now),
            Some(1)
        );
        assert_eq!(
            memcached_exptime(now + Duration::from_millis(1500), now),
            Some(2)
        );
        assert_eq!(memcached_exptime(now, now), None);
        assert_eq!(memcached_exptime(now - Duration::from_secs(5), now), None);
    }

    #[test]
    fn exptime_beyond_thirty_days_is_absolute() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let thirty_days = Duration::from_secs(MAX_RELATIVE_EXPTIME);
        assert_eq!(
            memcached_exptime(now + thirty_days, now),
            Some(30 * 24 * 60 * 60)
        );
        let later = now + thirty_days + Duration::from_secs(1);
        assert_eq!(
            memcached_exptime(later, now),
            Some(1_700_000_000 + 30 * 24 * 60 * 60 + 1)
        );
        // Past the 32-bit timestamp range: clamped, never wrapped.
        let far = UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) + 10);
        assert_eq!(memcached_exptime(far, now), Some(u32::MAX));
    }

    #[test]
    fn options_are_checked() {
        let bad = [
            MemcachedOptions {
                max_connections_per_server: 0,
                ..Default::default()
            },
            MemcachedOptions {
                request_timeout: Duration::ZERO,
                ..Default::default()
            },
            MemcachedOptions {
                key_prefix: "has space/".to_owned(),
                ..Default::default()
            },
            MemcachedOptions {
                key_prefix: "p".repeat(51),
                ..Default::default()
            },
        ];
        for options in bad {
            assert!(matches!(
                options.validate(),
                Err(SessionError::InvalidConfig(_))
            ));
        }
        assert!(MemcachedOptions::default().validate().is_ok());
    }

    #[tokio::test]
    async fn connect_refuses_bad_server_lists() {
        let none: [String; 0] = [];
        assert!(matches!(
            MemcachedSessionStore::connect(&none, MemcachedOptions::default()).await,
            Err(SessionError::InvalidConfig(_))
        ));
        let twice = ["127.0.0.1:1".to_owned(), "127.0.0.1:1".to_owned()];
        assert!(matches!(
            MemcachedSessionStore::connect(&twice, MemcachedOptions::default()).await,
            Err(SessionError::InvalidConfig(_))
        ));
    }

    #[tokio::test]
    async fn keys_use_the_veraison_layout() {
        // Port 1 is never dialed: connections are lazy.
        let store = MemcachedSessionStore::connect(
            &["127.0.0.1:1".to_owned()],
            MemcachedOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(store.backend(), "memcached");
        assert_eq!(
            store
                .key_for("5c5bd88b-7d3a-11ee-b962-0242ac120002")
                .unwrap(),
            "session://0/5c5bd88b-7d3a-11ee-b962-0242ac120002"
        );
        assert!(matches!(
            store.key_for("a b"),
            Err(SessionError::InvalidId(_))
        ));
    }
}
