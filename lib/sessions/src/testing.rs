//! A real memcached for tests, benchmarks and the load test (feature
//! `testing`): where the binary is, and the command line that runs it on one
//! loopback port. Starting and supervising the process stays with the caller,
//! which knows whether it runs blocking or async code.

use std::path::PathBuf;

/// Environment variable naming the memcached binary.
pub const MEMCACHED_BIN_ENV: &str = "MEMCACHED_BIN";

/// Where Debian's package installs it.
const DEFAULT_MEMCACHED: &str = "/usr/bin/memcached";

/// The memcached binary: [`MEMCACHED_BIN_ENV`], else Debian's path, else the
/// first `memcached` on `PATH`.
pub fn memcached_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(MEMCACHED_BIN_ENV) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    std::iter::once(PathBuf::from(DEFAULT_MEMCACHED))
        .chain(
            std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths)
                .map(|dir| dir.join("memcached")),
        )
        .find(|p| p.is_file())
}

/// How big a memcached to run.
#[derive(Debug, Clone, Copy)]
pub struct MemcachedSize {
    /// Item memory, MiB (`-m`).
    pub memory_mib: u32,
    /// Simultaneous connections (`-c`).
    pub max_connections: u32,
    /// Worker threads (`-t`).
    pub threads: u32,
}

/// Arguments for a TCP-only memcached on `127.0.0.1:port`.
pub fn memcached_args(port: u16, size: MemcachedSize) -> Vec<String> {
    let mut args: Vec<String> = ["-U", "0", "-l", "127.0.0.1", "-p"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    args.push(port.to_string());
    for (flag, value) in [
        ("-m", size.memory_mib),
        ("-c", size.max_connections),
        ("-t", size.threads),
    ] {
        args.push(flag.to_owned());
        args.push(value.to_string());
    }
    if running_as_root() {
        // memcached refuses to run as root unless told which user to be.
        args.extend(["-u".to_owned(), "root".to_owned()]);
    }
    args
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_bind_loopback_tcp_only() {
        let args = memcached_args(
            11311,
            MemcachedSize {
                memory_mib: 16,
                max_connections: 256,
                threads: 2,
            },
        );
        let joined = args.join(" ");
        assert!(
            joined.starts_with("-U 0 -l 127.0.0.1 -p 11311 -m 16 -c 256 -t 2"),
            "{joined}"
        );
        assert_eq!(joined.ends_with("-u root"), running_as_root());
    }
}
