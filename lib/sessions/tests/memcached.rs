//! Memcached session store against real memcached processes started here.
//!
//! Each test starts its own `memcached -U 0` on a free loopback port and
//! kills it on drop. Without the binary the tests are skipped loudly, unless
//! `CI` is set, in which case they fail.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use vouch_sessions::{
    CasOutcome, MemcachedOptions, MemcachedSessionStore, SessionError, SessionStore, Version,
};

mod support;

use support::{Memcached, memcached_binary};

fn options() -> MemcachedOptions {
    MemcachedOptions {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(500),
        ..Default::default()
    }
}

fn in_secs(secs: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(secs)
}

/// Bounds every store call: a hang is a failure, not a stuck test run.
async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), f)
        .await
        .expect("store call hung")
}

#[tokio::test]
async fn put_get_delete_round_trip() {
    let Some(bin) = memcached_binary() else {
        return;
    };
    let server = Memcached::start(&bin);
    let store = MemcachedSessionStore::connect(&[server.addr()], options())
        .await
        .unwrap();
    store.ping().await.unwrap();
    // Readiness counts only answers to real reads and writes.
    assert!(!store.answered_within(Duration::from_secs(60)));

    let id = "5c5bd88b-7d3a-11ee-b962-0242ac120002";
    assert_eq!(store.get(id).await.unwrap(), None);
    assert!(store.answered_within(Duration::from_secs(60)));
    let body = Bytes::from_static(b"{\"status\":\"waiting\",\"nonce\":\"QUJDRA==\"}");
    store.put(id, body.clone(), in_secs(150)).await.unwrap();
    assert_eq!(store.get(id).await.unwrap(), Some(body));

    // Replacing keeps working and the new value wins.
    let done = Bytes::from_static(b"{\"status\":\"complete\"}");
    store.put(id, done.clone(), in_secs(150)).await.unwrap();
    assert_eq!(store.get(id).await.unwrap(), Some(done));

    store.delete(id).await.unwrap();
    assert_eq!(store.get(id).await.unwrap(), None);
    // Deleting an unknown session is not an error.
    store.delete(id).await.unwrap();

    // Binary values survive unchanged.
    let binary = Bytes::from((0..=255u8).cycle().take(70_000).collect::<Vec<_>>());
    store.put("bin", binary.clone(), in_secs(60)).await.unwrap();
    assert_eq!(store.get("bin").await.unwrap(), Some(binary));

    assert!(matches!(
        store
            .put("bad id", Bytes::from_static(b"x"), in_secs(60))
            .await,
        Err(SessionError::InvalidId(_))
    ));
}

#[tokio::test]
async fn keys_are_stored_under_the_veraison_prefix() {
    let Some(bin) = memcached_binary() else {
        return;
    };
    let server = Memcached::start(&bin);
    let store = MemcachedSessionStore::connect(&[server.addr()], options())
        .await
        .unwrap();
    store
        .put("abc", Bytes::from_static(b"v"), in_secs(60))
        .await
        .unwrap();

    // Read it back with a plain text-protocol client.
    let raw = raw_get(&server.addr(), "session://0/abc").await;
    assert_eq!(raw.as_deref(), Some(&b"v"[..]));
}

async fn raw_get(addr: &str, key: &str) -> Option<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connecting to memcached");
    conn.write_all(format!("get {key}\r\n").as_bytes())
        .await
        .expect("sending get");
    let mut reply = Vec::new();
    while !reply.ends_with(b"END\r\n") {
        let mut buf = [0u8; 4096];
        let n = conn.read(&mut buf).await.expect("reading reply");
        assert!(n > 0, "connection closed");
        reply.extend_from_slice(&buf[..n]);
    }
    let text = reply.as_slice();
    if text.starts_with(b"END") {
        return None;
    }
    let header_end = text
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("reply header line");
    let header = std::str::from_utf8(&text[..header_end]).expect("ASCII reply header");
    let len: usize = header
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("value length in reply header");
    Some(text[header_end + 2..header_end + 2 + len].to_vec())
}

#[tokio::test]
async fn entries_expire() {
    let Some(bin) = memcached_binary() else {
        return;
    };
    let server = Memcached::start(&bin);
    let store = MemcachedSessionStore::connect(&[server.addr()], options())
        .await
        .unwrap();
    store
        .put("short", Bytes::from_static(b"1"), in_secs(1))
        .await
        .unwrap();
    store
        .put("long", Bytes::from_static(b"2"), in_secs(60))
        .await
        .unwrap();
    assert!(store.get("short").await.unwrap().is_some());
    // Memcached's clock ticks in whole seconds; two and a half seconds is
    // past any rounding of a one-second TTL.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(store.get("short").await.unwrap(), None);
    assert!(store.get("long").await.unwrap().is_some());

    // An expiry in the past removes the entry.
    store
        .put(
            "long",
            Bytes::from_static(b"3"),
            SystemTime::now() - Duration::from_secs(1),
        )
        .await
        .unwrap();
    assert_eq!(store.get("long").await.unwrap(), None);

    // Beyond 30 days the expiry is sent as an absolute time and still holds.
    store
        .put(
            "month",
            Bytes::from_static(b"4"),
            in_secs(40 * 24 * 60 * 60),
        )
        .await
        .unwrap();
    assert!(store.get("month").await.unwrap().is_some());
}

#[tokio::test]
async fn keys_spread_over_two_servers() {
    let Some(bin) = memcached_binary() else {
        return;
    };
    let a = Memcached::start(&bin);
    let b = Memcached::start(&bin);
    let store = MemcachedSessionStore::connect(&[a.addr(), b.addr()], options())
        .await
        .unwrap();
    store.ping().await.unwrap();
    let ids: Vec<String> = (0..200)
        .map(|i| format!("{i:08x}-7d3a-11ee-b962-0242ac120002"))
        .collect();
    for id in &ids {
        store
            .put(id, Bytes::from(id.clone()), in_secs(60))
            .await
            .unwrap();
    }
    let (mut on_a, mut on_b) = (0, 0);
    for id in &ids {
        assert_eq!(store.get(id).await.unwrap().as_deref(), Some(id.as_bytes()));
        let key = format!("session://0/{id}");
        let in_a = raw_get(&a.addr(), &key).await.is_some();
        let in_b = raw_get(&b.addr(), &key).await.is_some();
        assert!(in_a != in_b, "{id} must be on exactly one server");
        if in_a {
            on_a += 1;
        } else {
            on_b += 1;
        }
    }
    assert!(on_a >= 60 && on_b >= 60, "uneven spread: {on_a} / {on_b}");
}

#[tokio::test]
async fn server_going_away_errors_and_recovers() {
    let Some(bin) = memcached_binary() else {
        return;
    };
    let mut server = Memcached::start(&bin);
    let store = MemcachedSessionStore::connect(&[server.addr()], options())
        .await
        .unwrap();
    store
        .put("s", Bytes::from_static(b"v"), in_secs(60))
        .await
        .unwrap();
    assert!(store.get("s").await.unwrap().is_some());

    server.stop();
    let started = Instant::now();
    let err = bounded(store.get("s")).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    let err = bounded(store.put("s", Bytes::from_static(b"w"), in_secs(60)))
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert!(bounded(store.ping()).await.unwrap_err().is_unavailable());
    assert!(
        bounded(store.delete("s"))
            .await
            .unwrap_err()
            .is_unavailable()
    );
    assert!(
        bounded(store.get_versioned("s"))
            .await
            .unwrap_err()
            .is_unavailable()
    );
    let err = bounded(store.compare_and_swap(
        "s",
        Version::from_raw(1),
        Bytes::from_static(b"w"),
        in_secs(60),
    ))
    .await
    .unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert!(err.to_string().contains("compare-and-swap"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "errors took {:?}",
        started.elapsed()
    );

    // Same port, fresh (empty) memcached: the store reconnects by itself.
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match bounded(store.ping()).await {
            Ok(()) => break,
            Err(e) => assert!(Instant::now() < deadline, "store never recovered: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.get("s").await.unwrap(), None);
    store
        .put("s", Bytes::from_static(b"again"), in_secs(60))
        .await
        .unwrap();
    assert_eq!(
        store.get("s").await.unwrap().as_deref(),
        Some(&b"again"[..])
    );
}

#[tokio::test]
async fn silent_server_times_out() {
    // Accepts connections and never answers: the request timeout must fire.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    let store = MemcachedSessionStore::connect(&[addr], options())
        .await
        .unwrap();
    let started = Instant::now();
    let err = bounded(store.get("s")).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert!(started.elapsed() < Duration::from_secs(3));
    holder.abort();
}

#[tokio::test]
async fn concurrent_requests_share_bounded_pools() {
    let Some(bin) = memcached_binary() else {
        return;
    };
    let server = Memcached::start(&bin);
    let store = MemcachedSessionStore::connect(
        &[server.addr()],
        MemcachedOptions {
            max_connections_per_server: 4,
            max_idle_per_server: 4,
            ..options()
        },
    )
    .await
    .unwrap();
    let mut tasks = Vec::new();
    for t in 0..32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..20 {
                let id = format!("t{t}-{i}");
                store
                    .put(&id, Bytes::from(id.clone()), in_secs(60))
                    .await
                    .unwrap();
                assert_eq!(
                    store.get(&id).await.unwrap().as_deref(),
                    Some(id.as_bytes())
                );
            }
        }));
    }
    for task in tasks {
        bounded(task).await.unwrap();
    }
}

async fn versioned(store: &MemcachedSessionStore, id: &str) -> (Bytes, Version) {
    store
        .get_versioned(id)
        .await
        .expect("get_versioned")
        .expect("session present")
}

#[tokio::test]
async fn compare_and_swap_uses_memcached_cas() {
    let Some(bin) = memcached_binary() else {
        return;
    };
    let server = Memcached::start(&bin);
    let store = MemcachedSessionStore::connect(&[server.addr()], options())
        .await
        .unwrap();
    let id = "5c5bd88b-7d3a-11ee-b962-0242ac120002";
    assert_eq!(store.get_versioned(id).await.unwrap(), None);
    store
        .put(id, Bytes::from_static(b"waiting"), in_secs(60))
        .await
        .unwrap();
    let (value, v1) = versioned(&store, id).await;
    assert_eq!(&value[..], b"waiting");
    // Reads leave the version alone.
    assert_eq!(
        store.get(id).await.unwrap().as_deref(),
        Some(&b"waiting"[..])
    );
    assert_eq!(versioned(&store, id).await.1, v1);

    let outcome = store
        .compare_and_swap(id, v1, Bytes::from_static(b"processing"), in_secs(60))
        .await
        .unwrap();
    let CasOutcome::Swapped(v2) = outcome else {
        panic!("first swap from v1 must win: {outcome:?}");
    };
    assert_ne!(v1, v2);
    assert_eq!(
        store
            .compare_and_swap(id, v1, Bytes::from_static(b"other"), in_secs(60))
            .await
            .unwrap(),
        CasOutcome::Conflict
    );
    // The swap reported the item's new CAS value: the one to swap from next.
    assert_eq!(
        versioned(&store, id).await,
        (Bytes::from_static(b"processing"), v2)
    );
    assert!(matches!(
        store
            .compare_and_swap(id, v2, Bytes::from_static(b"complete"), in_secs(60))
            .await
            .unwrap(),
        CasOutcome::Swapped(_)
    ));
    assert_eq!(
        raw_get(&server.addr(), &format!("session://0/{id}"))
            .await
            .as_deref(),
        Some(&b"complete"[..])
    );

    // A plain put changes the version too.
    let (_, v3) = versioned(&store, id).await;
    store
        .put(id, Bytes::from_static(b"complete"), in_secs(60))
        .await
        .unwrap();
    assert_eq!(
        store
            .compare_and_swap(id, v3, Bytes::from_static(b"x"), in_secs(60))
            .await
            .unwrap(),
        CasOutcome::Conflict
    );

    // Deleted: Gone, and nothing is recreated. Re-created: the old version
    // does not match.
    let (_, v4) = versioned(&store, id).await;
    store.delete(id).await.unwrap();
    assert_eq!(
        store
            .compare_and_swap(id, v4, Bytes::from_static(b"x"), in_secs(60))
            .await
            .unwrap(),
        CasOutcome::Gone
    );
    assert_eq!(store.get(id).await.unwrap(), None);
    store
        .put(id, Bytes::from_static(b"again"), in_secs(60))
        .await
        .unwrap();
    assert_eq!(
        store
            .compare_and_swap(id, v4, Bytes::from_static(b"x"), in_secs(60))
            .await
            .unwrap(),
        CasOutcome::Conflict
    );

    // An expiry in the past removes the session, only at the expected
    // version.
    let past = SystemTime::now() - Duration::from_secs(1);
    assert_eq!(
        store
            .compare_and_swap(id, v4, Bytes::new(), past)
            .await
            .unwrap(),
        CasOutcome::Conflict
    );
    let (_, v5) = versioned(&store, id).await;
    assert!(matches!(
        store
            .compare_and_swap(id, v5, Bytes::new(), past)
            .await
            .unwrap(),
        CasOutcome::Swapped(_)
    ));
    assert_eq!(store.get(id).await.unwrap(), None);
}

#[tokio::test]
async fn compare_and_swap_sets_the_new_expiry() {
    let Some(bin) = memcached_binary() else {
        return;
    };
    let server = Memcached::start(&bin);
    let store = MemcachedSessionStore::connect(&[server.addr()], options())
        .await
        .unwrap();
    store
        .put("s", Bytes::from_static(b"v"), in_secs(60))
        .await
        .unwrap();
    let (_, v) = versioned(&store, "s").await;
    assert!(matches!(
        store
            .compare_and_swap("s", v, Bytes::from_static(b"w"), in_secs(1))
            .await
            .unwrap(),
        CasOutcome::Swapped(_)
    ));
    assert!(store.get("s").await.unwrap().is_some());
    // Past any rounding of a one-second TTL (see `entries_expire`).
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(store.get("s").await.unwrap(), None);
    assert_eq!(
        store
            .compare_and_swap("s", v, Bytes::from_static(b"x"), in_secs(60))
            .await
            .unwrap(),
        CasOutcome::Gone
    );
}

#[tokio::test]
async fn exactly_one_of_many_concurrent_swaps_wins() {
    let Some(bin) = memcached_binary() else {
        return;
    };
    let a = Memcached::start(&bin);
    let b = Memcached::start(&bin);
    // Two servers, so the sessions below land on both; several stores, as
    // several verification instances would have.
    let servers = [a.addr(), b.addr()];
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(
            MemcachedSessionStore::connect(&servers, options())
                .await
                .unwrap(),
        );
    }
    for round in 0..10 {
        let id = format!("{round:08x}-7d3a-11ee-b962-0242ac120002");
        stores[0]
            .put(&id, Bytes::from_static(b"waiting"), in_secs(60))
            .await
            .unwrap();
        let (_, version) = versioned(&stores[0], &id).await;
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(48));
        let mut tasks = Vec::new();
        for t in 0..48usize {
            let store = stores[t % stores.len()].clone();
            let (id, start) = (id.clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                store
                    .compare_and_swap(
                        &id,
                        version,
                        Bytes::from(format!("claimed by {t}")),
                        in_secs(60),
                    )
                    .await
                    .unwrap()
            }));
        }
        let mut wins = Vec::new();
        for (t, task) in tasks.into_iter().enumerate() {
            match bounded(task).await.unwrap() {
                CasOutcome::Swapped(_) => wins.push(t),
                CasOutcome::Conflict => {}
                CasOutcome::Gone => panic!("round {round}: the session vanished"),
            }
        }
        assert_eq!(wins.len(), 1, "round {round}: winners {wins:?}");
        assert_eq!(
            stores[1].get(&id).await.unwrap(),
            Some(Bytes::from(format!("claimed by {}", wins[0])))
        );
    }
}

#[tokio::test]
async fn compare_and_swap_loops_lose_no_update() {
    let Some(bin) = memcached_binary() else {
        return;
    };
    let server = Memcached::start(&bin);
    let store = MemcachedSessionStore::connect(&[server.addr()], options())
        .await
        .unwrap();
    store
        .put("counter", Bytes::from_static(b"0"), in_secs(60))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..40 {
                loop {
                    let (value, version) = versioned(&store, "counter").await;
                    let n: u64 = std::str::from_utf8(&value).unwrap().parse().unwrap();
                    match store
                        .compare_and_swap(
                            "counter",
                            version,
                            Bytes::from((n + 1).to_string()),
                            in_secs(60),
                        )
                        .await
                        .unwrap()
                    {
                        CasOutcome::Swapped(_) => break,
                        CasOutcome::Conflict => continue,
                        CasOutcome::Gone => panic!("counter vanished"),
                    }
                }
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("increments hung")
            .unwrap();
    }
    assert_eq!(
        store.get("counter").await.unwrap().as_deref(),
        Some(&b"320"[..])
    );
}
