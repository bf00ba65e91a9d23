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
//! max_submits_per_second = 150         # optional, default 150; over it submit_sm gets ESME_RTHROTTLED
//! vendor_tlvs = false                  # optional; true adds numbind's TLV 0x1401 to every deliver_sm
//! number_format = "national"           # optional; "international": source_addr 86..., ton 1
//! province = "BJ"                      # optional; MO to its routes from numbers of this province only (needs
//!                                      # --segments-file; every account of such a route names its province)
//!
//! [[accounts]]
//! protocol = "cmpp"                    # optional, "smpp" (default) or "cmpp": which listener the account uses
//! system_id = "901234"                 # for cmpp: the SP code (Source_Addr of CONNECT), exactly 6 characters
//! password_env = "SMSC_SP_SECRET"      # for cmpp: the shared secret, 1 to 32 ascii characters
//! routes = ["1065800"]                 # for cmpp: the service codes whose MO go to this SP as DELIVER
//! max_submits_per_second = 150         # optional; over it SUBMIT gets Result 8 (flow control)
//! ```

use numbind_routing::{ProvinceCode, RoutingTable};
use numbind_wire::ShortCode;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which listener an account connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountProtocol {
    /// SMPP 3.4: `system_id` and a password of at most 8 characters.
    #[default]
    Smpp,
    /// CMPP 2.0/3.0: `system_id` is the 6-character SP code, the password is the shared secret.
    Cmpp,
}

/// One ESME account (an SMPP ESME or a CMPP service provider).
#[derive(Clone)]
pub struct EsmeAccount {
    pub protocol: AccountProtocol,
    pub system_id: String,
    pub password: String,
    /// MO to these short codes go to this account.
    pub routes: Vec<ShortCode>,
    /// Over this many submit_sm per second the account gets ESME_RTHROTTLED (default 150).
    pub max_submits_per_second: u32,
    /// Adds numbind's vendor TLV 0x1401 (the SMS centre's message ID) to every deliver_sm. Off by default: a
    /// stock ESME may refuse a PDU with a TLV it does not know; numbind's own OSS and platform turn it on.
    pub vendor_tlvs: bool,
    /// How phone numbers are written in a deliver_sm's source_addr.
    pub number_format: NumberFormat,
    /// The province whose numbers' MO to `routes` this account receives (a provincial OSS behind a national
    /// short code); `None` receives every sender's.
    pub province: Option<ProvinceCode>,
}

/// The type of number an account's ESME expects in `source_addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberFormat {
    /// `13800138000`, ton 2 (national), npi 1 (E.164).
    #[default]
    National,
    /// `8613800138000`, ton 1 (international), npi 1 (E.164).
    International,
}

impl EsmeAccount {
    pub fn new(system_id: impl Into<String>, password: impl Into<String>, routes: Vec<ShortCode>) -> Self {
        EsmeAccount {
            protocol: AccountProtocol::Smpp,
            system_id: system_id.into(),
            password: password.into(),
            routes,
            max_submits_per_second: 150,
            vendor_tlvs: false,
            number_format: NumberFormat::National,
            province: None,
        }
    }

    /// A CMPP service provider: its SP code, shared secret and service codes.
    pub fn cmpp(sp_code: impl Into<String>, shared_secret: impl Into<String>, routes: Vec<ShortCode>) -> Self {
        EsmeAccount { protocol: AccountProtocol::Cmpp, ..EsmeAccount::new(sp_code, shared_secret, routes) }
    }
}

impl fmt::Debug for EsmeAccount {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("EsmeAccount")
            .field("protocol", &self.protocol)
            .field("system_id", &self.system_id)
            .field("routes", &self.routes)
            .field("max_submits_per_second", &self.max_submits_per_second)
            .field("vendor_tlvs", &self.vendor_tlvs)
            .field("number_format", &self.number_format)
            .field("province", &self.province)
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
    /// How long the parts of a concatenated MT wait for their siblings before they expire as undeliverable.
    pub concatenation_timeout: Duration,
    /// The certificate of the SMPP-over-TLS listener.
    pub tls: Option<numbind_process::tls::ServerCertificateFiles>,
    /// The segment and portability tables that route a short code's MO to the sender's home province (accounts
    /// with a `province`); `None` when no account has one.
    pub routing: Option<RoutingTable>,
    /// Where `routing` is read again on SIGHUP; `None` keeps it as started.
    pub routing_source: Option<crate::RoutingSource>,
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
            concatenation_timeout: Duration::from_secs(600),
            tls: None,
            routing: None,
            routing_source: None,
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
    #[error("account {system_id}: password must be 1 to 8 characters of ascii (a cmpp shared secret 1 to 32)")]
    InvalidPassword { system_id: String },
    #[error("account {system_id}: system_id must be 1 to 15 ascii characters (a cmpp sp code exactly 6), once")]
    InvalidSystemId { system_id: String },
    #[error(transparent)]
    PasswordFileNotPrivate(#[from] numbind_process::data_dir::DataDirError),
    #[error("account {system_id}: route {route:?} is not a short code")]
    InvalidRoute { system_id: String, route: String },
    #[error("account {system_id}: {source}")]
    InvalidProvince { system_id: String, source: numbind_routing::ProvinceCodeError },
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
    #[serde(default)]
    pub protocol: AccountProtocol,
    pub system_id: String,
    pub password_file: Option<PathBuf>,
    pub password_env: Option<String>,
    #[serde(default)]
    pub routes: Vec<String>,
    pub max_submits_per_second: Option<u32>,
    #[serde(default)]
    pub vendor_tlvs: bool,
    #[serde(default)]
    pub number_format: NumberFormat,
    pub province: Option<String>,
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
            let id_lengths = match entry.protocol {
                AccountProtocol::Smpp => 1..=15,
                AccountProtocol::Cmpp => 6..=6,
            };
            let valid_id = id_lengths.contains(&system_id.len()) && system_id.is_ascii() && !system_id.contains('\0');
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
            account.protocol = entry.protocol;
            if let Some(rate) = entry.max_submits_per_second {
                account.max_submits_per_second = rate;
            }
            account.vendor_tlvs = entry.vendor_tlvs;
            account.number_format = entry.number_format;
            account.province =
                entry.province.as_deref().map(ProvinceCode::parse).transpose().map_err(|source| {
                    ConfigFileError::InvalidProvince { system_id: account.system_id.clone(), source }
                })?;
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
        let longest = match self.protocol {
            AccountProtocol::Smpp => 8,
            AccountProtocol::Cmpp => 32,
        };
        if !(1..=longest).contains(&password.len()) || !password.is_ascii() || password.contains('\0') {
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
        assert!(!accounts[0].vendor_tlvs, "vendor TLVs are off unless asked for");
        assert_eq!(accounts[0].number_format, NumberFormat::National);
    }

    #[test]
    fn an_account_asks_for_vendor_tlvs_and_international_numbers() {
        let text = "[[accounts]]\nsystem_id = \"oss\"\npassword_env = \"PATH\"\nvendor_tlvs = true\n\
                    number_format = \"international\"\n";
        let file: ConfigFile = toml::from_str(text).unwrap();
        let account = &file.accounts[0];
        assert!(account.vendor_tlvs);
        assert_eq!(account.number_format, NumberFormat::International);
        assert!(toml::from_str::<ConfigFile>(&text.replace("international", "e164")).is_err());
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
    fn a_cmpp_account_has_a_six_character_sp_code_and_a_longer_secret() {
        std::env::set_var("NUMBIND_TEST_CMPP_SECRET", "a-shared-secret-of-24-ch");
        let text = "[[accounts]]\nprotocol = \"cmpp\"\nsystem_id = \"901234\"\n\
                    password_env = \"NUMBIND_TEST_CMPP_SECRET\"\nroutes = [\"1065800\"]\n";
        let accounts = toml::from_str::<ConfigFile>(text).unwrap().accounts().unwrap();
        assert_eq!(accounts[0].protocol, AccountProtocol::Cmpp);
        assert_eq!(accounts[0].password, "a-shared-secret-of-24-ch");
        let long_code = text.replace("901234", "9012345");
        let refused = toml::from_str::<ConfigFile>(&long_code).unwrap().accounts();
        assert!(matches!(refused, Err(ConfigFileError::InvalidSystemId { .. })));
        assert!(toml::from_str::<ConfigFile>(&text.replace("cmpp", "sgip")).is_err());
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
                    protocol: AccountProtocol::Smpp,
                    system_id: system_id.clone(),
                    password_file: None,
                    password_env: Some("PATH".into()),
                    routes,
                    max_submits_per_second: None,
                    vendor_tlvs: false,
                    number_format: NumberFormat::National,
                    province: None,
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
