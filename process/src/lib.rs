//! How a numbind process starts and stops: where its logs go and what stops it. Every binary (the components'
//! own, the umbrella `numbind`, the benchmark) calls these, so they all log and stop the same way.

use tracing_subscriber::EnvFilter;

/// Installs the process's tracing subscriber: stderr, `RUST_LOG` wins over `default_directives`, JSON lines
/// (with the current span, so request IDs travel with each event) when `json` is set. Call once, from `main`.
pub fn init_logging(json: bool, default_directives: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_directives));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().flatten_event(true).with_current_span(true).init();
    } else {
        builder.init();
    }
}

/// Completes on SIGTERM or ctrl-c (SIGINT): the signal to stop gracefully. If a signal cannot be listened to,
/// only the other one stops the process.
pub async fn stop_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("stop signal received, shutting down");
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sigterm_completes_the_stop_signal() {
        let waiting = tokio::spawn(stop_signal());
        // Let the task install its handlers before the signal is sent.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let status = std::process::Command::new("kill").args(["-TERM", &std::process::id().to_string()]).status();
        assert!(status.map(|status| status.success()).unwrap_or(false));
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await.unwrap().unwrap();
    }
}
