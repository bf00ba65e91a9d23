//! The SMS centre's `Config` (plain values, secrets loaded) and the TOML accounts file the CLI reads.
//!
//! Accounts file format (`--config`, `NUMBIND_SMSC_CONFIG`); the same file may set any flag of `serve` (`http`,
//! `smpp`, `data_dir`, ..., see `docs/CONFIGURATION.md`); other unknown keys are refused:
//! ```toml
//! redelivery_interval_ms = 2000        # optional
//! max_queue = 10000                    # optional, per account
//!
//! [[accounts]]
//! system_id = "oss"                    # SMPP system_id, at most 15 characters
//! password_file = "/etc/numbind/smsc-oss.password"   # or: password_env = "SMSC_OSS_PASSWORD"
//! routes = ["10658000"]                # MO to these short codes (longest prefix wins) go to this account
//! max_submits_per_second = 150         # optional; over it submit_sm gets ESME_RTHROTTLED
//! ```

use numbind_wire::ShortCode;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One ESME account.
#[derive(Clone)]
pub struct EsmeAccount {
    pub system_id: String,
    pub password: String,
    /// MO to these short codes go to this account.
    pub routes: Vec<ShortCode>,
    /// Over this many submit_sm per second the account gets ESME_RTHROTTLED (default 150).
    pub max_submits_per_second: u32,
}

impl EsmeAccount {
    pub fn new(system_id: impl Into<String>, password: impl Into<String>, routes: Vec<ShortCode>) -> Self {
        EsmeAccount { system_id: system_id.into(), password: password.into(), routes, max_submits_per_second: 150 }
    }
}

impl fmt::Debug for EsmeAccount {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("EsmeAccount")
            .field("system_id", &self.system_id)
            .field("routes", &self.routes)
            .field("max_submits_per_second", &self.max_submits_per_second)
            .finish_non_exhaustive()
    }
}

/// Everything `run` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_path: PathBuf,
    pub accounts: Vec<EsmeAccount>,
    /// First redelivery delay of a queued MO; doubles per attempt up to `max_redelivery_interval`.
    pub redelivery_interval: Duration,
    pub max_redelivery_interval: Duration,
    /// How long to wait for a deliver_sm_resp before the message counts as not delivered.
    pub deliver_response_timeout: Duration,
    /// Fault injection for tests: deliver every MO twice (same SMSC message ID).
    pub duplicate_mo_deliveries: bool,
    /// Most queued MO per account; over it the phone API answers 503 `queue_full`.
    pub max_queue: usize,
    /// An ESME idle this long gets an enquire_link.
    pub enquire_link_interval: Duration,
    /// How long to wait for an ESME's unbind_resp or enquire_link_resp before closing.
    pub esme_response_timeout: Duration,
    /// The certificate of the SMPP-over-TLS listener.
    pub tls: Option<numbind_process::tls::ServerCertificateFiles>,
}

impl Config {
    pub fn new(database_path: impl Into<PathBuf>, accounts: Vec<EsmeAccount>) -> Self {
        Config {
            database_path: database_path.into(),
            accounts,
            redelivery_interval: Duration::from_secs(2),
            max_redelivery_interval: Duration::from_secs(30),
            deliver_response_timeout: Duration::from_secs(10),
            duplicate_mo_deliveries: false,
            max_queue: 10_000,
            enquire_link_interval: Duration::from_secs(30),
            esme_response_timeout: Duration::from_secs(5),
            tls: None,
        }
    }
}

/// Why the accounts file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigFileError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a valid accounts file: {source}")]
    Syntax { path: PathBuf, source: toml::de::Error },
    #[error("account {system_id}: give exactly one of password_file and password_env")]
    PasswordSource { system_id: String },
    #[error("account {system_id}: environment variable {variable} is not set")]
    MissingEnv { system_id: String, variable: String },
    #[error("account {system_id}: password must be 1 to 8 characters of ascii")]
    InvalidPassword { system_id: String },
    #[error("account {system_id}: system_id must be 1 to 15 ascii characters, once")]
    InvalidSystemId { system_id: String },
    #[error(transparent)]
    PasswordFileNotPrivate(#[from] numbind_process::data_dir::DataDirError),
    #[error("account {system_id}: route {route:?} is not a short code")]
    InvalidRoute { system_id: String, route: String },
}

/// The parsed accounts file (see the module documentation).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub redelivery_interval_ms: Option<u64>,
    pub max_queue: Option<usize>,
    #[serde(default)]
    pub accounts: Vec<AccountEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountEntry {
    pub system_id: String,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    #[serde(default)]
    pub routes: Vec<String>,
    pub max_submits_per_second: Option<u32>,
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigFileError> {
        ConfigFile::load_beside_flags(path, &[])
    }

    /// Reads the file, passing over `flag_keys` (the `serve` flags the same file sets, read by
    /// `numbind_process::config_file`); any other unknown key is refused.
    pub fn load_beside_flags(path: &Path, flag_keys: &[String]) -> Result<ConfigFile, ConfigFileError> {
        let text = read_bounded(path, MAX_CONFIG_FILE_BYTES)?;
        let syntax = |source| ConfigFileError::Syntax { path: path.to_owned(), source };
        let mut table: toml::Table = toml::from_str(&text).map_err(syntax)?;
        let own_keys = ["accounts", "max_queue", "redelivery_interval_ms"];
        table.retain(|key: &str, _| own_keys.contains(&key) || !flag_keys.iter().any(|flag_key| flag_key == key));
        toml::Value::Table(table).try_into().map_err(syntax)
    }

    /// Reads every account's password from its file or environment variable and checks the fields.
    pub fn accounts(&self) -> Result<Vec<EsmeAccount>, ConfigFileError> {
        let mut accounts: Vec<EsmeAccount> = Vec::new();
        for entry in &self.accounts {
            let system_id = entry.system_id.clone();
            let valid_id = (1..=15).contains(&system_id.len()) && system_id.is_ascii() && !system_id.contains('\0');
            if !valid_id || accounts.iter().any(|account| account.system_id == system_id) {
                return Err(ConfigFileError::InvalidSystemId { system_id });
            }
            let password = entry.password()?;
            let mut routes = Vec::new();
            for route in &entry.routes {
                let short_code = ShortCode::parse(route).map_err(|_| ConfigFileError::InvalidRoute {
                    system_id: system_id.clone(),
                    route: route.clone(),
                })?;
                routes.push(short_code);
            }
            let mut account = EsmeAccount::new(system_id, password, routes);
            if let Some(rate) = entry.max_submits_per_second {
                account.max_submits_per_second = rate;
            }
            accounts.push(account);
        }
        Ok(accounts)
    }
}

/// Largest accounts file read; a path such as `/dev/zero` must not exhaust memory.
const MAX_CONFIG_FILE_BYTES: u64 = 1024 * 1024;
/// Largest password file read (a password is at most 8 characters; white space around it is dropped).
const MAX_PASSWORD_FILE_BYTES: u64 = 4096;

/// Reads at most `limit` bytes of a text file; a longer file reads truncated and then fails its own checks.
fn read_bounded(path: &Path, limit: u64) -> Result<String, ConfigFileError> {
    use std::io::Read;
    let read_error = |source| ConfigFileError::Read { path: path.to_owned(), source };
    let mut text = String::new();
    std::fs::File::open(path).map_err(read_error)?.take(limit).read_to_string(&mut text).map_err(read_error)?;
    Ok(text)
}

impl AccountEntry {
    fn password(&self) -> Result<String, ConfigFileError> {
        let system_id = self.system_id.clone();
        let raw = match (&self.password_file, &self.password_env) {
            (Some(path), None) => {
                numbind_process::data_dir::ensure_private_file(path)?;
                read_bounded(path, MAX_PASSWORD_FILE_BYTES)?
            }
            (None, Some(variable)) => std::env::var(variable).map_err(|_| ConfigFileError::MissingEnv {
                system_id: system_id.clone(),
                variable: variable.clone(),
            })?,
            _ => return Err(ConfigFileError::PasswordSource { system_id }),
        };
        let password = raw.trim().to_owned();
        if !(1..=8).contains(&password.len()) || !password.is_ascii() || password.contains('\0') {
            return Err(ConfigFileError::InvalidPassword { system_id });
        }
        Ok(password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accounts_file_with_a_password_file_loads() {
        let directory = tempfile::tempdir().unwrap();
        let password_path = directory.path().join("oss.password");
        std::fs::write(&password_path, "oss-pass\n").unwrap();
        set_mode(&password_path, 0o600);
        let text = format!(
            "[[accounts]]\nsystem_id = \"oss\"\npassword_file = \"{}\"\nroutes = [\"10658000\"]\n",
            password_path.display()
        );
        let file: ConfigFile = toml::from_str(&text).unwrap();
        let accounts = file.accounts().unwrap();
        assert_eq!(accounts[0].password, "oss-pass");
        assert_eq!(accounts[0].routes[0].as_str(), "10658000");
        assert_eq!(accounts[0].max_submits_per_second, 150);
    }

    fn set_mode(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_password_file_readable_by_others_is_refused() {
        let directory = tempfile::tempdir().unwrap();
        let password_path = directory.path().join("oss.password");
        std::fs::write(&password_path, "oss-pass\n").unwrap();
        set_mode(&password_path, 0o644);
        let text = format!("[[accounts]]\nsystem_id = \"oss\"\npassword_file = \"{}\"\n", password_path.display());
        let file: ConfigFile = toml::from_str(&text).unwrap();
        let refused = file.accounts().unwrap_err();
        assert!(matches!(refused, ConfigFileError::PasswordFileNotPrivate(_)), "{refused}");
    }

    #[test]
    fn unknown_keys_and_inline_passwords_are_refused() {
        let text = "[[accounts]]\nsystem_id = \"oss\"\npassword = \"inline\"\n";
        assert!(toml::from_str::<ConfigFile>(text).is_err());
    }

    #[test]
    fn an_account_needs_exactly_one_password_source() {
        let file: ConfigFile = toml::from_str("[[accounts]]\nsystem_id = \"oss\"\n").unwrap();
        assert!(matches!(file.accounts(), Err(ConfigFileError::PasswordSource { .. })));
    }

    #[test]
    fn an_endless_password_file_is_read_bounded_and_refused() {
        let text = "[[accounts]]\nsystem_id = \"oss\"\npassword_file = \"/dev/zero\"\n";
        let file: ConfigFile = toml::from_str(text).unwrap();
        assert!(matches!(file.accounts(), Err(ConfigFileError::InvalidPassword { .. })));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn arbitrary_accounts_files_never_panic(text in any::<String>()) {
                let _ = toml::from_str::<ConfigFile>(&text);
            }

            #[test]
            fn accounts_from_the_environment_are_checked(
                system_id in any::<String>(),
                routes in proptest::collection::vec("[0-9]{0,25}", 0..3),
            ) {
                let entry = AccountEntry {
                    system_id: system_id.clone(),
                    password_file: None,
                    password_env: Some("PATH".into()),
                    routes,
                    max_submits_per_second: None,
                };
                let file = ConfigFile { redelivery_interval_ms: None, max_queue: None, accounts: vec![entry] };
                match file.accounts() {
                    Ok(accounts) => {
                        prop_assert_eq!(&accounts[0].system_id, &system_id);
                        prop_assert!((1..=15).contains(&system_id.len()));
                    }
                    Err(error) => {
                        let specific = matches!(
                            error,
                            ConfigFileError::InvalidSystemId { .. }
                                | ConfigFileError::InvalidPassword { .. }
                                | ConfigFileError::InvalidRoute { .. }
                        );
                        prop_assert!(specific, "unexpected error: {}", error);
                    }
                }
            }
        }
    }
}
