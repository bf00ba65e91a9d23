//! How a numbind process starts and stops: where its logs go and what stops it. Every binary (the components'
//! own, the umbrella `numbind`, the benchmark) calls these, so they all log and stop the same way. With its
//! features, also the HTTP server loop (`server`), TLS configurations (`tls`) and a local certificate authority
//! (`local-authority`), which every service shares. Every process keeps its
//! data directory, lock and secret files private the same way ([`data_dir`]).

pub mod backoff;
pub mod civil_date;
#[cfg(feature = "cli")]
pub mod cli;
pub mod clock;
#[cfg(feature = "tls")]
pub mod component_client;
#[cfg(feature = "config-file")]
pub mod config_file;
#[cfg(feature = "config-file")]
pub mod config_reference;
#[cfg(unix)]
pub mod data_dir;
#[cfg(feature = "server")]
pub mod http_api;
#[cfg(feature = "server")]
pub mod http_server;
#[cfg(feature = "local-authority")]
pub mod local_authority;
pub mod log_file;
pub mod log_level;
#[cfg(feature = "progress")]
pub mod progress;
#[cfg(unix)]
pub mod reload_signal;
#[cfg(feature = "tls")]
pub mod tls;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// An error and its sources, `outer: inner: innermost`, so that a log line or a message names the real cause (a
/// refused certificate, a refused connection) and not only the outermost wrapper.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Installs the process's tracing subscriber: stderr, `RUST_LOG` wins over `default_directives`, JSON lines
/// (with the current span, so request IDs travel with each event) when `json` is set. Colour only as
/// [`colour_on_stderr`] allows. Call once, from `main`. The filter is the one [`log_level::reload_log_level`] swaps.
pub fn init_logging(json: bool, default_directives: &str) {
    init_logging_at(json, None, default_directives);
}

/// [`init_logging`] at the level the configuration names (`log_level`), when it names one.
pub fn init_logging_at(json: bool, log_level: Option<&str>, default_directives: &str) {
    let filter = log_level::initial_filter(log_level.unwrap_or(default_directives));
    let plain =
        (!json).then(|| tracing_subscriber::fmt::layer().with_ansi(colour_on_stderr()).with_writer(std::io::stderr));
    let json_lines = json.then(|| {
        tracing_subscriber::fmt::layer().json().flatten_event(true).with_current_span(true).with_writer(std::io::stderr)
    });
    tracing_subscriber::registry()
        .with(log_level::swappable(filter, default_directives))
        .with(plain)
        .with(json_lines)
        .init();
}

/// Whether log lines on stderr carry colour escape codes: only when stderr is a terminal and `NO_COLOR` is not
/// set (<https://no-color.org>: present and not empty). A log redirected to a file or a pipe stays plain text.
pub fn colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    colour_allowed(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR").as_deref())
}

fn colour_allowed(stderr_is_terminal: bool, no_colour: Option<&std::ffi::OsStr>) -> bool {
    let colour_refused = no_colour.is_some_and(|value| !value.is_empty());
    stderr_is_terminal && !colour_refused
}

/// The allocator of every numbind server process, installed by each server's `main`:
/// `#[global_allocator] static ALLOCATOR: ServerAllocator = SERVER_ALLOCATOR;`
///
/// jemalloc, because a waiting long-poll holds hyper's two 8 KiB connection buffers, mostly unwritten: jemalloc
/// leaves the untouched pages of such a block unmapped, where glibc's malloc makes them resident. Measured in
/// scenario 3 of `numbind-bench` (`docs/PERFORMANCE.md`): a held request fell from 15.2 to 7.0 KB for bare hyper
/// and from 15.1 to 10.7 KB for the platform. The device agent keeps the system allocator (its size budget).
#[cfg(all(feature = "server-allocator", not(target_env = "msvc")))]
pub type ServerAllocator = tikv_jemallocator::Jemalloc;
/// See [`ServerAllocator`]: jemalloc does not build for MSVC, where the system allocator stays.
#[cfg(all(feature = "server-allocator", target_env = "msvc"))]
pub type ServerAllocator = std::alloc::System;
/// The value to install as `#[global_allocator]`.
#[cfg(all(feature = "server-allocator", not(target_env = "msvc")))]
pub const SERVER_ALLOCATOR: ServerAllocator = tikv_jemallocator::Jemalloc;
/// The value to install as `#[global_allocator]`.
#[cfg(all(feature = "server-allocator", target_env = "msvc"))]
pub const SERVER_ALLOCATOR: ServerAllocator = std::alloc::System;

/// Completes on SIGTERM or ctrl-c (SIGINT): the signal to stop gracefully. The handlers are installed when this
/// is called, not when the future is first polled, so a process calls it before it announces that it listens: a
/// signal sent right after that line then stops it gracefully instead of killing it with the default action. If
/// a signal cannot be listened to, only the other one stops the process. Call inside a tokio runtime.
pub fn stop_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    let signals = StopSignals::install();
    async move {
        signals.received().await;
        tracing::info!("stop signal received, shutting down");
    }
}

#[cfg(unix)]
struct StopSignals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl StopSignals {
    fn install() -> StopSignals {
        use tokio::signal::unix::{signal, SignalKind};
        StopSignals { interrupt: signal(SignalKind::interrupt()).ok(), terminate: signal(SignalKind::terminate()).ok() }
    }

    async fn received(mut self) {
        async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            () = next(&mut self.interrupt) => {}
            () = next(&mut self.terminate) => {}
        }
    }
}

#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
impl StopSignals {
    fn install() -> StopSignals {
        StopSignals
    }

    async fn received(self) {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_and_never_with_no_color() {
        use std::ffi::OsStr;
        assert!(colour_allowed(true, None));
        assert!(colour_allowed(true, Some(OsStr::new(""))), "an empty NO_COLOR does not count");
        assert!(!colour_allowed(true, Some(OsStr::new("1"))));
        assert!(!colour_allowed(false, None), "a file or a pipe gets no escape codes");
        assert!(!colour_allowed(false, Some(OsStr::new("1"))));
    }

    #[tokio::test]
    async fn sigterm_completes_the_stop_signal() {
        // The handlers are installed by the call: no pause is needed before the signal is sent.
        let waiting = tokio::spawn(stop_signal());
        let status = std::process::Command::new("kill").args(["-TERM", &std::process::id().to_string()]).status();
        assert!(status.map(|status| status.success()).unwrap_or(false));
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await.unwrap().unwrap();
    }
}
