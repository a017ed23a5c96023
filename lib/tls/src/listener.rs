//! The TLS accept loop.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::ServerTls;

/// How a [`TlsListener`] treats handshakes.
#[derive(Debug, Clone, Copy)]
pub struct AcceptOptions {
    /// A client that has not finished its handshake by then is dropped.
    pub handshake_timeout: Duration,
    /// Handshakes in progress at once. Past that, new connections wait in
    /// the kernel's backlog rather than each taking memory here.
    pub max_handshakes: usize,
}

impl Default for AcceptOptions {
    fn default() -> Self {
        AcceptOptions {
            handshake_timeout: Duration::from_secs(10),
            max_handshakes: 1024,
        }
    }
}

/// Accepts TCP connections on a listener and hands on those whose TLS
/// handshake succeeded.
///
/// A background task accepts; each handshake runs in a task of its own
/// with [`AcceptOptions::handshake_timeout`], so a client that stalls (or
/// never speaks) holds up no one. Dropping the listener stops the task and
/// closes the socket, so a graceful shutdown refuses new connections at
/// once, as it does without TLS.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: Option<SocketAddr>,
    stop: CancellationToken,
}

impl TlsListener {
    /// Starts accepting on `listener` with the configuration `tls` holds at
    /// the time of each connection. Needs a Tokio runtime.
    pub fn new(listener: TcpListener, tls: Arc<ServerTls>, options: AcceptOptions) -> Self {
        let local_addr = listener.local_addr().ok();
        let (sender, ready) = mpsc::channel(64);
        let stop = CancellationToken::new();
        tokio::spawn(accept_loop(listener, tls, options, sender, stop.clone()));
        TlsListener {
            ready,
            local_addr,
            stop,
        }
    }

    /// The next connection whose handshake succeeded; `None` once the
    /// accept loop has stopped.
    pub async fn next(&mut self) -> Option<(TlsStream<TcpStream>, SocketAddr)> {
        self.ready.recv().await
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn accept_loop(
    listener: TcpListener,
    tls: Arc<ServerTls>,
    options: AcceptOptions,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
    stop: CancellationToken,
) {
    let handshakes = Arc::new(Semaphore::new(options.max_handshakes.max(1)));
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = async {
                // A permit first: at the limit, connections wait in the
                // backlog instead of being accepted and left waiting here.
                let permit = handshakes.clone().acquire_owned().await;
                (permit, listener.accept().await)
            } => accepted,
        };
        let (permit, (stream, peer)) = match accepted {
            (Ok(permit), Ok(connection)) => (permit, connection),
            (Err(_), _) => return,
            (Ok(_), Err(e)) => {
                accept_error(e).await;
                continue;
            }
        };
        // Small request/response exchanges: Nagle only adds latency.
        let _ = stream.set_nodelay(true);
        let acceptor = TlsAcceptor::from(tls.config());
        let ready = ready.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let handshake =
                tokio::time::timeout(options.handshake_timeout, acceptor.accept(stream));
            let outcome = tokio::select! {
                () = stop.cancelled() => return,
                outcome = handshake => outcome,
            };
            drop(permit);
            match outcome {
                Ok(Ok(connection)) => {
                    // Fails only when the listener is gone: the connection
                    // is then dropped, as an unaccepted one would be.
                    let _ = ready.send((connection, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(
                    %peer,
                    timeout = ?options.handshake_timeout,
                    "TLS handshake timed out"
                ),
            }
        });
    }
}

/// As axum's own listener does: connection errors concern one client and
/// are skipped; others (such as running out of file descriptors) are logged
/// and retried after a pause rather than spinning.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.next().await {
            Some(connection) => connection,
            // The accept loop only ends when this listener is dropped, so
            // this is not reached; if it were, there is nothing to accept.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.local_addr
            .ok_or_else(|| std::io::Error::other("the listener's address is unknown"))
    }
}

/// Connections for tonic's `serve_with_incoming_shutdown`.
impl futures::Stream for TlsListener {
    type Item = std::io::Result<TlsStream<TcpStream>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .ready
            .poll_recv(cx)
            .map(|next| next.map(|(connection, _)| Ok(connection)))
    }
}

/// Serves `router` on `listener` over HTTPS with `tls`, or over plain HTTP
/// without, until `shutdown` is cancelled; then stops accepting and lets
/// in-flight requests finish, waiting at most `drain_timeout` (as
/// [`vouch_http::serve::serve`] does).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<ServerTls>>,
    shutdown: CancellationToken,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let Some(tls) = tls else {
        return vouch_http::serve::serve(listener, router, shutdown, drain_timeout).await;
    };
    let listener = TlsListener::new(listener, tls, AcceptOptions::default());
    let graceful =
        axum::serve(listener, router).with_graceful_shutdown(shutdown.clone().cancelled_owned());
    vouch_http::serve::bounded(graceful.into_future(), shutdown, drain_timeout).await
}
