//! The HTTP/1.1 accept loop. `axum::serve` sets no timeout on reading a request head, so a
//! client that connects and sends nothing, or half a head, holds a descriptor for ever; here
//! each connection must deliver a whole head within [`Serving::header_timeout`], counted from
//! the moment the server waits for it. That one timer bounds both a slow head and an idle
//! keep-alive connection (between requests the server is waiting for the next head).
//! Upgraded connections (WebSockets) leave hyper and are bounded by the gateway's own
//! heartbeat.

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

/// How connections are served.
#[derive(Clone, Copy, Debug)]
pub struct Serving {
    /// How long a connection may take to send a request head, or stay idle between requests.
    pub header_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets
/// in-flight requests finish and closes idle connections. Handlers can read the peer address
/// (`ConnectInfo<SocketAddr>`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    serving: Serving,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(serving.header_timeout);
    // Every connection holds a receiver: `stop` tells them to finish, and `closed` resolves
    // once the last one has.
    let (stop, stopped) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    back_off(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small frames and JSON answers go out at once (no Nagle delay).
        let _ = tcp.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut request: http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = builder
            .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service))
            .with_upgrades();
        let mut stopping = stopped.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            tokio::select! {
                // A closed connection or a client's protocol error: nothing to do.
                _ = connection.as_mut() => {}
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    drop(stopped);
    let _ = stop.send(());
    stop.closed().await;
    Ok(())
}

/// After a failed accept: a connection that died before it was accepted is no news; anything
/// else (out of descriptors) is logged and waited out, not spun on.
async fn back_off(error: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(250)).await;
}
