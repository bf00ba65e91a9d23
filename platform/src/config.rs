//! The platform's configuration: plain values, secrets already loaded, defaults set by `Config::new`.

use crate::domain::statement_schedule::StatementDay;
use numbind_process::clock::{Clock, SystemClock};
use numbind_process::tls::ServerCertificateFiles;
use numbind_routing::{ProvinceCode, RoutingTable};
use numbind_wire::component_auth::ComponentSecret;
use numbind_wire::ShortCode;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use numbind_sms_link::{CmppLink, CmppVersion, LinkConfig, SmscLink};

/// Everything `run` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The SQLite database file; beside it, the audit key (`platform-audit.key`), whichever database is used.
    pub database_path: PathBuf,
    /// The database when it is not the file at `database_path`: a PostgreSQL server (`--database-url`).
    pub database_location: Option<numbind_database::DatabaseLocation>,
    /// PKCS#8 Ed25519 key; created (mode 0600, public key next to it as `<path>.pub`) when missing.
    pub signing_key_path: PathBuf,
    /// The operator's short code users text; also the sender of notification SMS.
    pub short_code: ShortCode,
    /// The secret the OSS authenticates its calls with.
    pub oss_secret: ComponentSecret,
    /// The SMS centre for notifications, over SMPP or CMPP; `None` leaves them queued in the outbox.
    pub smsc: Option<LinkConfig>,
    /// Base URL of the OSS (`https://127.0.0.1:8082`) for revocations it must hear of; `None` leaves them queued.
    /// At a hub with `provincial_oss_urls`, the OSS of the numbers no province's OSS serves, if any.
    pub oss_url: Option<String>,
    /// Base URL of the SMS centre's HTTP API (`http://127.0.0.1:8081`), read by payment reconciliation for the
    /// messages the platform's account sent; `None` leaves that side unread.
    pub smsc_api_url: Option<String>,
    /// The national hub: each province's OSS by its base URL; a binding's revocations, charges and refunds go to
    /// the OSS of its number's province (needs `routing`).
    pub provincial_oss_urls: BTreeMap<ProvinceCode, String>,
    /// The segment and portability tables that give a number's province (`--segments-file`); each new binding
    /// records the province and the table's version. `None`: the version last imported into the database, if
    /// any, followed as new versions are imported.
    pub routing: Option<RoutingTable>,
    /// How often the platform looks for a newly imported routing version (when `routing` is `None`): a new
    /// version is in use at most this long after its import. Default 2 s.
    pub routing_refresh_interval: Duration,
    /// The table in use, shared by the handlers and the OSS clients; set by `prepare`.
    pub(crate) active_routing: crate::active_routing::ActiveRouting,
    /// Timeout of one call to the OSS.
    pub oss_request_timeout: Duration,
    /// The national hub's limit for one charge: a payment above it is refused (`amount_over_national_limit`)
    /// before any province is asked. Default 50,000 fen (500 yuan).
    pub national_charge_limit: crate::domain::hub_checks::NationalChargeLimit,
    pub activation_ttl: Duration,
    pub poll_interval: Duration,
    pub long_poll_max_wait: Duration,
    /// How far a signed request's timestamp may be from now, either way.
    pub request_timestamp_window: Duration,
    pub statement_lifetime: Duration,
    /// How long a terminal session (one signed handshake, then MAC'd status checks) lasts before the box opens a
    /// new one. Default 7 days: a box that rebooted within a week checks its binding without a signature.
    pub terminal_session_lifetime: Duration,
    /// Cap on the nonces remembered for replay protection (~30 bytes each); past it signed requests answer 503.
    pub max_remembered_nonces: usize,
    /// Refuse registration of terminals missing from the manufacturer's manifest.
    pub require_manifest: bool,
    pub max_concurrent_requests: usize,
    /// Activations one terminal may get per `activation_rate_window`.
    pub max_activations_per_window: u32,
    pub activation_rate_window: Duration,
    /// A number with more failed redemptions than this within `failed_redemption_window` is locked.
    pub max_failed_redemptions_per_number: u32,
    pub failed_redemption_window: Duration,
    /// How long a locked number's redemptions are refused (`number_locked`).
    pub number_lock_duration: Duration,
    /// Failed redemptions admitted per minute across all numbers; beyond it redemptions answer `rate_limited`.
    pub max_failed_redemptions_global_per_minute: u32,
    /// How often the head of the audit chain is signed (when it moved) and sent to the OSS as a witness.
    /// Default 30 s; events after the last checkpoint are not yet witnessed.
    pub audit_checkpoint_interval: Duration,
    /// Payments of at least this many minor units (fen) need the bound number's `Y <number>` reply. Default 3000.
    pub payment_confirmation_threshold: i64,
    /// How long the bound number has to confirm. Default 5 minutes.
    pub payment_confirmation_ttl: Duration,
    /// How long a merchant's `Idempotency-Key` is remembered (default 30 days). Within it a retried call answers
    /// the first call's record; after it the key is forgotten. A forgotten payment key cannot charge twice (the
    /// box's intent is fresh for 10 minutes and makes one payment); a forgotten refund key can make one more
    /// refund, never more than what remains refundable.
    pub idempotency_key_retention: Duration,
    /// Timeout of the one inline charge attempt made while the merchant waits; the billing worker retries after.
    pub inline_charge_timeout: Duration,
    /// The day of the month (UTC+8) from whose start the previous month's statements are sent; `None` (the
    /// default) sends them only when `numbind statements send` is run.
    pub statement_day: Option<StatementDay>,
    /// How often the statements schedule looks for a month that fell due. Default 10 minutes.
    pub statement_schedule_interval: Duration,
    pub clock: Arc<dyn Clock>,
    /// Serve HTTPS with this certificate (reloaded when the files change); `None` serves plain HTTP.
    pub tls: Option<ServerCertificateFiles>,
    /// The certificate authorities trusted for the platform's own calls (the OSS over HTTPS, the SMS centre
    /// over SMPP-TLS); nothing else is trusted.
    pub trusted_authorities: Option<PathBuf>,
}

impl Config {
    pub fn new(
        database_path: PathBuf,
        signing_key_path: PathBuf,
        short_code: ShortCode,
        oss_secret: ComponentSecret,
    ) -> Self {
        Config {
            database_path,
            database_location: None,
            signing_key_path,
            short_code,
            oss_secret,
            smsc: None,
            oss_url: None,
            smsc_api_url: None,
            provincial_oss_urls: BTreeMap::new(),
            routing: None,
            routing_refresh_interval: Duration::from_secs(2),
            active_routing: Default::default(),
            oss_request_timeout: Duration::from_secs(10),
            national_charge_limit: crate::domain::hub_checks::NationalChargeLimit::default(),
            activation_ttl: Duration::from_secs(600),
            poll_interval: Duration::from_secs(5),
            long_poll_max_wait: Duration::from_secs(25),
            request_timestamp_window: Duration::from_secs(300),
            statement_lifetime: Duration::from_secs(300),
            terminal_session_lifetime: Duration::from_secs(7 * 24 * 60 * 60),
            max_remembered_nonces: 4_000_000,
            require_manifest: false,
            max_concurrent_requests: 4096,
            max_activations_per_window: 10,
            activation_rate_window: Duration::from_secs(600),
            max_failed_redemptions_per_number: 5,
            failed_redemption_window: Duration::from_secs(15 * 60),
            number_lock_duration: Duration::from_secs(60 * 60),
            max_failed_redemptions_global_per_minute: 600,
            audit_checkpoint_interval: Duration::from_secs(30),
            payment_confirmation_threshold: 3000,
            payment_confirmation_ttl: Duration::from_secs(5 * 60),
            inline_charge_timeout: Duration::from_secs(2),
            idempotency_key_retention: Duration::from_secs(30 * 24 * 60 * 60),
            statement_day: None,
            statement_schedule_interval: Duration::from_secs(10 * 60),
            clock: Arc::new(SystemClock),
            tls: None,
            trusted_authorities: None,
        }
    }
}
