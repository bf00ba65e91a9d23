//! The `activations` table: its columns, reading a row, finding one and moving its state.

use crate::domain::activation::{parse_denial_reason, Activation, ActivationState};
use crate::store::{parse_column, StoreError};
use numbind_database::{params, OptionalExtension};
use numbind_database::{Connection, Row};
use numbind_wire::{ActivationCode, ActivationId, BindingId, Msisdn, TerminalId};

pub(in crate::store) const ACTIVATION_COLUMNS: &str =
    "activation_id, terminal_id, code, state, created_at, expires_at, \
     claimed_msisdn, claimed_sms_message_id, denial_reason, binding_id";

pub(in crate::store) fn read_activation(row: &Row<'_>) -> numbind_database::Result<Result<Activation, StoreError>> {
    let activation_id: String = row.get(0)?;
    let terminal_id: String = row.get(1)?;
    let code: String = row.get(2)?;
    let state: String = row.get(3)?;
    let claimed_msisdn: Option<String> = row.get(6)?;
    let denial_reason: Option<String> = row.get(8)?;
    let binding_id: Option<String> = row.get(9)?;
    let parsed = (|| {
        Ok(Activation {
            activation_id: parse_column(&activation_id, "activations.activation_id", ActivationId::parse)?,
            terminal_id: TerminalId::parse(&terminal_id)
                .map_err(|_| StoreError::MalformedRow("activations.terminal_id"))?,
            code: ActivationCode::parse(&code).map_err(|_| StoreError::MalformedRow("activations.code"))?,
            state: ActivationState::parse(&state).map_err(|_| StoreError::MalformedRow("activations.state"))?,
            created_at: row.get(4).map_err(StoreError::Query)?,
            expires_at: row.get(5).map_err(StoreError::Query)?,
            claimed_msisdn: claimed_msisdn
                .map(|text| Msisdn::parse(&text).map_err(|_| StoreError::MalformedRow("activations.claimed_msisdn")))
                .transpose()?,
            claimed_sms_message_id: row.get(7).map_err(StoreError::Query)?,
            denial_reason: denial_reason
                .map(|text| parse_denial_reason(&text).ok_or(StoreError::MalformedRow("activations.denial_reason")))
                .transpose()?,
            binding_id: binding_id
                .map(|text| parse_column(&text, "activations.binding_id", BindingId::parse))
                .transpose()?,
        })
    })();
    Ok(parsed)
}

pub(in crate::store) fn find_activation_in(
    connection: &Connection<'_>,
    activation_id: &ActivationId,
) -> Result<Option<Activation>, StoreError> {
    let sql = format!("SELECT {ACTIVATION_COLUMNS} FROM activations WHERE activation_id = ?1");
    connection.prepare_cached(&sql)?.query_row([activation_id.as_str()], read_activation).optional()?.transpose()
}

pub(in crate::store) fn set_activation_state(
    connection: &Connection<'_>,
    activation_id: &ActivationId,
    state: ActivationState,
) -> Result<(), StoreError> {
    connection
        .prepare_cached("UPDATE activations SET state = ?2 WHERE activation_id = ?1")?
        .execute(params![activation_id.as_str(), state.as_str()])?;
    Ok(())
}
