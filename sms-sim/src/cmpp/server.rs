//! The CMPP accept loop: one ISMG session task per connection; on shutdown, sessions send TERMINATE (bounded
//! wait).

use super::session::IsmgSession;
use crate::state::AppState;
use numbind_cmpp::{Connection, Version};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

pub(crate) async fn serve_cmpp(listener: TcpListener, state: Arc<AppState>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tracing::debug!(%peer, "cmpp connection accepted");
                    // CONNECT has one layout in both versions; the session switches once it is answered.
                    sessions.spawn(IsmgSession::new(state.clone(), Connection::new(stream, Version::V3)).run());
                }
                Err(error) => {
                    tracing::warn!(%error, "cmpp accept failed");
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
