//! `phone send` and `phone inbox`: a handset talking to the SMS centre's phone API.

use crate::domain::receipt::format_utc;
use anyhow::{bail, Context};
use numbind_wire::api::ErrorBody;
use numbind_wire::{Msisdn, ShortCode};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// Act as a phone: send an SMS, read an inbox.
#[derive(clap::Args, Debug)]
pub struct PhoneArgs {
    /// Base URL of the SMS centre's phone API.
    #[arg(long, env = "NUMBIND_SMSC_URL", default_value = "http://127.0.0.1:8081", global = true)]
    pub smsc_url: String,
    #[command(subcommand)]
    pub command: PhoneCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum PhoneCommand {
    /// Send an SMS from a phone to a short code: `send --from 13800138000 --to 10658000 "BIND WDJBMJHT"`.
    Send {
        /// The sending phone's number.
        #[arg(long, env = "NUMBIND_PHONE_FROM")]
        from: String,
        /// The short code to text.
        #[arg(long, env = "NUMBIND_PHONE_TO", default_value = "10658000")]
        to: String,
        /// The message text.
        text: String,
    },
    /// Print a phone's inbox, oldest first, one line per message (time, from, text).
    Inbox {
        /// The phone's number.
        msisdn: String,
        /// Wait until the inbox holds at least this many messages.
        #[arg(long, env = "NUMBIND_PHONE_WAIT_FOR")]
        wait_for: Option<usize>,
        /// Give up waiting after this many seconds.
        #[arg(long, env = "NUMBIND_PHONE_TIMEOUT_SECONDS", default_value_t = 30)]
        timeout_seconds: u64,
    },
}

#[derive(Debug, Deserialize)]
struct SendResponse {
    message_id: String,
    state: String,
}

#[derive(Debug, Deserialize)]
struct InboxResponse {
    messages: Vec<InboxMessage>,
}

#[derive(Debug, Deserialize)]
struct InboxMessage {
    from: String,
    text: String,
    received_at_unix_ms: i64,
}

/// How long one call to the SMS centre may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one phone command and prints its human-readable result on stdout.
pub async fn phone(args: PhoneArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().timeout(CALL_TIMEOUT).build()?;
    let base = args.smsc_url.trim_end_matches('/');
    match args.command {
        PhoneCommand::Send { from, to, text } => {
            let from = Msisdn::parse(&from).context("--from")?;
            let to = ShortCode::parse(&to).context("--to")?;
            let url = format!("{base}/v1/phones/{}/messages", from.as_digits());
            let body = serde_json::json!({ "to": to.as_str(), "text": text });
            let response =
                client.post(url).json(&body).send().await.map_err(|error| without_the_number(base, error))?;
            if !response.status().is_success() {
                bail!("the sms centre refused the message: {}", describe_error(response).await);
            }
            let sent: SendResponse = response.json().await.map_err(|error| without_the_number(base, error))?;
            println!("{} message {} to {to}", sent.state, sent.message_id);
            Ok(())
        }
        PhoneCommand::Inbox { msisdn, wait_for, timeout_seconds } => {
            let phone = Msisdn::parse(&msisdn).context("msisdn")?;
            let url = format!("{base}/v1/phones/{}/inbox", phone.as_digits());
            let deadline = Instant::now() + Duration::from_secs(timeout_seconds);
            loop {
                let response = client.get(&url).send().await.map_err(|error| without_the_number(base, error))?;
                if !response.status().is_success() {
                    bail!("the sms centre refused the inbox request: {}", describe_error(response).await);
                }
                let inbox: InboxResponse = response.json().await.map_err(|error| without_the_number(base, error))?;
                let enough = inbox.messages.len() >= wait_for.unwrap_or(0);
                if enough || Instant::now() >= deadline {
                    for message in &inbox.messages {
                        println!("{}  {}  {}", format_utc(message.received_at_unix_ms), message.from, message.text);
                    }
                    if !enough {
                        bail!("only {} of {} messages arrived in time", inbox.messages.len(), wait_for.unwrap_or(0));
                    }
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

/// A failed call, told without its URL (the URL holds the phone's full number, and this lands on a terminal): an
/// SMS centre that is down or silent is said in words with its address and what to check, other failures with the
/// HTTP client's own chain.
fn without_the_number(base: &str, error: reqwest::Error) -> anyhow::Error {
    if error.is_connect() {
        return anyhow::anyhow!(
            "the SMS centre at {base} is not answering (the connection failed): start it (`numbind up` or \
             `numbind sms-sim`), or name where it listens with --smsc-url / NUMBIND_SMSC_URL"
        );
    }
    if error.is_timeout() {
        return anyhow::anyhow!("the SMS centre at {base} did not answer within {} s", CALL_TIMEOUT.as_secs());
    }
    anyhow::Error::new(error.without_url()).context(format!("calling the sms centre at {base}"))
}

async fn describe_error(response: reqwest::Response) -> String {
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => format!("{status}: {:?}: {}", body.code, body.message),
        Err(_) => status.to_string(),
    }
}
