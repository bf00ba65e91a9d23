//! The SMPP accept loop, plain or TLS: one session task per connection; on shutdown, sessions unbind (bounded
//! wait).

use super::session::ServerSession;
use crate::state::AppState;
use numbind_process::tls::ServerTls;
use numbind_smpp::Connection;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// How long an ESME has to finish its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) async fn serve_smpp(listener: TcpListener, state: Arc<AppState>, tls: Option<ServerTls>) {
    let mut sessions = JoinSet::new();
    if let Some(tls) = &tls {
        let reload =
            tls.clone().keep_reloading(numbind_process::tls::CERTIFICATE_RELOAD_INTERVAL, state.shutdown.clone());
        sessions.spawn(reload);
    }
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tracing::debug!(%peer, "smpp connection accepted");
                    match &tls {
                        None => sessions.spawn(ServerSession::new(state.clone(), Connection::new(stream)).run()),
                        Some(tls) => sessions.spawn(serve_tls_session(state.clone(), stream, tls.acceptor())),
                    };
                }
                Err(error) => {
                    tracing::warn!(%error, "smpp accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    let drain = async { while sessions.join_next().await.is_some() {} };
    if tokio::time::timeout(state.config.esme_response_timeout + Duration::from_secs(1), drain).await.is_err() {
        sessions.abort_all();
    }
}

/// The handshake (bounded), then the session; a failed handshake is the peer's problem, logged at debug.
async fn serve_tls_session(state: Arc<AppState>, stream: TcpStream, acceptor: numbind_process::tls::TlsAcceptor) {
    let handshake = tokio::select! {
        handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => handshake,
        () = state.shutdown.cancelled() => return,
    };
    match handshake {
        Ok(Ok(stream)) => ServerSession::new(state, Connection::over(stream)).run().await,
        Ok(Err(error)) => tracing::debug!(%error, "smpp tls handshake failed"),
        Err(_) => tracing::debug!("smpp tls handshake timed out"),
    }
}
