//! The `payment_confirmation_answers` table: the answer given to each confirmation SMS the OSS forwarded, so
//! that a redelivered SMS gets the same answer and changes nothing twice.

use crate::store::StoreError;
use numbind_database::Connection;
use numbind_database::{params, OptionalExtension};
use numbind_wire::api::PaymentConfirmationResponse;

pub(in crate::store) fn earlier_answer(
    connection: &Connection<'_>,
    sms_message_id: &str,
) -> Result<Option<PaymentConfirmationResponse>, StoreError> {
    let text: Option<String> = connection
        .prepare_cached("SELECT response FROM payment_confirmation_answers WHERE sms_message_id = ?1")?
        .query_row([sms_message_id], |row| row.get(0))
        .optional()?;
    text.map(|text| {
        serde_json::from_str(&text).map_err(|_| StoreError::MalformedRow("payment_confirmation_answers.response"))
    })
    .transpose()
}

pub(in crate::store) fn remember_answer(
    connection: &Connection<'_>,
    sms_message_id: &str,
    response: &PaymentConfirmationResponse,
    now: i64,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(response).map_err(|_| StoreError::MalformedRow("payment_confirmation_answers"))?;
    connection
        .prepare_cached(
            "INSERT INTO payment_confirmation_answers (sms_message_id, response, created_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![sms_message_id, text, now])?;
    Ok(())
}
