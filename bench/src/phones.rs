//! Phones and subscribers: OSS subscribers created in bulk, and a phone texting the short code via the SMS
//! centre's phone API.

use crate::http_load::{connect, exchange, request_bytes, send_all, Target};
use crate::system::SHORT_CODE;
use std::net::SocketAddr;

/// The `index`-th bench phone number (`133` numbers, none of them demo subscribers).
pub fn phone_number(index: usize) -> String {
    format!("133{:08}", index % 100_000_000)
}

/// Creates active postpaid subscribers (one box each) for phones `first..first + count`.
pub async fn create_subscribers(oss: impl Into<Target>, first: usize, count: usize) -> anyhow::Result<()> {
    let phones: Vec<String> = (first..first + count).map(phone_number).collect();
    create_subscribers_numbered(oss, &phones).await
}

/// Creates active postpaid subscribers (one box each) numbered `phones`.
pub async fn create_subscribers_numbered(oss: impl Into<Target>, phones: &[String]) -> anyhow::Result<()> {
    let requests = phones
        .iter()
        .map(|phone| {
            let body = serde_json::json!({
                "msisdn": phone, "status": "active", "plan": "postpaid", "device_limit": 1,
            });
            request_bytes("POST", "/v1/subscribers", &[], body.to_string().as_bytes())
        })
        .collect();
    send_all(oss, requests, 16).await?;
    Ok(())
}

/// The phone texts `text` to the short code; returns once the SMS centre accepted it (202).
pub async fn send_sms(smsc_http: SocketAddr, phone: &str, text: &str) -> anyhow::Result<()> {
    let body = serde_json::json!({ "to": SHORT_CODE, "text": text });
    let request = request_bytes("POST", &format!("/v1/phones/{phone}/messages"), &[], body.to_string().as_bytes());
    let mut stream = connect(smsc_http).await?;
    let response = exchange(&mut stream, &request, &mut Vec::new()).await?;
    anyhow::ensure!(response.status == 202, "the sms centre answered {}", response.status);
    Ok(())
}
