//! The SMPP accept loop: one session task per connection; on shutdown, sessions unbind (bounded wait).

use super::session::ServerSession;
use crate::state::AppState;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub(crate) async fn serve_smpp(listener: TcpListener, state: Arc<AppState>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tracing::debug!(%peer, "smpp connection accepted");
                    sessions.spawn(ServerSession::new(state.clone(), stream).run());
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
