//! The log level in force and its reload: the filter every numbind subscriber installs is swappable, and on
//! SIGHUP a process re-reads the level its configuration names (the `log_level` key, `--log-level`,
//! `NUMBIND_LOG_LEVEL`) and swaps it in. `RUST_LOG`, when set, wins at start and on every reload.

use std::sync::{Mutex, OnceLock};
use tracing_subscriber::{reload, EnvFilter, Registry};

/// How a process re-reads the level its configuration names: `Ok(None)` when it names none (the default then).
pub type LogLevelSource = Box<dyn Fn() -> Result<Option<String>, String> + Send + Sync>;

/// The installed filter's handle and what a reload falls back to.
struct SwappableFilter {
    handle: reload::Handle<EnvFilter, Registry>,
    default_directives: String,
}

static FILTER: OnceLock<SwappableFilter> = OnceLock::new();
static SOURCE: Mutex<Option<LogLevelSource>> = Mutex::new(None);

/// Why the log level was not reloaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogLevelError {
    #[error("this process installed no reloadable log filter")]
    NotReloadable,
    #[error("the configuration cannot be re-read: {0}")]
    Configuration(String),
    #[error("`{directives}` is not a log level: {message}")]
    BadDirectives { directives: String, message: String },
    #[error("the log filter could not be swapped: {0}")]
    Swap(String),
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogLevelReload {
    /// The filter now is these directives.
    Reloaded { directives: String },
    /// `RUST_LOG` is set and stays in force.
    RustLogWins { rust_log: String },
}

/// Checks a `log_level` value (the flag's value parser): `RUST_LOG` directives such as `debug` or
/// `info,numbind_platform=debug`.
pub fn parse_directives(text: &str) -> Result<String, String> {
    EnvFilter::try_new(text).map(|_| text.to_owned()).map_err(|error| error.to_string())
}

/// The filter to start with: `RUST_LOG` when it is set and valid, else `directives`.
pub(crate) fn initial_filter(directives: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directives))
}

/// Wraps `filter` so that [`reload_log_level`] can swap it; `default_directives` is what a reload falls back to
/// when the configuration names no level. Only the first subscriber installed in a process is remembered.
pub(crate) fn swappable(filter: EnvFilter, default_directives: &str) -> reload::Layer<EnvFilter, Registry> {
    let (layer, handle) = reload::Layer::new(filter);
    let _ = FILTER.set(SwappableFilter { handle, default_directives: default_directives.to_owned() });
    layer
}

/// Registers how this process re-reads its configured level (its `main` re-parses its configuration).
pub fn set_log_level_source(source: LogLevelSource) {
    if let Ok(mut slot) = SOURCE.lock() {
        *slot = Some(source);
    }
}

/// Re-reads the configured level and swaps it in. Without a registered source, the level is the default.
pub fn reload_log_level() -> Result<LogLevelReload, LogLevelError> {
    let filter = FILTER.get().ok_or(LogLevelError::NotReloadable)?;
    let configured = match SOURCE.lock().ok().as_deref().and_then(Option::as_ref) {
        Some(source) => source().map_err(LogLevelError::Configuration)?,
        None => None,
    };
    let directives = configured.unwrap_or_else(|| filter.default_directives.clone());
    let new_filter = EnvFilter::try_new(&directives)
        .map_err(|error| LogLevelError::BadDirectives { directives: directives.clone(), message: error.to_string() })?;
    if let Some(rust_log) = rust_log_in_force() {
        return Ok(LogLevelReload::RustLogWins { rust_log });
    }
    filter.handle.reload(new_filter).map_err(|error| LogLevelError::Swap(error.to_string()))?;
    Ok(LogLevelReload::Reloaded { directives })
}

/// Reloads the level and logs what happened (for a SIGHUP handler).
pub fn reload_log_level_and_log() {
    match reload_log_level() {
        Ok(LogLevelReload::Reloaded { directives }) => tracing::info!(%directives, "SIGHUP: log level reloaded"),
        Ok(LogLevelReload::RustLogWins { rust_log }) => {
            tracing::info!(%rust_log, "SIGHUP: RUST_LOG is set and stays in force over the configured log level")
        }
        Err(LogLevelError::NotReloadable) => {}
        Err(error) => tracing::warn!(%error, "SIGHUP: the log level in force stays"),
    }
}

fn rust_log_in_force() -> Option<String> {
    std::env::var(EnvFilter::DEFAULT_ENV).ok().filter(|directives| EnvFilter::try_new(directives).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_checked_as_rust_log_would_read_them() {
        assert_eq!(parse_directives("debug"), Ok("debug".to_owned()));
        assert!(parse_directives("info,numbind_platform=debug").is_ok());
        assert!(parse_directives("info,numbind_platform=loud").is_err());
    }
}
