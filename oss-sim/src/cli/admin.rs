//! `subscriber add|set|show|list` and `bindings`: HTTP clients of the OSS admin API (`subscriber limits` and
//! `charges` are in `billing`).

use crate::domain::binding::BindingRecordState;
use crate::domain::subscriber::{Plan, Subscriber, SubscriberStatus};
use crate::http::bindings::BindingList;
use crate::http::subscribers::{CreateSubscriberRequest, SubscriberList, UpdateSubscriberRequest};
use anyhow::Context;
use numbind_wire::api::{ApiErrorCode as ErrorCode, ErrorBody};
use numbind_wire::{Msisdn, TerminalId};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// Where the admin API is and how to authenticate.
#[derive(clap::Args, Debug)]
pub struct AdminClientArgs {
    /// Base URL of the OSS admin API (`--url` also works).
    #[arg(
        long = "oss-url",
        visible_alias = "url",
        env = "NUMBIND_OSS_URL",
        default_value = "https://127.0.0.1:8082",
        global = true
    )]
    pub url: String,
    /// PEM certificate authorities trusted for `https://` (default: `<data-dir>/tls/ca.pem`, made by `numbind up`).
    #[arg(long, env = "NUMBIND_CA_FILE", global = true)]
    pub ca_file: Option<PathBuf>,
    /// File holding the admin token (else the NUMBIND_OSS_ADMIN_TOKEN variable, else the token `numbind up` keeps
    /// in <data-dir>/secrets/oss-admin.token).
    #[arg(long, env = "NUMBIND_OSS_ADMIN_TOKEN_FILE", global = true)]
    pub admin_token_file: Option<PathBuf>,
    /// The data directory of a `numbind up` whose admin token to use when no other is given.
    #[arg(long, env = "NUMBIND_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
}

/// Where `numbind up` keeps the OSS admin token, inside its data directory.
pub const UP_ADMIN_TOKEN_FILE: &str = "secrets/oss-admin.token";

/// The OSS admin token: from `file`, else the NUMBIND_OSS_ADMIN_TOKEN variable, else `numbind up`'s token file in
/// `data_dir` if there is one; `None` when there is none of these.
pub fn admin_token(file: Option<&Path>, data_dir: &Path) -> anyhow::Result<Option<String>> {
    if let Some(token) = super::read_secret(file, "NUMBIND_OSS_ADMIN_TOKEN")? {
        return Ok(Some(token));
    }
    let up_token = data_dir.join(UP_ADMIN_TOKEN_FILE);
    if up_token.exists() {
        return super::read_secret(Some(&up_token), "NUMBIND_OSS_ADMIN_TOKEN");
    }
    Ok(None)
}

/// Manage subscribers.
#[derive(clap::Args, Debug)]
pub struct SubscriberArgs {
    #[command(flatten)]
    pub client: AdminClientArgs,
    #[command(subcommand)]
    pub command: SubscriberCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum SubscriberCommand {
    /// Add a subscriber: `add --msisdn 13800138000 --status active --plan postpaid --device-limit 2`.
    Add {
        /// The subscriber's number.
        #[arg(long, env = "NUMBIND_OSS_MSISDN", value_parser = Msisdn::parse)]
        msisdn: Msisdn,
        /// active, suspended_for_arrears, blacklisted or cancelled.
        #[arg(long, env = "NUMBIND_OSS_STATUS", default_value = "active", value_parser = SubscriberStatus::parse)]
        status: SubscriberStatus,
        /// prepaid or postpaid.
        #[arg(long, env = "NUMBIND_OSS_PLAN", default_value = "postpaid", value_parser = Plan::parse)]
        plan: Plan,
        /// Most terminals this number may pay for.
        #[arg(long, env = "NUMBIND_OSS_DEVICE_LIMIT", default_value_t = 2)]
        device_limit: u32,
        /// The number has not subscribed to paying for services (代付).
        #[arg(long, env = "NUMBIND_OSS_NO_BILLING")]
        no_billing: bool,
        /// Prepaid balance in fen.
        #[arg(long, env = "NUMBIND_OSS_BALANCE_FEN", default_value_t = 0, allow_negative_numbers = true)]
        balance_fen: i64,
        /// When the number is a subscriber already, set it to these fields (an upsert) instead of refusing.
        #[arg(long)]
        update: bool,
    },
    /// Change a subscriber's fields: `set 13800138000 --status suspended_for_arrears`.
    Set {
        /// The subscriber's number.
        #[arg(value_parser = Msisdn::parse)]
        msisdn: Msisdn,
        /// active, suspended_for_arrears, blacklisted or cancelled.
        #[arg(long, env = "NUMBIND_OSS_STATUS", value_parser = SubscriberStatus::parse)]
        status: Option<SubscriberStatus>,
        /// prepaid or postpaid.
        #[arg(long, env = "NUMBIND_OSS_PLAN", value_parser = Plan::parse)]
        plan: Option<Plan>,
        /// Most terminals this number may pay for.
        #[arg(long, env = "NUMBIND_OSS_DEVICE_LIMIT")]
        device_limit: Option<u32>,
        /// true or false: whether the number pays for services (代付).
        #[arg(long, env = "NUMBIND_OSS_BILLING_ALLOWED")]
        billing_allowed: Option<bool>,
        /// Prepaid balance in fen.
        #[arg(long, env = "NUMBIND_OSS_BALANCE_FEN", allow_negative_numbers = true)]
        balance_fen: Option<i64>,
    },
    /// Print one subscriber.
    Show {
        /// The subscriber's number.
        #[arg(value_parser = Msisdn::parse)]
        msisdn: Msisdn,
    },
    /// Print every subscriber, one per line.
    List,
    /// A subscriber's own charge limits (over the operator's): `limits get|set 13800138000 ...`.
    Limits {
        #[command(subcommand)]
        command: super::billing::LimitsCommand,
    },
}

/// List binding records, one per line, optionally for one number or one terminal.
#[derive(clap::Args, Debug)]
pub struct BindingsArgs {
    #[command(flatten)]
    pub client: AdminClientArgs,
    /// Only this number's bindings.
    #[arg(long, env = "NUMBIND_OSS_MSISDN", value_parser = Msisdn::parse)]
    pub msisdn: Option<Msisdn>,
    /// Only this terminal's bindings (`--terminal` also works).
    #[arg(long = "terminal-id", visible_alias = "terminal", env = "NUMBIND_OSS_TERMINAL", value_parser = TerminalId::parse)]
    pub terminal: Option<TerminalId>,
    /// Only active (or revoked) bindings.
    #[arg(long, env = "NUMBIND_OSS_BINDING_STATE", value_parser = parse_binding_state)]
    pub state: Option<BindingRecordState>,
}

fn parse_binding_state(text: &str) -> Result<BindingRecordState, String> {
    BindingRecordState::parse(text).ok_or_else(|| "state must be active or revoked".to_owned())
}

/// The OSS answered with an error body.
#[derive(Debug, thiserror::Error)]
#[error("oss answered {status} {:?}: {}", body.code, body.message)]
pub(super) struct OssRefused {
    status: reqwest::StatusCode,
    body: ErrorBody,
}

pub(super) struct AdminClient {
    pub(super) http: reqwest::Client,
    pub(super) url: String,
    token: Option<String>,
}

impl AdminClient {
    pub(super) fn new(args: &AdminClientArgs) -> anyhow::Result<Self> {
        let token = admin_token(args.admin_token_file.as_deref(), &args.data_dir)?;
        let local_authority = args.data_dir.join("tls").join("ca.pem");
        let ca_file = args.ca_file.clone().or_else(|| local_authority.exists().then_some(local_authority));
        let http = numbind_process::tls::http_client_builder(ca_file.as_deref())?.build()?;
        Ok(AdminClient { http, url: args.url.trim_end_matches('/').to_owned(), token })
    }

    pub(super) async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> anyhow::Result<T> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.with_context(|| format!("calling the oss at {}", self.url))?;
        let status = response.status();
        let bytes = response.bytes().await.context("reading the oss answer")?;
        if !status.is_success() {
            let error: ErrorBody = serde_json::from_slice(&bytes).with_context(|| format!("oss answered {status}"))?;
            return Err(OssRefused { status, body: error }.into());
        }
        serde_json::from_slice(&bytes).context("the oss answer is not understood")
    }
}

fn subscriber_line(subscriber: &Subscriber) -> String {
    format!(
        "{} {} {} device_limit={} billing_allowed={} balance_fen={}",
        subscriber.msisdn.as_digits(),
        subscriber.status.as_str(),
        subscriber.plan.as_str(),
        subscriber.device_limit,
        subscriber.billing_allowed,
        subscriber.balance_fen
    )
}

pub(super) async fn subscriber(args: SubscriberArgs) -> anyhow::Result<()> {
    let client = AdminClient::new(&args.client)?;
    let base = format!("{}/v1/subscribers", client.url);
    let subscribers: Vec<Subscriber> = match args.command {
        SubscriberCommand::Add { msisdn, status, plan, device_limit, no_billing, balance_fen, update } => {
            let body = CreateSubscriberRequest {
                msisdn,
                status,
                plan,
                device_limit,
                billing_allowed: !no_billing,
                balance_fen,
            };
            vec![add_subscriber(&client, &base, body, update).await?]
        }
        SubscriberCommand::Set { msisdn, status, plan, device_limit, billing_allowed, balance_fen } => {
            let body = UpdateSubscriberRequest { status, plan, device_limit, billing_allowed, balance_fen };
            let url = format!("{base}/{}", msisdn.as_digits());
            vec![client.send(client.http.patch(url).json(&body)).await?]
        }
        SubscriberCommand::Show { msisdn } => {
            vec![client.send(client.http.get(format!("{base}/{}", msisdn.as_digits()))).await?]
        }
        SubscriberCommand::List => client.send::<SubscriberList>(client.http.get(&base)).await?.subscribers,
        SubscriberCommand::Limits { command } => return super::billing::limits(&client, command).await,
    };
    for subscriber in &subscribers {
        println!("{}", subscriber_line(subscriber));
    }
    Ok(())
}

/// Adds a subscriber; when the number is one already, sets its fields with `update`, else refuses and says what
/// exists (the number masked: the refusal goes to stderr).
async fn add_subscriber(
    client: &AdminClient,
    base: &str,
    body: CreateSubscriberRequest,
    update: bool,
) -> anyhow::Result<Subscriber> {
    let added = client.send::<Subscriber>(client.http.post(base).json(&body)).await;
    let Err(error) = added else { return added };
    let exists =
        error.downcast_ref::<OssRefused>().is_some_and(|refused| refused.body.code == ErrorCode::SubscriberExists);
    if !exists {
        return Err(error);
    }
    let url = format!("{base}/{}", body.msisdn.as_digits());
    let existing: Subscriber = client.send(client.http.get(&url)).await?;
    if !update {
        let masked = subscriber_line(&existing).replacen(existing.msisdn.as_digits(), &existing.msisdn.masked(), 1);
        anyhow::bail!(
            "a subscriber with this number exists: {masked}; pass --update to set it to the given fields, \
             or change single fields with `subscriber set`"
        );
    }
    let changes = UpdateSubscriberRequest {
        status: Some(body.status),
        plan: Some(body.plan),
        device_limit: Some(body.device_limit),
        billing_allowed: Some(body.billing_allowed),
        balance_fen: Some(body.balance_fen),
    };
    client.send(client.http.patch(&url).json(&changes)).await
}

pub(super) async fn bindings(args: BindingsArgs) -> anyhow::Result<()> {
    let client = AdminClient::new(&args.client)?;
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(msisdn) = &args.msisdn {
        query.push(("msisdn", msisdn.as_digits().to_owned()));
    }
    if let Some(terminal) = &args.terminal {
        query.push(("terminal_id", terminal.as_str().to_owned()));
    }
    if let Some(state) = args.state {
        query.push(("state", state.as_str().to_owned()));
    }
    let request = client.http.get(format!("{}/v1/bindings", client.url)).query(&query);
    let list: BindingList = client.send(request).await?;
    for binding in &list.bindings {
        println!(
            "{} {} {} {} {:?} activation={}",
            binding.binding_id,
            binding.msisdn.as_digits(),
            binding.terminal_id,
            binding.state.as_str(),
            binding.device_model,
            binding.activation_id
        );
    }
    Ok(())
}
