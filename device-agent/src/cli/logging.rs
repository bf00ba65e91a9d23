//! Where the agent's logs go. The terminal is the box's screen: by default no log reaches it; `-v`, `RUST_LOG`
//! or `--log-file` ask for them.

use super::Args;
use anyhow::Context;
use numbind_process::log_file::{init_logging_to_file, LogFileSettings};

/// The log level of `-v` (and of `--log-file`), and of `-vv`.
const VERBOSE_DIRECTIVES: &str = "info";
const VERY_VERBOSE_DIRECTIVES: &str = "debug,hyper=info,hyper_util=info,reqwest=info,rustls=info";

/// Where logs go, as the flags and the environment ask.
#[derive(Debug, PartialEq, Eq)]
enum LogDestination {
    /// Nowhere: the screen alone.
    Nowhere,
    /// Stderr, with these directives unless `RUST_LOG` is set.
    Stderr(String),
    /// Appended to this file.
    File(std::path::PathBuf),
}

fn destination(args: &Args, rust_log_is_set: bool) -> LogDestination {
    match (&args.log_file, &args.log_level, args.verbose) {
        (Some(path), _, _) => LogDestination::File(path.clone()),
        (None, Some(level), _) => LogDestination::Stderr(level.clone()),
        (None, None, 0) if !rust_log_is_set => LogDestination::Nowhere,
        (None, None, 0 | 1) => LogDestination::Stderr(VERBOSE_DIRECTIVES.to_owned()),
        (None, None, _) => LogDestination::Stderr(VERY_VERBOSE_DIRECTIVES.to_owned()),
    }
}

/// Installs the agent's tracing subscriber as its flags ask (`json` for JSON lines). Call once, from `main`.
pub fn init_logging(args: &Args, json: bool) -> anyhow::Result<()> {
    let rust_log_is_set = std::env::var_os("RUST_LOG").is_some_and(|value| !value.is_empty());
    match destination(args, rust_log_is_set) {
        LogDestination::Nowhere => {}
        LogDestination::Stderr(directives) => numbind_process::init_logging(json, &directives),
        LogDestination::File(path) => {
            let settings = LogFileSettings {
                json,
                default_directives: args.log_level.clone().unwrap_or_else(|| VERBOSE_DIRECTIVES.to_owned()),
                ..LogFileSettings::services_default(path.clone())
            };
            init_logging_to_file(&settings).with_context(|| format!("cannot open the log file {}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct TestCli {
        #[command(flatten)]
        args: Args,
    }

    fn args(flags: &[&str]) -> Args {
        let mut command_line = vec!["numbind-agent"];
        command_line.extend_from_slice(flags);
        command_line.push("status");
        TestCli::try_parse_from(command_line).unwrap().args
    }

    #[test]
    fn by_default_no_log_reaches_the_screen_and_each_flag_asks_for_them() {
        assert_eq!(destination(&args(&[]), false), LogDestination::Nowhere);
        let stderr = |directives: &str| LogDestination::Stderr(directives.to_owned());
        assert_eq!(destination(&args(&[]), true), stderr(VERBOSE_DIRECTIVES));
        assert_eq!(destination(&args(&["-v"]), false), stderr(VERBOSE_DIRECTIVES));
        assert_eq!(destination(&args(&["-vv"]), false), stderr(VERY_VERBOSE_DIRECTIVES));
        assert_eq!(destination(&args(&["--log-level", "warn"]), false), stderr("warn"));
        assert_eq!(
            destination(&args(&["--log-file", "agent.log", "-v"]), false),
            LogDestination::File("agent.log".into())
        );
    }
}
