//! The national hub's checks as the handlers run them (`domain::hub_checks` decides): the number a province's OSS
//! sends with a redemption or a confirmation, and a payment's amount and bound number, before any province is asked.
//! Each refusal is counted (`numbind_hub_refusals_total{check, path}`) and audited (`hub_refusal`) before it is
//! answered, so a caller that got the refusal finds it in the audit trail.

use crate::domain::hub_checks::{check_blacklist, check_number, check_number_text, HubRefusal};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::HubRefusalEvent;
use numbind_wire::{Msisdn, TerminalId};
use serde::Deserialize;

/// Where a checked call came in, as the metric and the audit event name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HubPath {
    Redemption,
    Confirmation,
    Payment,
}

impl HubPath {
    fn as_str(self) -> &'static str {
        match self {
            HubPath::Redemption => "redemption",
            HubPath::Confirmation => "confirmation",
            HubPath::Payment => "payment",
        }
    }
}

/// What a refusal is about, for its audit event (the number is masked there, as in every event).
#[derive(Debug, Clone, Default)]
pub(crate) struct RefusalSubject {
    pub msisdn: Option<Msisdn>,
    pub terminal_id: Option<TerminalId>,
    /// Words without a number: a merchant, an amount.
    pub detail: Option<String>,
}

/// The `msisdn` field of an OSS request body, read before the body is parsed whole: a number that is not an
/// 11-digit mobile number of a known operator's prefix gets the hub's own refusal (`number_not_mobile`), not the
/// body's `invalid_request`. A body without a text `msisdn` is left to the whole parse to refuse.
pub(crate) async fn screen_number_field(state: &AppState, body: &[u8], path: HubPath) -> Result<(), ApiError> {
    #[derive(Deserialize)]
    struct NumberField {
        msisdn: Option<String>,
    }
    let Ok(NumberField { msisdn: Some(text) }) = serde_json::from_slice::<NumberField>(body) else { return Ok(()) };
    match check_number_text(&text) {
        Ok(_) => Ok(()),
        Err(refusal) => {
            let subject = RefusalSubject { msisdn: Msisdn::parse(&text).ok(), ..RefusalSubject::default() };
            Err(refuse(state, refusal, path, subject).await)
        }
    }
}

/// The national blacklist's verdict on `msisdn` (its prefix checked again for callers that did not screen the text).
/// One indexed read of a WAL snapshot, made on this worker: a few µs, less than the hop to the blocking pool.
pub(crate) fn check_number_at_hub(state: &AppState, msisdn: &Msisdn) -> Result<Result<(), HubRefusal>, ApiError> {
    if let Err(refusal) = check_number(msisdn) {
        return Ok(Err(refusal));
    }
    let listed = state.store.is_nationally_blacklisted(msisdn)?;
    Ok(check_blacklist(listed))
}

/// Counts and audits `refusal`, then answers it. When the audit event cannot be written the call is answered as
/// the store's failure instead (retried by the caller), never refused unaudited.
pub(crate) async fn refuse(state: &AppState, refusal: HubRefusal, path: HubPath, subject: RefusalSubject) -> ApiError {
    if let Err(error) = record_refusal(state, &refusal, path, subject).await {
        return ApiError::Internal(error);
    }
    ApiError::HubRefused(refusal)
}

/// Counts and audits `refusal` (for a refusal answered otherwise than as an error: a payment created denied).
pub(crate) async fn record_refusal(
    state: &AppState,
    refusal: &HubRefusal,
    path: HubPath,
    subject: RefusalSubject,
) -> Result<(), crate::store::StoreError> {
    let check = refusal.check();
    state.metrics.count_hub_refusal(check, path.as_str());
    let masked = subject.msisdn.as_ref().map(Msisdn::masked);
    tracing::info!(
        check = check.as_str(),
        path = path.as_str(),
        msisdn = masked.as_deref(),
        "refused by the hub's checks"
    );
    let now = state.now();
    state
        .store
        .call_write(move |store| {
            let event = HubRefusalEvent {
                check: check.as_str(),
                path: path.as_str(),
                msisdn: subject.msisdn.as_ref(),
                terminal_id: subject.terminal_id.as_ref(),
                detail: subject.detail.as_deref(),
            };
            store.record_hub_refusal(&event, now)
        })
        .await
}
