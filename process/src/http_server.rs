//! The HTTP/1.1 server loop of every numbind HTTP service: accepts connections (over TLS when it is given a
//! certificate), serves each with hyper's HTTP/1 connection, shuts down gracefully.
//!
//! Not `axum::serve`: its connection builder first reads 24 bytes to tell HTTP/2 from HTTP/1, and handing those to
//! hyper as a partial head makes hyper grow every connection's read buffer from 8 KB to 16 KB (the platform
//! speaks only HTTP/1.1, and a waiting box holds its connection for the whole long-poll).

use crate::tls::ServerTls;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service;

/// How long accepting pauses after an error that is not the peer's (such as too many open files).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// How long a client has to finish its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` is cancelled, then waits for open connections to finish their
/// current request (long-polls answer at once on the same signal). With `tls`, every connection is TLS, and a
/// renewed certificate is picked up without a restart.
pub async fn serve(listener: TcpListener, app: Router, shutdown: CancellationToken, tls: Option<ServerTls>) {
    let connections = TaskTracker::new();
    if let Some(tls) = &tls {
        connections.spawn(tls.clone().keep_reloading(crate::tls::CERTIFICATE_RELOAD_INTERVAL, shutdown.clone()));
    }
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        match accepted {
            Ok((stream, _)) => match &tls {
                None => {
                    connections.spawn(serve_connection(stream, app.clone(), shutdown.clone()));
                }
                Some(tls) => {
                    connections.spawn(serve_tls_connection(stream, tls.acceptor(), app.clone(), shutdown.clone()));
                }
            },
            Err(error) if is_peer_error(&error) => {}
            Err(error) => {
                tracing::error!(error = %error, "cannot accept a connection");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
            }
        }
    }
    connections.close();
    connections.wait().await;
}

/// The handshake, then the connection; a client that fails or stalls the handshake is dropped (and logged at
/// debug: a port scanner or a client that does not trust the certificate is not the server's error).
async fn serve_tls_connection(
    stream: TcpStream,
    acceptor: tokio_rustls::TlsAcceptor,
    app: Router,
    shutdown: CancellationToken,
) {
    let handshake = tokio::select! {
        handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => handshake,
        () = shutdown.cancelled() => return,
    };
    match handshake {
        Ok(Ok(stream)) => serve_connection(stream, app, shutdown).await,
        Ok(Err(error)) => tracing::debug!(error = %error, "tls handshake failed"),
        Err(_) => tracing::debug!("tls handshake timed out"),
    }
}

/// One connection: requests in sequence (keep-alive), each answered by a clone of the router: one `Arc` clone
/// (`axum::serve` given the `Router` itself rebuilt every layered route per connection, ~60 KB each).
async fn serve_connection<Stream>(stream: Stream, app: Router, shutdown: CancellationToken)
where
    Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request: hyper::Request<Incoming>| app.clone().call(request));
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let served = tokio::select! {
        served = connection.as_mut() => served,
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = served {
        tracing::debug!(error = %error, "connection ended with an error");
    }
}

/// Errors about one peer's connection, after which accepting goes on at once.
fn is_peer_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use std::sync::Arc;
    use tokio::sync::Notify;

    #[tokio::test]
    async fn at_shutdown_a_request_in_flight_is_answered_and_serving_ends() {
        let shutdown = CancellationToken::new();
        let entered = Arc::new(Notify::new());
        let (handler_shutdown, handler_entered) = (shutdown.clone(), entered.clone());
        let app = Router::new().route(
            "/wait",
            get(move || async move {
                handler_entered.notify_one();
                handler_shutdown.cancelled().await;
                "answered"
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(serve(listener, app, shutdown.clone(), None));
        let request = tokio::spawn(reqwest::get(format!("http://{address}/wait")));
        entered.notified().await;
        shutdown.cancel();
        let response = request.await.unwrap().unwrap();
        assert_eq!(response.text().await.unwrap(), "answered");
        server.await.unwrap();
        assert!(TcpStream::connect(address).await.is_err(), "the listener is closed");
    }
}
