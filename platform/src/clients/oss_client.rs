//! The platform's client of the OSS: JSON POSTs to the OSS's `/v1/platform/*` endpoints (and GETs of its bill
//! lines), authenticated with the component HMAC (client `platform`), over HTTPS trusting only the configured
//! authorities. The revocation, audit-checkpoint and billing workers deliver through it; reconciliation reads. At
//! a national hub it holds one OSS per province and sends each number's work to its province's.

use super::oss_breaker::OssBreakers;
use numbind_process::clock::Clock;
use numbind_process::component_client::{signed_get, signed_json_post};
use numbind_routing::{ProvinceCode, RouteDecision};
use numbind_wire::component_auth::ComponentSecret;
use numbind_wire::Msisdn;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The client name the platform authenticates as at the OSS.
pub(crate) const PLATFORM_CLIENT_NAME: &str = "platform";

/// Why one delivery attempt (or one read) failed (no numbers in these messages).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum OssDeliveryError {
    #[error("the oss is unreachable")]
    Transport(#[source] reqwest::Error),
    #[error("the oss answered {status}")]
    Refused { status: u16 },
    #[error("the oss answered with an unreadable body")]
    UnreadableAnswer(#[source] reqwest::Error),
    #[error("cannot encode the request")]
    Encoding(#[from] serde_json::Error),
    #[error("no oss serves the number (its province: {})", province.map_or("none", |province| province.as_str()))]
    NoOss { province: Option<ProvinceCode> },
    #[error("the oss was unreachable several times in a row: calls to it pause for {seconds_left} s")]
    Paused { seconds_left: u64 },
}

/// The OSS of every province the platform serves: a national hub sends each number's work to the OSS of its
/// province (`--oss-url BJ=...`), by the province its binding recorded or else by the routing table; a platform
/// with one OSS (`--oss-url URL`) sends everything there. One HTTP client (its connections pooled per host),
/// one shared secret, one clock.
#[derive(Clone)]
pub(crate) struct OssClient {
    national_url: Option<String>,
    provincial_urls: BTreeMap<ProvinceCode, String>,
    routing: crate::active_routing::ActiveRouting,
    http: reqwest::Client,
    secret: ComponentSecret,
    clock: Arc<dyn Clock>,
    breakers: Arc<OssBreakers>,
}

impl std::fmt::Debug for OssClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OssClient")
            .field("national_url", &self.national_url)
            .field("provincial_urls", &self.provincial_urls)
            .finish_non_exhaustive()
    }
}

impl OssClient {
    /// A client of the OSS at `config.oss_url` and of each province's (none without any); over `https://` it
    /// trusts only the configured authorities.
    pub(crate) fn from_config(config: &crate::config::Config, timeout: Duration) -> anyhow::Result<Option<Self>> {
        if config.oss_url.is_none() && config.provincial_oss_urls.is_empty() {
            return Ok(None);
        }
        let http = numbind_process::tls::http_client_builder(config.trusted_authorities.as_deref())?
            .timeout(timeout)
            .build()?;
        let base_url = |url: &String| url.trim_end_matches('/').to_owned();
        Ok(Some(OssClient {
            national_url: config.oss_url.as_ref().map(base_url),
            provincial_urls: config
                .provincial_oss_urls
                .iter()
                .map(|(province, url)| (*province, base_url(url)))
                .collect(),
            routing: config.active_routing.clone(),
            http,
            secret: config.oss_secret.clone(),
            clock: config.clock.clone(),
            breakers: Arc::new(OssBreakers::default()),
        }))
    }

    /// The outbox queues, one worker each: every province with an OSS of its own, and `None` for the records
    /// without a province (sent to the national OSS, or routed by the table when sent).
    pub(crate) fn worker_queues(&self) -> Vec<Option<ProvinceCode>> {
        std::iter::once(None).chain(self.provincial_urls.keys().copied().map(Some)).collect()
    }

    /// The base URL of the OSS serving `msisdn`: its recorded `province`'s, else its province by the routing
    /// table, else the national OSS.
    fn base_url_for(&self, province: Option<ProvinceCode>, msisdn: &Msisdn) -> Result<&str, OssDeliveryError> {
        let province = province.or_else(|| match self.routing.current()?.table.route(msisdn) {
            RouteDecision::Province { province, .. } => Some(province),
            RouteDecision::UnknownSegment | RouteDecision::LeftOperator => None,
        });
        let provincial = province.and_then(|province| self.provincial_urls.get(&province));
        match provincial.or(self.national_url.as_ref()) {
            Some(url) => Ok(url),
            None => Err(OssDeliveryError::NoOss { province }),
        }
    }

    /// The OSS that keeps the audit checkpoints: the national one, else the first province's.
    fn witness_url(&self) -> Result<&str, OssDeliveryError> {
        let first_province = self.provincial_urls.values().next();
        self.national_url
            .as_ref()
            .or(first_province)
            .map(String::as_str)
            .ok_or(OssDeliveryError::NoOss { province: None })
    }

    /// POSTs `request` to the OSS serving `msisdn` (see `base_url_for`).
    pub(crate) async fn post_for_number<Request, Answer>(
        &self,
        (province, msisdn): (Option<ProvinceCode>, &Msisdn),
        path: &'static str,
        request: &Request,
    ) -> Result<Answer, OssDeliveryError>
    where
        Request: Serialize,
        Answer: DeserializeOwned,
    {
        let base_url = self.base_url_for(province, msisdn)?;
        self.post(base_url, path, request).await
    }

    /// POSTs `request` to the witness OSS (see `witness_url`).
    pub(crate) async fn post_to_witness<Request, Answer>(
        &self,
        path: &'static str,
        request: &Request,
    ) -> Result<Answer, OssDeliveryError>
    where
        Request: Serialize,
        Answer: DeserializeOwned,
    {
        self.post(self.witness_url()?, path, request).await
    }

    /// POSTs `request` to `path` at `base_url`, signed with the shared secret; the OSS's answer once it
    /// acknowledged.
    async fn post<Request, Answer>(
        &self,
        base_url: &str,
        path: &'static str,
        request: &Request,
    ) -> Result<Answer, OssDeliveryError>
    where
        Request: Serialize,
        Answer: DeserializeOwned,
    {
        let body = serde_json::to_vec(request)?;
        let caller = (PLATFORM_CLIENT_NAME, &self.secret);
        let now = self.clock.now_unix_seconds();
        self.admit(base_url)?;
        let sent = signed_json_post(&self.http, base_url, path, caller, now, body).await;
        let response = self.reached(base_url, sent)?;
        if !response.status().is_success() {
            return Err(OssDeliveryError::Refused { status: response.status().as_u16() });
        }
        response.json().await.map_err(OssDeliveryError::UnreadableAnswer)
    }

    /// Refuses at once a call to an OSS whose breaker is open (see `oss_breaker`).
    fn admit(&self, base_url: &str) -> Result<(), OssDeliveryError> {
        self.breakers
            .admit(base_url, Instant::now())
            .map_err(|left| OssDeliveryError::Paused { seconds_left: left.as_secs().max(1) })
    }

    /// Tells the breaker of `base_url` whether the call reached the OSS, and turns a failure to reach it into
    /// `Transport`.
    fn reached(
        &self,
        base_url: &str,
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<reqwest::Response, OssDeliveryError> {
        if self.breakers.record(base_url, sent.is_ok(), Instant::now()) {
            tracing::warn!(oss = base_url, "oss unreachable several times in a row: its calls pause");
        }
        sent.map_err(OssDeliveryError::Transport)
    }

    /// GETs `path_and_query` from every OSS (the national one and each province's), signed with the shared secret;
    /// their answers, in the order of `destinations`. The first that cannot be read fails the whole read, so a
    /// reader never mistakes one province's silence for agreement.
    pub(crate) async fn get_from_every_oss<Answer: DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<Vec<Answer>, OssDeliveryError> {
        let base_urls = self.national_url.iter().chain(self.provincial_urls.values());
        let mut answers = Vec::new();
        for base_url in base_urls {
            answers.push(self.get(base_url, path_and_query).await?);
        }
        Ok(answers)
    }

    /// GETs `path_and_query` at `base_url`, signed with the shared secret; the OSS's answer.
    async fn get<Answer: DeserializeOwned>(
        &self,
        base_url: &str,
        path_and_query: &str,
    ) -> Result<Answer, OssDeliveryError> {
        let caller = (PLATFORM_CLIENT_NAME, &self.secret);
        let now = self.clock.now_unix_seconds();
        self.admit(base_url)?;
        let sent = signed_get(&self.http, base_url, path_and_query, caller, now).await;
        let response = self.reached(base_url, sent)?;
        if !response.status().is_success() {
            return Err(OssDeliveryError::Refused { status: response.status().as_u16() });
        }
        response.json().await.map_err(OssDeliveryError::UnreadableAnswer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_process::clock::SystemClock;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback address nothing listens on: every call is refused at once.
    fn refusing_url() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{address}")
    }

    /// A loopback HTTP server answering every request `200 {}`, counting the requests it was sent.
    async fn answering_url() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = requests.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut request = vec![0u8; 16 * 1024];
                    let _ = socket.read(&mut request).await;
                    let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\
                                  connection: close\r\n\r\n{}";
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        (format!("http://{address}"), requests)
    }

    fn hub_client(beijing_url: String, guangdong_url: String) -> OssClient {
        let province = |code| ProvinceCode::parse(code).unwrap();
        OssClient {
            national_url: None,
            provincial_urls: BTreeMap::from([(province("BJ"), beijing_url), (province("GD"), guangdong_url)]),
            routing: Default::default(),
            http: reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap(),
            secret: ComponentSecret::parse("a shared secret of at least 32 characters").unwrap(),
            clock: Arc::new(SystemClock),
            breakers: Arc::new(OssBreakers::default()),
        }
    }

    async fn charge(client: &OssClient, province: &str) -> Result<serde_json::Value, OssDeliveryError> {
        let msisdn = Msisdn::parse("13801008000").unwrap();
        let province = Some(ProvinceCode::parse(province).unwrap());
        client.post_for_number((province, &msisdn), numbind_wire::api::CHARGES_PATH, &serde_json::json!({})).await
    }

    #[tokio::test]
    async fn a_province_unreachable_three_times_in_a_row_is_paused_and_the_other_province_is_not() {
        let (guangdong_url, guangdong_requests) = answering_url().await;
        let client = hub_client(refusing_url(), guangdong_url);
        for _ in 0..3 {
            assert!(matches!(charge(&client, "BJ").await, Err(OssDeliveryError::Transport(_))));
        }
        let paused = charge(&client, "BJ").await;
        assert!(matches!(paused, Err(OssDeliveryError::Paused { seconds_left: 1..=5 })), "{paused:?}");
        assert!(charge(&client, "GD").await.is_ok(), "Guangdong's OSS is called as before");
        assert_eq!(guangdong_requests.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
