//! A real memcached on a free loopback port, for the memcached session
//! store's tests and benchmarks.

// Each user takes the parts it needs.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vouch_sessions::testing;

pub(crate) fn memcached_binary() -> Option<PathBuf> {
    if let Some(path) = testing::memcached_binary() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "memcached not found; CI must have it"
    );
    eprintln!("WARNING: memcached not found; SKIPPING the memcached session store tests");
    None
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    listener.local_addr().expect("local address").port()
}

/// A memcached process on 127.0.0.1, killed on drop.
pub(crate) struct Memcached {
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Memcached {
    pub(crate) fn start(binary: &Path) -> Self {
        let mut server = Self {
            binary: binary.to_path_buf(),
            port: free_port(),
            child: None,
        };
        server.restart();
        server
    }

    pub(crate) fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub(crate) fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut command = Command::new(&self.binary);
        command
            .args(testing::memcached_args(
                self.port,
                testing::MemcachedSize {
                    memory_mib: 16,
                    max_connections: 256,
                    threads: 1,
                },
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        self.child = Some(command.spawn().expect("spawning memcached"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(self.addr()).is_err() {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("polling memcached"))
            {
                panic!(
                    "memcached exited with {status} before listening on {}",
                    self.addr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "memcached did not start on {}",
                self.addr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Memcached {
    fn drop(&mut self) {
        self.stop();
    }
}
