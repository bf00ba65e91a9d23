//! How the measured services log during a run: at their default level to a log file in the run's output
//! directory, as in production but off the terminal. The report says which, next to the figures.

use serde::Serialize;
use std::path::{Path, PathBuf};

/// The log file of a run, next to `bench-report.json`.
pub const SERVICE_LOG_FILE: &str = "bench-services.log";

/// Tells `numbind-bench-server` (scenario 3) which file to log to, as the services in the bench's own process do.
pub const SERVICE_LOG_FILE_VARIABLE: &str = "NUMBIND_BENCH_LOG_FILE";

/// The logging the services ran with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceLogging {
    /// The `EnvFilter` directives in force (`RUST_LOG`, else the services' default).
    pub directives: String,
    /// Where the lines went.
    pub file: PathBuf,
    /// JSON lines rather than text.
    pub json: bool,
}

impl ServiceLogging {
    /// `services at info, to /path/bench-services.log`.
    pub fn describe(&self) -> String {
        let format = if self.json { " as JSON lines" } else { "" };
        format!("services at {}, to {}{format}", self.directives, self.file.display())
    }

    /// Installs the process's subscriber: the services' lines to `bench-services.log` in `output_directory`
    /// (emptied first), the bench's own progress lines on stderr too unless a progress bar says it there
    /// (`bar_on_stderr`: lines written under a bar would tear it).
    pub fn install(output_directory: &Path, json: bool, bar_on_stderr: bool) -> anyhow::Result<ServiceLogging> {
        std::fs::create_dir_all(output_directory)?;
        let file = std::path::absolute(output_directory.join(SERVICE_LOG_FILE))?;
        std::fs::write(&file, b"")?;
        let mut settings = numbind_process::log_file::LogFileSettings::services_default(file.clone());
        settings.json = json;
        settings.stderr_directives = (!bar_on_stderr).then(|| "numbind_bench=info".to_owned());
        let directives = numbind_process::log_file::init_logging_to_file(&settings)?;
        Ok(ServiceLogging { directives, file, json })
    }

    /// In a child server process: logs to the file the bench named in [`SERVICE_LOG_FILE_VARIABLE`], if any.
    pub fn install_in_child(json: bool) -> anyhow::Result<()> {
        if let Some(file) = std::env::var_os(SERVICE_LOG_FILE_VARIABLE) {
            let mut settings = numbind_process::log_file::LogFileSettings::services_default(file.into());
            settings.json = json;
            numbind_process::log_file::init_logging_to_file(&settings)?;
        }
        Ok(())
    }
}

/// What the report says when the bench ran as a library and installed nothing (tests).
pub const NOT_INSTALLED: &str = "not installed by the bench (whatever subscriber the caller installed)";

/// The report's `logging` line for `logging`.
pub fn describe(logging: Option<&ServiceLogging>) -> String {
    logging.map(ServiceLogging::describe).unwrap_or_else(|| NOT_INSTALLED.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_names_the_level_and_the_file() {
        let logging = ServiceLogging { directives: "info".into(), file: "/run/bench-services.log".into(), json: false };
        assert_eq!(describe(Some(&logging)), "services at info, to /run/bench-services.log");
        assert_eq!(describe(None), NOT_INSTALLED);
    }
}
