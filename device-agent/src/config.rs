//! `AgentConfig`: everything the agent needs to know, as plain values, with defaults for all but three.

use numbind_wire::statement::PlatformPublicKey;
use std::path::PathBuf;
use std::time::Duration;

/// The language of every text the box shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// Simplified Chinese, the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Language {
    /// Every supported language, for completeness checks.
    pub const ALL: [Language; 2] = [Language::Zh, Language::En];

    /// Parses `zh` or `en` (case-insensitive, `zh-CN` and `en-US` style tags accepted).
    pub fn parse(text: &str) -> Option<Language> {
        let lower = text.trim().to_ascii_lowercase();
        let primary = lower.split(['-', '_']).next().unwrap_or_default();
        match primary {
            "zh" => Some(Language::Zh),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// How the agent is set up. Build it with [`AgentConfig::new`] and change the public fields you need.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Where the identity (`terminal.key`, optional `terminal-id`) and the bound flag (`binding.json`) live.
    pub state_dir: PathBuf,
    /// The platform's base URL, such as `https://platform.example.net`. Plain `http://` is accepted only for a
    /// loopback host, or with `allow_insecure_http` (which warns on every request).
    pub platform_url: String,
    /// The certificate authorities (PEM, one or more) the box trusts for an `https://` platform; nothing else
    /// is trusted (no system roots). Required for `https://`.
    pub platform_authorities_pem: Option<Vec<u8>>,
    /// Allow plain `http://` to a host that is not loopback. Everything the box acts on is still signed, but the
    /// network then sees the terminal's traffic; each request logs a warning.
    pub allow_insecure_http: bool,
    /// The platform keys whose statements the agent believes. Empty makes `Agent::new` refuse to start.
    pub platform_keys: Vec<PlatformPublicKey>,
    /// The device model, named in the user's confirmation SMS.
    pub device_model: String,
    /// The language of the texts the box shows.
    pub language: Language,
    /// Time allowed for each request; a long-poll gets this plus the time it asks the platform to wait.
    pub request_timeout: Duration,
    /// A PKCS#8 Ed25519 key injected at the factory, imported into the state directory on first boot.
    pub factory_key_path: Option<PathBuf>,
    /// How long the platform may hold a long-poll (`wait_seconds`).
    pub long_poll_wait: Duration,
    /// The pause after a denial before a new code is shown (the user may try another phone).
    pub pause_after_denial: Duration,
    /// Retry backoff: the first ceiling of the full-jitter draw.
    pub retry_base: Duration,
    /// Retry backoff: the largest ceiling of the full-jitter draw.
    pub retry_cap: Duration,
    /// How many times the agent sends its acknowledgement before giving up (the flag is durable already).
    pub acknowledgement_attempts: u32,
    /// How long a purchase may wait for its merchant to submit the signed intent before it counts as expired.
    pub purchase_submission_wait: Duration,
}

impl AgentConfig {
    /// A configuration with defaults: model `numbind STB-1`, Chinese, 10 s per request, 25 s long-polls,
    /// 5 s pause after a denial, backoff from 500 ms to 30 s, 3 acknowledgement attempts, 10 minutes for a merchant
    /// to submit a purchase, no factory key, no
    /// trusted authority (set `platform_authorities_pem` for `https://`), no plain http beyond loopback.
    pub fn new(
        state_dir: impl Into<PathBuf>,
        platform_url: impl Into<String>,
        platform_keys: Vec<PlatformPublicKey>,
    ) -> Self {
        AgentConfig {
            state_dir: state_dir.into(),
            platform_url: platform_url.into(),
            platform_authorities_pem: None,
            allow_insecure_http: false,
            platform_keys,
            device_model: "numbind STB-1".to_owned(),
            language: Language::Zh,
            request_timeout: Duration::from_secs(10),
            factory_key_path: None,
            long_poll_wait: Duration::from_secs(25),
            pause_after_denial: Duration::from_secs(5),
            retry_base: Duration::from_millis(500),
            retry_cap: Duration::from_secs(30),
            acknowledgement_attempts: 3,
            purchase_submission_wait: Duration::from_secs(600),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_parse_from_short_and_regional_tags() {
        assert_eq!(Language::parse("zh"), Some(Language::Zh));
        assert_eq!(Language::parse("zh-CN"), Some(Language::Zh));
        assert_eq!(Language::parse(" EN_us "), Some(Language::En));
        assert_eq!(Language::parse("fr"), None);
    }
}
