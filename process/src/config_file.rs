//! The TOML configuration file every service reads (`--config /etc/numbind/platform.toml`): each key is one of the
//! command's flags (`data_dir` for `--data-dir`), so flags, environment variables, file keys and the reference in
//! `docs/CONFIGURATION.md` come from one definition, the command's clap arguments.
//!
//! A key's value becomes that flag's default, so the precedence is flag > environment variable > file > built-in
//! default. The file is refused, naming the path and the key, when it is not TOML, names a key no flag has, holds a
//! secret inline (secrets stay in files named by `*_file` keys), or gives a value the flag's parser refuses.

use clap::builder::Resettable;
use clap::{ArgAction, Command};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Largest configuration file read: a path such as `/dev/zero` must not exhaust memory.
const MAX_CONFIG_FILE_BYTES: u64 = 1024 * 1024;

/// Why a configuration file is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigFileError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the configuration file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("the configuration file {path} has an unknown key `{key}`")]
    UnknownKey { path: PathBuf, key: String },
    #[error(
        "the configuration file {path} holds a secret inline in `{key}`: put the secret in a file readable only \
         by the service's user and name that file with `{key}_file`"
    )]
    InlineSecret { path: PathBuf, key: String },
    #[error("the configuration file {path} has a bad value for `{key}`: {message}")]
    BadValue { path: PathBuf, key: String, message: String },
}

/// Where the configuration of a command is read from: its `--config` flag and environment variable, and the
/// subcommand (if any) whose flags the file's top-level keys set.
#[derive(Debug, Clone, Copy)]
pub struct ConfigFileSource<'a> {
    /// The environment variable naming the file when `--config` is not given.
    pub environment_variable: &'a str,
    /// The subcommand the top-level keys configure (`serve`), `None` for the root command's own flags.
    pub subcommand: Option<&'a str>,
    /// Top-level keys the service reads from the same file itself (the SMS centre's `accounts`), passed over.
    pub own_keys: &'a [&'a str],
}

/// The configuration file named by `--config FILE`, `--config=FILE` or the source's environment variable.
pub fn config_file_path(arguments: &[OsString], source: &ConfigFileSource<'_>) -> Option<PathBuf> {
    let mut arguments = arguments.iter().skip(1);
    while let Some(argument) = arguments.next() {
        if argument == "--" {
            break;
        }
        if argument == "--config" {
            return arguments.next().map(PathBuf::from);
        }
        if let Some(value) = argument.to_str().and_then(|text| text.strip_prefix("--config=")) {
            return Some(PathBuf::from(value));
        }
    }
    std::env::var_os(source.environment_variable).filter(|value| !value.is_empty()).map(PathBuf::from)
}

/// Reads the file at `path` and makes each key the default of its flag in `command`.
pub fn apply_config_file(
    command: Command,
    path: &Path,
    source: &ConfigFileSource<'_>,
) -> Result<Command, ConfigFileError> {
    let table = read_table(path)?;
    let mut command = command;
    for (key, value) in table {
        if source.own_keys.contains(&key.as_str()) {
            continue;
        }
        if let toml::Value::Table(section) = &value {
            if command.find_subcommand(&key).is_some() {
                let subcommand = command.find_subcommand(&key).cloned().unwrap_or_else(|| Command::new(key.clone()));
                let updated = apply_section(subcommand, path, section)?;
                command = command.mut_subcommand(&key, move |_| updated);
                continue;
            }
        }
        let single: toml::Table = std::iter::once((key, value)).collect();
        command = match source.subcommand {
            Some(name) if subcommand_has_key(&command, name, &single) => {
                let subcommand =
                    command.find_subcommand(name).cloned().unwrap_or_else(|| Command::new(name.to_owned()));
                let updated = apply_section(subcommand, path, &single)?;
                command.mut_subcommand(name, move |_| updated)
            }
            _ => apply_section(command, path, &single)?,
        };
    }
    Ok(command)
}

fn subcommand_has_key(command: &Command, name: &str, single: &toml::Table) -> bool {
    let Some(subcommand) = command.find_subcommand(name) else { return false };
    single.keys().all(|key| file_argument(subcommand, key).is_some())
}

fn read_table(path: &Path) -> Result<toml::Table, ConfigFileError> {
    use std::io::Read;
    let read_error = |source| ConfigFileError::Read { path: path.to_owned(), source };
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(read_error)?
        .take(MAX_CONFIG_FILE_BYTES)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    text.parse::<toml::Table>().map_err(|error| ConfigFileError::Syntax {
        path: path.to_owned(),
        message: error.to_string().trim().replace('\n', " "),
    })
}

/// Whether a key would hold a secret itself rather than name the file holding it.
fn holds_secret_inline(key: &str) -> bool {
    let secret_word =
        ["secret", "password", "token", "private_key", "signing_key"].iter().any(|word| key.contains(word));
    secret_word && !key.ends_with("_file") && !key.ends_with("_env")
}

/// The argument of `command` that file key `key` sets, if any: named by its long flag with `_` for `-`, taking a
/// value or a boolean, never `--config`, `--help` or `--version`.
pub(crate) fn file_argument<'c>(command: &'c Command, key: &str) -> Option<&'c clap::Arg> {
    let long = key.replace('_', "-");
    command.get_arguments().find(|argument| argument.get_long() == Some(long.as_str()) && is_file_settable(argument))
}

pub(crate) fn is_file_settable(argument: &clap::Arg) -> bool {
    let settable_action =
        matches!(argument.get_action(), ArgAction::Set | ArgAction::Append | ArgAction::SetTrue | ArgAction::SetFalse);
    settable_action && argument.get_long().is_some_and(|long| long != "config")
}

fn apply_section(command: Command, path: &Path, section: &toml::Table) -> Result<Command, ConfigFileError> {
    let mut command = command;
    for (key, value) in section {
        let Some(argument) = file_argument(&command, key) else {
            if holds_secret_inline(key) {
                return Err(ConfigFileError::InlineSecret { path: path.to_owned(), key: key.clone() });
            }
            return Err(ConfigFileError::UnknownKey { path: path.to_owned(), key: key.clone() });
        };
        let bad_value =
            |message: String| ConfigFileError::BadValue { path: path.to_owned(), key: key.clone(), message };
        let texts = value_texts(value).map_err(bad_value)?;
        let takes_many = matches!(argument.get_action(), ArgAction::Append);
        if texts.len() != 1 && !takes_many {
            return Err(bad_value("expected one value, not a list".to_owned()));
        }
        for text in &texts {
            check_value(argument, text).map_err(bad_value)?;
        }
        let id = argument.get_id().clone();
        command = command.mut_arg(id, |argument| argument.required(false).default_values(texts));
    }
    Ok(command)
}

/// Runs the flag's own value parser on `text`, alone: a copy of the argument without its links to others.
fn check_value(argument: &clap::Arg, text: &str) -> Result<(), String> {
    if matches!(argument.get_action(), ArgAction::SetTrue | ArgAction::SetFalse) {
        return match text {
            "true" | "false" => Ok(()),
            _ => Err(format!("{text:?}: expected true or false")),
        };
    }
    let long = argument.get_long().unwrap_or_default();
    let alone = argument
        .clone()
        .required(false)
        .requires(Resettable::<clap::Id>::Reset)
        .conflicts_with(Resettable::<clap::Id>::Reset)
        .overrides_with(Resettable::<clap::Id>::Reset)
        .group(Resettable::<clap::Id>::Reset)
        .required_unless_present(Resettable::<clap::Id>::Reset)
        .default_values(Vec::<String>::new())
        .env(Resettable::<clap::builder::OsStr>::Reset);
    let check = Command::new("check").no_binary_name(true).arg(alone);
    match check.try_get_matches_from([format!("--{long}={text}")]) {
        Ok(_) => Ok(()),
        Err(error) => Err(clap_error_reason(&error, text)),
    }
}

/// The reason of a value parser's refusal, without clap's `error:` prefix and `--help` advice.
fn clap_error_reason(error: &clap::Error, text: &str) -> String {
    use clap::error::{ContextKind, ContextValue};
    match error.get(ContextKind::Custom).or_else(|| error.get(ContextKind::ValidValue)) {
        Some(ContextValue::String(reason)) => format!("{text:?}: {reason}"),
        Some(ContextValue::Strings(valid)) => format!("{text:?}: expected one of {}", valid.join(", ")),
        _ => {
            let rendered = error.to_string();
            let first_line = rendered.lines().next().unwrap_or_default();
            first_line.trim_start_matches("error: ").to_owned()
        }
    }
}

fn value_texts(value: &toml::Value) -> Result<Vec<String>, String> {
    match value {
        toml::Value::String(text) => Ok(vec![text.clone()]),
        toml::Value::Integer(number) => Ok(vec![number.to_string()]),
        toml::Value::Float(number) => Ok(vec![number.to_string()]),
        toml::Value::Boolean(flag) => Ok(vec![flag.to_string()]),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| match item {
                toml::Value::Array(_) | toml::Value::Table(_) => Err("a list may hold only plain values".to_owned()),
                other => value_texts(other).map(|mut texts| texts.remove(0)),
            })
            .collect(),
        toml::Value::Datetime(_) | toml::Value::Table(_) => {
            Err("expected a string, a number, a boolean or a list of them".to_owned())
        }
    }
}

/// Parses the process's command line into `Parsed`, with the configuration file (if one is named) as the flags'
/// defaults. Exits as clap does on `--help` or a bad flag, and with status 2 and a message naming the file and the
/// key on a refused file. Returns the file read, for the process to log once logging is set up.
pub fn parse_with_config_file<Parsed: clap::Parser>(source: &ConfigFileSource<'_>) -> (Parsed, Option<PathBuf>) {
    let arguments: Vec<OsString> = std::env::args_os().collect();
    let path = config_file_path(&arguments, source);
    let mut command = Parsed::command();
    if let Some(path) = &path {
        command = match apply_config_file(command, path, source) {
            Ok(command) => command,
            Err(error) => {
                eprintln!("Error: {error}");
                std::process::exit(2);
            }
        };
    }
    let matches = command.try_get_matches_from_mut(arguments).unwrap_or_else(|error| error.exit());
    let parsed = Parsed::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    (parsed, path)
}

/// [`parse_with_config_file`] again, for a reload: the same arguments and environment, the file as it is now; a
/// refusal is returned (in words) instead of ending the process.
pub fn reparse_with_config_file<Parsed: clap::Parser>(source: &ConfigFileSource<'_>) -> Result<Parsed, String> {
    let arguments: Vec<OsString> = std::env::args_os().collect();
    let mut command = Parsed::command();
    if let Some(path) = config_file_path(&arguments, source) {
        command = apply_config_file(command, &path, source).map_err(|error| error.to_string())?;
    }
    let matches = command.try_get_matches_from_mut(arguments).map_err(|error| error.to_string())?;
    Parsed::from_arg_matches(&matches).map_err(|error| error.to_string())
}

/// Makes the command's configuration, re-read on SIGHUP, the source of the log level
/// ([`crate::log_level::reload_log_level`]); `log_level` picks the level from the parsed arguments.
pub fn reload_log_level_from<Parsed: clap::Parser + 'static>(
    source: ConfigFileSource<'static>,
    log_level: fn(&Parsed) -> Option<String>,
) {
    let reread = move || reparse_with_config_file::<Parsed>(&source).map(|parsed| log_level(&parsed));
    crate::log_level::set_log_level_source(Box::new(reread));
}

/// Logs where the configuration came from; call once logging is set up.
pub fn log_config_source(path: Option<&Path>) {
    match path {
        Some(path) => {
            tracing::info!(config_file = %path.display(), "configuration read from file, then environment and flags")
        }
        None => tracing::info!("no configuration file: configuration from environment, flags and defaults"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::FromArgMatches;

    #[derive(Debug, clap::Parser)]
    struct Example {
        #[arg(long, env = "NUMBIND_CONFIG_FILE_TEST_PORT", default_value_t = 1)]
        port: u16,
        #[arg(long, default_value = "built-in")]
        name: String,
        #[arg(long)]
        verbose_replies: bool,
    }

    const SOURCE: ConfigFileSource<'static> =
        ConfigFileSource { environment_variable: "NUMBIND_CONFIG_FILE_TEST", subcommand: None, own_keys: &[] };

    fn parse(file: &str, arguments: &[&str]) -> Result<Example, String> {
        let directory = tempfile::tempdir().map_err(|error| error.to_string())?;
        let path = directory.path().join("example.toml");
        std::fs::write(&path, file).map_err(|error| error.to_string())?;
        let command = apply_config_file(<Example as clap::CommandFactory>::command(), &path, &SOURCE)
            .map_err(|error| error.to_string())?;
        let matches = command
            .try_get_matches_from(std::iter::once("example").chain(arguments.iter().copied()))
            .map_err(|error| error.to_string())?;
        Example::from_arg_matches(&matches).map_err(|error| error.to_string())
    }

    #[test]
    fn a_flag_beats_the_environment_which_beats_the_file_which_beats_the_default() {
        let parsed = parse("", &[]).unwrap();
        assert_eq!((parsed.port, parsed.name.as_str(), parsed.verbose_replies), (1, "built-in", false));
        let parsed = parse("port = 2\nname = \"from-file\"\nverbose_replies = true\n", &[]).unwrap();
        assert_eq!((parsed.port, parsed.name.as_str(), parsed.verbose_replies), (2, "from-file", true));
        std::env::set_var("NUMBIND_CONFIG_FILE_TEST_PORT", "3");
        let from_environment = parse("port = 2\n", &[]).unwrap().port;
        let from_flag = parse("port = 2\n", &["--port", "4"]).unwrap().port;
        std::env::remove_var("NUMBIND_CONFIG_FILE_TEST_PORT");
        assert_eq!((from_environment, from_flag), (3, 4));
    }

    #[test]
    fn refusals_name_the_key_and_never_echo_a_secret() {
        let error = parse("prot = 2\n", &[]).unwrap_err();
        assert!(error.contains("unknown key `prot`"), "{error}");
        let error = parse("port = 70000\n", &[]).unwrap_err();
        assert!(error.contains("bad value for `port`") && error.contains("70000"), "{error}");
        let error = parse("port = [1, 2]\n", &[]).unwrap_err();
        assert!(error.contains("bad value for `port`"), "{error}");
        let error = parse("api_password = \"hunter2\"\n", &[]).unwrap_err();
        assert!(error.contains("secret inline in `api_password`") && !error.contains("hunter2"), "{error}");
        let error = parse("port = \n", &[]).unwrap_err();
        assert!(error.contains("not valid TOML"), "{error}");
    }

    #[test]
    fn the_config_path_comes_from_the_flag_then_the_environment() {
        let arguments: Vec<OsString> = ["x", "serve", "--config=/a.toml"].iter().map(OsString::from).collect();
        assert_eq!(config_file_path(&arguments, &SOURCE), Some(PathBuf::from("/a.toml")));
        let arguments: Vec<OsString> = ["x", "--config", "/b.toml"].iter().map(OsString::from).collect();
        assert_eq!(config_file_path(&arguments, &SOURCE), Some(PathBuf::from("/b.toml")));
    }
}
