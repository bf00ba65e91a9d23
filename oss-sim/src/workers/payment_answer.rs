//! `Y 123456` / `N 123456`: forward the bound number's answer to a payment confirmation SMS to the platform, then
//! tell the user what it did. The platform decides (only the bound number's reply counts there) and is
//! idempotent by the SMS's message ID, so a retry after a lost answer or a crash reads the first outcome back.
//! A confirmed payment gets no reply here: the platform sends the receipt once the charge is made.

use super::command_results::{count_platform_call, finished_with_reply, RetryLater};
use crate::clients::platform::{PlatformCallError, PAYMENT_CONFIRMATIONS};
use crate::domain::inbox::{CommandKind, CommandOutcome};
use crate::domain::sms_replies;
use crate::state::AppState;
use crate::store::{FinishedCommand, InboxRow};
use numbind_wire::api::{PaymentConfirmationOutcome, PaymentConfirmationRequest, PaymentConfirmationResponse};
use numbind_wire::sms_command::PaymentConfirmationNumber;
use numbind_wire::Msisdn;

pub(crate) async fn handle_payment_answer(
    state: &AppState,
    row: &InboxRow,
    approve: bool,
    confirmation_number: PaymentConfirmationNumber,
) -> Result<FinishedCommand, RetryLater> {
    let request = PaymentConfirmationRequest {
        msisdn: row.source.clone(),
        approve,
        confirmation_number: confirmation_number.as_str().to_owned(),
        sms_message_id: row.request_id(),
    };
    let answered = state.platform.confirm_payment(&request).await;
    count_platform_call(state, PAYMENT_CONFIRMATIONS, &answered);
    match answered {
        Ok(response) => {
            tracing::info!(approve, outcome = ?response.outcome, payment_id = ?response.payment_id, "payment answer forwarded");
            Ok(finished_for(&row.source, &response))
        }
        Err(PlatformCallError::Refused { code, .. }) => {
            tracing::warn!(?code, "the platform refused the payment answer");
            Ok(finished_with_reply(
                CommandKind::PaymentAnswer,
                CommandOutcome::PlatformRejected,
                &row.source,
                sms_replies::payment_answer_failed(),
            ))
        }
        Err(unavailable) => Err(RetryLater::Platform(unavailable)),
    }
}

/// The recorded outcome and the reply (none for a confirmation: the receipt follows from the platform).
pub(crate) fn finished_for(from: &Msisdn, response: &PaymentConfirmationResponse) -> FinishedCommand {
    let (outcome, text) = match response.outcome {
        PaymentConfirmationOutcome::Confirmed => {
            return FinishedCommand {
                kind: CommandKind::PaymentAnswer,
                outcome: CommandOutcome::PaymentConfirmed,
                reply: None,
                revocation: None,
            }
        }
        PaymentConfirmationOutcome::Declined => (CommandOutcome::PaymentDeclined, sms_replies::payment_declined()),
        PaymentConfirmationOutcome::WrongNumber => {
            (CommandOutcome::PaymentWrongNumber, sms_replies::payment_wrong_number(response.attempts_left))
        }
        PaymentConfirmationOutcome::NothingPending => (CommandOutcome::NothingPending, sms_replies::nothing_pending()),
    };
    finished_with_reply(CommandKind::PaymentAnswer, outcome, from, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(outcome: PaymentConfirmationOutcome, attempts_left: Option<u32>) -> PaymentConfirmationResponse {
        PaymentConfirmationResponse { outcome, payment_id: None, attempts_left }
    }

    #[test]
    fn each_outcome_is_recorded_and_answered_in_its_own_words() {
        let from = Msisdn::parse("13800138000").unwrap();
        let confirmed = finished_for(&from, &response(PaymentConfirmationOutcome::Confirmed, None));
        assert_eq!(confirmed.outcome, CommandOutcome::PaymentConfirmed);
        assert!(confirmed.reply.is_none(), "the platform sends the receipt");
        let cases = [
            (PaymentConfirmationOutcome::Declined, None, CommandOutcome::PaymentDeclined, "已取消支付"),
            (PaymentConfirmationOutcome::WrongNumber, Some(1), CommandOutcome::PaymentWrongNumber, "还可尝试1次"),
            (PaymentConfirmationOutcome::WrongNumber, None, CommandOutcome::PaymentWrongNumber, "确认码不正确"),
            (PaymentConfirmationOutcome::NothingPending, None, CommandOutcome::NothingPending, "没有待确认的支付"),
        ];
        for (outcome, attempts_left, recorded, phrase) in cases {
            let finished = finished_for(&from, &response(outcome, attempts_left));
            assert_eq!(finished.kind, CommandKind::PaymentAnswer);
            assert_eq!(finished.outcome, recorded);
            let reply = finished.reply.expect("a reply");
            assert_eq!(reply.destination, from);
            assert!(reply.text.contains(phrase), "{outcome:?}: {}", reply.text);
        }
    }
}
