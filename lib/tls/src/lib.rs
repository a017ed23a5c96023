//! TLS for the Vouch listeners, on rustls with the aws-lc-rs provider.
//!
//! - [`ServerTls`]: a server configuration read from PEM files (certificate
//!   chain, private key, and for mutual TLS the CA that client certificates
//!   must chain to), rebuilt by [`ServerTls::reload`] (on SIGHUP) without
//!   touching the listeners or their connections. A reload that fails keeps
//!   the configuration in use.
//! - [`TlsListener`]: accepts TCP connections and runs each TLS handshake in
//!   its own task with a deadline, so a slow or broken client never holds up
//!   the accept loop. It is an [`axum::serve::Listener`] for the REST
//!   listeners and a stream of connections for tonic.
//! - [`serve`]: a router over plain HTTP or HTTPS with the graceful, bounded
//!   shutdown of [`vouch_http::serve`].
//! - [`client_config`]: a client configuration trusting a CA file, for health
//!   checks and tests.

mod config;
mod listener;

pub use config::{
    ALPN_GRPC, ALPN_HTTP, ServerTls, ServerTlsFiles, TlsError, client_config, connect, fingerprint,
    load_ca, load_certs, load_identity, load_key, reload_all,
};
pub use listener::{AcceptOptions, TlsListener, serve};

/// The rustls this crate builds on, for callers that need its types.
pub use rustls;
/// The tokio-rustls this crate builds on, for its stream types.
pub use tokio_rustls;
