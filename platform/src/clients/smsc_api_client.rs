//! The platform's reader of the SMS centre's HTTP API: the messages its own account (the SMPP `system_id` or CMPP
//! SP code it binds with) submitted on a day, `GET /v1/accounts/{account}/sent-messages?day=`, for payment
//! reconciliation. That list carries masked numbers only, and the SMS centre serves it without credentials (as it
//! does to `numbind reconcile payments`); over `https://` the client trusts only the configured authorities.

use crate::config::{Config, LinkConfig};
use crate::domain::payment_reconciliation::SentMessage;
use numbind_process::civil_date::CivilDate;
use serde::Deserialize;
use std::time::Duration;

/// Why the sent messages could not be read (no numbers in these messages).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum SmscApiError {
    #[error("the sms centre is unreachable")]
    Transport(#[source] reqwest::Error),
    #[error("the sms centre answered {status}")]
    Refused { status: u16 },
    #[error("the sms centre answered with an unreadable body")]
    UnreadableAnswer(#[source] reqwest::Error),
}

#[derive(Debug, Deserialize)]
struct SentMessages {
    messages: Vec<SentMessage>,
}

/// The SMS centre's HTTP API at one base URL, read as the platform's account.
#[derive(Debug, Clone)]
pub(crate) struct SmscApiClient {
    base_url: String,
    account: String,
    http: reqwest::Client,
}

impl SmscApiClient {
    /// A client of `config.smsc_api_url` for the account of `config.smsc` (none without both).
    pub(crate) fn from_config(config: &Config, timeout: Duration) -> anyhow::Result<Option<Self>> {
        let (Some(base_url), Some(link)) = (&config.smsc_api_url, &config.smsc) else {
            return Ok(None);
        };
        let account = match link {
            LinkConfig::Smpp(link) => link.system_id.clone(),
            LinkConfig::Cmpp(link) => link.sp_code.clone(),
        };
        let http = numbind_process::tls::http_client_builder(config.trusted_authorities.as_deref())?
            .timeout(timeout)
            .build()?;
        Ok(Some(SmscApiClient { base_url: base_url.trim_end_matches('/').to_owned(), account, http }))
    }

    /// The messages the platform's account submitted on `day` (China Standard Time).
    pub(crate) async fn sent_messages(&self, day: CivilDate) -> Result<Vec<SentMessage>, SmscApiError> {
        let url = format!("{}/v1/accounts/{}/sent-messages", self.base_url, self.account);
        let response =
            self.http.get(url).query(&[("day", day.to_string())]).send().await.map_err(SmscApiError::Transport)?;
        if !response.status().is_success() {
            return Err(SmscApiError::Refused { status: response.status().as_u16() });
        }
        let answer: SentMessages = response.json().await.map_err(SmscApiError::UnreadableAnswer)?;
        Ok(answer.messages)
    }
}
