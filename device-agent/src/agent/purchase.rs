//! Buying on the box: sign the intent with the terminal's key, hand it to the billed service's merchant through a
//! [`MerchantChannel`], and long-poll the platform until the payment is final. The box never learns the number
//! and never talks to the merchant's API itself: the channel is the billed service's own (the set-top app's link
//! in firmware, the merchant HTTP client in the CLI).

use super::boot::SLOW_DOWN_STEP;
use super::Agent;
use crate::domain::events::AgentEvent;
use crate::domain::purchase::{
    interpret, PurchaseOutcome, PurchaseProgress, PurchaseRequest, PurchaseStep, SignedPurchase,
};
use crate::error::AgentError;
use numbind_process::clock::now_unix_seconds;
use numbind_wire::api::{ApiErrorCode, PurchaseStatus};
use numbind_wire::purchase_intent::PurchaseIntent;
use numbind_wire::purchase_status::PurchaseStatusExpectation;
use numbind_wire::request_signing::new_nonce;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// What a channel's failure is: anything the embedder's link can fail with.
pub type MerchantChannelError = Box<dyn std::error::Error + Send + Sync>;

/// The billed service's own channel to its merchant backend, which submits the signed intent to the platform
/// (`POST /v1/payments`). Returns once the merchant has taken the intent; the outcome comes from the platform.
pub trait MerchantChannel {
    fn submit(&self, purchase: &SignedPurchase) -> impl Future<Output = Result<(), MerchantChannelError>> + Send;
}

impl Agent {
    /// Signs what a billed service asks to buy, with a fresh nonce and the current time, with the terminal's key
    /// (the platform verifies it with the key this terminal registered). No network.
    pub fn sign_purchase(&self, request: PurchaseRequest) -> Result<SignedPurchase, AgentError> {
        let nonce = new_nonce(&self.random)?;
        let intent = PurchaseIntent {
            terminal_id: self.terminal_id().clone(),
            merchant_id: request.merchant_id,
            item_id: request.item_id,
            item_description: request.item_description,
            amount: request.amount,
            currency: request.currency,
            nonce: nonce.clone(),
            signed_at_unix_seconds: now_unix_seconds(),
        };
        let signed_intent = self.identity.key_pair().sign_purchase_intent(&intent);
        tracing::info!(
            terminal_id = %self.terminal_id(),
            merchant_id = %intent.merchant_id,
            item_id = %intent.item_id,
            amount_minor_units = intent.amount.minor_units(),
            currency = %intent.currency,
            "purchase intent signed"
        );
        Ok(SignedPurchase { signed_intent, intent_nonce: nonce })
    }

    /// Long-polls the platform (signed requests) about the purchase of `intent_nonce` until it is final, reporting
    /// each new stage to `progress`. Never starts a poll sooner than the platform's interval after the previous one
    /// started; network errors and load shedding wait with backoff (at least `Retry-After`). A purchase the merchant
    /// has not submitted within `AgentConfig::purchase_submission_wait` ends as `Expired`.
    pub async fn await_purchase(
        &self,
        intent_nonce: &str,
        mut progress: impl FnMut(PurchaseProgress) + Send,
    ) -> Result<PurchaseOutcome, AgentError> {
        let mut backoff = self.new_backoff();
        let submission_deadline = Instant::now() + self.config.purchase_submission_wait;
        let mut interval = Duration::from_secs(1);
        let mut next_poll_at = Instant::now();
        let mut reported: Option<PurchaseProgress> = None;
        loop {
            tokio::time::sleep_until(next_poll_at).await;
            let poll_started = Instant::now();
            // The first look answers at once, so that a payment waiting for the phone's `Y` is shown while the user
            // can still reply; later ones wait for a change.
            let wait = if reported.is_none() { Duration::ZERO } else { self.config.long_poll_wait };
            let status = match self.purchase_status(intent_nonce, wait).await {
                Ok(status) => status,
                Err(error) if error.is_retryable() => {
                    if error.api_code() == Some(ApiErrorCode::SlowDown) {
                        interval += SLOW_DOWN_STEP;
                    }
                    let mut report = |event: AgentEvent| {
                        if let AgentEvent::Retrying { after, cause } = event {
                            progress(PurchaseProgress::Retrying { after, cause });
                        }
                    };
                    self.wait_before_retry(&mut report, &mut backoff, &error).await;
                    reported = None;
                    continue;
                }
                Err(error) => return Err(error),
            };
            backoff.reset();
            interval = interval.max(Duration::from_secs(u64::from(status.poll_interval_seconds.max(1))));
            // Paced from this poll's start, as the platform paces (a held long-poll is followed at once).
            next_poll_at = poll_started + interval;
            match interpret(&status) {
                PurchaseStep::Final(outcome) => {
                    tracing::info!(terminal_id = %self.terminal_id(), outcome = ?outcome, "purchase final");
                    return Ok(outcome);
                }
                PurchaseStep::Progress(PurchaseProgress::WaitingForMerchant)
                    if Instant::now() >= submission_deadline =>
                {
                    tracing::info!(terminal_id = %self.terminal_id(), "the merchant never submitted the purchase");
                    return Ok(PurchaseOutcome::Expired);
                }
                PurchaseStep::Progress(stage) if reported.as_ref() != Some(&stage) => {
                    progress(stage.clone());
                    reported = Some(stage);
                }
                PurchaseStep::Progress(_) => {}
            }
        }
    }

    /// Signs, hands the signed intent to `channel`, then awaits the outcome (see [`Agent::await_purchase`]). When
    /// the channel fails, the platform is asked once whether the intent arrived anyway (a lost answer): if it did,
    /// the purchase is followed to its end; if not, the channel's error is returned and nothing was charged.
    pub async fn purchase(
        &self,
        request: PurchaseRequest,
        channel: &impl MerchantChannel,
        progress: impl FnMut(PurchaseProgress) + Send,
    ) -> Result<PurchaseOutcome, AgentError> {
        let signed = self.sign_purchase(request)?;
        if let Err(error) = channel.submit(&signed).await {
            let arrived = self.purchase_status(&signed.intent_nonce, Duration::ZERO).await;
            if !arrived.is_ok_and(|status| status.payment_id.is_some()) {
                return Err(AgentError::MerchantSubmission(error));
            }
            tracing::warn!(terminal_id = %self.terminal_id(), "the merchant channel failed, but the purchase arrived");
        }
        self.await_purchase(&signed.intent_nonce, progress).await
    }

    /// One signed status request; a payment the platform does not know yet is one no merchant has submitted.
    /// The status is acted on only once it verifies: the pinned platform key, this terminal, this intent and the
    /// nonce of the request just sent.
    async fn purchase_status(&self, intent_nonce: &str, wait: Duration) -> Result<PurchaseStatus, AgentError> {
        let verified = self.client.purchase_status(intent_nonce, wait).await.and_then(|answered| {
            let expectation = PurchaseStatusExpectation {
                terminal_id: self.terminal_id(),
                intent_nonce,
                in_reply_to: &answered.request_nonce,
            };
            Ok(self.pinned_keys.verify_purchase_status(&answered.body.statement, expectation)?)
        });
        match verified {
            Err(error) if error.api_code() == Some(ApiErrorCode::PaymentNotFound) => Ok(PurchaseStatus {
                payment_id: None,
                state: None,
                denial_reason: None,
                cancellation_reason: None,
                confirmation_expires_at_unix_seconds: None,
                poll_interval_seconds: 1,
            }),
            answered => answered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AgentConfig;
    use numbind_wire::statement::PlatformSigningKey;
    use numbind_wire::{Amount, Currency, ItemDescription, ItemId, MerchantId};
    use ring::rand::SystemRandom;

    fn film(amount_fen: i64) -> PurchaseRequest {
        PurchaseRequest {
            merchant_id: MerchantId::parse("demo-films").unwrap(),
            item_id: ItemId::parse("film-4412").unwrap(),
            item_description: ItemDescription::parse("《流浪地球》高清").unwrap(),
            amount: Amount::from_minor_units(amount_fen).unwrap(),
            currency: Currency::Cny,
        }
    }

    fn agent(directory: &std::path::Path) -> Agent {
        let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        Agent::new(AgentConfig::new(directory, "http://127.0.0.1:9", vec![key.public_key()])).unwrap()
    }

    #[test]
    fn a_signed_purchase_verifies_with_the_terminals_key_and_names_exactly_what_was_asked() {
        let directory = tempfile::tempdir().unwrap();
        let agent = agent(directory.path());
        let before = now_unix_seconds();
        let signed = agent.sign_purchase(film(500)).unwrap();
        let intent = signed.signed_intent.verify(&agent.public_key()).unwrap();
        assert_eq!(&intent.terminal_id, agent.terminal_id());
        assert_eq!(intent.amount.minor_units(), 500);
        assert_eq!(intent.item_description.as_str(), "《流浪地球》高清");
        assert_eq!(intent.nonce, signed.intent_nonce);
        assert!(intent.signed_at_unix_seconds >= before);
    }

    #[test]
    fn every_purchase_gets_a_fresh_nonce() {
        let directory = tempfile::tempdir().unwrap();
        let agent = agent(directory.path());
        let first = agent.sign_purchase(film(500)).unwrap();
        let second = agent.sign_purchase(film(500)).unwrap();
        assert_ne!(first.intent_nonce, second.intent_nonce);
        assert_ne!(first.signed_intent, second.signed_intent);
    }

    struct RefusingChannel;

    impl MerchantChannel for RefusingChannel {
        async fn submit(&self, _purchase: &SignedPurchase) -> Result<(), MerchantChannelError> {
            Err("the merchant is down".into())
        }
    }

    #[tokio::test]
    async fn a_purchase_the_merchant_never_took_is_the_channels_error() {
        let directory = tempfile::tempdir().unwrap();
        let mut config = AgentConfig::new(directory.path(), "http://127.0.0.1:9", Vec::new());
        let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        config.platform_keys = vec![key.public_key()];
        config.request_timeout = Duration::from_secs(2);
        let agent = Agent::new(config).unwrap();
        let outcome = agent.purchase(film(500), &RefusingChannel, |_| {}).await;
        assert!(matches!(outcome, Err(AgentError::MerchantSubmission(_))), "{outcome:?}");
    }
}
