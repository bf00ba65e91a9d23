//! Bindings as the OSS records them: the billing record of truth, one active binding per terminal.

use numbind_wire::{Msisdn, TerminalId};
use serde::{Deserialize, Serialize};

/// Whether a binding is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindingRecordState {
    Active,
    Revoked,
}

impl BindingRecordState {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(BindingRecordState::Active),
            "revoked" => Some(BindingRecordState::Revoked),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BindingRecordState::Active => "active",
            BindingRecordState::Revoked => "revoked",
        }
    }
}

/// One binding of a number to a terminal (admin API body: full number, this is the operator's system).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingRecord {
    pub binding_id: String,
    pub msisdn: Msisdn,
    pub terminal_id: TerminalId,
    pub device_model: String,
    pub activation_id: String,
    pub state: BindingRecordState,
    pub created_at_unix_ms: i64,
    pub revoked_at_unix_ms: Option<i64>,
    /// `replaced` (the terminal was bound to another number), `unbound_by_sms`, `confirmation_refused`.
    pub revoked_reason: Option<String>,
}

/// The binding ID of the binding an activation makes: deterministic, so a retry after a crash reuses it.
pub fn binding_id_for_activation(activation_id: &str) -> String {
    let suffix = activation_id.strip_prefix("act-").unwrap_or(activation_id);
    format!("bnd-{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binding_id_is_derived_from_its_activation_and_stable() {
        assert_eq!(binding_id_for_activation("act-7Q2K9"), "bnd-7Q2K9");
        assert_eq!(binding_id_for_activation("7Q2K9"), "bnd-7Q2K9");
        assert_eq!(binding_id_for_activation("act-1"), binding_id_for_activation("act-1"));
    }

    #[test]
    fn binding_states_round_trip_through_their_names() {
        for state in [BindingRecordState::Active, BindingRecordState::Revoked] {
            assert_eq!(BindingRecordState::parse(state.as_str()), Some(state));
        }
        assert_eq!(BindingRecordState::parse("gone"), None);
    }
}
