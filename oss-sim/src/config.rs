//! The OSS's `Config`: plain values with secrets already loaded; `Config::new` sets the defaults.

pub use crate::domain::charging::ChargeLimits;
use numbind_process::tls::ServerCertificateFiles;
use numbind_wire::component_auth::ComponentSecret;
use numbind_wire::statement::PinnedPlatformKeys;
use numbind_wire::ShortCode;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use numbind_sms_link::{CmppLink, CmppVersion, LinkConfig, SmscLink};

/// Everything `run` needs.
#[derive(Clone)]
pub struct Config {
    pub database_path: PathBuf,
    /// Base URL of the platform, e.g. `https://127.0.0.1:8080`.
    pub platform_url: String,
    /// The HMAC secret shared with the platform.
    pub platform_secret: ComponentSecret,
    /// The short code users text; replies come from it.
    pub short_code: ShortCode,
    /// The link to the SMS centre, over SMPP or CMPP.
    pub smsc: LinkConfig,
    /// Insert the demo subscribers at start (idempotent). Default false.
    pub seed_demo_subscribers: bool,
    /// The province this OSS serves behind a national hub (its demo subscribers' numbers are in that province's
    /// demo segments); `None`: the operator's one OSS, demo numbers `138 0013 8000` and the like.
    pub province: Option<numbind_routing::ProvinceCode>,
    /// The platform's public key(s): with them, an audit checkpoint whose signature does not verify is refused.
    /// Default none (checkpoints are kept as delivered; `numbind audit verify` checks their signatures).
    pub platform_keys: Option<PinnedPlatformKeys>,
    /// The admin API (`/v1/*`) wants `authorization: Bearer <token>`. Default none: then `run` refuses to start
    /// unless `insecure_no_admin_token` says to serve every subscriber's number to anyone who can connect.
    pub admin_token: Option<String>,
    /// Serve the admin API without a token (tests, a sealed lab). Default false.
    pub insecure_no_admin_token: bool,
    /// First retry delay of a platform call or an SMS submit (doubled per attempt, full jitter). Default 500 ms.
    pub retry_initial_backoff: Duration,
    /// Ceiling of the retry delay. Default 30 s.
    pub retry_max_backoff: Duration,
    /// Timeout of one platform call. Default 10 s.
    pub platform_request_timeout: Duration,
    /// How often idle workers look at their queues even without a wake-up. Default 1 s.
    pub idle_poll_interval: Duration,
    /// SMS commands of different numbers processed at once (one number's commands always run in order).
    pub command_concurrency: usize,
    /// Serve the admin API over HTTPS with this certificate (reloaded when the files change).
    pub tls: Option<ServerCertificateFiles>,
    /// The certificate authorities trusted for the OSS's own calls (the platform over HTTPS); nothing else is.
    pub trusted_authorities: Option<PathBuf>,
    /// The operator's limits on charges to a binding (a subscriber's own override them). Default
    /// `ChargeLimits::operator_default()`.
    pub charge_limits: ChargeLimits,
}

impl Config {
    pub fn new(
        database_path: impl Into<PathBuf>,
        platform_url: String,
        platform_secret: ComponentSecret,
        short_code: ShortCode,
        smsc: impl Into<LinkConfig>,
    ) -> Self {
        Config {
            database_path: database_path.into(),
            platform_url,
            platform_secret,
            short_code,
            smsc: smsc.into(),
            seed_demo_subscribers: false,
            province: None,
            admin_token: None,
            platform_keys: None,
            insecure_no_admin_token: false,
            retry_initial_backoff: Duration::from_millis(500),
            retry_max_backoff: Duration::from_secs(30),
            platform_request_timeout: Duration::from_secs(10),
            idle_poll_interval: Duration::from_secs(1),
            command_concurrency: 64,
            tls: None,
            trusted_authorities: None,
            charge_limits: ChargeLimits::operator_default(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Config")
            .field("database_path", &self.database_path)
            .field("platform_url", &self.platform_url)
            .field("short_code", &self.short_code)
            .field("smsc", &self.smsc)
            .field("seed_demo_subscribers", &self.seed_demo_subscribers)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<redacted>"))
            .field("platform_keys", &self.platform_keys)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_password_a_token_or_the_secret() {
        let mut config = Config::new(
            "oss.db",
            "http://127.0.0.1:8080".into(),
            ComponentSecret::parse("0123456789abcdef0123456789abcdef").unwrap(),
            ShortCode::parse("10658000").unwrap(),
            SmscLink {
                address: "127.0.0.1:2775".into(),
                system_id: "oss".into(),
                password: "hunter2".into(),
                tls: None,
            },
        );
        config.admin_token = Some("admin-token-xyz".into());
        let text = format!("{config:?}");
        assert!(!text.contains("hunter2") && !text.contains("admin-token-xyz") && !text.contains("0123456789"));
    }
}
