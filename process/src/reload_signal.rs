//! SIGHUP, the operator's "reload" (`systemctl reload`, the units' `ExecReload`): a process that listens for it
//! is not killed by it (the default action) and does what it can reload; [`log_reload_requests`] is for a service
//! whose only reload is its log level ([`crate::log_level`]) and says what else it re-reads on its own.

/// The stream of SIGHUPs, listened to from the call on. Call inside a tokio runtime.
pub struct ReloadSignal {
    #[cfg(unix)]
    hangup: Option<tokio::signal::unix::Signal>,
}

impl ReloadSignal {
    /// Installs the handler now, so a SIGHUP sent after this call is never the default action's kill.
    pub fn install() -> ReloadSignal {
        #[cfg(unix)]
        {
            let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            ReloadSignal { hangup }
        }
        #[cfg(not(unix))]
        ReloadSignal {}
    }

    /// Completes on the next SIGHUP (never, where SIGHUP cannot be listened to).
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(hangup) = &mut self.hangup {
            if hangup.recv().await.is_some() {
                return;
            }
        }
        std::future::pending::<()>().await
    }
}

/// For a service: installs the SIGHUP handler now; on each SIGHUP reloads the log level from the configuration
/// and logs the SIGHUP with `what_reloads` (what else the service re-reads on its own, such as TLS certificate
/// files when they change), so a reload neither kills it nor passes unseen. Call inside a tokio runtime, before
/// announcing that it listens.
pub fn log_reload_requests(what_reloads: &'static str) {
    let mut signal = ReloadSignal::install();
    tokio::spawn(async move {
        loop {
            signal.recv().await;
            tracing::info!(reloads = what_reloads, "SIGHUP received");
            crate::log_level::reload_log_level_and_log();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sighup_completes_recv_and_does_not_kill_the_process() {
        let mut signal = ReloadSignal::install();
        let status = std::process::Command::new("kill").args(["-HUP", &std::process::id().to_string()]).status();
        assert!(status.map(|status| status.success()).unwrap_or(false));
        tokio::time::timeout(std::time::Duration::from_secs(5), signal.recv()).await.unwrap();
    }
}
