//! Running a router with a graceful, bounded shutdown.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `router` on `listener` until `shutdown` is cancelled, then stops
/// accepting connections and lets in-flight requests finish, waiting at most
/// `drain_timeout` for them.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
    drain_timeout: Duration,
) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        // Small request/response exchanges: Nagle only adds latency.
        let _ = tcp.set_nodelay(true);
    });
    let graceful =
        axum::serve(listener, router).with_graceful_shutdown(shutdown.clone().cancelled_owned());
    bounded(graceful.into_future(), shutdown, drain_timeout).await
}

/// Awaits `server` but gives up `drain_timeout` after `shutdown` fires.
pub async fn bounded<F>(
    server: F,
    shutdown: CancellationToken,
    drain_timeout: Duration,
) -> std::io::Result<()>
where
    F: Future<Output = std::io::Result<()>>,
{
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result,
        () = async {
            shutdown.cancelled().await;
            tokio::time::sleep(drain_timeout).await;
        } => {
            tracing::warn!(?drain_timeout, "in-flight requests did not finish in time; closing");
            Ok(())
        }
    }
}
