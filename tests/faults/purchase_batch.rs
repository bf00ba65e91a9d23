//! The purchase batch: bound boxes buy, a third of the purchases above the confirmation threshold (the bound
//! phone confirms with `Y <number>` read from its inbox), the merchant retries every unanswered call with the SAME
//! `Idempotency-Key`, every MO SMS is delivered twice, and the platform, the OSS and the SMS centre are each killed
//! with SIGKILL at random moments (the seed is printed; `NUMBIND_FAULT_SEED` replays it) and restarted.
//! Afterwards every payment is final and succeeded, the platform's ledger equals the OSS's bill lines amount for
//! amount, nothing was charged twice, and each phone got exactly one receipt per completed charge.

use crate::helpers::{Component, System, SystemOptions, SHORT_CODE};
use crate::launch::random_u64;
use numbind_device_agent::{Agent, AgentConfig, AgentEvent, PurchaseOutcome, PurchaseRequest};
use numbind_wire::api::{CreatePaymentRequest, Payment, PaymentState, IDEMPOTENCY_KEY_HEADER};
use numbind_wire::statement::PlatformPublicKey;
use numbind_wire::{Amount, Currency, ItemDescription, ItemId, MerchantId};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

const BOXES: usize = 36;
/// Each box buys at least this many, and goes on buying until the last kill is over, so that every kill lands on
/// the batch: at least `BOXES * PURCHASES_PER_BOX` purchases in all.
const PURCHASES_PER_BOX: usize = 9;
const PURCHASES: usize = BOXES * PURCHASES_PER_BOX;
/// The platform's default confirmation threshold: ¥30.00.
const THRESHOLD_FEN: i64 = 3_000;
const BATCH_TIMEOUT: Duration = Duration::from_secs(180);
/// How long the payments, charges and receipts may take to settle once the batch is over.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Kills of each component over the batch.
const KILLS_OF_EACH: usize = 2;
const PREPAID_BALANCE_FEN: i64 = 1_000_000;
const MERCHANT: &str = "fault-films";

fn msisdn_of(index: usize) -> String {
    format!("131{:08}", index)
}

/// A small deterministic generator (splitmix64): the seed decides every random moment and amount.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, limit: u64) -> u64 {
        self.next() % limit
    }
}

/// What the box, merchant and phone tasks need of the system (the system itself stays with the fault injector).
struct World {
    http: reqwest::Client,
    platform_url: String,
    smsc_url: String,
    merchant_id: MerchantId,
    merchant_token: String,
    deadline: Instant,
    /// Set once the last kill is over (its component restarted).
    faults_done: std::sync::atomic::AtomicBool,
    /// Merchant calls sent and not yet answered.
    submitting: AtomicUsize,
    /// Two-step purchases whose phone waits for the confirmation SMS.
    awaiting_sms: AtomicUsize,
    /// Two-step purchases whose phone sent `Y <number>` and whose box has not seen the outcome yet.
    replied: AtomicUsize,
}

/// One purchase as the merchant, the box and the phone saw it.
#[derive(Debug)]
struct Purchase {
    box_index: usize,
    reference_code: String,
    amount_fen: i64,
    /// Every payment ID the merchant's successful calls under the purchase's one key answered.
    answered_ids: Vec<String>,
    /// Calls that got no answer (transport error, 5xx, 429, `in_progress`) and were retried with the same key.
    retried_calls: usize,
    confirmed_by_sms: bool,
    box_outcome: PurchaseOutcome,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_purchase_is_charged_once_and_receipted_once_through_crashes_and_duplicate_deliveries() {
    let seed = std::env::var("NUMBIND_FAULT_SEED").ok().and_then(|text| text.parse().ok()).unwrap_or_else(random_u64);
    eprintln!("purchase batch: seed {seed} (replay the kill moments with NUMBIND_FAULT_SEED={seed})");
    let started_at = Instant::now();
    let options = SystemOptions {
        duplicate_mo_deliveries: true,
        log_filter: Some("info,hyper=warn,h2=warn,reqwest=warn,rustls=warn"),
        ..SystemOptions::default()
    };
    let mut system = System::start_with(options).await;
    add_subscribers(&system).await;
    let agents = bind_boxes(&system).await;
    let (merchant_id, merchant_token) = merchant_credentials(&system).await;
    let prepared = started_at.elapsed();
    let world = Arc::new(World {
        http: system.http.clone(),
        platform_url: system.platform_url.clone(),
        smsc_url: system.smsc_url.clone(),
        merchant_id,
        merchant_token,
        deadline: Instant::now() + BATCH_TIMEOUT,
        faults_done: std::sync::atomic::AtomicBool::new(false),
        submitting: AtomicUsize::new(0),
        awaiting_sms: AtomicUsize::new(0),
        replied: AtomicUsize::new(0),
    });

    let mut rng = Rng(seed);
    let mut boxes = JoinSet::new();
    for (index, agent) in agents {
        boxes.spawn(one_box(world.clone(), index, agent, rng.next()));
    }
    let kills = inject_faults(&mut system, &world, &mut rng).await;
    let mut purchases = Vec::new();
    while let Some(finished) =
        tokio::time::timeout_at(world.deadline, boxes.join_next()).await.expect("the batch finished in time")
    {
        purchases.extend(finished.expect("a box task"));
    }
    let batch_time = started_at.elapsed() - prepared;
    check_the_outcome(&system, &world, &purchases, &kills).await;
    eprintln!(
        "purchase batch: {} purchases ({} two-step) in {batch_time:?} after {prepared:?} of setup, {:?} in all",
        purchases.len(),
        purchases.iter().filter(|purchase| purchase.confirmed_by_sms).count(),
        started_at.elapsed()
    );
}

/// Prepaid and postpaid subscribers, with limits that refuse nothing in this batch (no interval between charges).
async fn add_subscribers(system: &System) {
    for index in 0..BOXES {
        let plan = if index.is_multiple_of(2) { "prepaid" } else { "postpaid" };
        let body = serde_json::json!({
            "msisdn": msisdn_of(index), "status": "active", "plan": plan, "device_limit": 1,
            "balance_fen": if plan == "prepaid" { PREPAID_BALANCE_FEN } else { 0 }
        });
        let request = system.oss_admin(system.http.post(format!("{}/v1/subscribers", system.oss_url)));
        let response = request.json(&body).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 201, "adding subscriber {index}");
        let limits = serde_json::json!({
            "max_per_charge_fen": 100_000, "daily_fen": 10_000_000, "monthly_fen": 10_000_000,
            "min_interval_seconds": 0, "credit_limit_fen": 10_000_000
        });
        let url = format!("{}/v1/subscribers/{}/charge-limits", system.oss_url, msisdn_of(index));
        let response = system.oss_admin(system.http.put(url)).json(&limits).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "setting subscriber {index}'s limits");
    }
}

fn agent_config(system: &System, index: usize, platform_key: &PlatformPublicKey) -> AgentConfig {
    let mut config =
        AgentConfig::new(system.path(&format!("box-{index}")), system.platform_url.clone(), vec![platform_key.clone()]);
    config.platform_authorities_pem = Some(std::fs::read(&system.ca_file).expect("the system's authority"));
    config.retry_base = Duration::from_millis(100);
    config.retry_cap = Duration::from_secs(1);
    config.long_poll_wait = Duration::from_secs(5);
    config.request_timeout = Duration::from_secs(5);
    config
}

/// Binds every box before the faults begin: it boots, shows its code, its phone texts it.
async fn bind_boxes(system: &System) -> Vec<(usize, Agent)> {
    let platform_key = PlatformPublicKey::parse(&std::fs::read_to_string(&system.platform_key_file).unwrap()).unwrap();
    let mut binding = JoinSet::new();
    for index in 0..BOXES {
        let agent = Agent::new(agent_config(system, index, &platform_key)).unwrap();
        let (http, smsc_url) = (system.http.clone(), system.smsc_url.clone());
        binding.spawn(async move {
            let (sender, mut codes) = tokio::sync::mpsc::unbounded_channel();
            let mut on_event = move |event: AgentEvent| {
                if let AgentEvent::ActivationShown(display) = event {
                    let _ = sender.send(display.sms_text.clone());
                }
            };
            let phone = tokio::spawn(async move {
                while let Some(text) = codes.recv().await {
                    phone_sends(&http, &smsc_url, &msisdn_of(index), &text, Instant::now() + BATCH_TIMEOUT).await;
                }
            });
            tokio::time::timeout(BATCH_TIMEOUT, agent.run_until_bound(&mut on_event))
                .await
                .expect("the box was bound in time")
                .unwrap();
            phone.abort();
            (index, agent)
        });
    }
    let mut agents = Vec::new();
    while let Some(bound) = binding.join_next().await {
        agents.push(bound.unwrap());
    }
    agents.sort_by_key(|(index, _)| *index);
    agents
}

/// `numbind merchant create` with a credentials file, read back: the merchant's ID and bearer token.
async fn merchant_credentials(system: &System) -> (MerchantId, String) {
    let (path, output) = system.create_merchant(MERCHANT, "故障影院").await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let credentials: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let merchant_id = MerchantId::parse(credentials["merchant_id"].as_str().unwrap()).unwrap();
    (merchant_id, credentials["token"].as_str().unwrap().to_owned())
}

/// A phone sends an SMS to the short code until the SMS centre takes it (202), as a user retries.
async fn phone_sends(http: &reqwest::Client, smsc_url: &str, from: &str, text: &str, deadline: Instant) {
    let body = serde_json::json!({ "to": SHORT_CODE, "text": text });
    let url = format!("{smsc_url}/v1/phones/{from}/messages");
    loop {
        let sent = http.post(&url).json(&body).timeout(Duration::from_secs(5)).send().await;
        if sent.is_ok_and(|response| response.status().as_u16() == 202) {
            return;
        }
        assert!(Instant::now() < deadline, "the SMS centre never took {from}'s SMS {text:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A phone's inbox on the SMS centre (retried while the SMS centre is down).
async fn inbox(http: &reqwest::Client, smsc_url: &str, msisdn: &str, deadline: Instant) -> Vec<String> {
    let url = format!("{smsc_url}/v1/phones/{msisdn}/inbox");
    loop {
        let read = async {
            let response = http.get(&url).timeout(Duration::from_secs(5)).send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            response.json::<Value>().await.ok()
        };
        if let Some(body) = read.await {
            let messages = body["messages"].as_array().cloned().unwrap_or_default();
            return messages.iter().filter_map(|message| message["text"].as_str().map(str::to_owned)).collect();
        }
        assert!(Instant::now() < deadline, "{msisdn}'s inbox could not be read");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One bound box buying its items one after the other, at least `PURCHASES_PER_BOX` and until the faults are over.
async fn one_box(world: Arc<World>, index: usize, agent: Agent, seed: u64) -> Vec<Purchase> {
    let mut rng = Rng(seed);
    let mut purchases = Vec::new();
    for number in 0.. {
        if number >= PURCHASES_PER_BOX && world.faults_done.load(Ordering::SeqCst) {
            break;
        }
        purchases.push(one_purchase(&world, index, number, &agent, &mut rng).await);
    }
    purchases
}

async fn one_purchase(world: &World, index: usize, number: usize, agent: &Agent, rng: &mut Rng) -> Purchase {
    let two_step = (index + number).is_multiple_of(3);
    let amount_fen = if two_step { THRESHOLD_FEN + rng.below(7_000) as i64 } else { 100 + rng.below(2_900) as i64 };
    // The description is unique, so that the phone finds this purchase's confirmation SMS among the others.
    let description = format!("影片{index}-{number}");
    let request = PurchaseRequest {
        merchant_id: world.merchant_id.clone(),
        item_id: ItemId::parse(&format!("film-{index}-{number}")).unwrap(),
        item_description: ItemDescription::parse(&description).unwrap(),
        amount: Amount::from_minor_units(amount_fen).unwrap(),
        currency: Currency::Cny,
    };
    let signed = agent.sign_purchase(request).unwrap();
    let reference_code = format!("order-{index}-{number}");
    let body =
        CreatePaymentRequest { signed_intent: signed.signed_intent.clone(), reference_code: reference_code.clone() };
    let key = format!("pf-{index}-{number}-{:016x}", rng.next());
    let (payment, mut retried_calls) = merchant_submits(world, &key, &body).await;
    // A careful merchant that is unsure whether its answer arrived asks again with the same key.
    let (again, retried_again) = merchant_submits(world, &key, &body).await;
    retried_calls += retried_again;
    let answered_ids = vec![payment.payment_id.to_string(), again.payment_id.to_string()];
    assert_eq!(
        payment.state == PaymentState::PendingConfirmation,
        two_step,
        "purchase {reference_code} of {amount_fen} fen: {payment:?}"
    );
    if two_step {
        let msisdn = msisdn_of(index);
        world.awaiting_sms.fetch_add(1, Ordering::SeqCst);
        let number = confirmation_number(world, &msisdn, &description).await;
        world.awaiting_sms.fetch_sub(1, Ordering::SeqCst);
        world.replied.fetch_add(1, Ordering::SeqCst);
        phone_sends(&world.http, &world.smsc_url, &msisdn, &format!("Y {number}"), world.deadline).await;
    }
    let waited = tokio::time::timeout_at(world.deadline, agent.await_purchase(&signed.intent_nonce, |_| {})).await;
    if two_step {
        world.replied.fetch_sub(1, Ordering::SeqCst);
    }
    let box_outcome = waited
        .unwrap_or_else(|_| panic!("box {index} never saw {reference_code} final"))
        .unwrap_or_else(|error| panic!("box {index} following {reference_code}: {error}"));
    Purchase {
        box_index: index,
        reference_code,
        amount_fen,
        answered_ids,
        retried_calls,
        confirmed_by_sms: two_step,
        box_outcome,
    }
}

/// `POST /v1/payments` under `key`, retried with the SAME key on a transport error, 5xx, 429 or `in_progress`;
/// the payment and how many calls were retried.
async fn merchant_submits(world: &World, key: &str, body: &CreatePaymentRequest) -> (Payment, usize) {
    let url = format!("{}/v1/payments", world.platform_url);
    let mut retried = 0;
    let mut delay = Duration::from_millis(100);
    loop {
        world.submitting.fetch_add(1, Ordering::SeqCst);
        let sent = world
            .http
            .post(&url)
            .bearer_auth(&world.merchant_token)
            .header(IDEMPOTENCY_KEY_HEADER, key)
            .json(body)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        let why = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.bytes().await {
                    Ok(bytes) if status == 201 => match serde_json::from_slice::<Payment>(&bytes) {
                        Ok(payment) => {
                            world.submitting.fetch_sub(1, Ordering::SeqCst);
                            return (payment, retried);
                        }
                        Err(error) => format!("unreadable payment: {error}"),
                    },
                    Ok(bytes) => {
                        let text = String::from_utf8_lossy(&bytes).into_owned();
                        let retryable = status >= 500 || status == 429 || text.contains("\"in_progress\"");
                        assert!(retryable, "the platform refused {} ({key}): {status} {text}", body.reference_code);
                        format!("{status} {text}")
                    }
                    Err(error) => format!("answer cut: {error}"),
                }
            }
            Err(error) => format!("transport: {error}"),
        };
        world.submitting.fetch_sub(1, Ordering::SeqCst);
        retried += 1;
        assert!(Instant::now() < world.deadline, "{} was never answered: {why}", body.reference_code);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}

/// The six digits of the confirmation SMS about `description` in the phone's inbox, once it arrives.
async fn confirmation_number(world: &World, msisdn: &str, description: &str) -> String {
    loop {
        let messages = inbox(&world.http, &world.smsc_url, msisdn, world.deadline).await;
        let asking = messages.iter().find(|text| text.contains("回复 Y") && text.contains(description));
        if let Some(text) = asking {
            let after = text.split("回复 Y ").nth(1).expect("Y and the number");
            let number: String = after.chars().take_while(char::is_ascii_digit).collect();
            assert_eq!(number.len(), 6, "six digits in {text}");
            return number;
        }
        assert!(Instant::now() < world.deadline, "no confirmation SMS about {description} reached {msisdn}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What a kill waits for, so that it lands on work in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Merchant calls unanswered: the platform creates the payment, the OSS charges it inline (or pre-checks it).
    MerchantCalls,
    /// Phones waiting for their confirmation SMS: the SMS centre carries it from the platform's outbox.
    ConfirmationRequests,
    /// `Y <number>` sent, outcome not yet seen by the box: SMS centre → OSS → platform → OSS charge → receipt.
    Replies,
}

/// The kills: each component twice (`KILLS_OF_EACH`), on two kinds of work.
const KILLS: [(Component, Target); 6] = [
    (Component::Platform, Target::MerchantCalls),
    (Component::Platform, Target::Replies),
    (Component::Oss, Target::MerchantCalls),
    (Component::Oss, Target::Replies),
    (Component::SmsCentre, Target::ConfirmationRequests),
    (Component::SmsCentre, Target::Replies),
];

/// One kill: which component, when, how long it stayed down, and the work in flight when it died.
#[derive(Debug)]
struct Kill {
    component: Component,
    target: Target,
    at: Duration,
    down: Duration,
    in_flight: InFlight,
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    merchant_calls: usize,
    confirmation_requests: usize,
    replies: usize,
}

impl InFlight {
    fn now(world: &World) -> InFlight {
        InFlight {
            merchant_calls: world.submitting.load(Ordering::SeqCst),
            confirmation_requests: world.awaiting_sms.load(Ordering::SeqCst),
            replies: world.replied.load(Ordering::SeqCst),
        }
    }

    fn of(self, target: Target) -> usize {
        match target {
            Target::MerchantCalls => self.merchant_calls,
            Target::ConfirmationRequests => self.confirmation_requests,
            Target::Replies => self.replies,
        }
    }
}

/// Kills in a random order, each after a random pause, then at a random moment (within 5 ms) at which its target
/// work is in flight; keeps the component down for a random while and restarts it. The boxes buy until this is
/// over, so there is always work in flight.
async fn inject_faults(system: &mut System, world: &World, rng: &mut Rng) -> Vec<Kill> {
    let mut plan = KILLS.to_vec();
    for at in (1..plan.len()).rev() {
        plan.swap(at, rng.below(at as u64 + 1) as usize);
    }
    let began = Instant::now();
    let mut kills = Vec::new();
    for (component, target) in plan {
        tokio::time::sleep(Duration::from_millis(300 + rng.below(1_700))).await;
        let in_flight = loop {
            assert!(Instant::now() < world.deadline, "no {target:?} in flight to kill {component:?} on: {kills:?}");
            if InFlight::now(world).of(target) > 0 {
                tokio::time::sleep(Duration::from_micros(rng.below(5_000))).await;
                let in_flight = InFlight::now(world);
                if in_flight.of(target) > 0 {
                    break in_flight;
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let at = began.elapsed();
        system.kill(component).await;
        let down = Duration::from_millis(rng.below(1_500));
        tokio::time::sleep(down).await;
        system.restart(component).await;
        kills.push(Kill { component, target, at, down, in_flight });
    }
    world.faults_done.store(true, Ordering::SeqCst);
    kills
}

/// All of the merchant's payments on the platform (`GET /v1/payments`, page by page).
async fn platform_payments(world: &World) -> Vec<Payment> {
    let mut payments = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut url = format!("{}/v1/payments?limit=200", world.platform_url);
        if let Some(after) = &after {
            url.push_str(&format!("&after={after}"));
        }
        let response = world.http.get(url).bearer_auth(&world.merchant_token).send().await.expect("list payments");
        assert!(response.status().is_success(), "listing payments answered {}", response.status());
        let page: Value = response.json().await.expect("json");
        payments.extend(serde_json::from_value::<Vec<Payment>>(page["payments"].clone()).expect("payments"));
        match page["next_after"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return payments,
        }
    }
}

/// Waits (bounded) until every payment the platform holds is final; returns them by payment ID.
async fn final_payments(world: &World) -> BTreeMap<String, Payment> {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        let payments = platform_payments(world).await;
        let open: Vec<_> = payments.iter().filter(|payment| !payment.state.is_final()).collect();
        if open.is_empty() {
            return payments.into_iter().map(|payment| (payment.payment_id.to_string(), payment)).collect();
        }
        assert!(
            Instant::now() < deadline,
            "1. {} payments are not final {SETTLE_TIMEOUT:?} after the batch: {:?}",
            open.len(),
            open.iter().map(|payment| (&payment.payment_id, payment.state)).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The OSS's charge records (`GET /v1/charges`, admin token), refunds left out.
async fn oss_charges(system: &System) -> Vec<Value> {
    let url = format!("{}/v1/charges?limit=5000", system.oss_url);
    let body: Value =
        system.oss_admin(system.http.get(url)).send().await.expect("oss charges").json().await.expect("json");
    let records = body["records"].as_array().cloned().unwrap_or_default();
    assert!(records.len() < 5000, "more charge records than one page holds");
    records.into_iter().filter(|record| record["kind"] == "charge").collect()
}

/// The receipt numbers (`收据号 <payment ID>`) in a phone's inbox, with how often each came.
fn receipts_in(messages: &[String]) -> BTreeMap<String, usize> {
    let mut receipts = BTreeMap::new();
    for text in messages.iter().filter(|text| text.contains("您已支付")) {
        let number = text.split("收据号 ").nth(1).unwrap_or_default();
        let payment_id: String = number.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        *receipts.entry(payment_id).or_insert(0) += 1;
    }
    receipts
}

async fn check_the_outcome(system: &System, world: &World, purchases: &[Purchase], kills: &[Kill]) {
    // The kills hit the batch: each component died at least twice while purchases were in flight.
    for kill in kills {
        let Kill { component, target, at, down, in_flight } = kill;
        eprintln!(
            "purchase batch: {component:?} killed at {at:?} on {target:?}, down {down:?}, in flight {in_flight:?}"
        );
    }
    for component in [Component::Platform, Component::Oss, Component::SmsCentre] {
        let hits = kills.iter().filter(|kill| kill.component == component && kill.in_flight.of(kill.target) > 0);
        let hits = hits.count();
        assert!(hits >= KILLS_OF_EACH, "{component:?} was killed {hits} times with its work in flight: {kills:?}");
    }
    assert!(purchases.len() >= PURCHASES, "only {} purchases ran", purchases.len());
    let two_step = purchases.iter().filter(|purchase| purchase.confirmed_by_sms).count();
    assert!(two_step >= PURCHASES / 3, "a third are two-step: {two_step} of {}", purchases.len());

    // 1. Every payment is final; here none may be refused, so every one succeeded, as its box saw it.
    let payments = final_payments(world).await;
    let not_succeeded: Vec<_> = payments
        .values()
        .filter(|payment| payment.state != PaymentState::Succeeded)
        .map(|payment| (&payment.payment_id, &payment.reference_code, payment.state, payment.denial_reason))
        .collect();
    assert!(not_succeeded.is_empty(), "1. payments that did not succeed (no limit refuses any): {not_succeeded:?}");

    // 3. Each intent at most once at the platform; every retried call answered the same payment.
    let mut by_reference: BTreeMap<&str, Vec<&Payment>> = BTreeMap::new();
    for payment in payments.values() {
        by_reference.entry(payment.reference_code.as_str()).or_default().push(payment);
    }
    for purchase in purchases {
        let code = purchase.reference_code.as_str();
        let ids: BTreeSet<_> = purchase.answered_ids.iter().collect();
        assert_eq!(ids.len(), 1, "3. the merchant's calls for {code} answered different payments: {ids:?}");
        let held = by_reference.get(code).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(held.len(), 1, "3. the platform holds {} payments for the intent of {code}: {held:?}", held.len());
        assert_eq!(held[0].payment_id.as_str(), purchase.answered_ids[0], "3. {code}: the merchant got another ID");
        assert_eq!(held[0].amount.minor_units(), purchase.amount_fen, "3. {code}: the amount changed");
        match &purchase.box_outcome {
            PurchaseOutcome::Succeeded { payment_id } => {
                assert_eq!(payment_id.as_str(), purchase.answered_ids[0], "1. {code}: the box followed another payment")
            }
            other => panic!("1. box {} saw {code} end as {other:?}", purchase.box_index),
        }
    }
    assert_eq!(payments.len(), purchases.len(), "3. the platform holds payments nobody made: {}", payments.len());

    // 2 and 3. The platform's ledger equals the OSS's bill lines, amount for amount; each payment once there.
    let charges = oss_charges(system).await;
    let mut at_oss: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for charge in &charges {
        at_oss.entry(charge["payment_id"].as_str().unwrap_or_default().to_owned()).or_default().push(charge);
    }
    for (payment_id, records) in &at_oss {
        assert_eq!(records.len(), 1, "3. payment {payment_id} is at the OSS {} times: {records:?}", records.len());
        let payment = payments.get(payment_id);
        let succeeded = payment.is_some_and(|payment| payment.state == PaymentState::Succeeded);
        assert!(
            records[0]["outcome"] != "charged" || succeeded,
            "2. the OSS charged {payment_id}, which did not succeed on the platform: {records:?} vs {payment:?}"
        );
    }
    for payment in payments.values().filter(|payment| payment.state == PaymentState::Succeeded) {
        let payment_id = payment.payment_id.as_str();
        let records = at_oss.get(payment_id).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(records.len(), 1, "2. succeeded payment {payment_id} has {} OSS charges", records.len());
        let record = records[0];
        assert_eq!(record["outcome"], "charged", "2. {payment_id} succeeded but the OSS says {record}");
        assert_eq!(record["amount_fen"], payment.amount.minor_units(), "2. {payment_id}: amounts differ: {record}");
        assert_eq!(
            record["bill_line_id"].as_str(),
            payment.server_reference_code.as_deref(),
            "2. {payment_id}: the bill line is not the payment's server_reference_code"
        );
    }
    let platform_total: i64 = payments
        .values()
        .filter(|payment| payment.state == PaymentState::Succeeded)
        .map(|payment| payment.amount.minor_units())
        .sum();
    let oss_total: i64 = charges
        .iter()
        .filter(|charge| charge["outcome"] == "charged")
        .map(|charge| charge["amount_fen"].as_i64().unwrap_or_default())
        .sum();
    assert_eq!(platform_total, oss_total, "2. the platform's succeeded total and the OSS's charged total differ");

    // Prepaid numbers were debited exactly what they paid.
    for index in (0..BOXES).filter(|index| index.is_multiple_of(2)) {
        let paid: i64 =
            purchases.iter().filter(|purchase| purchase.box_index == index).map(|purchase| purchase.amount_fen).sum();
        let url = format!("{}/v1/subscribers/{}", system.oss_url, msisdn_of(index));
        let subscriber: Value = system.oss_admin(system.http.get(url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(subscriber["balance_fen"], PREPAID_BALANCE_FEN - paid, "2. prepaid {} was debited wrongly", index);
    }

    // 4. Each phone got exactly one receipt per succeeded payment, and none for anything else. Wait until every
    // receipt arrived, then a moment more (a receipt sent twice would come shortly after the first), then count.
    let expected_of = |index: usize| -> BTreeSet<String> {
        purchases
            .iter()
            .filter(|purchase| purchase.box_index == index)
            .map(|purchase| purchase.answered_ids[0].clone())
            .collect()
    };
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    for index in 0..BOXES {
        let expected = expected_of(index);
        loop {
            let receipts = receipts_in(&inbox(&world.http, &world.smsc_url, &msisdn_of(index), deadline).await);
            if expected.iter().all(|payment_id| receipts.contains_key(payment_id)) || Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut receipts_total = 0;
    for index in 0..BOXES {
        let (msisdn, expected) = (msisdn_of(index), expected_of(index));
        let receipts = receipts_in(&inbox(&world.http, &world.smsc_url, &msisdn, deadline).await);
        for payment_id in &expected {
            let count = receipts.get(payment_id).copied().unwrap_or_default();
            assert_eq!(count, 1, "4. {msisdn} got {count} receipts for {payment_id}: {receipts:?}");
        }
        let strays: Vec<_> = receipts.keys().filter(|payment_id| !expected.contains(*payment_id)).collect();
        assert!(strays.is_empty(), "4. {msisdn} got receipts for payments it did not make: {strays:?}");
        receipts_total += receipts.values().sum::<usize>();
    }
    let retried: usize = purchases.iter().map(|purchase| purchase.retried_calls).sum();
    let with_retries = purchases.iter().filter(|purchase| purchase.retried_calls > 0).count();
    eprintln!(
        "purchase batch: {} payments succeeded, ¥{}.{:02} on both ledgers, {receipts_total} receipts, \
         {retried} merchant calls retried (same key) over {with_retries} purchases, 0 charged twice",
        payments.len(),
        platform_total / 100,
        platform_total % 100
    );
}
