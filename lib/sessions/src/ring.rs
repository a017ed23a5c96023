//! Consistent hashing of session keys onto memcached servers.

/// Virtual nodes per server by default (as in ketama): enough points for an
/// even spread (each server's share is within a few percent of fair).
pub const DEFAULT_VIRTUAL_NODES: usize = 160;

/// A consistent-hash ring with virtual nodes.
///
/// Each server (identified by its configured `host:port`) owns
/// `virtual_nodes` points on a 64-bit ring; a key belongs to the first point
/// at or after its hash. Adding or removing a server only moves the keys of
/// the points it gains or loses, and the result does not depend on the order
/// the servers are listed in.
///
/// The hash (64-bit FNV-1a followed by the MurmurHash3 finaliser) is fixed
/// here rather than taken from `std`, so every replica and every build
/// routes a key to the same server.
#[derive(Debug, Clone)]
pub struct HashRing {
    /// Ring points sorted by hash, each naming a server index.
    points: Vec<(u64, usize)>,
    servers: usize,
}

impl HashRing {
    /// Builds the ring for `servers` with `virtual_nodes` points each (at
    /// least one). Server indices in [`server_for`](Self::server_for) follow
    /// the order of `servers`.
    pub fn new<S: AsRef<str>>(servers: &[S], virtual_nodes: usize) -> Self {
        let virtual_nodes = virtual_nodes.max(1);
        let mut points = Vec::with_capacity(servers.len().saturating_mul(virtual_nodes));
        for (index, server) in servers.iter().enumerate() {
            let name = server.as_ref().as_bytes();
            for vnode in 0..virtual_nodes {
                points.push((point_hash(name, vnode), index));
            }
        }
        // On a hash collision the lexically smaller server wins, so the ring
        // is the same whatever the configuration order.
        points.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                let name = |i: usize| servers.get(i).map(|s| s.as_ref());
                name(a.1).cmp(&name(b.1))
            })
        });
        points.dedup_by_key(|p| p.0);
        Self {
            points,
            servers: servers.len(),
        }
    }

    /// Number of servers on the ring.
    pub fn len(&self) -> usize {
        self.servers
    }

    /// Whether the ring has no servers.
    pub fn is_empty(&self) -> bool {
        self.servers == 0
    }

    /// Index (in the order given to [`new`](Self::new)) of the server owning
    /// `key`; 0 for an empty ring.
    pub fn server_for(&self, key: &[u8]) -> usize {
        let hash = key_hash(key);
        let at = self.points.partition_point(|p| p.0 < hash);
        self.points
            .get(at)
            .or_else(|| self.points.first())
            .map_or(0, |p| p.1)
    }
}

impl memcache::exp::Router for HashRing {
    /// The store builds the ring from the same server list, in the same
    /// order, as the client it routes for.
    fn route(&self, key: &[u8], _servers: &[String]) -> usize {
        self.server_for(key)
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(state: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(state, |h, &b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

/// MurmurHash3's 64-bit finaliser: FNV alone clusters similar inputs such as
/// `host:port#1`, `host:port#2`.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

fn key_hash(key: &[u8]) -> u64 {
    fmix64(fnv1a(FNV_OFFSET, key))
}

fn point_hash(server: &[u8], vnode: usize) -> u64 {
    let h = fnv1a(FNV_OFFSET, server);
    let h = fnv1a(h, b"#");
    fmix64(fnv1a(h, &(vnode as u64).to_le_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("session://0/{:08x}-7d3a-11ee-b962-{:012x}", i * 7919, i))
            .collect()
    }

    fn names(ring_servers: &[&str]) -> Vec<String> {
        ring_servers.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn hash_is_stable() {
        // Routing is a contract between replicas: pin the hash values.
        assert_eq!(key_hash(b""), fmix64(FNV_OFFSET));
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        let ring = HashRing::new(&["10.0.0.1:11211", "10.0.0.2:11211"], 160);
        let first: Vec<usize> = keys(64)
            .iter()
            .map(|k| ring.server_for(k.as_bytes()))
            .collect();
        let again = HashRing::new(&["10.0.0.1:11211", "10.0.0.2:11211"], 160);
        let second: Vec<usize> = keys(64)
            .iter()
            .map(|k| again.server_for(k.as_bytes()))
            .collect();
        assert_eq!(first, second);
    }

    #[test]
    fn keys_spread_evenly() {
        let servers = names(&[
            "10.0.0.1:11211",
            "10.0.0.2:11211",
            "10.0.0.3:11211",
            "10.0.0.4:11211",
        ]);
        let ring = HashRing::new(&servers, DEFAULT_VIRTUAL_NODES);
        let mut counts = [0usize; 4];
        let all = keys(40_000);
        for key in &all {
            counts[ring.server_for(key.as_bytes())] += 1;
        }
        for count in counts {
            // Fair share is 10,000; 160 virtual nodes keep each within 20%.
            assert!(
                (8_000..=12_000).contains(&count),
                "uneven spread: {counts:?}"
            );
        }
    }

    #[test]
    fn adding_a_server_moves_only_keys_to_it() {
        let three = names(&["a:11211", "b:11211", "c:11211"]);
        let four = names(&["a:11211", "b:11211", "c:11211", "d:11211"]);
        let before = HashRing::new(&three, DEFAULT_VIRTUAL_NODES);
        let after = HashRing::new(&four, DEFAULT_VIRTUAL_NODES);
        let all = keys(20_000);
        let mut moved = 0;
        for key in &all {
            let (b, a) = (
                before.server_for(key.as_bytes()),
                after.server_for(key.as_bytes()),
            );
            if b != a {
                assert_eq!(a, 3, "a key moved between two old servers");
                moved += 1;
            }
        }
        // About a quarter of the keys go to the new server.
        assert!((3_000..=7_000).contains(&moved), "{moved} keys moved");
    }

    #[test]
    fn removing_a_server_moves_only_its_keys() {
        let three = names(&["a:11211", "b:11211", "c:11211"]);
        let two = names(&["a:11211", "c:11211"]);
        let before = HashRing::new(&three, DEFAULT_VIRTUAL_NODES);
        let after = HashRing::new(&two, DEFAULT_VIRTUAL_NODES);
        for key in keys(10_000) {
            let b = &three[before.server_for(key.as_bytes())];
            let a = &two[after.server_for(key.as_bytes())];
            if b != "b:11211" {
                assert_eq!(a, b, "a key of a surviving server moved");
            }
        }
    }

    #[test]
    fn order_of_servers_does_not_matter() {
        let forward = names(&["a:1", "b:2", "c:3"]);
        let backward = names(&["c:3", "b:2", "a:1"]);
        let f = HashRing::new(&forward, 40);
        let b = HashRing::new(&backward, 40);
        for key in keys(2_000) {
            assert_eq!(
                forward[f.server_for(key.as_bytes())],
                backward[b.server_for(key.as_bytes())]
            );
        }
    }

    #[test]
    fn degenerate_rings() {
        let empty = HashRing::new::<&str>(&[], 160);
        assert!(empty.is_empty());
        assert_eq!(empty.server_for(b"k"), 0);
        let one = HashRing::new(&["only:11211"], 0);
        assert_eq!(one.len(), 1);
        for key in keys(100) {
            assert_eq!(one.server_for(key.as_bytes()), 0);
        }
    }
}
