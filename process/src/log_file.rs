//! Logging to a file instead of stderr, with the filter [`crate::init_logging`] uses: for a process that runs
//! services whose every request logs a line (the bench), so that they still pay what they pay in production for
//! spans and events without flooding a terminal, and a reader can look at what they logged afterwards.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// The directives every service's `main` hands [`crate::init_logging`] when `RUST_LOG` is not set.
pub const SERVICE_DEFAULT_DIRECTIVES: &str = "info";

/// Where a process logs and at what level.
#[derive(Debug, Clone)]
pub struct LogFileSettings {
    /// Appended to (created if missing), so that several processes of one run can share it.
    pub path: PathBuf,
    /// JSON lines with the current span, as `init_logging` writes them when asked.
    pub json: bool,
    /// What is written to the file unless `RUST_LOG` says otherwise.
    pub default_directives: String,
    /// What is also written to stderr (a process's own progress lines), whatever `RUST_LOG` says.
    pub stderr_directives: Option<String>,
}

impl LogFileSettings {
    /// At the services' default level, nothing on stderr.
    pub fn services_default(path: PathBuf) -> LogFileSettings {
        LogFileSettings {
            path,
            json: false,
            default_directives: SERVICE_DEFAULT_DIRECTIVES.to_owned(),
            stderr_directives: None,
        }
    }
}

/// The directives in force: `RUST_LOG` when it is set and valid (as `init_logging` decides), else the default.
pub fn effective_directives(default_directives: &str) -> String {
    std::env::var(EnvFilter::DEFAULT_ENV)
        .ok()
        .filter(|directives| EnvFilter::try_new(directives).is_ok())
        .unwrap_or_else(|| default_directives.to_owned())
}

/// Installs the process's tracing subscriber writing to `settings.path`; returns the directives in force for
/// the file (the filter [`crate::log_level::reload_log_level`] swaps). Call once, from `main`; fails if the file
/// cannot be opened or a subscriber is already installed.
pub fn init_logging_to_file(settings: &LogFileSettings) -> io::Result<String> {
    let file = Arc::new(std::fs::OpenOptions::new().create(true).append(true).open(&settings.path)?);
    let directives = effective_directives(&settings.default_directives);
    let file_layer = if settings.json {
        fmt::layer().json().flatten_event(true).with_current_span(true).with_writer(file).boxed()
    } else {
        fmt::layer().with_ansi(false).with_writer(file).boxed()
    };
    let stderr_layer = settings.stderr_directives.as_ref().map(|directives| {
        fmt::layer()
            .with_ansi(crate::colour_on_stderr())
            .with_writer(io::stderr)
            .with_filter(EnvFilter::new(directives))
    });
    let file_filter = crate::log_level::swappable(EnvFilter::new(&directives), &settings.default_directives);
    tracing_subscriber::registry()
        .with(file_layer.with_filter(file_filter))
        .with(stderr_layer)
        .try_init()
        .map_err(io::Error::other)?;
    Ok(directives)
}
